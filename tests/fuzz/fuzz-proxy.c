/* fuzz-proxy.c — libFuzzer target: a request head as a proxy client sends
 * it, through every parser of the proxy role a client reaches
 *
 * The input is a raw HTTP request head. soup_headers_parse_request reads it
 * as the proxy's SoupServer would; its URL is made the way libsoup's server
 * makes it (absolute form as given, origin form on the Host header, CONNECT
 * on its authority). Then: the X-Dragonfly-* headers (dfly_proxy_ask_parse),
 * the Range header (dfly_proxy_range_parse), the headers sent upstream both
 * ways and an answer's copy (dfly-proxy-headers), the rules (the default
 * ones and a few others, every rule applied to the URL) and the upstream URL
 * (dfly_proxy_target_url_for_uri, plain and intercepted, under the default
 * settings and under a mirror setup).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <dfly/dfly.h>

#include "plugins/roles/proxy/dfly-proxy-headers.h"
#include "plugins/roles/proxy/dfly-proxy-range.h"
#include "plugins/roles/proxy/dfly-proxy-rules.h"
#include "plugins/roles/proxy/dfly-proxy-target.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define PROXY_PORT 4001

static const char *const default_rules[] = { "blobs/sha256.*", NULL };
static const char *const other_rules[] = {
  "^http://direct\\.example/ direct",      "manifests/ use_tls",
  "/v2/ p2p redirect=mirror.example:5000", "\\?x= use_tls redirect=[::1]:8443",
  ".* use_tls redirect=plain.example",     NULL,
};

/* A config whose proxy section is yaml ("" for the defaults). */
static const char *const setups[] = {
  "",
  "proxy:\n"
  "  registry_mirror: http://mirror.example:5000\n"
  "  insecure_registries: [insecure.example:5000, '[::1]:5000']\n"
  "  listen: 0.0.0.0\n",
};

typedef struct {
  DflyConfig *config;
  DflyProxy   proxy;
} Setup;

static Setup *
setup_new (const char *yaml)
{
  g_autoptr (GError) error = NULL;
  Setup *setup = g_new0 (Setup, 1);

  setup->config = dfly_config_load_data (yaml, strlen (yaml), "fuzz.yaml", &error);
  g_assert_no_error (error);
  dfly_config_add_plugin (setup->config, "proxy", &dfly_proxy_settings, &error);
  g_assert_no_error (error);
  setup->proxy.settings_ref = dfly_config_get_settings (setup->config, "proxy");
  setup->proxy.settings = dfly_settings_get_values (setup->proxy.settings_ref);
  setup->proxy.port = PROXY_PORT;
  return setup;
}

/* Built once: the settings and rules are the same for every input. */
static Setup **
get_setups (void)
{
  static Setup *all[G_N_ELEMENTS (setups)];

  if (all[0] == NULL)
    for (guint i = 0; i < G_N_ELEMENTS (setups); i++)
      all[i] = setup_new (setups[i]);
  return all;
}

static DflyProxyRules *
get_rules (guint which)
{
  static DflyProxyRules *rules[2];

  if (rules[which] == NULL) {
    g_autoptr (GError) error = NULL;

    rules[which] = dfly_proxy_rules_new (which == 0 ? default_rules : other_rules, &error);
    g_assert_no_error (error);
  }
  return rules[which];
}

/* The URL libsoup's server gives a request on a connection of scheme
 * ("https" inside an intercepted CONNECT), NULL where it answers 400: as
 * libsoup 3's parse_headers makes it, our address standing for the local one. */
static GUri *
request_uri (const char *scheme, const char *method, const char *path, SoupHTTPVersion version,
             SoupMessageHeaders *headers)
{
  const char      *host = soup_message_headers_get_one (headers, "Host");
  g_autofree char *url = NULL;
  g_autoptr (GUri) uri = NULL;

  if (host != NULL && strchr (host, '/') != NULL)
    return NULL;
  if (strcmp (path, "*") == 0 && host != NULL) {
    url = g_strdup_printf ("%s://%s/", scheme, host);
  } else if (strcmp (method, "CONNECT") == 0) {
    url = g_strdup_printf ("http://%s", path);
    uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
    if (uri == NULL || g_uri_get_user (uri) != NULL || g_uri_get_password (uri) != NULL ||
        g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
        g_uri_get_host (uri) == NULL || g_uri_get_port (uri) <= 0 ||
        strcmp (g_uri_get_path (uri), "/") != 0)
      return NULL;
    return g_steal_pointer (&uri);
  } else if (*path != '/') {
    url = g_strdup (path);
  } else if (host != NULL) {
    url = g_strdup_printf ("%s://%s%s", scheme, host, path);
  } else if (version == SOUP_HTTP_1_0) {
    return g_uri_build (SOUP_HTTP_URI_FLAGS, scheme, NULL, "127.0.0.1", PROXY_PORT, path, NULL,
                        NULL);
  } else {
    return NULL;
  }
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;
  return g_steal_pointer (&uri);
}

