/* test-piece-board.c — DflyPieceBoard alone: the next piece, priorities, counters, digests
 *
 * The board is driven as the download's workers and the swarm drive it,
 * from the test's thread; what it reports is recorded. Jobs that would
 * block are asked for from a thread of their own.
 */
#include "config.h"

#include <string.h>

#include "dfly-piece-board.h"

#define PIECE   1000
#define LENGTH  (10 * PIECE - 1) /* 10 pieces, the last one short */
#define TASK_ID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST  "sha256:1111111111111111111111111111111111111111111111111111111111111111"

typedef struct {
  GCancellable   *cancellable;
  DflyPieceBoard *board;
  GString        *reports; /* "failed:N:PARENT:mismatch" and "reschedule:IDS", space-separated */
} Fixture;

static void
on_reschedule (gpointer data, GPtrArray *failed)
{
  Fixture *f = data;

  g_string_append (f->reports, " reschedule:");
  for (guint i = 0; i < failed->len; i++)
    g_string_append_printf (f->reports, "%s%s", i > 0 ? "," : "",
                            (const char *) g_ptr_array_index (failed, i));
}

static void
on_piece_failed (gpointer data, guint32 number, const char *parent_id, gboolean mismatch,
                 gboolean temporary)
{
  Fixture *f = data;

  g_string_append_printf (f->reports, " failed:%u:%s:%s", number, parent_id,
                          mismatch    ? "mismatch"
                          : temporary ? "temporary"
                                      : "final");
}

static const DflyPieceBoardReports reports = { on_reschedule, on_piece_failed };

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->cancellable = g_cancellable_new ();
  f->board = dfly_piece_board_new (TASK_ID, f->cancellable);
  f->reports = g_string_new (NULL);
  dfly_piece_board_set_reports (f->board, &reports, f);
  g_assert_true (dfly_piece_board_set_length (f->board, LENGTH, PIECE));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dfly_piece_board_unref (f->board);
  g_object_unref (f->cancellable);
  g_string_free (f->reports, TRUE);
}

static DflyPieceInfo *
piece_new (guint32 number, const char *digest)
{
  DflyPieceInfo *piece = dfly_piece_info_new (TASK_ID, number);

  piece->offset = (guint64) number * PIECE;
  piece->length = MIN (PIECE, LENGTH - piece->offset);
  piece->digest = g_strdup (digest);
  return piece;
}

/* Takes the next job, which must be of kind (and number, unless -1). */
static void
expect_job (Fixture *f, DflyPieceJob *job, DflyPieceJobKind kind, gint number)
{
  g_assert_cmpint (dfly_piece_board_next (f->board, job), ==, kind);
  if (number >= 0)
    g_assert_cmpuint (job->number, ==, (guint) number);
}

/* Commits job's piece and ends the job. */
static void
finish_job (Fixture *f, DflyPieceJob *job, gboolean from_source)
{
  g_autoptr (DflyPieceInfo) piece = piece_new (job->number, DIGEST);

  g_assert_cmpuint (job->offset, ==, piece->offset);
  g_assert_cmpint (job->length, ==, (gint64) piece->length);
  dfly_piece_board_commit (f->board, piece, from_source);
  dfly_piece_board_job_done (f->board, job, NULL);
  dfly_piece_job_clear (job);
}

static void
add_parent (Fixture *f, const char *id, gboolean seed, guint32 first, guint32 last)
{
  guint8           bitmap[2] = { 0 };
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", 1000 + (guint) id[0]);

  for (guint32 n = first; n <= last; n++)
    bitmap[n / 8] |= 1u << (n % 8);
  g_assert_true (dfly_piece_board_add_parent (f->board, id, url, seed, bitmap, sizeof bitmap));
}

static void
set_all_digests (Fixture *f)
{
  for (guint32 n = 0; n < 10; n++)
    dfly_piece_board_set_digest (f->board, n, DIGEST);
}

