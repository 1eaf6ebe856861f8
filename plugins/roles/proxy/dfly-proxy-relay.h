/* dfly-proxy-relay.h — a request passed straight to its upstream
 *
 * Through the daemon's DflyHttpClient (source.allow/deny, trust, timeouts,
 * retries after a 5xx), without following redirects: the client gets the
 * upstream's answer as it came — status, end-to-end headers and body,
 * streamed — an error as that error (never a page of ours, never cached).
 * When no answer comes, ours says why (403 refused, 504 timeout, 502).
 */
#pragma once

#include "dfly-proxy.h"

G_BEGIN_DECLS

/* Answers msg, which the caller paused. headers: what to send upstream (see
 * dfly_proxy_headers_for_upstream), taken. why_not_p2p (may be NULL): the
 * swarm's failure this relay stands in for, logged, and the answer marked
 * X-Dragonfly-Error-Type: source if the upstream's is an error too. */
void dfly_proxy_relay (DflyProxy *proxy, SoupServerMessage *msg, const char *url,
                       GHashTable *headers, const GError *why_not_p2p);

G_END_DECLS
