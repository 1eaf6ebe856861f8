/* dfly-peer-role.c — the "peer" and "seed" roles: this machine as a host of the swarm
 *
 * A seed peer is a peer with another host type, as in Dragonfly (one client,
 * a seed flag), so both plugins build from this file: plugins/roles/seed
 * compiles it with DFLY_PEER_ROLE_SEED. The role announces the host
 * (DflyHostAnnouncer) and is the daemon's downloader: each request becomes
 * (or joins) a DflyDownload keyed by task id, so concurrent requests for the
 * same bytes share one transfer. With schedulers (peer.schedulers, or this
 * dflyd's own) downloads go through the swarm; the upload server serves
 * what this host holds (not when leeching), and on a seed takes the
 * scheduler's orders to fetch a task from its source.
 * The two builds register different GType names, since both are loaded into
 * one dflyd. In a dflyd running both, the peer role acts for both (its host
 * is announced as a seed) and the seed role only announces.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly-download.h"
#include "dfly-output.h"
#include "dfly-swarm.h"
#include "dfly-upload-server.h"

#ifdef DFLY_PEER_ROLE_SEED
#define ROLE_NAME        "seed"
#define ROLE_TYPE_NAME   "DflySeedRole"
#define ROLE_HOST_TYPE   DFLY_HOST_TYPE_SUPER
#define ROLE_DESCRIPTION "Seed peer: announces this machine as a seed host (type super)"
#else
#define ROLE_NAME        "peer"
#define ROLE_TYPE_NAME   "DflyPeerRole"
#define ROLE_HOST_TYPE   DFLY_HOST_TYPE_NORMAL
#define ROLE_DESCRIPTION "Peer: announces this machine as a host of the swarm"
#endif

G_DECLARE_FINAL_TYPE (DflyPeerRole, dfly_peer_role, DFLY, PEER_ROLE, DflyRole)

struct _DflyPeerRole {
  DflyRole           parent_instance;
  DflyHostAnnouncer *announcer; /* while running */
  GHashTable        *downloads; /* task id → DflyDownload, started or waiting */
  GQueue             waiting;   /* DflyDownload * beyond download.max_tasks */
  GPtrArray         *retired;   /* cancelled ones, replaced in the table, still ending */
  guint              running;   /* downloads started and not done */
  GTask             *stopping;  /* the stop waiting for downloads to end */
  DflyHostType       host_type;
  /* The swarm, while running as the downloader. */
  DflyPeerServices   services;
  DflyRateLimiter   *upload_limiter;
  DflyUploadServer  *upload;    /* NULL when leeching */
  gulong             reloaded_id;
};

static gpointer dfly_peer_role_parent_class;

static DflyContext *
role_context (DflyPeerRole *self)
{
  return dfly_component_get_context (DFLY_COMPONENT (self));
}

static gboolean
runs_role (DflyConfig *config, const char *name)
{
  return g_strv_contains ((const char *const *) config->daemon.roles, name);
}

/* This host as announced to schedulers, with its upload figures now. */
static DflyHostInfo *
host_info (gpointer user_data)
{
  DflyPeerRole *self = user_data;
  DflyConfig *config = dfly_context_get_config (role_context (self));
  DflyHostInfo *info = dfly_host_info_new_local (
    config, self->host_type, self->upload != NULL ? dfly_upload_server_get_port (self->upload) : 0);

  info->disable_shared = config->peer.leech != 0;
  if (self->upload != NULL) {
    info->upload_slots = dfly_upload_server_get_slots (self->upload);
    info->upload_slots_used = dfly_upload_server_get_active (self->upload);
    info->upload_rate_limit = dfly_rate_limiter_get_rate (self->upload_limiter);
    info->upload_rate_free = dfly_rate_limiter_get_free (self->upload_limiter);
  }
  return info;
}

static gboolean trigger_download (const char *task_id, const Dfly__V1__Download *download,
                                  gpointer user_data, GError **error);

