/* test-proxy.c — unit tests of the proxy role's parsers
 *
 * What a client's request goes through before anything is fetched: the
 * rules (dfly-proxy-rules), its Range header (dfly-proxy-range), its
 * X-Dragonfly-* headers and what crosses to the upstream and back
 * (dfly-proxy-headers), the upstream URL it is for (dfly-proxy-target, on
 * URLs and through a real SoupServer) and the settings' check. The parsers
 * are compiled in; the settings come from YAML, as dflyd reads them.
 */
#include "config.h"

#include <string.h>

#include "dfly-proxy-headers.h"
#include "dfly-proxy-range.h"
#include "dfly-proxy-rules.h"
#include "dfly-proxy-settings.h"
#include "dfly-proxy-target.h"
#include "../../../tests/test-soup-server.h"

/* ---- settings ---- */

/* A proxy whose settings are the "proxy:" section of yaml (the defaults when
 * it has none), answering on port. */
typedef struct {
  DflyConfig *config;
  DflyProxy   proxy;
} TestProxy;

static void
test_proxy_free (TestProxy *t)
{
  dfly_proxy_rules_free (t->proxy.rules);
  dfly_config_unref (t->config);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestProxy, test_proxy_free)

/* The config of yaml with the proxy's section bound, or NULL and the error. */
static DflyConfig *
load_config (const char *yaml, GError **error)
{
  g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, strlen (yaml), "test.yaml", error);

  if (config == NULL || !dfly_config_add_plugin (config, "proxy", &dfly_proxy_settings, error))
    return NULL;
  return g_steal_pointer (&config);
}

static TestProxy *
test_proxy_new (const char *yaml, guint16 port)
{
  g_autoptr (GError) error = NULL;
  TestProxy *t = g_new0 (TestProxy, 1);

  t->config = load_config (yaml, &error);
  g_assert_no_error (error);
  t->proxy.settings_ref = dfly_config_get_settings (t->config, "proxy");
  g_assert_nonnull (t->proxy.settings_ref);
  t->proxy.settings = dfly_settings_get_values (t->proxy.settings_ref);
  t->proxy.rules = dfly_proxy_rules_new ((const char *const *) t->proxy.settings->rules, &error);
  g_assert_no_error (error);
  t->proxy.port = port;
  return t;
}

static void
test_settings_defaults (void)
{
  g_autoptr (TestProxy) t = test_proxy_new ("", 4001);
  const DflyProxySettings *s = t->proxy.settings;

  g_assert_cmpstr (s->listen, ==, "127.0.0.1");
  g_assert_cmpuint (s->port, ==, 4001);
  g_assert_cmpstr (s->registry_mirror, ==, "https://index.docker.io");
  g_assert_cmpuint (g_strv_length (s->insecure_registries), ==, 0);
  g_assert_cmpuint (g_strv_length (s->rules), ==, 1);
  g_assert_cmpstr (s->rules[0], ==, "blobs/sha256.*");
  g_assert_cmpstr (s->ca_cert, ==, "");
  g_assert_cmpstr (s->auth_user, ==, "");
}

