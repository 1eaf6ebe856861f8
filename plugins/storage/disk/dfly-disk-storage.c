/* dfly-disk-storage.c — the "disk" storage plugin: content files and SQLite metadata
 *
 * Under daemon.cache_dir (made 0700):
 *   storage.db              tasks and committed pieces (dfly-disk-index.c)
 *   tasks/<ab>/<task id>    one sparse content file per task, bytes at their
 *                           offsets (dfly-disk-files.c)
 * This file keeps them in step and adds pinning and garbage collection.
 *
 * What is hot lives in memory, in step with the database under one lock:
 * every task's record with its committed bytes (loaded by load()), and a
 * task's committed pieces (loaded the first time they are needed). Bytes are
 * written with pwrite() outside the lock, through a refcounted descriptor
 * that stays open while the task is pinned.
 *
 * The order of changes makes a crash at any point recoverable by the next
 * load(): a task's row is inserted before its file is created and deleted
 * before its file is; a piece's row is inserted only after its bytes were
 * written. So load() drops rows whose file is gone and files with no row,
 * and tasks left running become pending, keeping their committed pieces.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "dfly/dfly.h"

#include "dfly-disk-files.h"
#include "dfly-disk-index.h"

G_DECLARE_FINAL_TYPE (DflyDiskStorage, dfly_disk_storage, DFLY, DISK_STORAGE, DflyStorage)

typedef struct {
  DflyTaskInfo *info;    /* the record, completed_length current; only copies leave */
  GTree        *pieces;  /* number → DflyPieceInfo; NULL until first needed */
  DflyDiskFile *file;    /* kept open while the task is pinned */
  gboolean      touched; /* info->last_used is newer than the index's */
} DiskTask;

static void
disk_task_free (DiskTask *task)
{
  dfly_task_info_unref (task->info);
  g_clear_pointer (&task->pieces, g_tree_unref);
  g_clear_pointer (&task->file, dfly_disk_file_unref);
  g_free (task);
}

struct _DflyDiskStorage {
  DflyStorage    parent_instance;
  char          *cache_dir; /* set once by load() */
  char          *tasks_dir;
  GMutex         lock;         /* guards what follows */
  DflyDiskIndex *index;        /* NULL until loaded */
  GHashTable    *tasks;        /* id (owned) → DiskTask */
  GHashTable    *pins;         /* id → pin count */
  guint64        bytes;        /* of every committed piece */
  GMainContext  *main_context; /* load()'s, where the GC timer runs; NULL once disposed */
  GSource       *gc_source;    /* the next periodic GC */
};

G_DEFINE_FINAL_TYPE (DflyDiskStorage, dfly_disk_storage, DFLY_TYPE_STORAGE)

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static char *
content_path_for (DflyDiskStorage *self, const char *task_id)
{
  return dfly_disk_files_path (self->tasks_dir, task_id);
}

static gboolean
set_io_error (GError **error, const char *what, const char *path, int saved_errno)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s %s: %s", what, path, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
check_task_id (const char *task_id, GError **error)
{
  g_autofree char *shown = NULL;

  if (dfly_task_id_is_valid (task_id))
    return TRUE;
  shown = task_id != NULL ? g_strescape (task_id, NULL) : g_strdup ("(null)");
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
               "invalid task id \"%.80s\": %d lowercase hex digits expected", shown,
               DFLY_TASK_ID_LENGTH);
  return FALSE;
}

static gboolean
check_loaded (DflyDiskStorage *self, GError **error)
{
  if (self->index != NULL)
    return TRUE;
  g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_FAILED, "the disk storage is not loaded");
  return FALSE;
}

/* Under the lock. */
static DiskTask *
find_task (DflyDiskStorage *self, const char *task_id, GError **error)
{
  DiskTask *task = g_hash_table_lookup (self->tasks, task_id);

  if (task == NULL)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "task %s is not held", task_id);
  return task;
}

static gboolean
is_pinned (DflyDiskStorage *self, const char *task_id)
{
  return g_hash_table_contains (self->pins, task_id);
}

static int
compare_numbers (gconstpointer a, gconstpointer b, gpointer data)
{
  guint32 x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);

  return x < y ? -1 : x > y;
}