/* The rate limits are live keys. */
static void
on_config_reloaded (DflyBus *bus, DflyConfig *config, gpointer user_data)
{
  DflyPeerRole *self = user_data;

  if (self->upload_limiter != NULL)
    dfly_rate_limiter_set_rate (self->upload_limiter, config->upload.rate_limit);
  if (self->services.download_limiter != NULL)
    dfly_rate_limiter_set_rate (self->services.download_limiter, config->download.rate_limit);
}

static void
drop_services (DflyPeerRole *self)
{
  DflyContext *context = role_context (self);

  if (context != NULL)
    g_clear_signal_handler (&self->reloaded_id, dfly_context_get_bus (context));
  g_clear_pointer (&self->services.client, dfly_scheduler_client_free);
  g_clear_pointer (&self->upload, dfly_upload_server_free);
  g_clear_pointer (&self->services.links, dfly_parent_links_free);
  g_clear_pointer (&self->services.fetcher, dfly_piece_fetcher_unref);
  g_clear_pointer (&self->services.download_limiter, dfly_rate_limiter_free);
  g_clear_pointer (&self->upload_limiter, dfly_rate_limiter_free);
  g_clear_pointer (&self->services.host_id, g_free);
}

/* The swarm's machinery: upload server, scheduler client, parent links. */
static gboolean
start_services (DflyPeerRole *self, GError **error)
{
  DflyContext *context = role_context (self);
  DflyConfig *config = dfly_context_get_config (context);
  GObject *storage = dfly_context_get_storage (context);
  g_autoptr (GPtrArray) schedulers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DflyHostInfo) host = NULL;
  gboolean seed = self->host_type != DFLY_HOST_TYPE_NORMAL;

  self->upload_limiter = dfly_rate_limiter_new (config->upload.rate_limit);
  self->services.download_limiter = dfly_rate_limiter_new (config->download.rate_limit);
  self->reloaded_id = g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_CONFIG_RELOADED,
                                        G_CALLBACK (on_config_reloaded), self);
  self->services.seed = seed;
  if (storage != NULL && !config->peer.leech) {
    self->upload = dfly_upload_server_new (context, DFLY_STORAGE (storage), self->upload_limiter,
                                           seed, seed ? trigger_download : NULL, self, error);
    if (self->upload == NULL)
      return FALSE;
  }
  host = host_info (self);
  self->services.host_id = g_strdup (host->id);
  for (char **address = config->peer.schedulers; *address != NULL; address++)
    g_ptr_array_add (schedulers, g_strdup (*address));
  /* No list: this dflyd's own scheduler, when it has one at a known port. */
  if (schedulers->len == 0 && runs_role (config, "scheduler") && config->scheduler.port != 0)
    g_ptr_array_add (schedulers, strchr (config->host.ip, ':') != NULL
                                   ? g_strdup_printf ("[%s]:%u", config->host.ip,
                                                      config->scheduler.port)
                                   : g_strdup_printf ("%s:%u", config->host.ip,
                                                      config->scheduler.port));
  g_ptr_array_add (schedulers, NULL);
  self->services.client = dfly_scheduler_client_new (
    context, (const char *const *) schedulers->pdata, host_info, self);
  self->services.links = dfly_parent_links_new (context);
  self->services.fetcher = dfly_piece_fetcher_new (config->http.read_timeout);
  return TRUE;
}

static gboolean
dfly_peer_role_start (DflyRole *role, GError **error)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);
  DflyContext *context = role_context (self);
  DflyConfig *config = dfly_context_get_config (context);

  self->host_type = ROLE_HOST_TYPE;
#ifdef DFLY_PEER_ROLE_SEED
  /* In an all-in-one daemon the peer speaks for both: it announces this
   * host as a seed, serves downloads and takes the scheduler's orders. */
  if (runs_role (config, "peer"))
    return TRUE;
#else
  if (runs_role (config, "seed"))
    self->host_type = DFLY_HOST_TYPE_SUPER;
#endif
  if (!start_services (self, error)) {
    drop_services (self);
    return FALSE;
  }
  self->announcer = dfly_host_announcer_new (
    context, self->host_type, self->upload != NULL ? dfly_upload_server_get_port (self->upload) : 0);
  dfly_host_announcer_start (self->announcer);
  dfly_context_set_downloader (context, DFLY_DOWNLOADER (self));
  return TRUE;
}

