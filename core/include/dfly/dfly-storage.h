/* dfly-storage.h — where pieces live: content files and their metadata
 *
 * A storage plugin keeps each task's bytes (written at their offsets as they
 * stream in) and remembers which pieces it holds verified, across restarts.
 * Bytes are written first and a piece is committed once its digest has been
 * checked: only committed pieces are listed, read or served. Tasks in use are
 * pinned; garbage collection evicts the others under a quota and a TTL.
 *
 * Every call may come from any thread; an implementation is thread-safe.
 * load() is called once, on the main thread, before any other call.
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
  guint64 bytes;      /* of committed pieces */
  guint64 quota;      /* effective quota (config or file system size) */
} DflyStorageUsage;

struct _DflyStorageClass {
  DflyComponentClass parent_class;

  /* Opens or creates the database and directories, recovers after a crash,
   * starts periodic GC. */
  gboolean      (*load)          (DflyStorage *self, GError **error);

  /* Creates the task's record from task (id, url, tag, application, digest,
   * piece length, content length), or returns the one held. */
  DflyTaskInfo *(*open_task)     (DflyStorage *self, const DflyTaskInfo *task, GError **error);
  /* NULL and DFLY_ERROR_NOT_FOUND when the task is not held. */
  DflyTaskInfo *(*lookup_task)   (DflyStorage *self, const char *task_id, GError **error);
  /* Records what became known: content length, piece length, pieces, state. */
  gboolean      (*update_task)   (DflyStorage *self, const DflyTaskInfo *task, GError **error);
  /* Every task held, most recently used first. */
  GPtrArray    *(*list_tasks)    (DflyStorage *self, GError **error);

  /* Raw bytes at offset in the task's content; not visible until committed. */
  gboolean      (*write)         (DflyStorage *self, const char *task_id, guint64 offset,
                                  const void *data, gsize length, GError **error);
  /* Marks a piece whose bytes were written and verified against piece->digest. */
  gboolean      (*commit_piece)  (DflyStorage *self, const DflyPieceInfo *piece, GError **error);
  /* The committed pieces of a task, in number order. */
  GPtrArray    *(*list_pieces)   (DflyStorage *self, const char *task_id, GError **error);
  /* A stream over one committed piece's bytes. */
  GInputStream *(*read_piece)    (DflyStorage *self, const char *task_id, guint32 number,
                                  GError **error);
  /* The content file of a task, for copying or linking a finished one out. */
  char         *(*content_path)  (DflyStorage *self, const char *task_id, GError **error);

  /* Pins a task against eviction and marks it used now; calls nest. */
  void          (*acquire_task)  (DflyStorage *self, const char *task_id);
  void          (*release_task)  (DflyStorage *self, const char *task_id);
  /* DFLY_ERROR_BUSY while the task is pinned. */
  gboolean      (*delete_task)   (DflyStorage *self, const char *task_id, GError **error);
  /* Evicts expired tasks, then least recently used ones while above the high
   * watermark, down to the low one; returns the bytes freed. */
  guint64       (*collect)       (DflyStorage *self, GError **error);
  void          (*get_usage)     (DflyStorage *self, DflyStorageUsage *usage);

  gpointer padding[12];
};

gboolean      dfly_storage_load (DflyStorage *self, GError **error);
DflyTaskInfo *dfly_storage_open_task (DflyStorage *self, const DflyTaskInfo *task,
                                      GError **error);
DflyTaskInfo *dfly_storage_lookup_task (DflyStorage *self, const char *task_id, GError **error);
gboolean      dfly_storage_update_task (DflyStorage *self, const DflyTaskInfo *task,
                                        GError **error);
GPtrArray    *dfly_storage_list_tasks (DflyStorage *self, GError **error);
gboolean      dfly_storage_write (DflyStorage *self, const char *task_id, guint64 offset,
                                  const void *data, gsize length, GError **error);
gboolean      dfly_storage_commit_piece (DflyStorage *self, const DflyPieceInfo *piece,
                                         GError **error);
GPtrArray    *dfly_storage_list_pieces (DflyStorage *self, const char *task_id, GError **error);
GInputStream *dfly_storage_read_piece (DflyStorage *self, const char *task_id, guint32 number,
                                       GError **error);
char         *dfly_storage_content_path (DflyStorage *self, const char *task_id,
                                         GError **error);
void          dfly_storage_acquire_task (DflyStorage *self, const char *task_id);
void          dfly_storage_release_task (DflyStorage *self, const char *task_id);
gboolean      dfly_storage_delete_task (DflyStorage *self, const char *task_id, GError **error);
guint64       dfly_storage_collect (DflyStorage *self, GError **error);
void          dfly_storage_get_usage (DflyStorage *self, DflyStorageUsage *usage);

G_END_DECLS
