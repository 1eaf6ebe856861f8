/* dfly-seed-role.c — the "seed" role: this machine as a seed peer (Dragonfly host type super)
 *
 * A seed is where the swarm's bytes first come from. The role runs the
 * engine (dfly-peer-engine.h) as a seed host: it announces the host as one
 * (its id ends in "-seed"), its upload server keeps the seed's share of
 * slots (upload.seed_slots) and super-seeds (dfly-super-seeding.h: each
 * new piece is offered to one child in turn, and a range sent moments ago
 * is refused with 429 so the children pass it on), and it takes the
 * schedulers' orders (POST /v1/download-task) to fetch a task from its
 * source before any peer asks.
 * Beside the peer role (an all-in-one dflyd) this engine is the daemon's
 * downloader too, and the peer role stands aside.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly/dfly-http-client.h"
#include "dfly-peer-engine.h"
#include "dfly-manager-link.h"
#include "dfly-super-seeding.h"

G_DECLARE_FINAL_TYPE (DflySeedRole, dfly_seed_role, DFLY, SEED_ROLE, DflyRole)

struct _DflySeedRole {
  DflyRole         parent_instance;
  DflyPeerEngine  *engine;  /* while running */
  DflyManagerLink *manager; /* while running with manager.addr set */
};

G_DEFINE_FINAL_TYPE (DflySeedRole, dfly_seed_role, DFLY_TYPE_ROLE)

static DflyContext *
role_context (DflySeedRole *self)
{
  return dfly_component_get_context (DFLY_COMPONENT (self));
}

/* A scheduler's order: fetch a task from its source, for no caller but the
 * swarm. The task id must be the one the download it names works out to. */
static gboolean
on_order (const char *task_id, const Dfly__V1__Download *download, gpointer user_data,
          GError **error)
{
  DflySeedRole *self = user_data;
  DflyContext  *context = role_context (self);
  g_autoptr (DflyDownloadRequest) request = NULL;
  g_autoptr (DflyTaskInfo) task = NULL;
  g_autofree char *expected = NULL;
  DflySource      *source;

  if (self->engine == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "the seed role is not running");
    return FALSE;
  }
  source = dfly_context_lookup_source (context, download->url, error);
  if (source == NULL)
    return FALSE;
  request = dfly_download_request_new (download->url, "/");
  request->tag = g_strdup (download->tag);
  request->application = g_strdup (download->application);
  request->piece_length = download->piece_length;
  if (download->digest != NULL && download->digest[0] != '\0')
    request->digest = g_strdup (download->digest);
  /* A scheduler forwards no credentials; if one did, they are not ours to use. */
  for (gsize i = 0; i < download->n_request_headers; i++)
    if (!dfly_http_is_credential_header (download->request_headers[i]->key))
      g_hash_table_replace (request->headers, g_strdup (download->request_headers[i]->key),
                            g_strdup (download->request_headers[i]->value));
  expected =
    dfly_peer_engine_task_id_for (source, request, dfly_context_get_config (context), error);
  if (expected == NULL)
    return FALSE;
  if (strcmp (expected, task_id) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task id %s does not match its download (%s)", task_id, expected);
    return FALSE;
  }
  task = dfly_task_info_new (task_id, download->url);
  task->tag = g_strdup (request->tag);
  task->application = g_strdup (request->application);
  task->digest = g_strdup (request->digest);
  task->piece_length = request->piece_length;
  return dfly_peer_engine_fetch_for_swarm (self->engine, task, request->headers, error);
}

/* What the manager keeps of this seed peer: where peers fetch from it,
 * and the cluster it serves. */
static JsonObject *
seed_record (DflySeedRole *self)
{
  DflyConfig *config = dfly_context_get_config (role_context (self));
  g_autoptr (DflyHostInfo) host = dfly_host_info_new_local (
    config, DFLY_HOST_TYPE_SUPER, dfly_peer_engine_get_upload_port (self->engine));
  JsonObject *record = json_object_new ();

  json_object_set_string_member (record, "hostname", host->hostname);
  json_object_set_string_member (record, "ip", host->ip);
  json_object_set_int_member (record, "port", host->port);
  json_object_set_int_member (record, "download_port", host->port);
  json_object_set_string_member (record, "type", "super");
  json_object_set_string_member (record, "idc", host->idc);
  json_object_set_string_member (record, "location", host->location);
  json_object_set_int_member (record, "seed_peer_cluster_id", config->manager.seed_peer_cluster_id);
  return record;
}

static gboolean
dfly_seed_role_start (DflyRole *role, GError **error)
{
  DflySeedRole *self = DFLY_SEED_ROLE (role);
  DflyContext  *context = role_context (self);
  g_autoptr (DflyPeerEngine) engine = dfly_peer_engine_new (context, DFLY_HOST_TYPE_SUPER);
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();

  g_clear_object (&self->engine);
  /* A malformed manager.addr fails the start before anything runs. */
  if (*dfly_context_get_config (context)->manager.addr != '\0') {
    g_autofree char *base =
      dfly_manager_link_base_url (dfly_context_get_config (context)->manager.addr,
                                  dfly_context_get_tls (context) != NULL, error);

    if (base == NULL)
      return FALSE;
  }
  dfly_peer_engine_set_order_func (engine, on_order, self);
  dfly_peer_engine_set_upload_policy (engine, policy);
  if (!dfly_peer_engine_start (engine, error))
    return FALSE;
  g_set_object (&self->engine, engine);
  g_clear_pointer (&self->manager, dfly_manager_link_free);
  if (*dfly_context_get_config (context)->manager.addr != '\0' &&
      dfly_peer_engine_get_upload_port (engine) != 0)
    self->manager = dfly_manager_link_new (context, "seed-peers", seed_record (self), NULL);
  return TRUE;
}

static void
dfly_seed_role_stop_async (DflyRole *role, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_clear_pointer (&DFLY_SEED_ROLE (role)->manager, dfly_manager_link_free);
  dfly_peer_engine_stop (DFLY_SEED_ROLE (role)->engine,
                         g_task_new (role, cancellable, callback, user_data));
}

static gboolean
dfly_seed_role_stop_finish (DflyRole *role, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static char *
dfly_seed_role_describe (DflyRole *role)
{
  DflySeedRole *self = DFLY_SEED_ROLE (role);

  if (self->engine == NULL)
    return g_strdup ("stopped");
  return dfly_peer_engine_describe (self->engine);
}

static void
dfly_seed_role_dispose (GObject *object)
{
  g_clear_pointer (&DFLY_SEED_ROLE (object)->manager, dfly_manager_link_free);
  dfly_peer_engine_abandon (&DFLY_SEED_ROLE (object)->engine);
  G_OBJECT_CLASS (dfly_seed_role_parent_class)->dispose (object);
}

static void
dfly_seed_role_init (DflySeedRole *self)
{
}

static void
dfly_seed_role_class_init (DflySeedRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = dfly_seed_role_dispose;
  role_class->start = dfly_seed_role_start;
  role_class->stop_async = dfly_seed_role_stop_async;
  role_class->stop_finish = dfly_seed_role_stop_finish;
  role_class->describe = dfly_seed_role_describe;
}

DFLY_PLUGIN_DEFINE ("seed", DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                    "Seed peer: fetches from sources for the swarm, on schedulers' orders",
                    dfly_seed_role_get_type)
