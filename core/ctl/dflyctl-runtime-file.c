/* dflyctl-runtime-file.c — one configuration file of a container runtime:
 * read under --root, diffed, backed up and replaced atomically */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "dfly/dfly-error.h"
#include "dflyctl-runtime.h"

#define BACKUP_SUFFIX   ".dfly-backup"
#define BACKUP_ATTEMPTS 100

void
dflyctl_runtime_file_free (DflyctlRuntimeFile *file)
{
  if (file == NULL)
    return;
  g_free (file->path);
  g_free (file->old_text);
  g_free (file->new_text);
  g_free (file->backup);
  g_free (file);
}

/* "@what @path: why", @what being "cannot read" and the like. */
static gboolean
set_errno_error (GError **error, const char *what, const char *path, int saved)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s %s: %s", what, path, g_strerror (saved));
  return FALSE;
}

/* Walks ROOT/RELATIVE down from ROOT; stops quietly at the first part that is
 * not there yet (it will be made). */
static gboolean
check_path (const char *root, const char *relative, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  g_autofree char *path = g_strdup (root);
  gboolean         confined = !g_str_equal (root, "/");

  for (guint i = 0; parts[i] != NULL; i++) {
    gboolean    last = parts[i + 1] == NULL;
    struct stat st;
    char       *next;

    if (*parts[i] == '\0')
      continue;
    next = g_build_filename (path, parts[i], NULL);
    g_free (path);
    path = next;
    if (lstat (path, &st) != 0) {
      int saved = errno;

      if (saved == ENOENT)
        return TRUE;
      return set_errno_error (error, _ ("cannot look at"), path, saved);
    }
    if (S_ISLNK (st.st_mode)) {
      if (last) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED,
                     _ ("%s is a symbolic link; replacing it would break the link, so it is "
                        "left alone: make it a file, or configure its target by hand"),
                     path);
        return FALSE;
      }
      if (confined) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED,
                     _ ("%s is a symbolic link, which could lead outside --root %s; refusing "
                        "to write through it"),
                     path, root);
        return FALSE;
      }
      /* Under / the system's own layout is followed. */
      if (stat (path, &st) != 0) {
        int saved = errno;

        return set_errno_error (error, _ ("cannot look at"), path, saved);
      }
    }
    if (!last && !S_ISDIR (st.st_mode)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("%s is not a directory"), path);
      return FALSE;
    }
    if (last && !S_ISREG (st.st_mode)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("%s is not a regular file"), path);
      return FALSE;
    }
  }
  return TRUE;
}

/* Reads @file->path whole, at most DFLYCTL_RUNTIME_FILE_MAX bytes. */
static gboolean
read_old (DflyctlRuntimeFile *file, GError **error)
{
  g_autofree char *text = NULL;
  gsize            length = 0;
  struct stat      st;
  int              fd = g_open (file->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  int              saved = 0;

  if (fd < 0) {
    saved = errno;
    if (saved == ENOENT)
      return TRUE;
    return set_errno_error (error, _ ("cannot read"), file->path, saved);
  }
  if (fstat (fd, &st) != 0) {
    saved = errno;
    close (fd);
    return set_errno_error (error, _ ("cannot read"), file->path, saved);
  }
  if (!S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("%s is not a regular file"), file->path);
    return FALSE;
  }
  text = g_malloc (DFLYCTL_RUNTIME_FILE_MAX + 2);
  /* One byte more than allowed tells a file that grew too big. */
  while (length <= DFLYCTL_RUNTIME_FILE_MAX) {
    gssize got = read (fd, text + length, DFLYCTL_RUNTIME_FILE_MAX + 1 - length);

    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      saved = errno;
    if (got <= 0)
      break;
    length += got;
  }
  close (fd);
  if (saved != 0)
    return set_errno_error (error, _ ("cannot read"), file->path, saved);
  if (length > DFLYCTL_RUNTIME_FILE_MAX) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 _ ("%s is larger than %d bytes: not a configuration file; left alone"), file->path,
                 DFLYCTL_RUNTIME_FILE_MAX);
    return FALSE;
  }
  text[length] = '\0';
  file->old_text = g_steal_pointer (&text);
  file->old_length = length;
  file->old_mode = st.st_mode & 07777;
  return TRUE;
}

