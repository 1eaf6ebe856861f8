/* dfly-engine.c — DflyEngine: the roles' life cycle and config reloads */
#include "config.h"

#include "dfly-engine.h"
#include "dfly-log.h"

/* One configured role; role is NULL when no plugin provides it. */
typedef struct {
  char     *name;
  DflyRole *role;
  char     *missing; /* why there is no role object */
} RoleSlot;

struct _DflyEngine {
  GObject           parent_instance;
  DflyContext      *context;
  DflyPluginLoader *loader;
  char             *config_path;
  GPtrArray        *slots; /* RoleSlot *, in start order */
};

G_DEFINE_FINAL_TYPE (DflyEngine, dfly_engine, G_TYPE_OBJECT)

static void
role_slot_free (RoleSlot *slot)
{
  g_free (slot->name);
  g_clear_object (&slot->role);
  g_free (slot->missing);
  g_free (slot);
}

static void
dfly_engine_finalize (GObject *object)
{
  DflyEngine *self = DFLY_ENGINE (object);

  g_clear_pointer (&self->slots, g_ptr_array_unref);
  g_clear_object (&self->loader);
  g_clear_object (&self->context);
  g_free (self->config_path);
  G_OBJECT_CLASS (dfly_engine_parent_class)->finalize (object);
}

static void
dfly_engine_class_init (DflyEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_engine_finalize;
}

static void
dfly_engine_init (DflyEngine *self)
{
  self->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) role_slot_free);
}

DflyEngine *
dfly_engine_new (DflyContext *context, DflyPluginLoader *loader, const char *config_path)
{
  DflyEngine *self = g_object_new (DFLY_TYPE_ENGINE, NULL);

  self->context = g_object_ref (context);
  self->loader = g_object_ref (loader);
  self->config_path = g_strdup (config_path);
  return self;
}

DflyContext *
dfly_engine_get_context (DflyEngine *self)
{
  return self->context;
}

DflyPluginLoader *
dfly_engine_get_loader (DflyEngine *self)
{
  return self->loader;
}

const char *
dfly_engine_get_config_path (DflyEngine *self)
{
  return self->config_path;
}

static RoleSlot *
make_slot (DflyEngine *self, const char *name)
{
  RoleSlot               *slot = g_new0 (RoleSlot, 1);
  const DflyPluginRecord *record = dfly_plugin_loader_lookup (self->loader, name);

  slot->name = g_strdup (name);
  if (record == NULL)
    slot->missing = g_strdup_printf ("no plugin named \"%s\" is loaded", name);
  else if (record->kind != DFLY_PLUGIN_KIND_ROLE)
    slot->missing = g_strdup_printf ("plugin \"%s\" is a %s, not a role", name,
                                     dfly_plugin_kind_to_string (record->kind));
  else
    slot->role = g_object_new (record->type, "context", self->context, "name", name, NULL);
  return slot;
}

/* The shared services roles use through the context: one object per
 * loaded source plugin, and the configured storage. A missing or failing
 * storage is logged; downloads then fail with a clear error. */
static void
start_services (DflyEngine *self)
{
  DflyConfig             *config = dfly_context_get_config (self->context);
  GPtrArray              *records = dfly_plugin_loader_get_records (self->loader);
  const DflyPluginRecord *record;
  g_autoptr (DflyStorage) storage = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < records->len; i++) {
    g_autoptr (DflySource) source = NULL;
    g_autofree char *schemes = NULL;

    record = g_ptr_array_index (records, i);
    if (!record->loaded || record->kind != DFLY_PLUGIN_KIND_SOURCE)
      continue;
    source = g_object_new (record->type, "context", self->context, "name", record->name, NULL);
    dfly_context_add_source (self->context, source);
    schemes = g_strjoinv (", ", (char **) dfly_source_get_schemes (source));
    g_info ("source %s handles %s", record->name, schemes);
  }

  if (config->storage.backend[0] == '\0') {
    g_info ("no storage configured: this daemon cannot download");
    return;
  }
  record = dfly_plugin_loader_lookup (self->loader, config->storage.backend);
  if (record == NULL || !record->loaded || record->kind != DFLY_PLUGIN_KIND_STORAGE) {
    g_warning ("storage %s is not available: %s", config->storage.backend,
               record == NULL    ? "no plugin by that name is loaded"
               : !record->loaded ? record->reason
                                 : "that plugin is not a storage");
    return;
  }
  storage = g_object_new (record->type, "context", self->context, "name", record->name, NULL);
  if (!dfly_storage_load (storage, &error)) {
    g_warning ("storage %s failed to load: %s", record->name, error->message);
    return;
  }
  dfly_context_set_storage (self->context, storage);
  g_info ("storage %s loaded", record->name);
}

void
dfly_engine_start (DflyEngine *self)
{
  DflyConfig *config = dfly_context_get_config (self->context);

  g_return_if_fail (self->slots->len == 0);
  start_services (self);
  for (guint i = 0; config->daemon.roles[i] != NULL; i++) {
    RoleSlot *slot = make_slot (self, config->daemon.roles[i]);
    g_autoptr (GError) error = NULL;

    g_ptr_array_add (self->slots, slot);
    if (slot->role == NULL) {
      g_warning ("role %s cannot start: %s", slot->name, slot->missing);
      continue;
    }
    g_info ("starting role %s", slot->name);
    if (!dfly_role_start (slot->role, &error)) {
      g_warning ("role %s failed to start: %s", slot->name, error->message);
      continue;
    }
    g_info ("role %s running", slot->name);
  }
}

