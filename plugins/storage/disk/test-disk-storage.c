/* test-disk-storage.c — the disk storage plugin on a real cache directory
 *
 * Each test gets a fresh temporary directory. The SIGKILL test re-executes
 * this binary as a writer (--sigkill-child DIR) and kills it mid-way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>

#include "dfly/dfly.h"

#include "dfly-disk-files.h"

/* From dfly-disk-storage.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_disk_storage_get_type (void);

#define KIB 1024
/* Valid, and never held. */
#define ZERO_ID "0000000000000000000000000000000000000000000000000000000000000000"

/* ------------------------------------------------------------------ helpers */

static char *
make_task_id (guint n)
{
  g_autofree char *seed = g_strdup_printf ("task-%u", n);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);
}

/* Ids of tasks 1..n, NULL-terminated. */
static GStrv
make_task_ids (guint n)
{
  GStrv ids = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    ids[i] = make_task_id (i + 1);
  return ids;
}

static guint8
pattern_byte (guint64 offset, guint seed)
{
  return (guint8) ((offset * 131 + offset / 4093 + seed * 17) & 0xff);
}

static void
fill_pattern (guint8 *buffer, gsize length, guint64 offset, guint seed)
{
  for (gsize i = 0; i < length; i++)
    buffer[i] = pattern_byte (offset + i, seed);
}

static DflyConfig *
config_new (const char *cache_dir)
{
  DflyConfig *config = dfly_config_new_default ();

  g_free (config->daemon.cache_dir);
  config->daemon.cache_dir = g_strdup (cache_dir);
  return config;
}

static DflyStorage *
storage_new (DflyContext *context)
{
  return g_object_new (dfly_disk_storage_get_type (), "context", context, "name", "disk", NULL);
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir != NULL) {
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      struct stat      st;

      if (lstat (child, &st) == 0 && S_ISDIR (st.st_mode))
        rm_rf (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

typedef struct {
  char        *dir;       /* the temporary directory */
  char        *cache_dir; /* daemon.cache_dir, inside it, made by load() */
  DflyContext *context;
  DflyStorage *storage; /* loaded, unless the test asked otherwise */
} StorageTest;

#define NO_LOAD GUINT_TO_POINTER (1)

static void
open_storage (StorageTest *t)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (t->storage);
  t->storage = storage_new (t->context);
  g_assert_true (dfly_storage_load (t->storage, &error));
  g_assert_no_error (error);
}

static void
close_storage (StorageTest *t)
{
  g_assert_finalize_object (t->storage);
  t->storage = NULL;
}

static void
reopen_storage (StorageTest *t)
{
  close_storage (t);
  open_storage (t);
}

static DflyConfig *
test_config (StorageTest *t)
{
  return dfly_context_get_config (t->context);
}

static void
setup (StorageTest *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = NULL;

  t->dir = g_dir_make_tmp ("dfly-disk-test-XXXXXX", &error);
  g_assert_no_error (error);
  t->cache_dir = g_build_filename (t->dir, "cache", NULL);
  config = config_new (t->cache_dir);
  t->context = dfly_context_new (config);
  if (data != NO_LOAD)
    open_storage (t);
}

static void
teardown (StorageTest *t, gconstpointer data)
{
  if (t->storage != NULL)
    close_storage (t);
  g_assert_finalize_object (t->context);
  rm_rf (t->dir);
  g_free (t->cache_dir);
  g_free (t->dir);
}

#define STORAGE_TEST_ADD(path, func) g_test_add ((path), StorageTest, NULL, setup, (func), teardown)
#define STORAGE_TEST_ADD_UNLOADED(path, func) \
  g_test_add ((path), StorageTest, NO_LOAD, setup, (func), teardown)

static DflyTaskInfo *
open_task (DflyStorage *storage, const char *id, gint64 content_length, guint64 piece_length)
{
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new (id, "http://origin.test/file");
  g_autoptr (GError) error = NULL;
  DflyTaskInfo *held;

  task->content_length = content_length;
  task->piece_length = piece_length;
  if (content_length >= 0 && piece_length > 0)
    task->total_pieces = dfly_piece_count (content_length, piece_length);
  held = dfly_storage_open_task (storage, task, &error);
  g_assert_no_error (error);
  g_assert_nonnull (held);
  return held;
}

/* Writes piece number of a task (in a few chunks) with the pattern of seed. */
static void
write_piece (DflyStorage *storage, const char *id, guint32 number, guint64 piece_length,
             guint64 length, guint seed)
{
  g_autofree guint8 *buffer = g_malloc (length);
  g_autoptr (GError) error = NULL;
  guint64 offset = number * piece_length;
  guint64 done = 0;

  fill_pattern (buffer, length, offset, seed);
  while (done < length) {
    guint64 chunk = MIN (length - done, MAX (length / 3, 1));

    g_assert_true (dfly_storage_write (storage, id, offset + done, buffer + done, chunk, &error));
    g_assert_no_error (error);
    done += chunk;
  }
}

static void
commit_piece (DflyStorage *storage, const char *id, guint32 number, guint64 piece_length,
              guint64 length)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (id, number);
  g_autoptr (GError) error = NULL;

  piece->offset = number * piece_length;
  piece->length = length;
  piece->digest = g_strdup_printf ("crc32c:%08x", number);
  piece->parent_id = g_strdup ("127.0.0.1-parent");
  piece->cost_us = 1000 + number;
  g_assert_true (dfly_storage_commit_piece (storage, piece, &error));
  g_assert_no_error (error);
}

static void
put_piece (DflyStorage *storage, const char *id, guint32 number, guint64 piece_length,
           guint64 length, guint seed)
{
  write_piece (storage, id, number, piece_length, length, seed);
  commit_piece (storage, id, number, piece_length, length);
}

/* Reads length bytes of fd at offset; asserts they hold the pattern of seed
 * and that the file has them all. */
static void
assert_fd_pattern (int fd, guint64 offset, guint64 length, guint seed)
{
  guint8  buffer[7000]; /* not a divisor of any piece length */
  guint64 got = 0;

  while (got < length) {
    gssize n = pread (fd, buffer, MIN (sizeof buffer, length - got), (off_t) (offset + got));

    g_assert_cmpint (n, >, 0);
    for (gssize i = 0; i < n; i++) {
      if (buffer[i] != pattern_byte (offset + got + i, seed))
        g_error ("byte at %" G_GUINT64_FORMAT " is %u, expected %u", offset + got + i, buffer[i],
                 pattern_byte (offset + got + i, seed));
    }
    got += n;
  }
}

