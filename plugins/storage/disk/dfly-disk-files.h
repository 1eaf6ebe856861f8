/* dfly-disk-files.h — the disk storage's content files: tasks/<ab>/<task id>
 *
 * Where a task's bytes live, an open file shared by concurrent writers, and
 * the housekeeping of the tasks/ directory: moving a deleted task's file
 * aside to unlink it later, and sweeping files no task holds. Nothing here
 * knows about tasks' metadata; every call is thread-safe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An open content file; atomically refcounted, closed with the last ref. */
typedef struct _DflyDiskFile DflyDiskFile;

/* Opens path read-write, creating it (0600) and its directory (0700). */
DflyDiskFile *dfly_disk_file_open (const char *path, GError **error);
DflyDiskFile *dfly_disk_file_ref (DflyDiskFile *file);
void          dfly_disk_file_unref (DflyDiskFile *file);
/* pwrite() of all of data at offset; the file's position is not used. */
gboolean dfly_disk_file_write (DflyDiskFile *file, guint64 offset, const void *data, gsize length,
                               GError **error);
gboolean dfly_disk_file_truncate (DflyDiskFile *file, gint64 length, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyDiskFile, dfly_disk_file_unref)

/* tasks_dir/<first two digits>/<task id>; task_id must be valid. */
char *dfly_disk_files_path (const char *tasks_dir, const char *task_id);
/* Renames path aside (fast, under a lock) and returns the new name, to
 * remove later with dfly_disk_files_remove; NULL when there was no file.
 * What cannot be moved is unlinked at once. */
char *dfly_disk_files_move_aside (const char *path);
void  dfly_disk_files_remove (GPtrArray *paths);
/* Removes every regular file under tasks_dir whose name is not the id of a
 * task in held (a set of ids) in its right place. */
void dfly_disk_files_remove_orphans (const char *tasks_dir, GHashTable *held);

G_END_DECLS
