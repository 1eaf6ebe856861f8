/* test-manager.c — the manager role's REST API, over real HTTP on loopback */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "../dfly-role-test.h"
#include "dfly-manager-api.h"
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

/* Removes a state directory and the store's files in it. */
static void
state_dir_remove (char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree char *file = g_build_filename (dir, name, NULL);

    g_assert_cmpint (g_unlink (file), ==, 0);
  }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
}

/* The role fixture with the manager's section bound, as the loader binds
 * it, under the names the tests give their roles; its port is 0 (a free
 * one), and the state directory (where the store's file goes) a temporary
 * one, removed with the context. */
static void
manager_setup (RoleTest *t, gconstpointer data)
{
  const char *const names[] = { "manager", "first" };
  DflyConfig       *config;

  role_test_setup (t, data);
  config = dfly_context_get_config (t->context);
  g_free (config->daemon.state_dir);
  config->daemon.state_dir = role_test_dir_new ();
  g_object_set_data_full (G_OBJECT (t->context), "test-state-dir",
                          g_strdup (config->daemon.state_dir), (GDestroyNotify) state_dir_remove);
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

/* A JSON request: status and parsed reply (NULL for an empty one). */
static guint
call_json (const char *method, const char *base, const char *path, const char *json,
           JsonNode **reply)
{
  g_autoptr (GBytes) sent = json != NULL ? g_bytes_new (json, strlen (json)) : NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = request_with_body (method, base, path, sent, &body);

  *reply = NULL;
  if (g_bytes_get_size (body) > 0) {
    g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

    g_assert_cmpstr (
      soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL), ==,
      "application/json");
    *reply = json_from_string (text, NULL);
    g_assert_nonnull (*reply);
  }
  return soup_message_get_status (msg);
}

/* An error reply: its status, and the field it names (or none). */
static void
assert_error (guint status, JsonNode *reply, guint expected, const char *field)
{
  JsonObject *object;

  g_assert_cmpuint (status, ==, expected);
  g_assert_nonnull (reply);
  object = json_node_get_object (reply);
  g_assert_true (json_object_has_member (object, "message"));
  g_assert_cmpstr (json_object_get_string_member (object, "field"), ==, field);
}

/* Clusters are created, listed, changed and removed over REST; schedulers
 * register (the same host again is the same record) and keep alive; what
 * is malformed or out of bounds is refused with the field at fault and
 * writes nothing. */