/* ------------------------------------------------------------------ tests */

/* From the source: pieces not held, in order; the counters add up; the
 * end is DONE for every worker. */
static void
test_source_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) held =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_piece_info_unref);
  DflyPieceJob job;
  guint64      completed, from_parents, from_source;

  g_ptr_array_add (held, piece_new (0, DIGEST));
  g_ptr_array_add (held, piece_new (3, DIGEST));
  dfly_piece_board_hold (f->board, held);
  dfly_piece_board_set_to_source (f->board, TRUE);
  g_assert_cmpuint (dfly_piece_board_count_missing (f->board), ==, 8);

  for (guint32 n = 1; n < 10; n++) {
    if (n == 3)
      continue;
    expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, (gint) n);
    g_assert_null (job.parent_url);
    finish_job (f, &job, TRUE);
  }
  expect_job (f, &job, DFLY_PIECE_JOB_DONE, -1);
  dfly_piece_board_get_bytes (f->board, &completed, &from_parents, &from_source);
  g_assert_cmpuint (completed, ==, LENGTH);
  g_assert_cmpuint (from_source, ==, LENGTH - 2 * PIECE);
  g_assert_cmpuint (from_parents, ==, 0);
  g_assert_cmpuint (dfly_piece_board_count_missing (f->board), ==, 0);
  g_assert_cmpstr (f->reports->str, ==, "");
}

/* A failed piece from the source is handed out again, before later ones. */
static void
test_source_retry (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "cut");
  DflyPieceJob first, second;

  dfly_piece_board_set_to_source (f->board, TRUE);
  expect_job (f, &first, DFLY_PIECE_JOB_SOURCE, 0);
  expect_job (f, &second, DFLY_PIECE_JOB_SOURCE, 1);
  dfly_piece_board_job_done (f->board, &first, error);
  dfly_piece_job_clear (&first);
  expect_job (f, &first, DFLY_PIECE_JOB_SOURCE, 0);
  finish_job (f, &first, TRUE);
  finish_job (f, &second, TRUE);
  expect_job (f, &first, DFLY_PIECE_JOB_SOURCE, 2);
  finish_job (f, &first, TRUE);
}

/* A range a reader waits for goes first, in the order readers asked; once
 * it is withdrawn the order is the plain one again. */
static void
test_priorities (Fixture *f, gconstpointer data)
{
  DflyPieceJob job;
  gpointer     late, early;

  dfly_piece_board_set_to_source (f->board, TRUE);
  late = dfly_piece_board_prioritize (f->board, 6 * PIECE + 10, PIECE); /* pieces 6 and 7 */
  early = dfly_piece_board_prioritize (f->board, 4 * PIECE, 1);         /* piece 4 */
  expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, 6);
  finish_job (f, &job, TRUE);
  expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, 7);
  finish_job (f, &job, TRUE);
  expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, 4);
  finish_job (f, &job, TRUE);
  expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, 0);
  finish_job (f, &job, TRUE);
  dfly_piece_board_unprioritize (f->board, late);
  dfly_piece_board_unprioritize (f->board, early);
  /* From parents too: a wanted piece before a rarer one. */
  dfly_piece_board_set_to_source (f->board, FALSE);
  set_all_digests (f);
  add_parent (f, "a", FALSE, 0, 9);
  add_parent (f, "b", FALSE, 0, 8);
  early = dfly_piece_board_prioritize (f->board, 2 * PIECE, PIECE);
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 2);
  finish_job (f, &job, FALSE);
  dfly_piece_board_unprioritize (f->board, early);
  /* Then the rarest: only a holds 9. */
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 9);
  g_assert_cmpstr (job.parent_id, ==, "a");
  g_assert_cmpstr (job.digest, ==, DIGEST);
  g_assert_true (g_str_has_suffix (job.parent_url, "/v1/tasks/" TASK_ID));
  finish_job (f, &job, FALSE);
}

