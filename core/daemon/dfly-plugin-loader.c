/* dfly-plugin-loader.c — DflyPluginLoader
 *
 * A plugin is refused, with one warning line and the daemon running on, when
 * its file is writable by others or not owned by root (when we are root), when
 * it cannot be opened, lacks dfly_plugin_query, was built for another ABI,
 * names itself differently from its file, repeats a name already loaded, or
 * does not implement the base type of its kind, or declares settings whose
 * table is unsound (dfly_config_section_validate). Modules are opened local (no
 * symbol leaks between plugins) and made resident once their type exists:
 * GTypes cannot be unregistered.
 */
#include "config.h"

#include <errno.h>
#include <gmodule.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfly-plugin-loader.h"

struct _DflyPluginLoader {
  GObject      parent_instance;
  DflyContext *context;
  GPtrArray   *records; /* DflyPluginRecord *, in load order */
  GHashTable  *loaded;  /* name → DflyPluginRecord * (borrowed) */
  GPtrArray   *dirs;    /* every directory searched, for errors */
};

G_DEFINE_FINAL_TYPE (DflyPluginLoader, dfly_plugin_loader, G_TYPE_OBJECT)

static void
plugin_record_free (DflyPluginRecord *record)
{
  g_free (record->name);
  g_free (record->version);
  g_free (record->license);
  g_free (record->description);
  g_free (record->path);
  g_free (record->reason);
  g_free (record);
}

static void
dfly_plugin_loader_finalize (GObject *object)
{
  DflyPluginLoader *self = DFLY_PLUGIN_LOADER (object);

  g_clear_pointer (&self->loaded, g_hash_table_unref);
  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_clear_pointer (&self->dirs, g_ptr_array_unref);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (dfly_plugin_loader_parent_class)->finalize (object);
}

static void
dfly_plugin_loader_class_init (DflyPluginLoaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_plugin_loader_finalize;
}

static void
dfly_plugin_loader_init (DflyPluginLoader *self)
{
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) plugin_record_free);
  self->loaded = g_hash_table_new (g_str_hash, g_str_equal);
  self->dirs = g_ptr_array_new_null_terminated (4, g_free, TRUE);
}

DflyPluginLoader *
dfly_plugin_loader_new (DflyContext *context)
{
  DflyPluginLoader *self = g_object_new (DFLY_TYPE_PLUGIN_LOADER, NULL);

  self->context = g_object_ref (context);
  return self;
}

/* Code we are about to run must not be replaceable by someone with less
 * privilege than us. */
static gboolean
check_file_trusted (const char *path, GError **error)
{
  struct stat st;
  uid_t       euid = geteuid ();

  if (stat (path, &st) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED, "cannot stat: %s",
                 g_strerror (errno));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED, "not a regular file");
    return FALSE;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "file is group- or world-writable (mode %04o)", (guint) (st.st_mode & 07777));
    return FALSE;
  }
  if (st.st_uid != 0 && (euid == 0 || st.st_uid != euid)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "file is owned by uid %u, not by root%s", (guint) st.st_uid,
                 euid == 0 ? "" : " or the user running dflyd");
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_descriptor (const DflyPluginDescriptor *desc, const char *file_name, GError **error)
{
  if (desc == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                         DFLY_PLUGIN_QUERY_SYMBOL " returned NULL");
    return FALSE;
  }
  if (desc->abi_major != DFLY_PLUGIN_ABI_MAJOR) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "wrong ABI: built for plugin ABI %u, this dflyd speaks %u", desc->abi_major,
                 DFLY_PLUGIN_ABI_MAJOR);
    return FALSE;
  }
  if (desc->struct_size < sizeof (DflyPluginDescriptor)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "descriptor is %u bytes, expected at least %u", desc->struct_size,
                 (guint) sizeof (DflyPluginDescriptor));
    return FALSE;
  }
  if (desc->name == NULL || g_strcmp0 (desc->name, file_name) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "name mismatch: descriptor says \"%s\" but the file is %s.so",
                 desc->name != NULL ? desc->name : "(null)", file_name);
    return FALSE;
  }
  if (dfly_plugin_kind_get_base_type (desc->kind) == G_TYPE_INVALID) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED, "unknown kind %d", (int) desc->kind);
    return FALSE;
  }
  if (desc->get_type == NULL || desc->version == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                         "descriptor lacks get_type or version");
    return FALSE;
  }
  if (desc->settings != NULL) {
    g_autoptr (GError) local = NULL;

    /* A section is named after its plugin: the daemon's own are taken. */
    for (const DflyConfigDaemonSection *s = dfly_config_get_daemon_sections (); s->name; s++) {
      if (g_str_equal (s->name, desc->name) && !s->plugin_keys) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                     "its settings would be section \"%s\", which is dflyd's own", s->name);
        return FALSE;
      }
    }

    if (!dfly_config_section_validate (desc->name, desc->settings, &local)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED, "bad settings table: %s",
                   local->message);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_type (GType type, DflyPluginKind kind, GError **error)
{
  GType base = dfly_plugin_kind_get_base_type (kind);

  if (!g_type_is_a (type, base) || G_TYPE_IS_ABSTRACT (type)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "wrong kind: type %s is not a concrete %s, as kind \"%s\" requires",
                 type != G_TYPE_INVALID ? g_type_name (type) : "(invalid)", g_type_name (base),
                 dfly_plugin_kind_to_string (kind));
    return FALSE;
  }
  return TRUE;
}

