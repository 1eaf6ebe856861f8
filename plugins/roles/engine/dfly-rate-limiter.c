/* dfly-rate-limiter.c — a token bucket shared by threads (see the header)
 *
 * The bucket may go negative: a caller takes what it needs now and waits
 * for the debt to be refilled, so large and small chunks are paced alike
 * and the average rate is exact over any span longer than the burst.
 */
#include "config.h"

#include "dfly-rate-limiter.h"

#define BURST_SECONDS 0.05 /* tokens that may pile up while idle */

struct _DflyRateLimiter {
  GMutex  lock;
  guint64 rate;     /* bytes/s, 0: unlimited */
  double  tokens;   /* bytes available now; negative: owed */
  gint64  refilled; /* monotonic µs of the last refill */
  /* What was sent in the current and the previous second, for get_free. */
  gint64  window_start;
  guint64 window_bytes;
  guint64 last_window_bytes;
};

DflyRateLimiter *
dfly_rate_limiter_new (guint64 bytes_per_second)
{
  DflyRateLimiter *self = g_new0 (DflyRateLimiter, 1);

  g_mutex_init (&self->lock);
  self->rate = bytes_per_second;
  self->refilled = self->window_start = g_get_monotonic_time ();
  return self;
}

void
dfly_rate_limiter_free (DflyRateLimiter *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
dfly_rate_limiter_set_rate (DflyRateLimiter *self, guint64 bytes_per_second)
{
  g_mutex_lock (&self->lock);
  if (self->rate != bytes_per_second) {
    self->rate = bytes_per_second;
    self->tokens = 0;
    self->refilled = g_get_monotonic_time ();
  }
  g_mutex_unlock (&self->lock);
}

guint64
dfly_rate_limiter_get_rate (DflyRateLimiter *self)
{
  guint64 rate;

  g_mutex_lock (&self->lock);
  rate = self->rate;
  g_mutex_unlock (&self->lock);
  return rate;
}

static void
count_window (DflyRateLimiter *self, gint64 now, gsize bytes)
{
  if (now - self->window_start >= G_USEC_PER_SEC) {
    self->last_window_bytes =
      now - self->window_start < 2 * G_USEC_PER_SEC ? self->window_bytes : 0;
    self->window_bytes = 0;
    self->window_start = now;
  }
  self->window_bytes += bytes;
}

gint64
dfly_rate_limiter_reserve (DflyRateLimiter *self, gsize bytes)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait = 0;

  g_mutex_lock (&self->lock);
  count_window (self, now, bytes);
  if (self->rate > 0) {
    double burst = MAX (self->rate * BURST_SECONDS, 64 * 1024);

    self->tokens += (double) (now - self->refilled) * self->rate / G_USEC_PER_SEC;
    self->tokens = MIN (self->tokens, burst);
    self->refilled = now;
    self->tokens -= (double) bytes;
    if (self->tokens < 0)
      wait = (gint64) (-self->tokens * G_USEC_PER_SEC / self->rate);
  }
  g_mutex_unlock (&self->lock);
  return wait;
}

gboolean
dfly_rate_limiter_consume (DflyRateLimiter *self, gsize bytes, GCancellable *cancellable)
{
  gint64 wait = dfly_rate_limiter_reserve (self, bytes);

  /* Slept in slices so a cancel is noticed soon. */
  while (wait > 0 && !g_cancellable_is_cancelled (cancellable)) {
    gint64 slice = MIN (wait, 20000);

    g_usleep (slice);
    wait -= slice;
  }
  if (!g_cancellable_is_cancelled (cancellable))
    return TRUE;
  /* The bytes are not sent: what they owe goes back to the bucket. */
  g_mutex_lock (&self->lock);
  if (self->rate > 0)
    self->tokens += (double) bytes;
  g_mutex_unlock (&self->lock);
  return FALSE;
}

guint64
dfly_rate_limiter_get_free (DflyRateLimiter *self)
{
  guint64 free_rate = 0;

  g_mutex_lock (&self->lock);
  count_window (self, g_get_monotonic_time (), 0);
  if (self->rate > 0)
    free_rate = self->rate > self->last_window_bytes ? self->rate - self->last_window_bytes : 0;
  g_mutex_unlock (&self->lock);
  return free_rate;
}
