/* dfly-output.c — atomic placement of a downloaded file */
#include "config.h"

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "dfly/dfly.h"
#include "dfly-output.h"

#define COPY_BUFFER_SIZE (1024 * 1024)

static gboolean
parse_digest (const char *digest, GChecksumType *type, const char **hex)
{
  static const struct {
    const char   *prefix;
    GChecksumType type;
    gsize         hex_length;
  } kinds[] = {
    { "sha256:", G_CHECKSUM_SHA256, 64 },
    { "sha512:", G_CHECKSUM_SHA512, 128 },
  };

  for (guint i = 0; digest != NULL && i < G_N_ELEMENTS (kinds); i++) {
    const char *value;

    if (!g_str_has_prefix (digest, kinds[i].prefix))
      continue;
    value = digest + strlen (kinds[i].prefix);
    if (strlen (value) != kinds[i].hex_length)
      return FALSE;
    for (const char *c = value; *c != '\0'; c++) {
      if (!g_ascii_isxdigit (*c))
        return FALSE;
    }
    *type = kinds[i].type;
    *hex = value;
    return TRUE;
  }
  return FALSE;
}

gboolean
dfly_output_digest_is_valid (const char *digest)
{
  GChecksumType type;
  const char   *hex;

  return parse_digest (digest, &type, &hex);
}

static gboolean
is_inside (const char *path, const char *dir)
{
  gsize length = strlen (dir);

  while (length > 1 && dir[length - 1] == '/')
    length--;
  return strncmp (path, dir, length) == 0 && (path[length] == '/' || path[length] == '\0');
}

gboolean
dfly_output_check (const char *output, const char *const *refused_dirs, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *canonical = NULL;
  struct stat      st;

  if (output == NULL || !g_path_is_absolute (output)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "output \"%s\" is not an absolute path", output != NULL ? output : "");
    return FALSE;
  }
  if (g_str_has_suffix (output, "/")) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "output %s names a directory, not a file", output);
    return FALSE;
  }
  dir = g_path_get_dirname (output);
  if (g_stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "output directory %s does not exist", dir);
    return FALSE;
  }
  if (access (dir, W_OK | X_OK) != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "output directory %s is not writable by dflyd: %s", dir, g_strerror (errno));
    return FALSE;
  }
  if (g_stat (output, &st) == 0 && S_ISDIR (st.st_mode)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "output %s is a directory",
                 output);
    return FALSE;
  }
  /* Through symlinks too: the daemon must never overwrite its own files. */
  canonical = realpath (dir, NULL);
  for (guint i = 0; refused_dirs != NULL && refused_dirs[i] != NULL; i++) {
    g_autofree char *refused = realpath (refused_dirs[i], NULL);

    if (is_inside (output, refused_dirs[i]) ||
        (canonical != NULL && refused != NULL && is_inside (canonical, refused))) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "output %s is inside dflyd's own directory %s", output, refused_dirs[i]);
      return FALSE;
    }
  }
  return TRUE;
}

typedef struct {
  char  *output;
  char **refused_dirs;
} CheckJob;

static void
check_job_free (CheckJob *job)
{
  g_free (job->output);
  g_strfreev (job->refused_dirs);
  g_free (job);
}

static void
check_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CheckJob *job = task_data;
  GError   *error = NULL;

  if (dfly_output_check (job->output, (const char *const *) job->refused_dirs, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
dfly_output_check_async (const char *output, const char *const *refused_dirs,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  CheckJob *job = g_new0 (CheckJob, 1);

  job->output = g_strdup (output);
  job->refused_dirs = g_strdupv ((char **) refused_dirs);
  g_task_set_task_data (task, job, (GDestroyNotify) check_job_free);
  g_task_run_in_thread (task, check_thread);
}

gboolean
dfly_output_check_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
set_io_error (GError **error, int saved_errno, const char *what, const char *path)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s %s: %s", what, path, g_strerror (saved_errno));
  return FALSE;
}

/* Copies with read/write, hashing on the way when checksum is set. */
static gboolean
copy_plain (int in_fd, int out_fd, guint64 length, GChecksum *checksum, const char *output,
            GCancellable *cancellable, GError **error)
{
  g_autofree guint8 *buffer = g_malloc (COPY_BUFFER_SIZE);
  guint64            done = 0;

  while (done < length) {
    gsize  want = MIN (COPY_BUFFER_SIZE, length - done);
    gssize got = pread (in_fd, buffer, want, (off_t) done);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "reading the cached content for %s: %s",
                   output, got < 0 ? g_strerror (errno) : "file is shorter than the task");
      return FALSE;
    }
    if (checksum != NULL)
      g_checksum_update (checksum, buffer, got);
    for (gssize written = 0; written < got;) {
      gssize n = write (out_fd, buffer + written, got - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_io_error (error, errno, "writing", output);
      written += n;
    }
    done += got;
  }
  return TRUE;
}

