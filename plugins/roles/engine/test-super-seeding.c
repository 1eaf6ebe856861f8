/* test-super-seeding.c — the seed's upload policy alone (and a normal
 * peer's, for the tasks it fetches from the source): whom it tells of a
 * piece, when the others hear of it, and which ranges it defers */
#include "config.h"

#include "dfly/dfly.h"
#include "dfly-super-seeding.h"

#define WINDOW_US (500 * 1000) /* the policy's reveal delay and 429 window */

#define TASK_ID "c0ffee0000000000000000000000000000000000000000000000000000000000"

/* Three sync streams, as opaque handles: the policy never looks into them. */
static GPtrArray *
streams_new (guint n)
{
  GPtrArray *streams = g_ptr_array_new ();

  for (guint i = 1; i <= n; i++)
    g_ptr_array_add (streams, GUINT_TO_POINTER (i));
  return streams;
}

/* Each new piece goes to one child, the children in turn; the others hear
 * of it after the window. */
static void
test_turns (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();
  g_autoptr (GPtrArray) streams = streams_new (3);
  g_autoptr (GString) told = g_string_new (NULL);

  for (guint32 n = 0; n < 7; n++) {
    g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, n);
    g_autoptr (GPtrArray) now = NULL;
    gint64 reveal_after = -1;

    now = dfly_upload_policy_announce (policy, piece, streams, &reveal_after);
    g_assert_cmpuint (now->len, ==, 1);
    g_assert_cmpint (reveal_after, ==, WINDOW_US);
    g_string_append_printf (told, "%u", GPOINTER_TO_UINT (g_ptr_array_index (now, 0)));
  }
  g_assert_cmpstr (told->str, ==, "1231231");
}

/* One child alone hears of it at once: nobody is left to reveal it to. */
static void
test_one_child (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();
  g_autoptr (GPtrArray) streams = streams_new (1);
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, 0);
  g_autoptr (GPtrArray) now = NULL;
  gint64 reveal_after;

  now = dfly_upload_policy_announce (policy, piece, streams, &reveal_after);
  g_assert_cmpuint (now->len, ==, 1);
  g_assert_true (g_ptr_array_index (now, 0) == g_ptr_array_index (streams, 0));
}

/* A range asked again within the window is deferred (429); after it, it
 * is sent again. Other ranges and other tasks are not affected. */
static void
test_window (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();
  const char *other = "beef000000000000000000000000000000000000000000000000000000000000";

  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 1024, 2047));
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 2047));
  g_assert_true (dfly_upload_policy_admit (policy, other, 0, 1023));
  g_usleep (WINDOW_US / 2);
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_usleep (WINDOW_US / 2 + 50 * 1000);
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  /* ... and the window starts again from that copy. */
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
}

/* A range admitted but not sent after all is admitted again at once; the
 * other ranges stay remembered. */
static void
test_withdraw (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();

  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 1024, 2047));
  dfly_upload_policy_withdraw (policy, TASK_ID, 0, 1023);
  g_assert_cmpuint (dfly_super_seeding_get_remembered (DFLY_SUPER_SEEDING (policy)), ==, 1);
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 1024, 2047));
  /* Withdrawing what was never admitted changes nothing. */
  dfly_upload_policy_withdraw (policy, TASK_ID, 4096, 5119);
  g_assert_cmpuint (dfly_super_seeding_get_remembered (DFLY_SUPER_SEEDING (policy)), ==, 2);
}

/* Ranges past the window are forgotten, and a flood of distinct ranges
 * within it keeps at most 4096: the oldest go first. */
static void
test_memory (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);

  for (goffset i = 0; i < 5000; i++)
    g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, i, i));
  g_assert_cmpuint (dfly_super_seeding_get_remembered (self), ==, 4096);
  /* The newest are still deferred, the first ones were forgotten. */
  g_assert_false (dfly_upload_policy_admit (policy, TASK_ID, 4999, 4999));
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 0));
  g_usleep (WINDOW_US + 50 * 1000);
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 4999, 4999));
  g_assert_cmpuint (dfly_super_seeding_get_remembered (self), ==, 1);
}

typedef struct {
  DflyUploadPolicy *policy;
  guint             admitted;
} Racer;

static gpointer
race (gpointer data)
{
  Racer *racer = data;

  for (goffset i = 0; i < 1000; i++) {
    if (dfly_upload_policy_admit (racer->policy, TASK_ID, i, i))
      racer->admitted++;
  }
  return NULL;
}