/* ---- downloads ---- */

static void start_waiting (DflyPeerRole *self);

static void
download_done (DflyDownload *download, gpointer user_data)
{
  DflyPeerRole *self = user_data;

  g_signal_handlers_disconnect_by_data (download, self);
  self->running--;
  /* Either may drop the last reference to download. */
  if (g_hash_table_lookup (self->downloads, dfly_download_get_task_id (download)) == download)
    g_hash_table_remove (self->downloads, dfly_download_get_task_id (download));
  else
    g_ptr_array_remove (self->retired, download);
  start_waiting (self);
  if (self->stopping != NULL && g_hash_table_size (self->downloads) == 0 &&
      self->retired->len == 0) {
    g_autoptr (GTask) stopping = g_steal_pointer (&self->stopping);

    drop_services (self);
    g_task_return_boolean (stopping, TRUE);
  }
}

/* A cancelled download may still be ending; a new request for its task
 * starts afresh instead of joining it. */
static void
retire (DflyPeerRole *self, DflyDownload *download)
{
  const char *task_id = dfly_download_get_task_id (download);
  gpointer key, value;

  if (g_queue_remove (&self->waiting, download)) {
    /* Never started: nothing to wait for. */
    g_signal_handlers_disconnect_by_data (download, self);
    g_hash_table_remove (self->downloads, task_id);
    return;
  }
  g_hash_table_steal_extended (self->downloads, task_id, &key, &value);
  g_free (key);
  g_ptr_array_add (self->retired, value);
}

static void
start_waiting (DflyPeerRole *self)
{
  DflyConfig *config = dfly_context_get_config (role_context (self));

  while (self->running < config->download.max_tasks && !g_queue_is_empty (&self->waiting)) {
    DflyDownload *download = g_queue_pop_head (&self->waiting);

    self->running++;
    dfly_download_start (download);
  }
}

static gboolean
check_request (DflyPeerRole *self, DflyDownloadRequest *request, GError **error)
{
  DflyConfig *config = dfly_context_get_config (role_context (self));
  const char *refused[] = { config->daemon.cache_dir, config->daemon.state_dir, NULL };
  GHashTableIter iter;
  gpointer name, value;

  if (!dfly_output_check (request->output, refused, error))
    return FALSE;
  if (request->digest != NULL && !dfly_output_digest_is_valid (request->digest)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "digest \"%s\" is not sha256:<64 hex> or sha512:<128 hex>", request->digest);
    return FALSE;
  }
  if (request->piece_length != 0 &&
      (request->piece_length < config->download.min_piece_length ||
       request->piece_length > G_GUINT64_CONSTANT (1) << 30)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "piece length %" G_GUINT64_FORMAT " is outside %" G_GUINT64_FORMAT "..1GiB",
                 request->piece_length, config->download.min_piece_length);
    return FALSE;
  }
  g_hash_table_iter_init (&iter, request->headers);
  while (g_hash_table_iter_next (&iter, &name, &value)) {
    for (const char *c = name; *c != '\0'; c++) {
      if (g_ascii_iscntrl (*c) || *c == ':' || *c == ' ') {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                     "header name \"%s\" is not a valid HTTP token", (const char *) name);
        return FALSE;
      }
    }
    for (const char *c = value; *c != '\0'; c++) {
      if (g_ascii_iscntrl (*c) && *c != '\t') {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                     "header %s has a control character in its value", (const char *) name);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* Dragonfly's task id, or — when the URL names its content's digest (an
 * OCI blob) — that digest, so the same bytes from two registries are one
 * task; the request then checks the content against it. */
static char *
task_id_for (DflySource *source, DflyDownloadRequest *request, DflyConfig *config,
             GError **error)
{
  g_autofree char *content_digest = dfly_source_get_content_digest (source, request->url);
  const char *hex;

  if (content_digest == NULL || !g_str_has_prefix (content_digest, "sha256:"))
    return dfly_task_id_new (request->url, request->tag, request->application,
                             request->piece_length,
                             (const char * const *) config->download.filtered_query_keys, error);
  hex = content_digest + strlen ("sha256:");
  if (!dfly_task_id_is_valid (hex)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the URL names a malformed digest: %s", content_digest);
    return NULL;
  }
  if (request->digest != NULL && g_ascii_strcasecmp (request->digest, content_digest) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "digest %s contradicts the URL's %s", request->digest, content_digest);
    return NULL;
  }
  if (request->digest == NULL)
    request->digest = g_strdup (content_digest);
  return g_strdup (hex);
}

