/* dfly-manager-store-sqlite.c — the manager's store in an SQLite file
 *
 * The embedded default: one connection, WAL-journalled, behind one mutex
 * (the manager calls from worker threads). The schema is built from the
 * model's tables, one SQL table each (the REST name with '_' for '-'):
 * the fields as columns, id, the times, and for hosts their last
 * keepalive; a table's unique fields are a UNIQUE constraint. Its
 * version is PRAGMA user_version; a change to the model's fields bumps
 * DFLY_MANAGER_STORE_SCHEMA_VERSION and adds an upgrade step here.
 */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "dfly-manager-sql.h"
#include "dfly-manager-store.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct {
  DflyManagerStore parent;
  GMutex           lock;
  sqlite3         *db;
} SqliteStore;

static gboolean
db_error (SqliteStore *self, const char *what, GError **error)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s: %s: %s", self->parent.name, what,
               self->db != NULL ? sqlite3_errmsg (self->db) : "out of memory");
  return FALSE;
}

static const DflyManagerSqlDialect dialect = {
  .id = "INTEGER PRIMARY KEY AUTOINCREMENT",
  .types = {
    [DFLY_MANAGER_FIELD_TEXT] = "TEXT",
    [DFLY_MANAGER_FIELD_INTEGER] = "INTEGER",
    [DFLY_MANAGER_FIELD_BOOLEAN] = "INTEGER",
    [DFLY_MANAGER_FIELD_IP] = "TEXT",
    [DFLY_MANAGER_FIELD_OBJECT] = "TEXT",
    [DFLY_MANAGER_FIELD_REF] = "INTEGER",
  },
  .time = "INTEGER",
};

static gboolean
exec (SqliteStore *self, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (self, what, error);
  return TRUE;
}

static gboolean
migrate (SqliteStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gint64        version = -1;
  GString      *sql;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  if (version < 0)
    return db_error (self, "reading the schema version", error);
  if (version == DFLY_MANAGER_STORE_SCHEMA_VERSION)
    return TRUE;
  if (version > DFLY_MANAGER_STORE_SCHEMA_VERSION) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO,
                 "%s: schema version %" G_GINT64_FORMAT " is newer than this dflyd's (%d)",
                 self->parent.name, version, DFLY_MANAGER_STORE_SCHEMA_VERSION);
    return FALSE;
  }
  /* Version 0: an empty file. */
  sql = g_string_new ("BEGIN IMMEDIATE;");
  for (guint i = 0; i < DFLY_MANAGER_N_TABLES; i++) {
    g_autofree char *table = dfly_manager_sql_create_table (dfly_manager_table (i), &dialect);

    g_string_append_printf (sql, "%s;", table);
  }
  g_string_append_printf (sql, "PRAGMA user_version = %d; COMMIT;",
                          DFLY_MANAGER_STORE_SCHEMA_VERSION);
  if (!exec (self, sql->str, "creating the schema", error)) {
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    g_string_free (sql, TRUE);
    return FALSE;
  }
  g_string_free (sql, TRUE);
  return TRUE;
}

/* The record in the statement's current row, its columns in the order
 * dfly_manager_sql_columns() gives. */
static JsonObject *
row_to_record (SqliteStore *self, const DflyManagerTable *table, sqlite3_stmt *stmt)
{
  guint        n = dfly_manager_sql_n_columns (table);
  const char **values = g_newa (const char *, n);

  for (guint i = 0; i < n; i++)
    values[i] = (const char *) sqlite3_column_text (stmt, (int) i);
  return dfly_manager_sql_record (table, values, self->parent.keepalive_timeout);
}

static JsonObject *
get_locked (SqliteStore *self, const DflyManagerTable *table, gint64 id, GError **error)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  g_autofree char *columns = dfly_manager_sql_columns (table);
  g_autofree char *sql = g_strdup_printf ("SELECT %s FROM %s WHERE id = ?1", columns, name);
  sqlite3_stmt    *stmt = NULL;
  JsonObject      *record = NULL;
  int              rc;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    db_error (self, "reading a record", error);
    return NULL;
  }
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record = row_to_record (self, table, stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "no %s with id %" G_GINT64_FORMAT,
                 table->name, id);
  else
    db_error (self, "reading a record", error);
  sqlite3_finalize (stmt);
  return record;
}

