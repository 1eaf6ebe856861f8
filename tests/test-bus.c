/* test-bus.c — the bus carries exact types, and two plugins talk through it */
#include "config.h"

#include <glib/gstdio.h>

#include "dfly-engine.h"
#include "test-origin.h"

/* Every signal declares its parameters with real GTypes, never pointers. */
static void
test_signal_types (void)
{
  const struct {
    const char *name;
    guint       n_params;
    GType       params[2];
  } expected[] = {
    { DFLY_BUS_TASK_REGISTERED, 1, { DFLY_TYPE_TASK_INFO } },
    { DFLY_BUS_TASK_FINISHED, 1, { DFLY_TYPE_TASK_INFO } },
    { DFLY_BUS_TASK_FAILED, 2, { DFLY_TYPE_TASK_INFO, G_TYPE_ERROR } },
    { DFLY_BUS_PIECE_FINISHED, 1, { DFLY_TYPE_PIECE_INFO } },
    { DFLY_BUS_HOST_ANNOUNCED, 1, { DFLY_TYPE_HOST_INFO } },
    { DFLY_BUS_HOST_LEFT, 1, { DFLY_TYPE_HOST_INFO } },
    { DFLY_BUS_ROLE_STATE_CHANGED, 2, { G_TYPE_STRING, DFLY_TYPE_ROLE_STATE } },
    { DFLY_BUS_CONFIG_RELOADED, 1, { DFLY_TYPE_CONFIG } },
  };
  g_autoptr (DflyBus) bus = dfly_bus_new ();

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    guint        id = g_signal_lookup (expected[i].name, DFLY_TYPE_BUS);
    GSignalQuery query;

    g_assert_cmpuint (id, !=, 0);
    g_signal_query (id, &query);
    g_assert_cmpuint (query.n_params, ==, expected[i].n_params);
    g_assert_true (query.return_type == G_TYPE_NONE);
    for (guint j = 0; j < query.n_params; j++) {
      GType type = query.param_types[j] & ~G_SIGNAL_TYPE_STATIC_SCOPE;

      g_assert_true (type == expected[i].params[j]);
      g_assert_true (type != G_TYPE_POINTER);
    }
  }
}

static void
on_task_failed (DflyBus *bus, DflyTaskInfo *task, GError *error, GPtrArray *seen)
{
  g_ptr_array_add (seen, g_strdup_printf ("%s %s %s", task->id, task->url, error->message));
}

/* A handler gets the very value emitted, by reference, with the GError intact. */
static void
test_emit_by_reference (void)
{
  g_autoptr (DflyBus) bus = dfly_bus_new ();
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new ("abc", "http://127.0.0.1/x");
  g_autoptr (GError) error = g_error_new_literal (DFLY_ERROR, DFLY_ERROR_SOURCE, "origin said 500");
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (bus, DFLY_BUS_TASK_FAILED, G_CALLBACK (on_task_failed), seen);
  dfly_bus_emit_task_failed (bus, task, error);
  g_assert_cmpuint (seen->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (seen, 0), ==, "abc http://127.0.0.1/x origin said 500");
  g_assert_cmpint (task->content_length, ==, -1);
}

typedef struct {
  GPtrArray *announced; /* host ids, in order */
} Watch;

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_host_announced (DflyBus *bus, DflyHostInfo *host, Watch *w)
{
  g_ptr_array_add (w->announced,
                   g_strdup_printf ("%s:%s", host->id, dfly_host_type_to_string (host->type)));
}

/* The in-tree roles, loaded as plugins, know nothing of each other: the
 * host's announce is a local event on the bus (heard here as the D-Bus
 * service hears it), and reaches the daemon's own scheduler over the
 * protocol, as a remote one would. Beside a seed role, the seed's engine
 * speaks for the host: one host, a seed; the peer role starts nothing. */
