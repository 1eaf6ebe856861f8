/* dfly-peer-engine.c — DflyPeerEngine: this host's downloads and uploads (see the header)
 *
 * Concurrent requests for the same bytes share one DflyDownload; at most
 * download.max_tasks run, further ones wait in order. Stopping cancels
 * them all and finishes once each has ended (its threads joined).
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly-http-client.h>

#include "dfly-download.h"
#include "dfly-output.h"
#include "dfly-peer-engine.h"
#include "dfly-held-boards.h"
#include "dfly-range-stream.h"
#include "dfly-scheduler-directory.h"
#include "dfly-swarm.h"

#define JOIN_TIMEOUT_US (5 * G_USEC_PER_SEC) /* dispose waits this long for downloads' threads */

struct _DflyPeerEngine {
  GObject                 parent_instance;
  DflyContext            *context;
  gboolean                running_engine; /* started and not stopped */
  DflyHostAnnouncer      *announcer;      /* while running */
  GHashTable             *downloads;      /* task id → DflyDownload, started or waiting */
  GQueue                  waiting;        /* DflyDownload * beyond download.max_tasks */
  GPtrArray              *retired;        /* cancelled ones, replaced in the table, still ending */
  DflyHeldBoards         *held;           /* boards of tasks just completed, for range reads */
  guint                   running;        /* downloads started and not done */
  GTask                  *stopping;       /* the stop waiting for downloads to end */
  DflyHostType            host_type;
  DflyWorkerPool         *workers; /* every download's piece workers */
  DflyUploadTriggerFunc   order;
  gpointer                order_data;
  DflyUploadPolicy       *upload_policy; /* the role's, or the default */
  DflySchedulerDirectory *directory;     /* the manager's schedulers, when they are used */
  /* The swarm, while running as the downloader; downloads hold references. */
  DflyPeerServices *services;
  DflyRateLimiter  *upload_limiter;
  DflyUploadServer *upload; /* NULL when leeching */
  gulong            reloaded_id;
};

static void dfly_peer_engine_downloader_init (DflyDownloaderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DflyPeerEngine, dfly_peer_engine, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DFLY_TYPE_DOWNLOADER,
                                                      dfly_peer_engine_downloader_init))

static gboolean
runs_role (DflyConfig *config, const char *name)
{
  return g_strv_contains ((const char *const *) config->daemon.roles, name);
}

/* This host as announced to schedulers, with its upload figures now. */
static DflyHostInfo *
host_info (gpointer user_data)
{
  DflyPeerEngine *self = user_data;
  DflyConfig     *config = dfly_context_get_config (self->context);
  DflyHostInfo   *info = dfly_host_info_new_local (
      config, self->host_type, self->upload != NULL ? dfly_upload_server_get_port (self->upload) : 0);

  if (dfly_context_get_tls (self->context) != NULL)
    dfly_tls_name_host (dfly_context_get_tls (self->context), info);
  info->disable_shared = config->peer.leech != 0;
  if (self->upload != NULL) {
    info->upload_slots = dfly_upload_server_get_slots (self->upload);
    info->upload_slots_used = dfly_upload_server_get_active (self->upload);
    info->upload_rate_limit = dfly_rate_limiter_get_rate (self->upload_limiter);
    info->upload_rate_free = dfly_rate_limiter_get_free (self->upload_limiter);
  }
  return info;
}

/* The rate limits are live keys. */
static void
on_config_reloaded (DflyBus *bus, DflyConfig *config, gpointer user_data)
{
  DflyPeerEngine *self = user_data;

  if (self->upload_limiter != NULL)
    dfly_rate_limiter_set_rate (self->upload_limiter, config->upload.rate_limit);
  if (self->services != NULL)
    dfly_rate_limiter_set_rate (self->services->download_limiter, config->download.rate_limit);
}

