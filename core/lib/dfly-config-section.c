/* dfly-config-section.c — DflySettings: a plugin's section of dflyd.yaml as its struct
 *
 * The struct is allocated at the size the plugin's table gives and filled
 * key by key at the offsets it gives; freeing walks the same table, so a
 * plugin never frees its own settings.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly-error.h"
#include "dfly-config-private.h"

#define MAX_SECTION_KEYS 256

struct _DflySettings {
  const DflyConfigSection *section;
  gpointer                 values;
};

G_DEFINE_BOXED_TYPE (DflySettings, dfly_settings, dfly_settings_ref, dfly_settings_unref)

static void
settings_clear (gpointer data)
{
  DflySettings *settings = data;

  for (guint i = 0; i < settings->section->n_keys; i++)
    config_value_clear (&settings->section->keys[i], settings->values);
  g_free (settings->values);
}

DflySettings *
dfly_settings_ref (DflySettings *settings)
{
  g_return_val_if_fail (settings != NULL, NULL);
  return g_atomic_rc_box_acquire (settings);
}

void
dfly_settings_unref (DflySettings *settings)
{
  g_return_if_fail (settings != NULL);
  g_atomic_rc_box_release_full (settings, settings_clear);
}

gconstpointer
dfly_settings_get_values (DflySettings *settings)
{
  g_return_val_if_fail (settings != NULL, NULL);
  return settings->values;
}

const DflyConfigSection *
dfly_settings_get_section (DflySettings *settings)
{
  g_return_val_if_fail (settings != NULL, NULL);
  return settings->section;
}

gpointer
config_settings_get_mutable (DflySettings *settings)
{
  return settings->values;
}

/* The bytes a field of this type takes. */
static gsize
field_size (DflyConfigType type)
{
  switch (type) {
  case DFLY_CONFIG_STRING:
  case DFLY_CONFIG_IP:
  case DFLY_CONFIG_PATH:
  case DFLY_CONFIG_DIGEST:
    return sizeof (char *);
  case DFLY_CONFIG_NAMES:
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
    return sizeof (char **);
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_DURATION:
    return sizeof (guint);
  case DFLY_CONFIG_PORT:
    return sizeof (guint16);
  case DFLY_CONFIG_SIZE:
    return sizeof (guint64);
  case DFLY_CONFIG_LOG_LEVEL:
    return sizeof (int);
  case DFLY_CONFIG_RATIO:
    return sizeof (double);
  }
  return 0;
}

/* A struct of the table's defaults and, when raw is given, the file's values. */
DflySettings *
config_settings_new (const char *name, const DflyConfigSection *section, ConfigSection *raw,
                     const char *filename, GError **error)
{
  g_autoptr (DflySettings) settings = g_atomic_rc_box_new0 (DflySettings);

  settings->section = section;
  settings->values = g_malloc0 (section->size);
  for (guint i = 0; i < section->n_keys; i++) {
    if (!config_value_apply_default (&section->keys[i], name, settings->values, error))
      return NULL;
  }
  if (raw != NULL && !config_section_apply (name, section->keys, section->n_keys, raw, FALSE,
                                            settings->values, filename, error))
    return NULL;
  if (section->check != NULL && !section->check (settings->values, error)) {
    if (filename != NULL)
      g_prefix_error (error, "%s: %s: ", filename, name);
    else
      g_prefix_error (error, "%s: defaults: ", name);
    return NULL;
  }
  return g_steal_pointer (&settings);
}

static gboolean
check_key (const char *name, const DflyConfigSection *section, guint index, GError **error)
{
  const DflyConfigKey *key = &section->keys[index];

  if (key->name == NULL || !config_is_valid_name (key->name) || strchr (key->name, '-') != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: key %u: name is not [a-z0-9_]+",
                 name, index);
    return FALSE;
  }
  for (guint j = 0; j < index; j++) {
    if (g_str_equal (section->keys[j].name, key->name)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s.%s: key listed twice", name,
                   key->name);
      return FALSE;
    }
  }
  if ((guint) key->type > DFLY_CONFIG_ORIGINS || key->min > key->max ||
      (key->flags & ~(DFLY_CONFIG_LIVE | DFLY_CONFIG_SECRET)) != 0 || key->doc == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s.%s: bad type, range, flags or no doc", name, key->name);
    return FALSE;
  }
  if (key->offset > section->size || field_size (key->type) > section->size - key->offset) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s.%s: field lies outside the %" G_GSIZE_FORMAT "-byte settings", name, key->name,
                 section->size);
    return FALSE;
  }
  return TRUE;
}

gboolean
dfly_config_section_validate (const char *name, const DflyConfigSection *section, GError **error)
{
  g_autoptr (DflySettings) defaults = NULL;

  g_return_val_if_fail (name != NULL && section != NULL, FALSE);
  if (section->keys == NULL || section->n_keys == 0 || section->n_keys > MAX_SECTION_KEYS ||
      section->size == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: settings need 1 to %d keys and a size", name, MAX_SECTION_KEYS);
    return FALSE;
  }
  for (guint i = 0; i < section->n_keys; i++) {
    if (!check_key (name, section, i, error))
      return FALSE;
  }
  /* The defaults must be values the table itself accepts. */
  defaults = config_settings_new (name, section, NULL, NULL, error);
  return defaults != NULL;
}