static void
test_two_plugins_talk (void)
{
  const char *plugin_dir = g_getenv ("DFLY_PLUGIN_BUILD_DIR");
  const char *dirs[] = { plugin_dir, NULL };
  const char *roles[] = { "scheduler", "seed", "peer", NULL };
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflyPluginLoader) loader = NULL;
  g_autoptr (DflyEngine) engine = NULL;
  g_autoptr (GVariant) described = NULL;
  g_autofree char *cache = NULL;
  Watch            w = { g_ptr_array_new_with_free_func (g_free) };
  const char      *detail;
  gboolean         timed_out = FALSE;
  g_autoptr (GError) error = NULL;
  guint timeout_id;

  if (plugin_dir == NULL) {
    g_test_skip ("DFLY_PLUGIN_BUILD_DIR is not set (run through make check)");
    g_ptr_array_unref (w.announced);
    return;
  }
  cache = g_dir_make_tmp ("dfly-bus-XXXXXX", NULL);
  g_assert_nonnull (cache);
  g_strfreev (config->daemon.roles);
  config->daemon.roles = g_strdupv ((char **) roles);
  g_free (config->daemon.cache_dir);
  config->daemon.cache_dir = g_strdup (cache);
  /* Free ports: tests run in parallel. The scheduler's must be known for
   * the engine to announce to it. */
  config->scheduler.port = test_origin_free_port ();
  config->upload.port = 0;
  context = dfly_context_new (config);
  g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_HOST_ANNOUNCED,
                    G_CALLBACK (on_host_announced), &w);
  loader = dfly_plugin_loader_new (context);
  dfly_plugin_loader_load_dirs (loader, dirs);
  /* As dflyd does: the plugins' sections are bound once they are loaded. */
  dfly_plugin_loader_bind_config (loader, config, &error);
  g_assert_no_error (error);
  engine = dfly_engine_new (context, loader, NULL);
  dfly_engine_start (engine);

  /* The announcers speak from the main loop; wait (bounded: the timer wakes
   * the loop even when nothing else is pending) for both. */
  timeout_id = g_timeout_add_seconds (10, set_flag, &timed_out);
  while (w.announced->len < 1 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  /* A second announce would come only after the 30 s interval. */
  g_assert_cmpuint (w.announced->len, ==, 1);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (w.announced, 0), "-seed:super"));
  /* The scheduler hears it over the protocol (one round trip on loopback). */
  while (!timed_out) {
    g_clear_pointer (&described, g_variant_unref);
    described = dfly_engine_describe_roles (engine);
    g_variant_get_child (described, 0, "(&s&s&s)", NULL, NULL, &detail);
    if (g_str_equal (detail, "1 host"))
      break;
    g_main_context_iteration (NULL, TRUE);
  }
  g_assert_cmpstr (detail, ==, "1 host");

  /* Stopping is bounded and ends with every role stopped. */
  {
    gboolean stopped = FALSE;

    dfly_engine_stop_async (engine, NULL, NULL);
    while (!stopped && !timed_out) {
      g_autoptr (GVariant) now = dfly_engine_describe_roles (engine);
      const char *state;

      g_variant_get_child (now, 0, "(&s&s&s)", NULL, &state, NULL);
      stopped = g_strcmp0 (state, "stopped") == 0;
      if (!stopped)
        g_main_context_iteration (NULL, TRUE);
    }
    g_assert_true (stopped);
  }
  if (!timed_out)
    g_source_remove (timeout_id);
  g_signal_handlers_disconnect_by_data (dfly_context_get_bus (context), &w);
  g_ptr_array_unref (w.announced);
  /* The storage keeps its index and task folder there until the context
   * goes (the roles hold it too). */
  g_clear_object (&engine);
  g_clear_object (&loader);
  g_clear_object (&context);
  test_origin_remove_tree (cache);
}

static void
on_config_reloaded (DflyBus *bus, DflyConfig *config, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static gpointer
emit_from_thread (gpointer data)
{
  g_autoptr (DflyConfig) config = dfly_config_new_default ();

  dfly_bus_emit_config_reloaded (data, config);
  return NULL;
}

/* An emit from a worker thread is caught, and no handler runs there. */
static void
test_emit_off_main_thread (void)
{
  g_autoptr (DflyBus) bus = dfly_bus_new ();
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  guint heard = 0;

  g_signal_connect (bus, DFLY_BUS_CONFIG_RELOADED, G_CALLBACK (on_config_reloaded), &heard);
  dfly_bus_emit_config_reloaded (bus, config);
  g_assert_cmpuint (heard, ==, 1);

  g_test_expect_message ("dfly", G_LOG_LEVEL_CRITICAL,
                         "config-reloaded emitted off the main thread, ignoring");
  g_thread_join (g_thread_new ("emitter", emit_from_thread, bus));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (heard, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus/signal-types", test_signal_types);
  g_test_add_func ("/bus/emit-by-reference", test_emit_by_reference);
  g_test_add_func ("/bus/emit-off-main-thread", test_emit_off_main_thread);
  g_test_add_func ("/bus/two-plugins-talk", test_two_plugins_talk);
  return g_test_run ();
}