/* Rarest first among pieces whose digest is known; a piece without one is
 * never taken from a parent. */
static void
test_rarest_with_digest (Fixture *f, gconstpointer data)
{
  DflyPieceJob job;
  guint64      from_parents, from_source;

  add_parent (f, "a", FALSE, 0, 9);
  add_parent (f, "b", FALSE, 0, 7);
  for (guint32 n = 0; n < 9; n++) /* not 9's */
    dfly_piece_board_set_digest (f->board, n, DIGEST);
  /* 8 is held by a alone; 9 too, but its digest is unknown. */
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 8);
  g_assert_cmpstr (job.parent_id, ==, "a");
  finish_job (f, &job, FALSE);
  for (guint i = 0; i < 8; i++) {
    expect_job (f, &job, DFLY_PIECE_JOB_PARENT, -1);
    g_assert_cmpuint (job.number, <, 8);
    finish_job (f, &job, FALSE);
  }
  g_assert_cmpuint (dfly_piece_board_count_missing (f->board), ==, 1);
  dfly_piece_board_get_bytes (f->board, NULL, &from_parents, &from_source);
  g_assert_cmpuint (from_parents, ==, 9 * PIECE);
  g_assert_cmpuint (from_source, ==, 0);
  /* The source takes what no parent can give. */
  dfly_piece_board_set_to_source (f->board, TRUE);
  expect_job (f, &job, DFLY_PIECE_JOB_SOURCE, 9);
  finish_job (f, &job, TRUE);
  expect_job (f, &job, DFLY_PIECE_JOB_DONE, -1);
}

typedef struct {
  DflyPieceBoard  *board;
  DflyPieceJob     job;
  DflyPieceJobKind kind;
  gint             returned;
} NextCall;

static gpointer
next_thread (gpointer data)
{
  NextCall *call = data;

  call->kind = dfly_piece_board_next (call->board, &call->job);
  g_atomic_int_set (&call->returned, 1);
  return NULL;
}

/* At most 4 pieces from one parent at once, 2 from a seed; a further
 * worker waits until one of them ends. */
static void
test_inflight_caps (Fixture *f, gconstpointer data)
{
  DflyPieceJob jobs[6];
  NextCall     call = { f->board };
  GThread     *thread;

  set_all_digests (f);
  add_parent (f, "a", FALSE, 0, 9);
  add_parent (f, "s", TRUE, 0, 9);
  for (guint i = 0; i < 6; i++)
    expect_job (f, &jobs[i], DFLY_PIECE_JOB_PARENT, -1);
  {
    guint from_a = 0;

    for (guint i = 0; i < 6; i++)
      from_a += g_str_equal (jobs[i].parent_id, "a");
    g_assert_cmpuint (from_a, ==, 4);
  }
  thread = g_thread_new ("next", next_thread, &call);
  g_usleep (300 * 1000);
  g_assert_false (g_atomic_int_get (&call.returned));
  finish_job (f, &jobs[0], FALSE);
  g_thread_join (thread);
  g_assert_cmpint (call.kind, ==, DFLY_PIECE_JOB_PARENT);
  dfly_piece_job_clear (&call.job);
  for (guint i = 1; i < 6; i++)
    dfly_piece_job_clear (&jobs[i]);
}

/* A piece that does not match the back-to-source digest: its parent is
 * reported, never used again (nor offered back), and the piece goes to
 * another parent. A 429 defers that piece at that parent; a 503 the parent;
 * a broken transfer counts towards dropping it. */
