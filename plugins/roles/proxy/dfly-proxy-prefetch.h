/* dfly-proxy-prefetch.h — the rest of a task, fetched behind a range read
 *
 * A range read fetches only the pieces it covers (the engine's lazy
 * tasks). With X-Dragonfly-Prefetch: true or proxy.prefetch, the rest of
 * the task follows in the background: with proxy.prefetch_rate_limit 0 the
 * engine is simply asked for the whole task (DflyDownloadRequest.prefetch);
 * with a limit, the proxy itself reads the task from its start, 1 MiB at a
 * time, no faster than the limit, and drops what it read (the engine
 * fetches the pieces under each read: that is the point). One prefetch per
 * task, at most DFLY_PROXY_PREFETCH_MAX at once; all end when the role
 * stops. Main thread.
 */
#pragma once

#include "dfly-proxy.h"

G_BEGIN_DECLS

#define DFLY_PROXY_PREFETCH_MAX   16
#define DFLY_PROXY_PREFETCH_CHUNK (1024 * 1024)

typedef struct _DflyProxyPrefetches DflyProxyPrefetches;

DflyProxyPrefetches *dfly_proxy_prefetches_new (DflyProxy *proxy);
/* Stops every prefetch. */
void dfly_proxy_prefetches_free (DflyProxyPrefetches *prefetches);
/* Starts reading request's task (request->task_id set, content_length
 * known) at proxy.prefetch_rate_limit; nothing if it runs already or too
 * many do. */
void  dfly_proxy_prefetches_start (DflyProxyPrefetches       *prefetches,
                                   const DflyDownloadRequest *request, guint64 content_length);
guint dfly_proxy_prefetches_count (DflyProxyPrefetches *prefetches);

G_END_DECLS