static void
check_ask (SoupMessageHeaders *headers)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyAsk) ask = dfly_proxy_ask_parse (headers, &error);

  if (ask == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR &&
              error->code == DFLY_ERROR_INVALID_ARGUMENT);
    g_assert (g_str_has_prefix (error->message, "X-Dragonfly-"));
    return;
  }
  g_assert (error == NULL);
  g_assert (ask->use_p2p >= -1 && ask->use_p2p <= 1);
  g_assert (ask->priority <= DFLY_DOWNLOAD_PRIORITY_MAX);
  g_assert (ask->piece_length <= G_GUINT64_CONSTANT (1) << 30);
  if (ask->tag != NULL)
    g_assert (strlen (ask->tag) <= 255 && g_utf8_validate (ask->tag, -1, NULL));
  if (ask->registry != NULL)
    g_assert (strlen (ask->registry) <= 255);
  for (guint i = 0; ask->filtered_query != NULL && ask->filtered_query[i] != NULL; i++) {
    const char *key = ask->filtered_query[i];

    g_assert (i < 64 && *key != '\0' && strlen (key) <= 255);
    g_assert (strpbrk (key, "&=#? ") == NULL);
  }
}

/* A range accepted is one that can be served: written back, it reads the same. */
static void
check_range (SoupMessageHeaders *headers)
{
  DflyProxyRange   range, again;
  g_autofree char *written = NULL;

  dfly_proxy_range_parse (soup_message_headers_get_one (headers, "Range"), &range);
  switch (range.kind) {
  case DFLY_PROXY_RANGE_NONE:
    return;
  case DFLY_PROXY_RANGE_SPAN:
    g_assert (range.length > 0 && range.offset <= G_MAXUINT64 - range.length);
    written = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, range.offset,
                               range.offset + range.length - 1);
    break;
  case DFLY_PROXY_RANGE_FROM:
    written = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", range.offset);
    break;
  case DFLY_PROXY_RANGE_SUFFIX:
    g_assert (range.length > 0);
    written = g_strdup_printf ("bytes=-%" G_GUINT64_FORMAT, range.length);
    break;
  default:
    g_assert_not_reached ();
  }
  dfly_proxy_range_parse (written, &again);
  g_assert (again.kind == range.kind && again.offset == range.offset &&
            again.length == range.length);
}

static gboolean
name_is_one_of (const char *name, const char *const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
check_upstream_headers (SoupMessageHeaders *headers)
{
  static const char *const never[] = {
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Content-Length",
    "Host",
    "Expect",
    "Accept-Encoding",
    NULL,
  };
  const char *connection = soup_message_headers_get_list (headers, "Connection");

  for (int for_swarm = 0; for_swarm <= 1; for_swarm++) {
    g_autoptr (GHashTable) out = dfly_proxy_headers_for_upstream (headers, for_swarm);
    GHashTableIter iter;
    const char    *name, *value;

    g_hash_table_iter_init (&iter, out);
    while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &value)) {
      g_assert (!name_is_one_of (name, never));
      g_assert (g_ascii_strncasecmp (name, "X-Dragonfly-", 12) != 0);
      g_assert (connection == NULL || !soup_header_contains (connection, name));
      if (for_swarm)
        g_assert (g_ascii_strcasecmp (name, "Range") != 0 &&
                  g_ascii_strcasecmp (name, "Accept") != 0 &&
                  g_ascii_strncasecmp (name, "If-", 3) != 0);
      /* What goes upstream is what came, joined. */
      g_assert (g_strcmp0 (value, soup_message_headers_get_list (headers, name)) == 0);
      g_assert (strpbrk (value, "\r\n") == NULL);
    }
  }
}

/* The request's headers as an upstream's answer. */
static void
check_copy_answer (SoupMessageHeaders *headers)
{
  g_autoptr (SoupMessageHeaders) to = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  SoupMessageHeadersIter iter;
  const char            *name, *value;

  dfly_proxy_headers_copy_answer (headers, to);
  soup_message_headers_iter_init (&iter, to);
  while (soup_message_headers_iter_next (&iter, &name, &value)) {
    g_assert (g_ascii_strcasecmp (name, "Date") != 0 && g_ascii_strcasecmp (name, "Server") != 0);
    g_assert (g_ascii_strcasecmp (name, "Connection") != 0 &&
              g_ascii_strcasecmp (name, "Transfer-Encoding") != 0 &&
              g_ascii_strcasecmp (name, "Content-Length") != 0);
    g_assert (g_ascii_strncasecmp (name, "X-Dragonfly-", 12) != 0);
  }
}

