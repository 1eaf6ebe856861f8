/* test-manager.c — the manager role's REST API, over real HTTP on loopback */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "../dfly-role-test.h"
#include "dfly-manager-settings.h"

/* From dfly-manager-role.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_manager_role_get_type (void);

/* The role's settings in the fixture's config, writable: it is not shared. */
static DflyManagerSettings *
manager_settings (RoleTest *t, const char *name)
{
  DflySettings *settings = dfly_config_get_settings (dfly_context_get_config (t->context), name);

  return (DflyManagerSettings *) dfly_settings_get_values (settings);
}

/* The role fixture with the manager's section bound, as the loader binds
 * it, under the names the tests give their roles; its port is 0 (a free one). */
static void
manager_setup (RoleTest *t, gconstpointer data)
{
  const char *const names[] = { "manager", "first" };

  role_test_setup (t, data);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autoptr (GError) error = NULL;

    dfly_config_add_plugin (dfly_context_get_config (t->context), names[i], &dfly_manager_settings,
                            &error);
    g_assert_no_error (error);
    manager_settings (t, names[i])->port = 0;
  }
}

#define MANAGER_TEST_ADD(path, func) \
  g_test_add ((path), RoleTest, "manager", manager_setup, (func), role_test_teardown)

typedef struct {
  GBytes  *body;
  GError  *error;
  gboolean done;
} Reply;

static gboolean
reply_done (gpointer data)
{
  return ((Reply *) data)->done;
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  Reply *reply = data;

  reply->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &reply->error);
  reply->done = TRUE;
}

/* A client that goes straight to loopback whatever proxy the environment names. */
static SoupSession *
session_new (void)
{
  SoupSession *session = soup_session_new ();

  soup_session_set_proxy_resolver (session, NULL);
  return session;
}

/* One request on the test's main loop, with an optional request body;
 * returns the message, the response body in *body. */
static SoupMessage *
request_with_body (const char *method, const char *base, const char *path, GBytes *sent,
                   GBytes **body)
{
  g_autoptr (SoupSession) session = session_new ();
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  Reply reply = { NULL, NULL, FALSE };

  if (sent != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/octet-stream", sent);

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_reply, &reply);
  g_assert_true (role_test_wait (reply_done, &reply, 5000));
  g_assert_no_error (reply.error);
  *body = reply.body;
  return g_steal_pointer (&msg);
}

static SoupMessage *
request (const char *method, const char *base, const char *path, GBytes **body)
{
  return request_with_body (method, base, path, NULL, body);
}

/* "REST API on http://127.0.0.1:PORT" → "http://127.0.0.1:PORT". */
static char *
base_url (DflyRole *role)
{
  g_autofree char *describe = dfly_role_describe (role);

  g_assert_true (g_str_has_prefix (describe, "REST API on http://127.0.0.1:"));
  return g_strdup (describe + strlen ("REST API on "));
}

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "manager");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_ROLE);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_ROLE));
}

