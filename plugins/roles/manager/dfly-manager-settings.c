/* dfly-manager-settings.c — the manager role's keys */
#include "config.h"

#include <stddef.h>

#include "dfly-manager-settings.h"

static const DflyConfigKey keys[] = {
  { "listen", DFLY_CONFIG_IP, offsetof (DflyManagerSettings, listen), "127.0.0.1", 0, 0,
    DFLY_CONFIG_RESTART, "the address the REST API listens on" },
  { "port", DFLY_CONFIG_PORT, offsetof (DflyManagerSettings, port), "8080", 0, G_MAXUINT16,
    DFLY_CONFIG_RESTART, "the REST API's TCP port; 0 picks a free one" },
  { "database", DFLY_CONFIG_PATH, offsetof (DflyManagerSettings, database), "\"\"", 0, 4096,
    DFLY_CONFIG_RESTART, "the store's SQLite file; empty: manager.db in the state directory" },
  { "keepalive_timeout", DFLY_CONFIG_UINT, offsetof (DflyManagerSettings, keepalive_timeout), "30",
    1, 3600, DFLY_CONFIG_RESTART,
    "seconds a scheduler or seed peer may be silent and still be shown active" },
};

const DflyConfigSection dfly_manager_settings = {
  .size = sizeof (DflyManagerSettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
};
