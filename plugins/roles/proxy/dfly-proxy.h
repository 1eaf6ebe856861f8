/* dfly-proxy.h — what every part of the proxy role shares
 *
 * One DflyProxy per running role: the context, its settings and compiled
 * rules, and the address it answers on. Requests are handled by the parts
 * below, each in its own file: dfly-proxy-target (which upstream URL a
 * request is for), dfly-proxy-headers (what crosses, X-Dragonfly-*),
 * dfly-proxy-relay (passing a request straight through), dfly-proxy-p2p
 * (answering from the swarm), dfly-proxy-tunnel (CONNECT).
 */
#pragma once

#include <libsoup/soup.h>

#include "dfly/dfly.h"
#include "dfly/dfly-http-client.h"
#include "dfly-proxy-cache.h"
#include "dfly-proxy-rules.h"
#include "dfly-proxy-settings.h"

G_BEGIN_DECLS

typedef struct {
  DflyContext                 *context;
  DflySettings                *settings_ref;
  const DflyProxySettings     *settings;
  DflyProxyRules              *rules;
  DflyProxyCache              *cache;      /* small range reads */
  struct _DflyProxyPrefetches *prefetches; /* the rest of tasks, behind range reads */
  guint16                      port;       /* as bound */
  char                        *via;        /* our Via token: a request carrying it came round */
  GCancellable                *stopping;   /* cancelled when the role stops */
} DflyProxy;

/* An error answer we make ourselves (not an upstream's): status, a
 * one-line text body and X-Dragonfly-Error-Type: proxy. */
void dfly_proxy_answer_error (SoupServerMessage *msg, guint status, const char *format, ...)
  G_GNUC_PRINTF (3, 4);
/* The status a DFLY_ERROR maps to when no upstream answer is there to pass
 * on: 403 for a refused source, 504 for a timeout, 502 otherwise. */
guint dfly_proxy_status_for_error (const GError *error);

G_END_DECLS