/* Under the lock: the task's committed pieces, from the database the first time. */
static GTree *
task_pieces (DflyDiskStorage *self, DiskTask *task, GError **error)
{
  g_autoptr (GPtrArray) pieces = NULL;

  if (task->pieces != NULL)
    return task->pieces;
  pieces = dfly_disk_index_load_pieces (self->index, task->info->id, error);
  if (pieces == NULL)
    return NULL;
  task->pieces =
    g_tree_new_full (compare_numbers, NULL, NULL, (GDestroyNotify) dfly_piece_info_unref);
  for (guint i = 0; i < pieces->len; i++) {
    DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    g_tree_insert (task->pieces, GUINT_TO_POINTER (piece->number), dfly_piece_info_ref (piece));
  }
  return task->pieces;
}

/* Under the lock: a new reference to the task's content file, created if
 * missing. It stays cached on the task only while the task is pinned. */
static DflyDiskFile *
task_file (DflyDiskStorage *self, DiskTask *task, GError **error)
{
  g_autofree char *path = NULL;
  DflyDiskFile    *file;

  if (task->file != NULL)
    return dfly_disk_file_ref (task->file);
  path = content_path_for (self, task->info->id);
  file = dfly_disk_file_open (path, error);
  if (file != NULL && is_pinned (self, task->info->id))
    task->file = dfly_disk_file_ref (file);
  return file;
}

static gboolean
truncate_content (DflyDiskStorage *self, DiskTask *task, gint64 length, GError **error)
{
  g_autoptr (DflyDiskFile) file = task_file (self, task, error);

  return file != NULL && dfly_disk_file_truncate (file, length, error);
}

/* Under the lock, once the task's row is gone: forgets the task and moves
 * its file aside. Returns the path to remove once the lock is dropped (a
 * large file can take a while), or NULL. */
static char *
forget_task (DflyDiskStorage *self, DiskTask *task)
{
  g_autofree char *path = content_path_for (self, task->info->id);

  self->bytes -= task->info->completed_length;
  g_hash_table_remove (self->tasks, task->info->id);
  return dfly_disk_files_move_aside (path);
}

static gboolean
check_state (DflyTaskState state, GError **error)
{
  if (state >= DFLY_TASK_STATE_PENDING && state <= DFLY_TASK_STATE_FAILED)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "invalid task state %d", state);
  return FALSE;
}

static DflyTaskInfo *
dfly_disk_storage_open_task (DflyStorage *storage, const char *task_id, const DflyTaskInfo *task,
                             GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (DflyTaskInfo) info = NULL;
  DiskTask *held;
  GError   *local_error = NULL;

  if (!check_loaded (self, error) || !check_task_id (task_id, error))
    return NULL;
  if (task == NULL) {
    locker = g_mutex_locker_new (&self->lock);
    held = find_task (self, task_id, error);
    return held != NULL ? dfly_task_info_copy (held->info) : NULL;
  }
  if (g_strcmp0 (task->id, task_id) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: a record for another task given", task_id);
    return NULL;
  }
  if (!check_state (task->state, error))
    return NULL;
  if (task->content_length < -1) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: invalid content length %" G_GINT64_FORMAT, task->id,
                 task->content_length);
    return NULL;
  }
  locker = g_mutex_locker_new (&self->lock);
  held = g_hash_table_lookup (self->tasks, task->id);
  if (held != NULL)
    return dfly_task_info_copy (held->info);

  info = dfly_task_info_copy (task);
  info->completed_length = 0;
  info->from_parents = 0;
  info->last_used = now_seconds ();
  if (!dfly_disk_index_insert_task (self->index, info, info->last_used, error))
    return NULL;
  held = g_new0 (DiskTask, 1);
  held->info = dfly_task_info_ref (info);
  g_hash_table_insert (self->tasks, g_strdup (info->id), held);
  /* The file exists from the start, sized when the length is known. */
  if (!truncate_content (self, held, MAX (info->content_length, 0), &local_error)) {
    /* Undone, or left to the next load() should the database fail too. */
    if (dfly_disk_index_delete_task (self->index, info->id, NULL)) {
      g_autoptr (GPtrArray) trash = g_ptr_array_new_with_free_func (g_free);
      char *path = forget_task (self, held);

      if (path != NULL)
        g_ptr_array_add (trash, path);
      dfly_disk_files_remove (trash);
    }
    g_propagate_error (error, local_error);
    return NULL;
  }
  return dfly_task_info_copy (info);
}