static void
test_parent_failures (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) mismatch = g_error_new_literal (DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH, "x");
  g_autoptr (GError) deferred = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "429");
  g_autoptr (GError) broken = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "cut");
  guint8       bitmap[2] = { 0xff, 0x03 };
  DflyPieceJob job, other;

  dfly_piece_board_set_digest (f->board, 5, DIGEST);
  add_parent (f, "a", FALSE, 5, 5);
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 5);
  dfly_piece_board_job_done (f->board, &job, mismatch);
  dfly_piece_job_clear (&job);
  g_assert_cmpstr (f->reports->str, ==, " failed:5:a:mismatch reschedule:a");
  g_assert_false (dfly_piece_board_add_parent (f->board, "a", "http://127.0.0.1:1", FALSE, bitmap,
                                               sizeof bitmap));
  g_string_truncate (f->reports, 0);

  /* A seed answers 429 for 5: b, which holds it too, is asked. */
  add_parent (f, "s", TRUE, 5, 5);
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 5);
  g_assert_cmpstr (job.parent_id, ==, "s");
  dfly_piece_board_job_done (f->board, &job, deferred);
  dfly_piece_job_clear (&job);
  add_parent (f, "b", FALSE, 5, 5);
  expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 5);
  g_assert_cmpstr (job.parent_id, ==, "b");
  /* Broken three times, b is dropped; each is reported. */
  dfly_piece_board_job_done (f->board, &job, broken);
  dfly_piece_job_clear (&job);
  g_assert_cmpstr (f->reports->str, ==, " failed:5:b:temporary");
  for (guint i = 0; i < 2; i++) {
    g_usleep (10 * 1000);
    expect_job (f, &job, DFLY_PIECE_JOB_PARENT, 5);
    if (g_str_equal (job.parent_id, "s")) { /* the deferral is over */
      dfly_piece_board_job_done (f->board, &job, deferred);
      dfly_piece_job_clear (&job);
      i--;
      continue;
    }
    dfly_piece_board_job_done (f->board, &job, broken);
    dfly_piece_job_clear (&job);
  }
  g_assert_true (g_str_has_suffix (f->reports->str, " failed:5:b:final"));
  /* Only s is left for 5. */
  expect_job (f, &other, DFLY_PIECE_JOB_PARENT, 5);
  g_assert_cmpstr (other.parent_id, ==, "s");
  finish_job (f, &other, FALSE);
}

/* Committing a piece twice counts it once; a stream committed again on
 * its retry counts its bytes once. */
static void
test_counters (Fixture *f, gconstpointer data)
{
  g_autoptr (DflyPieceBoard) stream = dfly_piece_board_new (TASK_ID, f->cancellable);
  g_autoptr (DflyPieceBoard) giant = dfly_piece_board_new (TASK_ID, f->cancellable);
  g_autoptr (DflyPieceInfo) piece = piece_new (2, DIGEST);
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "cut");
  g_autoptr (GPtrArray) held = NULL;
  DflyPieceJob job;
  guint64      completed, from_source;
  gint64       length;
  guint64      piece_length;

  dfly_piece_board_commit (f->board, piece, TRUE);
  dfly_piece_board_commit (f->board, piece, FALSE);
  dfly_piece_board_get_bytes (f->board, &completed, NULL, &from_source);
  g_assert_cmpuint (completed, ==, PIECE);
  g_assert_cmpuint (from_source, ==, PIECE);
  held = dfly_piece_board_dup_held (f->board);
  g_assert_cmpuint (held->len, ==, 1);
  g_assert_cmpstr (((DflyPieceInfo *) g_ptr_array_index (held, 0))->digest, ==, DIGEST);

  /* A stream of unknown length: one job, its length known at the end. */
  g_assert_true (dfly_piece_board_set_length (stream, -1, PIECE));
  dfly_piece_board_set_streaming (stream);
  g_assert_false (dfly_piece_board_get_length (stream, &length, &piece_length));
  g_assert_cmpuint (dfly_piece_board_count_missing (stream), ==, 1);
  g_assert_cmpint (dfly_piece_board_next (stream, &job), ==, DFLY_PIECE_JOB_STREAM);
  g_assert_cmpint (job.length, ==, -1);
  for (guint32 n = 0; n < 2; n++) {
    g_autoptr (DflyPieceInfo) streamed = piece_new (n, DIGEST);

    dfly_piece_board_commit (stream, streamed, TRUE);
  }
  dfly_piece_board_job_done (stream, &job, error);
  g_assert_cmpint (dfly_piece_board_next (stream, &job), ==, DFLY_PIECE_JOB_STREAM);
  for (guint32 n = 0; n < 3; n++) {
    g_autoptr (DflyPieceInfo) streamed = piece_new (n, DIGEST);

    dfly_piece_board_commit (stream, streamed, TRUE);
  }
  dfly_piece_board_job_done (stream, &job, NULL);
  g_assert_cmpint (dfly_piece_board_next (stream, &job), ==, DFLY_PIECE_JOB_DONE);
  dfly_piece_board_get_bytes (stream, &completed, NULL, &from_source);
  g_assert_cmpuint (completed, ==, 3 * PIECE);
  g_assert_cmpuint (from_source, ==, 3 * PIECE);
  g_assert_true (dfly_piece_board_set_length (stream, 3 * PIECE, PIECE));
  g_assert_true (dfly_piece_board_wait_piece (stream, 2, NULL, NULL));
  /* A second length contradicts the first; a giant one is refused. */
  g_assert_false (dfly_piece_board_set_length (f->board, LENGTH + 1, PIECE));
  g_assert_false (dfly_piece_board_set_length (giant, G_MAXINT64, 1));
  g_assert_false (dfly_piece_board_set_length (giant, 10, 0));
}

