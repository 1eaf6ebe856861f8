/* dfly-proxy-target.c — the upstream URL of a request (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-proxy-target.h"

/* Whether uri names this proxy: our port, on a loopback name or address or
 * the address we listen on. */
static gboolean
is_ours (DflyProxy *proxy, GUri *uri)
{
  const char *host = g_uri_get_host (uri);
  g_autoptr (GInetAddress) address = NULL;

  if (host == NULL || g_uri_get_port (uri) != proxy->port)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0 ||
      g_ascii_strcasecmp (host, proxy->settings->listen) == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL &&
         (g_inet_address_get_is_loopback (address) || g_inet_address_get_is_any (address));
}

/* host[:port] with nothing else in it. */
static gboolean
is_authority (const char *text)
{
  g_autofree char *url = NULL;
  g_autoptr (GUri) uri = NULL;

  if (*text == '\0' || strlen (text) > 255 || strpbrk (text, "/?#@ \\") != NULL)
    return FALSE;
  url = g_strconcat ("http://", text, "/", NULL);
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  return uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0';
}

static gboolean
is_default_port (const char *scheme, int port)
{
  return (port == 80 && strcmp (scheme, "http") == 0) ||
         (port == 443 && strcmp (scheme, "https") == 0);
}

/* scheme://authority of a configured or client-given upstream URL. */
static char *
base_of (const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  const char *path;
  int         port;

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (strcmp (g_uri_get_scheme (uri), "http") != 0 &&
       strcmp (g_uri_get_scheme (uri), "https") != 0) ||
      g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the registry \"%s\" is not an http or https URL of a host", url);
    return NULL;
  }
  path = g_uri_get_path (uri);
  if (*path != '\0' && strcmp (path, "/") != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the registry \"%s\" has a path; give scheme://host[:port]", url);
    return NULL;
  }
  /* Parsed with SCHEME_NORMALIZE, a URL without a port gives its scheme's:
   * that one is not written, as the client would not write it either. */
  port = g_uri_get_port (uri);
  if (is_default_port (g_uri_get_scheme (uri), port))
    port = -1;
  /* The host is escaped again when written, as it was decoded when parsed. */
  return g_uri_join (DFLY_PROXY_URI_BUILD_FLAGS, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                     port, "", NULL, NULL);
}

/* The upstream of an ns value: http for insecure registries and for the
 * configured mirror's own host when that is http, else https. */
static char *
base_of_namespace (DflyProxy *proxy, const char *ns, GError **error)
{
  g_autoptr (GUri) mirror =
    g_uri_parse (proxy->settings->registry_mirror, SOUP_HTTP_URI_FLAGS, NULL);
  g_autofree char *mirror_authority = NULL;
  const char      *host = ns;

  if (!is_authority (ns)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "ns=\"%s\" is not a registry's host[:port]", ns);
    return NULL;
  }
  /* Docker Hub's name and its API's host differ. */
  if (strcmp (ns, "docker.io") == 0)
    host = "registry-1.docker.io";
  if (g_strv_contains ((const char *const *) proxy->settings->insecure_registries, ns))
    return g_strconcat ("http://", host, NULL);
  if (mirror != NULL && g_uri_get_host (mirror) != NULL) {
    int         port = g_uri_get_port (mirror);
    const char *mirror_host = g_uri_get_host (mirror);
    /* An IPv6 address is written bracketed, as ns names it. */
    g_autofree char *bracketed =
      strchr (mirror_host, ':') != NULL ? g_strdup_printf ("[%s]", mirror_host) : NULL;

    if (bracketed != NULL)
      mirror_host = bracketed;
    mirror_authority = port > 0 && !is_default_port (g_uri_get_scheme (mirror), port)
                         ? g_strdup_printf ("%s:%d", mirror_host, port)
                         : g_strdup (mirror_host);
    if (g_ascii_strcasecmp (mirror_authority, ns) == 0)
      return g_strconcat (g_uri_get_scheme (mirror), "://", host, NULL);
  }
  return g_strconcat ("https://", host, NULL);
}

/* query without its ns parameter (NULL when nothing is left); *ns gets its
 * value, decoded. */
static char *
split_namespace (const char *query, char **ns)
{
  g_auto (GStrv) pairs = NULL;
  g_autoptr (GString) kept = g_string_new (NULL);

  *ns = NULL;
  if (query == NULL)
    return NULL;
  pairs = g_strsplit (query, "&", -1);
  for (guint i = 0; pairs[i] != NULL; i++) {
    if (g_str_has_prefix (pairs[i], "ns=")) {
      g_free (*ns);
      *ns = g_uri_unescape_string (pairs[i] + 3, NULL);
      continue;
    }
    if (*pairs[i] == '\0')
      continue;
    if (kept->len > 0)
      g_string_append_c (kept, '&');
    g_string_append (kept, pairs[i]);
  }
  return kept->len > 0 ? g_string_free (g_steal_pointer (&kept), FALSE) : NULL;
}

char *
dfly_proxy_target_url (DflyProxy *proxy, SoupServerMessage *msg, gboolean intercepted,
                       const char *registry, GError **error)
{
  return dfly_proxy_target_url_for_uri (proxy, soup_server_message_get_uri (msg), intercepted,
                                        registry, error);
}

char *
dfly_proxy_target_url_for_uri (DflyProxy *proxy, GUri *request_uri, gboolean intercepted,
                               const char *registry, GError **error)
{
  g_autofree char *ns = NULL;
  g_autofree char *query = NULL;
  g_autofree char *base = NULL;
  g_autofree char *text = g_uri_to_string (request_uri);
  /* For an HTTP/1.0 request without Host, libsoup leaves the query in the
   * path ("/v2/?ns=x"): written out and read back, it is a query again. */
  g_autoptr (GUri) uri = g_uri_parse (text, SOUP_HTTP_URI_FLAGS, NULL);

  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the request's URL is not valid: %s", text);
    return NULL;
  }
  /* libsoup takes an empty Host header (or "http:///x") as a host "". */
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "the request names no host");
    return NULL;
  }
  if (intercepted) {
    int port = g_uri_get_port (uri);
    g_autoptr (GUri) https = NULL;

    /* No port, as its scheme's default shows after SCHEME_NORMALIZE: https's. */
    if (port == 443 || is_default_port (g_uri_get_scheme (uri), port))
      port = -1;
    https = g_uri_build (DFLY_PROXY_URI_BUILD_FLAGS, "https", NULL, g_uri_get_host (uri), port,
                         g_uri_get_path (uri), g_uri_get_query (uri), NULL);

    return g_uri_to_string (https);
  }
  if (!is_ours (proxy, uri)) {
    /* Forward proxying: the URL as the client gave it. */
    if (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "only http:// URLs are proxied this way; https goes through CONNECT");
      return NULL;
    }
    /* RFC 9110 4.2.4: user info in a URL from a client is an error, and
     * would reach the upstream as credentials. */
    if (g_uri_get_userinfo (uri) != NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "the URL carries user info (user@host)");
      return NULL;
    }
    return g_uri_to_string_partial (uri, G_URI_HIDE_FRAGMENT);
  }
  query = split_namespace (g_uri_get_query (uri), &ns);
  if (registry != NULL)
    base = base_of (registry, error);
  else if (ns != NULL)
    base = base_of_namespace (proxy, ns, error);
  else
    base = base_of (proxy->settings->registry_mirror, error);
  if (base == NULL)
    return NULL;
  return g_strconcat (base, g_uri_get_path (uri), query != NULL ? "?" : "", query ? query : "",
                      NULL);
}
