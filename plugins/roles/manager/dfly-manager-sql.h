/* dfly-manager-sql.h — the SQL both store backends build from the model
 *
 * One SQL table per model table (its REST name with '_' for '-'): an id,
 * the fields as columns, the times in seconds since the epoch, and for
 * hosts their last keepalive; the unique fields a UNIQUE constraint, a
 * REF field a foreign key that keeps a record in use from being removed.
 * A backend names its dialect's types. Rows come back as text, one string
 * per column in the order of dfly_manager_sql_columns() (NULL for SQL
 * NULL), and become the records of dfly-manager-store.h here. Identifiers
 * come from the model, never from a client: values are bound apart.
 */
#pragma once

#include "dfly-manager-model.h"

G_BEGIN_DECLS

typedef struct {
  const char *id;                                /* the id column's type and key */
  const char *types[DFLY_MANAGER_FIELD_REF + 1]; /* by DflyManagerFieldType */
  const char *time;                              /* an integer of seconds */
} DflyManagerSqlDialect;

char *dfly_manager_sql_table_name (const DflyManagerTable *table);
/* "id, FIELD…, created_at, updated_at[, last_keepalive_at]" */
char *dfly_manager_sql_columns (const DflyManagerTable *table);
guint dfly_manager_sql_n_columns (const DflyManagerTable *table);
char *dfly_manager_sql_create_table (const DflyManagerTable      *table,
                                     const DflyManagerSqlDialect *dialect);

/* The record of a row, values[] as the columns' text; a host is "active"
 * if it kept alive within keepalive_timeout seconds. */
JsonObject *dfly_manager_sql_record (const DflyManagerTable *table, const char *const *values,
                                     gint64 keepalive_timeout);

G_END_DECLS