typedef struct {
  DflyPieceBoard *board;
  guint32         number;
  GCancellable   *cancellable;
  gboolean        ok;
  GError         *error;
} WaitCall;

static gpointer
wait_thread (gpointer data)
{
  WaitCall *call = data;

  call->ok =
    dfly_piece_board_wait_piece (call->board, call->number, call->cancellable, &call->error);
  return NULL;
}

/* A reader waiting for a piece wakes when it is committed; its own
 * cancellable stops only it; the task's failure stops every reader. */
static void
test_wait_piece (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) reader = g_cancellable_new ();
  g_autoptr (DflyPieceInfo) piece = piece_new (7, DIGEST);
  g_autoptr (GError) failure = g_error_new_literal (DFLY_ERROR, DFLY_ERROR_SOURCE, "404");
  WaitCall held = { f->board, 7, NULL };
  WaitCall cancelled = { f->board, 8, reader };
  WaitCall failed = { f->board, 9, NULL };
  GThread *threads[3];

  threads[0] = g_thread_new ("held", wait_thread, &held);
  threads[1] = g_thread_new ("cancelled", wait_thread, &cancelled);
  threads[2] = g_thread_new ("failed", wait_thread, &failed);
  dfly_piece_board_commit (f->board, piece, TRUE);
  g_thread_join (threads[0]);
  g_assert_true (held.ok);
  g_cancellable_cancel (reader);
  g_thread_join (threads[1]);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_cancellable_is_cancelled (f->cancellable));
  dfly_piece_board_finish (f->board, failure);
  g_thread_join (threads[2]);
  g_assert_error (failed.error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_clear_error (&cancelled.error);
  g_clear_error (&failed.error);
}

/* Cancelling the task stops every worker. */
static void
test_cancelled (Fixture *f, gconstpointer data)
{
  DflyPieceJob job;

  g_cancellable_cancel (f->cancellable);
  expect_job (f, &job, DFLY_PIECE_JOB_STOP, -1);
}

/* A worker's next job, asked in a thread: a lazy board may keep it waiting. */
typedef struct {
  DflyPieceBoard  *board;
  DflyPieceJob     job;
  DflyPieceJobKind kind;
  gint             done;
} Waiter;

static gpointer
waiter_thread (gpointer data)
{
  Waiter *waiter = data;

  waiter->kind = dfly_piece_board_next (waiter->board, &waiter->job);
  g_atomic_int_set (&waiter->done, 1);
  return NULL;
}

