/* dfly-disk-index.h — DflyDiskIndex, the disk storage's SQLite metadata
 *
 * storage.db holds one row per task and one per committed piece. The index
 * is not thread-safe: DflyDiskStorage serialises every call under its lock.
 * Errors are DFLY_ERROR_IO naming the database file and SQLite's message.
 */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

/* The schema this code writes; a database with a newer one is refused. */
#define DFLY_DISK_INDEX_SCHEMA_VERSION 2

typedef struct _DflyDiskIndex DflyDiskIndex;

/* Opens or creates the database at path: WAL, synchronous=NORMAL, a busy
 * timeout, foreign keys; creates or checks the schema. */
DflyDiskIndex *dfly_disk_index_open (const char *path, GError **error);
void           dfly_disk_index_free (DflyDiskIndex *self);

/* Tasks left running by a crash become pending; returns how many, or -1. */
int dfly_disk_index_reset_running (DflyDiskIndex *self, GError **error);
/* Every task, completed_length being the sum of its committed pieces. */
GPtrArray *dfly_disk_index_load_tasks (DflyDiskIndex *self, GError **error);
/* Task ids, least recently used first (the last_used index). */
GPtrArray *dfly_disk_index_list_lru (DflyDiskIndex *self, GError **error);
gboolean dfly_disk_index_insert_task (DflyDiskIndex *self, const DflyTaskInfo *task, gint64 created,
                                      GError **error);
/* Writes every mutable column: digest, lengths, pieces, state, last_used. */
gboolean dfly_disk_index_update_task (DflyDiskIndex *self, const DflyTaskInfo *task,
                                      GError **error);
gboolean dfly_disk_index_touch_task (DflyDiskIndex *self, const char *task_id, gint64 last_used,
                                     GError **error);
/* Removes the task and, by cascade, its pieces. */
gboolean dfly_disk_index_delete_task (DflyDiskIndex *self, const char *task_id, GError **error);
/* Records a committed piece, replacing one of the same number. */
gboolean dfly_disk_index_insert_piece (DflyDiskIndex *self, const DflyPieceInfo *piece,
                                       GError **error);
/* Forgets a committed piece (its bytes went bad). */
gboolean dfly_disk_index_delete_piece (DflyDiskIndex *self, const char *task_id, guint32 number,
                                       GError **error);
/* The committed pieces of a task, in number order. */
GPtrArray *dfly_disk_index_load_pieces (DflyDiskIndex *self, const char *task_id, GError **error);

/* One transaction around several changes (GC evicting many tasks). */
gboolean dfly_disk_index_begin (DflyDiskIndex *self, GError **error);
gboolean dfly_disk_index_commit (DflyDiskIndex *self, GError **error);
void     dfly_disk_index_rollback (DflyDiskIndex *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyDiskIndex, dfly_disk_index_free)

G_END_DECLS