static void
drop_services (DflyPeerEngine *self)
{
  DflyContext *context = self->context;

  if (context != NULL)
    g_clear_signal_handler (&self->reloaded_id, dfly_context_get_bus (context));
  g_clear_pointer (&self->upload, dfly_upload_server_free);
  /* The client calls back into the engine: it goes now, whoever else holds
   * the services (swarms then see no scheduler). */
  g_clear_pointer (&self->directory, dfly_scheduler_directory_free);
  if (self->services != NULL)
    g_clear_pointer (&self->services->client, dfly_scheduler_client_free);
  g_clear_pointer (&self->services, dfly_peer_services_unref);
  g_clear_pointer (&self->upload_limiter, dfly_rate_limiter_free);
}

/* The swarm's machinery: upload server, scheduler client, parent links. */
static gboolean
start_services (DflyPeerEngine *self, GError **error)
{
  DflyContext *context = self->context;
  DflyConfig  *config = dfly_context_get_config (context);
  DflyStorage *storage = dfly_context_get_storage (context);
  g_autoptr (GPtrArray) schedulers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DflyHostInfo) host = NULL;

  self->upload_limiter = dfly_rate_limiter_new (config->upload.rate_limit);
  self->services = dfly_peer_services_new ();
  self->services->download_limiter = dfly_rate_limiter_new (config->download.rate_limit);
  self->reloaded_id = g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_CONFIG_RELOADED,
                                        G_CALLBACK (on_config_reloaded), self);
  self->services->seed = self->host_type != DFLY_HOST_TYPE_NORMAL;
  if (storage != NULL && !config->peer.leech) {
    self->upload =
      dfly_upload_server_new (context, storage, self->upload_limiter, self->host_type,
                              self->upload_policy, self->order, self->order_data, error);
    if (self->upload == NULL)
      return FALSE;
  }
  host = host_info (self);
  self->services->host_id = g_strdup (host->id);
  for (char **address = config->peer.schedulers; *address != NULL; address++)
    g_ptr_array_add (schedulers, g_strdup (*address));
  /* No list: this dflyd's own scheduler, when it has one at a known port. */
  if (schedulers->len == 0 && runs_role (config, "scheduler") && config->scheduler.port != 0)
    g_ptr_array_add (schedulers,
                     strchr (config->host.ip, ':') != NULL
                       ? g_strdup_printf ("[%s]:%u", config->host.ip, config->scheduler.port)
                       : g_strdup_printf ("%s:%u", config->host.ip, config->scheduler.port));
  g_ptr_array_add (schedulers, NULL);
  /* Still none: the manager's list, when there is a manager. */
  if (schedulers->len == 1 && *config->manager.addr != '\0') {
    self->services->client = dfly_scheduler_client_new_listed (context);
    self->directory = dfly_scheduler_directory_new (context, self->services->client, error);
    if (self->directory == NULL)
      return FALSE;
  } else {
    self->services->client =
      dfly_scheduler_client_new (context, (const char *const *) schedulers->pdata);
  }
  self->services->links = dfly_parent_links_new (context);
  self->services->fetcher = dfly_piece_fetcher_new (config->http.read_timeout);
  dfly_piece_fetcher_set_tls (self->services->fetcher, dfly_context_get_tls (context));
  return TRUE;
}

DflyPeerEngine *
dfly_peer_engine_new (DflyContext *context, DflyHostType host_type)
{
  DflyPeerEngine *self = g_object_new (DFLY_TYPE_PEER_ENGINE, NULL);

  self->context = g_object_ref (context);
  self->host_type = host_type;
  self->upload_policy = dfly_upload_policy_new ();
  /* download.workers takes effect on restart: read once. */
  self->workers = dfly_worker_pool_new (dfly_context_get_config (context)->download.workers);
  return self;
}

void
dfly_peer_engine_set_order_func (DflyPeerEngine *self, DflyUploadTriggerFunc order, gpointer data)
{
  g_return_if_fail (DFLY_IS_PEER_ENGINE (self) && !self->running_engine);

  self->order = order;
  self->order_data = data;
}

void
dfly_peer_engine_set_upload_policy (DflyPeerEngine *self, DflyUploadPolicy *policy)
{
  g_return_if_fail (DFLY_IS_PEER_ENGINE (self) && DFLY_IS_UPLOAD_POLICY (policy) &&
                    !self->running_engine);

  g_set_object (&self->upload_policy, policy);
}

