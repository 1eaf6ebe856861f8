/* dfly-proxy-headers.h — which headers cross the proxy, and X-Dragonfly-*
 *
 * Hop-by-hop headers (Connection and those it names, Keep-Alive,
 * Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade) and framing stay on
 * their side; the client's X-Dragonfly-* headers are for us, not the
 * upstream. Everything else crosses as it came.
 */
#pragma once

#include <libsoup/soup.h>

#include "dfly/dfly.h"

G_BEGIN_DECLS

/* What a client asks of us with X-Dragonfly-* headers. */
typedef struct {
  char    *tag;
  char    *application;
  char    *registry;       /* an upstream URL for a mirror request */
  char   **filtered_query; /* NULL: the config's */
  guint64  piece_length;   /* 0: by the rule */
  guint    priority;
  int      use_p2p; /* -1: as the rules say, else 0 or 1 */
  gboolean prefetch;
} DflyProxyAsk;

/* NULL with DFLY_ERROR_INVALID_ARGUMENT naming the header and its fault. */
DflyProxyAsk *dfly_proxy_ask_parse (SoupMessageHeaders *headers, GError **error);
void          dfly_proxy_ask_free (DflyProxyAsk *ask);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyProxyAsk, dfly_proxy_ask_free)

/* The request headers to send upstream (name → value; a repeated header
 * joined with ", "); for_swarm: for a task's origin, so without Range,
 * Accept and conditionals (If-*), which would shape what it sends. */
GHashTable *dfly_proxy_headers_for_upstream (SoupMessageHeaders *headers, gboolean for_swarm);
/* An upstream answer's end-to-end headers into the client's answer. */
void dfly_proxy_headers_copy_answer (SoupMessageHeaders *from, SoupMessageHeaders *to);

G_END_DECLS
