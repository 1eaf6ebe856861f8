/* dfly-dbus-service.c — DflyDbusService: the control interface of dflyd
 *
 * Methods dispatch from one table; handlers are thin and call into the
 * engine. DFLY_ERROR codes travel as org.dfly.Error.* names (registered by
 * dfly_error_quark), so dflyctl gets the same code back.
 */
#include "config.h"

#include <unistd.h>

#include "dfly-dbus-interface.h"
#include "dfly-dbus-service.h"

struct _DflyDbusService {
  GObject          parent_instance;
  DflyEngine      *engine;
  GDBusConnection *connection;
  guint            registration_id;
  guint            owner_id;
};

G_DEFINE_FINAL_TYPE (DflyDbusService, dfly_dbus_service, G_TYPE_OBJECT)

enum { SIGNAL_NAME_LOST, N_SIGNALS };
static guint signals[N_SIGNALS];

/* D-Bus strings must be UTF-8; file names, dlerror() text and what plugins
 * say need not be. Every "s" we send goes through here (freed with the
 * reply's builder pool below). */
static const char *
valid_utf8 (GPtrArray *pool, const char *text)
{
  if (text == NULL)
    return "";
  if (g_utf8_validate (text, -1, NULL))
    return text;
  g_ptr_array_add (pool, g_utf8_make_valid (text, -1));
  return g_ptr_array_index (pool, pool->len - 1);
}

typedef GVariant *(*MethodHandler) (DflyDbusService *self, GVariant *parameters,
                                    GError **error);

static GVariant *
handle_get_status (DflyDbusService *self, GVariant *parameters, GError **error)
{
  DflyContext *context = dfly_engine_get_context (self->engine);
  gint64 uptime = (g_get_monotonic_time () - dfly_context_get_start_time (context)) /
                  G_USEC_PER_SEC;
  const char *config_path = dfly_engine_get_config_path (self->engine);
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "version", "s", PACKAGE_VERSION);
  g_variant_dict_insert (&dict, "pid", "u", (guint32) getpid ());
  g_variant_dict_insert (&dict, "uptime-seconds", "t", (guint64) uptime);
  g_variant_dict_insert (&dict, "config-path", "s", valid_utf8 (pool, config_path));
  g_variant_dict_insert_value (&dict, "roles", dfly_engine_describe_roles (self->engine));
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&dict));
}

static GVariant *
handle_list_plugins (DflyDbusService *self, GVariant *parameters, GError **error)
{
  GPtrArray *records = dfly_plugin_loader_get_records (dfly_engine_get_loader (self->engine));
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssssss)"));
  for (guint i = 0; i < records->len; i++) {
    const DflyPluginRecord *record = g_ptr_array_index (records, i);

    g_variant_builder_add (&builder, "(ssssss)", valid_utf8 (pool, record->name),
                           record->kind != 0 ? dfly_plugin_kind_to_string (record->kind) : "",
                           valid_utf8 (pool, record->version), valid_utf8 (pool, record->path),
                           record->loaded ? "loaded" : "refused", valid_utf8 (pool, record->reason));
  }
  return g_variant_new ("(@a(ssssss))", g_variant_builder_end (&builder));
}

static GVariant *
handle_reload (DflyDbusService *self, GVariant *parameters, GError **error)
{
  g_autoptr (GPtrArray) changes = dfly_engine_reload (self->engine, error);

  if (changes == NULL)
    return NULL;
  g_ptr_array_add (changes, NULL);
  return g_variant_new ("(^as)", (char **) changes->pdata);
}

static const struct {
  const char    *name;
  MethodHandler  handler;
} method_table[] = {
  { "GetStatus", handle_get_status },
  { "ListPlugins", handle_list_plugins },
  { "Reload", handle_reload },
};

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  DflyDbusService *self = user_data;

  for (guint i = 0; i < G_N_ELEMENTS (method_table); i++) {
    g_autoptr (GError) error = NULL;
    GVariant *reply;

    if (strcmp (method_table[i].name, method_name) != 0)
      continue;
    g_debug ("%s called %s", sender, method_name);
    reply = method_table[i].handler (self, parameters, &error);
    if (reply == NULL)
      g_dbus_method_invocation_return_gerror (invocation, error);
    else
      g_dbus_method_invocation_return_value (invocation, reply);
    return;
  }
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                         "no method %s", method_name);
}

static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };

static void
dfly_dbus_service_dispose (GObject *object)
{
  DflyDbusService *self = DFLY_DBUS_SERVICE (object);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->registration_id != 0) {
    g_dbus_connection_unregister_object (self->connection, self->registration_id);
    self->registration_id = 0;
  }
  g_clear_object (&self->connection);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (dfly_dbus_service_parent_class)->dispose (object);
}

static void
dfly_dbus_service_class_init (DflyDbusServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_dbus_service_dispose;
  signals[SIGNAL_NAME_LOST] = g_signal_new ("name-lost", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
}

static void
dfly_dbus_service_init (DflyDbusService *self)
{
}

DflyDbusService *
dfly_dbus_service_new (DflyEngine *engine)
{
  DflyDbusService *self = g_object_new (DFLY_TYPE_DBUS_SERVICE, NULL);

  self->engine = g_object_ref (engine);
  return self;
}

static void
name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("owning %s", name);
}

static void
name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_NAME_LOST], 0);
}

gboolean
dfly_dbus_service_export (DflyDbusService *self, GDBusConnection *connection, GError **error)
{
  g_return_val_if_fail (DFLY_IS_DBUS_SERVICE (self), FALSE);
  g_return_val_if_fail (self->connection == NULL, FALSE);

  /* Make sure the org.dfly.Error.* names are registered before any reply. */
  (void) DFLY_ERROR;
  self->connection = g_object_ref (connection);
  self->registration_id = g_dbus_connection_register_object (
    connection, DFLY_DBUS_PATH, (GDBusInterfaceInfo *) &dfly_daemon1_interface, &vtable, self,
    NULL, error);
  if (self->registration_id == 0)
    return FALSE;
  self->owner_id = g_bus_own_name_on_connection (connection, DFLY_DBUS_NAME,
                                                 G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                 name_acquired, name_lost, self, NULL);
  return TRUE;
}
