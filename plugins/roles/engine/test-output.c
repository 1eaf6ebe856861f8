/* test-output.c — dfly-output: checking, placing and committing a download's output
 *
 * Each test gets a fresh temporary directory. Outputs must appear whole or
 * not at all: every failing case also checks that neither the output nor a
 * ".NAME.dfly-*" temporary file is left beside it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "dfly/dfly.h"
#include "dfly-output.h"

/* Larger than dfly-output.c's 1 MiB copy buffer, and not a multiple of it. */
#define CONTENT_SIZE (2 * 1024 * 1024 + 12345)

typedef struct {
  char   *dir;
  char   *content;      /* a CONTENT_SIZE file of pseudo-random bytes */
  GBytes *bytes;        /* its bytes */
  char   *readonly_dir; /* made immutable by one test; always made mutable again */
} OutputTest;

/* ------------------------------------------------------------------ helpers */

static char *
path_in (OutputTest *t, const char *name)
{
  return g_build_filename (t->dir, name, NULL);
}

static void
write_file (const char *path, const void *data, gsize size)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, data, size, &error));
  g_assert_no_error (error);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, size);
}

static void
assert_file_equals (const char *path, GBytes *expected)
{
  g_autoptr (GBytes) actual = read_file (path);

  g_assert_cmpmem (g_bytes_get_data (actual, NULL), g_bytes_get_size (actual),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static struct stat
stat_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st;
}

static void
assert_missing (const char *path)
{
  struct stat st;

  g_assert_cmpint (g_lstat (path, &st), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
}

/* No ".NAME.dfly-XXXXXX" temporary file anywhere in dir. */
static void
assert_no_temp_files (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL) {
    if (name[0] == '.' && strstr (name, ".dfly-") != NULL)
      g_error ("temporary file %s left in %s", name, dir);
  }
}

/* "sha256:<hex>" (or sha512) of data. */
static char *
digest_of (GChecksumType type, const void *data, gsize size)
{
  g_autofree char *hex = g_compute_checksum_for_data (type, data, size);

  return g_strconcat (type == G_CHECKSUM_SHA256 ? "sha256:" : "sha512:", hex, NULL);
}

static char *
digest_of_bytes (GChecksumType type, GBytes *bytes)
{
  return digest_of (type, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* The same digest with its last hex digit changed. */
static char *
digest_wrong (const char *digest)
{
  char *wrong = g_strdup (digest);
  char *last = wrong + strlen (wrong) - 1;

  *last = *last == '0' ? '1' : '0';
  return wrong;
}

static void
rm_rf (const char *path)
{
  GDir       *dir;
  struct stat st;

  if (g_lstat (path, &st) != 0)
    return;
  if (!S_ISDIR (st.st_mode)) {
    g_unlink (path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL) {
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

      rm_rf (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

/* What `chattr +i` / `chattr -i` do; FALSE where the file system (or our
 * lack of CAP_LINUX_IMMUTABLE) does not allow it. */
static gboolean
set_immutable (const char *path, gboolean immutable)
{
  int      fd = g_open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  int      flags = 0;
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = ioctl (fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = immutable ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ioctl (fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  g_close (fd, NULL);
  return ok;
}

static void
output_test_setup (OutputTest *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  guint8 *bytes = g_malloc (CONTENT_SIZE);

  t->dir = g_dir_make_tmp ("dfly-output-XXXXXX", &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < CONTENT_SIZE; i++)
    bytes[i] = (guint8) g_rand_int_range (rand, 0, 256);
  t->bytes = g_bytes_new_take (bytes, CONTENT_SIZE);
  t->content = path_in (t, "content.bin");
  write_file (t->content, g_bytes_get_data (t->bytes, NULL), CONTENT_SIZE);
}

static void
output_test_teardown (OutputTest *t, gconstpointer data)
{
  if (t->readonly_dir != NULL) {
    set_immutable (t->readonly_dir, FALSE);
    g_chmod (t->readonly_dir, 0755);
    g_free (t->readonly_dir);
  }
  rm_rf (t->dir);
  g_free (t->dir);
  g_free (t->content);
  g_bytes_unref (t->bytes);
}

#define OUTPUT_TEST_ADD(path, func) \
  g_test_add ((path), OutputTest, NULL, output_test_setup, (func), output_test_teardown)

/* ---------------------------------------------------------- dfly_output_check */

static void
assert_check_fails (const char *output, const char *const *refused, const char *message)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (dfly_output_check (output, refused, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);
}

static void
assert_check_passes (const char *output, const char *const *refused)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dfly_output_check (output, refused, &error));
  g_assert_no_error (error);
}

/* A file name in an existing, writable directory: fine, whether or not the
 * file exists (an existing one is replaced). */
static void
test_check_good (OutputTest *t, gconstpointer data)
{
  g_autofree char *cache = path_in (t, "cache");
  g_autofree char *state = path_in (t, "state");
  g_autofree char *fresh = path_in (t, "out.bin");
  g_autofree char *sibling = path_in (t, "cache2");
  g_autofree char *in_sibling = g_build_filename (sibling, "out.bin", NULL);
  const char      *refused[] = { cache, state, NULL };

  g_assert_cmpint (g_mkdir (cache, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (sibling, 0755), ==, 0);
  assert_check_passes (fresh, refused);
  assert_check_passes (fresh, NULL);
  assert_check_passes (t->content, refused); /* exists: will be replaced */
  /* A directory whose name merely starts like a refused one. */
  assert_check_passes (in_sibling, refused);
  /* Refused directories that do not exist refuse nothing else. */
  assert_check_passes (fresh, (const char *[]){ "/nonexistent/dfly", NULL });
}

static void
test_check_not_absolute (OutputTest *t, gconstpointer data)
{
  assert_check_fails ("out.bin", NULL, "output \"out.bin\" is not an absolute path");
  assert_check_fails ("./out.bin", NULL, "output \"./out.bin\" is not an absolute path");
  assert_check_fails ("../out.bin", NULL, "output \"../out.bin\" is not an absolute path");
  assert_check_fails ("", NULL, "output \"\" is not an absolute path");
  assert_check_fails (NULL, NULL, "output \"\" is not an absolute path");
}

static void
test_check_directory (OutputTest *t, gconstpointer data)
{
  g_autofree char *sub = path_in (t, "sub");
  g_autofree char *slash = g_strconcat (t->dir, "/out.bin/", NULL);
  g_autofree char *sub_slash = g_strconcat (sub, "/", NULL);
  g_autofree char *dot_dot = g_build_filename (sub, "..", NULL);
  g_autofree char *message = NULL;

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);

  /* A trailing '/' names a directory, existing or not. */
  message = g_strdup_printf ("output %s names a directory, not a file", slash);
  assert_check_fails (slash, NULL, message);
  g_clear_pointer (&message, g_free);
  message = g_strdup_printf ("output %s names a directory, not a file", sub_slash);
  assert_check_fails (sub_slash, NULL, message);
  g_clear_pointer (&message, g_free);

  /* An existing directory, by name or through "..". */
  message = g_strdup_printf ("output %s is a directory", sub);
  assert_check_fails (sub, NULL, message);
  g_clear_pointer (&message, g_free);
  message = g_strdup_printf ("output %s is a directory", dot_dot);
  assert_check_fails (dot_dot, NULL, message);
  g_clear_pointer (&message, g_free);
  assert_check_fails ("/", NULL, "output / names a directory, not a file");
}

static void
test_check_missing_parent (OutputTest *t, gconstpointer data)
{
  g_autofree char *missing = path_in (t, "missing");
  g_autofree char *output = g_build_filename (missing, "out.bin", NULL);
  g_autofree char *under_file = g_build_filename (t->content, "out.bin", NULL);
  g_autofree char *message = NULL;

  message = g_strdup_printf ("output directory %s does not exist", missing);
  assert_check_fails (output, NULL, message);
  g_clear_pointer (&message, g_free);
  /* A regular file is no directory either. */
  message = g_strdup_printf ("output directory %s does not exist", t->content);
  assert_check_fails (under_file, NULL, message);
}

/* The parent exists but cannot take a new file. As root only the immutable
 * flag (chattr +i) stops access(W_OK); without root, mode 0555 does. */
static void
test_check_not_writable (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GError) error = NULL;
  gboolean immutable;
  gboolean passed;
  int      expected_errno;

  t->readonly_dir = path_in (t, "readonly");
  output = g_build_filename (t->readonly_dir, "out.bin", NULL);
  g_assert_cmpint (g_mkdir (t->readonly_dir, 0755), ==, 0);

  immutable = getuid () == 0 && set_immutable (t->readonly_dir, TRUE);
  if (!immutable)
    g_assert_cmpint (g_chmod (t->readonly_dir, 0555), ==, 0);
  if (access (t->readonly_dir, W_OK) == 0) {
    g_assert_cmpint (g_chmod (t->readonly_dir, 0755), ==, 0);
    g_test_skip ("cannot make a directory unwritable here (root without chattr +i)");
    return;
  }
  expected_errno = errno;
  /* No assertion until the directory is writable again. */
  passed = dfly_output_check (output, NULL, &error);
  if (immutable)
    g_assert_true (set_immutable (t->readonly_dir, FALSE));
  g_assert_cmpint (g_chmod (t->readonly_dir, 0755), ==, 0);
  g_clear_pointer (&t->readonly_dir, g_free);

  g_assert_false (passed);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  message = g_strdup_printf ("output directory %s/readonly is not writable by dflyd: %s", t->dir,
                             g_strerror (expected_errno));
  g_assert_cmpstr (error->message, ==, message);
}

/* dflyd's cache and state directories, and anything below them, directly,
 * through "..", or through a symlink. */
static void
test_check_refused (OutputTest *t, gconstpointer data)
{
  g_autofree char *cache = path_in (t, "cache");
  g_autofree char *state = path_in (t, "state");
  g_autofree char *cache_sub = g_build_filename (cache, "tasks", NULL);
  g_autofree char *other = path_in (t, "other");
  g_autofree char *link = path_in (t, "link");
  g_autofree char *cache_slash = g_strconcat (cache, "/", NULL);
  const char      *refused[] = { cache, state, NULL };
  const char      *refused_slash[] = { cache_slash, NULL };
  g_autofree char *output = NULL;
  g_autofree char *message = NULL;

  g_assert_cmpint (g_mkdir (cache, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (cache_sub, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (state, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (other, 0755), ==, 0);
  g_assert_cmpint (symlink (cache_sub, link), ==, 0);

#define REFUSED(path_, dir_, list_)                                                             \
  G_STMT_START                                                                                  \
  {                                                                                             \
    g_free (output);                                                                            \
    g_free (message);                                                                           \
    output = (path_);                                                                           \
    message = g_strdup_printf ("output %s is inside dflyd's own directory %s", output, (dir_)); \
    assert_check_fails (output, (list_), message);                                              \
  }                                                                                             \
  G_STMT_END

  REFUSED (g_build_filename (cache, "out.bin", NULL), cache, refused);
  REFUSED (g_build_filename (cache_sub, "out.bin", NULL), cache, refused);
  REFUSED (g_build_filename (state, "out.bin", NULL), state, refused);
  /* Given with a trailing slash. */
  REFUSED (g_build_filename (cache, "out.bin", NULL), cache_slash, refused_slash);
  /* ".." that climbs back into the cache. */
  REFUSED (g_strconcat (other, "/../cache/out.bin", NULL), cache, refused);
  REFUSED (g_strconcat (other, "/../cache/tasks/../out.bin", NULL), cache, refused);
  /* A symlinked directory that points into the cache. */
  REFUSED (g_build_filename (link, "out.bin", NULL), cache, refused);
#undef REFUSED
}

/* The refused directory itself reached through a symlink, and a refused
 * directory that is a symlink. */
static void
test_check_refused_symlinks (OutputTest *t, gconstpointer data)
{
  g_autofree char *real = path_in (t, "real-cache");
  g_autofree char *cache_link = path_in (t, "cache");
  g_autofree char *via_real = g_build_filename (real, "out.bin", NULL);
  g_autofree char *via_link = g_build_filename (cache_link, "out.bin", NULL);
  const char      *refused_link[] = { cache_link, NULL };
  const char      *refused_real[] = { real, NULL };
  g_autofree char *message = NULL;

  g_assert_cmpint (g_mkdir (real, 0700), ==, 0);
  g_assert_cmpint (symlink (real, cache_link), ==, 0);

  message = g_strdup_printf ("output %s is inside dflyd's own directory %s", via_real, cache_link);
  assert_check_fails (via_real, refused_link, message);
  g_clear_pointer (&message, g_free);
  message = g_strdup_printf ("output %s is inside dflyd's own directory %s", via_link, real);
  assert_check_fails (via_link, refused_real, message);
}

/* ----------------------------------------------- dfly_output_digest_is_valid */

static void
test_digest_is_valid (void)
{
  g_autofree char *sha256 = digest_of (G_CHECKSUM_SHA256, "abc", 3);
  g_autofree char *sha512 = digest_of (G_CHECKSUM_SHA512, "abc", 3);
  g_autofree char *upper256 = g_ascii_strup (sha256, -1);
  g_autofree char *upper_hex = g_strconcat ("sha256:", upper256 + strlen ("SHA256:"), NULL);
  g_autofree char *short256 = g_strndup (sha256, strlen (sha256) - 1);
  g_autofree char *long256 = g_strconcat (sha256, "0", NULL);
  g_autofree char *hex512_as_256 = g_strconcat ("sha256:", sha512 + strlen ("sha512:"), NULL);
  g_autofree char *hex256_as_512 = g_strconcat ("sha512:", sha256 + strlen ("sha256:"), NULL);
  g_autofree char *sha1 = g_strconcat ("sha1:", sha256 + strlen ("sha256:"), NULL);
  g_autofree char *bare = g_strdup (sha256 + strlen ("sha256:"));
  g_autofree char *non_hex = g_strdup (sha256);
  g_autofree char *trailing_newline = g_strconcat (sha256, "\n", NULL);
  g_autofree char *space = g_strdup (sha256);

  g_assert_true (dfly_output_digest_is_valid (sha256));
  g_assert_true (dfly_output_digest_is_valid (sha512));
  /* Hex digits in either case (compared case-insensitively when placing). */
  g_assert_true (dfly_output_digest_is_valid (upper_hex));

  /* Wrong length. */
  g_assert_false (dfly_output_digest_is_valid (short256));
  g_assert_false (dfly_output_digest_is_valid (long256));
  g_assert_false (dfly_output_digest_is_valid (hex512_as_256));
  g_assert_false (dfly_output_digest_is_valid (hex256_as_512));
  g_assert_false (dfly_output_digest_is_valid ("sha256:"));
  g_assert_false (dfly_output_digest_is_valid (trailing_newline));
  /* Wrong or no prefix (the algorithm name is lowercase). */
  g_assert_false (dfly_output_digest_is_valid (sha1));
  g_assert_false (dfly_output_digest_is_valid (upper256));
  g_assert_false (dfly_output_digest_is_valid (bare));
  g_assert_false (dfly_output_digest_is_valid (""));
  /* Not hex. */
  non_hex[10] = 'g';
  g_assert_false (dfly_output_digest_is_valid (non_hex));
  space[20] = ' ';
  g_assert_false (dfly_output_digest_is_valid (space));
  g_assert_false (dfly_output_digest_is_valid (NULL));
}

/* ---------------------------------------------------------- dfly_output_place */

/* The one temporary file in dir (NULL when there is none). */
static char *
find_temp_file (const char *dir, const char *output_name)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autofree char *prefix = g_strdup_printf (".%s.dfly-", output_name);
  char            *found = NULL;
  const char      *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL) {
    if (g_str_has_prefix (name, prefix)) {
      g_assert_null (found);
      g_assert_cmpuint (strlen (name), ==, strlen (prefix) + 6);
      found = g_build_filename (dir, name, NULL);
    }
  }
  return found;
}

/* dfly_output_place from a read-only descriptor on content, as storage
 * hands out; a missing file gives it a descriptor that is not open (-1). */
static gboolean
place_from_a_file (const char *content, guint64 length, const char *output, gboolean hardlink,
                   const char *digest, GCancellable *cancellable, GError **error)
{
  int      fd = g_open (content, O_RDONLY | O_CLOEXEC, 0);
  gboolean placed = dfly_output_place (fd, length, output, hardlink, digest, cancellable, error);

  if (fd >= 0)
    g_assert_cmpint (close (fd), ==, 0);
  return placed;
}

static void
place_ok (const char *content, guint64 length, const char *output, gboolean hardlink,
          const char *digest)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (place_from_a_file (content, length, output, hardlink, digest, NULL, &error));
  g_assert_no_error (error);
}

/* The call fails with domain/code, and leaves neither output nor temp file. */
static GError *
place_fails (OutputTest *t, const char *content, guint64 length, const char *output,
             gboolean hardlink, const char *digest, GCancellable *cancellable)
{
  g_autofree char *dir = g_path_get_dirname (output);
  GError          *error = NULL;

  g_assert_false (
    place_from_a_file (content, length, output, hardlink, digest, cancellable, &error));
  g_assert_nonnull (error);
  assert_missing (output);
  assert_no_temp_files (dir);
  return error;
}

/* A copy with the bytes, a new inode and the mode the umask gives. */
static void
test_place_copy (OutputTest *t, gconstpointer data)
{
  static const mode_t masks[] = { 022, 027, 002, 077 };
  g_autofree char    *output = path_in (t, "out.bin");

  for (guint i = 0; i < G_N_ELEMENTS (masks); i++) {
    mode_t      old = umask (masks[i]);
    struct stat st;

    place_ok (t->content, CONTENT_SIZE, output, FALSE, NULL);
    umask (old);
    assert_file_equals (output, t->bytes);
    st = stat_of (output);
    g_assert_cmpuint (st.st_ino, !=, stat_of (t->content).st_ino);
    g_assert_cmpuint (st.st_nlink, ==, 1);
    g_assert_cmpint (st.st_mode & 07777, ==, 0666 & ~masks[i]);
    g_assert_cmpint (g_unlink (output), ==, 0);
  }
  assert_no_temp_files (t->dir);
}

/* Only length bytes are placed, even from a longer file. */
static void
test_place_prefix (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autoptr (GBytes) prefix = g_bytes_new_from_bytes (t->bytes, 0, 100000);
  g_autofree char *digest = digest_of_bytes (G_CHECKSUM_SHA256, prefix);

  place_ok (t->content, 100000, output, FALSE, NULL);
  assert_file_equals (output, prefix);
  place_ok (t->content, 100000, output, FALSE, digest);
  assert_file_equals (output, prefix);
}

static void
test_place_digest (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *sha256 = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  g_autofree char *sha512 = digest_of_bytes (G_CHECKSUM_SHA512, t->bytes);
  g_autofree char *upper = g_strdup (sha256);

  place_ok (t->content, CONTENT_SIZE, output, FALSE, sha256);
  assert_file_equals (output, t->bytes);
  g_assert_cmpint (g_unlink (output), ==, 0);

  place_ok (t->content, CONTENT_SIZE, output, FALSE, sha512);
  assert_file_equals (output, t->bytes);
  g_assert_cmpint (g_unlink (output), ==, 0);

  /* Uppercase hex is the same digest. */
  for (char *c = upper + strlen ("sha256:"); *c != '\0'; c++)
    *c = g_ascii_toupper (*c);
  place_ok (t->content, CONTENT_SIZE, output, FALSE, upper);
  assert_file_equals (output, t->bytes);
  assert_no_temp_files (t->dir);
}

static void
test_place_digest_mismatch (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *sha256 = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  g_autofree char *sha512 = digest_of_bytes (G_CHECKSUM_SHA512, t->bytes);
  g_autofree char *wrong256 = digest_wrong (sha256);
  g_autofree char *wrong512 = digest_wrong (sha512);
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) old = g_bytes_new_static ("old output", 10);

  error = place_fails (t, t->content, CONTENT_SIZE, output, FALSE, wrong256, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  expected =
    g_strdup_printf ("digest mismatch for %s: expected %s, got %s", output, wrong256, sha256);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  error = place_fails (t, t->content, CONTENT_SIZE, output, FALSE, wrong512, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  g_clear_error (&error);

  /* The digest of all the bytes does not match fewer of them. */
  error = place_fails (t, t->content, 0, output, FALSE, sha256, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  g_clear_error (&error);

  /* An output that was there stays as it was. */
  write_file (output, g_bytes_get_data (old, NULL), g_bytes_get_size (old));
  g_assert_false (
    place_from_a_file (t->content, CONTENT_SIZE, output, FALSE, wrong256, NULL, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  assert_file_equals (output, old);
  assert_no_temp_files (t->dir);
}

/* A digest that is not one is refused before anything is written. */
static void
test_place_bad_digest (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autoptr (GError) error = NULL;

  error = place_fails (t, t->content, CONTENT_SIZE, output, FALSE, "md5:abc", NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "digest \"md5:abc\" is not sha256:<64 hex> or sha512:<128 hex>");
}

/* An existing output is replaced by a rename: a new inode, and a reader of
 * the old file still sees every old byte. */
static void
test_place_replace (OutputTest *t, gconstpointer data)
{
  g_autofree char  *output = path_in (t, "out.bin");
  g_autofree char  *digest = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  static const char old[] = "the previous version of the output";
  char              seen[sizeof old] = { 0 };
  struct stat       before;
  int               old_fd;

  for (guint with_digest = 0; with_digest < 2; with_digest++) {
    write_file (output, old, sizeof old);
    before = stat_of (output);
    old_fd = g_open (output, O_RDONLY | O_CLOEXEC, 0);
    g_assert_cmpint (old_fd, >=, 0);

    place_ok (t->content, CONTENT_SIZE, output, FALSE, with_digest ? digest : NULL);
    g_assert_cmpuint (stat_of (output).st_ino, !=, before.st_ino);
    assert_file_equals (output, t->bytes);
    g_assert_cmpint (pread (old_fd, seen, sizeof seen, 0), ==, sizeof old);
    g_assert_cmpmem (seen, sizeof seen, old, sizeof old);
    g_close (old_fd, NULL);
  }
  assert_no_temp_files (t->dir);
}

/* A hard link shares the content file's inode; asked for a digest too, it
 * copies instead, so the bytes can be checked. */
static void
test_place_hardlink (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *digest = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  g_autofree char *wrong = digest_wrong (digest);
  g_autoptr (GError) error = NULL;
  struct stat content = stat_of (t->content);
  struct stat st;

  place_ok (t->content, CONTENT_SIZE, output, TRUE, NULL);
  st = stat_of (output);
  g_assert_cmpuint (st.st_ino, ==, content.st_ino);
  g_assert_cmpuint (st.st_dev, ==, content.st_dev);
  g_assert_cmpuint (st.st_nlink, ==, 2);
  assert_file_equals (output, t->bytes);

  g_assert_cmpint (g_unlink (output), ==, 0);

  place_ok (t->content, CONTENT_SIZE, output, TRUE, digest);
  st = stat_of (output);
  g_assert_cmpuint (st.st_ino, !=, content.st_ino);
  g_assert_cmpuint (st.st_nlink, ==, 1);
  g_assert_cmpuint (stat_of (t->content).st_nlink, ==, 1);
  assert_file_equals (output, t->bytes);
  g_assert_cmpint (g_unlink (output), ==, 0);

  error = place_fails (t, t->content, CONTENT_SIZE, output, TRUE, wrong, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  g_assert_cmpuint (stat_of (t->content).st_nlink, ==, 1);
  assert_no_temp_files (t->dir);
}

/* Linking onto an output that already is a link to the content (the same
 * --hardlink download run twice): rename() between two names of one inode
 * does nothing and succeeds, so the temporary name must be removed too. */
static void
test_place_hardlink_again (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *leftover = NULL;
  struct stat      content = stat_of (t->content);

  place_ok (t->content, CONTENT_SIZE, output, TRUE, NULL);
  place_ok (t->content, CONTENT_SIZE, output, TRUE, NULL);
  g_assert_cmpuint (stat_of (output).st_ino, ==, content.st_ino);
  /* rename() between two names of one inode is a no-op: no link is left. */
  leftover = find_temp_file (t->dir, "out.bin");
  g_assert_null (leftover);
  g_assert_cmpuint (stat_of (t->content).st_nlink, ==, 2);
  assert_no_temp_files (t->dir);
}

/* A content file shorter than the task is an error, not a short output:
 * whether copied in the kernel or through the buffer for a digest. */
static void
test_place_short_content (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *digest = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  g_autoptr (GError) error = NULL;

  error = place_fails (t, t->content, CONTENT_SIZE + 1, output, FALSE, NULL, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "shorter than the task"));
  g_clear_error (&error);

  error = place_fails (t, t->content, CONTENT_SIZE + 4096, output, FALSE, digest, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "shorter than the task"));
  g_clear_error (&error);

  /* A content file that is missing altogether: no descriptor to read. */
  {
    g_autofree char *missing = path_in (t, "missing.bin");

    error = place_fails (t, missing, 10, output, FALSE, NULL, NULL);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
    g_clear_error (&error);
  }
}

/* Linked, the content file must hold exactly length bytes too: the link
 * is the whole file, so a short (or long) one would be the output. */
static void
test_place_hardlink_short (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autoptr (GError) error = NULL;

  g_assert_false (
    place_from_a_file (t->content, CONTENT_SIZE + 1, output, TRUE, NULL, NULL, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  assert_missing (output);
  assert_no_temp_files (t->dir);
}

static void
test_place_empty (OutputTest *t, gconstpointer data)
{
  g_autofree char *empty = path_in (t, "empty.bin");
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *sha256 = digest_of (G_CHECKSUM_SHA256, "", 0);
  g_autofree char *sha512 = digest_of (G_CHECKSUM_SHA512, "", 0);
  g_autofree char *wrong = digest_wrong (sha256);
  g_autoptr (GError) error = NULL;
  const char *digests[] = { NULL, sha256, sha512 };

  write_file (empty, "", 0);
  for (guint i = 0; i < G_N_ELEMENTS (digests); i++) {
    place_ok (empty, 0, output, FALSE, digests[i]);
    g_assert_cmpint (stat_of (output).st_size, ==, 0);
    g_assert_cmpuint (stat_of (output).st_ino, !=, stat_of (empty).st_ino);
    g_assert_cmpint (g_unlink (output), ==, 0);
  }
  place_ok (empty, 0, output, TRUE, NULL);
  g_assert_cmpuint (stat_of (output).st_ino, ==, stat_of (empty).st_ino);
  g_assert_cmpint (g_unlink (output), ==, 0);

  /* 0 bytes of a non-empty file are an empty output too. */
  place_ok (t->content, 0, output, FALSE, sha256);
  g_assert_cmpint (stat_of (output).st_size, ==, 0);
  g_assert_cmpint (g_unlink (output), ==, 0);

  error = place_fails (t, empty, 0, output, FALSE, wrong, NULL);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH);
  assert_no_temp_files (t->dir);
}

/* A cancelled placement leaves nothing, on either copy path. dfly-output.c
 * hands back GCancellable's own error (G_IO_ERROR_CANCELLED). */
static void
test_place_cancelled (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *digest = digest_of_bytes (G_CHECKSUM_SHA256, t->bytes);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  const char *digests[] = { NULL, digest };

  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < G_N_ELEMENTS (digests); i++) {
    g_autoptr (GError) error =
      place_fails (t, t->content, CONTENT_SIZE, output, FALSE, digests[i], cancellable);

    g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                   g_error_matches (error, DFLY_ERROR, DFLY_ERROR_CANCELLED));
  }
  /* An output that was there stays. */
  write_file (output, "old", 3);
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (
      place_from_a_file (t->content, CONTENT_SIZE, output, FALSE, NULL, cancellable, &error));
    g_assert_nonnull (error);
  }
  g_assert_cmpint (stat_of (output).st_size, ==, 3);
  assert_no_temp_files (t->dir);
}

/* Nowhere to put the temporary file: an I/O error naming the directory. */
static void
test_place_no_directory (OutputTest *t, gconstpointer data)
{
  g_autofree char *missing = path_in (t, "missing");
  g_autofree char *output = g_build_filename (missing, "out.bin", NULL);
  g_autofree char *expected =
    g_strdup_printf ("creating a temporary file in %s: %s", missing, g_strerror (ENOENT));
  g_autoptr (GError) error = NULL;

  g_assert_false (place_from_a_file (t->content, CONTENT_SIZE, output, FALSE, NULL, NULL, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_cmpstr (error->message, ==, expected);
  assert_missing (missing);
}

/* ------------------------------------------------------------ DflyOutputTemp */

static void
test_temp_commit (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *temp_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) expected = g_bytes_new_static ("hello", 5);
  DflyOutputTemp *temp;
  mode_t          old = umask (027);
  struct stat     st;

  temp = dfly_output_temp_new (output, &error);
  umask (old);
  g_assert_no_error (error);
  g_assert_nonnull (temp);
  g_assert_cmpint (dfly_output_temp_get_fd (temp), >=, 0);
  temp_path = find_temp_file (t->dir, "out.bin");
  g_assert_nonnull (temp_path);
  st = stat_of (temp_path);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  assert_missing (output);

  g_assert_cmpint (pwrite (dfly_output_temp_get_fd (temp), "hello", 5, 0), ==, 5);
  g_assert_true (dfly_output_temp_commit (temp, &error));
  g_assert_no_error (error);
  assert_missing (temp_path);
  g_assert_cmpuint (stat_of (output).st_ino, ==, st.st_ino);
  /* Freeing a committed one leaves the output alone. */
  dfly_output_temp_free (temp);
  assert_file_equals (output, expected);
  assert_no_temp_files (t->dir);

  /* Over an existing output. */
  temp = dfly_output_temp_new (output, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pwrite (dfly_output_temp_get_fd (temp), "HELLO", 5, 0), ==, 5);
  g_assert_true (dfly_output_temp_commit (temp, &error));
  g_assert_no_error (error);
  dfly_output_temp_free (temp);
  {
    g_autoptr (GBytes) upper = g_bytes_new_static ("HELLO", 5);

    assert_file_equals (output, upper);
  }
  assert_no_temp_files (t->dir);
}

static void
test_temp_free (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = path_in (t, "out.bin");
  g_autofree char *temp_path = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (DflyOutputTemp) temp = dfly_output_temp_new (output, &error);

    g_assert_no_error (error);
    g_assert_cmpint (pwrite (dfly_output_temp_get_fd (temp), "hello", 5, 0), ==, 5);
    temp_path = find_temp_file (t->dir, "out.bin");
    g_assert_nonnull (temp_path);
  }
  assert_missing (temp_path);
  assert_missing (output);
  assert_no_temp_files (t->dir);

  /* Two at once get different names; an existing output is left alone. */
  write_file (output, "keep", 4);
  {
    g_autoptr (DflyOutputTemp) a = dfly_output_temp_new (output, &error);
    g_autoptr (DflyOutputTemp) b = dfly_output_temp_new (output, &error);

    g_assert_no_error (error);
    g_assert_nonnull (a);
    g_assert_nonnull (b);
  }
  g_assert_cmpint (stat_of (output).st_size, ==, 4);
  assert_no_temp_files (t->dir);
  dfly_output_temp_free (NULL);
}

static void
test_temp_no_directory (OutputTest *t, gconstpointer data)
{
  g_autofree char *output = g_build_filename (t->dir, "missing", "out.bin", NULL);
  g_autoptr (GError) error = NULL;
  DflyOutputTemp *temp = dfly_output_temp_new (output, &error);

  g_assert_null (temp);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  OUTPUT_TEST_ADD ("/output/check/good", test_check_good);
  OUTPUT_TEST_ADD ("/output/check/not-absolute", test_check_not_absolute);
  OUTPUT_TEST_ADD ("/output/check/directory", test_check_directory);
  OUTPUT_TEST_ADD ("/output/check/missing-parent", test_check_missing_parent);
  OUTPUT_TEST_ADD ("/output/check/not-writable", test_check_not_writable);
  OUTPUT_TEST_ADD ("/output/check/refused", test_check_refused);
  OUTPUT_TEST_ADD ("/output/check/refused-symlinks", test_check_refused_symlinks);
  g_test_add_func ("/output/digest-is-valid", test_digest_is_valid);
  OUTPUT_TEST_ADD ("/output/place/copy", test_place_copy);
  OUTPUT_TEST_ADD ("/output/place/prefix", test_place_prefix);
  OUTPUT_TEST_ADD ("/output/place/digest", test_place_digest);
  OUTPUT_TEST_ADD ("/output/place/digest-mismatch", test_place_digest_mismatch);
  OUTPUT_TEST_ADD ("/output/place/bad-digest", test_place_bad_digest);
  OUTPUT_TEST_ADD ("/output/place/replace", test_place_replace);
  OUTPUT_TEST_ADD ("/output/place/hardlink", test_place_hardlink);
  OUTPUT_TEST_ADD ("/output/place/hardlink-again", test_place_hardlink_again);
  OUTPUT_TEST_ADD ("/output/place/short-content", test_place_short_content);
  OUTPUT_TEST_ADD ("/output/place/hardlink-short", test_place_hardlink_short);
  OUTPUT_TEST_ADD ("/output/place/empty", test_place_empty);
  OUTPUT_TEST_ADD ("/output/place/cancelled", test_place_cancelled);
  OUTPUT_TEST_ADD ("/output/place/no-directory", test_place_no_directory);
  OUTPUT_TEST_ADD ("/output/temp/commit", test_temp_commit);
  OUTPUT_TEST_ADD ("/output/temp/free", test_temp_free);
  OUTPUT_TEST_ADD ("/output/temp/no-directory", test_temp_no_directory);
  return g_test_run ();
}
