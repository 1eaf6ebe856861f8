/* dfly-proxy-target.h — the upstream URL a request is for
 *
 * A request in absolute form ("GET http://host/path", forward proxying) is
 * for that URL. One in origin form ("GET /v2/…", what a runtime sends a
 * registry mirror) — libsoup shows it as a URL on our own address — is for
 * the upstream named by X-Dragonfly-Registry, else by the ns query
 * parameter (dropped from the URL; docker.io means registry-1.docker.io),
 * else proxy.registry_mirror.
 */
#pragma once

#include "dfly-proxy.h"

G_BEGIN_DECLS

/* intercepted: msg came inside an intercepted CONNECT, so it is for
 * https:// on the host it names. registry: the client's
 * X-Dragonfly-Registry or NULL. NULL with DFLY_ERROR_INVALID_ARGUMENT (a
 * bad upstream name, a forward request for another scheme than http). */
char *dfly_proxy_target_url (DflyProxy *proxy, SoupServerMessage *msg, gboolean intercepted,
                             const char *registry, GError **error);
/* The same for the request's URL as libsoup shows it (absolute form as
 * given, origin form on the host and port its Host header names): what
 * the unit test and the fuzz target call without a server. */
char *dfly_proxy_target_url_for_uri (DflyProxy *proxy, GUri *uri, gboolean intercepted,
                                     const char *registry, GError **error);

G_END_DECLS
