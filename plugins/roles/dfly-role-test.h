/* dfly-role-test.h — what the role plugins' tests share
 *
 * A fixture with a context on a relocated cache directory that records what
 * the bus carries (hosts announced and left, one role's states), and a main
 * loop run with a bound. Header-only so that each plugin's test stays one
 * binary built in the plugin's own folder.
 */
#pragma once

#include <glib/gstdio.h>

#include "dfly/dfly.h"

/* A default config with this host's names fixed and paths relocated. */
static inline DflyConfig *
role_test_config_new (const char *cache_dir)
{
  DflyConfig *config = dfly_config_new_default ();

  g_free (config->daemon.cache_dir);
  config->daemon.cache_dir = g_strdup (cache_dir);
  g_free (config->host.hostname);
  config->host.hostname = g_strdup ("dfly-test");
  g_free (config->host.ip);
  config->host.ip = g_strdup ("127.0.0.1");
  config->scheduler.port = 0;
  config->upload.port = 0;
  /* Each test runs its roles itself: none is "configured" beside another
   * (a peer role beside a seed role would speak for both). */
  g_strfreev (config->daemon.roles);
  config->daemon.roles = g_new0 (char *, 1);
  return config;
}

typedef gboolean (*RoleTestCondition) (gpointer data);

static inline gboolean
role_test_on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until cond (data) holds or timeout_ms pass;
 * returns whether it holds. cond NULL just runs for timeout_ms. */
static inline gboolean
role_test_wait (RoleTestCondition cond, gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint    timeout_id = g_timeout_add (timeout_ms, role_test_on_timeout, &timed_out);

  while (!timed_out && (cond == NULL || !cond (data)))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  return cond == NULL || cond (data);
}

/* Dispatches whatever is ready now (idles, finished tasks) without waiting. */
static inline void
role_test_flush (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static inline gboolean
role_test_result_ready (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static inline void
role_test_on_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* dfly_role_stop_async() and its finish, on a bounded loop. */
static inline gboolean
role_test_stop (DflyRole *role, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  dfly_role_stop_async (role, NULL, role_test_on_result, &result);
  g_assert_true (role_test_wait (role_test_result_ready, &result, 5000));
  return dfly_role_stop_finish (role, result, error);
}

/* The states one role reported on the bus, as "starting running …". */
typedef struct {
  const char *role;
  GString    *states;
} RoleTestStates;

static inline void
role_test_on_state (DflyBus *bus, const char *role, DflyRoleState state, gpointer data)
{
  RoleTestStates *recorder = data;

  if (g_strcmp0 (role, recorder->role) != 0)
    return;
  if (recorder->states->len > 0)
    g_string_append_c (recorder->states, ' ');
  g_string_append (recorder->states, dfly_role_state_to_string (state));
}

/* Creates a role the way the engine does. */
static inline DflyRole *
role_test_new_role (GType type, DflyContext *context, const char *name)
{
  return g_object_new (type, "context", context, "name", name, NULL);
}

/* A temporary cache directory; role_test_dir_free removes it, empty. */
static inline char *
role_test_dir_new (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("dfly-role-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline void
role_test_dir_free (char *dir)
{
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
}

typedef struct {
  GPtrArray *array;
  guint      n;
} RoleTestCount;

/* Condition: at least n elements in array. */
static inline gboolean
role_test_count_reached (gpointer data)
{
  RoleTestCount *count = data;

  return count->array->len >= count->n;
}

typedef struct {
  DflyRole   *role;
  const char *expected;
} RoleTestDescribe;

/* Condition: the role describes itself as expected. */
static inline gboolean
role_test_describe_is (gpointer data)
{
  RoleTestDescribe *describe = data;
  g_autofree char  *text = dfly_role_describe (describe->role);

  return g_strcmp0 (text, describe->expected) == 0;
}

typedef struct {
  char          *cache_dir;
  DflyContext   *context;
  GPtrArray     *announced; /* every DflyHostInfo host-announced carried, in order */
  GPtrArray     *left;      /* and host-left */
  RoleTestStates states;    /* of the role named by the test's data */
  gulong         handlers[3];
} RoleTest;

static inline void
role_test_on_host (GPtrArray *array, DflyHostInfo *host)
{
  g_ptr_array_add (array, dfly_host_info_ref (host));
}

static inline void
role_test_on_host_announced (DflyBus *bus, DflyHostInfo *host, gpointer data)
{
  role_test_on_host (((RoleTest *) data)->announced, host);
}

static inline void
role_test_on_host_left (DflyBus *bus, DflyHostInfo *host, gpointer data)
{
  role_test_on_host (((RoleTest *) data)->left, host);
}

/* g_test_add() setup; data is the name of the role whose states to record. */
static inline void
role_test_setup (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyConfig) config = NULL;
  DflyBus *bus;

  t->cache_dir = role_test_dir_new ();
  config = role_test_config_new (t->cache_dir);
  t->context = dfly_context_new (config);
  t->announced = g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_host_info_unref);
  t->left = g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_host_info_unref);
  t->states.role = data;
  t->states.states = g_string_new (NULL);
  bus = dfly_context_get_bus (t->context);
  t->handlers[0] =
    g_signal_connect (bus, DFLY_BUS_HOST_ANNOUNCED, G_CALLBACK (role_test_on_host_announced), t);
  t->handlers[1] =
    g_signal_connect (bus, DFLY_BUS_HOST_LEFT, G_CALLBACK (role_test_on_host_left), t);
  t->handlers[2] = g_signal_connect (bus, DFLY_BUS_ROLE_STATE_CHANGED,
                                     G_CALLBACK (role_test_on_state), &t->states);
}

static inline void
role_test_teardown (RoleTest *t, gconstpointer data)
{
  DflyBus *bus = dfly_context_get_bus (t->context);

  for (guint i = 0; i < G_N_ELEMENTS (t->handlers); i++)
    g_clear_signal_handler (&t->handlers[i], bus);
  /* Every role is gone by now: nothing may still hold the context. */
  g_assert_finalize_object (t->context);
  t->context = NULL;
  g_ptr_array_unref (t->announced);
  g_ptr_array_unref (t->left);
  g_string_free (t->states.states, TRUE);
  role_test_dir_free (t->cache_dir);
}

/* A config like the fixture's first, for a reload. */
static inline DflyConfig *
role_test_config_new_for (RoleTest *t)
{
  return role_test_config_new (t->cache_dir);
}

#define ROLE_TEST_ADD(path, role, func) \
  g_test_add ((path), RoleTest, (role), role_test_setup, (func), role_test_teardown)