/* The check's verdict on a section, in the message the config gives. */
static void
test_settings_check (void)
{
  static const struct {
    const char *yaml;
    const char *message; /* what the error ends with */
  } cases[] = {
    { "proxy:\n  rules: ['']\n", "rules: a rule is empty" },
    { "proxy:\n  rules: [ok, 'x fast']\n",
      "rules: rule \"x fast\": \"fast\" is none of p2p, direct, use_tls, redirect=HOST[:PORT]" },
    { "proxy:\n  ca_cert: /etc/ca.pem\n", "ca_cert and ca_key go together: give both or neither" },
    { "proxy:\n  ca_key: /etc/ca.key\n", "ca_cert and ca_key go together: give both or neither" },
    { "proxy:\n  intercept: [registry.example]\n",
      "intercept names hosts but no ca_cert and ca_key sign for them" },
    { "proxy:\n  auth_user: alice\n",
      "auth_user and auth_password go together, and the user holds no ':'" },
    { "proxy:\n  auth_password: secret\n",
      "auth_user and auth_password go together, and the user holds no ':'" },
    { "proxy:\n  auth_user: 'al:ice'\n  auth_password: secret\n",
      "auth_user and auth_password go together, and the user holds no ':'" },
    { "proxy:\n  registry_mirror: ftp://mirror.example\n",
      "registry_mirror \"ftp://mirror.example\" is not an http or https URL" },
    { "proxy:\n  registry_mirror: mirror.example:5000\n",
      "registry_mirror \"mirror.example:5000\" is not an http or https URL" },
    { "proxy:\n  registry_mirror: 'http://'\n",
      "registry_mirror \"http://\" is not an http or https URL" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = load_config (cases[i].yaml, &error);

    g_assert_null (config);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_test_message ("%s: %s", cases[i].yaml, error->message);
    g_assert_true (g_str_has_suffix (error->message, cases[i].message));
  }
  /* Each rule's companions, once valid, pass. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config =
      load_config ("proxy:\n  ca_cert: /c.pem\n  ca_key: /c.key\n  intercept: [r.example]\n"
                   "  auth_user: alice\n  auth_password: 'p:w'\n"
                   "  rules: ['x direct', 'y use_tls redirect=[::1]:8443']\n",
                   &error);

    g_assert_no_error (error);
    g_assert_nonnull (config);
  }
}

/* ---- rules ---- */

static void
test_rules_errors (void)
{
  static const struct {
    const char *spec;
    const char *message; /* NULL: a regex error, starting "rule \"SPEC\": " */
  } cases[] = {
    { "", "a rule is empty" },
    { " \t ", "a rule is empty" },
    { "([", NULL },
    { "a** direct", NULL },
    { "x fast", "rule \"x fast\": \"fast\" is none of p2p, direct, use_tls, redirect=HOST[:PORT]" },
    { "x P2P", "rule \"x P2P\": \"P2P\" is none of p2p, direct, use_tls, redirect=HOST[:PORT]" },
    { "x redirect=",
      "rule \"x redirect=\": \"redirect=\" is none of p2p, direct, use_tls, redirect=HOST[:PORT]" },
    { "x redirect=a/b", NULL },
    { "x redirect=user@host", NULL },
    { "x redirect=host:99999", NULL },
    { "x redirect=http://host", NULL },
    { "x redirect=host?q", NULL },
    { "x redirect=:80", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *const specs[] = { "blobs/sha256.*", cases[i].spec, NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyProxyRules) rules = dfly_proxy_rules_new (specs, &error);
    g_autofree char *prefix = g_strdup_printf ("rule \"%s\": ", cases[i].spec);

    g_test_message ("rule \"%s\"", cases[i].spec);
    g_assert_null (rules);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    if (cases[i].message != NULL)
      g_assert_cmpstr (error->message, ==, cases[i].message);
    else if (g_str_has_prefix (cases[i].spec, "x redirect="))
      g_assert_true (g_str_has_suffix (error->message, "is none of p2p, direct, use_tls, "
                                                       "redirect=HOST[:PORT]"));
    else
      g_assert_true (g_str_has_prefix (error->message, prefix) &&
                     strlen (error->message) > strlen (prefix));
  }
}

static void
test_rules_match (void)
{
  const char *const specs[] = {
    "blobs/sha256.* direct",
    "blobs/ use_tls",
    "manifests redirect=mirror.example:5000 p2p",
    "manifests direct", /* never reached: the one above wins */
    NULL,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyRules) rules = dfly_proxy_rules_new (specs, &error);
  g_autoptr (DflyProxyRules) none = dfly_proxy_rules_new (NULL, &error);
  const DflyProxyRule *rule;

  g_assert_no_error (error);
  rule = dfly_proxy_rules_match (rules, "http://r.example/v2/a/blobs/sha256:00");
  g_assert_nonnull (rule);
  g_assert_true (rule->direct);
  g_assert_false (rule->use_tls);
  g_assert_null (rule->redirect);
  rule = dfly_proxy_rules_match (rules, "http://r.example/v2/a/blobs/uploads/1");
  g_assert_nonnull (rule);
  g_assert_false (rule->direct);
  g_assert_true (rule->use_tls);
  rule = dfly_proxy_rules_match (rules, "http://r.example/v2/a/manifests/latest");
  g_assert_nonnull (rule);
  g_assert_false (rule->direct);
  g_assert_cmpstr (rule->redirect, ==, "mirror.example:5000");
  g_assert_null (dfly_proxy_rules_match (rules, "http://r.example/v2/a/tags/list"));
  g_assert_null (dfly_proxy_rules_match (none, "http://r.example/blobs/sha256:00"));
}

static void
test_rules_apply (void)
{
  static const struct {
    const char *spec; /* NULL: no rule matched */
    const char *url;
    const char *expected; /* NULL: refused */
  } cases[] = {
    { ".* use_tls", "http://h.example/p?q=1", "https://h.example/p?q=1" },
    { ".* use_tls", "http://h.example:80/p", "https://h.example/p" },
    { ".* use_tls", "http://h.example:443/p", "https://h.example/p" },
    { ".* use_tls", "http://h.example:8080/p", "https://h.example:8080/p" },
    { ".* use_tls", "https://h.example:443/p", "https://h.example/p" },
    { ".* use_tls", "http://h.example/a%20b?x=%2F&y", "https://h.example/a%20b?x=%2F&y" },
    { ".* redirect=m.example:5000", "http://h.example/a/b?c=d&e",
      "http://m.example:5000/a/b?c=d&e" },
    { ".* redirect=m.example", "http://h.example:8080/a", "http://m.example/a" },
    { ".* redirect=m.example", "https://h.example:8443/a", "https://m.example/a" },
    { ".* redirect=m.example:80", "http://h.example/a", "http://m.example/a" },
    { ".* redirect=m.example:443", "https://h.example/a", "https://m.example/a" },
    { ".* redirect=m.example:443", "http://h.example/a", "http://m.example:443/a" },
    { ".* use_tls redirect=[::1]:8443", "http://h.example/a?b", "https://[::1]:8443/a?b" },
    { ".* use_tls redirect=m.example:80", "http://h.example/a", "https://m.example:80/a" },
    { ".* redirect=m.example:80", "https://h.example/a", "https://m.example:80/a" },
    { ".* redirect=m.example", "https://h.example:80/a", "https://m.example/a" },
    { ".* use_tls", "https://h.example:80/a", "https://h.example:80/a" },
    { ".* use_tls", "http://h.example:8443/a", "https://h.example:8443/a" },
    { ".* redirect=m.example", "http://a%40b.example:8080/a", "http://m.example/a" },
    { ".* use_tls", "http://a%40b.example/a", "https://a%40b.example/a" },
    { ".* use_tls", "http://a%2Fb.example/a", "https://a%2Fb.example/a" },
    { ".* direct", "http://h.example:8080/a?b", "http://h.example:8080/a?b" },
    { ".* p2p", "https://h.example/a", "https://h.example/a" },
    { NULL, "http://h.example/a", "http://h.example/a" },
    { ".* use_tls", "ftp://h.example/a", NULL },
    { ".* use_tls", "/v2/relative", NULL },
    { ".* use_tls", "not a url", NULL },
    { NULL, "file:///etc/passwd", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *const specs[] = { cases[i].spec, NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyProxyRules) rules = dfly_proxy_rules_new (specs, &error);
    const DflyProxyRule *rule;
    g_autofree char     *moved = NULL;

    g_assert_no_error (error);
    rule = dfly_proxy_rules_match (rules, cases[i].url);
    g_assert_true ((rule == NULL) == (cases[i].spec == NULL));
    moved = dfly_proxy_rule_apply (rule, cases[i].url, &error);
    g_test_message ("%s on %s: %s", cases[i].spec, cases[i].url, moved);
    if (cases[i].expected == NULL) {
      g_assert_null (moved);
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, "not an http or https URL");
    } else {
      g_assert_no_error (error);
      g_assert_cmpstr (moved, ==, cases[i].expected);
    }
  }
}

/* ---- Range ---- */

static void
test_range_accepted (void)
{
  static const struct {
    const char        *value;
    DflyProxyRangeKind kind;
    guint64            offset;
    guint64            length;
  } cases[] = {
    { "bytes=0-0", DFLY_PROXY_RANGE_SPAN, 0, 1 },
    { "bytes=0-1023", DFLY_PROXY_RANGE_SPAN, 0, 1024 },
    { "bytes=5-5", DFLY_PROXY_RANGE_SPAN, 5, 1 },
    { "bytes=100-199", DFLY_PROXY_RANGE_SPAN, 100, 100 },
    { "BYTES=1-2", DFLY_PROXY_RANGE_SPAN, 1, 2 },
    { "bytes= 1-2 ", DFLY_PROXY_RANGE_SPAN, 1, 2 },
    { "bytes=007-009", DFLY_PROXY_RANGE_SPAN, 7, 3 },
    { "bytes=0-18446744073709551614", DFLY_PROXY_RANGE_SPAN, 0, G_MAXUINT64 },
    { "bytes=18446744073709551614-18446744073709551614", DFLY_PROXY_RANGE_SPAN, G_MAXUINT64 - 1,
      1 },
    { "bytes=0-", DFLY_PROXY_RANGE_FROM, 0, 0 },
    { "bytes=4096-", DFLY_PROXY_RANGE_FROM, 4096, 0 },
    { "bytes=18446744073709551615-", DFLY_PROXY_RANGE_FROM, G_MAXUINT64, 0 },
    { "bytes=-1", DFLY_PROXY_RANGE_SUFFIX, 0, 1 },
    { "bytes=-500", DFLY_PROXY_RANGE_SUFFIX, 0, 500 },
    { "bytes=-18446744073709551615", DFLY_PROXY_RANGE_SUFFIX, 0, G_MAXUINT64 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    DflyProxyRange range;

    g_test_message ("%s", cases[i].value);
    dfly_proxy_range_parse (cases[i].value, &range);
    g_assert_cmpint (range.kind, ==, cases[i].kind);
    g_assert_cmpuint (range.offset, ==, cases[i].offset);
    g_assert_cmpuint (range.length, ==, cases[i].length);
  }
}

static void
test_range_ignored (void)
{
  static const char *const values[] = {
    "",
    "bytes=",
    "bytes=-",
    "bytes=--1",
    "bytes=-0",
    "bytes=-00",
    "bytes=5-4",
    "bytes=1-0",
    "bytes=18446744073709551616-",
    "bytes=0-18446744073709551616",
    "bytes=0-18446744073709551615",
    "bytes=-18446744073709551616",
    "bytes=99999999999999999999999-",
    "bytes=184467440737095516150-",
    "bytes=0-1,5-9",
    "bytes=0-1, 5-9",
    "bytes=,0-1",
    "bytes=0-1,",
    "bytes=1 -2",
    "bytes=1- 2",
    "bytes=1 2-3",
    "bytes =0-1",
    " bytes=0-1",
    "bytes=\t0-1",
    "bytes=+1-2",
    "bytes=1-+2",
    "bytes=-+5",
    "bytes=--5",
    "bytes=-5-",
    "bytes=1-2-3",
    "bytes=0x10-0x20",
    "bytes=1e3-",
    "bytes=a-b",
    "bytes=1.5-2",
    "bytes=\xd9\xa1-\xd9\xa2",
    "items=0-1",
    "bits=0-7",
    "bytes:0-1",
    "bytes 0-1",
    "byte=0-1",
    "0-1",
    "bytes=0-1\r\n",
  };
  DflyProxyRange range;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
    g_test_message ("\"%s\"", values[i]);
    range.kind = DFLY_PROXY_RANGE_SPAN;
    range.offset = range.length = 42;
    dfly_proxy_range_parse (values[i], &range);
    g_assert_cmpint (range.kind, ==, DFLY_PROXY_RANGE_NONE);
    g_assert_cmpuint (range.offset, ==, 0);
    g_assert_cmpuint (range.length, ==, 0);
  }
  dfly_proxy_range_parse (NULL, &range);
  g_assert_cmpint (range.kind, ==, DFLY_PROXY_RANGE_NONE);
}

/* ---- X-Dragonfly-* ---- */

typedef struct {
  const char *name; /* NULL ends a list */
  const char *value;
} Header;

static SoupMessageHeaders *
headers_new (SoupMessageHeadersType type, const Header *list)
{
  SoupMessageHeaders *headers = soup_message_headers_new (type);

  for (guint i = 0; list[i].name != NULL; i++)
    soup_message_headers_append (headers, list[i].name, list[i].value);
  return headers;
}

static void
test_ask_valid (void)
{
  const Header list[] = {
    { "X-Dragonfly-Tag", "nightly" },
    { "X-Dragonfly-Application", "ctr — ünïcode" },
    { "X-Dragonfly-Registry", "https://registry.example:5000" },
    { "X-Dragonfly-Priority", "6" },
    { "X-Dragonfly-Piece-Length", "1073741824" },
    { "X-Dragonfly-Use-P2P", "FALSE" },
    { "X-Dragonfly-Prefetch", "True" },
    { "X-Dragonfly-Filtered-Query-Params", " X-Amz-Date ,,X-Amz-Signature, " },
    { NULL, NULL },
  };
  g_autoptr (SoupMessageHeaders) headers = headers_new (SOUP_MESSAGE_HEADERS_REQUEST, list);
  g_autoptr (SoupMessageHeaders) empty = headers_new (SOUP_MESSAGE_HEADERS_REQUEST, list + 8);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyAsk) ask = dfly_proxy_ask_parse (headers, &error);
  g_autoptr (DflyProxyAsk) plain = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (ask->tag, ==, "nightly");
  g_assert_cmpstr (ask->application, ==, "ctr — ünïcode");
  g_assert_cmpstr (ask->registry, ==, "https://registry.example:5000");
  g_assert_cmpuint (ask->priority, ==, 6);
  g_assert_cmpuint (ask->piece_length, ==, G_GUINT64_CONSTANT (1) << 30);
  g_assert_cmpint (ask->use_p2p, ==, 0);
  g_assert_true (ask->prefetch);
  g_assert_cmpuint (g_strv_length (ask->filtered_query), ==, 2);
  g_assert_cmpstr (ask->filtered_query[0], ==, "X-Amz-Date");
  g_assert_cmpstr (ask->filtered_query[1], ==, "X-Amz-Signature");

  /* Nothing asked: the rules and the config decide. */
  plain = dfly_proxy_ask_parse (empty, &error);
  g_assert_no_error (error);
  g_assert_null (plain->tag);
  g_assert_null (plain->application);
  g_assert_null (plain->registry);
  g_assert_null (plain->filtered_query);
  g_assert_cmpuint (plain->priority, ==, 0);
  g_assert_cmpuint (plain->piece_length, ==, 0);
  g_assert_cmpint (plain->use_p2p, ==, -1);
  g_assert_false (plain->prefetch);
}

#define TEXT_ERROR(name) \
  "X-Dragonfly-" name " must be UTF-8 text of at most 255 bytes, no control characters"

static void
test_ask_invalid (void)
{
  g_autofree char *long_text = g_strnfill (256, 'a');
  g_autofree char *long_key = g_strnfill (256, 'k');
  const struct {
    const char *name;
    const char *value;
    const char *message;
  } cases[] = {
    { "X-Dragonfly-Tag", long_text, TEXT_ERROR ("Tag") },
    { "X-Dragonfly-Tag", "\xff\xfe", TEXT_ERROR ("Tag") },
    { "X-Dragonfly-Tag", "a\tb", TEXT_ERROR ("Tag") },
    { "X-Dragonfly-Application", "\xc3", TEXT_ERROR ("Application") },
    { "X-Dragonfly-Application", "\x7f", TEXT_ERROR ("Application") },
    { "X-Dragonfly-Registry", long_text, TEXT_ERROR ("Registry") },
    { "X-Dragonfly-Priority", "7", "X-Dragonfly-Priority must be a whole number from 0 to 6" },
    { "X-Dragonfly-Priority", "-1", "X-Dragonfly-Priority must be a whole number from 0 to 6" },
    { "X-Dragonfly-Priority", "high", "X-Dragonfly-Priority must be a whole number from 0 to 6" },
    { "X-Dragonfly-Priority", "", "X-Dragonfly-Priority must be a whole number from 0 to 6" },
    { "X-Dragonfly-Priority", "18446744073709551616",
      "X-Dragonfly-Priority must be a whole number from 0 to 6" },
    { "X-Dragonfly-Piece-Length", "1073741825",
      "X-Dragonfly-Piece-Length must be a whole number from 0 to 1073741824" },
    { "X-Dragonfly-Piece-Length", "4MiB",
      "X-Dragonfly-Piece-Length must be a whole number from 0 to 1073741824" },
    { "X-Dragonfly-Piece-Length", "+4096",
      "X-Dragonfly-Piece-Length must be a whole number from 0 to 1073741824" },
    { "X-Dragonfly-Use-P2P", "yes", "X-Dragonfly-Use-P2P must be true or false" },
    { "X-Dragonfly-Use-P2P", "1", "X-Dragonfly-Use-P2P must be true or false" },
    { "X-Dragonfly-Use-P2P", "", "X-Dragonfly-Use-P2P must be true or false" },
    { "X-Dragonfly-Prefetch", "on", "X-Dragonfly-Prefetch must be true or false" },
    { "X-Dragonfly-Filtered-Query-Params", "a=b",
      "X-Dragonfly-Filtered-Query-Params: \"a=b\" is not a query key" },
    { "X-Dragonfly-Filtered-Query-Params", "ok, a b",
      "X-Dragonfly-Filtered-Query-Params: \"a b\" is not a query key" },
    { "X-Dragonfly-Filtered-Query-Params", "x&y",
      "X-Dragonfly-Filtered-Query-Params: \"x&y\" is not a query key" },
    { "X-Dragonfly-Filtered-Query-Params", "#",
      "X-Dragonfly-Filtered-Query-Params: \"#\" is "
      "not a query key" },
    { "X-Dragonfly-Filtered-Query-Params", "?",
      "X-Dragonfly-Filtered-Query-Params: \"?\" is "
      "not a query key" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (SoupMessageHeaders) headers =
      soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyProxyAsk) ask = NULL;

    soup_message_headers_append (headers, "X-Dragonfly-Tag", "fine");
    soup_message_headers_replace (headers, cases[i].name, cases[i].value);
    ask = dfly_proxy_ask_parse (headers, &error);
    g_assert_null (ask);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
  /* A key too long to be one. */
  {
    g_autoptr (SoupMessageHeaders) headers =
      soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyProxyAsk) ask = NULL;

    soup_message_headers_append (headers, "X-Dragonfly-Filtered-Query-Params", long_key);
    ask = dfly_proxy_ask_parse (headers, &error);
    g_assert_null (ask);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  }
}

/* ---- headers across ---- */

/* What crosses: each header with whether it also goes to a task's origin. */
typedef struct {
  const char *name;
  const char *value;
  gboolean    for_swarm;
} Crossing;

static void
assert_crossing (GHashTable *table, const Crossing *expected, gboolean for_swarm)
{
  guint n = 0;

  for (guint i = 0; expected[i].name != NULL; i++) {
    if (for_swarm && !expected[i].for_swarm) {
      g_assert_false (g_hash_table_contains (table, expected[i].name));
      continue;
    }
    g_test_message ("%s: %s", expected[i].name, expected[i].value);
    g_assert_cmpstr (g_hash_table_lookup (table, expected[i].name), ==, expected[i].value);
    n++;
  }
  g_assert_cmpuint (g_hash_table_size (table), ==, n);
}

static void
test_headers_for_upstream (void)
{
  const Header list[] = {
    { "Host", "origin.example" },
    { "Connection", "keep-alive, X-Secret" },
    { "Connection", "Upgrade" },
    { "X-Secret", "for the next hop only" },
    { "Keep-Alive", "timeout=5" },
    { "Proxy-Authorization", "Basic dXNlcjpwdw==" },
    { "Proxy-Connection", "keep-alive" },
    { "Proxy-Foo", "ours" },
    { "TE", "trailers" },
    { "Trailer", "Expires" },
    { "Upgrade", "websocket" },
    { "Content-Length", "0" },
    { "Expect", "100-continue" },
    { "Accept-Encoding", "gzip" },
    { "X-Dragonfly-Tag", "t" },
    { "x-dragonfly-priority", "3" },
    { "Range", "bytes=0-9" },
    { "Accept", "application/vnd.oci.image.index.v1+json" },
    { "If-None-Match", "\"etag\"" },
    { "If-Modified-Since", "Mon, 07 Dec 2026 00:00:00 GMT" },
    { "Authorization", "Bearer token" },
    { "User-Agent", "containerd/1.7" },
    { "X-Kept", "a" },
    { "X-Kept", "b" },
    { NULL, NULL },
  };
  const Crossing crossing[] = {
    { "Range", "bytes=0-9", FALSE },
    { "Accept", "application/vnd.oci.image.index.v1+json", FALSE },
    { "If-None-Match", "\"etag\"", FALSE },
    { "If-Modified-Since", "Mon, 07 Dec 2026 00:00:00 GMT", FALSE },
    { "Authorization", "Bearer token", TRUE },
    { "User-Agent", "containerd/1.7", TRUE },
    { "X-Kept", "a, b", TRUE },
    { NULL, NULL, FALSE },
  };
  g_autoptr (SoupMessageHeaders) headers = headers_new (SOUP_MESSAGE_HEADERS_REQUEST, list);
  g_autoptr (GHashTable) for_direct = dfly_proxy_headers_for_upstream (headers, FALSE);
  g_autoptr (GHashTable) for_swarm = dfly_proxy_headers_for_upstream (headers, TRUE);

  assert_crossing (for_direct, crossing, FALSE);
  assert_crossing (for_swarm, crossing, TRUE);
}

static void
test_headers_copy_answer (void)
{
  const Header list[] = {
    { "Date", "Mon, 07 Dec 2026 00:00:00 GMT" },
    { "Server", "nginx" },
    { "Connection", "close, X-Hop" },
    { "X-Hop", "1" },
    { "Keep-Alive", "timeout=5" },
    { "Transfer-Encoding", "chunked" },
    { "Content-Length", "10" },
    { "Proxy-Authenticate", "Basic" },
    { "Content-Type", "application/octet-stream" },
    { "ETag", "\"e\"" },
    { "Docker-Content-Digest", "sha256:00" },
    { "Set-Cookie", "a=1" },
    { "Set-Cookie", "b=2" },
    { NULL, NULL },
  };
  g_autoptr (SoupMessageHeaders) from = headers_new (SOUP_MESSAGE_HEADERS_RESPONSE, list);
  g_autoptr (SoupMessageHeaders) to = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autoptr (GString) seen = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const char            *name, *value;

  dfly_proxy_headers_copy_answer (from, to);
  soup_message_headers_iter_init (&iter, to);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_string_append_printf (seen, "%s: %s\n", name, value);
  /* libsoup lists the headers it knows before the others. */
  g_assert_cmpstr (seen->str, ==,
                   "Content-Type: application/octet-stream\n"
                   "ETag: \"e\"\n"
                   "Set-Cookie: a=1\n"
                   "Set-Cookie: b=2\n"
                   "Docker-Content-Digest: sha256:00\n");
}

/* ---- the upstream URL ---- */

#define MIRROR_YAML                                 \
  "proxy:\n"                                        \
  "  registry_mirror: http://mirror.example:5000\n" \
  "  insecure_registries: [insecure.example:5000, plain.example]\n"

typedef struct {
  const char *yaml;
  const char *url; /* as libsoup shows the request */
  gboolean    intercepted;
  const char *registry;
  const char *expected; /* NULL: refused with message */
  const char *message;
} TargetCase;

static const TargetCase target_cases[] = {
  /* Forward proxying: the URL as given. */
  { "", "http://origin.example/a/b?c=d&e", FALSE, NULL, "http://origin.example/a/b?c=d&e" },
  { "", "http://origin.example:8080/x", FALSE, NULL, "http://origin.example:8080/x" },
  { "", "http://origin.example/x?ns=docker.io", FALSE, NULL,
    "http://origin.example/x?ns=docker.io" },
  { "", "http://127.0.0.1:9999/x", FALSE, NULL, "http://127.0.0.1:9999/x" },
  { "", "http://10.1.2.3:4001/x", FALSE, NULL, "http://10.1.2.3:4001/x" },
  { "", "http://user:pw@origin.example/x", FALSE, NULL, NULL,
    "the URL carries user info (user@host)" },
  { "", "http://origin.exam@ple/x", FALSE, NULL, NULL, "the URL carries user info (user@host)" },
  { "", "https://origin.example/secure", FALSE, NULL, NULL,
    "only http:// URLs are proxied this way; https goes through CONNECT" },
  /* Mirror requests on our own address: the default mirror. */
  { "", "http://127.0.0.1:4001/v2/library/alpine/manifests/3", FALSE, NULL,
    "https://index.docker.io/v2/library/alpine/manifests/3" },
  { "", "http://localhost:4001/v2/?last=1", FALSE, NULL, "https://index.docker.io/v2/?last=1" },
  { "", "http://[::1]:4001/v2/", FALSE, NULL, "https://index.docker.io/v2/" },
  { "", "http://0.0.0.0:4001/v2/", FALSE, NULL, "https://index.docker.io/v2/" },
  /* ns=: https unless insecure, docker.io is Docker Hub's API host, ns
   * goes, the rest of the query stays. */
  { "", "http://127.0.0.1:4001/v2/a/blobs/sha256:00?ns=docker.io", FALSE, NULL,
    "https://registry-1.docker.io/v2/a/blobs/sha256:00" },
  { "", "http://127.0.0.1:4001/v2/a/manifests/1?ns=registry.example:5000&digest=x", FALSE, NULL,
    "https://registry.example:5000/v2/a/manifests/1?digest=x" },
  { "", "http://127.0.0.1:4001/v2/?a=1&ns=r.example&b=2", FALSE, NULL,
    "https://r.example/v2/?a=1&b=2" },
  { "", "http://127.0.0.1:4001/v2/?ns=r.example%3A5000", FALSE, NULL,
    "https://r.example:5000/v2/" },
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?ns=insecure.example:5000", FALSE, NULL,
    "http://insecure.example:5000/v2/x" },
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?ns=plain.example", FALSE, NULL,
    "http://plain.example/v2/x" },
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?ns=insecure.example", FALSE, NULL,
    "https://insecure.example/v2/x" },
  /* The mirror's own host takes the mirror's scheme. */
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?ns=mirror.example:5000", FALSE, NULL,
    "http://mirror.example:5000/v2/x" },
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?ns=mirror.example", FALSE, NULL,
    "https://mirror.example/v2/x" },
  { MIRROR_YAML, "http://127.0.0.1:4001/v2/x?y=1", FALSE, NULL,
    "http://mirror.example:5000/v2/x?y=1" },
  { "proxy:\n  registry_mirror: http://mirror.example:80/\n",
    "http://127.0.0.1:4001/v2/x?ns=mirror.example", FALSE, NULL, "http://mirror.example/v2/x" },
  { "proxy:\n  registry_mirror: https://mirror.example/\n",
    "http://127.0.0.1:4001/v2/x?ns=mirror.example", FALSE, NULL, "https://mirror.example/v2/x" },
  { "proxy:\n  registry_mirror: http://[::1]:5000\n", "http://127.0.0.1:4001/v2/x?ns=[::1]:5000",
    FALSE, NULL, "http://[::1]:5000/v2/x" },
  { "", "http://127.0.0.1:4001/v2/?ns=a%2Fb", FALSE, NULL, NULL,
    "ns=\"a/b\" is not a registry's host[:port]" },
  { "", "http://127.0.0.1:4001/v2/?ns=user%40r.example", FALSE, NULL, NULL,
    "ns=\"user@r.example\" is not a registry's host[:port]" },
  { "", "http://127.0.0.1:4001/v2/?ns=", FALSE, NULL, NULL,
    "ns=\"\" is not a registry's host[:port]" },
  /* X-Dragonfly-Registry comes first, and ns still goes. */
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "http://registry.example:5000",
    "http://registry.example:5000/v2/x" },
  { "", "http://127.0.0.1:4001/v2/x?ns=other.example&k=v", FALSE, "https://registry.example/",
    "https://registry.example/v2/x?k=v" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "HTTPS://Registry.Example:443",
    "https://Registry.Example/v2/x" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "https://registry.example/v2", NULL,
    "the registry \"https://registry.example/v2\" has a path; give scheme://host[:port]" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "https://user:pw@registry.example", NULL,
    "the registry \"https://user:pw@registry.example\" is not an http or https URL of a host" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "https://registry.example/?q=1", NULL,
    "the registry \"https://registry.example/?q=1\" is not an http or https URL of a host" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "ftp://registry.example", NULL,
    "the registry \"ftp://registry.example\" is not an http or https URL of a host" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "registry.example", NULL,
    "the registry \"registry.example\" is not an http or https URL of a host" },
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "", NULL,
    "the registry \"\" is not an http or https URL of a host" },
  /* An escaped host stays the one host, written escaped. */
  { "", "http://127.0.0.1:4001/v2/x", FALSE, "https://a%40b.example",
    "https://a%40b.example/v2/x" },
  { "", "https://a%40b.example/v2/x", TRUE, NULL, "https://a%40b.example/v2/x" },
  { "", "http://a%2Fb.example/v2/x", FALSE, NULL, "http://a%2Fb.example/v2/x" },
  { "", "http:///v2/x", FALSE, NULL, NULL, "the request names no host" },
  { "", "https:///v2/x", TRUE, NULL, NULL, "the request names no host" },
  /* Inside an intercepted CONNECT: https on the host it names. */
  { "", "https://registry.example/v2/x?y=1", TRUE, NULL, "https://registry.example/v2/x?y=1" },
  { "", "http://registry.example:443/v2/x", TRUE, NULL, "https://registry.example/v2/x" },
  { "", "https://registry.example:8443/v2/x", TRUE, "http://ignored.example",
    "https://registry.example:8443/v2/x" },
};

