/* dfly-proxy-p2p.h — a GET answered from the swarm
 *
 * The request becomes a DflyDownloadRequest (its X-Dragonfly-* asks, the
 * headers the origin needs) and is read through the context's downloader:
 * the bytes a Range asks for (its pieces fetched first) or the whole
 * content, streamed to the client as pieces are verified and land —
 * first bytes once the first piece is in, never after the whole task.
 * The task goes on for others if the client leaves. 206 with
 * Content-Range for a range, 416 past the end; X-Dragonfly-Task-ID, and
 * X-Dragonfly-Task-Download-Finished: true when the task was complete in
 * storage already. If the swarm cannot start the answer (the origin
 * refused, failed or was never reachable), the request is passed through
 * (dfly-proxy-relay), so the client gets the upstream's own answer.
 */
#pragma once

#include "dfly-proxy-headers.h"
#include "dfly-proxy.h"

G_BEGIN_DECLS

/* Pauses msg and answers it later. */
void dfly_proxy_p2p_serve (DflyProxy *proxy, SoupServerMessage *msg, const char *url,
                           const DflyProxyAsk *ask);

G_END_DECLS