static char *
dfly_peer_role_download (DflyDownloader *downloader, DflyDownloadRequest *request,
                         GError **error)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (downloader);
  DflyContext *context = role_context (self);
  DflyConfig *config = dfly_context_get_config (context);
  GObject *storage = dfly_context_get_storage (context);
  GObject *source;
  g_autofree char *checked_url = NULL;
  g_autofree char *task_id = NULL;
  g_autoptr (DflyTaskInfo) task = NULL;
  DflyDownload *download;

  if (self->stopping != NULL || dfly_role_get_state (DFLY_ROLE (self)) != DFLY_ROLE_STATE_RUNNING) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "the %s role is stopping", ROLE_NAME);
    return NULL;
  }
  /* A malformed URL is said to be one before any lookup by its scheme. */
  checked_url = dfly_url_filter_query (request->url, NULL, error);
  if (checked_url == NULL)
    return NULL;
  source = dfly_context_lookup_source (context, request->url, error);
  if (source == NULL || !check_request (self, request, error))
    return NULL;
  task_id = task_id_for (DFLY_SOURCE (source), request, config, error);
  if (task_id == NULL)
    return NULL;
  if (storage == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                 "no storage is loaded (storage.backend: %s)", config->storage.backend);
    return NULL;
  }
  g_free (request->task_id);
  request->task_id = g_strdup (task_id);

  download = g_hash_table_lookup (self->downloads, task_id);
  if (download != NULL && dfly_download_is_cancelled (download)) {
    retire (self, download);
    download = NULL;
  }
  if (download != NULL) {
    g_info ("task %s: %s joins the running download", task_id, request->output);
    dfly_download_add_request (download, request);
    return g_steal_pointer (&task_id);
  }

  task = dfly_task_info_new (task_id, request->url);
  task->tag = g_strdup (request->tag);
  task->application = g_strdup (request->application);
  task->digest = g_strdup (request->digest);
  task->piece_length = request->piece_length;
  download = dfly_download_new (context, DFLY_STORAGE (storage), DFLY_SOURCE (source), task,
                                request->headers);
  if (self->services.client != NULL)
    dfly_download_use_swarm (download, &self->services, FALSE);
  g_hash_table_insert (self->downloads, g_strdup (task_id), download);
  g_signal_connect (download, "done", G_CALLBACK (download_done), self);
  g_info ("task %s: downloading %s to %s", task_id, request->url, request->output);
  dfly_download_add_request (download, request);
  g_queue_push_tail (&self->waiting, download);
  start_waiting (self);
  return g_steal_pointer (&task_id);
}

/* The scheduler's order to this seed: fetch a task from its source, for
 * no caller but the swarm. The task id must be the one the download names. */