static void
test_healthy (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  g_autoptr (GError) error = NULL;
  g_autofree char *base = NULL;
  g_autoptr (SoupMessage) get = NULL;
  g_autoptr (SoupMessage) head = NULL;
  g_autoptr (SoupMessage) missing = NULL;
  g_autoptr (SoupMessage) below = NULL;
  g_autoptr (SoupMessage) post = NULL;
  g_autoptr (GBytes) get_body = NULL;
  g_autoptr (GBytes) head_body = NULL;
  g_autoptr (GBytes) missing_body = NULL;
  g_autoptr (GBytes) below_body = NULL;
  g_autoptr (GBytes) post_body = NULL;
  SoupMessageHeaders *headers;

  g_assert_true (dfly_role_start (role, &error));
  g_assert_no_error (error);
  base = base_url (role);
  /* Port 0 in the config: an ephemeral port was bound and is reported. */
  g_assert_false (g_str_has_suffix (base, ":0"));

  get = request ("GET", base, "/healthy", &get_body);
  g_assert_cmpuint (soup_message_get_status (get), ==, SOUP_STATUS_OK);
  headers = soup_message_get_response_headers (get);
  g_assert_cmpstr (soup_message_headers_get_content_type (headers, NULL), ==, "text/plain");
  g_assert_cmpmem (g_bytes_get_data (get_body, NULL), g_bytes_get_size (get_body), "OK", 2);

  head = request ("HEAD", base, "/healthy", &head_body);
  g_assert_cmpuint (soup_message_get_status (head), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (g_bytes_get_size (head_body), ==, 0);

  missing = request ("GET", base, "/oapi/v1/nothing", &missing_body);
  g_assert_cmpuint (soup_message_get_status (missing), ==, SOUP_STATUS_NOT_FOUND);
  below = request ("GET", base, "/healthy/more", &below_body);
  g_assert_cmpuint (soup_message_get_status (below), ==, SOUP_STATUS_NOT_FOUND);

  post = request ("POST", base, "/healthy", &post_body);
  g_assert_cmpuint (soup_message_get_status (post), ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (post), "Allow"),
                   ==, "GET, HEAD");

  /* No route takes a body: one is refused before it is read, on any path. */
  {
    g_autoptr (GBytes) sent = g_bytes_new_static ("0123456789abcdef0123456789abcdef", 32);
    g_autoptr (GBytes) refused_body = NULL;
    g_autoptr (SoupMessage) refused =
      request_with_body ("POST", base, "/nothing", sent, &refused_body);

    g_assert_cmpuint (soup_message_get_status (refused), ==, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  }

  g_assert_true (role_test_stop (role, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (t->states.states->str, ==, "starting running stopping stopped");
}

/* After stop the port is closed: a client is refused, not left hanging. */
static void
test_stop_closes (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  g_autoptr (SoupSession) session = session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  Reply            reply = { NULL, NULL, FALSE };

  g_assert_true (dfly_role_start (role, NULL));
  base = base_url (role);
  g_assert_true (role_test_stop (role, NULL));

  url = g_strconcat (base, "/healthy", NULL);
  msg = soup_message_new ("GET", url);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_reply, &reply);
  g_assert_true (role_test_wait (reply_done, &reply, 5000));
  g_assert_error (reply.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&reply.error);
  g_assert_null (reply.body);
}

/* A port in use fails start() with an error naming it; the role is FAILED
 * and says why. */
static void
test_port_in_use (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) first =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "first");
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  g_autoptr (GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *where = NULL;
  g_autofree char *describe = NULL;

  g_assert_true (dfly_role_start (first, NULL));
  base = base_url (first);
  manager_settings (t, "manager")->port =
    (guint16) g_ascii_strtoull (strrchr (base, ':') + 1, NULL, 10);

  g_assert_false (dfly_role_start (role, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  where = g_strdup (base + strlen ("http://"));
  g_assert_nonnull (strstr (error->message, where));
  g_assert_cmpint (dfly_role_get_state (role), ==, DFLY_ROLE_STATE_FAILED);
  describe = dfly_role_describe (role);
  g_assert_cmpstr (describe, ==, error->message);
  g_assert_cmpstr (t->states.states->str, ==, "starting failed");

  /* A failed role has nothing to stop. */
  g_assert_true (role_test_stop (role, NULL));
  g_assert_cmpint (dfly_role_get_state (role), ==, DFLY_ROLE_STATE_FAILED);
  g_assert_true (role_test_stop (first, NULL));
}

static void
test_bad_listen (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  DflyManagerSettings *settings = manager_settings (t, "manager");
  g_autoptr (GError) error = NULL;

  g_free (settings->listen);
  settings->listen = g_strdup ("localhost");
  g_assert_false (dfly_role_start (role, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "manager.listen"));
  g_assert_cmpint (dfly_role_get_state (role), ==, DFLY_ROLE_STATE_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/manager/descriptor", test_descriptor);
  MANAGER_TEST_ADD ("/manager/healthy", test_healthy);
  MANAGER_TEST_ADD ("/manager/stop-closes", test_stop_closes);
  MANAGER_TEST_ADD ("/manager/port-in-use", test_port_in_use);
  MANAGER_TEST_ADD ("/manager/bad-listen", test_bad_listen);
  return g_test_run ();
}
