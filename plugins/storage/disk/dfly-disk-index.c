/* dfly-disk-index.c — DflyDiskIndex, the disk storage's SQLite metadata
 *
 * One connection, WAL-journalled with synchronous=NORMAL: a commit survives
 * the process being killed (the WAL is in the page cache), and a power loss
 * may lose the last commits but never corrupts the file. Every statement is
 * prepared once at open and reset after each use.
 */
#include "config.h"

#include <sqlite3.h>

#include "dfly-disk-index.h"

#define BUSY_TIMEOUT_MS 5000

typedef enum {
  STMT_RESET_RUNNING,
  STMT_LOAD_TASKS,
  STMT_LIST_LRU,
  STMT_INSERT_TASK,
  STMT_UPDATE_TASK,
  STMT_TOUCH_TASK,
  STMT_DELETE_TASK,
  STMT_INSERT_PIECE,
  STMT_DELETE_PIECE,
  STMT_LOAD_PIECES,
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  N_STMTS
} IndexStmtId;

#define TASK_COLUMNS                                                                       \
  "id, url, tag, application, digest, piece_length, content_length, total_pieces, state, " \
  "last_used"

static const char *const statement_sql[N_STMTS] = {
  [STMT_RESET_RUNNING] = "UPDATE tasks SET state = ?1 WHERE state = ?2",
  [STMT_LOAD_TASKS] = "SELECT " TASK_COLUMNS ", "
                      "(SELECT coalesce (sum (length), 0) FROM pieces WHERE task_id = tasks.id), "
                      "(SELECT coalesce (sum (length), 0) FROM pieces "
                      " WHERE task_id = tasks.id AND parent IS NOT NULL) "
                      "FROM tasks",
  [STMT_LIST_LRU] = "SELECT id FROM tasks ORDER BY last_used, id",
  [STMT_INSERT_TASK] = "INSERT INTO tasks (" TASK_COLUMNS ", created) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
  [STMT_UPDATE_TASK] = "UPDATE tasks SET digest = ?2, piece_length = ?3, content_length = ?4, "
                       "total_pieces = ?5, state = ?6, last_used = ?7 WHERE id = ?1",
  [STMT_TOUCH_TASK] = "UPDATE tasks SET last_used = ?2 WHERE id = ?1",
  [STMT_DELETE_TASK] = "DELETE FROM tasks WHERE id = ?1",
  [STMT_INSERT_PIECE] = "INSERT OR REPLACE INTO pieces "
                        "(task_id, number, \"offset\", length, digest, cost_us, parent) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_DELETE_PIECE] = "DELETE FROM pieces WHERE task_id = ?1 AND number = ?2",
  [STMT_LOAD_PIECES] = "SELECT number, \"offset\", length, digest, cost_us, parent FROM pieces "
                       "WHERE task_id = ?1 ORDER BY number",
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
};

/* Version 2 (1 had no pieces.parent: the peer a piece came from, NULL for
 * the source). Each version adds an upgrade step from the one before. */
static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS tasks ("
                                 "  id             TEXT PRIMARY KEY NOT NULL,"
                                 "  url            TEXT,"
                                 "  tag            TEXT,"
                                 "  application    TEXT,"
                                 "  digest         TEXT,"
                                 "  piece_length   INTEGER NOT NULL DEFAULT 0,"
                                 "  content_length INTEGER NOT NULL DEFAULT -1,"
                                 "  total_pieces   INTEGER NOT NULL DEFAULT 0,"
                                 "  state          INTEGER NOT NULL DEFAULT 0,"
                                 "  created        INTEGER NOT NULL,"
                                 "  last_used      INTEGER NOT NULL"
                                 ");"
                                 "CREATE INDEX IF NOT EXISTS tasks_last_used ON tasks (last_used);"
                                 "CREATE TABLE IF NOT EXISTS pieces ("
                                 "  task_id  TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,"
                                 "  number   INTEGER NOT NULL,"
                                 "  \"offset\" INTEGER NOT NULL,"
                                 "  length   INTEGER NOT NULL,"
                                 "  digest   TEXT,"
                                 "  cost_us  INTEGER NOT NULL DEFAULT 0,"
                                 "  parent   TEXT,"
                                 "  PRIMARY KEY (task_id, number)"
                                 ") WITHOUT ROWID;";

static const char upgrade_from_1_sql[] = "ALTER TABLE pieces ADD COLUMN parent TEXT;";

struct _DflyDiskIndex {
  char         *path;
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
};

/* A statement in use: reset and unbound when it goes out of scope. */
typedef sqlite3_stmt IndexStmt;

static void
index_stmt_release (IndexStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IndexStmt, index_stmt_release)

static gboolean
set_db_error (DflyDiskIndex *self, const char *what, GError **error)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s: %s: %s", self->path, what,
               self->db != NULL ? sqlite3_errmsg (self->db) : "out of memory");
  return FALSE;
}

