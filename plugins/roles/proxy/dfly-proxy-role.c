/* dfly-proxy-role.c — the "proxy" role: dfly in the path of runtimes and tools
 *
 * An HTTP proxy and registry mirror on proxy.listen:proxy.port (see
 * README.md): each request is checked (basic auth, a loop through us,
 * X-Dragonfly-* headers), its upstream URL worked out, and the rules
 * decide whether a GET is answered from the swarm or every request passed
 * straight through; CONNECT is tunnelled or intercepted.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly-proxy-headers.h"
#include "dfly-proxy-p2p.h"
#include "dfly-proxy-prefetch.h"
#include "dfly-proxy-relay.h"
#include "dfly-proxy-target.h"
#include "dfly-proxy-tunnel.h"
#include "dfly-proxy.h"
#include "dfly-wire.h"

G_DECLARE_FINAL_TYPE (DflyProxyRole, dfly_proxy_role, DFLY, PROXY_ROLE, DflyRole)

struct _DflyProxyRole {
  DflyRole          parent_instance;
  DflyProxy         proxy;
  DflyProxyTunnels *tunnels;
  DflyWireListener *listener;
  SoupServer       *server;
  char             *expected_auth; /* "Basic …" clients must send, or NULL */
};

G_DEFINE_FINAL_TYPE (DflyProxyRole, dfly_proxy_role, DFLY_TYPE_ROLE)

void
dfly_proxy_answer_error (SoupServerMessage *msg, guint status, const char *format, ...)
{
  va_list          args;
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  body = g_strconcat (text, "\n", NULL);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-Dragonfly-Error-Type", "proxy");
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, body,
                                    strlen (body));
}

guint
dfly_proxy_status_for_error (const GError *error)
{
  if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED))
    return SOUP_STATUS_FORBIDDEN;
  if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT))
    return SOUP_STATUS_GATEWAY_TIMEOUT;
  if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_BUSY))
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  return SOUP_STATUS_BAD_GATEWAY;
}

/* Constant-time: how long the comparison takes says nothing of the secret. */
static gboolean
same_secret (const char *given, const char *expected)
{
  gsize  given_length = strlen (given), expected_length = strlen (expected);
  guint8 differ = given_length != expected_length;

  for (gsize i = 0; i < expected_length; i++)
    differ |= (guint8) (expected[i] ^ (i < given_length ? given[i] : 0));
  return differ == 0;
}

static gboolean
is_authorized (DflyProxyRole *self, SoupServerMessage *msg)
{
  const char *given;

  if (self->expected_auth == NULL)
    return TRUE;
  given = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                        "Proxy-Authorization");
  return given != NULL && same_secret (given, self->expected_auth);
}

/* A request that carries our own Via token has been through us already. */
static gboolean
came_round (DflyProxyRole *self, SoupMessageHeaders *headers)
{
  const char *via = soup_message_headers_get_list (headers, "Via");

  return via != NULL && strstr (via, self->proxy.via) != NULL;
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  DflyProxyRole       *self = user_data;
  SoupMessageHeaders  *headers = soup_server_message_get_request_headers (msg);
  const char          *method = soup_server_message_get_method (msg);
  const DflyProxyRule *rule;
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyAsk) ask = NULL;
  g_autofree char *target = NULL;
  g_autofree char *url = NULL;
  g_autofree char *via = NULL;
  GHashTable      *upstream;
  gboolean         p2p;
  /* Inside an intercepted CONNECT (authorized as a whole). */
  gboolean intercepted = server != self->server;

  if (!intercepted && !is_authorized (self, msg)) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Proxy-Authenticate", "Basic realm=\"dfly\"");
    dfly_proxy_answer_error (msg, SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED,
                             "this proxy asks for a user and password");
    return;
  }
  if (strcmp (method, SOUP_METHOD_CONNECT) == 0) {
    dfly_proxy_tunnels_serve (self->tunnels, msg);
    return;
  }
  if (came_round (self, headers)) {
    dfly_proxy_answer_error (msg, 508 /* Loop Detected */,
                             "this request came back to the proxy it went through");
    return;
  }
  ask = dfly_proxy_ask_parse (headers, &error);
  if (ask != NULL)
    target = dfly_proxy_target_url (&self->proxy, msg, intercepted, ask->registry, &error);
  rule = target != NULL ? dfly_proxy_rules_match (self->proxy.rules, target) : NULL;
  if (target != NULL)
    url = dfly_proxy_rule_apply (rule, target, &error);
  if (url == NULL) {
    dfly_proxy_answer_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
    return;
  }
  p2p = ask->use_p2p >= 0 ? ask->use_p2p : rule != NULL && !rule->direct;
  if (p2p && strcmp (method, SOUP_METHOD_GET) == 0) {
    dfly_proxy_p2p_serve (&self->proxy, msg, url, ask);
    return;
  }
  upstream = dfly_proxy_headers_for_upstream (headers, FALSE);
  via =
    g_strconcat (soup_message_headers_get_list (headers, "Via") ?: "",
                 soup_message_headers_get_list (headers, "Via") ? ", " : "", self->proxy.via, NULL);
  g_hash_table_replace (upstream, g_strdup ("Via"), g_steal_pointer (&via));
  soup_server_message_pause (msg);
  dfly_proxy_relay (&self->proxy, msg, url, upstream, NULL);
}

