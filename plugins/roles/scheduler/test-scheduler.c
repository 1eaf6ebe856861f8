/* test-scheduler.c — the scheduler role's host table, fed by real peer and seed roles */
#include "config.h"

#include "../dfly-role-test.h"

/* A real peer role runs beside the scheduler on one bus. Each plugin source
 * defines the one exported dfly_plugin_query; the peer's is renamed here so
 * that the scheduler's, compiled alongside, stays the only one. */
#define dfly_plugin_query peer_plugin_query
#include "../peer/dfly-peer-role.c"
#undef dfly_plugin_query

/* The default scheduling algorithm, which the role needs, likewise. */
#define dfly_plugin_query default_plugin_query
#include "../../schedulers/default/dfly-parent-score.c"
#include "../../schedulers/default/dfly-parent-weights.c"
#include "../../schedulers/default/dfly-default-scheduler.c"
#undef dfly_plugin_query

#include "../../../tests/test-log.h"
#include "../../../tests/test-origin.h"
#include "dfly-scheduler-settings.h"

/* From dfly-scheduler-role.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_scheduler_role_get_type (void);

/* The role's and its algorithm's sections, bound as the loader binds them. */
static void
bind_plugins (DflyConfig *config)
{
  g_autoptr (GError) error = NULL;

  dfly_config_add_plugin (config, "scheduler", &dfly_scheduler_settings, &error);
  g_assert_no_error (error);
  dfly_config_add_plugin (config, "default", &dfly_default_settings, &error);
  g_assert_no_error (error);
}

static void
scheduler_setup (RoleTest *t, gconstpointer data)
{
  role_test_setup (t, data);
  bind_plugins (dfly_context_get_config (t->context));
}

#define SCHEDULER_TEST_ADD(path, func) \
  g_test_add ((path), RoleTest, "scheduler", scheduler_setup, (func), role_test_teardown)

/* The port the scheduler under test listens on: hosts reach it over the
 * protocol, as they do in a daemon (roles do not meet on the bus). */
static guint16 scheduler_port;

/* POSTs one message to the scheduler; TRUE if it answered 200. */
static gboolean
post_to_scheduler (const char *path, DflyMessageType type, const ProtobufCMessage *message)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", scheduler_port, path);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) reply = NULL;

  dfly_wire_post_async (session, url, type, message, NULL, role_test_on_result, &result);
  g_assert_true (role_test_wait (role_test_result_ready, &result, 5000));
  reply = dfly_wire_post_finish (session, result, NULL);
  return reply != NULL;
}

static gboolean
emit_host (RoleTest *t, const char *id, guint interval)
{
  g_autoptr (DflyHostInfo) host = dfly_host_info_new (id);
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                message = DFLY__V1__HOST__INIT;

  host->ip = g_strdup ("127.0.0.9");
  host->announce_interval = interval;
  dfly_wire_host_to_message (host, &message);
  request.host = &message;
  return post_to_scheduler ("/v1/announce-host", DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base);
}

static gboolean
emit_host_left (RoleTest *t, const char *id)
{
  Dfly__V1__LeaveHostRequest request = DFLY__V1__LEAVE_HOST_REQUEST__INIT;

  request.id = (char *) id;
  return post_to_scheduler ("/v1/leave-host", DFLY_MESSAGE_LEAVE_HOST_REQUEST, &request.base);
}

static void
assert_describe (DflyRole *role, const char *expected)
{
  g_autofree char *describe = dfly_role_describe (role);

  g_assert_cmpstr (describe, ==, expected);
}

static DflyRole *
start_scheduler (RoleTest *t)
{
  DflyRole *role = role_test_new_role (dfly_scheduler_role_get_type (), t->context, "scheduler");
  g_autoptr (GError) error = NULL;

  dfly_context_add_plugin_type (t->context, DFLY_PLUGIN_KIND_SCHEDULER, "default",
                                default_plugin_query ()->get_type ());
  if (scheduler_port == 0)
    scheduler_port = test_origin_free_port ();
  dfly_context_get_config (t->context)->scheduler.port = scheduler_port;
  g_assert_true (dfly_role_start (role, &error));
  g_assert_no_error (error);
  return role;
}

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "scheduler");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_ROLE);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_ROLE));
}