static gboolean
dfly_disk_storage_update_task (DflyStorage *storage, const DflyTaskInfo *task, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (DflyTaskInfo) updated = NULL;
  DiskTask *held;

  g_return_val_if_fail (task != NULL, FALSE);
  if (!check_loaded (self, error) || !check_task_id (task->id, error) ||
      !check_state (task->state, error))
    return FALSE;
  locker = g_mutex_locker_new (&self->lock);
  held = find_task (self, task->id, error);
  if (held == NULL)
    return FALSE;
  /* What is known does not change under committed bytes. */
  if (held->info->content_length >= 0 && task->content_length >= 0 &&
      task->content_length != held->info->content_length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: the content length is %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT,
                 task->id, held->info->content_length, task->content_length);
    return FALSE;
  }
  if (held->info->completed_length > 0 && task->piece_length != 0 &&
      task->piece_length != held->info->piece_length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: pieces of %" G_GUINT64_FORMAT " bytes are committed, cannot change "
                 "to %" G_GUINT64_FORMAT,
                 task->id, held->info->piece_length, task->piece_length);
    return FALSE;
  }

  updated = dfly_task_info_copy (held->info);
  if (task->digest != NULL) {
    g_free (updated->digest);
    updated->digest = g_strdup (task->digest);
  }
  if (task->piece_length != 0)
    updated->piece_length = task->piece_length;
  if (task->content_length >= 0)
    updated->content_length = task->content_length;
  if (task->total_pieces != 0)
    updated->total_pieces = task->total_pieces;
  updated->state = task->state;
  /* Sized before the row says so: a failure leaves nothing recorded. */
  if (held->info->content_length < 0 && updated->content_length >= 0 &&
      !truncate_content (self, held, updated->content_length, error))
    return FALSE;
  if (!dfly_disk_index_update_task (self->index, updated, error))
    return FALSE;
  dfly_task_info_unref (held->info);
  held->info = g_steal_pointer (&updated);
  return TRUE;
}

static int
compare_recent_first (gconstpointer a, gconstpointer b)
{
  const DflyTaskInfo *x = *(DflyTaskInfo **) a, *y = *(DflyTaskInfo **) b;

  if (x->last_used != y->last_used)
    return x->last_used > y->last_used ? -1 : 1;
  return strcmp (x->id, y->id);
}

static guint64 effective_quota (DflyDiskStorage *self, const DflyConfig *config, GError **error);

static GPtrArray *
dfly_disk_storage_list_tasks (DflyStorage *storage, DflyStorageUsage *usage, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (DflyConfig) config = NULL;
  GPtrArray     *tasks;
  GHashTableIter iter;
  DiskTask      *task;

  if (!check_loaded (self, error))
    return NULL;
  g_mutex_lock (&self->lock);
  tasks =
    g_ptr_array_new_full (g_hash_table_size (self->tasks), (GDestroyNotify) dfly_task_info_unref);
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &task))
    g_ptr_array_add (tasks, dfly_task_info_copy (task->info));
  if (usage != NULL)
    *usage = (DflyStorageUsage){ .tasks = tasks->len, .bytes = self->bytes };
  g_mutex_unlock (&self->lock);
  g_ptr_array_sort (tasks, compare_recent_first);
  if (usage != NULL) {
    /* statvfs() outside the lock; a quota that cannot be measured shows 0. */
    config = dfly_context_dup_config (dfly_component_get_context (DFLY_COMPONENT (self)));
    usage->quota = effective_quota (self, config, NULL);
  }
  return tasks;
}

/* The task's content file for a write of length bytes at offset. */
static DflyDiskFile *
file_for_write (DflyDiskStorage *self, const char *task_id, guint64 offset, gsize length,
                GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  DiskTask *task = find_task (self, task_id, error);
  gint64    content_length;

  if (task == NULL)
    return NULL;
  content_length = task->info->content_length;
  if (content_length >= 0 && offset + length > (guint64) content_length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: %" G_GSIZE_FORMAT " bytes at %" G_GUINT64_FORMAT " end beyond the "
                 "content length %" G_GINT64_FORMAT,
                 task_id, length, offset, content_length);
    return NULL;
  }
  return task_file (self, task, error);
}