static void
test_target_urls (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (target_cases); i++) {
    const TargetCase *c = &target_cases[i];
    g_autoptr (TestProxy) t = test_proxy_new (c->yaml, 4001);
    g_autoptr (GError) error = NULL;
    g_autoptr (GUri) uri = g_uri_parse (c->url, SOUP_HTTP_URI_FLAGS, &error);
    g_autofree char *target = NULL;

    g_assert_no_error (error);
    target = dfly_proxy_target_url_for_uri (&t->proxy, uri, c->intercepted, c->registry, &error);
    g_test_message ("%s (registry %s): %s", c->url, c->registry, target);
    if (c->expected != NULL) {
      g_assert_no_error (error);
      g_assert_cmpstr (target, ==, c->expected);
    } else {
      g_assert_null (target);
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, c->message);
    }
  }
}

/* An HTTP/1.0 request without Host: libsoup builds its URL on the local
 * address with the query left in the path. */
static void
test_target_query_in_path (void)
{
  g_autoptr (TestProxy) t = test_proxy_new ("", 4001);
  g_autoptr (GUri) uri = g_uri_build (SOUP_HTTP_URI_FLAGS, "http", NULL, "127.0.0.1", 4001,
                                      "/v2/a/blobs/sha256:00?ns=docker.io&k=v", NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *target = dfly_proxy_target_url_for_uri (&t->proxy, uri, FALSE, NULL, &error);

  g_autoptr (GUri) bad =
    g_uri_build (SOUP_HTTP_URI_FLAGS, "http", NULL, "127.0.0.1", 4001, "/v2/%zz", NULL, NULL);
  g_autofree char *refused = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (target, ==, "https://registry-1.docker.io/v2/a/blobs/sha256:00?k=v");
  /* Built unchecked, its path may hold what no URL does. */
  refused = dfly_proxy_target_url_for_uri (&t->proxy, bad, FALSE, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "the request's URL is not valid: http://127.0.0.1:4001/v2/%zz");
}

/* ---- the upstream URL of real requests ---- */

typedef struct {
  TestProxy *t;
  GPtrArray *targets; /* what the handler resolved, or "error: …" */
} ServerTest;

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer data)
{
  ServerTest         *st = data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyAsk) ask = dfly_proxy_ask_parse (headers, &error);
  g_autofree char *target = NULL;

  g_assert_no_error (error);
  target = dfly_proxy_target_url (&st->t->proxy, msg, FALSE, ask->registry, &error);
  g_ptr_array_add (st->targets, target != NULL ? g_steal_pointer (&target)
                                               : g_strconcat ("error: ", error->message, NULL));
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* Sends one request and waits for its answer, with a bound. */
static void
send_one (SoupSession *session, const char *url, const char *registry)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;

  g_assert_nonnull (msg);
  if (registry != NULL)
    soup_message_headers_append (soup_message_get_request_headers (msg), "X-Dragonfly-Registry",
                                 registry);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_NO_CONTENT);
}

