/* dfly-storage.c — DflyStorage, the base of storage plugins
 *
 * The wrappers check their arguments and that the plugin implements the
 * call; a missing one is DFLY_ERROR_NOT_SUPPORTED, never a crash. Several
 * public calls are one virtual function seen from two sides.
 */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly/dfly-storage.h"

G_DEFINE_ABSTRACT_TYPE (DflyStorage, dfly_storage, DFLY_TYPE_COMPONENT)

static void
dfly_storage_class_init (DflyStorageClass *klass)
{
}

static void
dfly_storage_init (DflyStorage *self)
{
}

/* Whether the plugin implements a call; sets DFLY_ERROR_NOT_SUPPORTED if not. */
static gboolean
implements (DflyStorage *self, gboolean present, const char *call, GError **error)
{
  if (present)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "storage %s does not implement %s",
               dfly_component_get_name (DFLY_COMPONENT (self)), call);
  return FALSE;
}

#define CLASS(self) DFLY_STORAGE_GET_CLASS (self)

gboolean
dfly_storage_load (DflyStorage *self, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  return implements (self, CLASS (self)->load != NULL, "load", error) &&
         CLASS (self)->load (self, error);
}

DflyTaskInfo *
dfly_storage_open_task (DflyStorage *self, const DflyTaskInfo *task, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self) && task != NULL, NULL);
  if (!implements (self, CLASS (self)->open_task != NULL, "open_task", error))
    return NULL;
  return CLASS (self)->open_task (self, task->id, task, error);
}

DflyTaskInfo *
dfly_storage_lookup_task (DflyStorage *self, const char *task_id, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  if (!implements (self, CLASS (self)->open_task != NULL, "open_task", error))
    return NULL;
  return CLASS (self)->open_task (self, task_id, NULL, error);
}

gboolean
dfly_storage_update_task (DflyStorage *self, const DflyTaskInfo *task, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self) && task != NULL, FALSE);
  return implements (self, CLASS (self)->update_task != NULL, "update_task", error) &&
         CLASS (self)->update_task (self, task, error);
}

GPtrArray *
dfly_storage_list_tasks (DflyStorage *self, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  if (!implements (self, CLASS (self)->list_tasks != NULL, "list_tasks", error))
    return NULL;
  return CLASS (self)->list_tasks (self, NULL, error);
}

gboolean
dfly_storage_write (DflyStorage *self, const char *task_id, guint64 offset, const void *data,
                    gsize length, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  return implements (self, CLASS (self)->write != NULL, "write", error) &&
         CLASS (self)->write (self, task_id, offset, data, length, error);
}

gboolean
dfly_storage_commit_piece (DflyStorage *self, const DflyPieceInfo *piece, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self) && piece != NULL, FALSE);
  return implements (self, CLASS (self)->commit_piece != NULL, "commit_piece", error) &&
         CLASS (self)->commit_piece (self, piece, error);
}

gboolean
dfly_storage_drop_piece (DflyStorage *self, const char *task_id, guint32 number, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self) && task_id != NULL, FALSE);
  return implements (self, CLASS (self)->drop_piece != NULL, "drop_piece", error) &&
         CLASS (self)->drop_piece (self, task_id, number, error);
}

GPtrArray *
dfly_storage_list_pieces (DflyStorage *self, const char *task_id, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  if (!implements (self, CLASS (self)->list_pieces != NULL, "list_pieces", error))
    return NULL;
  return CLASS (self)->list_pieces (self, task_id, error);
}

int
dfly_storage_open_content (DflyStorage *self, const char *task_id, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), -1);
  if (!implements (self, CLASS (self)->open_content != NULL, "open_content", error))
    return -1;
  return CLASS (self)->open_content (self, task_id, error);
}

void
dfly_storage_acquire_task (DflyStorage *self, const char *task_id)
{
  g_return_if_fail (DFLY_IS_STORAGE (self));
  if (CLASS (self)->pin != NULL)
    CLASS (self)->pin (self, task_id, TRUE);
}

void
dfly_storage_release_task (DflyStorage *self, const char *task_id)
{
  g_return_if_fail (DFLY_IS_STORAGE (self));
  if (CLASS (self)->pin != NULL)
    CLASS (self)->pin (self, task_id, FALSE);
}

gboolean
dfly_storage_delete_task (DflyStorage *self, const char *task_id, GError **error)
{
  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  /* To evict, NULL means "collect": naming no task deletes nothing. */
  if (task_id == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "no task id to delete");
    return FALSE;
  }
  return implements (self, CLASS (self)->evict != NULL, "evict", error) &&
         CLASS (self)->evict (self, task_id, NULL, error);
}

guint64
dfly_storage_collect (DflyStorage *self, GError **error)
{
  guint64 freed = 0;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), 0);
  if (!implements (self, CLASS (self)->evict != NULL, "evict", error) ||
      !CLASS (self)->evict (self, NULL, &freed, error))
    return 0;
  return freed;
}

void
dfly_storage_get_usage (DflyStorage *self, DflyStorageUsage *usage)
{
  g_autoptr (GPtrArray) tasks = NULL;

  g_return_if_fail (DFLY_IS_STORAGE (self) && usage != NULL);
  *usage = (DflyStorageUsage){ 0 };
  if (CLASS (self)->list_tasks == NULL)
    return;
  tasks = CLASS (self)->list_tasks (self, usage, NULL);
  if (tasks == NULL)
    *usage = (DflyStorageUsage){ 0 };
}