static gboolean
trigger_download (const char *task_id, const Dfly__V1__Download *download, gpointer user_data,
                  GError **error)
{
  DflyPeerRole *self = user_data;
  DflyContext *context = role_context (self);
  DflyConfig *config = dfly_context_get_config (context);
  GObject *storage = dfly_context_get_storage (context);
  g_autoptr (DflyDownloadRequest) request = NULL;
  g_autoptr (DflyTaskInfo) task = NULL;
  g_autofree char *expected = NULL;
  DflyDownload *running;
  DflyDownload *fetch;
  GObject *source;

  if (self->stopping != NULL || storage == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "the %s role is not downloading", ROLE_NAME);
    return FALSE;
  }
  running = g_hash_table_lookup (self->downloads, task_id);
  if (running != NULL && !dfly_download_is_cancelled (running))
    return TRUE; /* already on it */
  source = dfly_context_lookup_source (context, download->url, error);
  if (source == NULL)
    return FALSE;
  request = dfly_download_request_new (download->url, "/");
  request->tag = g_strdup (download->tag);
  request->application = g_strdup (download->application);
  request->piece_length = download->piece_length;
  if (download->digest != NULL && download->digest[0] != '\0')
    request->digest = g_strdup (download->digest);
  for (gsize i = 0; i < download->n_request_headers; i++)
    g_hash_table_replace (request->headers, g_strdup (download->request_headers[i]->key),
                          g_strdup (download->request_headers[i]->value));
  expected = task_id_for (DFLY_SOURCE (source), request, config, error);
  if (expected == NULL)
    return FALSE;
  if (strcmp (expected, task_id) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task id %s does not match its download (%s)", task_id, expected);
    return FALSE;
  }
  if (running != NULL)
    retire (self, running);
  task = dfly_task_info_new (task_id, download->url);
  task->tag = g_strdup (request->tag);
  task->application = g_strdup (request->application);
  task->digest = g_strdup (request->digest);
  task->piece_length = request->piece_length;
  fetch = dfly_download_new (context, DFLY_STORAGE (storage), DFLY_SOURCE (source), task,
                             request->headers);
  dfly_download_use_swarm (fetch, &self->services, TRUE);
  g_hash_table_insert (self->downloads, g_strdup (task_id), fetch);
  g_signal_connect (fetch, "done", G_CALLBACK (download_done), self);
  g_info ("task %s: fetching %s from its source for the swarm", task_id, download->url);
  g_queue_push_tail (&self->waiting, fetch);
  start_waiting (self);
  return TRUE;
}

static gboolean
dfly_peer_role_cancel (DflyDownloader *downloader, const char *task_id, GError **error)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (downloader);
  DflyDownload *download = g_hash_table_lookup (self->downloads, task_id);
  g_autoptr (GError) reason = NULL;

  if (download == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "task %s is not running", task_id);
    return FALSE;
  }
  reason = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "task %s was cancelled", task_id);
  if (g_queue_remove (&self->waiting, download)) {
    /* Never started: it has no threads to wait for. */
    g_object_ref (download);
    dfly_download_cancel (download, reason);
    g_hash_table_remove (self->downloads, task_id);
    g_object_unref (download);
    return TRUE;
  }
  dfly_download_cancel (download, reason);
  return TRUE;
}

static gboolean
dfly_peer_role_is_running (DflyDownloader *downloader, const char *task_id)
{
  return g_hash_table_contains (DFLY_PEER_ROLE (downloader)->downloads, task_id);
}

static void
dfly_peer_role_downloader_init (DflyDownloaderInterface *iface)
{
  iface->download = dfly_peer_role_download;
  iface->cancel = dfly_peer_role_cancel;
  iface->is_running = dfly_peer_role_is_running;
}

/* ---- stopping: cancel every download and wait for its threads ---- */

static void
dfly_peer_role_stop_async (DflyRole *role, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) reason = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED,
                                           "dflyd is stopping");
  g_autoptr (GList) downloads = NULL;

  if (self->announcer != NULL)
    dfly_host_announcer_stop (self->announcer);
  g_clear_object (&self->announcer);
  if (dfly_context_get_downloader (role_context (self)) == DFLY_DOWNLOADER (self))
    dfly_context_set_downloader (role_context (self), NULL);

  /* Waiting ones have no threads: drop them now. */
  while (!g_queue_is_empty (&self->waiting)) {
    DflyDownload *download = g_queue_pop_head (&self->waiting);

    g_signal_handlers_disconnect_by_data (download, self);
    dfly_download_cancel (download, reason);
    g_hash_table_remove (self->downloads, dfly_download_get_task_id (download));
  }
  if (g_hash_table_size (self->downloads) == 0 && self->retired->len == 0) {
    drop_services (self);
    g_task_return_boolean (task, TRUE);
    return;
  }
  self->stopping = g_steal_pointer (&task);
  /* Cancelling may end a download at once and remove it from the table. */
  downloads = g_hash_table_get_values (self->downloads);
  for (GList *l = downloads; l != NULL; l = l->next)
    g_object_ref (l->data);
  for (GList *l = downloads; l != NULL; l = l->next) {
    dfly_download_cancel (l->data, reason);
    g_object_unref (l->data);
  }
}