static gboolean
dfly_disk_storage_write (DflyStorage *storage, const char *task_id, guint64 offset,
                         const void *data, gsize length, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (DflyDiskFile) file = NULL;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  if (!check_loaded (self, error) || !check_task_id (task_id, error))
    return FALSE;
  if (offset > G_MAXINT64 || length > G_MAXINT64 - offset) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "task %s: invalid write of %" G_GSIZE_FORMAT " bytes at %" G_GUINT64_FORMAT,
                 task_id, length, offset);
    return FALSE;
  }
  /* Outside the lock: writers to one file run in parallel. */
  file = file_for_write (self, task_id, offset, length, error);
  return file != NULL && dfly_disk_file_write (file, offset, data, length, error);
}

/* Under the lock: whether piece fits the task's known layout. */
static gboolean
check_piece (DiskTask *task, const DflyPieceInfo *piece, GError **error)
{
  const DflyTaskInfo *info = task->info;
  const char         *problem = NULL;

  if (piece->length == 0 || piece->offset > G_MAXINT64 ||
      piece->length > G_MAXINT64 - piece->offset)
    problem = "invalid range";
  else if (info->content_length >= 0 &&
           piece->offset + piece->length > (guint64) info->content_length)
    problem = "ends beyond the content length";
  else if (info->total_pieces > 0 && piece->number >= info->total_pieces)
    problem = "number beyond the task's pieces";
  else if (info->piece_length > 0 && (piece->length > info->piece_length ||
                                      piece->offset != piece->number * info->piece_length))
    problem = "does not match the piece length";
  if (problem == NULL)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
               "task %s: piece %u (%" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT "): %s",
               info->id, piece->number, piece->length, piece->offset, problem);
  return FALSE;
}

static gboolean
dfly_disk_storage_commit_piece (DflyStorage *storage, const DflyPieceInfo *piece, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (DflyPieceInfo) stored = NULL;
  DflyPieceInfo *old;
  DiskTask      *task;
  GTree         *pieces;

  g_return_val_if_fail (piece != NULL, FALSE);
  if (!check_loaded (self, error) || !check_task_id (piece->task_id, error))
    return FALSE;
  locker = g_mutex_locker_new (&self->lock);
  task = find_task (self, piece->task_id, error);
  if (task == NULL || !check_piece (task, piece, error))
    return FALSE;
  pieces = task_pieces (self, task, error);
  if (pieces == NULL)
    return FALSE;
  stored = dfly_piece_info_new (piece->task_id, piece->number);
  stored->offset = piece->offset;
  stored->length = piece->length;
  stored->digest = g_strdup (piece->digest);
  stored->cost_us = piece->cost_us;
  stored->parent_id = g_strdup (piece->parent_id);
  if (!dfly_disk_index_insert_piece (self->index, stored, error))
    return FALSE;
  old = g_tree_lookup (pieces, GUINT_TO_POINTER (piece->number));
  if (old != NULL) {
    task->info->completed_length -= old->length;
    if (old->parent_id != NULL)
      task->info->from_parents -= old->length;
    self->bytes -= old->length;
  }
  task->info->completed_length += stored->length;
  if (stored->parent_id != NULL)
    task->info->from_parents += stored->length;
  self->bytes += stored->length;
  g_tree_replace (pieces, GUINT_TO_POINTER (piece->number), g_steal_pointer (&stored));
  return TRUE;
}

static gboolean
dfly_disk_storage_drop_piece (DflyStorage *storage, const char *task_id, guint32 number,
                              GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (DflyTaskInfo) updated = NULL;
  DflyPieceInfo *old;
  DiskTask      *task;
  GTree         *pieces;

  if (!check_loaded (self, error) || !check_task_id (task_id, error))
    return FALSE;
  locker = g_mutex_locker_new (&self->lock);
  task = find_task (self, task_id, error);
  if (task == NULL || (pieces = task_pieces (self, task, error)) == NULL)
    return FALSE;
  old = g_tree_lookup (pieces, GUINT_TO_POINTER (number));
  if (old == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "task %s: piece %u is not held", task_id,
                 number);
    return FALSE;
  }
  /* A succeeded task serves any range without a look at its pieces: it is
   * running again (pending after a restart) until the piece is back. */
  updated = dfly_task_info_copy (task->info);
  if (updated->state == DFLY_TASK_STATE_SUCCEEDED)
    updated->state = DFLY_TASK_STATE_RUNNING;
  if (!dfly_disk_index_begin (self->index, error))
    return FALSE;
  if (!dfly_disk_index_delete_piece (self->index, task_id, number, error) ||
      !dfly_disk_index_update_task (self->index, updated, error) ||
      !dfly_disk_index_commit (self->index, error)) {
    dfly_disk_index_rollback (self->index);
    return FALSE;
  }
  updated->completed_length -= old->length;
  if (old->parent_id != NULL)
    updated->from_parents -= old->length;
  self->bytes -= old->length;
  dfly_task_info_unref (task->info);
  task->info = g_steal_pointer (&updated);
  g_tree_remove (pieces, GUINT_TO_POINTER (number));
  return TRUE;
}

