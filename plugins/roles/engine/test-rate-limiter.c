/* test-rate-limiter.c — the token bucket every transfer of one direction shares
 *
 * Waits are checked from what reserve() returns, against the clock read
 * around the calls, rather than by sleeping them: the bucket's contract is
 * that bytes leave at the rate on average, which its answers alone show.
 * One test runs real threads against the clock, with a generous bound.
 */
#include "config.h"

#include "dfly-rate-limiter.h"

#define MIB      (1024 * 1024)
#define BURST_US 50000 /* dfly-rate-limiter.c's BURST_SECONDS, in µs */
#define SLACK_US 2     /* rounding: each wait is truncated to whole µs */

/* Without a rate nothing ever waits. */
static void
test_unlimited (void)
{
  g_autoptr (DflyRateLimiter) limiter = dfly_rate_limiter_new (0);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpuint (dfly_rate_limiter_get_rate (limiter), ==, 0);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpint (dfly_rate_limiter_reserve (limiter, 64 * MIB), ==, 0);
  g_assert_true (dfly_rate_limiter_consume (limiter, G_MAXSIZE / 2, cancellable));
  g_assert_true (dfly_rate_limiter_consume (limiter, 1, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpuint (dfly_rate_limiter_get_free (limiter), ==, 0);
  dfly_rate_limiter_free (NULL);
}

/* The bucket goes into debt: each reserve says when its bytes may go, so
 * that 10 MiB at 4 MiB/s all leave 2.5 s after the bucket started,
 * less what it held. */
static void
test_average (void)
{
  const guint64 rate = 4 * MIB;
  g_autoptr (DflyRateLimiter) limiter = NULL;
  gint64 waits[10];
  gint64 created_before, created_after, last_before, last_after;

  /* From empty: a new bucket holds nothing. */
  created_before = g_get_monotonic_time ();
  limiter = dfly_rate_limiter_new (rate);
  created_after = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++) {
    last_before = g_get_monotonic_time ();
    waits[i] = dfly_rate_limiter_reserve (limiter, MIB);
    last_after = g_get_monotonic_time ();
  }
  for (guint i = 1; i < G_N_ELEMENTS (waits); i++) {
    /* Each MiB waits a quarter second more than the one before, less
     * the time that passed between the two calls. */
    g_assert_cmpint (waits[i], >, waits[i - 1]);
    g_assert_cmpint (waits[i] - waits[i - 1], <=, G_USEC_PER_SEC / 4 + SLACK_US);
  }
  /* The last byte may go exactly 2.5 s after the bucket was made. */
  g_assert_cmpint (last_after + waits[9], >=, created_before + 5 * G_USEC_PER_SEC / 2 - SLACK_US);
  g_assert_cmpint (last_before + waits[9], <=, created_after + 5 * G_USEC_PER_SEC / 2 + SLACK_US);

  /* After a rest the bucket holds its burst, and no more: 50 ms of the
   * rate, however long the rest. Owed time is paid first, so start anew. */
  dfly_rate_limiter_set_rate (limiter, rate + 1);
  dfly_rate_limiter_set_rate (limiter, rate);
  g_usleep (4 * BURST_US);
  last_before = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    waits[i] = dfly_rate_limiter_reserve (limiter, MIB);
  last_after = g_get_monotonic_time ();
  /* 2.5 s less the burst (0.05 s), less the time the calls took. */
  g_assert_cmpint (waits[9], <=, 5 * G_USEC_PER_SEC / 2 - BURST_US + SLACK_US);
  g_assert_cmpint (waits[9], >=,
                   5 * G_USEC_PER_SEC / 2 - BURST_US - (last_after - last_before) - SLACK_US);

  /* The burst itself goes at once. */
  dfly_rate_limiter_set_rate (limiter, rate + 1);
  dfly_rate_limiter_set_rate (limiter, rate);
  g_usleep (4 * BURST_US);
  g_assert_cmpint (dfly_rate_limiter_reserve (limiter, rate * BURST_US / G_USEC_PER_SEC - 1024), ==,
                   0);
}

/* A new rate applies to the next reserve; setting the same rate changes nothing. */
static void
test_set_rate (void)
{
  g_autoptr (DflyRateLimiter) limiter = dfly_rate_limiter_new (MIB);
  gint64 wait;

  wait = dfly_rate_limiter_reserve (limiter, MIB);
  g_assert_cmpint (wait, >, G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (wait, <=, G_USEC_PER_SEC);

  /* The same rate again: the debt stands, the next MiB waits for both. */
  dfly_rate_limiter_set_rate (limiter, MIB);
  wait = dfly_rate_limiter_reserve (limiter, MIB);
  g_assert_cmpint (wait, >, 2 * G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (wait, <=, 2 * G_USEC_PER_SEC);

  /* Twice the rate: a MiB takes half a second. */
  dfly_rate_limiter_set_rate (limiter, 2 * MIB);
  g_assert_cmpuint (dfly_rate_limiter_get_rate (limiter), ==, 2 * MIB);
  wait = dfly_rate_limiter_reserve (limiter, MIB);
  g_assert_cmpint (wait, >, G_USEC_PER_SEC / 2 * 9 / 10);
  g_assert_cmpint (wait, <=, G_USEC_PER_SEC / 2);

  /* No rate: nothing waits. */
  dfly_rate_limiter_set_rate (limiter, 0);
  g_assert_cmpuint (dfly_rate_limiter_get_rate (limiter), ==, 0);
  g_assert_cmpint (dfly_rate_limiter_reserve (limiter, 100 * MIB), ==, 0);

  /* And a rate again: from an empty bucket. */
  dfly_rate_limiter_set_rate (limiter, 4 * MIB);
  wait = dfly_rate_limiter_reserve (limiter, MIB);
  g_assert_cmpint (wait, >, G_USEC_PER_SEC / 4 * 9 / 10);
  g_assert_cmpint (wait, <=, G_USEC_PER_SEC / 4);
}

static gpointer
cancel_soon (gpointer data)
{
  g_usleep (50000);
  g_cancellable_cancel (data);
  return NULL;
}

/* A cancelled consume returns FALSE at once, and one cancelled while it
 * sleeps returns FALSE soon after. */
static void
test_cancel (void)
{
  g_autoptr (DflyRateLimiter) limiter = dfly_rate_limiter_new (1024);
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autoptr (GCancellable) later = g_cancellable_new ();
  GThread *thread;
  gint64   start;

  g_cancellable_cancel (cancelled);
  start = g_get_monotonic_time ();
  /* An hour's worth of bytes. */
  g_assert_false (dfly_rate_limiter_consume (limiter, 3600 * 1024, cancelled));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);

  start = g_get_monotonic_time ();
  thread = g_thread_new ("cancel", cancel_soon, later);
  g_assert_false (dfly_rate_limiter_consume (limiter, 3600 * 1024, later));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_thread_join (thread);
}

#define N_THREADS 4
#define N_CHUNKS  6
#define CHUNK     (32 * 1024)

typedef struct {
  DflyRateLimiter *limiter;
  gint             ok;
} Consumer;

static gpointer
consume_chunks (gpointer data)
{
  Consumer *consumer = data;

  for (guint i = 0; i < N_CHUNKS; i++) {
    if (dfly_rate_limiter_consume (consumer->limiter, CHUNK, NULL))
      g_atomic_int_inc (&consumer->ok);
  }
  return NULL;
}

/* Threads that share a bucket go at its rate together: 768 KiB at 1 MiB/s
 * take 0.75 s, however they interleave. */
static void
test_threads (void)
{
  g_autoptr (DflyRateLimiter) limiter = NULL;
  Consumer consumer = { NULL, 0 };
  GThread *threads[N_THREADS];
  gint64   start = g_get_monotonic_time ();
  gint64   elapsed;

  limiter = consumer.limiter = dfly_rate_limiter_new (MIB);
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("consumer", consume_chunks, &consumer);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (consumer.ok, ==, N_THREADS * N_CHUNKS);
  /* Never faster than the rate (the bucket starts empty); the upper bound
   * is generous for loaded machines and valgrind. */
  g_assert_cmpint (elapsed, >=, (gint64) N_THREADS * N_CHUNKS * CHUNK * G_USEC_PER_SEC / MIB);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC * 3 / 2);
}

/* Spare rate is the rate less what went in the last whole second. */
static void
test_free (void)
{
  g_autoptr (DflyRateLimiter) limiter = dfly_rate_limiter_new (MIB);
  g_autoptr (DflyRateLimiter) busy = dfly_rate_limiter_new (1000);

  /* Nothing sent yet: all of it is free. */
  g_assert_cmpuint (dfly_rate_limiter_get_free (limiter), ==, MIB);
  /* A quarter of the rate in this second; five times the rate in the other. */
  g_assert_cmpint (dfly_rate_limiter_reserve (limiter, MIB / 4), >, 0);
  g_assert_cmpint (dfly_rate_limiter_reserve (busy, 5000), >, 0);
  /* Once that second is over it counts. */
  g_usleep (G_USEC_PER_SEC + 50000);
  g_assert_cmpuint (dfly_rate_limiter_get_free (limiter), ==, MIB - MIB / 4);
  g_assert_cmpuint (dfly_rate_limiter_get_free (busy), ==, 0);
  /* A change of rate shows at once. */
  dfly_rate_limiter_set_rate (limiter, 2 * MIB);
  g_assert_cmpuint (dfly_rate_limiter_get_free (limiter), ==, 2 * MIB - MIB / 4);
  dfly_rate_limiter_set_rate (limiter, 0);
  g_assert_cmpuint (dfly_rate_limiter_get_free (limiter), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rate-limiter/unlimited", test_unlimited);
  g_test_add_func ("/rate-limiter/average", test_average);
  g_test_add_func ("/rate-limiter/set-rate", test_set_rate);
  g_test_add_func ("/rate-limiter/cancel", test_cancel);
  g_test_add_func ("/rate-limiter/threads", test_threads);
  g_test_add_func ("/rate-limiter/free", test_free);
  return g_test_run ();
}
