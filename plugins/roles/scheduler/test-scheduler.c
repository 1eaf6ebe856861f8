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
#include "dfly-scheduler-settings.h"

/* From dfly-scheduler-role.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType dfly_scheduler_role_get_type (void);

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

static void
emit_host (RoleTest *t, const char *id, guint interval)
{
  g_autoptr (DflyHostInfo) host = dfly_host_info_new (id);

  host->ip = g_strdup ("127.0.0.9");
  host->announce_interval = interval;
  dfly_bus_emit_host_announced (dfly_context_get_bus (t->context), host);
}

static void
emit_host_left (RoleTest *t, const char *id)
{
  g_autoptr (DflyHostInfo) host = dfly_host_info_new (id);

  dfly_bus_emit_host_left (dfly_context_get_bus (t->context), host);
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

/* Two roles that know nothing of each other meet on the bus. The peer
 * starts first, as a config listing it first would: its first announce
 * still reaches the scheduler. */
static void
test_peer_announces (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) peer = role_test_new_role (peer_plugin_query ()->get_type (),
                                                  t->context, "peer");
  g_autoptr (DflyRole) scheduler = NULL;
  RoleTestDescribe two = { NULL, "2 hosts" };

  g_assert_true (dfly_role_start (peer, NULL));
  scheduler = start_scheduler (t);
  emit_host (t, "127.0.0.9-other-seed", 60);
  two.role = scheduler;
  g_assert_true (role_test_wait (role_test_describe_is, &two, 2000));

  g_assert_true (role_test_stop (peer, NULL));
  assert_describe (scheduler, "1 host");
  emit_host_left (t, "127.0.0.9-other-seed");
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
  gint64 announced_at;

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

/* scheduler.max_hosts caps the table; known hosts are always refreshed. */
static void
test_cap (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) scheduler = NULL;
  g_autoptr (DflyConfig) bigger = role_test_config_new_for (t);
  TestLog log;

  test_log_start (&log, G_LOG_DOMAIN);
  ((DflySchedulerSettings *) dfly_scheduler_settings_get (t->context))->max_hosts = 2;
  scheduler = start_scheduler (t);
  emit_host (t, "a", 60);
  emit_host (t, "b", 60);

  emit_host (t, "c", 60);
  assert_describe (scheduler, "2 hosts");
  /* Warned once per time the table fills, not once per announce. */
  emit_host (t, "c", 60);
  emit_host (t, "d", 60);
  test_log_assert (&log, (const char *[]) { "host table full (2 hosts), ignoring c", NULL });

  /* A known host re-announcing is refreshed, not refused. */
  emit_host (t, "a", 60);
  assert_describe (scheduler, "2 hosts");

  /* A place freed is taken by the next newcomer. */
  emit_host_left (t, "a");
  assert_describe (scheduler, "1 host");
  emit_host (t, "c", 60);
  assert_describe (scheduler, "2 hosts");

  /* The cap is live: a reload raising it admits more at once. */
  emit_host (t, "d", 60);
  test_log_assert (&log, (const char *[]) { "host table full (2 hosts), ignoring d", NULL });
  bind_plugins (bigger);
  ((DflySchedulerSettings *) dfly_settings_get_values (
     dfly_config_get_settings (bigger, "scheduler")))->max_hosts = 3;
  dfly_context_set_config (t->context, bigger);
  emit_host (t, "d", 60);
  assert_describe (scheduler, "3 hosts");

  g_assert_true (role_test_stop (scheduler, NULL));
  test_log_stop (&log);
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
  emit_host (t, "", 60);
  test_log_assert (&log, (const char *[]) { "host announce without an id, ignoring", NULL });
  test_log_stop (&log);
  assert_describe (scheduler, "1 host");

  g_assert_true (role_test_stop (scheduler, NULL));
  emit_host (t, "b", 60);
  g_assert_true (dfly_role_start (scheduler, NULL));
  assert_describe (scheduler, "0 hosts");
  g_assert_true (role_test_stop (scheduler, NULL));
}

/* Dropped while running with hosts (and so a timer): nothing may fire after. */
static void
test_dispose_running (RoleTest *t, gconstpointer data)
{
  DflyRole *scheduler = start_scheduler (t);

  emit_host (t, "a", 1);
  g_assert_finalize_object (scheduler);
  emit_host (t, "b", 1);
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
  SCHEDULER_TEST_ADD ("/scheduler/unknown-and-stop", test_unknown_and_stop);
  SCHEDULER_TEST_ADD ("/scheduler/dispose-running", test_dispose_running);
  return g_test_run ();
}