static gboolean
add_piece_ref (gpointer key, gpointer value, gpointer data)
{
  g_ptr_array_add (data, dfly_piece_info_ref (value));
  return FALSE;
}

static GPtrArray *
dfly_disk_storage_list_pieces (DflyStorage *storage, const char *task_id, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  GPtrArray *list;
  DiskTask  *task;
  GTree     *pieces;

  if (!check_loaded (self, error) || !check_task_id (task_id, error))
    return NULL;
  locker = g_mutex_locker_new (&self->lock);
  task = find_task (self, task_id, error);
  if (task == NULL || (pieces = task_pieces (self, task, error)) == NULL)
    return NULL;
  list = g_ptr_array_new_full (g_tree_nnodes (pieces), (GDestroyNotify) dfly_piece_info_unref);
  g_tree_foreach (pieces, add_piece_ref, list);
  return list;
}

static int
dfly_disk_storage_open_content (DflyStorage *storage, const char *task_id, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  g_autofree char *path = NULL;
  int              fd;

  if (!check_loaded (self, error) || !check_task_id (task_id, error))
    return -1;
  /* Opened under the lock, so a concurrent delete cannot swap the file. */
  locker = g_mutex_locker_new (&self->lock);
  if (find_task (self, task_id, error) == NULL)
    return -1;
  path = content_path_for (self, task_id);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    set_io_error (error, "opening", path, errno);
  return fd;
}

/* Under the lock. */
/* Under the lock. Pins come from the main loop: the time is kept in memory
 * and reaches the index with the task's next update, before a collection
 * (which orders by it) or when the storage goes; after a crash, a task may
 * look a little less recently used than it was. */
static void
touch_task (DflyDiskStorage *self, const char *task_id)
{
  DiskTask *task = g_hash_table_lookup (self->tasks, task_id);
  gint64    now = now_seconds ();

  if (task == NULL || task->info->last_used == now)
    return;
  task->info->last_used = now;
  task->touched = TRUE;
}

/* Under the lock: the last uses kept in memory, into the index. */
static void
flush_touched (DflyDiskStorage *self)
{
  GHashTableIter iter;
  gpointer       value;

  if (self->index == NULL)
    return;
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    DiskTask *task = value;
    g_autoptr (GError) error = NULL;

    if (!task->touched)
      continue;
    if (!dfly_disk_index_touch_task (self->index, task->info->id, task->info->last_used, &error))
      g_warning ("%s, ignoring", error->message);
    task->touched = FALSE;
  }
}

static void
dfly_disk_storage_pin (DflyStorage *storage, const char *task_id, gboolean pin)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (GMutexLocker) locker = NULL;
  DiskTask *task;
  guint     count;

  /* An id that cannot be held needs no pin. */
  if (self->index == NULL || !dfly_task_id_is_valid (task_id))
    return;
  locker = g_mutex_locker_new (&self->lock);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->pins, task_id));
  if (!pin && count == 0) {
    g_warning ("task %s released but not acquired, ignoring", task_id);
    return;
  }
  /* In use until now: on a release, the TTL counts from here. */
  touch_task (self, task_id);
  count = pin ? count + 1 : count - 1;
  if (count > 0) {
    g_hash_table_insert (self->pins, g_strdup (task_id), GUINT_TO_POINTER (count));
    return;
  }
  g_hash_table_remove (self->pins, task_id);
  task = g_hash_table_lookup (self->tasks, task_id);
  if (task != NULL)
    g_clear_pointer (&task->file, dfly_disk_file_unref);
}

static guint64
percent_of (guint64 value, guint percent)
{
  return value / 100 * percent + value % 100 * percent / 100;
}

