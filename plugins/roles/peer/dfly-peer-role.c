/* dfly-peer-role.c — the "peer" role: this machine as a normal host of the swarm
 *
 * The role runs the engine (dfly-peer-engine.h) as a normal host: it is the
 * daemon's downloader, serves what this host holds to other peers, and
 * announces the host. A daemon runs one engine: beside the seed role
 * (an all-in-one dflyd) the seed role's engine downloads for this host and
 * this role only says so.
 */
#include "config.h"

#include "dfly/dfly.h"
#include "dfly-peer-engine.h"
#include "dfly-super-seeding.h"

G_DECLARE_FINAL_TYPE (DflyPeerRole, dfly_peer_role, DFLY, PEER_ROLE, DflyRole)

struct _DflyPeerRole {
  DflyRole        parent_instance;
  DflyPeerEngine *engine; /* while running, unless beside a seed role */
};

G_DEFINE_FINAL_TYPE (DflyPeerRole, dfly_peer_role, DFLY_TYPE_ROLE)

static DflyContext *
role_context (DflyPeerRole *self)
{
  return dfly_component_get_context (DFLY_COMPONENT (self));
}

static gboolean
dfly_peer_role_start (DflyRole *role, GError **error)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);
  DflyContext  *context = role_context (self);
  DflyConfig   *config = dfly_context_get_config (context);
  g_autoptr (DflyPeerEngine) engine = NULL;
  g_autoptr (DflyUploadPolicy) policy = NULL;

  g_clear_object (&self->engine);
  /* The seed role's engine does all this one would, and takes orders. */
  if (g_strv_contains ((const char *const *) config->daemon.roles, "seed"))
    return TRUE;
  engine = dfly_peer_engine_new (context, DFLY_HOST_TYPE_NORMAL);
  /* Sent to the source, this peer is the swarm's way to the task: each of
   * those pieces goes out once, as a seed's do (the bench taught that told
   * at once, its children all asked it for the same new pieces). */
  policy = dfly_super_seeding_new_for_source_tasks ();
  dfly_peer_engine_set_upload_policy (engine, policy);
  if (!dfly_peer_engine_start (engine, error))
    return FALSE;
  g_set_object (&self->engine, engine);
  return TRUE;
}

static void
dfly_peer_role_stop_async (DflyRole *role, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  dfly_peer_engine_stop (DFLY_PEER_ROLE (role)->engine,
                         g_task_new (role, cancellable, callback, user_data));
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

  if (self->engine == NULL)
    return g_strdup ("the seed role downloads and serves for this host");
  return dfly_peer_engine_describe (self->engine);
}

static void
dfly_peer_role_dispose (GObject *object)
{
  dfly_peer_engine_abandon (&DFLY_PEER_ROLE (object)->engine);
  G_OBJECT_CLASS (dfly_peer_role_parent_class)->dispose (object);
}

static void
dfly_peer_role_init (DflyPeerRole *self)
{
}

static void
dfly_peer_role_class_init (DflyPeerRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = dfly_peer_role_dispose;
  role_class->start = dfly_peer_role_start;
  role_class->stop_async = dfly_peer_role_stop_async;
  role_class->stop_finish = dfly_peer_role_stop_finish;
  role_class->describe = dfly_peer_role_describe;
}

DFLY_PLUGIN_DEFINE ("peer", DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                    "Peer: downloads for this machine and serves what it holds to the swarm",
                    dfly_peer_role_get_type)