static int
open_content (DflyStorage *storage, const char *id)
{
  g_autoptr (GError) error = NULL;
  int fd = dfly_storage_open_content (storage, id, &error);

  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static void
assert_piece_bytes (DflyStorage *storage, const char *id, const DflyPieceInfo *piece, guint seed)
{
  int fd = open_content (storage, id);

  assert_fd_pattern (fd, piece->offset, piece->length, seed);
  g_assert_cmpint (close (fd), ==, 0);
}

/* The committed piece number of a task, or NULL. */
static DflyPieceInfo *
find_piece (DflyStorage *storage, const char *id, guint32 number)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pieces = dfly_storage_list_pieces (storage, id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < pieces->len; i++) {
    DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    if (piece->number == number)
      return dfly_piece_info_ref (piece);
  }
  return NULL;
}

static DflyTaskInfo *
lookup (DflyStorage *storage, const char *id)
{
  g_autoptr (GError) error = NULL;
  DflyTaskInfo *task = dfly_storage_lookup_task (storage, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (task);
  return task;
}

static void
assert_not_held (DflyStorage *storage, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTaskInfo) task = dfly_storage_lookup_task (storage, id, &error);

  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_assert_null (task);
}

/* Where the plugin keeps a task it holds. */
static char *
content_path (DflyStorage *storage, const char *id)
{
  DflyContext     *context = dfly_component_get_context (DFLY_COMPONENT (storage));
  g_autofree char *tasks_dir =
    g_build_filename (dfly_context_get_config (context)->daemon.cache_dir, "tasks", NULL);
  g_autoptr (DflyTaskInfo) task = lookup (storage, id);

  return dfly_disk_files_path (tasks_dir, task->id);
}

static char *
db_path (StorageTest *t)
{
  return g_build_filename (t->cache_dir, "storage.db", NULL);
}

/* Runs SQL on storage.db behind the storage's back: only while it is closed. */
static void
db_exec (StorageTest *t, const char *sql)
{
  g_autofree char *path = db_path (t);
  sqlite3         *db = NULL;
  char            *message = NULL;

  g_assert_null (t->storage);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

static gint64
db_query_int (StorageTest *t, const char *sql)
{
  g_autofree char *path = db_path (t);
  sqlite3         *db = NULL;
  sqlite3_stmt    *stmt = NULL;
  gint64           value;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* Closes the storage, sets each task's last_used, and opens it again. */
static void
set_last_used (StorageTest *t, const char *const *ids, const gint64 *last_used, guint n)
{
  close_storage (t);
  for (guint i = 0; i < n; i++) {
    g_autofree char *sql = g_strdup_printf (
      "UPDATE tasks SET last_used = %" G_GINT64_FORMAT " WHERE id = '%s'", last_used[i], ids[i]);

    db_exec (t, sql);
  }
  open_storage (t);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* -------------------------------------------------------------------- tests */

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "disk");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_STORAGE);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_STORAGE));
}

