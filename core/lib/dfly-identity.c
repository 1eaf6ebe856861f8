/* dfly-identity.c — DflyIdentity: a host id and the roles a certificate grants */
#include "config.h"

#include "dfly/dfly-identity.h"

struct _DflyIdentity {
  gatomicrefcount ref;
  char           *host_id;
  DflyRoleFlags   roles;
};

G_DEFINE_BOXED_TYPE (DflyIdentity, dfly_identity, dfly_identity_ref, dfly_identity_unref)

static const struct {
  const char   *name;
  DflyRoleFlags flag;
} role_names[] = {
  { "peer", DFLY_ROLE_FLAG_PEER },
  { "seed", DFLY_ROLE_FLAG_SEED },
  { "scheduler", DFLY_ROLE_FLAG_SCHEDULER },
  { "manager", DFLY_ROLE_FLAG_MANAGER },
};

gboolean
dfly_role_flag_from_string (const char *name, DflyRoleFlags *flag)
{
  for (gsize i = 0; i < G_N_ELEMENTS (role_names); i++) {
    if (g_strcmp0 (name, role_names[i].name) == 0) {
      *flag = role_names[i].flag;
      return TRUE;
    }
  }
  return FALSE;
}

const char *
dfly_role_flag_to_string (DflyRoleFlags flag)
{
  for (gsize i = 0; i < G_N_ELEMENTS (role_names); i++) {
    if (role_names[i].flag == flag)
      return role_names[i].name;
  }
  return NULL;
}

DflyIdentity *
dfly_identity_new (const char *host_id, DflyRoleFlags roles)
{
  DflyIdentity *self = g_new0 (DflyIdentity, 1);

  g_return_val_if_fail (host_id != NULL, NULL);
  g_atomic_ref_count_init (&self->ref);
  self->host_id = g_strdup (host_id);
  self->roles = roles & DFLY_ROLE_FLAGS_ALL;
  return self;
}

DflyIdentity *
dfly_identity_ref (DflyIdentity *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
dfly_identity_unref (DflyIdentity *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  g_free (self->host_id);
  g_free (self);
}

const char *
dfly_identity_get_host_id (const DflyIdentity *self)
{
  return self->host_id;
}

DflyRoleFlags
dfly_identity_get_roles (const DflyIdentity *self)
{
  return self->roles;
}

gboolean
dfly_identity_has_role (const DflyIdentity *self, DflyRoleFlags role)
{
  return self != NULL && (self->roles & role) == role;
}

#define IDENTITY_KEY "dfly-identity"

void
dfly_identity_attach_to_message (SoupServerMessage *msg, DflyIdentity *identity)
{
  g_object_set_data_full (G_OBJECT (msg), IDENTITY_KEY, dfly_identity_ref (identity),
                          (GDestroyNotify) dfly_identity_unref);
}

void
dfly_identity_attach_to_websocket (SoupWebsocketConnection *connection, DflyIdentity *identity)
{
  g_object_set_data_full (G_OBJECT (connection), IDENTITY_KEY, dfly_identity_ref (identity),
                          (GDestroyNotify) dfly_identity_unref);
}

const DflyIdentity *
dfly_identity_of_message (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), IDENTITY_KEY);
}

const DflyIdentity *
dfly_identity_of_websocket (SoupWebsocketConnection *connection)
{
  return g_object_get_data (G_OBJECT (connection), IDENTITY_KEY);
}