static gboolean
exec (DflyDiskIndex *self, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_db_error (self, what, error);
  return TRUE;
}

/* Runs a statement that returns nothing; resets it either way. */
static gboolean
step_done (DflyDiskIndex *self, IndexStmt *stmt, const char *what, GError **error)
{
  g_autoptr (IndexStmt) used = stmt;

  if (sqlite3_step (used) != SQLITE_DONE)
    return set_db_error (self, what, error);
  return TRUE;
}

static gboolean
query_int (DflyDiskIndex *self, const char *sql, const char *what, gint64 *value, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int           rc;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return set_db_error (self, what, error);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW)
    return set_db_error (self, what, error);
  return TRUE;
}

static gboolean
use_wal (DflyDiskIndex *self, GError **error)
{
  sqlite3_stmt    *stmt = NULL;
  g_autofree char *mode = NULL;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK)
    return set_db_error (self, "setting the WAL journal", error);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    mode = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (mode == NULL)
    return set_db_error (self, "setting the WAL journal", error);
  /* A file system without shared memory (some network ones) keeps the
   * rollback journal: slower, still safe. */
  if (g_ascii_strcasecmp (mode, "wal") != 0)
    g_warning ("%s: no WAL journal on this file system, using %s", self->path, mode);
  return TRUE;
}

/* Creates the schema, or upgrades it from version. */
static gboolean
create_schema (DflyDiskIndex *self, gint64 version, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;",
                                          version == 1 ? upgrade_from_1_sql : schema_sql,
                                          DFLY_DISK_INDEX_SCHEMA_VERSION);

  if (!exec (self, sql, "creating the schema", error)) {
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

static gboolean
prepare_statements (DflyDiskIndex *self, GError **error)
{
  for (guint i = 0; i < N_STMTS; i++) {
    if (sqlite3_prepare_v3 (self->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                            &self->stmts[i], NULL) != SQLITE_OK)
      return set_db_error (self, "preparing statements", error);
  }
  return TRUE;
}

DflyDiskIndex *
dfly_disk_index_open (const char *path, GError **error)
{
  g_autoptr (DflyDiskIndex) self = g_new0 (DflyDiskIndex, 1);
  gint64 version = 0;
  int    rc;

  self->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    set_db_error (self, "opening", error);
    return NULL;
  }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  /* Read before anything writes: a file that is no database, or one from a
   * newer dfly, is left exactly as it was. */
  if (!query_int (self, "PRAGMA user_version", "reading the schema version", &version, error))
    return NULL;
  if (version > DFLY_DISK_INDEX_SCHEMA_VERSION) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO,
                 "%s: schema version %" G_GINT64_FORMAT " is newer than this dfly knows (%d); "
                 "refusing to use it",
                 path, version, DFLY_DISK_INDEX_SCHEMA_VERSION);
    return NULL;
  }
  if (version < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s: invalid schema version %" G_GINT64_FORMAT,
                 path, version);
    return NULL;
  }
  if (!use_wal (self, error) ||
      !exec (self, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", "setting pragmas",
             error))
    return NULL;
  if (version < DFLY_DISK_INDEX_SCHEMA_VERSION && !create_schema (self, version, error))
    return NULL;
  if (!prepare_statements (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
dfly_disk_index_free (DflyDiskIndex *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  sqlite3_close_v2 (self->db);
  g_free (self->path);
  g_free (self);
}

int
dfly_disk_index_reset_running (DflyDiskIndex *self, GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_RESET_RUNNING];

  sqlite3_bind_int (stmt, 1, DFLY_TASK_STATE_PENDING);
  sqlite3_bind_int (stmt, 2, DFLY_TASK_STATE_RUNNING);
  if (!step_done (self, stmt, "recovering running tasks", error))
    return -1;
  return sqlite3_changes (self->db);
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

GPtrArray *
dfly_disk_index_load_tasks (DflyDiskIndex *self, GError **error)
{
  g_autoptr (IndexStmt) stmt = self->stmts[STMT_LOAD_TASKS];
  g_autoptr (GPtrArray) tasks =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_task_info_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    DflyTaskInfo *task = dfly_task_info_new ((const char *) sqlite3_column_text (stmt, 0),
                                             (const char *) sqlite3_column_text (stmt, 1));
    int           state = sqlite3_column_int (stmt, 8);

    task->tag = column_dup (stmt, 2);
    task->application = column_dup (stmt, 3);
    task->digest = column_dup (stmt, 4);
    task->piece_length = sqlite3_column_int64 (stmt, 5);
    task->content_length = MAX (sqlite3_column_int64 (stmt, 6), -1);
    task->total_pieces = sqlite3_column_int64 (stmt, 7);
    task->state = state >= DFLY_TASK_STATE_PENDING && state <= DFLY_TASK_STATE_FAILED
                    ? (DflyTaskState) state
                    : DFLY_TASK_STATE_PENDING;
    task->last_used = sqlite3_column_int64 (stmt, 9);
    task->completed_length = sqlite3_column_int64 (stmt, 10);
    task->from_parents = sqlite3_column_int64 (stmt, 11);
    g_ptr_array_add (tasks, task);
  }
  if (rc != SQLITE_DONE) {
    set_db_error (self, "loading tasks", error);
    return NULL;
  }
  return g_steal_pointer (&tasks);
}

GPtrArray *
dfly_disk_index_list_lru (DflyDiskIndex *self, GError **error)
{
  g_autoptr (IndexStmt) stmt = self->stmts[STMT_LIST_LRU];
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (ids, column_dup (stmt, 0));
  if (rc != SQLITE_DONE) {
    set_db_error (self, "listing tasks", error);
    return NULL;
  }
  return g_steal_pointer (&ids);
}

gboolean
dfly_disk_index_insert_task (DflyDiskIndex *self, const DflyTaskInfo *task, gint64 created,
                             GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_INSERT_TASK];

  sqlite3_bind_text (stmt, 1, task->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, task->url, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, task->tag, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, task->application, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, task->digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) task->piece_length);
  sqlite3_bind_int64 (stmt, 7, task->content_length);
  sqlite3_bind_int64 (stmt, 8, task->total_pieces);
  sqlite3_bind_int (stmt, 9, task->state);
  sqlite3_bind_int64 (stmt, 10, task->last_used);
  sqlite3_bind_int64 (stmt, 11, created);
  return step_done (self, stmt, "adding a task", error);
}