/* open, lookup, update and list agree, and the layout is as documented. */
static void
test_round_trip (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  g_autofree char *other_id = make_task_id (2);
  g_autofree char *path = NULL;
  g_autofree char *expected_path = NULL;
  g_autofree char *prefix = g_strndup (id, 2);
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new (id, "http://origin.test/a?x=1");
  g_autoptr (DflyTaskInfo) held = NULL;
  g_autoptr (DflyTaskInfo) again = NULL;
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (DflyTaskInfo) other = NULL;
  g_autoptr (DflyTaskInfo) update = NULL;
  g_autoptr (GPtrArray) tasks = NULL;
  g_autoptr (GError) error = NULL;
  gint64      before = now_seconds ();
  struct stat st, fd_st;
  int         fd;

  g_assert_cmpint (stat (t->cache_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  task->tag = g_strdup ("tag");
  task->application = g_strdup ("app");
  task->piece_length = 4 * KIB;
  held = dfly_storage_open_task (t->storage, task, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (held->id, ==, id);
  g_assert_cmpstr (held->url, ==, "http://origin.test/a?x=1");
  g_assert_cmpstr (held->tag, ==, "tag");
  g_assert_cmpstr (held->application, ==, "app");
  g_assert_null (held->digest);
  g_assert_cmpuint (held->piece_length, ==, 4 * KIB);
  g_assert_cmpint (held->content_length, ==, -1);
  g_assert_cmpuint (held->total_pieces, ==, 0);
  g_assert_cmpint (held->state, ==, DFLY_TASK_STATE_PENDING);
  g_assert_cmpuint (held->completed_length, ==, 0);
  g_assert_cmpint (held->last_used, >=, before);
  g_assert_cmpint (held->last_used, <=, now_seconds ());

  /* Opening again returns the record held, not the caller's. */
  g_free (task->url);
  task->url = g_strdup ("http://elsewhere.test/");
  again = dfly_storage_open_task (t->storage, task, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->url, ==, "http://origin.test/a?x=1");

  /* What became known is recorded. */
  update = dfly_task_info_copy (held);
  update->content_length = 10 * KIB;
  update->total_pieces = 3;
  update->digest = g_strdup ("sha256:0123");
  update->state = DFLY_TASK_STATE_RUNNING;
  update->completed_length = 999; /* ignored: the storage counts */
  g_assert_true (dfly_storage_update_task (t->storage, update, &error));
  g_assert_no_error (error);
  looked = lookup (t->storage, id);
  g_assert_cmpint (looked->content_length, ==, 10 * KIB);
  g_assert_cmpuint (looked->total_pieces, ==, 3);
  g_assert_cmpstr (looked->digest, ==, "sha256:0123");
  g_assert_cmpint (looked->state, ==, DFLY_TASK_STATE_RUNNING);
  g_assert_cmpuint (looked->completed_length, ==, 0);
  g_assert_cmpstr (looked->tag, ==, "tag");

  /* The content file: tasks/<2 hex>/<id>, sized once the length is known,
   * is what open_content hands out. */
  path = content_path (t->storage, id);
  expected_path = g_build_filename (t->cache_dir, "tasks", prefix, id, NULL);
  g_assert_cmpstr (path, ==, expected_path);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 10 * KIB);
  fd = open_content (t->storage, id);
  g_assert_cmpint (fstat (fd, &fd_st), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpuint (fd_st.st_ino, ==, st.st_ino);
  g_assert_cmpuint (fd_st.st_dev, ==, st.st_dev);

  /* A known length does not change. */
  update->content_length = 11 * KIB;
  g_assert_false (dfly_storage_update_task (t->storage, update, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  other = open_task (t->storage, other_id, 0, 4 * KIB);
  tasks = dfly_storage_list_tasks (t->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tasks->len, ==, 2);

  /* Unknown tasks. */
  assert_not_held (t->storage, ZERO_ID);
  g_free (update->id);
  update->id = g_strdup (ZERO_ID);
  g_assert_false (dfly_storage_update_task (t->storage, update, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (dfly_storage_open_content (t->storage, update->id, &error), ==, -1);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dfly_storage_write (t->storage, update->id, 0, "x", 1, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (dfly_storage_list_pieces (t->storage, update->id, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dfly_storage_delete_task (t->storage, update->id, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
}

/* list_tasks: most recently used first. */
static void
test_list_order (StorageTest *t, gconstpointer data)
{
  g_auto (GStrv) ids = make_task_ids (3);
  gint64 now = now_seconds ();
  gint64 last_used[3] = { now - 50, now - 10, now - 30 };
  g_autoptr (GPtrArray) tasks = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 3; i++)
    dfly_task_info_unref (open_task (t->storage, ids[i], -1, 0));
  set_last_used (t, (const char *const *) ids, last_used, 3);
  tasks = dfly_storage_list_tasks (t->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tasks->len, ==, 3);
  g_assert_cmpstr (((DflyTaskInfo *) tasks->pdata[0])->id, ==, ids[1]);
  g_assert_cmpstr (((DflyTaskInfo *) tasks->pdata[1])->id, ==, ids[2]);
  g_assert_cmpstr (((DflyTaskInfo *) tasks->pdata[2])->id, ==, ids[0]);
  g_assert_cmpint (((DflyTaskInfo *) tasks->pdata[2])->last_used, ==, now - 50);

  /* Acquiring marks a task used now. */
  dfly_storage_acquire_task (t->storage, ids[0]);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = dfly_storage_list_tasks (t->storage, &error);
  g_assert_cmpstr (((DflyTaskInfo *) tasks->pdata[0])->id, ==, ids[0]);
  g_assert_cmpint (((DflyTaskInfo *) tasks->pdata[0])->last_used, >=, now);
  dfly_storage_release_task (t->storage, ids[0]);

  /* Kept in memory (pins come from the main loop), and in the index once
   * the storage goes: a restart still knows it. */
  close_storage (t);
  open_storage (t);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = dfly_storage_list_tasks (t->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((DflyTaskInfo *) tasks->pdata[0])->id, ==, ids[0]);
  g_assert_cmpint (((DflyTaskInfo *) tasks->pdata[0])->last_used, >=, now);
}

/* Written and committed pieces are listed and read back byte for byte. */
static void
test_pieces (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  const guint64    piece_length = 64 * KIB;
  const gint64     content_length = 2 * piece_length + 1000;
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, content_length, piece_length);
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;

  put_piece (t->storage, id, 2, piece_length, 1000, 7);
  put_piece (t->storage, id, 0, piece_length, piece_length, 7);
  put_piece (t->storage, id, 1, piece_length, piece_length, 7);

  pieces = dfly_storage_list_pieces (t->storage, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    const DflyPieceInfo *piece = pieces->pdata[i];
    g_autofree char     *digest = g_strdup_printf ("crc32c:%08x", i);

    g_assert_cmpstr (piece->task_id, ==, id);
    g_assert_cmpuint (piece->number, ==, i);
    g_assert_cmpuint (piece->offset, ==, i * piece_length);
    g_assert_cmpuint (piece->length, ==, i < 2 ? piece_length : 1000);
    g_assert_cmpstr (piece->digest, ==, digest);
    g_assert_cmpuint (piece->cost_us, ==, 1000 + i);
    assert_piece_bytes (t->storage, id, piece, 7);
  }
  looked = lookup (t->storage, id);
  g_assert_cmpuint (looked->completed_length, ==, content_length);

  /* Committing a piece again counts it once. */
  put_piece (t->storage, id, 1, piece_length, piece_length, 7);
  g_clear_pointer (&looked, dfly_task_info_unref);
  looked = lookup (t->storage, id);
  g_assert_cmpuint (looked->completed_length, ==, content_length);

  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 1);
  g_assert_cmpuint (usage.bytes, ==, content_length);
  g_assert_cmpuint (usage.quota, >, 0);

  /* Pieces that do not fit the task are refused. */
  {
    g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (id, 3);

    piece->offset = 3 * piece_length;
    piece->length = 10;
    g_assert_false (dfly_storage_commit_piece (t->storage, piece, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    piece->number = 1;
    piece->offset = 5;
    g_assert_false (dfly_storage_commit_piece (t->storage, piece, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    piece->offset = piece_length;
    piece->length = 0;
    g_assert_false (dfly_storage_commit_piece (t->storage, piece, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  g_assert_false (dfly_storage_write (t->storage, id, content_length - 1, "ab", 2, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
}

/* Bytes written but not committed are invisible. */
static void
test_uncommitted (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  const guint64    piece_length = 16 * KIB;
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, 4 * piece_length, piece_length);
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;

  put_piece (t->storage, id, 0, piece_length, piece_length, 1);
  write_piece (t->storage, id, 1, piece_length, piece_length, 1);
  write_piece (t->storage, id, 2, piece_length, piece_length / 2, 1);

  pieces = dfly_storage_list_pieces (t->storage, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, 1);
  g_assert_cmpuint (((DflyPieceInfo *) pieces->pdata[0])->number, ==, 0);
  g_assert_null (find_piece (t->storage, id, 1));
  g_assert_null (find_piece (t->storage, id, 7));
  looked = lookup (t->storage, id);
  g_assert_cmpuint (looked->completed_length, ==, piece_length);
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.bytes, ==, piece_length);
}

/* A large task with few pieces takes little disk. */
static void
test_sparse (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  const guint64    piece_length = 4 * KIB * KIB;
  const gint64     content_length = G_GINT64_CONSTANT (1) << 30;
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, content_length, piece_length);
  g_autofree char *path = content_path (t->storage, id);
  struct stat      st;

  put_piece (t->storage, id, 0, piece_length, 64 * KIB, 3);
  put_piece (t->storage, id, 200, piece_length, 64 * KIB, 3);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, content_length);
  g_assert_cmpint ((gint64) st.st_blocks * 512, <, 4 * KIB * KIB);
}

/* Ids become file names: only 64 lowercase hex digits pass. */
static void
test_invalid_ids (StorageTest *t, gconstpointer data)
{
  g_autofree char *valid = make_task_id (1);
  g_autofree char *upper = g_ascii_strup (valid, -1);
  g_autofree char *short_id = g_strndup (valid, 63);
  g_autofree char *long_id = g_strconcat (valid, "0", NULL);
  g_autofree char *dotdot = g_strconcat ("../", valid + 3, NULL);
  g_autofree char *slash = g_strdup (valid);
  const char      *bad[] = { "../x", upper, short_id, long_id, "", dotdot, slash, NULL };
  g_autofree char *tasks_dir = g_build_filename (t->cache_dir, "tasks", NULL);
  g_autoptr (GDir) dir = NULL;

  slash[10] = '/';
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (DflyTaskInfo) task = dfly_task_info_new (bad[i], "http://origin.test/");
    g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (bad[i], 0);
    g_autoptr (GError) error = NULL;

    piece->length = 1;
    g_assert_null (dfly_storage_open_task (t->storage, task, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (dfly_storage_lookup_task (t->storage, bad[i], &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (dfly_storage_update_task (t->storage, task, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (dfly_storage_write (t->storage, bad[i], 0, "x", 1, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (dfly_storage_commit_piece (t->storage, piece, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (dfly_storage_list_pieces (t->storage, bad[i], &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_cmpint (dfly_storage_open_content (t->storage, bad[i], &error), ==, -1);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (dfly_storage_delete_task (t->storage, bad[i], &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    dfly_storage_acquire_task (t->storage, bad[i]);
    dfly_storage_release_task (t->storage, bad[i]);
  }
  /* Nothing was created anywhere. */
  dir = g_dir_open (tasks_dir, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
}

/* A new storage object on the same directory holds exactly what was committed. */
/* A piece whose bytes went bad is dropped: no longer listed or counted, a
 * succeeded task runs again (pending after a restart), and it stays dropped. */
static void
test_drop_piece (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  g_autofree char *other = make_task_id (2);
  const guint64    piece_length = 8 * KIB;
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, 3 * piece_length, piece_length);
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (DflyTaskInfo) reopened = NULL;
  g_autoptr (DflyPieceInfo) dropped = NULL;
  g_autoptr (DflyPieceInfo) kept = NULL;
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;

  for (guint32 n = 0; n < 3; n++)
    put_piece (t->storage, id, n, piece_length, piece_length, 7);
  task->state = DFLY_TASK_STATE_SUCCEEDED;
  g_assert_true (dfly_storage_update_task (t->storage, task, &error));
  g_assert_no_error (error);

  g_assert_true (dfly_storage_drop_piece (t->storage, id, 1, &error));
  g_assert_no_error (error);
  looked = lookup (t->storage, id);
  g_assert_cmpint (looked->state, ==, DFLY_TASK_STATE_RUNNING);
  g_assert_cmpuint (looked->completed_length, ==, 2 * piece_length);
  g_assert_cmpuint (looked->from_parents, ==, 2 * piece_length);
  dropped = find_piece (t->storage, id, 1);
  g_assert_null (dropped);
  kept = find_piece (t->storage, id, 2);
  g_assert_nonnull (kept);
  assert_piece_bytes (t->storage, id, kept, 7);
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.bytes, ==, 2 * piece_length);

  /* Not held (any more), or no such task. */
  g_assert_false (dfly_storage_drop_piece (t->storage, id, 1, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dfly_storage_drop_piece (t->storage, other, 0, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  reopen_storage (t);
  reopened = lookup (t->storage, id);
  g_assert_cmpint (reopened->state, ==, DFLY_TASK_STATE_PENDING);
  g_assert_cmpuint (reopened->completed_length, ==, 2 * piece_length);
  g_clear_pointer (&dropped, dfly_piece_info_unref);
  dropped = find_piece (t->storage, id, 1);
  g_assert_null (dropped);
}

static void
test_reopen (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  const guint64    piece_length = 8 * KIB;
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, 10 * piece_length, piece_length);
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GError) error = NULL;
  const guint32    committed[] = { 0, 2, 5, 9 };
  DflyStorageUsage usage;

  for (guint i = 0; i < G_N_ELEMENTS (committed); i++)
    put_piece (t->storage, id, committed[i], piece_length, piece_length, 4);
  write_piece (t->storage, id, 3, piece_length, piece_length, 4);
  task->state = DFLY_TASK_STATE_SUCCEEDED;
  g_assert_true (dfly_storage_update_task (t->storage, task, &error));

  reopen_storage (t);
  looked = lookup (t->storage, id);
  g_assert_cmpint (looked->state, ==, DFLY_TASK_STATE_SUCCEEDED);
  g_assert_cmpint (looked->content_length, ==, 10 * piece_length);
  g_assert_cmpuint (looked->piece_length, ==, piece_length);
  g_assert_cmpuint (looked->total_pieces, ==, 10);
  g_assert_cmpuint (looked->completed_length, ==, 4 * piece_length);
  g_assert_cmpstr (looked->url, ==, "http://origin.test/file");
  pieces = dfly_storage_list_pieces (t->storage, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, G_N_ELEMENTS (committed));
  for (guint i = 0; i < pieces->len; i++) {
    const DflyPieceInfo *piece = pieces->pdata[i];
    g_autofree char     *digest = g_strdup_printf ("crc32c:%08x", committed[i]);

    g_assert_cmpuint (piece->number, ==, committed[i]);
    g_assert_cmpuint (piece->offset, ==, committed[i] * piece_length);
    g_assert_cmpuint (piece->length, ==, piece_length);
    g_assert_cmpstr (piece->digest, ==, digest);
    g_assert_cmpuint (piece->cost_us, ==, 1000 + committed[i]);
    g_assert_cmpstr (piece->parent_id, ==, "127.0.0.1-parent");
    assert_piece_bytes (t->storage, id, piece, 4);
  }
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 1);
  g_assert_cmpuint (usage.bytes, ==, 4 * piece_length);
}

/* --- SIGKILL: a child writes and commits until killed --------------------- */

#define KILL_PIECE_LENGTH (16 * KIB)
#define KILL_PIECES       100000
#define KILL_AFTER        40
#define KILL_SEED         9

static int
run_sigkill_child (const char *cache_dir)
{
  g_autoptr (DflyConfig) config = config_new (cache_dir);
  g_autoptr (DflyContext) context = dfly_context_new (config);
  g_autoptr (DflyStorage) storage = storage_new (context);
  g_autofree char *id = make_task_id (1);
  g_autoptr (DflyTaskInfo) task = NULL;
  g_autoptr (GError) error = NULL;

  if (!dfly_storage_load (storage, &error))
    g_error ("child: %s", error->message);
  task = open_task (storage, id, (gint64) KILL_PIECES * KILL_PIECE_LENGTH, KILL_PIECE_LENGTH);
  task->state = DFLY_TASK_STATE_RUNNING;
  if (!dfly_storage_update_task (storage, task, &error))
    g_error ("child: %s", error->message);
  dfly_storage_acquire_task (storage, id);
  for (guint32 n = 0; n < KILL_PIECES; n++) {
    char line[32];
    int  length;

    /* Flat out: the kill lands wherever the child is, most often mid-write. */
    write_piece (storage, id, n, KILL_PIECE_LENGTH, KILL_PIECE_LENGTH, KILL_SEED);
    commit_piece (storage, id, n, KILL_PIECE_LENGTH, KILL_PIECE_LENGTH);
    length = g_snprintf (line, sizeof line, "%u\n", n);
    if (write (STDOUT_FILENO, line, length) != length)
      return 1;
  }
  return 0;
}

static void
test_sigkill (StorageTest *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", &error);
  const char      *argv[] = { exe, "--sigkill-child", t->cache_dir, NULL };
  g_autoptr (GInputStream) out = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *id = make_task_id (1);
  g_autoptr (DflyTaskInfo) task = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  guint    acked = 0;
  gboolean killed = FALSE;
  char    *line;
  GPid     pid;
  int      out_fd, status;

  g_assert_no_error (error);
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
  g_assert_no_error (error);
  out = g_unix_input_stream_new (out_fd, TRUE);
  lines = g_data_input_stream_new (out);
  /* Every line is a commit the child saw succeed; read on after the kill
   * for those already in the pipe. */
  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, &error)) != NULL) {
    g_assert_cmpuint (g_ascii_strtoull (line, NULL, 10), ==, acked);
    acked++;
    g_free (line);
    if (acked == KILL_AFTER) {
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      killed = TRUE;
    }
  }
  g_assert_no_error (error);
  g_assert_true (killed);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  g_spawn_close_pid (pid);

  open_storage (t);
  task = lookup (t->storage, id);
  g_assert_cmpint (task->state, ==, DFLY_TASK_STATE_PENDING);
  pieces = dfly_storage_list_pieces (t->storage, id, &error);
  g_assert_no_error (error);
  g_test_message ("child acknowledged %u commits, storage holds %u pieces", acked, pieces->len);
  /* Every acknowledged commit, and at most the one in flight at the kill. */
  g_assert_cmpuint (pieces->len, >=, acked);
  g_assert_cmpuint (pieces->len, <=, acked + 1);
  g_assert_cmpuint (task->completed_length, ==, (guint64) pieces->len * KILL_PIECE_LENGTH);
  for (guint i = 0; i < pieces->len; i++) {
    const DflyPieceInfo *piece = pieces->pdata[i];

    g_assert_cmpuint (piece->number, ==, i);
    assert_piece_bytes (t->storage, id, piece, KILL_SEED);
  }
}

/* load() after a crash: running → pending, orphans removed, lost files dropped. */
static void
test_recovery (StorageTest *t, gconstpointer data)
{
  g_autofree char *running_id = make_task_id (1);
  g_autofree char *lost_id = make_task_id (2);
  g_autofree char *orphan_id = make_task_id (3);
  g_autoptr (DflyTaskInfo) running = open_task (t->storage, running_id, 4 * KIB, KIB);
  g_autoptr (DflyTaskInfo) lost = open_task (t->storage, lost_id, 4 * KIB, KIB);
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (DflyTaskInfo) reopened = NULL;
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *lost_path = content_path (t->storage, lost_id);
  g_autofree char *orphan_prefix = g_strndup (orphan_id, 2);
  g_autofree char *orphan_dir = g_build_filename (t->cache_dir, "tasks", orphan_prefix, NULL);
  g_autofree char *orphan_path = g_build_filename (orphan_dir, orphan_id, NULL);
  g_autofree char *trash_path = g_strconcat (lost_path, ".deleted", NULL);
  g_autofree char *stray_path = g_build_filename (t->cache_dir, "tasks", "stray", NULL);
  DflyStorageUsage usage;

  running->state = DFLY_TASK_STATE_RUNNING;
  g_assert_true (dfly_storage_update_task (t->storage, running, &error));
  put_piece (t->storage, running_id, 0, KIB, KIB, 5);
  put_piece (t->storage, running_id, 2, KIB, KIB, 5);
  put_piece (t->storage, lost_id, 0, KIB, KIB, 5);
  close_storage (t);

  g_assert_cmpint (g_unlink (lost_path), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (orphan_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (orphan_path, "orphan", -1, NULL));
  g_assert_true (g_file_set_contents (trash_path, "moved aside", -1, NULL));
  g_assert_true (g_file_set_contents (stray_path, "stray", -1, NULL));

  open_storage (t);
  looked = lookup (t->storage, running_id);
  g_assert_cmpint (looked->state, ==, DFLY_TASK_STATE_PENDING);
  g_assert_cmpuint (looked->completed_length, ==, 2 * KIB);
  pieces = dfly_storage_list_pieces (t->storage, running_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pieces->len, ==, 2);
  assert_piece_bytes (t->storage, running_id, pieces->pdata[1], 5);

  assert_not_held (t->storage, lost_id);
  g_assert_false (g_file_test (orphan_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (trash_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stray_path, G_FILE_TEST_EXISTS));
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 1);
  g_assert_cmpuint (usage.bytes, ==, 2 * KIB);

  /* The dropped task's pieces went with its row. */
  reopened = open_task (t->storage, lost_id, 4 * KIB, KIB);
  g_assert_cmpuint (reopened->completed_length, ==, 0);
  g_clear_pointer (&pieces, g_ptr_array_unref);
  pieces = dfly_storage_list_pieces (t->storage, lost_id, &error);
  g_assert_cmpuint (pieces->len, ==, 0);
  g_assert_cmpint (db_query_int (t, "SELECT count(*) FROM pieces"), ==, 2);
}

/* Deleting removes rows and file; a descriptor opened before reads on. */
static void
test_delete (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, 64 * KIB, 32 * KIB);
  g_autofree char *path = content_path (t->storage, id);
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;
  int              fd;

  put_piece (t->storage, id, 1, 32 * KIB, 32 * KIB, 2);
  fd = open_content (t->storage, id);
  g_assert_true (dfly_storage_delete_task (t->storage, id, &error));
  g_assert_no_error (error);
  assert_not_held (t->storage, id);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 0);
  g_assert_cmpuint (usage.bytes, ==, 0);
  assert_fd_pattern (fd, 32 * KIB, 32 * KIB, 2);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_false (dfly_storage_delete_task (t->storage, id, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Gone: no descriptor on it any more. */
  g_assert_cmpint (dfly_storage_open_content (t->storage, id, &error), ==, -1);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_assert_cmpint (db_query_int (t, "SELECT count(*) FROM pieces"), ==, 0);
}

/* open_content hands out a read-only descriptor on the right bytes, which
 * sendfile, copies and hard links can use; refused for a task not held, and
 * once deleted. */
static void
test_open_content (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  g_autofree char *other_id = make_task_id (2);
  g_autoptr (DflyTaskInfo) task = open_task (t->storage, id, 48 * KIB, 16 * KIB);
  g_autoptr (DflyTaskInfo) other = open_task (t->storage, other_id, 16 * KIB, 16 * KIB);
  g_autofree char *link_path = g_build_filename (t->dir, "linked", NULL);
  g_autofree char *proc_path = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st, linked;
  int         fd, flags;

  for (guint i = 0; i < 3; i++)
    put_piece (t->storage, id, i, 16 * KIB, 16 * KIB, 9);
  put_piece (t->storage, other_id, 0, 16 * KIB, 16 * KIB, 8);
  fd = open_content (t->storage, id);

  /* Read-only and close-on-exec. */
  flags = fcntl (fd, F_GETFL);
  g_assert_cmpint (flags & O_ACCMODE, ==, O_RDONLY);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  errno = 0;
  g_assert_cmpint (write (fd, "x", 1), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);
  g_assert_cmpint (ftruncate (fd, 0), ==, -1);

  /* The task's bytes, not another's. */
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 48 * KIB);
  assert_fd_pattern (fd, 0, 48 * KIB, 9);

  /* A hard link through /proc/self/fd is the content file itself. */
  proc_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_assert_cmpint (linkat (AT_FDCWD, proc_path, AT_FDCWD, link_path, AT_SYMLINK_FOLLOW), ==, 0);
  g_assert_cmpint (stat (link_path, &linked), ==, 0);
  g_assert_cmpuint (linked.st_ino, ==, st.st_ino);
  g_assert_cmpuint (linked.st_nlink, ==, 2);
  g_assert_cmpint (g_unlink (link_path), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);

  /* Each call is a descriptor of its own, with its own offset. */
  fd = open_content (t->storage, other_id);
  g_assert_cmpint (lseek (fd, 0, SEEK_CUR), ==, 0);
  assert_fd_pattern (fd, 0, 16 * KIB, 8);
  g_assert_cmpint (close (fd), ==, 0);

  g_assert_cmpint (dfly_storage_open_content (t->storage, ZERO_ID, &error), ==, -1);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (dfly_storage_delete_task (t->storage, id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dfly_storage_open_content (t->storage, id, &error), ==, -1);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
}

/* Pins nest; a pinned task is never evicted nor deleted. */
static void
test_pinned (StorageTest *t, gconstpointer data)
{
  g_auto (GStrv) ids = make_task_ids (4);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 4; i++) {
    dfly_task_info_unref (open_task (t->storage, ids[i], 100 * KIB, 100 * KIB));
    put_piece (t->storage, ids[i], 0, 100 * KIB, 100 * KIB, i);
  }
  dfly_storage_acquire_task (t->storage, ids[0]);
  dfly_storage_acquire_task (t->storage, ids[0]);
  g_assert_false (dfly_storage_delete_task (t->storage, ids[0], &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_BUSY);
  g_clear_error (&error);
  dfly_storage_release_task (t->storage, ids[0]);
  g_assert_false (dfly_storage_delete_task (t->storage, ids[0], &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_BUSY);
  g_clear_error (&error);

  /* Far over quota, down to nothing: every task goes but the pinned one. */
  test_config (t)->storage.quota = 100 * KIB;
  test_config (t)->storage.high_watermark = 80;
  test_config (t)->storage.low_watermark = 0;
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 300 * KIB);
  g_assert_no_error (error);
  dfly_task_info_unref (lookup (t->storage, ids[0]));
  for (guint i = 1; i < 4; i++)
    assert_not_held (t->storage, ids[i]);

  /* Expired (a zero TTL, a second later), but pinned: kept. */
  test_config (t)->storage.quota = G_GUINT64_CONSTANT (1) << 40;
  test_config (t)->storage.task_ttl = 0;
  g_usleep (1100 * 1000);
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 0);
  g_assert_no_error (error);
  dfly_task_info_unref (lookup (t->storage, ids[0]));

  /* Released: deletable, and no longer protected. */
  dfly_storage_release_task (t->storage, ids[0]);
  g_assert_true (dfly_storage_delete_task (t->storage, ids[0], &error));
  g_assert_no_error (error);
}

/* Tasks unused for longer than the TTL go; recent ones stay. */
static void
test_gc_ttl (StorageTest *t, gconstpointer data)
{
  g_auto (GStrv) ids = make_task_ids (3);
  gint64           now = now_seconds ();
  gint64           last_used[3] = { now - 7200, now - 10, now - 3000 };
  g_autofree char *old_path = NULL;
  g_autoptr (DflyTaskInfo) looked = NULL;
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;
  guint64          freed;

  for (guint i = 0; i < 3; i++) {
    dfly_task_info_unref (open_task (t->storage, ids[i], 8 * KIB, 4 * KIB));
    put_piece (t->storage, ids[i], 0, 4 * KIB, 4 * KIB, i);
    if (i == 0)
      put_piece (t->storage, ids[i], 1, 4 * KIB, 4 * KIB, i);
  }
  old_path = content_path (t->storage, ids[0]);
  set_last_used (t, (const char *const *) ids, last_used, 3);
  test_config (t)->storage.task_ttl = 3600;
  test_config (t)->storage.quota = G_GUINT64_CONSTANT (1) << 40;

  freed = dfly_storage_collect (t->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (freed, ==, 8 * KIB);
  assert_not_held (t->storage, ids[0]);
  g_assert_false (g_file_test (old_path, G_FILE_TEST_EXISTS));
  looked = lookup (t->storage, ids[1]);
  g_clear_pointer (&looked, dfly_task_info_unref);
  looked = lookup (t->storage, ids[2]);
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 2);
  g_assert_cmpuint (usage.bytes, ==, 8 * KIB);
  g_assert_cmpuint (usage.quota, ==, G_GUINT64_CONSTANT (1) << 40);
  g_assert_cmpint (db_query_int (t, "SELECT count(*) FROM tasks"), ==, 2);

  /* Nothing more to do. */
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 0);
  g_assert_no_error (error);
}

/* Over the high watermark, least recently used first, down to the low one. */
static void
test_gc_quota (StorageTest *t, gconstpointer data)
{
  g_auto (GStrv) ids = make_task_ids (4);
  gint64 now = now_seconds ();
  /* Opened in another order than used, so LRU is not creation order. */
  gint64 last_used[4] = { now - 200, now - 400, now - 100, now - 300 };
  g_autoptr (GError) error = NULL;
  DflyStorageUsage usage;
  struct statvfs   fs;
  guint64          freed;

  for (guint i = 0; i < 4; i++) {
    dfly_task_info_unref (open_task (t->storage, ids[i], 100 * KIB, 50 * KIB));
    put_piece (t->storage, ids[i], 0, 50 * KIB, 50 * KIB, i);
    put_piece (t->storage, ids[i], 1, 50 * KIB, 50 * KIB, i);
  }
  set_last_used (t, (const char *const *) ids, last_used, 4);

  /* Under the watermark of the whole file system: nothing goes. */
  g_assert_cmpint (statvfs (t->cache_dir, &fs), ==, 0);
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.quota, ==, (guint64) fs.f_blocks * fs.f_frsize);
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 0);
  g_assert_no_error (error);

  /* 400 KiB of a 400 KiB quota is over 80 %: down to 50 %, two tasks. */
  test_config (t)->storage.quota = 400 * KIB;
  test_config (t)->storage.high_watermark = 80;
  test_config (t)->storage.low_watermark = 50;
  freed = dfly_storage_collect (t->storage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (freed, ==, 200 * KIB);
  assert_not_held (t->storage, ids[1]);
  assert_not_held (t->storage, ids[3]);
  dfly_task_info_unref (lookup (t->storage, ids[0]));
  dfly_task_info_unref (lookup (t->storage, ids[2]));
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 2);
  g_assert_cmpuint (usage.bytes, ==, 200 * KIB);
  g_assert_cmpuint (usage.quota, ==, 400 * KIB);

  /* At the low watermark, under the high one: stays. */
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 0);
  g_assert_no_error (error);

  /* 200 KiB of 240 KiB is over 80 %: down to 50 % (120 KiB), the older one
   * is enough. */
  test_config (t)->storage.quota = 240 * KIB;
  g_assert_cmpuint (dfly_storage_collect (t->storage, &error), ==, 100 * KIB);
  g_assert_no_error (error);
  assert_not_held (t->storage, ids[0]);
  dfly_task_info_unref (lookup (t->storage, ids[2]));
  dfly_storage_get_usage (t->storage, &usage);
  g_assert_cmpuint (usage.tasks, ==, 1);
}

/* load() arms a periodic GC on the main context; it runs off the loop. */
static gboolean
task_gone (gpointer data)
{
  StorageTest *t = ((gpointer *) data)[0];
  const char  *id = ((gpointer *) data)[1];
  g_autoptr (DflyTaskInfo) task = dfly_storage_lookup_task (t->storage, id, NULL);

  return task == NULL;
}

static void
test_gc_timer (StorageTest *t, gconstpointer data)
{
  g_autofree char *id = make_task_id (1);
  gint64           last_used = now_seconds () - 100000;
  gpointer         args[2] = { t, id };
  DflyStorage     *storage;
  gint64           deadline;

  open_storage (t);
  dfly_task_info_unref (open_task (t->storage, id, 4 * KIB, 4 * KIB));
  put_piece (t->storage, id, 0, 4 * KIB, 4 * KIB, 1);
  test_config (t)->storage.gc_interval = 1;
  test_config (t)->storage.task_ttl = 3600;
  set_last_used (t, (const char *const *) &id, &last_used, 1);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!task_gone (args) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (task_gone (args));

  /* The GC's GTask holds the storage until its completion has run on the
   * loop and the worker let go: once both, the storage goes (and its
   * dispose stops the re-armed timer), in whichever thread that was. */
  storage = g_steal_pointer (&t->storage);
  g_object_add_weak_pointer (G_OBJECT (storage), (gpointer *) &storage);
  g_object_unref (storage);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_atomic_pointer_get (&storage) != NULL && g_get_monotonic_time () < deadline) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (1000);
  }
  g_assert_null (g_atomic_pointer_get (&storage));
}

/* --- concurrency ---------------------------------------------------------- */

#define THREAD_PIECE_LENGTH (4 * KIB)
#define THREAD_PIECES       60

typedef struct {
  DflyStorage *storage;
  const char  *id;
  guint32      first;
  guint32      step;
  guint        seed;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;

  for (guint32 n = worker->first; n < THREAD_PIECES; n += worker->step) {
    g_autoptr (GPtrArray) pieces = NULL;
    DflyStorageUsage usage;

    put_piece (worker->storage, worker->id, n, THREAD_PIECE_LENGTH, THREAD_PIECE_LENGTH,
               worker->seed);
    pieces = dfly_storage_list_pieces (worker->storage, worker->id, NULL);
    g_assert_nonnull (pieces);
    dfly_storage_get_usage (worker->storage, &usage);
    dfly_task_info_unref (lookup (worker->storage, worker->id));
  }
  return NULL;
}

static void
test_threads (StorageTest *t, gconstpointer data)
{
  g_auto (GStrv) ids = make_task_ids (3);
  Worker workers[4] = {
    { t->storage, ids[0], 0, 1, 11 },
    { t->storage, ids[1], 0, 1, 11 },
    { t->storage, ids[2], 0, 2, 11 }, /* the same task, interleaved */
    { t->storage, ids[2], 1, 2, 11 },
  };
  GThread         *threads[4];
  DflyStorageUsage usage;

  for (guint i = 0; i < 3; i++)
    dfly_task_info_unref (
      open_task (t->storage, ids[i], THREAD_PIECES * THREAD_PIECE_LENGTH, THREAD_PIECE_LENGTH));
  /* One shared descriptor for the pinned task, one per write for the others. */
  dfly_storage_acquire_task (t->storage, ids[2]);
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    threads[i] = g_thread_new ("disk-test", worker_thread, &workers[i]);
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    g_thread_join (threads[i]);
  dfly_storage_release_task (t->storage, ids[2]);

  for (guint round = 0; round < 2; round++) {
    for (guint i = 0; i < 3; i++) {
      g_autoptr (GPtrArray) pieces = dfly_storage_list_pieces (t->storage, ids[i], NULL);
      g_autoptr (DflyTaskInfo) task = lookup (t->storage, ids[i]);

      g_assert_cmpuint (pieces->len, ==, THREAD_PIECES);
      g_assert_cmpuint (task->completed_length, ==, THREAD_PIECES * THREAD_PIECE_LENGTH);
      for (guint n = 0; n < pieces->len; n++) {
        g_assert_cmpuint (((DflyPieceInfo *) pieces->pdata[n])->number, ==, n);
        assert_piece_bytes (t->storage, ids[i], pieces->pdata[n], 11);
      }
    }
    dfly_storage_get_usage (t->storage, &usage);
    g_assert_cmpuint (usage.tasks, ==, 3);
    g_assert_cmpuint (usage.bytes, ==, 3 * THREAD_PIECES * THREAD_PIECE_LENGTH);
    /* And the database agrees with memory. */
    reopen_storage (t);
  }
}

/* --- refusing what it cannot use ------------------------------------------ */

static void
test_schema_newer (StorageTest *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (t->cache_dir, 0700), ==, 0);
  db_exec (t, "CREATE TABLE future (x); PRAGMA user_version = 99;");
  t->storage = storage_new (t->context);
  g_assert_false (dfly_storage_load (t->storage, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "storage.db"));
  g_assert_nonnull (strstr (error->message, "schema version 99 is newer"));
  g_clear_error (&error);
  /* Untouched, and the object stays usable for nothing but errors. */
  g_assert_cmpint (db_query_int (t, "PRAGMA user_version"), ==, 99);
  g_assert_null (dfly_storage_list_tasks (t->storage, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_FAILED);
}

static void
test_corrupt_db (StorageTest *t, gconstpointer data)
{
  g_autofree char *path = db_path (t);
  g_autoptr (GError) error = NULL;
  guint8 garbage[8192];

  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = g_test_rand_int_range (0, 256);
  g_assert_cmpint (g_mkdir_with_parents (t->cache_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, (const char *) garbage, sizeof garbage, NULL));
  t->storage = storage_new (t->context);
  g_assert_false (dfly_storage_load (t->storage, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "not a database"));
  g_clear_error (&error);
  /* A second load fails the same way rather than half-working. */
  g_assert_false (dfly_storage_load (t->storage, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
}

/* A cache directory that cannot be made is an error naming it. */
static void
test_bad_cache_dir (StorageTest *t, gconstpointer data)
{
  g_autofree char *file = g_build_filename (t->dir, "file", NULL);
  g_autofree char *below = g_build_filename (file, "cache", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  g_free (test_config (t)->daemon.cache_dir);
  test_config (t)->daemon.cache_dir = g_strdup (below);
  t->storage = storage_new (t->context);
  g_assert_false (dfly_storage_load (t->storage, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, below));
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_strcmp0 (argv[1], "--sigkill-child") == 0)
    return run_sigkill_child (argv[2]);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/disk/descriptor", test_descriptor);
  STORAGE_TEST_ADD ("/disk/round-trip", test_round_trip);
  STORAGE_TEST_ADD ("/disk/list-order", test_list_order);
  STORAGE_TEST_ADD ("/disk/pieces", test_pieces);
  STORAGE_TEST_ADD ("/disk/uncommitted", test_uncommitted);
  STORAGE_TEST_ADD ("/disk/sparse", test_sparse);
  STORAGE_TEST_ADD ("/disk/invalid-ids", test_invalid_ids);
  STORAGE_TEST_ADD ("/disk/reopen", test_reopen);
  STORAGE_TEST_ADD ("/disk/drop-piece", test_drop_piece);
  STORAGE_TEST_ADD_UNLOADED ("/disk/sigkill", test_sigkill);
  STORAGE_TEST_ADD ("/disk/recovery", test_recovery);
  STORAGE_TEST_ADD ("/disk/delete", test_delete);
  STORAGE_TEST_ADD ("/disk/open-content", test_open_content);
  STORAGE_TEST_ADD ("/disk/pinned", test_pinned);
  STORAGE_TEST_ADD ("/disk/gc/ttl", test_gc_ttl);
  STORAGE_TEST_ADD ("/disk/gc/quota", test_gc_quota);
  STORAGE_TEST_ADD_UNLOADED ("/disk/gc/timer", test_gc_timer);
  STORAGE_TEST_ADD ("/disk/threads", test_threads);
  STORAGE_TEST_ADD_UNLOADED ("/disk/schema-newer", test_schema_newer);
  STORAGE_TEST_ADD_UNLOADED ("/disk/corrupt-db", test_corrupt_db);
  STORAGE_TEST_ADD_UNLOADED ("/disk/bad-cache-dir", test_bad_cache_dir);
  return g_test_run ();
}