static guint64
effective_quota (DflyDiskStorage *self, const DflyConfig *config, GError **error)
{
  struct statvfs fs;

  if (config->storage.quota > 0)
    return config->storage.quota;
  if (statvfs (self->cache_dir, &fs) != 0) {
    set_io_error (error, "measuring the file system of", self->cache_dir, errno);
    return 0;
  }
  return (guint64) fs.f_blocks * fs.f_frsize;
}

typedef struct {
  DiskTask   *task;
  const char *reason;
} Eviction;

/* Under the lock: the unpinned tasks to evict, expired ones first, then the
 * least recently used while above the high watermark, down to the low one. */
static GArray *
choose_evictions (DflyDiskStorage *self, const DflyConfig *config, guint64 quota, GError **error)
{
  g_autoptr (GPtrArray) lru = NULL;
  g_autoptr (GArray) evictions = NULL;
  gint64  expired_before = now_seconds () - config->storage.task_ttl;
  guint64 usage = self->bytes;

  flush_touched (self);
  lru = dfly_disk_index_list_lru (self->index, error);
  if (lru == NULL)
    return NULL;
  evictions = g_array_new (FALSE, FALSE, sizeof (Eviction));
  for (guint i = 0; i < lru->len; i++) {
    DiskTask *task = g_hash_table_lookup (self->tasks, g_ptr_array_index (lru, i));

    if (task == NULL || is_pinned (self, task->info->id)) {
      g_clear_pointer (&g_ptr_array_index (lru, i), g_free);
    } else if (task->info->last_used < expired_before) {
      Eviction eviction = { task, "ttl" };

      g_array_append_val (evictions, eviction);
      usage -= task->info->completed_length;
      g_clear_pointer (&g_ptr_array_index (lru, i), g_free);
    }
  }
  if (usage <= percent_of (quota, config->storage.high_watermark))
    return g_steal_pointer (&evictions);
  for (guint i = 0; i < lru->len && usage > percent_of (quota, config->storage.low_watermark);
       i++) {
    Eviction eviction = { NULL, "quota" };

    if (g_ptr_array_index (lru, i) == NULL)
      continue;
    eviction.task = g_hash_table_lookup (self->tasks, g_ptr_array_index (lru, i));
    g_array_append_val (evictions, eviction);
    usage -= eviction.task->info->completed_length;
  }
  return g_steal_pointer (&evictions);
}

/* Under the lock: task_id alone, unless it is pinned. */
static GArray *
choose_task (DflyDiskStorage *self, const char *task_id, GError **error)
{
  Eviction eviction = { find_task (self, task_id, error), NULL };
  GArray  *evictions;

  if (eviction.task == NULL)
    return NULL;
  if (is_pinned (self, task_id)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "task %s is in use", task_id);
    return NULL;
  }
  evictions = g_array_new (FALSE, FALSE, sizeof (Eviction));
  g_array_append_val (evictions, eviction);
  return evictions;
}

/* Under the lock: the rows of evictions' tasks, in one transaction. */
static gboolean
delete_rows (DflyDiskStorage *self, GArray *evictions, GError **error)
{
  if (!dfly_disk_index_begin (self->index, error))
    return FALSE;
  for (guint i = 0; i < evictions->len; i++) {
    const Eviction *eviction = &g_array_index (evictions, Eviction, i);

    if (!dfly_disk_index_delete_task (self->index, eviction->task->info->id, error)) {
      dfly_disk_index_rollback (self->index);
      return FALSE;
    }
  }
  if (!dfly_disk_index_commit (self->index, error)) {
    dfly_disk_index_rollback (self->index);
    return FALSE;
  }
  return TRUE;
}

