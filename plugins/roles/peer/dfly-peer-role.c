/* dfly-peer-role.c — the "peer" and "seed" roles: this machine as a host of the swarm
 *
 * A seed peer is a peer with another host type, as in Dragonfly (one client,
 * a seed flag), so both plugins build from this file: plugins/roles/seed
 * compiles it with DFLY_PEER_ROLE_SEED. Today the role announces the host
 * (DflyHostAnnouncer); the peer service and downloads arrive with the swarm.
 * The two builds register different GType names, since both are loaded into
 * one dflyd.
 */
#include "config.h"

#include "dfly/dfly.h"

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
};

static gpointer dfly_peer_role_parent_class;

static gboolean
dfly_peer_role_start (DflyRole *role, GError **error)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (role));

  /* Port 0: there is no peer service to announce yet. */
  self->announcer = dfly_host_announcer_new (context, ROLE_HOST_TYPE, 0);
  dfly_host_announcer_start (self->announcer);
  return TRUE;
}

static void
dfly_peer_role_stop (DflyRole *role)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);

  dfly_host_announcer_stop (self->announcer);
  g_clear_object (&self->announcer);
}

static char *
dfly_peer_role_describe (DflyRole *role)
{
  DflyPeerRole *self = DFLY_PEER_ROLE (role);

  return g_strdup_printf ("host %s, announcing every %us",
                          dfly_host_announcer_get_host_id (self->announcer),
                          dfly_host_announcer_get_interval (self->announcer));
}

static void
dfly_peer_role_dispose (GObject *object)
{
  g_clear_object (&DFLY_PEER_ROLE (object)->announcer);
  G_OBJECT_CLASS (dfly_peer_role_parent_class)->dispose (object);
}

static void
dfly_peer_role_class_init (DflyPeerRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  dfly_peer_role_parent_class = g_type_class_peek_parent (klass);
  G_OBJECT_CLASS (klass)->dispose = dfly_peer_role_dispose;
  role_class->start = dfly_peer_role_start;
  role_class->stop = dfly_peer_role_stop;
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
      (GClassInitFunc) (void (*) (void)) dfly_peer_role_class_init, sizeof (DflyPeerRole), NULL,
      G_TYPE_FLAG_FINAL);

    g_once_init_leave (&type_id, type);
  }
  return type_id;
}

DFLY_PLUGIN_DEFINE (ROLE_NAME, DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                    ROLE_DESCRIPTION, dfly_peer_role_get_type)