/* The piece sender's threads admit at once: each range goes out once. */
static void
test_threads (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new ();
  Racer    racers[4] = { 0 };
  GThread *threads[G_N_ELEMENTS (racers)];
  guint    admitted = 0;

  for (guint i = 0; i < G_N_ELEMENTS (racers); i++) {
    racers[i].policy = policy;
    threads[i] = g_thread_new ("racer", race, &racers[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (racers); i++) {
    g_thread_join (threads[i]);
    admitted += racers[i].admitted;
  }
  g_assert_cmpuint (admitted, ==, 1000);
}

/* announce() of piece n of task, which came from parent (NULL: the
 * source); the streams told now, as "1,2,3", and the reveal delay. */
static char *
told_now (DflyUploadPolicy *policy, const char *task, guint32 n, const char *parent,
          GPtrArray *streams, gint64 *reveal_after)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (task, n);
  g_autoptr (GPtrArray) now = NULL;
  GString *told = g_string_new (NULL);

  piece->parent_id = g_strdup (parent);
  *reveal_after = -1;
  now = dfly_upload_policy_announce (policy, piece, streams, reveal_after);
  for (guint i = 0; i < now->len; i++)
    g_string_append_printf (told, "%s%u", i > 0 ? "," : "",
                            GPOINTER_TO_UINT (g_ptr_array_index (now, i)));
  return g_string_free (told, FALSE);
}

/* A normal peer's policy: a task it has pieces of from parents only is
 * shared as the default shares (everyone told at once, every range sent);
 * once a piece of it comes from the source, it is super-seeded as a seed's
 * tasks are, pieces from parents included. */
static void
test_source_tasks (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new_for_source_tasks ();
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);
  g_autoptr (GPtrArray) streams = streams_new (3);
  const char *other = "beef000000000000000000000000000000000000000000000000000000000000";
  gint64      reveal_after;
  char       *told;

  told = told_now (policy, TASK_ID, 0, "parent-1", streams, &reveal_after);
  g_assert_cmpstr (told, ==, "1,2,3");
  g_free (told);
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
  g_assert_cmpuint (dfly_super_seeding_get_source_tasks (self), ==, 0);

  /* From the source: one child now, the others after the window. */
  told = told_now (policy, other, 0, NULL, streams, &reveal_after);
  g_assert_cmpstr (told, ==, "1");
  g_free (told);
  g_assert_cmpint (reveal_after, ==, WINDOW_US);
  told = told_now (policy, other, 1, "parent-1", streams, &reveal_after);
  g_assert_cmpstr (told, ==, "2");
  g_free (told);
  g_assert_true (dfly_upload_policy_admit (policy, other, 0, 1023));
  g_assert_false (dfly_upload_policy_admit (policy, other, 0, 1023));
  g_assert_cmpuint (dfly_super_seeding_get_source_tasks (self), ==, 1);
  /* The first task is still shared by default. */
  g_assert_true (dfly_upload_policy_admit (policy, TASK_ID, 0, 1023));
}

/* The source tasks a peer remembers are bounded (1024): the oldest go
 * first, and are shared by default again. */
static void
test_source_tasks_memory (void)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_super_seeding_new_for_source_tasks ();
  DflySuperSeeding *self = DFLY_SUPER_SEEDING (policy);
  g_autoptr (GPtrArray) streams = streams_new (2);
  gint64 reveal_after;

  for (guint i = 0; i < 1100; i++) {
    g_autofree char *task = g_strdup_printf ("%064x", i);
    g_autofree char *told = told_now (policy, task, 0, NULL, streams, &reveal_after);

    g_assert_cmpuint (strlen (told), ==, 1);
  }
  g_assert_cmpuint (dfly_super_seeding_get_source_tasks (self), ==, 1024);
  {
    g_autofree char *first = g_strdup_printf ("%064x", 0);
    g_autofree char *last = g_strdup_printf ("%064x", 1099);

    g_assert_true (dfly_upload_policy_admit (policy, first, 0, 9));
    g_assert_true (dfly_upload_policy_admit (policy, first, 0, 9));
    g_assert_true (dfly_upload_policy_admit (policy, last, 0, 9));
    g_assert_false (dfly_upload_policy_admit (policy, last, 0, 9));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/super-seeding/turns", test_turns);
  g_test_add_func ("/super-seeding/one-child", test_one_child);
  g_test_add_func ("/super-seeding/window", test_window);
  g_test_add_func ("/super-seeding/withdraw", test_withdraw);
  g_test_add_func ("/super-seeding/memory", test_memory);
  g_test_add_func ("/super-seeding/threads", test_threads);
  g_test_add_func ("/super-seeding/source-tasks", test_source_tasks);
  g_test_add_func ("/super-seeding/source-tasks-memory", test_source_tasks_memory);
  return g_test_run ();
}
