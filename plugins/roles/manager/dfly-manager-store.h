/* dfly-manager-store.h — where the manager keeps its records
 *
 * One interface, backends behind it: SQLite (dfly-manager-store-sqlite.c),
 * the embedded default, a file in the state directory; PostgreSQL
 * (dfly-manager-store-pg.c), one database that several managers share.
 * Records are the JSON objects of dfly-manager-model.h, with the fields
 * the store adds: "id" (an integer), "created_at" and "updated_at" (RFC
 * 3339), and for hosts "last_keepalive_at" and "state" ("active" while
 * keepalives come within the store's keepalive timeout, else "inactive").
 *
 * Calls block on the database: the manager makes them in worker threads
 * (one at a time per store: each backend locks).
 *
 * Errors: DFLY_ERROR_NOT_FOUND (no record of that id),
 * DFLY_ERROR_INVALID_ARGUMENT (a unique field already taken, or a reference
 * to no record; *field names it; or a record still referenced), DFLY_ERROR_BUSY (the table holds its cap of records),
 * DFLY_ERROR_IO (the database failed).
 */
#pragma once

#include "dfly-manager-model.h"

G_BEGIN_DECLS

typedef struct _DflyManagerStore DflyManagerStore;

typedef struct {
  JsonArray *(*list) (DflyManagerStore *self, const DflyManagerTable *table, const char *filter,
                      gint64 filter_value, GError **error);
  JsonObject *(*get) (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                      GError **error);
  JsonObject *(*create) (DflyManagerStore *self, const DflyManagerTable *table, JsonObject *record,
                         char **field, GError **error);
  JsonObject *(*update) (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                         JsonObject *record, char **field, GError **error);
  gboolean (*remove) (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                      GError **error);
  /* Hosts: the record with the same unique fields updated (else created),
   * and kept alive now. */
  JsonObject *(*register_host) (DflyManagerStore *self, const DflyManagerTable *table,
                                JsonObject *record, char **field, GError **error);
  gboolean (*keepalive) (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                         GError **error);
  void (*free) (DflyManagerStore *self);
} DflyManagerStoreOps;

struct _DflyManagerStore {
  const DflyManagerStoreOps *ops;
  char                      *name;              /* for messages: the file or the server */
  gint64                     keepalive_timeout; /* seconds; a host silent longer is inactive */
};

/* The SQLite store in the file at path (created, or migrated to the
 * current schema). */
DflyManagerStore *dfly_manager_store_open_sqlite (const char *path, guint keepalive_timeout,
                                                  GError **error);

/* The PostgreSQL store in the database conninfo names (a libpq URI or
 * key=value string), its schema created or checked; *name has no password. */
DflyManagerStore *dfly_manager_store_open_postgres (const char *conninfo, guint keepalive_timeout,
                                                    GError **error);

/* filter: a REF field of table and the id it must hold; NULL for every record. */
JsonArray  *dfly_manager_store_list (DflyManagerStore *self, const DflyManagerTable *table,
                                     const char *filter, gint64 filter_value, GError **error);
JsonObject *dfly_manager_store_get (DflyManagerStore *self, const DflyManagerTable *table,
                                    gint64 id, GError **error);
/* record has passed dfly_manager_check_record (creating). */
JsonObject *dfly_manager_store_create (DflyManagerStore *self, const DflyManagerTable *table,
                                       JsonObject *record, char **field, GError **error);
/* Only the fields record holds change. */
JsonObject *dfly_manager_store_update (DflyManagerStore *self, const DflyManagerTable *table,
                                       gint64 id, JsonObject *record, char **field, GError **error);
gboolean    dfly_manager_store_remove (DflyManagerStore *self, const DflyManagerTable *table,
                                       gint64 id, GError **error);
JsonObject *dfly_manager_store_register_host (DflyManagerStore *self, const DflyManagerTable *table,
                                              JsonObject *record, char **field, GError **error);
gboolean    dfly_manager_store_keepalive (DflyManagerStore *self, const DflyManagerTable *table,
                                          gint64 id, GError **error);
void        dfly_manager_store_free (DflyManagerStore *self);

/* The current schema version of every backend. */
#define DFLY_MANAGER_STORE_SCHEMA_VERSION 1

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyManagerStore, dfly_manager_store_free)

G_END_DECLS
