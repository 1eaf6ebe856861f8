/* dfly-manager-settings.h — the manager role's section of dflyd.yaml */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

typedef struct {
  char   *listen; /* address of the REST API */
  guint16 port;
  char   *database;          /* the SQLite file; "": manager.db in the state directory */
  guint   keepalive_timeout; /* seconds a host may be silent and still active */
} DflyManagerSettings;

extern const DflyConfigSection dfly_manager_settings;

G_END_DECLS