gboolean
dfly_peer_engine_start (DflyPeerEngine *self, GError **error)
{
  g_return_val_if_fail (DFLY_IS_PEER_ENGINE (self) && !self->running_engine, FALSE);

  if (!start_services (self, error)) {
    drop_services (self);
    return FALSE;
  }
  self->running_engine = TRUE;
  /* The host's one announcer: the scheduler client forwards what it says. */
  self->announcer = dfly_host_announcer_new (self->context, self->host_type,
                                             dfly_peer_engine_get_upload_port (self));
  dfly_host_announcer_set_host_func (self->announcer, host_info, self);
  dfly_host_announcer_start (self->announcer);
  dfly_context_set_downloader (self->context, DFLY_DOWNLOADER (self));
  return TRUE;
}

guint16
dfly_peer_engine_get_upload_port (DflyPeerEngine *self)
{
  return self->upload != NULL ? dfly_upload_server_get_port (self->upload) : 0;
}

char *
dfly_peer_engine_describe (DflyPeerEngine *self)
{
  if (self->announcer == NULL)
    return g_strdup ("stopped");
  if (self->upload == NULL)
    return g_strdup_printf ("host %s, announcing every %us, %u downloads",
                            dfly_host_announcer_get_host_id (self->announcer),
                            dfly_host_announcer_get_interval (self->announcer),
                            g_hash_table_size (self->downloads));
  return g_strdup_printf (
    "host %s, announcing every %us, %u downloads, uploads on port %u "
    "(%u now, %" G_GUINT64_FORMAT " bytes sent)",
    dfly_host_announcer_get_host_id (self->announcer),
    dfly_host_announcer_get_interval (self->announcer), g_hash_table_size (self->downloads),
    dfly_upload_server_get_port (self->upload), dfly_upload_server_get_active (self->upload),
    dfly_upload_server_get_bytes_sent (self->upload));
}

/* ---- downloads ---- */

static void start_waiting (DflyPeerEngine *self);