/* Two roles that know nothing of each other meet over the protocol, as in
 * an all-in-one daemon: the peer announces its host to the local
 * scheduler's port, and leaves when it stops. */
static void
test_peer_announces (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) peer =
    role_test_new_role (peer_plugin_query ()->get_type (), t->context, "peer");
  g_autoptr (DflyRole) scheduler = NULL;
  RoleTestDescribe two = { NULL, "2 hosts" };

  /* The peer uses its own daemon's scheduler when the daemon runs one. */
  g_strfreev (dfly_context_get_config (t->context)->daemon.roles);
  dfly_context_get_config (t->context)->daemon.roles =
    g_strdupv ((char *[]){ "scheduler", "peer", NULL });
  scheduler = start_scheduler (t);
  g_assert_true (dfly_role_start (peer, NULL));
  g_assert_true (emit_host (t, "127.0.0.9-other-seed", 60));
  two.role = scheduler;
  g_assert_true (role_test_wait (role_test_describe_is, &two, 2000));

  g_assert_true (role_test_stop (peer, NULL));
  two.expected = "1 host";
  g_assert_true (role_test_wait (role_test_describe_is, &two, 2000));
  g_assert_true (emit_host_left (t, "127.0.0.9-other-seed"));
  assert_describe (scheduler, "0 hosts");

  g_assert_true (role_test_stop (scheduler, NULL));
  g_assert_cmpstr (t->states.states->str, ==, "starting running stopping stopped");
  assert_describe (scheduler, "");
}

/* Silent for more than twice its interval: dropped; an announce refreshes. */
static void
test_expiry (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) scheduler = start_scheduler (t);
  RoleTestDescribe one = { scheduler, "1 host" };
  gint64           announced_at;

  emit_host (t, "127.0.0.9-fast", 1);
  emit_host (t, "127.0.0.9-slow", 60);
  assert_describe (scheduler, "2 hosts");

  /* Refreshed after 1.5 s, so still there 3 s after the first announce,
   * when it would have expired unrefreshed. */
  role_test_wait (NULL, NULL, 1500);
  emit_host (t, "127.0.0.9-fast", 1);
  announced_at = g_get_monotonic_time ();
  role_test_wait (NULL, NULL, 1500);
  assert_describe (scheduler, "2 hosts");

  /* Then silent: gone after 2 s, within the 1 s check period and slack. */
  g_assert_true (role_test_wait (role_test_describe_is, &one, 5000));
  g_assert_cmpint (g_get_monotonic_time () - announced_at, >, 2 * G_USEC_PER_SEC);

  g_assert_true (role_test_stop (scheduler, NULL));
}

/* The role's info lines and messages that match a glob, for tests to see
 * who joined and who made room. */
typedef struct {
  const char *const *globs; /* NULL-terminated */
  GPtrArray         *lines;
  guint              handler_id;
} InfoLog;

static void
info_log_capture (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  InfoLog *log = data;

  for (const char *const *glob = log->globs; *glob != NULL; glob++) {
    if (g_pattern_match_simple (*glob, message)) {
      g_ptr_array_add (log->lines, g_strdup (message));
      return;
    }
  }
}

static void
info_log_start (InfoLog *log, const char *const *globs)
{
  log->globs = globs;
  log->lines = g_ptr_array_new_with_free_func (g_free);
  log->handler_id =
    g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE, info_log_capture, log);
}

static void
info_log_stop (InfoLog *log)
{
  g_log_remove_handler (G_LOG_DOMAIN, log->handler_id);
  g_clear_pointer (&log->lines, g_ptr_array_unref);
}

/* The lines so far joined by "; ", and forgets them. */
static char *
info_log_take (InfoLog *log)
{
  char *joined;

  g_ptr_array_add (log->lines, NULL);
  joined = g_strjoinv ("; ", (char **) log->lines->pdata);
  g_ptr_array_set_size (log->lines, 0);
  return joined;
}

static void
info_log_assert (InfoLog *log, const char *expected)
{
  g_autofree char *lines = info_log_take (log);

  g_assert_cmpstr (lines, ==, expected);
}

/* scheduler.max_hosts caps the table: a newcomer takes the place of the
 * host silent the longest; a known host re-announcing is refreshed. */
