/* dfly-proxy-tunnel.c — CONNECT (see the header) */
#include "config.h"

#include "dfly-proxy-tunnel.h"

struct _DflyProxyTunnels {
  DflyProxy *proxy;
};

DflyProxyTunnels *
dfly_proxy_tunnels_new (DflyProxy *proxy, SoupServerCallback handler, gpointer handler_data,
                        GError **error)
{
  DflyProxyTunnels *tunnels = g_new0 (DflyProxyTunnels, 1);

  tunnels->proxy = proxy;
  return tunnels;
}

void
dfly_proxy_tunnels_free (DflyProxyTunnels *tunnels)
{
  g_free (tunnels);
}

void
dfly_proxy_tunnels_serve (DflyProxyTunnels *tunnels, SoupServerMessage *msg)
{
  dfly_proxy_answer_error (msg, SOUP_STATUS_NOT_IMPLEMENTED, "CONNECT is not served yet");
}