static gboolean
dfly_peer_role_stop_finish (DflyRole *role, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static char *
dfly_peer_role_describe (DflyRole *role)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);

  if (self->announcer == NULL)
    return g_strdup ("the peer role speaks for this seed");
  if (self->upload == NULL)
    return g_strdup_printf ("host %s, announcing every %us, %u downloads",
                            dfly_host_announcer_get_host_id (self->announcer),
                            dfly_host_announcer_get_interval (self->announcer),
                            g_hash_table_size (self->downloads));
  return g_strdup_printf ("host %s, announcing every %us, %u downloads, uploads on port %u "
                          "(%u now, %" G_GUINT64_FORMAT " bytes sent)",
                          dfly_host_announcer_get_host_id (self->announcer),
                          dfly_host_announcer_get_interval (self->announcer),
                          g_hash_table_size (self->downloads),
                          dfly_upload_server_get_port (self->upload),
                          dfly_upload_server_get_active (self->upload),
                          dfly_upload_server_get_bytes_sent (self->upload));
}

static void
forget_download (gpointer download, gpointer self)
{
  g_autoptr (GError) reason = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED,
                                           "the %s role is gone", ROLE_NAME);

  g_signal_handlers_disconnect_by_data (download, self);
  dfly_download_cancel (download, reason);
}

static void
dfly_peer_role_dispose (GObject *object)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (object);

  g_clear_object (&self->announcer);
  g_queue_clear (&self->waiting);
  /* An abandoned stop: downloads end on their own, without calling back. */
  if (self->downloads != NULL) {
    g_autoptr (GList) downloads = g_hash_table_get_values (self->downloads);

    g_list_foreach (downloads, forget_download, self);
    g_ptr_array_foreach (self->retired, forget_download, self);
  }
  g_clear_pointer (&self->downloads, g_hash_table_unref);
  g_clear_pointer (&self->retired, g_ptr_array_unref);
  drop_services (self);
  g_clear_object (&self->stopping);
  G_OBJECT_CLASS (dfly_peer_role_parent_class)->dispose (object);
}

static void
dfly_peer_role_init (DflyPeerRole *self)
{
  self->downloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->retired = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
dfly_peer_role_class_init (DflyPeerRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  dfly_peer_role_parent_class = g_type_class_peek_parent (klass);
  G_OBJECT_CLASS (klass)->dispose = dfly_peer_role_dispose;
  role_class->start = dfly_peer_role_start;
  role_class->stop_async = dfly_peer_role_stop_async;
  role_class->stop_finish = dfly_peer_role_stop_finish;
  role_class->describe = dfly_peer_role_describe;
}

/* G_DEFINE_FINAL_TYPE would name both builds' type "DflyPeerRole". */
GType
dfly_peer_role_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id)) {
    GType type = g_type_register_static_simple (
      DFLY_TYPE_ROLE, g_intern_static_string (ROLE_TYPE_NAME), sizeof (DflyPeerRoleClass),
      (GClassInitFunc) (void (*) (void)) dfly_peer_role_class_init, sizeof (DflyPeerRole),
      (GInstanceInitFunc) (void (*) (void)) dfly_peer_role_init, G_TYPE_FLAG_FINAL);
    const GInterfaceInfo downloader_info = {
      (GInterfaceInitFunc) (void (*) (void)) dfly_peer_role_downloader_init, NULL, NULL,
    };

    g_type_add_interface_static (type, DFLY_TYPE_DOWNLOADER, &downloader_info);

    g_once_init_leave (&type_id, type);
  }
  return type_id;
}

DFLY_PLUGIN_DEFINE (ROLE_NAME, DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                    ROLE_DESCRIPTION, dfly_peer_role_get_type)