typedef struct {
  const char *const *urls; /* our base URL, then url, registry ("": none) pairs */
  int                done;
} ClientRun;

/* The client, in a thread of its own: the server answers in the main one. */
static gpointer
client_thread (gpointer data)
{
  ClientRun         *run = data;
  const char *const *urls = run->urls;
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (SoupSession) direct = NULL;
  g_autoptr (SoupSession) proxied = NULL;
  g_autoptr (GProxyResolver) resolver = g_simple_proxy_resolver_new (urls[0], NULL);

  g_main_context_push_thread_default (context);
  direct = soup_session_new_with_options ("timeout", 10, "proxy-resolver", NULL, NULL);
  proxied = soup_session_new_with_options ("timeout", 10, "proxy-resolver", resolver, NULL);
  for (guint i = 1; urls[i] != NULL; i += 2) {
    /* A URL elsewhere goes in absolute form through the session's proxy: ours. */
    gboolean absolute = !g_str_has_prefix (urls[i], urls[0]);

    send_one (absolute ? proxied : direct, urls[i], *urls[i + 1] != '\0' ? urls[i + 1] : NULL);
  }
  g_main_context_pop_thread_default (context);
  g_atomic_int_set (&run->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_target_server (void)
{
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GThread) thread = NULL;
  g_autofree char *base = NULL;
  g_autofree char *mirror = NULL;
  g_autofree char *ns = NULL;
  g_autoptr (TestProxy) t = NULL;
  ServerTest st;
  ClientRun  run = { NULL, 0 };
  guint16    port;
  gint64     deadline;

  /* libsoup 3.2's own listener leaks what it accepts (test-soup-server.h). */
  test_skip_exit_leak_check ();
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  t = test_proxy_new (MIRROR_YAML, port);
  st.t = t;
  st.targets = targets;
  soup_server_add_handler (server, NULL, on_request, &st, NULL);

  base = g_strdup_printf ("http://127.0.0.1:%u", port);
  mirror = g_strdup_printf ("%s/v2/library/alpine/manifests/3?n=1", base);
  ns = g_strdup_printf ("%s/v2/a/blobs/sha256:00?ns=docker.io&k=v", base);
  {
    const char *const urls[] = {
      base,
      mirror,
      "",
      ns,
      "",
      mirror,
      "https://registry.example:5443",
      mirror,
      "https://registry.example/v2",
      "http://origin.example/files/big.iso?sig=abc",
      "",
      "http://origin.example:8080/x",
      "",
      NULL,
    };

    run.urls = urls;
    thread = g_thread_new ("client", client_thread, &run);
    deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    while (!g_atomic_int_get (&run.done) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
    g_assert_true (g_atomic_int_get (&run.done));
    g_thread_join (g_steal_pointer (&thread));
  }

  g_assert_cmpuint (targets->len, ==, 6);
  g_assert_cmpstr (targets->pdata[0], ==,
                   "http://mirror.example:5000/v2/library/alpine/manifests/3?n=1");
  g_assert_cmpstr (targets->pdata[1], ==, "https://registry-1.docker.io/v2/a/blobs/sha256:00?k=v");
  g_assert_cmpstr (targets->pdata[2], ==,
                   "https://registry.example:5443/v2/library/alpine/manifests/3?n=1");
  g_assert_cmpstr (targets->pdata[3], ==,
                   "error: the registry \"https://registry.example/v2\" has a "
                   "path; give scheme://host[:port]");
  g_assert_cmpstr (targets->pdata[4], ==, "http://origin.example/files/big.iso?sig=abc");
  g_assert_cmpstr (targets->pdata[5], ==, "http://origin.example:8080/x");
  soup_server_disconnect (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proxy/settings/defaults", test_settings_defaults);
  g_test_add_func ("/proxy/settings/check", test_settings_check);
  g_test_add_func ("/proxy/rules/errors", test_rules_errors);
  g_test_add_func ("/proxy/rules/match", test_rules_match);
  g_test_add_func ("/proxy/rules/apply", test_rules_apply);
  g_test_add_func ("/proxy/range/accepted", test_range_accepted);
  g_test_add_func ("/proxy/range/ignored", test_range_ignored);
  g_test_add_func ("/proxy/ask/valid", test_ask_valid);
  g_test_add_func ("/proxy/ask/invalid", test_ask_invalid);
  g_test_add_func ("/proxy/headers/for-upstream", test_headers_for_upstream);
  g_test_add_func ("/proxy/headers/copy-answer", test_headers_copy_answer);
  g_test_add_func ("/proxy/target/urls", test_target_urls);
  g_test_add_func ("/proxy/target/query-in-path", test_target_query_in_path);
  g_test_add_func ("/proxy/target/server", test_target_server);
  return g_test_run ();
}
