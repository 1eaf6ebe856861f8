/* test-role.c — tiny roles for testing the loader and the engine
 *
 * One source, built several times with a different VARIANT: a role that
 * works, one whose start fails, one whose stop never ends, descriptors
 * broken in each way the loader must refuse, and roles with settings: a
 * sound table, tables unsound in each way the loader must refuse, and a
 * sound one whose plugin is named after one of dflyd's own sections.
 */
#include "config.h"

#include <stddef.h>

#include <dfly/dfly.h>

#define VARIANT_GOOD      1
#define VARIANT_FAIL      2
#define VARIANT_SLOW      3
#define VARIANT_ABI       4
#define VARIANT_NOSYM     5
#define VARIANT_MISMATCH  6
#define VARIANT_WRONGKIND 7
#define VARIANT_SMALL     8
#define VARIANT_NULL      9
#define VARIANT_SETTINGS  10 /* a sound settings table */
#define VARIANT_OVERFLOW  11 /* a key's field ends past the struct */
#define VARIANT_TWICE     12 /* a key listed twice */
#define VARIANT_DEFAULT   13 /* a default out of its key's range */
#define VARIANT_CHECK     14 /* defaults the section's own check refuses */
#define VARIANT_OWN       15 /* sound, but the plugin takes the name of a section of dflyd's */

/* Each variant registers its own type name, and a copy of the same variant
 * loaded again from another path (tests do that) reuses the registered type:
 * GType names are process-wide while each copy of the code has its own
 * statics. */
typedef struct {
  DflyRole parent_instance;
  guint    starts;
} DflyTestRole;

typedef struct {
  DflyRoleClass parent_class;
} DflyTestRoleClass;

static void  dfly_test_role_class_init (DflyTestRoleClass *klass);
static GType dfly_test_role_get_type (void);

#define DFLY_TEST_ROLE(obj) \
  (G_TYPE_CHECK_INSTANCE_CAST ((obj), dfly_test_role_get_type (), DflyTestRole))

static GType
dfly_test_role_get_type (void)
{
  static const char type_name[] = "DflyTestRole_" PLUGIN_NAME;
  GType             type = g_type_from_name (type_name);

  if (type == G_TYPE_INVALID)
    type =
      g_type_register_static_simple (DFLY_TYPE_ROLE, type_name, sizeof (DflyTestRoleClass),
                                     (GClassInitFunc) (void (*) (void)) dfly_test_role_class_init,
                                     sizeof (DflyTestRole), NULL, G_TYPE_FLAG_FINAL);
  return type;
}

static gboolean
test_role_start (DflyRole *role, GError **error)
{
  DflyTestRole *self = DFLY_TEST_ROLE (role);

  self->starts++;
  if (VARIANT == VARIANT_FAIL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_IO, "deliberate start failure");
    return FALSE;
  }
  return TRUE;
}

/* The slow variant's stop ends only when cancelled, as a role stuck on I/O
 * would: the engine must give up on it at the deadline. */
static void
slow_stop_cancelled (GCancellable *cancellable, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;

  g_task_return_error_if_cancelled (task);
}

static void
test_role_stop_async (DflyRole *role, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (role, cancellable, callback, user_data);

  if (VARIANT == VARIANT_SLOW && cancellable != NULL) {
    g_cancellable_connect (cancellable, G_CALLBACK (slow_stop_cancelled), task, NULL);
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
test_role_stop_finish (DflyRole *role, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static char *
test_role_describe (DflyRole *role)
{
  return g_strdup_printf ("started %u times", DFLY_TEST_ROLE (role)->starts);
}

static void
dfly_test_role_class_init (DflyTestRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  role_class->start = test_role_start;
  role_class->stop_async = test_role_stop_async;
  role_class->stop_finish = test_role_stop_finish;
  role_class->describe = test_role_describe;
}

#if VARIANT >= VARIANT_SETTINGS
typedef struct {
  guint size;
  char *greeting;
} TestSettings;

static const DflyConfigKey keys[] = {
  { "size", DFLY_CONFIG_UINT, offsetof (TestSettings, size),
    VARIANT == VARIANT_DEFAULT ? "11" : "3", 1, 10, DFLY_CONFIG_LIVE, "a number" },
  { VARIANT == VARIANT_TWICE ? "size" : "greeting", DFLY_CONFIG_STRING,
    /* One byte past the struct's end. */
    VARIANT == VARIANT_OVERFLOW ? sizeof (TestSettings) - sizeof (char *) + 1
                                : offsetof (TestSettings, greeting),
    "hello", 0, 255, DFLY_CONFIG_RESTART, "a text" },
};

static gboolean
check_settings (gconstpointer values, GError **error)
{
  const TestSettings *settings = values;

  if (VARIANT == VARIANT_CHECK && settings->size < 5) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "size (%u) must be at least 5",
                 settings->size);
    return FALSE;
  }
  return TRUE;
}

static const DflyConfigSection test_settings = {
  .size = sizeof (TestSettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
  .check = check_settings,
};

DFLY_PLUGIN_DEFINE_WITH_SETTINGS (PLUGIN_NAME, DFLY_PLUGIN_KIND_ROLE, "1.0", "Apache-2.0",
                                  "a role with settings for tests", dfly_test_role_get_type,
                                  &test_settings)
#elif VARIANT == VARIANT_GOOD || VARIANT == VARIANT_FAIL || VARIANT == VARIANT_SLOW
DFLY_PLUGIN_DEFINE (PLUGIN_NAME, DFLY_PLUGIN_KIND_ROLE, "1.0", "Apache-2.0", "a role for tests",
                    dfly_test_role_get_type)
#elif VARIANT == VARIANT_NOSYM
G_MODULE_EXPORT GType dfly_test_plugin_get_type (void);
G_MODULE_EXPORT GType
dfly_test_plugin_get_type (void)
{
  return dfly_test_role_get_type ();
}
#elif VARIANT == VARIANT_NULL
G_MODULE_EXPORT const DflyPluginDescriptor *dfly_plugin_query (void);
G_MODULE_EXPORT const DflyPluginDescriptor *
dfly_plugin_query (void)
{
  return NULL;
}
#else
G_MODULE_EXPORT const DflyPluginDescriptor *dfly_plugin_query (void);
G_MODULE_EXPORT const DflyPluginDescriptor *
dfly_plugin_query (void)
{
  static const DflyPluginDescriptor descriptor = {
    .abi_major = VARIANT == VARIANT_ABI ? DFLY_PLUGIN_ABI_MAJOR + 1 : DFLY_PLUGIN_ABI_MAJOR,
    .struct_size = VARIANT == VARIANT_SMALL ? 16 : sizeof (DflyPluginDescriptor),
    .name = VARIANT == VARIANT_MISMATCH ? "another-name" : PLUGIN_NAME,
    .kind = VARIANT == VARIANT_WRONGKIND ? DFLY_PLUGIN_KIND_SOURCE : DFLY_PLUGIN_KIND_ROLE,
    .version = "1.0",
    .license = "Apache-2.0",
    .description = "a broken plugin for tests",
    .get_type = dfly_test_role_get_type,
  };
  return &descriptor;
}
#endif