static JsonArray *
sqlite_list (DflyManagerStore *store, const DflyManagerTable *table, const char *filter,
             gint64 filter_value, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *name = dfly_manager_sql_table_name (table);
  g_autofree char *columns = dfly_manager_sql_columns (table);
  g_autofree char *sql = NULL;
  sqlite3_stmt    *stmt = NULL;
  JsonArray       *records;
  int              rc;

  g_return_val_if_fail (filter == NULL || dfly_manager_table_field (table, filter) != NULL, NULL);
  sql = g_strdup_printf ("SELECT %s FROM %s%s%s%s ORDER BY id", columns, name,
                         filter != NULL ? " WHERE " : "", filter != NULL ? filter : "",
                         filter != NULL ? " = ?1" : "");
  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    db_error (self, "listing records", error);
    return NULL;
  }
  if (filter != NULL)
    sqlite3_bind_int64 (stmt, 1, filter_value);
  records = json_array_new ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_array_add_object_element (records, row_to_record (self, table, stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE) {
    json_array_unref (records);
    db_error (self, "listing records", error);
    return NULL;
  }
  return records;
}

static JsonObject *
sqlite_get (DflyManagerStore *store, const DflyManagerTable *table, gint64 id, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return get_locked (self, table, id, error);
}

/* Binds field's value in record (or its default when creating) at index. */
static void
bind_field (sqlite3_stmt *stmt, int index, const DflyManagerField *field, JsonNode *node)
{
  g_autoptr (JsonNode) fallback = NULL;

  if (node == NULL && field->fallback != NULL)
    node = fallback = json_from_string (field->fallback, NULL);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    sqlite3_bind_null (stmt, index);
    return;
  }
  switch (field->type) {
  case DFLY_MANAGER_FIELD_TEXT:
  case DFLY_MANAGER_FIELD_IP:
    sqlite3_bind_text (stmt, index, json_node_get_string (node), -1, SQLITE_TRANSIENT);
    break;
  case DFLY_MANAGER_FIELD_INTEGER:
  case DFLY_MANAGER_FIELD_REF:
    sqlite3_bind_int64 (stmt, index, json_node_get_int (node));
    break;
  case DFLY_MANAGER_FIELD_BOOLEAN:
    sqlite3_bind_int64 (stmt, index, json_node_get_boolean (node));
    break;
  case DFLY_MANAGER_FIELD_OBJECT: {
    char *text = json_to_string (node, FALSE);

    sqlite3_bind_text (stmt, index, text, -1, g_free);
    break;
  }
  }
}

/* Whether each REF field record sets names an existing record. */
static gboolean
check_refs (SqliteStore *self, const DflyManagerTable *table, JsonObject *record, char **field,
            GError **error)
{
  for (guint i = 0; i < table->n_fields; i++) {
    const DflyManagerField *spec = &table->fields[i];
    g_autoptr (GError) missing = NULL;
    g_autoptr (JsonObject) target = NULL;
    JsonNode *node;

    if (spec->type != DFLY_MANAGER_FIELD_REF)
      continue;
    node = json_object_get_member (record, spec->name);
    if (node == NULL || JSON_NODE_HOLDS_NULL (node))
      continue;
    target = get_locked (self, dfly_manager_table (spec->ref), json_node_get_int (node), &missing);
    if (target == NULL) {
      *field = g_strdup (spec->name);
      if (!g_error_matches (missing, DFLY_ERROR, DFLY_ERROR_NOT_FOUND)) {
        g_propagate_error (error, g_steal_pointer (&missing));
        return FALSE;
      }
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s: %s", spec->name,
                   missing->message);
      return FALSE;
    }
  }
  return TRUE;
}

/* A failed write: a unique field taken, or the database's error. FALSE. */
static gboolean
write_error (SqliteStore *self, const DflyManagerTable *table, int rc, char **field, GError **error)
{
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    *field = g_strdup (table->unique[0]);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s: already taken in %s",
                 table->unique[0], table->name);
    return FALSE;
  }
  /* A foreign key (a record removed while another names it); SQLite
   * reports a RESTRICT action as a bare constraint failure. */
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the %s record is still referenced", table->name);
    return FALSE;
  }
  return db_error (self, "writing a record", error);
}