/* copy_file_range lets the kernel copy (or share extents) without the
 * bytes crossing into user space; FALSE with *fallback when it cannot. */
static gboolean
copy_in_kernel (int in_fd, int out_fd, guint64 length, gboolean *fallback, const char *output,
                GCancellable *cancellable, GError **error)
{
  guint64 done = 0;

  *fallback = FALSE;
  while (done < length) {
    loff_t  in_offset = (loff_t) done;
    ssize_t n =
      copy_file_range (in_fd, &in_offset, out_fd, NULL, MIN (length - done, (guint64) 64 << 20), 0);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && done == 0 &&
        (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      *fallback = TRUE;
      return FALSE;
    }
    if (n < 0)
      return set_io_error (error, errno, "copying to", output);
    if (n == 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO,
                   "the cached content for %s is shorter than the task", output);
      return FALSE;
    }
    done += n;
  }
  return TRUE;
}

static gboolean
check_digest (GChecksum *checksum, const char *expected_hex, const char *digest, const char *output,
              GError **error)
{
  const char *actual = g_checksum_get_string (checksum);

  if (g_ascii_strcasecmp (actual, expected_hex) == 0)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH,
               "digest mismatch for %s: expected %s, got %.*s%s", output, digest,
               (int) (strchr (digest, ':') - digest + 1), digest, actual);
  return FALSE;
}

/* umask() can only be read by changing it, which would race with other
 * threads creating files; Linux shows it in /proc/self/status. */
static mode_t
process_umask (void)
{
  g_autofree char *status = NULL;
  const char      *line;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) &&
      (line = strstr (status, "\nUmask:")) != NULL)
    return (mode_t) strtoul (line + strlen ("\nUmask:"), NULL, 8);
  return 022;
}

/* A temporary file beside the output, removed unless renamed into place. */
struct _DflyOutputTemp {
  char *output;
  char *path;
  int   fd;
};

void
dfly_output_temp_free (DflyOutputTemp *temp)
{
  if (temp == NULL)
    return;
  if (temp->fd >= 0)
    g_close (temp->fd, NULL);
  if (temp->path != NULL)
    g_unlink (temp->path);
  g_free (temp->path);
  g_free (temp->output);
  g_free (temp);
}

DflyOutputTemp *
dfly_output_temp_new (const char *output, GError **error)
{
  g_autoptr (DflyOutputTemp) temp = g_new0 (DflyOutputTemp, 1);
  g_autofree char *dir = g_path_get_dirname (output);
  g_autofree char *base = g_path_get_basename (output);
  mode_t           mask = process_umask ();

  temp->output = g_strdup (output);
  temp->path = g_strdup_printf ("%s/.%s.dfly-XXXXXX", dir, base);
  temp->fd = g_mkstemp_full (temp->path, O_RDWR | O_CLOEXEC, 0644);
  if (temp->fd < 0) {
    g_clear_pointer (&temp->path, g_free);
    set_io_error (error, errno, "creating a temporary file in", dir);
    return NULL;
  }
  /* mkstemp makes 0600 whatever we ask; give the file the usual mode. */
  fchmod (temp->fd, 0666 & ~mask);
  return g_steal_pointer (&temp);
}

int
dfly_output_temp_get_fd (DflyOutputTemp *temp)
{
  return temp->fd;
}

void
dfly_output_temp_discard (DflyOutputTemp *temp)
{
  if (temp->path != NULL)
    g_unlink (temp->path);
  g_clear_pointer (&temp->path, g_free);
}

gboolean
dfly_output_temp_commit (DflyOutputTemp *temp, GError **error)
{
  if (g_rename (temp->path, temp->output) != 0)
    return set_io_error (error, errno, "renaming into", temp->output);
  /* rename() between two links of one file succeeds and does nothing (a
   * hard link made again over an earlier one): remove the temporary name. */
  g_unlink (temp->path);
  g_clear_pointer (&temp->path, g_free);
  return TRUE;
}

/* Makes the temporary name a hard link to the content instead; FALSE with
 * *fallback when the file systems (or protections) forbid it. */