static gboolean
dfly_disk_storage_evict (DflyStorage *storage, const char *task_id, guint64 *freed, GError **error)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (storage);
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (GPtrArray) trash = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) evictions = NULL;
  GError       *local_error = NULL;
  GMutexLocker *locker;
  guint64       quota = 0, bytes = 0;

  if (freed != NULL)
    *freed = 0;
  if (!check_loaded (self, error) || (task_id != NULL && !check_task_id (task_id, error)))
    return FALSE;
  if (task_id == NULL) {
    config = dfly_context_dup_config (dfly_component_get_context (DFLY_COMPONENT (self)));
    quota = effective_quota (self, config, &local_error);
    if (quota == 0) {
      g_propagate_error (error, local_error);
      return local_error == NULL;
    }
  }
  locker = g_mutex_locker_new (&self->lock);
  evictions = task_id != NULL ? choose_task (self, task_id, error)
                              : choose_evictions (self, config, quota, error);
  /* Rows go in one transaction, then files: a crash between leaves files
   * with no row, which load() removes. */
  if (evictions == NULL || (evictions->len > 0 && !delete_rows (self, evictions, error))) {
    g_mutex_locker_free (locker);
    return FALSE;
  }
  for (guint i = 0; i < evictions->len; i++) {
    const Eviction *eviction = &g_array_index (evictions, Eviction, i);
    char           *path;

    if (eviction->reason != NULL)
      g_info ("evicted task %s: %" G_GUINT64_FORMAT " bytes (%s)", eviction->task->info->id,
              eviction->task->info->completed_length, eviction->reason);
    bytes += eviction->task->info->completed_length;
    if ((path = forget_task (self, eviction->task)) != NULL)
      g_ptr_array_add (trash, path);
  }
  g_mutex_locker_free (locker);
  dfly_disk_files_remove (trash);
  if (freed != NULL)
    *freed = bytes;
  return TRUE;
}

static void schedule_gc (DflyDiskStorage *self);

/* The task's data is the storage, kept alive by the ref on_gc_done drops. */
static void
gc_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  guint64 freed = 0;

  if (!dfly_disk_storage_evict (DFLY_STORAGE (data), NULL, &freed, &error)) {
    g_task_return_error (task, error);
    return;
  }
  if (freed > 0)
    g_debug ("GC freed %" G_GUINT64_FORMAT " bytes", freed);
  g_task_return_boolean (task, TRUE);
}

static void
on_gc_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DflyDiskStorage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("storage GC failed: %s, retrying later", error->message);
  if (self->main_context != NULL)
    schedule_gc (self);
}

/* On the main context: GC runs in a worker so the loop never waits on disk.
 * The storage is the callback's data, not the task's source object: the
 * worker may drop the last ref to the task, and the storage must never be
 * finalized there. Its ref goes in on_gc_done, on this context. */
static gboolean
on_gc_due (gpointer data)
{
  DflyDiskStorage *self = data;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, on_gc_done, g_object_ref (self));

  g_clear_pointer (&self->gc_source, g_source_unref);
  g_task_set_task_data (task, self, NULL);
  g_task_set_source_tag (task, on_gc_due);
  g_task_set_name (task, "dfly disk storage gc");
  g_task_run_in_thread (task, gc_thread);
  return G_SOURCE_REMOVE;
}

/* One timer at a time, armed with the interval in force, so a reload's
 * gc_interval applies from the next run. */
static void
schedule_gc (DflyDiskStorage *self)
{
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (self));
  guint        interval = MAX (dfly_context_get_config (context)->storage.gc_interval, 1);
  GSource     *source = g_timeout_source_new_seconds (interval);

  g_source_set_callback (source, on_gc_due, self, NULL);
  g_source_set_static_name (source, "dfly disk storage gc");
  g_source_attach (source, self->main_context);
  self->gc_source = source;
}

static void
stop_gc (DflyDiskStorage *self)
{
  if (self->gc_source != NULL) {
    g_source_destroy (self->gc_source);
    g_clear_pointer (&self->gc_source, g_source_unref);
  }
  g_clear_pointer (&self->main_context, g_main_context_unref);
}

/* Keeps the tasks whose file exists; drops the rows of the others. */
static gboolean
load_tasks (DflyDiskStorage *self, GError **error)
{
  g_autoptr (GPtrArray) tasks = dfly_disk_index_load_tasks (self->index, error);

  if (tasks == NULL)
    return FALSE;
  for (guint i = 0; i < tasks->len; i++) {
    DflyTaskInfo    *info = g_ptr_array_index (tasks, i);
    g_autofree char *path = NULL;
    DiskTask        *task;
    struct stat      st;

    if (!dfly_task_id_is_valid (info->id)) {
      g_info ("dropping task \"%.80s\": invalid id", info->id);
      if (!dfly_disk_index_delete_task (self->index, info->id, error))
        return FALSE;
      continue;
    }
    path = content_path_for (self, info->id);
    if (stat (path, &st) != 0 && errno == ENOENT) {
      g_info ("dropping task %s: its content file %s is gone", info->id, path);
      if (!dfly_disk_index_delete_task (self->index, info->id, error))
        return FALSE;
      continue;
    }
    task = g_new0 (DiskTask, 1);
    task->info = dfly_task_info_ref (info);
    g_hash_table_insert (self->tasks, g_strdup (info->id), task);
    self->bytes += info->completed_length;
  }
  return TRUE;
}

