/* dfly-rate-limiter.h — a token bucket shared by threads
 *
 * Every transfer of one direction (all uploads, or all downloads) takes its
 * bytes from one bucket, so the host's total stays under the rate however
 * many transfers run. A bucket with rate 0 never waits.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DflyRateLimiter DflyRateLimiter;

DflyRateLimiter *dfly_rate_limiter_new (guint64 bytes_per_second);
void             dfly_rate_limiter_free (DflyRateLimiter *self);
/* A reload may change the rate at any time. */
void    dfly_rate_limiter_set_rate (DflyRateLimiter *self, guint64 bytes_per_second);
guint64 dfly_rate_limiter_get_rate (DflyRateLimiter *self);
/* Takes bytes from the bucket; returns how long (µs) the caller must wait
 * before sending them, 0 for at once. Never blocks. */
gint64 dfly_rate_limiter_reserve (DflyRateLimiter *self, gsize bytes);
/* reserve() and sleep as long as it says; FALSE if cancelled meanwhile. */
gboolean dfly_rate_limiter_consume (DflyRateLimiter *self, gsize bytes, GCancellable *cancellable);
/* Bytes/s left unused over the last second or so (0 without a rate). */
guint64 dfly_rate_limiter_get_free (DflyRateLimiter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyRateLimiter, dfly_rate_limiter_free)

G_END_DECLS