static void
test_api (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  g_autoptr (GError) error = NULL;
  g_autofree char *base = NULL;
  const char      *scheduler =
    "{\"hostname\":\"s1\",\"ip\":\"127.0.0.1\",\"port\":8002,\"scheduler_cluster_id\":1}";
  JsonNode   *reply;
  JsonObject *object;
  guint       status;

  g_assert_true (dfly_role_start (role, &error));
  base = base_url (role);

  status = call_json ("POST", base, "/api/v1/scheduler-clusters", "{\"name\":\"east\"}", &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_CREATED);
  object = json_node_get_object (reply);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "east");
  json_node_unref (reply);

  status = call_json ("POST", base, "/api/v1/scheduler-clusters", "{\"name\":\"east\"}", &reply);
  assert_error (status, reply, SOUP_STATUS_CONFLICT, "name");
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/scheduler-clusters", "{\"name\":", &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, NULL);
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/scheduler-clusters", "[1, 2]", &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, NULL);
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/scheduler-clusters",
                      "{\"name\":\"w\",\"config\":\"big\"}", &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, "config");
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/scheduler-clusters", "{\"bio\":\"no name\"}", &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, "name");
  json_node_unref (reply);

  status = call_json ("POST", base, "/api/v1/schedulers", scheduler, &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  object = json_node_get_object (reply);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "active");
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/schedulers", scheduler, &reply);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (reply), "id"), ==, 1);
  json_node_unref (reply);
  status = call_json (
    "POST", base, "/api/v1/schedulers",
    "{\"hostname\":\"s2\",\"ip\":\"127.0.0.2\",\"port\":8002,\"scheduler_cluster_id\":9}", &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, "scheduler_cluster_id");
  json_node_unref (reply);

  status = call_json ("POST", base, "/api/v1/schedulers/1/keepalive", NULL, &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_NO_CONTENT);
  g_assert_null (reply);
  status = call_json ("POST", base, "/api/v1/schedulers/2/keepalive", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);
  status = call_json ("POST", base, "/api/v1/scheduler-clusters/1/keepalive", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);

  status = call_json ("GET", base, "/api/v1/schedulers?scheduler_cluster_id=1", NULL, &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (reply)), ==, 1);
  json_node_unref (reply);
  status = call_json ("GET", base, "/api/v1/schedulers?scheduler_cluster_id=2", NULL, &reply);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (reply)), ==, 0);
  json_node_unref (reply);
  status = call_json ("GET", base, "/api/v1/schedulers?hostname=s1", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, "hostname");
  json_node_unref (reply);

  status =
    call_json ("PATCH", base, "/api/v1/scheduler-clusters/1", "{\"bio\":\"the east\"}", &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "bio"), ==,
                   "the east");
  json_node_unref (reply);
  status = call_json ("DELETE", base, "/api/v1/scheduler-clusters/1", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_CONFLICT, NULL);
  json_node_unref (reply);
  status = call_json ("DELETE", base, "/api/v1/schedulers/1", NULL, &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_NO_CONTENT);
  status = call_json ("DELETE", base, "/api/v1/scheduler-clusters/1", NULL, &reply);
  g_assert_cmpuint (status, ==, SOUP_STATUS_NO_CONTENT);
  status = call_json ("GET", base, "/api/v1/scheduler-clusters/1", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);

  status = call_json ("GET", base, "/api/v1/nothing", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);
  status = call_json ("GET", base, "/api/v1/schedulers/0", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);
  status = call_json ("GET", base, "/api/v1/schedulers/99999999999999999999", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_NOT_FOUND, NULL);
  json_node_unref (reply);
  status = call_json ("PUT", base, "/api/v1/schedulers", NULL, &reply);
  assert_error (status, reply, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
  json_node_unref (reply);

  /* Nesting deeper than 32 levels is refused before json-glib recurses into it. */
  {
    g_autofree char *deep = g_strnfill (20000, '[');

    status = call_json ("POST", base, "/api/v1/scheduler-clusters", deep, &reply);
    assert_error (status, reply, SOUP_STATUS_BAD_REQUEST, NULL);
    g_assert_nonnull (
      strstr (json_object_get_string_member (json_node_get_object (reply), "message"),
              "at most 32 levels"));
    json_node_unref (reply);
  }

  /* A body over the cap is refused before it is read. */
  {
    g_autofree char *big = g_strnfill (DFLY_MANAGER_API_MAX_BODY + 1, ' ');

    status = call_json ("POST", base, "/api/v1/scheduler-clusters", big, &reply);
    assert_error (status, reply, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
    json_node_unref (reply);
  }

  g_assert_true (role_test_stop (role, &error));
  g_assert_no_error (error);
}

/* Records outlive the role: a restart finds them in the store's file. */
static void
test_api_restart (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role =
    role_test_new_role (dfly_manager_role_get_type (), t->context, "manager");
  g_autofree char *base = NULL;
  JsonNode        *reply;

  g_assert_true (dfly_role_start (role, NULL));
  base = base_url (role);
  g_assert_cmpuint (
    call_json ("POST", base, "/api/v1/seed-peer-clusters", "{\"name\":\"seeds\"}", &reply), ==,
    SOUP_STATUS_CREATED);
  json_node_unref (reply);
  g_assert_true (role_test_stop (role, NULL));
  g_clear_pointer (&base, g_free);

  g_assert_true (dfly_role_start (role, NULL));
  base = base_url (role);
  g_assert_cmpuint (call_json ("GET", base, "/api/v1/seed-peer-clusters", NULL, &reply), ==,
                    SOUP_STATUS_OK);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (reply)), ==, 1);
  json_node_unref (reply);
  g_assert_true (role_test_stop (role, NULL));
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
  MANAGER_TEST_ADD ("/manager/api", test_api);
  MANAGER_TEST_ADD ("/manager/api-restart", test_api_restart);
  return g_test_run ();
}
