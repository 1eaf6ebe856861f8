/* dfly-piece-info.c — DflyPieceInfo, one piece of a task */
#include "config.h"

#include "dfly/dfly-types.h"

G_DEFINE_BOXED_TYPE (DflyPieceInfo, dfly_piece_info, dfly_piece_info_ref, dfly_piece_info_unref)

DflyPieceInfo *
dfly_piece_info_new (const char *task_id, guint32 number)
{
  DflyPieceInfo *info = g_atomic_rc_box_new0 (DflyPieceInfo);

  info->task_id = g_strdup (task_id);
  info->number = number;
  return info;
}

DflyPieceInfo *
dfly_piece_info_ref (DflyPieceInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

static void
piece_info_clear (gpointer data)
{
  DflyPieceInfo *info = data;

  g_free (info->task_id);
  g_free (info->digest);
  g_free (info->parent_id);
}

void
dfly_piece_info_unref (DflyPieceInfo *info)
{
  g_atomic_rc_box_release_full (info, piece_info_clear);
}