static void
download_done (DflyDownload *download, gpointer user_data)
{
  DflyPeerEngine *self = user_data;

  g_signal_handlers_disconnect_by_data (download, self);
  self->running--;
  if (self->held != NULL && dfly_download_has_content (download))
    dfly_held_boards_put (self->held, dfly_download_get_task_id (download),
                          dfly_download_get_board (download));
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
retire (DflyPeerEngine *self, DflyDownload *download)
{
  const char *task_id = dfly_download_get_task_id (download);
  gpointer    key, value;

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
start_waiting (DflyPeerEngine *self)
{
  DflyConfig *config = dfly_context_get_config (self->context);

  while (self->running < config->download.max_tasks && !g_queue_is_empty (&self->waiting)) {
    DflyDownload *download = g_queue_pop_head (&self->waiting);

    self->running++;
    dfly_download_start (download);
  }
}

/* g_queue_insert_sorted walks past queued while this is negative: past
 * every download of the same or a higher priority. */
static gint
goes_before (gconstpointer queued, gconstpointer added, gpointer user_data)
{
  return dfly_download_get_priority ((DflyDownload *) queued) >=
             dfly_download_get_priority ((DflyDownload *) added)
           ? -1
           : 1;
}

/* Higher priorities start first; equal ones in the order they came. */
static void
queue_by_priority (DflyPeerEngine *self, DflyDownload *download)
{
  g_queue_insert_sorted (&self->waiting, download, goes_before, NULL);
}

static gboolean
check_request (DflyPeerEngine *self, DflyDownloadRequest *request, GError **error)
{
  DflyConfig    *config = dfly_context_get_config (self->context);
  GHashTableIter iter;
  gpointer       name, value;

  if (request->digest != NULL && !dfly_output_digest_is_valid (request->digest)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "digest \"%s\" is not sha256:<64 hex> or sha512:<128 hex>", request->digest);
    return FALSE;
  }
  if (request->piece_length != 0 && (request->piece_length < config->download.min_piece_length ||
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
char *
dfly_peer_engine_task_id_for (DflySource *source, DflyDownloadRequest *request, DflyConfig *config,
                              GError **error)
{
  g_autofree char *content_digest = dfly_source_get_content_digest (source, request->url);
  const char      *hex;

  if (content_digest == NULL || !g_str_has_prefix (content_digest, "sha256:"))
    return dfly_task_id_new (request->url, request->tag, request->application,
                             request->piece_length,
                             (const char *const *) (request->filtered_query_keys != NULL
                                                      ? request->filtered_query_keys
                                                      : config->download.filtered_query_keys),
                             error);
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

/* The download request's task runs in (joined, or made and queued: the
 * caller adds what it needs, then calls start_waiting()); NULL when the
 * request is refused. Sets request->task_id. lazy: only range readers ask
 * (see dfly_download_set_lazy); a task someone wants whole stays eager. */
static DflyDownload *
find_or_queue (DflyPeerEngine *self, DflyDownloadRequest *request, gboolean lazy,
               DflyPieceBoard **held, GError **error)
{
  DflyContext     *context = self->context;
  DflyConfig      *config = dfly_context_get_config (context);
  DflyStorage     *storage = dfly_context_get_storage (context);
  DflySource      *source;
  g_autofree char *checked_url = NULL;
  g_autofree char *task_id = NULL;
  g_autofree char *shown = NULL;
  g_autoptr (DflyTaskInfo) task = NULL;
  DflyDownload *download;

  if (self->stopping != NULL || !self->running_engine) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "the %s role is stopping",
                 self->host_type == DFLY_HOST_TYPE_NORMAL ? "peer" : "seed");
    return NULL;
  }
  /* A malformed URL is said to be one before any lookup by its scheme. */
  checked_url = dfly_url_filter_query (request->url, NULL, error);
  if (checked_url == NULL)
    return NULL;
  source = dfly_context_lookup_source (context, request->url, error);
  if (source == NULL || !check_request (self, request, error))
    return NULL;
  task_id = dfly_peer_engine_task_id_for (source, request, config, error);
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
  if (download != NULL &&
      (dfly_download_is_cancelled (download) || dfly_download_has_failed (download))) {
    retire (self, download);
    download = NULL;
  }
  /* A range reader of a task that just completed reads its board. */
  if (download == NULL && held != NULL &&
      (*held = dfly_held_boards_lookup (self->held, task_id)) != NULL)
    return NULL;
  if (download != NULL) {
    if (!lazy)
      dfly_download_set_lazy (download, FALSE);
    if (request->priority > dfly_download_get_priority (download) &&
        g_queue_remove (&self->waiting, download)) {
      dfly_download_raise_priority (download, request->priority);
      queue_by_priority (self, download);
    }
    return download;
  }

  task = dfly_task_info_new (task_id, request->url);
  task->tag = g_strdup (request->tag);
  task->application = g_strdup (request->application);
  task->digest = g_strdup (request->digest);
  task->piece_length = request->piece_length;
  download = dfly_download_new (context, storage, source, self->workers, task, request->headers);
  dfly_download_set_lazy (download, lazy);
  if (self->services->client != NULL)
    dfly_download_use_swarm (download, self->services, FALSE);
  g_hash_table_insert (self->downloads, g_strdup (task_id), download);
  g_signal_connect (download, "done", G_CALLBACK (download_done), self);
  shown = dfly_http_public_url (request->url);
  g_info ("task %s: downloading %s", task_id, shown);
  dfly_download_raise_priority (download, MIN (request->priority, DFLY_DOWNLOAD_PRIORITY_MAX));
  queue_by_priority (self, download);
  return download;
}

/* The output checked (off the main loop), the request joins its task. */
static void
output_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  DflyPeerEngine      *self = g_task_get_source_object (task);
  DflyDownloadRequest *request = g_task_get_task_data (task);
  DflyDownload        *download = NULL;
  GError              *error = NULL;

  if (dfly_output_check_finish (result, &error))
    download = find_or_queue (self, request, FALSE, NULL, &error);
  if (download == NULL) {
    g_task_return_error (task, error);
    return;
  }
  g_info ("task %s: to %s", request->task_id, request->output);
  dfly_download_add_request (download, request);
  start_waiting (self);
  g_task_return_pointer (task, g_strdup (request->task_id), g_free);
}

static void
dfly_peer_engine_download_async (DflyDownloader *downloader, DflyDownloadRequest *request,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  DflyPeerEngine *self = DFLY_PEER_ENGINE (downloader);
  DflyConfig     *config = dfly_context_get_config (self->context);
  const char     *refused[] = { config->daemon.cache_dir, config->daemon.state_dir, NULL };
  GTask          *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, dfly_peer_engine_download_async);
  g_task_set_task_data (task, dfly_download_request_ref (request),
                        (GDestroyNotify) dfly_download_request_unref);
  dfly_output_check_async (request->output, refused, cancellable, output_checked, task);
}

static char *
dfly_peer_engine_download_finish (DflyDownloader *downloader, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GInputStream *
dfly_peer_engine_open_range (DflyDownloader *downloader, DflyDownloadRequest *request,
                             guint64 offset, guint64 length, GCancellable *cancellable,
                             GError **error)
{
  DflyPeerEngine *self = DFLY_PEER_ENGINE (downloader);
  g_autoptr (DflyPieceBoard) held = NULL;
  /* Without prefetch, only the bytes readers ask for are fetched. */
  DflyDownload *download = find_or_queue (self, request, !request->prefetch, &held, error);
  GInputStream *stream;

  if (download == NULL && held == NULL)
    return NULL;
  g_info ("task %s: reading bytes %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT, request->task_id,
          offset, length);
  stream = dfly_range_stream_new (held != NULL ? held : dfly_download_get_board (download),
                                  dfly_context_get_storage (self->context), request->task_id,
                                  offset, length, cancellable);
  start_waiting (self);
  return stream;
}

gboolean
dfly_peer_engine_fetch_for_swarm (DflyPeerEngine *self, const DflyTaskInfo *task,
                                  GHashTable *headers, GError **error)
{
  DflyStorage     *storage = dfly_context_get_storage (self->context);
  DflyDownload    *running;
  DflyDownload    *fetch;
  DflySource      *source;
  g_autofree char *shown = NULL;

  g_return_val_if_fail (DFLY_IS_PEER_ENGINE (self) && task != NULL, FALSE);

  if (self->stopping != NULL || !self->running_engine || storage == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "this host is not downloading");
    return FALSE;
  }
  running = g_hash_table_lookup (self->downloads, task->id);
  if (running != NULL && !dfly_download_is_cancelled (running))
    return TRUE; /* already on it */
  /* Whoever sends orders must not grow the queue without bound. */
  if (g_queue_get_length (&self->waiting) >=
      dfly_context_get_config (self->context)->download.max_waiting) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "%u downloads wait already",
                 g_queue_get_length (&self->waiting));
    return FALSE;
  }
  source = dfly_context_lookup_source (self->context, task->url, error);
  if (source == NULL)
    return FALSE;
  if (running != NULL)
    retire (self, running);
  fetch = dfly_download_new (self->context, storage, source, self->workers, task, headers);
  dfly_download_use_swarm (fetch, self->services, TRUE);
  g_hash_table_insert (self->downloads, g_strdup (task->id), fetch);
  g_signal_connect (fetch, "done", G_CALLBACK (download_done), self);
  shown = dfly_http_public_url (task->url);
  g_info ("task %s: fetching %s from its source for the swarm", task->id, shown);
  g_queue_push_tail (&self->waiting, fetch);
  start_waiting (self);
  return TRUE;
}

