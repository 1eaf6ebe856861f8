/* dfly-manager-settings.h — the manager role's section of dflyd.yaml */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

typedef struct {
  char   *listen; /* address of the REST API */
  guint16 port;
  char   *database;          /* an SQLite file or a PostgreSQL URI; "": manager.db in state_dir */
  guint   keepalive_timeout; /* seconds a host may be silent and still active */
} DflyManagerSettings;

extern const DflyConfigSection dfly_manager_settings;

/* Whether database is a postgresql:// (or postgres://) URI. */
gboolean dfly_manager_settings_is_postgres (const DflyManagerSettings *settings);

G_END_DECLS