/* Opens and checks one file, filling record; FALSE with error on refusal. */
static gboolean
load_one (DflyPluginLoader *self, DflyPluginRecord *record, const char *file_name, GError **error)
{
  const DflyPluginDescriptor *desc;
  const DflyPluginRecord     *previous;
  DflyPluginQueryFunc         query = NULL;
  GModule                    *module;

  if (!check_file_trusted (record->path, error))
    return FALSE;
  module = g_module_open (record->path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (module == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED, "cannot open: %s",
                 g_module_error ());
    return FALSE;
  }
  if (!g_module_symbol (module, DFLY_PLUGIN_QUERY_SYMBOL, (gpointer *) &query) || query == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                         "missing symbol " DFLY_PLUGIN_QUERY_SYMBOL);
    g_module_close (module);
    return FALSE;
  }
  desc = query ();
  if (!check_descriptor (desc, file_name, error)) {
    g_module_close (module);
    return FALSE;
  }
  record->kind = desc->kind;
  record->version = g_strdup (desc->version);
  record->license = g_strdup (desc->license);
  record->description = g_strdup (desc->description);
  record->settings = desc->settings;
  previous = g_hash_table_lookup (self->loaded, desc->name);
  if (previous != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PLUGIN_REFUSED,
                 "duplicate name: \"%s\" is already loaded from %s", desc->name, previous->path);
    g_module_close (module);
    return FALSE;
  }
  /* From here the plugin registers a GType, which outlives any unload. */
  g_module_make_resident (module);
  record->type = desc->get_type ();
  if (!check_type (record->type, desc->kind, error)) {
    record->type = G_TYPE_INVALID;
    return FALSE;
  }
  return TRUE;
}

static void
consider_file (DflyPluginLoader *self, const char *dir, const char *entry)
{
  DflyPluginRecord *record = g_new0 (DflyPluginRecord, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *file_name = g_strndup (entry, strlen (entry) - strlen (".so"));
  /* Absolute, so dflyctl shows where the code really came from. */
  g_autofree char *abs_dir = g_canonicalize_filename (dir, NULL);

  record->path = g_build_filename (abs_dir, entry, NULL);
  record->name = g_strdup (file_name);
  g_ptr_array_add (self->records, record);
  if (!load_one (self, record, file_name, &error)) {
    record->reason = g_strdup (error->message);
    g_warning ("refusing plugin %s: %s", record->path, error->message);
    return;
  }
  record->loaded = TRUE;
  g_hash_table_insert (self->loaded, record->name, record);
  dfly_context_add_plugin_type (self->context, record->kind, record->name, record->type);
  g_info ("loaded %s plugin %s %s from %s", dfly_plugin_kind_to_string (record->kind), record->name,
          record->version, record->path);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
dfly_plugin_loader_load_dirs (DflyPluginLoader *self, const char *const *dirs)
{
  g_return_if_fail (DFLY_IS_PLUGIN_LOADER (self));

  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GDir) dir = g_dir_open (dirs[i], 0, &error);
    g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
    const char *entry;

    g_ptr_array_add (self->dirs, g_strdup (dirs[i]));
    if (dir == NULL) {
      g_info ("plugin directory %s skipped: %s", dirs[i], error->message);
      continue;
    }
    /* Sorted, so "which of two duplicates wins" does not depend on the file system. */
    while ((entry = g_dir_read_name (dir)) != NULL) {
      if (g_str_has_suffix (entry, ".so") && strlen (entry) > strlen (".so"))
        g_ptr_array_add (entries, g_strdup (entry));
    }
    g_ptr_array_sort (entries, compare_names);
    for (guint j = 0; j < entries->len; j++)
      consider_file (self, dirs[i], g_ptr_array_index (entries, j));
  }
}

GPtrArray *
dfly_plugin_loader_get_records (DflyPluginLoader *self)
{
  g_return_val_if_fail (DFLY_IS_PLUGIN_LOADER (self), NULL);
  return self->records;
}

const DflyPluginRecord *
dfly_plugin_loader_lookup (DflyPluginLoader *self, const char *name)
{
  g_return_val_if_fail (DFLY_IS_PLUGIN_LOADER (self), NULL);
  return g_hash_table_lookup (self->loaded, name);
}

gboolean
dfly_plugin_loader_bind_config (DflyPluginLoader *self, DflyConfig *config, GError **error)
{
  g_return_val_if_fail (DFLY_IS_PLUGIN_LOADER (self), FALSE);
  for (guint i = 0; i < self->records->len; i++) {
    const DflyPluginRecord *record = g_ptr_array_index (self->records, i);

    if (record->loaded && !dfly_config_add_plugin (config, record->name, record->settings, error))
      return FALSE;
  }
  return dfly_config_check_plugins (config, (const char *const *) self->dirs->pdata, error);
}