static gboolean
dfly_peer_engine_cancel (DflyDownloader *downloader, const char *task_id, GError **error)
{
  DflyPeerEngine *self = DFLY_PEER_ENGINE (downloader);
  DflyDownload   *download = g_hash_table_lookup (self->downloads, task_id);
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
dfly_peer_engine_is_running (DflyDownloader *downloader, const char *task_id)
{
  return g_hash_table_contains (DFLY_PEER_ENGINE (downloader)->downloads, task_id);
}

static gboolean
dfly_peer_engine_get_range_length (DflyDownloader *downloader, GInputStream *reader,
                                   guint64 *content_length, guint64 *range_length)
{
  return DFLY_IS_RANGE_STREAM (reader) &&
         dfly_range_stream_get_length (DFLY_RANGE_STREAM (reader), content_length, range_length);
}

static void
dfly_peer_engine_downloader_init (DflyDownloaderInterface *iface)
{
  iface->download_async = dfly_peer_engine_download_async;
  iface->download_finish = dfly_peer_engine_download_finish;
  iface->cancel = dfly_peer_engine_cancel;
  iface->is_running = dfly_peer_engine_is_running;
  iface->open_range = dfly_peer_engine_open_range;
  iface->get_range_length = dfly_peer_engine_get_range_length;
}

/* ---- stopping: cancel every download and wait for its threads ---- */

void
dfly_peer_engine_stop (DflyPeerEngine *self, GTask *task_in)
{
  g_autoptr (GTask) task = task_in;
  g_autoptr (GError) reason = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "dflyd is stopping");
  g_autoptr (GList) downloads = NULL;

  if (self == NULL) {
    g_task_return_boolean (task, TRUE);
    return;
  }
  g_return_if_fail (DFLY_IS_PEER_ENGINE (self) && self->stopping == NULL);

  self->running_engine = FALSE;
  if (self->announcer != NULL)
    dfly_host_announcer_stop (self->announcer);
  g_clear_object (&self->announcer);
  if (dfly_context_get_downloader (self->context) == DFLY_DOWNLOADER (self))
    dfly_context_set_downloader (self->context, NULL);

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

void
dfly_peer_engine_abandon (DflyPeerEngine **engine)
{
  if (*engine != NULL)
    g_object_run_dispose (G_OBJECT (*engine));
  g_clear_object (engine);
}

static void
forget_download (gpointer download, gpointer self)
{
  g_autoptr (GError) reason =
    g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "this host's downloads are gone");

  g_signal_handlers_disconnect_by_data (download, self);
  dfly_download_cancel (download, reason);
}

