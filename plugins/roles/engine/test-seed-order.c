/* test-seed-order.c — who may order a seed: identities attached as the TLS listener would
 *
 * A SoupServer in a thread attaches to each request the identity its test
 * header names (as dfly-wire's TLS listener does from a client
 * certificate), then asks dfly_seed_order_check and dfly_seed_order_caller
 * and answers with what they said.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>
#include <dfly/dfly-identity.h>

#include "dfly-seed-order.h"
#include "test-soup-server.h"

#define ROLES_HEADER "X-Test-Roles" /* absent: a plaintext link, no identity */

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  const char *roles =
    soup_message_headers_get_one (soup_server_message_get_request_headers (msg), ROLES_HEADER);
  g_autoptr (GError) error = NULL;
  g_autofree char *caller = NULL;
  g_autofree char *body = NULL;

  if (roles != NULL) {
    g_autoptr (DflyIdentity) identity = dfly_identity_new ("host-a", (DflyRoleFlags) atoi (roles));

    dfly_identity_attach_to_message (msg, identity);
  }
  caller = dfly_seed_order_caller (msg);
  if (dfly_seed_order_check (msg, &error)) {
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    body = g_strdup (caller);
  } else {
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED);
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
    body = g_strdup_printf ("%s|%s", caller, error->message);
  }
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, body, strlen (body));
}

/* POSTs an order with roles (-1: no identity); the status, *body its text. */
static guint
order (SoupSession *session, guint16 port, int roles, char **body)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/v1/download-task", port);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (roles >= 0) {
    g_autofree char *text = g_strdup_printf ("%d", roles);

    soup_message_headers_replace (soup_message_get_request_headers (msg), ROLES_HEADER, text);
  }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return soup_message_get_status (msg);
}

static void
test_orders (void)
{
  TestSoupServer *server = test_soup_server_start (handle, NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  static const struct {
    int         roles;
    guint       status;
    const char *body;
  } cases[] = {
    /* Plaintext: the network is trusted, the caller is its address. */
    { -1, SOUP_STATUS_ACCEPTED, "127.0.0.1" },
    { DFLY_ROLE_FLAG_SCHEDULER, SOUP_STATUS_ACCEPTED, "host host-a" },
    { DFLY_ROLE_FLAG_SCHEDULER | DFLY_ROLE_FLAG_SEED, SOUP_STATUS_ACCEPTED, "host host-a" },
    { DFLY_ROLE_FLAG_PEER, SOUP_STATUS_FORBIDDEN,
      "host host-a|only a scheduler may order a seed; host host-a's certificate does not grant "
      "that role" },
    { DFLY_ROLE_FLAG_SEED, SOUP_STATUS_FORBIDDEN, "host host-a|only a scheduler" },
    { DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED | DFLY_ROLE_FLAG_MANAGER, SOUP_STATUS_FORBIDDEN,
      "host host-a|only a scheduler" },
    { 0, SOUP_STATUS_FORBIDDEN, "host host-a|only a scheduler" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *body = NULL;
    guint            status = order (session, server->port, cases[i].roles, &body);

    g_test_message ("roles %d: %u %s", cases[i].roles, status, body);
    g_assert_cmpuint (status, ==, cases[i].status);
    g_assert_true (g_str_has_prefix (body, cases[i].body));
  }
  test_soup_server_stop (server);
}

int
main (int argc, char **argv)
{
  /* Loopback only: no proxy from the environment. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/seed-order/orders", test_orders);
  return g_test_run ();
}
