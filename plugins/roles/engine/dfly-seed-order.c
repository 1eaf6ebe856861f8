/* dfly-seed-order.c — who may order a seed to fetch (DFLY_ROLE_FLAG_SCHEDULER under TLS) */
#include "config.h"

#include <dfly/dfly.h>
#include <dfly/dfly-identity.h>

#include "dfly-seed-order.h"

char *
dfly_seed_order_caller (SoupServerMessage *msg)
{
  const DflyIdentity *identity = dfly_identity_of_message (msg);
  GSocketAddress     *remote;

  if (identity != NULL)
    return g_strdup_printf ("host %s", dfly_identity_get_host_id (identity));
  remote = soup_server_message_get_remote_address (msg);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  return g_strdup ("unknown");
}

gboolean
dfly_seed_order_check (SoupServerMessage *msg, GError **error)
{
  const DflyIdentity *identity = dfly_identity_of_message (msg);

  if (identity == NULL || dfly_identity_has_role (identity, DFLY_ROLE_FLAG_SCHEDULER))
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED,
               "only a scheduler may order a seed; host %s's certificate does not grant that role",
               dfly_identity_get_host_id (identity));
  return FALSE;
}