static void
test_cap (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) scheduler = NULL;
  g_autoptr (DflyConfig) bigger = role_test_config_new_for (t);
  InfoLog room;

  info_log_start (&room, (const char *[]){ "*room*", NULL });
  ((DflySchedulerSettings *) dfly_scheduler_settings_get (t->context))->max_hosts = 2;
  scheduler = start_scheduler (t);
  emit_host (t, "a", 60);
  emit_host (t, "b", 60);

  emit_host (t, "c", 60);
  assert_describe (scheduler, "2 hosts");
  info_log_assert (&room, "host table full (2 hosts): the hosts silent the longest make room for "
                          "newcomers; host a, silent for 0 s, makes room for c");
  /* Said once per time the table fills, not once per announce. */
  emit_host (t, "d", 60);
  info_log_assert (&room, "host b, silent for 0 s, makes room for d");

  /* A known host re-announcing is refreshed, not evicted, and so the one
   * silent the longest is now the other. */
  emit_host (t, "c", 60);
  assert_describe (scheduler, "2 hosts");
  emit_host (t, "a", 60);
  info_log_assert (&room, "host d, silent for 0 s, makes room for a");

  /* A place freed is taken without evicting anyone. */
  emit_host_left (t, "a");
  assert_describe (scheduler, "1 host");
  emit_host (t, "b", 60);
  assert_describe (scheduler, "2 hosts");
  info_log_assert (&room, "");

  /* The cap is live: a reload raising it admits more at once. */
  bind_plugins (bigger);
  ((DflySchedulerSettings *) dfly_settings_get_values (
     dfly_config_get_settings (bigger, "scheduler")))
    ->max_hosts = 3;
  dfly_context_set_config (t->context, bigger);
  emit_host (t, "d", 60);
  assert_describe (scheduler, "3 hosts");
  info_log_assert (&room, "");

  g_assert_true (role_test_stop (scheduler, NULL));
  info_log_stop (&room);
}

typedef struct {
  SoupSession *session;
  guint        sent, done, failed, total;
  guint        interval;
} Flood;

static gboolean flood_next (gpointer data);

static void
on_flood_posted (GObject *source, GAsyncResult *result, gpointer data)
{
  Flood       *flood = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GBytes) reply =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  flood->done++;
  if (reply == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    flood->failed++;
  /* Once the connection is back in the session's pool. */
  g_idle_add (flood_next, flood);
}

static gboolean
flood_next (gpointer data)
{
  Flood           *flood = data;
  g_autofree char *id = NULL;
  g_autofree char *url = NULL;
  g_autoptr (DflyHostInfo) host = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) frame = NULL;
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                message = DFLY__V1__HOST__INIT;

  if (flood->sent == flood->total)
    return G_SOURCE_REMOVE;
  id = g_strdup_printf ("10.%u.%u.%u-fake", flood->sent >> 16, (flood->sent >> 8) & 0xff,
                        flood->sent & 0xff);
  host = dfly_host_info_new (id);
  host->ip = g_strdup ("127.0.0.9");
  host->port = 9;
  host->type = DFLY_HOST_TYPE_SUPER;
  host->announce_interval = flood->interval;
  dfly_wire_host_to_message (host, &message);
  request.host = &message;
  url = g_strdup_printf ("http://127.0.0.1:%u/v1/announce-host", scheduler_port);
  flood->sent++;
  frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base);
  msg = soup_message_new (SOUP_METHOD_POST, url);
  soup_message_set_request_body_from_bytes (msg, "application/x-dfly-frame", frame);
  /* libsoup sends a POST on a new connection unless it may be repeated:
   * a few connections carry the whole flood. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  soup_session_send_and_read_async (flood->session, msg, G_PRIORITY_DEFAULT, NULL, on_flood_posted,
                                    flood);
  return G_SOURCE_REMOVE;
}

static gboolean
flood_done (gpointer data)
{
  Flood *flood = data;

  return flood->done == flood->total;
}

/* Announces total fake seed hosts, a few at a time; returns how many the
 * scheduler refused. */
