/* test-piece-check.c — an accused parent reads a piece back, on the real disk storage
 *
 * A task of four committed pieces with SHA-256 digests: a piece read back
 * intact stays; one whose bytes changed on disk, one that does not match
 * the reference digest, and one committed with a digest nobody can check
 * are dropped (no longer listed); a piece not held is reported not intact
 * without an error.
 */
#include "config.h"

#include "../dfly-role-test.h"
#include "dfly-piece-check.h"

/* Compiled into this binary, from the disk plugin (see local.mk). */
GType dfly_disk_storage_get_type (void);

#define TASK_ID  "c4ec000000000000000000000000000000000000000000000000000000000000"
#define OTHER_ID "0dd0000000000000000000000000000000000000000000000000000000000000"
#define PIECE    4096
#define PIECES   4

typedef struct {
  char        *dir;
  DflyContext *context;
  DflyStorage *storage;
  guint8       bytes[PIECE * PIECES];
} CheckTest;

static char *
digest_of (CheckTest *t, guint32 number)
{
  g_autofree char *hex =
    g_compute_checksum_for_data (G_CHECKSUM_SHA256, t->bytes + number * PIECE, PIECE);

  return g_strconcat ("sha256:", hex, NULL);
}

static void
commit (CheckTest *t, guint32 number, const char *digest)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, number);
  g_autoptr (GError) error = NULL;

  piece->offset = number * PIECE;
  piece->length = PIECE;
  piece->digest = digest != NULL ? g_strdup (digest) : digest_of (t, number);
  g_assert_true (dfly_storage_write (t->storage, TASK_ID, piece->offset, t->bytes + piece->offset,
                                     PIECE, &error));
  g_assert_true (dfly_storage_commit_piece (t->storage, piece, &error));
  g_assert_no_error (error);
}

static gboolean
is_held (CheckTest *t, guint32 number)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pieces = dfly_storage_list_pieces (t->storage, TASK_ID, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < pieces->len; i++) {
    if (((DflyPieceInfo *) g_ptr_array_index (pieces, i))->number == number)
      return TRUE;
  }
  return FALSE;
}

/* Checks piece number against reference; returns whether it was intact. */
static gboolean
check (CheckTest *t, guint32 number, const char *reference)
{
  g_autoptr (GError) error = NULL;
  gboolean intact = TRUE;

  g_assert_true (dfly_piece_check (t->storage, TASK_ID, number, reference, &intact, NULL, &error));
  g_assert_no_error (error);
  return intact;
}

static void
setup (CheckTest *t, gconstpointer data)
{
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new (TASK_ID, "http://origin.invalid/file");
  g_autoptr (DflyTaskInfo) held = NULL;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < sizeof t->bytes; i++)
    t->bytes[i] = (guint8) (i * 13 + i / PIECE);
  t->dir = role_test_dir_new ();
  config = role_test_config_new (t->dir);
  t->context = dfly_context_new (config);
  t->storage =
    g_object_new (dfly_disk_storage_get_type (), "context", t->context, "name", "disk", NULL);
  g_assert_true (dfly_storage_load (t->storage, &error));
  g_assert_no_error (error);
  task->piece_length = PIECE;
  task->content_length = PIECE * PIECES;
  task->total_pieces = PIECES;
  task->state = DFLY_TASK_STATE_SUCCEEDED;
  held = dfly_storage_open_task (t->storage, task, &error);
  g_assert_no_error (error);
  commit (t, 0, NULL);
  commit (t, 1, NULL);
  commit (t, 2, NULL);
  commit (t, 3, "md5:0123456789abcdef0123456789abcdef");
}

static void
teardown (CheckTest *t, gconstpointer data)
{
  g_object_unref (t->storage);
  g_assert_finalize_object (t->context);
  g_assert_true (g_spawn_sync (NULL, (char *[]){ "rm", "-rf", t->dir, NULL }, NULL,
                               G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL));
  g_free (t->dir);
}

static void
test_intact (CheckTest *t, gconstpointer data)
{
  g_autofree char *reference = digest_of (t, 0);

  g_assert_true (check (t, 0, reference));
  g_assert_true (check (t, 0, ""));
  g_assert_true (check (t, 0, NULL));
  g_assert_true (is_held (t, 0));
}

static void
test_bit_rot (CheckTest *t, gconstpointer data)
{
  g_autofree char *reference = digest_of (t, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTaskInfo) task = NULL;
  guint8 flipped = t->bytes[PIECE + 100] ^ 0x01;

  /* A byte of piece 1 changes under the commit, as on a failing disk. */
  g_assert_true (dfly_storage_write (t->storage, TASK_ID, PIECE + 100, &flipped, 1, &error));
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_MESSAGE, "*piece 1 read back as sha256:*");
  g_assert_false (check (t, 1, reference));
  g_test_assert_expected_messages ();
  g_assert_false (is_held (t, 1));
  g_assert_true (is_held (t, 0));
  task = dfly_storage_lookup_task (t->storage, TASK_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpint (task->state, ==, DFLY_TASK_STATE_RUNNING);
  /* Asked again: not held any more, nothing to drop. */
  g_assert_false (check (t, 1, reference));
}

static void
test_not_the_reference (CheckTest *t, gconstpointer data)
{
  g_autofree char *other = digest_of (t, 0);

  /* Its bytes match what it was committed with, but not the source's digest. */
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_MESSAGE, "*piece 2 read back as*");
  g_assert_false (check (t, 2, other));
  g_test_assert_expected_messages ();
  g_assert_false (is_held (t, 2));
}

static void
test_unknown_digest (CheckTest *t, gconstpointer data)
{
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_MESSAGE, "*piece 3 read back as*");
  g_assert_false (check (t, 3, NULL));
  g_test_assert_expected_messages ();
  g_assert_false (is_held (t, 3));
}

static void
test_not_held (CheckTest *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean intact = TRUE;

  g_assert_false (check (t, 7, NULL));
  /* A task this host does not hold: not held either. */
  g_assert_true (dfly_piece_check (t->storage, OTHER_ID, 0, NULL, &intact, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (intact);
}

#define CHECK_TEST_ADD(path, func) g_test_add ((path), CheckTest, NULL, setup, (func), teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  CHECK_TEST_ADD ("/piece-check/intact", test_intact);
  CHECK_TEST_ADD ("/piece-check/bit-rot", test_bit_rot);
  CHECK_TEST_ADD ("/piece-check/not-the-reference", test_not_the_reference);
  CHECK_TEST_ADD ("/piece-check/unknown-digest", test_unknown_digest);
  CHECK_TEST_ADD ("/piece-check/not-held", test_not_held);
  return g_test_run ();
}
