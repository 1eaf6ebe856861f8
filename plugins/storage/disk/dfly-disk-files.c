/* dfly-disk-files.c — the disk storage's content files: tasks/<ab>/<task id> */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfly/dfly.h"

#include "dfly-disk-files.h"

/* Left by a delete whose unlink did not happen; swept by the next load. */
#define ASIDE_SUFFIX ".deleted"

struct _DflyDiskFile {
  int   fd;
  char *path; /* for error messages */
};

static gboolean
set_io_error (GError **error, const char *what, const char *path, int saved_errno)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s %s: %s", what, path, g_strerror (saved_errno));
  return FALSE;
}

DflyDiskFile *
dfly_disk_file_open (const char *path, GError **error)
{
  DflyDiskFile *file;
  int           fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0 && errno == ENOENT) {
    g_autofree char *dir = g_path_get_dirname (path);

    if (g_mkdir_with_parents (dir, 0700) != 0) {
      set_io_error (error, "creating", dir, errno);
      return NULL;
    }
    fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    set_io_error (error, "opening", path, errno);
    return NULL;
  }
  file = g_atomic_rc_box_new0 (DflyDiskFile);
  file->fd = fd;
  file->path = g_strdup (path);
  return file;
}

DflyDiskFile *
dfly_disk_file_ref (DflyDiskFile *file)
{
  return g_atomic_rc_box_acquire (file);
}

static void
disk_file_clear (gpointer data)
{
  DflyDiskFile *file = data;

  close (file->fd);
  g_free (file->path);
}

void
dfly_disk_file_unref (DflyDiskFile *file)
{
  g_atomic_rc_box_release_full (file, disk_file_clear);
}

gboolean
dfly_disk_file_write (DflyDiskFile *file, guint64 offset, const void *data, gsize length,
                      GError **error)
{
  const guint8 *bytes = data;
  gsize         done = 0;

  while (done < length) {
    gssize n = pwrite (file->fd, bytes + done, length - done, (off_t) (offset + done));

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return set_io_error (error, "writing", file->path, n < 0 ? errno : ENOSPC);
    done += n;
  }
  return TRUE;
}

gboolean
dfly_disk_file_truncate (DflyDiskFile *file, gint64 length, GError **error)
{
  if (ftruncate (file->fd, length) != 0)
    return set_io_error (error, "resizing", file->path, errno);
  return TRUE;
}

char *
dfly_disk_files_path (const char *tasks_dir, const char *task_id)
{
  char prefix[3] = { task_id[0], task_id[1], '\0' };

  return g_build_filename (tasks_dir, prefix, task_id, NULL);
}

char *
dfly_disk_files_move_aside (const char *path)
{
  g_autofree char *aside = g_strconcat (path, ASIDE_SUFFIX, NULL);

  if (rename (path, aside) == 0)
    return g_steal_pointer (&aside);
  /* Whatever stays is a file no task holds: the next sweep removes it. */
  if (errno != ENOENT && unlink (path) != 0 && errno != ENOENT)
    g_warning ("removing %s: %s, ignoring", path, g_strerror (errno));
  return NULL;
}

void
dfly_disk_files_remove (GPtrArray *paths)
{
  for (guint i = 0; i < paths->len; i++) {
    const char *path = g_ptr_array_index (paths, i);

    if (unlink (path) != 0 && errno != ENOENT)
      g_warning ("removing %s: %s, ignoring", path, g_strerror (errno));
  }
}

static gboolean
is_prefix_dir_name (const char *name)
{
  return strlen (name) == 2 && g_ascii_isxdigit (name[0]) && !g_ascii_isupper (name[0]) &&
         g_ascii_isxdigit (name[1]) && !g_ascii_isupper (name[1]);
}

static void
remove_orphan (const char *path)
{
  if (unlink (path) == 0)
    g_info ("removed %s: no task holds it", path);
  else
    g_warning ("removing %s: %s, ignoring", path, g_strerror (errno));
}

/* Directories are left alone: only files are ours to remove. */
void
dfly_disk_files_remove_orphans (const char *tasks_dir, GHashTable *held)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (tasks_dir, 0, &error);
  const char *name;

  if (dir == NULL) {
    g_warning ("%s, ignoring", error->message);
    return;
  }
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *sub_path = g_build_filename (tasks_dir, name, NULL);
    g_autoptr (GDir) sub = NULL;
    const char *file;
    struct stat st;

    if (lstat (sub_path, &st) != 0)
      continue;
    if (S_ISREG (st.st_mode))
      remove_orphan (sub_path);
    if (!S_ISDIR (st.st_mode) || !is_prefix_dir_name (name))
      continue;
    sub = g_dir_open (sub_path, 0, NULL);
    while (sub != NULL && (file = g_dir_read_name (sub)) != NULL) {
      g_autofree char *path = g_build_filename (sub_path, file, NULL);

      if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      if (!dfly_task_id_is_valid (file) || !g_str_has_prefix (file, name) ||
          !g_hash_table_contains (held, file))
        remove_orphan (path);
    }
  }
}
