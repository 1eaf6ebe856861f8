/* dfly-proxy-tunnel.h — CONNECT: tunnelled, or intercepted for listed hosts
 *
 * A CONNECT to host:port is answered 200 and its bytes are copied both
 * ways to the upstream. For a host matching proxy.intercept, the proxy ends
 * the client's TLS itself with a leaf certificate for that host (made on
 * first use and cached), signed by proxy.ca_cert/ca_key, and hands the
 * connection to an inner HTTP server whose requests are handled like the
 * others, as https:// URLs on that host.
 */
#pragma once

#include "dfly-proxy.h"

G_BEGIN_DECLS

typedef struct _DflyProxyTunnels DflyProxyTunnels;

/* The inner server's requests go to handler (the role's own). NULL with an
 * error when the CA cannot be loaded. */
DflyProxyTunnels *dfly_proxy_tunnels_new (DflyProxy *proxy, SoupServerCallback handler,
                                          gpointer handler_data, GError **error);
void              dfly_proxy_tunnels_free (DflyProxyTunnels *tunnels);
/* Answers a CONNECT request. */
void dfly_proxy_tunnels_serve (DflyProxyTunnels *tunnels, SoupServerMessage *msg);

G_END_DECLS