static gboolean
make_private_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    return set_io_error (error, "creating", path, errno);
  return TRUE;
}

static gboolean
dfly_disk_storage_load (DflyStorage *storage, GError **error)
{
  DflyDiskStorage  *self = DFLY_DISK_STORAGE (storage);
  DflyContext      *context = dfly_component_get_context (DFLY_COMPONENT (self));
  const DflyConfig *config = dfly_context_get_config (context);
  g_autofree char  *db_path = NULL;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  int recovered;

  if (self->index != NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_FAILED, "the disk storage is loaded");
    return FALSE;
  }
  g_clear_pointer (&self->cache_dir, g_free);
  g_clear_pointer (&self->tasks_dir, g_free);
  self->cache_dir = g_strdup (config->daemon.cache_dir);
  self->tasks_dir = g_build_filename (self->cache_dir, "tasks", NULL);
  if (!make_private_dir (self->cache_dir, error) || !make_private_dir (self->tasks_dir, error))
    return FALSE;
  db_path = g_build_filename (self->cache_dir, "storage.db", NULL);
  self->index = dfly_disk_index_open (db_path, error);
  if (self->index == NULL)
    return FALSE;
  recovered = dfly_disk_index_reset_running (self->index, error);
  if (recovered < 0 || !load_tasks (self, error)) {
    g_hash_table_remove_all (self->tasks);
    self->bytes = 0;
    g_clear_pointer (&self->index, dfly_disk_index_free);
    return FALSE;
  }
  if (recovered > 0)
    g_info ("%d tasks interrupted by a stop are pending again", recovered);
  dfly_disk_files_remove_orphans (self->tasks_dir, self->tasks);
  g_debug ("loaded %u tasks, %" G_GUINT64_FORMAT " bytes, from %s", g_hash_table_size (self->tasks),
           self->bytes, self->cache_dir);

  self->main_context = g_main_context_ref_thread_default ();
  schedule_gc (self);
  return TRUE;
}

static void
dfly_disk_storage_dispose (GObject *object)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (object);

  stop_gc (self);
  g_mutex_lock (&self->lock);
  flush_touched (self);
  g_mutex_unlock (&self->lock);
  G_OBJECT_CLASS (dfly_disk_storage_parent_class)->dispose (object);
}

static void
dfly_disk_storage_finalize (GObject *object)
{
  DflyDiskStorage *self = DFLY_DISK_STORAGE (object);

  g_hash_table_unref (self->tasks);
  g_hash_table_unref (self->pins);
  g_clear_pointer (&self->index, dfly_disk_index_free);
  g_free (self->cache_dir);
  g_free (self->tasks_dir);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_disk_storage_parent_class)->finalize (object);
}

static void
dfly_disk_storage_class_init (DflyDiskStorageClass *klass)
{
  GObjectClass     *object_class = G_OBJECT_CLASS (klass);
  DflyStorageClass *storage_class = DFLY_STORAGE_CLASS (klass);

  object_class->dispose = dfly_disk_storage_dispose;
  object_class->finalize = dfly_disk_storage_finalize;
  storage_class->load = dfly_disk_storage_load;
  storage_class->open_task = dfly_disk_storage_open_task;
  storage_class->update_task = dfly_disk_storage_update_task;
  storage_class->list_tasks = dfly_disk_storage_list_tasks;
  storage_class->write = dfly_disk_storage_write;
  storage_class->commit_piece = dfly_disk_storage_commit_piece;
  storage_class->drop_piece = dfly_disk_storage_drop_piece;
  storage_class->list_pieces = dfly_disk_storage_list_pieces;
  storage_class->open_content = dfly_disk_storage_open_content;
  storage_class->pin = dfly_disk_storage_pin;
  storage_class->evict = dfly_disk_storage_evict;
}

static void
dfly_disk_storage_init (DflyDiskStorage *self)
{
  g_mutex_init (&self->lock);
  self->tasks =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) disk_task_free);
  self->pins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

DFLY_PLUGIN_DEFINE ("disk", DFLY_PLUGIN_KIND_STORAGE, PACKAGE_VERSION, "Apache-2.0",
                    "Disk: sparse content files under the cache directory, metadata in SQLite",
                    dfly_disk_storage_get_type)