/* A rule moves a URL to https or another host, never to another path. */
static void
check_rule (const DflyProxyRule *rule, GUri *uri, const char *url)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *moved = dfly_proxy_rule_apply (rule, url, &error);
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (GUri) given = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);

  if (moved == NULL) {
    /* Refused: another scheme, or (from an HTTP/1.0 request without Host,
     * whose URL libsoup builds unchecked) no URL at all. */
    g_assert (error != NULL && error->code == DFLY_ERROR_INVALID_ARGUMENT);
    g_assert (given == NULL || g_uri_get_host (given) == NULL ||
              (strcmp (g_uri_get_scheme (given), "http") != 0 &&
               strcmp (g_uri_get_scheme (given), "https") != 0));
    return;
  }
  g_assert (error == NULL && given != NULL);
  if (rule == NULL || (!rule->use_tls && rule->redirect == NULL)) {
    g_assert (strcmp (moved, url) == 0);
    return;
  }
  parsed = g_uri_parse (moved, SOUP_HTTP_URI_FLAGS, &error);
  g_assert_no_error (error);
  if (rule->use_tls)
    g_assert (strcmp (g_uri_get_scheme (parsed), "https") == 0);
  else
    g_assert (strcmp (g_uri_get_scheme (parsed), g_uri_get_scheme (uri)) == 0);
  if (rule->redirect == NULL)
    g_assert (g_ascii_strcasecmp (g_uri_get_host (parsed), g_uri_get_host (given)) == 0);
  g_assert (strcmp (g_uri_get_path (parsed), g_uri_get_path (given)) == 0);
  g_assert (g_strcmp0 (g_uri_get_query (parsed), g_uri_get_query (given)) == 0);
}

static void
check_rules (GUri *uri)
{
  g_autofree char *url = g_uri_to_string_partial (uri, G_URI_HIDE_FRAGMENT);

  for (guint which = 0; which < 2; which++) {
    const DflyProxyRules *rules = get_rules (which);
    const DflyProxyRule  *rule = dfly_proxy_rules_match (rules, url);

    check_rule (rule, uri, url);
  }
  /* Every rule, matching or not: apply takes any URL. */
  for (guint i = 0; other_rules[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    const char *const one[] = { other_rules[i], NULL };
    g_autoptr (DflyProxyRules) rules = dfly_proxy_rules_new (one, &error);

    g_assert_no_error (error);
    check_rule (dfly_proxy_rules_match (rules, ".*"), uri, url);
    check_rule (dfly_proxy_rules_match (rules, url), uri, url);
  }
}

/* An empty path is "/" on http(s), which another scheme does not say. */
static const char *
path_or_root (GUri *uri)
{
  return *g_uri_get_path (uri) == '\0' ? "/" : g_uri_get_path (uri);
}

/* Whatever upstream is chosen is an http(s) URL of a host, https inside
 * an intercepted CONNECT; it keeps the request's path, and a mirror
 * request's ns parameter stays here. */
static void
check_target (DflyProxy *proxy, GUri *uri, gboolean intercepted, const char *registry)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *target =
    dfly_proxy_target_url_for_uri (proxy, uri, intercepted, registry, &error);
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (GUri) given = NULL;
  g_autofree char *request = g_uri_to_string (uri);

  if (target == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR &&
              error->code == DFLY_ERROR_INVALID_ARGUMENT);
    return;
  }
  g_assert (error == NULL);
  parsed = g_uri_parse (target, SOUP_HTTP_URI_FLAGS, &error);
  g_assert_no_error (error);
  g_assert (g_uri_get_host (parsed) != NULL && *g_uri_get_host (parsed) != '\0');
  g_assert (g_uri_get_userinfo (parsed) == NULL && g_uri_get_fragment (parsed) == NULL);
  if (intercepted) {
    g_assert (strcmp (g_uri_get_scheme (parsed), "https") == 0);
    g_assert (g_ascii_strcasecmp (g_uri_get_host (parsed), g_uri_get_host (uri)) == 0);
  } else {
    g_assert (strcmp (g_uri_get_scheme (parsed), "http") == 0 ||
              strcmp (g_uri_get_scheme (parsed), "https") == 0);
  }
  /* The request's path, as its URL written out and read back has it. */
  given = g_uri_parse (request, SOUP_HTTP_URI_FLAGS, NULL);
  g_assert (given != NULL);
  g_assert (strcmp (path_or_root (parsed), path_or_root (given)) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Setup          **all = get_setups ();
  g_autofree char *head = g_strndup ((const char *) data, size);
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  SoupHTTPVersion  version;
  const char      *registry;

  if (size > 64 * 1024 || strlen (head) != size)
    return 0;
  if (soup_headers_parse_request (head, (int) size, headers, &method, &path, &version) !=
      SOUP_STATUS_OK)
    return 0;
  check_ask (headers);
  check_range (headers);
  check_upstream_headers (headers);
  check_copy_answer (headers);
  registry = soup_message_headers_get_one (headers, "X-Dragonfly-Registry");
  for (int intercepted = 0; intercepted <= 1; intercepted++) {
    g_autoptr (GUri) uri =
      request_uri (intercepted ? "https" : "http", method, path, version, headers);

    if (uri == NULL)
      continue;
    if (!intercepted)
      check_rules (uri);
    for (guint i = 0; i < G_N_ELEMENTS (setups); i++) {
      check_target (&all[i]->proxy, uri, intercepted, registry);
      check_target (&all[i]->proxy, uri, intercepted, NULL);
    }
  }
  return 0;
}
