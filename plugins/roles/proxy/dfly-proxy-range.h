/* dfly-proxy-range.h — the one byte range a client's Range header asks for
 *
 * "bytes=first-last", "bytes=first-" or "bytes=-suffix". Anything else —
 * several ranges, another unit, a malformed value — is ignored and the
 * whole content is served, as RFC 9110 14.2 lets a server do.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DFLY_PROXY_RANGE_NONE,   /* serve the whole content */
  DFLY_PROXY_RANGE_SPAN,   /* offset, length */
  DFLY_PROXY_RANGE_FROM,   /* offset to the end */
  DFLY_PROXY_RANGE_SUFFIX, /* the last length bytes */
} DflyProxyRangeKind;

typedef struct {
  DflyProxyRangeKind kind;
  guint64            offset;
  guint64            length;
} DflyProxyRange;

void dfly_proxy_range_parse (const char *value, DflyProxyRange *range);

G_END_DECLS
