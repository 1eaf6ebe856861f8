/* dfly-storage.h — where pieces live: content files and their metadata
 *
 * A storage plugin writes verified pieces at their offsets, remembers which
 * pieces of which task it holds across restarts, and evicts tasks under its
 * quota. It is called from worker threads; an implementation is thread-safe.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-component.h"
#include "dfly-types.h"

G_BEGIN_DECLS

#define DFLY_TYPE_STORAGE (dfly_storage_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyStorage, dfly_storage, DFLY, STORAGE, DflyComponent)

struct _DflyStorageClass {
  DflyComponentClass parent_class;

  /* Creates the task's record, or returns the one held. */
  DflyTaskInfo *(*open_task)   (DflyStorage *self, const DflyTaskInfo *task, GError **error);
  /* Stores one piece whose bytes were already verified against piece->digest. */
  gboolean      (*write_piece) (DflyStorage *self, const DflyPieceInfo *piece,
                                const guint8 *data, gsize length, GError **error);
  /* A stream over one held piece's bytes. */
  GInputStream *(*read_piece)  (DflyStorage *self, const char *task_id, guint32 number,
                                GError **error);
  /* The pieces of a task held and verified, in number order. */
  GPtrArray    *(*list_pieces) (DflyStorage *self, const char *task_id, GError **error);
  gboolean      (*delete_task) (DflyStorage *self, const char *task_id, GError **error);
  /* Evicts until under the low watermark; returns the bytes freed. */
  guint64       (*collect)     (DflyStorage *self, GError **error);

  gpointer padding[12];
};

G_END_DECLS
