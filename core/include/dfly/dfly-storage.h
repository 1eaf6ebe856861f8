/* dfly-storage.h — where pieces live: content files and their metadata
 *
 * A storage plugin keeps each task's bytes (written at their offsets as they
 * stream in) and remembers which pieces it holds verified, across restarts.
 * Bytes are written first and a piece is committed once its digest has been
 * checked: only committed pieces are listed, counted or served. Tasks in use
 * are pinned; garbage collection evicts the others under a quota and a TTL.
 *
 * A plugin implements the eleven calls of DflyStorageClass; the dfly_storage_*
 * functions below are what callers use (several are one call seen from two
 * sides: lookup_task and open_task, delete_task and collect).
 *
 * Threads: every call but load() may come from any thread at once, and may
 * block on disk, so none belongs on the main loop; an implementation is
 * thread-safe. load() is called once, on the main thread, before any other.
 *
 * Errors: DFLY_ERROR_INVALID_ARGUMENT for an id that is not a task id (64
 * lowercase hex digits) or a record or range that does not fit the task,
 * DFLY_ERROR_NOT_FOUND for a task (or piece) not held, DFLY_ERROR_IO for the
 * disk, DFLY_ERROR_FAILED before load(). A call the plugin leaves NULL is
 * DFLY_ERROR_NOT_SUPPORTED.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-component.h"
#include "dfly-types.h"

G_BEGIN_DECLS

#define DFLY_TYPE_STORAGE (dfly_storage_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyStorage, dfly_storage, DFLY, STORAGE, DflyComponent)

/* What a storage holds, for status and GC reports. */
typedef struct {
  guint   tasks;
  guint64 bytes; /* of committed pieces */
  guint64 quota; /* effective quota (config or file system size) */
} DflyStorageUsage;

struct _DflyStorageClass {
  DflyComponentClass parent_class;

  /* Opens or creates the database and directories, recovers after a crash
   * (interrupted tasks become pending, half-done changes are dropped), and
   * starts periodic GC on the calling thread's main context. Main thread. */
  gboolean (*load) (DflyStorage *self, GError **error);

  /* A copy of task_id's record. When none is held: NOT_FOUND if create_from
   * is NULL, else a new record made from create_from (url, tag, application,
   * digest, piece and content length, state; its id is task_id), recorded
   * before this returns. */
  DflyTaskInfo *(*open_task) (DflyStorage *self, const char *task_id,
                              const DflyTaskInfo *create_from, GError **error);
  /* Records what became known of task: content length, piece length, total
   * pieces, digest, state. A known content length never changes, nor does
   * the piece length under committed pieces (INVALID_ARGUMENT). */
  gboolean (*update_task) (DflyStorage *self, const DflyTaskInfo *task, GError **error);
  /* Every task held, most recently used first. usage, when not NULL, gets
   * the totals of the same moment. */
  GPtrArray *(*list_tasks) (DflyStorage *self, DflyStorageUsage *usage, GError **error);

  /* Raw bytes at offset in the task's content, from several threads at once;
   * not shown anywhere until a commit_piece covers them. */
  gboolean (*write) (DflyStorage *self, const char *task_id, guint64 offset, const void *data,
                     gsize length, GError **error);
  /* Marks a piece whose bytes were written and verified against
   * piece->digest; recorded before this returns. Committing a number again
   * replaces its record. */
  gboolean (*commit_piece) (DflyStorage *self, const DflyPieceInfo *piece, GError **error);
  /* The committed pieces of a task (DflyPieceInfo), in number order. */
  GPtrArray *(*list_pieces) (DflyStorage *self, const char *task_id, GError **error);
  /* A new read-only descriptor (O_CLOEXEC) on the task's content, the
   * caller's to close: for sendfile, pread, copy_file_range, or a hard link
   * through /proc/self/fd/N. It shows every byte, committed or not: serve
   * only what list_pieces holds. It reads on after the task is deleted. -1
   * with NOT_FOUND for a task not held. */
  int (*open_content) (DflyStorage *self, const char *task_id, GError **error);

  /* pin TRUE pins the task against eviction, FALSE drops one pin; pins nest
   * and live in memory only. Either marks the task used now. An id never
   * held is ignored. Cannot fail. */
  void (*pin) (DflyStorage *self, const char *task_id, gboolean pin);
  /* Deletes task_id (BUSY while it is pinned); or, with task_id NULL,
   * evicts expired tasks, then least recently used ones while above the
   * high watermark, down to the low one, never a pinned one. freed (may be
   * NULL) gets the committed bytes removed. A crash midway leaves no task
   * half deleted. */
  gboolean (*evict) (DflyStorage *self, const char *task_id, guint64 *freed, GError **error);
  /* Forgets a committed piece whose bytes went bad (an accused parent read it
   * back and it no longer matches): it is no longer listed, counted or
   * served, and a task that held every piece is no longer succeeded, so
   * a later download fetches it again. NOT_FOUND for a piece not held. */
  gboolean (*drop_piece) (DflyStorage *self, const char *task_id, guint32 number, GError **error);

  gpointer padding[11];
};

gboolean dfly_storage_load (DflyStorage *self, GError **error);
/* The held record of task->id, or a new one made from task. */
DflyTaskInfo *dfly_storage_open_task (DflyStorage *self, const DflyTaskInfo *task, GError **error);
/* The held record of task_id; NULL and DFLY_ERROR_NOT_FOUND when none. */
DflyTaskInfo *dfly_storage_lookup_task (DflyStorage *self, const char *task_id, GError **error);
gboolean   dfly_storage_update_task (DflyStorage *self, const DflyTaskInfo *task, GError **error);
GPtrArray *dfly_storage_list_tasks (DflyStorage *self, GError **error);
gboolean   dfly_storage_write (DflyStorage *self, const char *task_id, guint64 offset,
                               const void *data, gsize length, GError **error);
gboolean dfly_storage_commit_piece (DflyStorage *self, const DflyPieceInfo *piece, GError **error);
gboolean dfly_storage_drop_piece (DflyStorage *self, const char *task_id, guint32 number,
                                  GError **error);
GPtrArray *dfly_storage_list_pieces (DflyStorage *self, const char *task_id, GError **error);
int        dfly_storage_open_content (DflyStorage *self, const char *task_id, GError **error);
/* Pins a task against eviction and marks it used now; calls nest. */
void dfly_storage_acquire_task (DflyStorage *self, const char *task_id);
/* Drops a pin; the task's TTL counts from now. */
void dfly_storage_release_task (DflyStorage *self, const char *task_id);
/* DFLY_ERROR_BUSY while the task is pinned. */
gboolean dfly_storage_delete_task (DflyStorage *self, const char *task_id, GError **error);
/* Runs the collection now; returns the bytes freed (0 with error set on a
 * failure). */
guint64 dfly_storage_collect (DflyStorage *self, GError **error);
/* Zeroes when the storage cannot tell (not loaded). */
void dfly_storage_get_usage (DflyStorage *self, DflyStorageUsage *usage);

G_END_DECLS
