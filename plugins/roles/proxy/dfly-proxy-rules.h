/* dfly-proxy-rules.h — which requests go through the swarm, and where they go
 *
 * proxy.rules is an ordered list of strings, "REGEX [p2p|direct] [use_tls]
 * [redirect=HOST[:PORT]]"; the first whose regular expression matches a
 * request's URL decides. p2p (the default) fetches through the swarm,
 * direct passes the request to its upstream; use_tls turns http:// into
 * https://; redirect sends the request to another host, keeping the path
 * and query. A URL no rule matches passes straight through.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How the proxy parses URLs: libsoup's way (SOUP_HTTP_URI_FLAGS), path and
 * query kept as encoded, without needing libsoup here. */
#define DFLY_PROXY_URI_FLAGS                                                         \
  (G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY | \
   G_URI_FLAGS_ENCODED_FRAGMENT | G_URI_FLAGS_SCHEME_NORMALIZE)

/* How the proxy writes a URL it built from a parsed one's parts: path and
 * query as they are, the host (decoded when parsed) escaped again. */
#define DFLY_PROXY_URI_BUILD_FLAGS \
  (G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_ENCODED_FRAGMENT)

typedef struct _DflyProxyRules DflyProxyRules;

typedef struct {
  GRegex  *regex;
  gboolean direct;
  gboolean use_tls;
  char    *redirect; /* host[:port], or NULL */
} DflyProxyRule;

/* NULL with DFLY_ERROR_INVALID_CONFIG naming the rule and what is wrong. */
DflyProxyRules *dfly_proxy_rules_new (const char *const *specs, GError **error);
void            dfly_proxy_rules_free (DflyProxyRules *rules);
/* The first rule matching url, or NULL. */
const DflyProxyRule *dfly_proxy_rules_match (const DflyProxyRules *rules, const char *url);
/* url with rule's use_tls and redirect applied (a new string); NULL with
 * DFLY_ERROR_INVALID_ARGUMENT if url is not an absolute http(s) URL. */
char *dfly_proxy_rule_apply (const DflyProxyRule *rule, const char *url, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyProxyRules, dfly_proxy_rules_free)

G_END_DECLS