/* Waits (at most 10 s) for the waiter's thread to end. */
static void
join_waiter (Waiter *waiter, GThread *thread)
{
  for (guint i = 0; i < 1000 && !g_atomic_int_get (&waiter->done); i++)
    g_usleep (10000);
  g_assert_true (g_atomic_int_get (&waiter->done));
  g_thread_join (thread);
}

/* Lazy: only the pieces readers want are handed out, from the source or
 * from parents; with none wanted a worker waits (the cancellable ends it);
 * eager again, the rest comes. */
static void
test_lazy (Fixture *f, gconstpointer data)
{
  Waiter   waiter = { f->board };
  GThread *thread;
  gpointer wanted;

  dfly_piece_board_set_lazy (f->board, TRUE);
  g_assert_true (dfly_piece_board_get_lazy (f->board));
  dfly_piece_board_set_to_source (f->board, TRUE);
  thread = g_thread_new ("waiter", waiter_thread, &waiter);
  g_usleep (300000);
  g_assert_false (g_atomic_int_get (&waiter.done)); /* nothing is wanted */
  wanted = dfly_piece_board_prioritize (f->board, 5 * PIECE, 1);
  join_waiter (&waiter, thread);
  g_assert_cmpint (waiter.kind, ==, DFLY_PIECE_JOB_SOURCE);
  g_assert_cmpuint (waiter.job.number, ==, 5);
  finish_job (f, &waiter.job, TRUE);
  dfly_piece_board_unprioritize (f->board, wanted);

  /* From parents alike: the wanted piece, not the rarest. */
  dfly_piece_board_set_to_source (f->board, FALSE);
  set_all_digests (f);
  add_parent (f, "a", FALSE, 0, 9);
  wanted = dfly_piece_board_prioritize (f->board, 3 * PIECE, PIECE);
  expect_job (f, &waiter.job, DFLY_PIECE_JOB_PARENT, 3);
  finish_job (f, &waiter.job, FALSE);
  dfly_piece_board_unprioritize (f->board, wanted);

  /* Eager again: the others, rarest first as ever. */
  dfly_piece_board_set_lazy (f->board, FALSE);
  expect_job (f, &waiter.job, DFLY_PIECE_JOB_PARENT, -1);
  g_assert_cmpuint (waiter.job.number, !=, 3);
  g_assert_cmpuint (waiter.job.number, !=, 5);
  finish_job (f, &waiter.job, FALSE);

  /* Lazy with nothing wanted: a waiting worker stops when cancelled. */
  dfly_piece_board_set_lazy (f->board, TRUE);
  memset (&waiter, 0, sizeof waiter);
  waiter.board = f->board;
  thread = g_thread_new ("waiter", waiter_thread, &waiter);
  g_usleep (300000);
  g_assert_false (g_atomic_int_get (&waiter.done));
  g_cancellable_cancel (f->cancellable);
  join_waiter (&waiter, thread);
  g_assert_cmpint (waiter.kind, ==, DFLY_PIECE_JOB_STOP);
}

#define BOARD_TEST_ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  BOARD_TEST_ADD ("/piece-board/source-order", test_source_order);
  BOARD_TEST_ADD ("/piece-board/source-retry", test_source_retry);
  BOARD_TEST_ADD ("/piece-board/priorities", test_priorities);
  BOARD_TEST_ADD ("/piece-board/rarest-with-digest", test_rarest_with_digest);
  BOARD_TEST_ADD ("/piece-board/inflight-caps", test_inflight_caps);
  BOARD_TEST_ADD ("/piece-board/parent-failures", test_parent_failures);
  BOARD_TEST_ADD ("/piece-board/counters", test_counters);
  BOARD_TEST_ADD ("/piece-board/wait-piece", test_wait_piece);
  BOARD_TEST_ADD ("/piece-board/cancelled", test_cancelled);
  BOARD_TEST_ADD ("/piece-board/lazy", test_lazy);
  return g_test_run ();
}