/* Cancelled already: their threads end within a read timeout at worst. */
static void
join_downloads (GList *downloads)
{
  gint64 deadline = g_get_monotonic_time () + JOIN_TIMEOUT_US;

  for (GList *l = downloads; l != NULL; l = l->next) {
    if (!dfly_download_wait_threads (l->data, deadline))
      g_message ("task %s: its threads did not end in time, leaving them",
                 dfly_download_get_task_id (l->data));
  }
}

static void
dfly_peer_engine_dispose (GObject *object)
{
  DflyPeerEngine *self = DFLY_PEER_ENGINE (object);

  self->running_engine = FALSE;
  g_clear_object (&self->announcer);
  g_queue_clear (&self->waiting);
  /* An abandoned stop: downloads end on their own, without calling back. */
  if (self->downloads != NULL) {
    g_autoptr (GList) downloads = g_hash_table_get_values (self->downloads);

    for (guint i = 0; i < self->retired->len; i++)
      downloads = g_list_prepend (downloads, g_ptr_array_index (self->retired, i));
    g_list_foreach (downloads, forget_download, self);
    join_downloads (downloads);
  }
  g_clear_pointer (&self->downloads, g_hash_table_unref);
  g_clear_pointer (&self->retired, g_ptr_array_unref);
  g_clear_pointer (&self->held, dfly_held_boards_free);
  drop_services (self);
  g_clear_object (&self->stopping);
  g_clear_pointer (&self->workers, dfly_worker_pool_unref);
  g_clear_object (&self->upload_policy);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (dfly_peer_engine_parent_class)->dispose (object);
}

static void
dfly_peer_engine_init (DflyPeerEngine *self)
{
  self->downloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->retired = g_ptr_array_new_with_free_func (g_object_unref);
  self->held = dfly_held_boards_new ();
}

static void
dfly_peer_engine_class_init (DflyPeerEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_peer_engine_dispose;
}
