/* test-engine.c — roles start in order, stop in reverse, and stay bounded */
#include "config.h"

#include <glib/gstdio.h>

#include "dfly-engine.h"
#include "test-log.h"

typedef struct {
  char             *dir;
  DflyContext      *context;
  DflyPluginLoader *loader;
  DflyEngine       *engine;
  GPtrArray        *events; /* "name:state" strings from role-state-changed */
  gboolean          stopped;
  TestLog           log;
} Fixture;

static void
copy_plugin (const char *dir, const char *variant)
{
  g_autofree char *src = g_strdup_printf (TEST_BUILDDIR "/plugins/.libs/test-%s.so", variant);
  g_autofree char *name = g_strdup_printf ("test-%s.so", variant);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize            length;

  g_assert_true (g_file_get_contents (src, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (dst, contents, length, NULL));
  g_assert_cmpint (g_chmod (dst, 0755), ==, 0);
}

static void
on_role_state (DflyBus *bus, const char *name, DflyRoleState state, Fixture *f)
{
  g_ptr_array_add (f->events, g_strdup_printf ("%s:%s", name, dfly_role_state_to_string (state)));
}

/* Sets up an engine running the given roles with the given grace period. */
static void
start_engine (Fixture *f, const char *const *roles, guint shutdown_timeout)
{
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  const char *dirs[] = { NULL, NULL };
  const char *variants[] = { "good", "other", "fail", "slow" };

  test_log_start (&f->log, "dflyd");
  f->dir = g_dir_make_tmp ("dfly-engine-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    copy_plugin (f->dir, variants[i]);
  g_strfreev (config->daemon.roles);
  config->daemon.roles = g_strdupv ((char **) roles);
  /* The test plugins are roles only: run without storage. */
  g_free (config->storage.backend);
  config->storage.backend = g_strdup ("");
  config->daemon.shutdown_timeout = shutdown_timeout;
  f->events = g_ptr_array_new_with_free_func (g_free);
  f->context = dfly_context_new (config);
  g_signal_connect (dfly_context_get_bus (f->context), DFLY_BUS_ROLE_STATE_CHANGED,
                    G_CALLBACK (on_role_state), f);
  f->loader = dfly_plugin_loader_new (f->context);
  dirs[0] = f->dir;
  dfly_plugin_loader_load_dirs (f->loader, dirs);
  f->engine = dfly_engine_new (f->context, f->loader, NULL);
  dfly_engine_start (f->engine);
}

static void
engine_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (dfly_engine_stop_finish (DFLY_ENGINE (source), result, NULL));
  f->stopped = TRUE;
}

/* Stops the engine and returns how long it took, in seconds. */
static double
stop_engine (Fixture *f)
{
  gint64 start = g_get_monotonic_time ();

  dfly_engine_stop_async (f->engine, engine_stopped, f);
  /* Bounded: the engine's own deadline must end this well within 30 s. */
  while (!f->stopped && g_get_monotonic_time () - start < 30 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (f->stopped);
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

static void
fixture_tear_down (Fixture *f)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *entry;

  test_log_stop (&f->log);
  g_signal_handlers_disconnect_by_data (dfly_context_get_bus (f->context), f);
  g_clear_object (&f->engine);
  g_clear_object (&f->loader);
  g_clear_object (&f->context);
  g_clear_pointer (&f->events, g_ptr_array_unref);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = g_build_filename (f->dir, entry, NULL);

    g_unlink (path);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
join_events (Fixture *f)
{
  g_ptr_array_add (f->events, NULL);
  g_ptr_array_set_size (f->events, f->events->len - 1);
  return g_strjoinv (" ", (char **) f->events->pdata);
}

static void
assert_role (GVariant *roles, guint index, const char *name, const char *state,
             const char *detail_glob)
{
  const char *n, *s, *d;

  g_variant_get_child (roles, index, "(&s&s&s)", &n, &s, &d);
  g_assert_cmpstr (n, ==, name);
  g_assert_cmpstr (s, ==, state);
  if (!g_pattern_match_simple (detail_glob, d))
    g_error ("detail of %s is \"%s\", expected \"%s\"", name, d, detail_glob);
}

static void
test_start_order_and_reverse_stop (void)
{
  const char *roles[] = { "test-good", "test-other", NULL };
  Fixture     f = { 0 };
  g_autoptr (GVariant) described = NULL;
  g_autofree char *events = NULL;

  start_engine (&f, roles, 10);
  described = dfly_engine_describe_roles (f.engine);
  g_assert_cmpuint (g_variant_n_children (described), ==, 2);
  assert_role (described, 0, "test-good", "running", "started 1 times");
  assert_role (described, 1, "test-other", "running", "started 1 times");
  stop_engine (&f);
  events = join_events (&f);
  g_assert_cmpstr (events, ==,
                   "test-good:starting test-good:running test-other:starting test-other:running "
                   "test-other:stopping test-other:stopped test-good:stopping test-good:stopped");
  fixture_tear_down (&f);
}

/* A failing or missing role is reported; the others run on. */
static void
test_failures_are_contained (void)
{
  const char *roles[] = { "test-fail", "no-such-role", "test-good", NULL };
  Fixture     f = { 0 };
  g_autoptr (GVariant) described = NULL;

  start_engine (&f, roles, 10);
  test_log_assert (
    &f.log, (const char *[]){
              "role test-fail failed to start: deliberate start failure",
              "role no-such-role cannot start: no plugin named \"no-such-role\" is loaded", NULL });
  described = dfly_engine_describe_roles (f.engine);
  g_assert_cmpuint (g_variant_n_children (described), ==, 3);
  assert_role (described, 0, "test-fail", "failed", "deliberate start failure");
  assert_role (described, 1, "no-such-role", "failed", "no plugin named*");
  assert_role (described, 2, "test-good", "running", "started 1 times");
  stop_engine (&f);
  g_clear_pointer (&described, g_variant_unref);
  described = dfly_engine_describe_roles (f.engine);
  assert_role (described, 0, "test-fail", "failed", "deliberate start failure");
  assert_role (described, 2, "test-good", "stopped", "");
  fixture_tear_down (&f);
}

/* A role that never stops is abandoned after the grace period, and the
 * roles started before it are still stopped. */
static void
test_grace_period_bounds_shutdown (void)
{
  const char      *roles[] = { "test-good", "test-slow", NULL };
  Fixture          f = { 0 };
  g_autofree char *events = NULL;
  double           took;

  start_engine (&f, roles, 1);
  took = stop_engine (&f);
  /* The abandoned role's cancelled stop may complete a little later. */
  for (guint i = 0; i < 100 && f.log.warnings->len < 2; i++)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  test_log_assert (&f.log, (const char *[]){ "role test-slow did not stop within 1s, abandoning it",
                                             "role test-slow failed to stop cleanly: *", NULL });
  /* Not a timing assertion on speed: only that the bound holds at all. */
  g_assert_cmpfloat (took, <, 10.0);
  events = join_events (&f);
  /* test-good is stopped after test-slow was abandoned; the cancelled
   * test-slow ends failed, never stopped. */
  g_assert_nonnull (strstr (events, "test-slow:stopping test-good:stopping"));
  g_assert_nonnull (strstr (events, "test-good:stopped"));
  g_assert_null (strstr (events, "test-slow:stopped"));
  g_assert_nonnull (strstr (events, "test-slow:failed"));
  fixture_tear_down (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/start-order-and-reverse-stop", test_start_order_and_reverse_stop);
  g_test_add_func ("/engine/failures-are-contained", test_failures_are_contained);
  g_test_add_func ("/engine/grace-period-bounds-shutdown", test_grace_period_bounds_shutdown);
  return g_test_run ();
}