/* Runs (and finalizes) an UPDATE or DELETE of record id. */
static gboolean
step_write (SqliteStore *self, const DflyManagerTable *table, sqlite3_stmt *stmt, gint64 id,
            char **field, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    rc = sqlite3_extended_errcode (self->db);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE) {
    write_error (self, table, rc, field, error);
    return FALSE;
  }
  if (sqlite3_changes (self->db) == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "no %s with id %" G_GINT64_FORMAT,
                 table->name, id);
    return FALSE;
  }
  return TRUE;
}

static gint64
count_rows (SqliteStore *self, const DflyManagerTable *table)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM %s", name);
  sqlite3_stmt    *stmt = NULL;
  gint64           count = -1; /* the database failed */

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return count;
}

static gint64
insert_locked (SqliteStore *self, const DflyManagerTable *table, JsonObject *record,
               gint64 keepalive, char **field, GError **error)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  GString         *sql = g_string_new (NULL);
  gint64           now = g_get_real_time () / G_USEC_PER_SEC;
  sqlite3_stmt    *stmt = NULL;
  int              rc, index = 1;
  gint64           rows;

  if (!check_refs (self, table, record, field, error)) {
    g_string_free (sql, TRUE);
    return 0;
  }
  rows = count_rows (self, table);
  if (rows < 0) {
    g_string_free (sql, TRUE);
    db_error (self, "counting records", error);
    return 0;
  }
  if (rows >= table->max_rows) {
    g_string_free (sql, TRUE);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "%s holds %u records, its most", table->name,
                 table->max_rows);
    return 0;
  }
  g_string_append_printf (sql, "INSERT INTO %s (", name);
  for (guint i = 0; i < table->n_fields; i++)
    g_string_append_printf (sql, "%s, ", table->fields[i].name);
  g_string_append_printf (sql, "created_at, updated_at%s) VALUES (",
                          table->host ? ", last_keepalive_at" : "");
  for (guint i = 0; i < table->n_fields + 2 + (table->host ? 1 : 0); i++)
    g_string_append_printf (sql, "%s?%u", i > 0 ? ", " : "", i + 1);
  g_string_append (sql, ")");
  rc = sqlite3_prepare_v2 (self->db, sql->str, -1, &stmt, NULL);
  g_string_free (sql, TRUE);
  if (rc != SQLITE_OK) {
    db_error (self, "writing a record", error);
    return 0;
  }
  for (guint i = 0; i < table->n_fields; i++)
    bind_field (stmt, index++, &table->fields[i],
                json_object_get_member (record, table->fields[i].name));
  sqlite3_bind_int64 (stmt, index++, now);
  sqlite3_bind_int64 (stmt, index++, now);
  if (table->host)
    sqlite3_bind_int64 (stmt, index++, keepalive);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    rc = sqlite3_extended_errcode (self->db);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE) {
    write_error (self, table, rc, field, error);
    return 0;
  }
  return sqlite3_last_insert_rowid (self->db);
}

static gboolean
update_locked (SqliteStore *self, const DflyManagerTable *table, gint64 id, JsonObject *record,
               gint64 keepalive, char **field, GError **error)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  GString         *sql = g_string_new (NULL);
  sqlite3_stmt    *stmt = NULL;
  int              rc, index = 1;

  if (!check_refs (self, table, record, field, error)) {
    g_string_free (sql, TRUE);
    return FALSE;
  }
  g_string_append_printf (sql, "UPDATE %s SET ", name);
  for (guint i = 0; i < table->n_fields; i++) {
    if (json_object_has_member (record, table->fields[i].name))
      g_string_append_printf (sql, "%s = ?%d, ", table->fields[i].name, index++);
  }
  g_string_append_printf (sql, "updated_at = ?%d", index++);
  if (keepalive > 0)
    g_string_append_printf (sql, ", last_keepalive_at = ?%d", index++);
  g_string_append_printf (sql, " WHERE id = ?%d", index);
  rc = sqlite3_prepare_v2 (self->db, sql->str, -1, &stmt, NULL);
  g_string_free (sql, TRUE);
  if (rc != SQLITE_OK)
    return db_error (self, "writing a record", error);
  index = 1;
  for (guint i = 0; i < table->n_fields; i++) {
    JsonNode *node = json_object_get_member (record, table->fields[i].name);

    if (node != NULL)
      bind_field (stmt, index++, &table->fields[i], node);
  }
  sqlite3_bind_int64 (stmt, index++, g_get_real_time () / G_USEC_PER_SEC);
  if (keepalive > 0)
    sqlite3_bind_int64 (stmt, index++, keepalive);
  sqlite3_bind_int64 (stmt, index, id);
  return step_write (self, table, stmt, id, field, error);
}