/* Shutdown walks the slots from the last to the first, one at a time. When
 * the grace period is over, the role being waited for is cancelled and
 * abandoned, and each remaining role gets one more second: the whole
 * shutdown stays bounded even if several roles hang. */
typedef struct {
  DflyEngine   *engine;
  GCancellable *cancellable; /* of the role being waited for */
  guint         timeout_id;
  gboolean      overdue; /* the grace period is over */
  gint          next;    /* index of the next slot to stop */
  DflyRole     *current; /* the role being waited for (borrowed from its slot) */
  gboolean      done;
} StopData;

static void
stop_data_free (StopData *data)
{
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->engine);
  g_free (data);
}

static void stop_next (GTask *task);

static void
role_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  StopData   *data = g_task_get_task_data (task);
  DflyRole   *role = DFLY_ROLE (source);
  const char *name = dfly_component_get_name (DFLY_COMPONENT (role));
  g_autoptr (GError) error = NULL;

  if (!dfly_role_stop_finish (role, result, &error))
    g_warning ("role %s failed to stop cleanly: %s", name, error->message);
  else
    g_info ("role %s stopped", name);
  /* A role abandoned at the deadline may still finish later: ignore it then. */
  if (role == data->current && !data->done)
    stop_next (task);
}

static void
stop_next (GTask *task)
{
  StopData *data = g_task_get_task_data (task);

  data->current = NULL;
  while (data->next >= 0) {
    RoleSlot *slot = g_ptr_array_index (data->engine->slots, data->next--);

    if (slot->role == NULL || dfly_role_get_state (slot->role) != DFLY_ROLE_STATE_RUNNING)
      continue;
    g_info ("stopping role %s", slot->name);
    data->current = slot->role;
    g_clear_object (&data->cancellable);
    data->cancellable = g_cancellable_new ();
    dfly_role_stop_async (slot->role, data->cancellable, role_stopped, g_object_ref (task));
    return;
  }
  data->done = TRUE;
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_task_return_boolean (task, TRUE);
}

static gboolean
stop_deadline (gpointer user_data)
{
  GTask      *task = user_data;
  StopData   *data = g_task_get_task_data (task);
  const char *name = dfly_component_get_name (DFLY_COMPONENT (data->current));

  if (!data->overdue)
    g_warning ("role %s did not stop within %us, abandoning it", name,
               dfly_context_get_config (data->engine->context)->daemon.shutdown_timeout);
  else
    g_warning ("role %s did not stop within 1s after the grace period, abandoning it", name);
  data->overdue = TRUE;
  /* Cancelling may finish the abandoned role's stop at once: forget it first. */
  data->current = NULL;
  g_cancellable_cancel (data->cancellable);
  data->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, 1, stop_deadline,
                                                 g_object_ref (task), g_object_unref);
  stop_next (task);
  return G_SOURCE_REMOVE;
}

void
dfly_engine_stop_async (DflyEngine *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  StopData *data = g_new0 (StopData, 1);
  guint     timeout = dfly_context_get_config (self->context)->daemon.shutdown_timeout;

  data->engine = g_object_ref (self);
  data->next = (gint) self->slots->len - 1;
  g_task_set_task_data (task, data, (GDestroyNotify) stop_data_free);
  /* The timer holds a ref (stop_deadline uses the task after cancelling);
   * stop_next removes it before the task returns, so there is no cycle. */
  data->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, timeout, stop_deadline,
                                                 g_object_ref (task), g_object_unref);
  stop_next (task);
}

gboolean
dfly_engine_stop_finish (DflyEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

GPtrArray *
dfly_engine_reload (DflyEngine *self, GError **error)
{
  g_autoptr (DflyConfig) config = NULL;
  GPtrArray *changes;

  config = self->config_path != NULL ? dfly_config_load_file (self->config_path, error)
                                     : dfly_config_new_default ();
  if (config == NULL)
    return NULL;
  if (!dfly_plugin_loader_bind_config (self->loader, config, error))
    return NULL;
  changes = dfly_config_diff (dfly_context_get_config (self->context), config);
  for (guint i = 0; i < changes->len; i++)
    g_info ("config changed: %s", (const char *) g_ptr_array_index (changes, i));
  if (changes->len == 0)
    g_info ("config reloaded, nothing changed");
  dfly_config_keep_restart_keys (config, dfly_context_get_config (self->context));
  dfly_log_set_level (config->daemon.log_level);
  dfly_context_set_config (self->context, config);
  return changes;
}

GVariant *
dfly_engine_describe_roles (DflyEngine *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; i < self->slots->len; i++) {
    RoleSlot        *slot = g_ptr_array_index (self->slots, i);
    g_autofree char *detail = NULL;

    if (slot->role == NULL) {
      g_variant_builder_add (&builder, "(sss)", slot->name,
                             dfly_role_state_to_string (DFLY_ROLE_STATE_FAILED), slot->missing);
      continue;
    }
    /* A plugin's text may not be UTF-8, which D-Bus requires. */
    detail = dfly_role_describe (slot->role);
    if (!g_utf8_validate (detail, -1, NULL)) {
      char *valid = g_utf8_make_valid (detail, -1);

      g_free (detail);
      detail = valid;
    }
    g_variant_builder_add (&builder, "(sss)", slot->name,
                           dfly_role_state_to_string (dfly_role_get_state (slot->role)), detail);
  }
  return g_variant_builder_end (&builder);
}