DflyctlRuntimeFile *
dflyctl_runtime_file_open (const char *root, const char *relative, GError **error)
{
  g_autoptr (DflyctlRuntimeFile) file = g_new0 (DflyctlRuntimeFile, 1);

  file->path = g_build_filename (root, relative, NULL);
  if (!check_path (root, relative, error) || !read_old (file, error))
    return NULL;
  return g_steal_pointer (&file);
}

DflyctlRuntimeFileState
dflyctl_runtime_file_state (const DflyctlRuntimeFile *file)
{
  if (file->old_text == NULL)
    return DFLYCTL_RUNTIME_FILE_CREATED;
  if (file->old_length == strlen (file->new_text) &&
      memcmp (file->old_text, file->new_text, file->old_length) == 0)
    return DFLYCTL_RUNTIME_FILE_UNCHANGED;
  return DFLYCTL_RUNTIME_FILE_CHANGED;
}

char *
dflyctl_runtime_file_diff (const DflyctlRuntimeFile *file, GError **error)
{
  const char *old_path = file->old_text != NULL ? file->path : "/dev/null";
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) diff = NULL;
  g_autoptr (GBytes) input = g_bytes_new_static (file->new_text, strlen (file->new_text));
  g_autoptr (GBytes) output = NULL;
  g_autoptr (GBytes) errors = NULL;

  launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  diff = g_subprocess_launcher_spawn (launcher, error, "diff", "-u", "--label", old_path, "--label",
                                      file->path, old_path, "-", NULL);
  if (diff == NULL || !g_subprocess_communicate (diff, input, NULL, &output, &errors, error)) {
    g_prefix_error (error, _ ("cannot compare with diff: "));
    return NULL;
  }
  /* 0: the same, 1: different, 2: trouble. */
  if (!g_subprocess_get_if_exited (diff) || g_subprocess_get_exit_status (diff) > 1) {
    g_autofree char *message =
      g_strndup (g_bytes_get_data (errors, NULL), g_bytes_get_size (errors));

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("diff failed on %s: %s"), file->path,
                 g_strstrip (message));
    return NULL;
  }
  return g_strndup (g_bytes_get_data (output, NULL), g_bytes_get_size (output));
}

/* Writes the old bytes to a backup name nobody holds yet (O_EXCL), with the
 * old file's mode. */
static gboolean
keep_backup (DflyctlRuntimeFile *file, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");

  for (guint attempt = 0; attempt < BACKUP_ATTEMPTS; attempt++) {
    g_autofree char *backup = NULL;
    gsize            done = 0;
    int              fd;

    if (attempt == 0)
      backup = g_strconcat (file->path, BACKUP_SUFFIX, NULL);
    else if (attempt == 1)
      backup = g_strdup_printf ("%s%s-%s", file->path, BACKUP_SUFFIX, stamp);
    else
      backup = g_strdup_printf ("%s%s-%s-%u", file->path, BACKUP_SUFFIX, stamp, attempt);
    fd = g_open (backup, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file->old_mode);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0) {
      int saved = errno;

      return set_errno_error (error, _ ("cannot make the backup"), backup, saved);
    }
    while (done < file->old_length) {
      gssize wrote = write (fd, file->old_text + done, file->old_length - done);

      if (wrote < 0 && errno == EINTR)
        continue;
      if (wrote <= 0)
        break;
      done += wrote;
    }
    if (done < file->old_length || fsync (fd) != 0) {
      int saved = errno;

      close (fd);
      g_unlink (backup);
      return set_errno_error (error, _ ("cannot write the backup"), backup, saved);
    }
    close (fd);
    file->backup = g_steal_pointer (&backup);
    return TRUE;
  }
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("%s has %d backups already; remove some"),
               file->path, BACKUP_ATTEMPTS);
  return FALSE;
}

gboolean
dflyctl_runtime_file_write (DflyctlRuntimeFile *file, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (file->path);
  g_autoptr (GError) local_error = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int saved = errno;

    return set_errno_error (error, _ ("cannot make"), dir, saved);
  }
  if (file->old_text != NULL && !keep_backup (file, error))
    return FALSE;
  if (!g_file_set_contents_full (file->path, file->new_text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 file->old_text != NULL ? (int) file->old_mode : 0644,
                                 &local_error)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, _ ("cannot write %s: %s"), file->path,
                 local_error->message);
    return FALSE;
  }
  return TRUE;
}