gboolean
dfly_disk_index_update_task (DflyDiskIndex *self, const DflyTaskInfo *task, GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_UPDATE_TASK];

  sqlite3_bind_text (stmt, 1, task->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, task->digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) task->piece_length);
  sqlite3_bind_int64 (stmt, 4, task->content_length);
  sqlite3_bind_int64 (stmt, 5, task->total_pieces);
  sqlite3_bind_int (stmt, 6, task->state);
  sqlite3_bind_int64 (stmt, 7, task->last_used);
  return step_done (self, stmt, "updating a task", error);
}

gboolean
dfly_disk_index_touch_task (DflyDiskIndex *self, const char *task_id, gint64 last_used,
                            GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_TOUCH_TASK];

  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, last_used);
  return step_done (self, stmt, "marking a task used", error);
}

gboolean
dfly_disk_index_delete_task (DflyDiskIndex *self, const char *task_id, GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_DELETE_TASK];

  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_TRANSIENT);
  return step_done (self, stmt, "deleting a task", error);
}

gboolean
dfly_disk_index_insert_piece (DflyDiskIndex *self, const DflyPieceInfo *piece, GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_INSERT_PIECE];

  sqlite3_bind_text (stmt, 1, piece->task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, piece->number);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) piece->offset);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) piece->length);
  sqlite3_bind_text (stmt, 5, piece->digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) piece->cost_us);
  sqlite3_bind_text (stmt, 7, piece->parent_id, -1, SQLITE_TRANSIENT);
  return step_done (self, stmt, "committing a piece", error);
}

gboolean
dfly_disk_index_delete_piece (DflyDiskIndex *self, const char *task_id, guint32 number,
                              GError **error)
{
  IndexStmt *stmt = self->stmts[STMT_DELETE_PIECE];

  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, number);
  return step_done (self, stmt, "dropping a piece", error);
}

GPtrArray *
dfly_disk_index_load_pieces (DflyDiskIndex *self, const char *task_id, GError **error)
{
  g_autoptr (IndexStmt) stmt = self->stmts[STMT_LOAD_PIECES];
  g_autoptr (GPtrArray) pieces =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_piece_info_unref);
  int rc;

  sqlite3_bind_text (stmt, 1, task_id, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    DflyPieceInfo *piece = dfly_piece_info_new (task_id, sqlite3_column_int64 (stmt, 0));

    piece->offset = sqlite3_column_int64 (stmt, 1);
    piece->length = sqlite3_column_int64 (stmt, 2);
    piece->digest = column_dup (stmt, 3);
    piece->cost_us = sqlite3_column_int64 (stmt, 4);
    piece->parent_id = column_dup (stmt, 5);
    g_ptr_array_add (pieces, piece);
  }
  if (rc != SQLITE_DONE) {
    set_db_error (self, "loading pieces", error);
    return NULL;
  }
  return g_steal_pointer (&pieces);
}

gboolean
dfly_disk_index_begin (DflyDiskIndex *self, GError **error)
{
  return step_done (self, self->stmts[STMT_BEGIN], "beginning a transaction", error);
}

gboolean
dfly_disk_index_commit (DflyDiskIndex *self, GError **error)
{
  return step_done (self, self->stmts[STMT_COMMIT], "committing a transaction", error);
}

void
dfly_disk_index_rollback (DflyDiskIndex *self)
{
  g_autoptr (IndexStmt) stmt = self->stmts[STMT_ROLLBACK];

  sqlite3_step (stmt);
}
