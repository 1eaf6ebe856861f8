/* dfly-storage.c — DflyStorage, the base of storage plugins
 *
 * The wrappers check their arguments and that the plugin implements the
 * call; a missing one is DFLY_ERROR_NOT_SUPPORTED, never a crash.
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

static void
set_not_supported (DflyStorage *self, const char *call, GError **error)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "storage %s does not implement %s",
               dfly_component_get_name (DFLY_COMPONENT (self)), call);
}

gboolean
dfly_storage_load (DflyStorage *self, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->load == NULL) {
    set_not_supported (self, "load", error);
    return FALSE;
  }
  return klass->load (self, error);
}

DflyTaskInfo *
dfly_storage_open_task (DflyStorage *self, const DflyTaskInfo *task, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->open_task == NULL) {
    set_not_supported (self, "open_task", error);
    return NULL;
  }
  return klass->open_task (self, task, error);
}

DflyTaskInfo *
dfly_storage_lookup_task (DflyStorage *self, const char *task_id, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->lookup_task == NULL) {
    set_not_supported (self, "lookup_task", error);
    return NULL;
  }
  return klass->lookup_task (self, task_id, error);
}

gboolean
dfly_storage_update_task (DflyStorage *self, const DflyTaskInfo *task, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->update_task == NULL) {
    set_not_supported (self, "update_task", error);
    return FALSE;
  }
  return klass->update_task (self, task, error);
}

GPtrArray    *
dfly_storage_list_tasks (DflyStorage *self, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->list_tasks == NULL) {
    set_not_supported (self, "list_tasks", error);
    return NULL;
  }
  return klass->list_tasks (self, error);
}

gboolean
dfly_storage_write (DflyStorage *self, const char *task_id, guint64 offset, const void *data,
                    gsize length, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->write == NULL) {
    set_not_supported (self, "write", error);
    return FALSE;
  }
  return klass->write (self, task_id, offset, data, length, error);
}

gboolean
dfly_storage_commit_piece (DflyStorage *self, const DflyPieceInfo *piece, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->commit_piece == NULL) {
    set_not_supported (self, "commit_piece", error);
    return FALSE;
  }
  return klass->commit_piece (self, piece, error);
}

GPtrArray    *
dfly_storage_list_pieces (DflyStorage *self, const char *task_id, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->list_pieces == NULL) {
    set_not_supported (self, "list_pieces", error);
    return NULL;
  }
  return klass->list_pieces (self, task_id, error);
}

GInputStream *
dfly_storage_read_piece (DflyStorage *self, const char *task_id, guint32 number,
                         GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->read_piece == NULL) {
    set_not_supported (self, "read_piece", error);
    return NULL;
  }
  return klass->read_piece (self, task_id, number, error);
}

char         *
dfly_storage_content_path (DflyStorage *self, const char *task_id, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), NULL);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->content_path == NULL) {
    set_not_supported (self, "content_path", error);
    return NULL;
  }
  return klass->content_path (self, task_id, error);
}

void
dfly_storage_acquire_task (DflyStorage *self, const char *task_id)
{
  DflyStorageClass *klass;

  g_return_if_fail (DFLY_IS_STORAGE (self));
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->acquire_task != NULL)
    klass->acquire_task (self, task_id);
}

void
dfly_storage_release_task (DflyStorage *self, const char *task_id)
{
  DflyStorageClass *klass;

  g_return_if_fail (DFLY_IS_STORAGE (self));
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->release_task != NULL)
    klass->release_task (self, task_id);
}

gboolean
dfly_storage_delete_task (DflyStorage *self, const char *task_id, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), FALSE);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->delete_task == NULL) {
    set_not_supported (self, "delete_task", error);
    return FALSE;
  }
  return klass->delete_task (self, task_id, error);
}

guint64
dfly_storage_collect (DflyStorage *self, GError **error)
{
  DflyStorageClass *klass;

  g_return_val_if_fail (DFLY_IS_STORAGE (self), 0);
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->collect == NULL) {
    set_not_supported (self, "collect", error);
    return 0;
  }
  return klass->collect (self, error);
}

void
dfly_storage_get_usage (DflyStorage *self, DflyStorageUsage *usage)
{
  DflyStorageClass *klass;

  g_return_if_fail (DFLY_IS_STORAGE (self));
  klass = DFLY_STORAGE_GET_CLASS (self);
  if (klass->get_usage != NULL)
    klass->get_usage (self, usage);
}