static JsonObject *
sqlite_create (DflyManagerStore *store, const DflyManagerTable *table, JsonObject *record,
               char **field, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gint64 id = insert_locked (self, table, record, 0, field, error);

  return id > 0 ? get_locked (self, table, id, error) : NULL;
}

static JsonObject *
sqlite_update (DflyManagerStore *store, const DflyManagerTable *table, gint64 id,
               JsonObject *record, char **field, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (!update_locked (self, table, id, record, 0, field, error))
    return NULL;
  return get_locked (self, table, id, error);
}

static gboolean
sqlite_remove (DflyManagerStore *store, const DflyManagerTable *table, gint64 id, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *name = dfly_manager_sql_table_name (table);
  g_autofree char *sql = g_strdup_printf ("DELETE FROM %s WHERE id = ?1", name);
  g_autofree char *field = NULL;
  sqlite3_stmt    *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return db_error (self, "removing a record", error);
  sqlite3_bind_int64 (stmt, 1, id);
  return step_write (self, table, stmt, id, &field, error);
}

/* The id of the host record with record's unique fields; 0 if none. */
static gint64
find_host (SqliteStore *self, const DflyManagerTable *table, JsonObject *record)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  GString         *sql = g_string_new (NULL);
  sqlite3_stmt    *stmt = NULL;
  gint64           id = 0;
  int              rc;

  g_string_append_printf (sql, "SELECT id FROM %s WHERE ", name);
  for (guint i = 0; table->unique[i] != NULL; i++)
    g_string_append_printf (sql, "%s%s = ?%u", i > 0 ? " AND " : "", table->unique[i], i + 1);
  rc = sqlite3_prepare_v2 (self->db, sql->str, -1, &stmt, NULL);
  g_string_free (sql, TRUE);
  if (rc != SQLITE_OK)
    return 0;
  for (guint i = 0; table->unique[i] != NULL; i++)
    bind_field (stmt, (int) i + 1, dfly_manager_table_field (table, table->unique[i]),
                json_object_get_member (record, table->unique[i]));
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return id;
}

static JsonObject *
sqlite_register_host (DflyManagerStore *store, const DflyManagerTable *table, JsonObject *record,
                      char **field, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id = find_host (self, table, record);

  if (id > 0) {
    if (!update_locked (self, table, id, record, now, field, error))
      return NULL;
  } else if ((id = insert_locked (self, table, record, now, field, error)) == 0) {
    return NULL;
  }
  return get_locked (self, table, id, error);
}

static gboolean
sqlite_keepalive (DflyManagerStore *store, const DflyManagerTable *table, gint64 id, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (JsonObject) nothing = json_object_new ();
  g_autofree char *field = NULL;

  return update_locked (self, table, id, nothing, g_get_real_time () / G_USEC_PER_SEC, &field,
                        error);
}

static void
sqlite_free (DflyManagerStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_close (self->db);
  g_mutex_clear (&self->lock);
  g_free (self->parent.name);
  g_free (self);
}

static const DflyManagerStoreOps sqlite_ops = {
  sqlite_list,   sqlite_get,           sqlite_create,    sqlite_update,
  sqlite_remove, sqlite_register_host, sqlite_keepalive, sqlite_free,
};

DflyManagerStore *
dfly_manager_store_open_sqlite (const char *path, guint keepalive_timeout, GError **error)
{
  SqliteStore *self = g_new0 (SqliteStore, 1);

  self->parent.ops = &sqlite_ops;
  self->parent.name = g_strdup (path);
  self->parent.keepalive_timeout = keepalive_timeout;
  g_mutex_init (&self->lock);
  if (sqlite3_open_v2 (path, &self->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK ||
      sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
      !exec (self, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;", "opening", error) ||
      !migrate (self, error)) {
    if (error != NULL && *error == NULL)
      db_error (self, "opening", error);
    sqlite_free (&self->parent);
    return NULL;
  }
  return &self->parent;
}
