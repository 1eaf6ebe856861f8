/* dfly-proxy-rules.c — DflyProxyRules (see the header) */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly-proxy-rules.h"

struct _DflyProxyRules {
  GPtrArray *rules; /* DflyProxyRule *, in order */
};

static void
rule_free (DflyProxyRule *rule)
{
  g_clear_pointer (&rule->regex, g_regex_unref);
  g_free (rule->redirect);
  g_free (rule);
}

/* host or host:port, as a URL's authority may hold it (no user info, no
 * path): letters, digits, '.', '-', an optional port, or a bracketed IPv6. */
static gboolean
is_authority (const char *text)
{
  g_autofree char *url = g_strconcat ("http://", text, "/", NULL);
  g_autoptr (GUri) uri = g_uri_parse (url, DFLY_PROXY_URI_FLAGS, NULL);

  return uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0' &&
         g_uri_get_userinfo (uri) == NULL && strcmp (g_uri_get_path (uri), "/") == 0 &&
         strpbrk (text, "/?#@ ") == NULL;
}

static DflyProxyRule *
rule_parse (const char *spec, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (spec, " \t", -1);
  DflyProxyRule *rule = g_new0 (DflyProxyRule, 1);
  g_autoptr (GError) regex_error = NULL;
  guint       n = 0;
  const char *pattern = NULL;

  for (guint i = 0; words[i] != NULL; i++) {
    const char *word = words[i];

    if (*word == '\0')
      continue;
    if (n++ == 0) {
      pattern = word;
    } else if (strcmp (word, "p2p") == 0) {
      rule->direct = FALSE;
    } else if (strcmp (word, "direct") == 0) {
      rule->direct = TRUE;
    } else if (strcmp (word, "use_tls") == 0) {
      rule->use_tls = TRUE;
    } else if (g_str_has_prefix (word, "redirect=") && is_authority (word + strlen ("redirect="))) {
      g_free (rule->redirect);
      rule->redirect = g_strdup (word + strlen ("redirect="));
    } else {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "rule \"%s\": \"%s\" is none of p2p, direct, use_tls, redirect=HOST[:PORT]",
                   spec, word);
      rule_free (rule);
      return NULL;
    }
  }
  if (pattern == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "a rule is empty");
    rule_free (rule);
    return NULL;
  }
  rule->regex = g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, &regex_error);
  if (rule->regex == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "rule \"%s\": %s", spec,
                 regex_error->message);
    rule_free (rule);
    return NULL;
  }
  return rule;
}

DflyProxyRules *
dfly_proxy_rules_new (const char *const *specs, GError **error)
{
  g_autoptr (DflyProxyRules) self = g_new0 (DflyProxyRules, 1);

  self->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++) {
    DflyProxyRule *rule = rule_parse (specs[i], error);

    if (rule == NULL)
      return NULL;
    g_ptr_array_add (self->rules, rule);
  }
  return g_steal_pointer (&self);
}

void
dfly_proxy_rules_free (DflyProxyRules *rules)
{
  if (rules == NULL)
    return;
  g_ptr_array_unref (rules->rules);
  g_free (rules);
}

const DflyProxyRule *
dfly_proxy_rules_match (const DflyProxyRules *rules, const char *url)
{
  for (guint i = 0; i < rules->rules->len; i++) {
    const DflyProxyRule *rule = g_ptr_array_index (rules->rules, i);

    if (g_regex_match (rule->regex, url, 0, NULL))
      return rule;
  }
  return NULL;
}

char *
dfly_proxy_rule_apply (const DflyProxyRule *rule, const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, DFLY_PROXY_URI_FLAGS, NULL);
  const char      *scheme;
  const char      *host;
  int              port;
  g_autofree char *authority = NULL;
  g_autoptr (GUri) moved = NULL;
  g_autoptr (GUri) raw = NULL;

  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (strcmp (g_uri_get_scheme (uri), "http") != 0 &&
       strcmp (g_uri_get_scheme (uri), "https") != 0)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "not an http or https URL");
    return NULL;
  }
  if (rule == NULL || (!rule->use_tls && rule->redirect == NULL))
    return g_strdup (url);
  scheme = rule->use_tls ? "https" : g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  /* The port as written (-1: none), which SCHEME_NORMALIZE would not tell
   * from the scheme's default; http's default is no port once on https. */
  raw = g_uri_parse (url, DFLY_PROXY_URI_FLAGS & ~G_URI_FLAGS_SCHEME_NORMALIZE, NULL);
  port = raw != NULL ? g_uri_get_port (raw) : g_uri_get_port (uri);
  if (port == 80 && strcmp (g_uri_get_scheme (uri), "http") == 0)
    port = -1;
  if (rule->redirect != NULL) {
    g_autofree char *redirect_url = g_strconcat ("http://", rule->redirect, "/", NULL);
    g_autoptr (GUri) target =
      g_uri_parse (redirect_url, DFLY_PROXY_URI_FLAGS & ~G_URI_FLAGS_SCHEME_NORMALIZE, NULL);

    authority = g_strdup (g_uri_get_host (target));
    host = authority;
    port = g_uri_get_port (target);
  }
  /* A scheme's default port is not written; any other is kept. */
  if ((port == 80 && strcmp (scheme, "http") == 0) ||
      (port == 443 && strcmp (scheme, "https") == 0))
    port = -1;
  /* The host was decoded when parsed: it is escaped again when written
   * (G_URI_FLAGS_ENCODED would write "a%40b" as "a@b", another host). */
  moved = g_uri_build (DFLY_PROXY_URI_BUILD_FLAGS, scheme, NULL, host, port, g_uri_get_path (uri),
                       g_uri_get_query (uri), NULL);
  return g_uri_to_string (moved);
}