/* A body larger than proxy.max_request_body, or one without a length
 * (chunked: it could go on for ever), is refused before it is read:
 * SoupServer would hold all of it in memory. */
static void
on_early_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  DflyProxyRole      *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset             length = soup_message_headers_get_content_length (headers);
  SoupEncoding        encoding = soup_message_headers_get_encoding (headers);

  if ((encoding == SOUP_ENCODING_CONTENT_LENGTH &&
       (guint64) length > self->proxy.settings->max_request_body) ||
      encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF) {
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
    dfly_proxy_answer_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                             "request bodies without a length or above %" G_GUINT64_FORMAT
                             " bytes are not proxied",
                             self->proxy.settings->max_request_body);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
  }
}

/* A TLS ClientHello: containers/image probes a mirror with https before
 * http. The proxy speaks plain HTTP, so the probe is closed at once rather
 * than left to the header timeout (10 s a probe). */
static void
on_tls_hello (GIOStream *stream, gpointer user_data)
{
  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
}

static void
disconnect (DflyProxyRole *self)
{
  if (self->proxy.stopping != NULL)
    g_cancellable_cancel (self->proxy.stopping);
  g_clear_pointer (&self->listener, dfly_wire_listener_free);
  g_clear_pointer (&self->tunnels, dfly_proxy_tunnels_free);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->proxy.rules, dfly_proxy_rules_free);
  g_clear_pointer (&self->proxy.cache, dfly_proxy_cache_free);
  g_clear_pointer (&self->proxy.prefetches, dfly_proxy_prefetches_free);
  g_clear_pointer (&self->proxy.settings_ref, dfly_settings_unref);
  self->proxy.settings = NULL;
  g_clear_pointer (&self->proxy.via, g_free);
  g_clear_object (&self->proxy.stopping);
  g_clear_pointer (&self->expected_auth, g_free);
}

static gboolean
dfly_proxy_role_start (DflyRole *role, GError **error)
{
  DflyProxyRole *self = DFLY_PROXY_ROLE (role);
  DflyContext   *context = dfly_component_get_context (DFLY_COMPONENT (role));
  DflyProxy     *proxy = &self->proxy;
  g_autoptr (GError) local_error = NULL;
  DflyWireLimits limits;

  proxy->context = context;
  proxy->settings_ref = dfly_component_dup_settings (DFLY_COMPONENT (role));
  proxy->settings = dfly_settings_get_values (proxy->settings_ref);
  proxy->stopping = g_cancellable_new ();
  proxy->rules = dfly_proxy_rules_new ((const char *const *) proxy->settings->rules, error);
  if (proxy->rules == NULL) {
    disconnect (self);
    return FALSE;
  }
  proxy->cache = dfly_proxy_cache_new (proxy->settings->cache_capacity);
  proxy->prefetches = dfly_proxy_prefetches_new (proxy);
  /* Random per start: two proxies chained each spot their own token. */
  proxy->via = g_strdup_printf ("1.1 dfly-%08x", g_random_int ());
  if (*proxy->settings->auth_user != '\0') {
    g_autofree char *pair =
      g_strconcat (proxy->settings->auth_user, ":", proxy->settings->auth_password, NULL);
    g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));

    self->expected_auth = g_strconcat ("Basic ", encoded, NULL);
  }
  self->tunnels = dfly_proxy_tunnels_new (proxy, on_request, self, error);
  if (self->tunnels == NULL) {
    disconnect (self);
    return FALSE;
  }
  self->server = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  soup_server_add_early_handler (self->server, NULL, on_early_request, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  dfly_wire_limits_from_config (dfly_context_get_config (context), &limits);
  self->listener = dfly_wire_listen (self->server, proxy->settings->listen, proxy->settings->port,
                                     &limits, &local_error);
  if (self->listener == NULL) {
    g_set_error (error, local_error->domain, local_error->code, "proxy.listen: %s",
                 local_error->message);
    disconnect (self);
    return FALSE;
  }
  dfly_wire_listener_divert (self->listener, "\x16\x03", on_tls_hello, NULL);
  proxy->port = dfly_wire_listener_get_port (self->listener);
  g_info ("proxy listening on %s:%u", proxy->settings->listen, proxy->port);
  return TRUE;
}

static void
dfly_proxy_role_stop (DflyRole *role)
{
  disconnect (DFLY_PROXY_ROLE (role));
}

static char *
dfly_proxy_role_describe (DflyRole *role)
{
  DflyProxyRole *self = DFLY_PROXY_ROLE (role);

  return g_strdup_printf ("proxy and registry mirror on %s:%u",
                          self->proxy.settings != NULL ? self->proxy.settings->listen : "-",
                          self->proxy.port);
}

static void
dfly_proxy_role_dispose (GObject *object)
{
  disconnect (DFLY_PROXY_ROLE (object));
  G_OBJECT_CLASS (dfly_proxy_role_parent_class)->dispose (object);
}

static void
dfly_proxy_role_class_init (DflyProxyRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = dfly_proxy_role_dispose;
  role_class->start = dfly_proxy_role_start;
  role_class->stop = dfly_proxy_role_stop;
  role_class->describe = dfly_proxy_role_describe;
}

static void
dfly_proxy_role_init (DflyProxyRole *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("proxy", DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                                  "Proxy: HTTP proxy and registry mirror in front of the peer",
                                  dfly_proxy_role_get_type, &dfly_proxy_settings)
