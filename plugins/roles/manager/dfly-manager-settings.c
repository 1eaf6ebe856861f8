/* dfly-manager-settings.c — the manager role's keys */
#include "config.h"

#include <stddef.h>

#include "dfly-manager-settings.h"

static const DflyConfigKey keys[] = {
  { "listen", DFLY_CONFIG_IP, offsetof (DflyManagerSettings, listen), "127.0.0.1", 0, 0,
    DFLY_CONFIG_RESTART, "the address the REST API listens on" },
  { "port", DFLY_CONFIG_PORT, offsetof (DflyManagerSettings, port), "8080", 0, G_MAXUINT16,
    DFLY_CONFIG_RESTART, "the REST API's TCP port; 0 picks a free one" },
  /* Secret: a URI may hold a password, which a reload must not log. */
  { "database", DFLY_CONFIG_STRING, offsetof (DflyManagerSettings, database), "\"\"", 0, 4096,
    DFLY_CONFIG_SECRET,
    "the store: an SQLite file, or a postgresql:// URI; empty: manager.db in the state "
    "directory" },
  { "keepalive_timeout", DFLY_CONFIG_UINT, offsetof (DflyManagerSettings, keepalive_timeout), "30",
    1, 3600, DFLY_CONFIG_RESTART,
    "seconds a scheduler or seed peer may be silent and still be shown active" },
};

gboolean
dfly_manager_settings_is_postgres (const DflyManagerSettings *settings)
{
  return g_str_has_prefix (settings->database, "postgresql://") ||
         g_str_has_prefix (settings->database, "postgres://");
}

/* database: a URI, an absolute path, or empty. */
static gboolean
check (gconstpointer values, GError **error)
{
  const DflyManagerSettings *settings = values;

  if (*settings->database == '\0' || dfly_manager_settings_is_postgres (settings) ||
      g_path_is_absolute (settings->database))
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
               "database: neither an absolute path nor a postgresql:// or postgres:// URI");
  return FALSE;
}

const DflyConfigSection dfly_manager_settings = {
  .size = sizeof (DflyManagerSettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
  .check = check,
};