static guint
flood_hosts (guint total, guint interval)
{
  Flood flood = {
    soup_session_new_with_options ("max-conns-per-host", 8, NULL), 0, 0, 0, total, interval
  };

  for (guint i = 0; i < 8; i++)
    flood_next (&flood);
  g_assert_true (role_test_wait (flood_done, &flood, 600 * 1000));
  /* The last answers' idles, which find nothing left to send. */
  role_test_flush ();
  g_object_unref (flood.session);
  return flood.failed;
}

static gboolean
has_lines (gpointer data)
{
  return ((InfoLog *) data)->lines->len > 0;
}

/* 10,000 fake hosts do not lock out real ones: those announcing a
 * nonsense interval are refused, the rest fill the table, and a real host
 * coming after them takes the place of one. */
static void
test_fake_hosts (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) peer =
    role_test_new_role (peer_plugin_query ()->get_type (), t->context, "peer");
  g_autoptr (DflyRole) scheduler = NULL;
  RoleTestDescribe full = { NULL, "10000 hosts" };
  g_autofree char *joined = NULL;
  InfoLog          real;

  info_log_start (&real,
                  (const char *[]){ "host 127.0.0.1-dfly-test joined*", "host table full*", NULL });
  g_strfreev (dfly_context_get_config (t->context)->daemon.roles);
  dfly_context_get_config (t->context)->daemon.roles =
    g_strdupv ((char *[]){ "scheduler", "peer", NULL });
  scheduler = start_scheduler (t);
  full.role = scheduler;

  g_assert_cmpuint (flood_hosts (100, G_MAXUINT32), ==, 100);
  assert_describe (scheduler, "0 hosts");
  g_assert_cmpuint (flood_hosts (10000, 3600), ==, 0);
  g_assert_true (role_test_wait (role_test_describe_is, &full, 5000));
  info_log_assert (&real, "");

  /* The real host arrives: it gets in, and the table stays at its cap. */
  g_assert_true (dfly_role_start (peer, NULL));
  g_assert_true (role_test_wait (has_lines, &real, 5000));
  joined = info_log_take (&real);
  g_assert_true (g_pattern_match_simple ("host table full (10000 hosts): *; "
                                         "host 127.0.0.1-dfly-test joined*",
                                         joined));
  assert_describe (scheduler, "10000 hosts");

  g_assert_true (role_test_stop (peer, NULL));
  g_assert_true (role_test_stop (scheduler, NULL));
  info_log_stop (&real);
}

/* Unknown and malformed messages change nothing; stop forgets everything. */
static void
test_unknown_and_stop (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) scheduler = start_scheduler (t);
  TestLog log;

  test_log_start (&log, G_LOG_DOMAIN);
  emit_host (t, "a", 60);
  emit_host_left (t, "never-seen");
  assert_describe (scheduler, "1 host");
  /* The service refuses an announce without an id (400): the role never sees it. */
  g_assert_false (emit_host (t, "", 60));
  test_log_stop (&log);
  assert_describe (scheduler, "1 host");

  g_assert_true (role_test_stop (scheduler, NULL));
  g_assert_false (emit_host (t, "b", 60)); /* nothing listens */
  g_assert_true (dfly_role_start (scheduler, NULL));
  assert_describe (scheduler, "0 hosts");
  g_assert_true (role_test_stop (scheduler, NULL));
}

/* Dropped while running with hosts (and so a timer): nothing may fire after. */
static void
test_dispose_running (RoleTest *t, gconstpointer data)
{
  DflyRole *scheduler = start_scheduler (t);

  g_assert_true (emit_host (t, "a", 1));
  g_assert_finalize_object (scheduler);
  g_assert_false (emit_host (t, "b", 1)); /* nothing listens */
  role_test_wait (NULL, NULL, 1200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/descriptor", test_descriptor);
  SCHEDULER_TEST_ADD ("/scheduler/peer-announces", test_peer_announces);
  SCHEDULER_TEST_ADD ("/scheduler/expiry", test_expiry);
  SCHEDULER_TEST_ADD ("/scheduler/cap", test_cap);
  SCHEDULER_TEST_ADD ("/scheduler/fake-hosts", test_fake_hosts);
  SCHEDULER_TEST_ADD ("/scheduler/unknown-and-stop", test_unknown_and_stop);
  SCHEDULER_TEST_ADD ("/scheduler/dispose-running", test_dispose_running);
  return g_test_run ();
}