static gboolean
temp_file_link (DflyOutputTemp *temp, int content_fd, guint64 length, gboolean *fallback,
                const char *output, GError **error)
{
  g_autofree char *fd_path = g_strdup_printf ("/proc/self/fd/%d", content_fd);
  struct stat      st;

  *fallback = FALSE;
  /* The whole file is linked: it must be exactly the task's content. */
  if (fstat (content_fd, &st) != 0)
    return set_io_error (error, errno, "reading the content for", output);
  if ((guint64) st.st_size != length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO,
                 "the cached content for %s has %" G_GUINT64_FORMAT
                 " bytes, not %" G_GUINT64_FORMAT,
                 output, (guint64) st.st_size, length);
    return FALSE;
  }
  g_unlink (temp->path);
  /* A descriptor is linked by its /proc name (AT_EMPTY_PATH would need a
   * capability); ENOENT: no /proc, or a file deleted since, still copied. */
  if (linkat (AT_FDCWD, fd_path, AT_FDCWD, temp->path, AT_SYMLINK_FOLLOW) == 0)
    return TRUE;
  if (errno != EXDEV && errno != EPERM && errno != ENOENT)
    return set_io_error (error, errno, "linking", output);
  g_info ("cannot hard link %s (%s), copying", output, g_strerror (errno));
  *fallback = TRUE;
  /* Take the name back for the copy. */
  g_close (temp->fd, NULL);
  temp->fd = g_open (temp->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (temp->fd < 0)
    return set_io_error (error, errno, "creating", temp->path);
  return FALSE;
}

static gboolean
copy_content (int in_fd, int out_fd, guint64 length, GChecksum *checksum, const char *expected_hex,
              const char *digest, const char *output, GCancellable *cancellable, GError **error)
{
  gboolean fallback = FALSE;

  if (checksum != NULL)
    return copy_plain (in_fd, out_fd, length, checksum, output, cancellable, error) &&
           check_digest (checksum, expected_hex, digest, output, error);
  if (copy_in_kernel (in_fd, out_fd, length, &fallback, output, cancellable, error))
    return TRUE;
  return fallback && copy_plain (in_fd, out_fd, length, NULL, output, cancellable, error);
}

gboolean
dfly_output_place (int content_fd, guint64 length, const char *output, gboolean hardlink,
                   const char *digest, GCancellable *cancellable, GError **error)
{
  g_autoptr (DflyOutputTemp) temp = NULL;
  g_autoptr (GChecksum) checksum = NULL;
  GChecksumType checksum_type = G_CHECKSUM_SHA256;
  const char   *expected_hex = NULL;
  gboolean      linked = FALSE;

  if (digest != NULL && !parse_digest (digest, &checksum_type, &expected_hex)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "digest \"%s\" is not sha256:<64 hex> or sha512:<128 hex>", digest);
    return FALSE;
  }
  if (digest != NULL)
    checksum = g_checksum_new (checksum_type);
  temp = dfly_output_temp_new (output, error);
  if (temp == NULL)
    return FALSE;

  if (hardlink && checksum == NULL) {
    gboolean fallback = FALSE;

    linked = temp_file_link (temp, content_fd, length, &fallback, output, error);
    if (!linked && !fallback)
      return FALSE;
  }
  if (!linked && !copy_content (content_fd, temp->fd, length, checksum, expected_hex, digest,
                                output, cancellable, error))
    return FALSE;
  return dfly_output_temp_commit (temp, error);
}

typedef struct {
  DflyStorage *storage;
  char        *task_id;
  guint64      length;
  char        *output;
  gboolean     hardlink;
  char        *digest;
} PlaceJob;

static void
place_job_free (PlaceJob *job)
{
  g_object_unref (job->storage);
  g_free (job->task_id);
  g_free (job->output);
  g_free (job->digest);
  g_free (job);
}

static void
place_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PlaceJob *job = task_data;
  GError   *error = NULL;
  int       content_fd = dfly_storage_open_content (job->storage, job->task_id, &error);
  gboolean  placed =
    content_fd >= 0 && dfly_output_place (content_fd, job->length, job->output, job->hardlink,
                                          job->digest, cancellable, &error);

  if (content_fd >= 0)
    close (content_fd);
  if (placed)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
dfly_output_place_async (DflyStorage *storage, const char *task_id, guint64 length,
                         const char *output, gboolean hardlink, const char *digest,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  PlaceJob *job = g_new0 (PlaceJob, 1);

  job->storage = g_object_ref (storage);
  job->task_id = g_strdup (task_id);
  job->length = length;
  job->output = g_strdup (output);
  job->hardlink = hardlink;
  job->digest = g_strdup (digest);
  g_task_set_task_data (task, job, (GDestroyNotify) place_job_free);
  g_task_run_in_thread (task, place_thread);
}

gboolean
dfly_output_place_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
