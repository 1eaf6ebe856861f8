/* dfly-http-client.c — DflyHttpClient: sessions, trust, retries, redirects, errors
 *
 * A HttpSession is a SoupSession and the settings it was built from; the
 * client swaps in a new one (under its lock) when a request finds the
 * config changed, and each request and body holds a reference to the one
 * it started on. Nothing but sending is called on a session once built.
 *
 * Timeouts: the session's I/O timeout is http.read_timeout; while a socket
 * connects its timeout is lowered to http.connect_timeout (the
 * "network-event" signal hands us the socket), and libsoup sets it back to
 * the I/O timeout once connected.
 *
 * Redirects are followed here, not by libsoup, so that credentials can be
 * dropped across origins: a registry's token must not reach the storage it
 * redirects to (libsoup 3.2 as shipped in Debian 12 forwards them).
 *
 * source.allow / source.deny (dfly-source-policy.h) are checked on every
 * URL's host before its message is sent (each redirect too), and on the
 * address each new connection goes to, when "network-event" says it is
 * connecting: a refused socket is closed there, before a byte is sent.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly-http-client.h"
#include "dfly-source-policy.h"

#define USER_AGENT "dfly/" PACKAGE_VERSION
/* No single backoff grows beyond this, however many retries. */
#define MAX_BACKOFF_MS 60000

/* ---- HttpSession: a SoupSession and the settings it was built from ---- */

typedef struct {
  guint  read_timeout;
  guint  max_conns;
  char  *ca_file;
  char **insecure_hosts;
} HttpSettings;

/* Every piece in flight of every task may be reading from one origin, and
 * each task may stat it once more: a sync request waiting for a free
 * connection would otherwise block until another one is done. */
static guint
max_conns_for (const DflyConfig *config)
{
  return (config->download.concurrency + 1) * config->download.max_tasks;
}

/* The one place the client reads its keys. */
static void
http_settings_init (HttpSettings *settings, const DflyConfig *config)
{
  settings->read_timeout = config->http.read_timeout;
  settings->max_conns = max_conns_for (config);
  settings->ca_file = g_strdup (config->http.ca_file);
  settings->insecure_hosts = g_strdupv (config->http.insecure_hosts);
}

static void
http_settings_clear (HttpSettings *settings)
{
  g_clear_pointer (&settings->ca_file, g_free);
  g_clear_pointer (&settings->insecure_hosts, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HttpSettings, http_settings_clear)

static gboolean
http_settings_equal (const HttpSettings *a, const HttpSettings *b)
{
  return a->read_timeout == b->read_timeout && a->max_conns == b->max_conns &&
         g_strcmp0 (a->ca_file, b->ca_file) == 0 &&
         g_strv_equal ((const char *const *) a->insecure_hosts,
                       (const char *const *) b->insecure_hosts);
}

typedef struct {
  gatomicrefcount ref_count;
  HttpSettings    settings;
  SoupSession    *session;
  GTlsDatabase   *ca_database; /* http.ca_file loaded; NULL when unset or unreadable */
  GError         *ca_error;    /* why http.ca_file could not be loaded */
} HttpSession;

static HttpSession *
http_session_new (HttpSettings *settings)
{
  HttpSession *hs = g_new0 (HttpSession, 1);

  g_atomic_ref_count_init (&hs->ref_count);
  hs->settings = *settings;
  *settings = (HttpSettings){ 0 };
  hs->session = soup_session_new_with_options (
    "user-agent", USER_AGENT, "timeout", hs->settings.read_timeout, "max-conns",
    hs->settings.max_conns, "max-conns-per-host", hs->settings.max_conns, NULL);
  /* Ranges count bytes of the representation as sent: never decode it. */
  soup_session_remove_feature_by_type (hs->session, SOUP_TYPE_CONTENT_DECODER);
  if (hs->settings.ca_file != NULL && hs->settings.ca_file[0] != '\0') {
    hs->ca_database = g_tls_file_database_new (hs->settings.ca_file, &hs->ca_error);
    if (hs->ca_database == NULL)
      g_prefix_error (&hs->ca_error, "http.ca_file %s: ", hs->settings.ca_file);
  }
  return hs;
}

static HttpSession *
http_session_ref (HttpSession *hs)
{
  g_atomic_ref_count_inc (&hs->ref_count);
  return hs;
}

static void
http_session_unref (HttpSession *hs)
{
  if (!g_atomic_ref_count_dec (&hs->ref_count))
    return;
  g_object_unref (hs->session);
  http_settings_clear (&hs->settings);
  g_clear_object (&hs->ca_database);
  g_clear_error (&hs->ca_error);
  g_free (hs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpSession, http_session_unref)

/* Emitted when the system CAs refuse the origin's certificate. */
static gboolean
http_session_accepts (const HttpSession *hs, GUri *uri, GTlsCertificate *certificate)
{
  const char *host = g_uri_get_host (uri);
  g_autoptr (GSocketConnectable) identity = NULL;

  for (guint i = 0; hs->settings.insecure_hosts != NULL && hs->settings.insecure_hosts[i]; i++) {
    if (g_ascii_strcasecmp (hs->settings.insecure_hosts[i], host) == 0) {
      g_debug ("accepting the certificate of %s (in http.insecure_hosts)", host);
      return TRUE;
    }
  }
  if (hs->ca_database == NULL)
    return FALSE;
  identity = g_network_address_new (host, (guint16) MAX (g_uri_get_port (uri), 0));
  return g_tls_database_verify_chain (hs->ca_database, certificate,
                                      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
                                      G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) == 0;
}

/* ---- DflyHttpClient ---- */

struct _DflyHttpClient {
  GObject      parent_instance;
  DflyContext *context; /* outlives us */
  GMutex       lock;
  HttpSession *session; /* under lock; NULL until the first request */
};

G_DEFINE_FINAL_TYPE (DflyHttpClient, dfly_http_client, G_TYPE_OBJECT)

/* The session for settings, built or rebuilt when they changed. */
static HttpSession *
dfly_http_client_get_session (DflyHttpClient *self, HttpSettings *settings)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->session == NULL || !http_settings_equal (&self->session->settings, settings)) {
    g_clear_pointer (&self->session, http_session_unref);
    self->session = http_session_new (settings);
  }
  return http_session_ref (self->session);
}

/* ---- Checking what callers pass ---- */

/* RFC 9110 token characters, the alphabet of field names. */
static gboolean
is_token (const char *text)
{
  static const char extra[] = "!#$%&'*+-.^_`|~";

  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (extra, *p) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
dfly_http_is_field_value (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
is_one_of (const char *name, const char *const *names)
{
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Headers the client sets or that would change how bytes are framed. */
static const char *const framing_headers[] = {
  "Accept-Encoding", "Connection",        "Content-Length", "Expect", "Host", "Range", "TE",
  "Trailer",         "Transfer-Encoding", "Upgrade",        NULL,
};

static const char *const credential_headers[] = { "Authorization", "Cookie", "Proxy-Authorization",
                                                  NULL };
#define CREDENTIAL_HEADER_PREFIX "X-Dfly-S3-"

gboolean
dfly_http_is_credential_header (const char *name)
{
  return is_one_of (name, credential_headers) ||
         g_ascii_strncasecmp (name, CREDENTIAL_HEADER_PREFIX, strlen (CREDENTIAL_HEADER_PREFIX)) ==
           0;
}

char *
dfly_http_public_url (const char *url)
{
  g_autoptr (GUri) uri = url != NULL ? g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL) : NULL;

  if (uri == NULL)
    return g_strdup ("(not a URL)");
  return g_uri_to_string_partial (uri,
                                  G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY | G_URI_HIDE_FRAGMENT);
}

gboolean
dfly_http_check_headers (GHashTable *headers, const char *const *reserved, const char *who,
                         GError **error)
{
  GHashTableIter iter;
  gpointer       name, value;

  if (headers == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &name, &value)) {
    g_autofree char *shown = g_strescape (name, NULL);

    if (!is_token (name)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header name \"%s\" is not an HTTP token", shown);
      return FALSE;
    }
    if (value == NULL || !dfly_http_is_field_value (value)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header %s: value holds control characters (CR, LF, NUL…)", shown);
      return FALSE;
    }
    if (is_one_of (name, framing_headers) || is_one_of (name, reserved)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header %s is set by %s, not by callers", shown, who);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
dfly_http_format_range (guint64 offset, gint64 length, char **range, GError **error)
{
  *range = NULL;
  if (length < -1 || offset > G_MAXINT64 ||
      (length > 0 && offset > (guint64) (G_MAXINT64 - length))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad range: %" G_GINT64_FORMAT " bytes from byte %" G_GUINT64_FORMAT, length,
                 offset);
    return FALSE;
  }
  if (length > 0)
    *range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, offset,
                              offset + (guint64) length - 1);
  else if (length < 0 && offset > 0)
    *range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);
  return TRUE;
}

/* ---- Errors ---- */

DflyError
dfly_http_status_to_error (guint status)
{
  switch (status) {
  case SOUP_STATUS_NOT_FOUND:
  case SOUP_STATUS_GONE:
    return DFLY_ERROR_NOT_FOUND;
  case SOUP_STATUS_UNAUTHORIZED:
  case SOUP_STATUS_FORBIDDEN:
    return DFLY_ERROR_ACCESS_DENIED;
  default:
    return DFLY_ERROR_SOURCE;
  }
}

GError *
dfly_http_status_error_new (DflyError code, SoupMessage *msg, const char *detail, const char *url)
{
  guint status = soup_message_get_status (msg);

  return g_error_new (DFLY_ERROR, code, "HTTP %u %s%s: %s", status, soup_status_get_phrase (status),
                      detail != NULL ? detail : "", url);
}

static const struct {
  GTlsCertificateFlags flag;
  const char          *text;
} tls_flag_texts[] = {
  { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer" },
  { G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another host" },
  { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
  { G_TLS_CERTIFICATE_EXPIRED, "expired" },
  { G_TLS_CERTIFICATE_REVOKED, "revoked" },
  { G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
  { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
};

static char *
describe_tls_flags (GTlsCertificateFlags flags)
{
  GString *text = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (tls_flag_texts); i++) {
    if (!(flags & tls_flag_texts[i].flag))
      continue;
    if (text->len > 0)
      g_string_append (text, ", ");
    g_string_append (text, tls_flag_texts[i].text);
  }
  return g_string_free (text, FALSE);
}

typedef enum {
  PHASE_CONNECTING, /* resolving, connecting a new connection */
  PHASE_EXCHANGING, /* connected (or reusing one): TLS, the request, the answer */
} RequestPhase;

/* Turns libsoup's error for a request into a DFLY_ERROR. */
static GError *
transport_error_new (const GError *cause, const char *url, RequestPhase phase, guint timeout,
                     GTlsCertificateFlags tls_flags)
{
  g_autofree char *flags = NULL;

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", url);
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && phase == PHASE_CONNECTING)
    return g_error_new (DFLY_ERROR, DFLY_ERROR_TIMEOUT, "connecting to %s timed out after %u s",
                        url, timeout);
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (DFLY_ERROR, DFLY_ERROR_TIMEOUT, "%s sent nothing for %u s", url, timeout);
  if (cause->domain != G_TLS_ERROR || tls_flags == 0)
    return g_error_new (DFLY_ERROR, DFLY_ERROR_SOURCE, "%s: %s", url, cause->message);
  flags = describe_tls_flags (tls_flags);
  return g_error_new (DFLY_ERROR, DFLY_ERROR_SOURCE, "TLS certificate not trusted (%s): %s", flags,
                      url);
}

gboolean
dfly_http_error_is_retryable (const GError *error)
{
  static const GIOErrorEnum codes[] = {
    G_IO_ERROR_TIMED_OUT,     G_IO_ERROR_CONNECTION_REFUSED, G_IO_ERROR_CONNECTION_CLOSED,
    G_IO_ERROR_BROKEN_PIPE,   G_IO_ERROR_HOST_UNREACHABLE,   G_IO_ERROR_NETWORK_UNREACHABLE,
    G_IO_ERROR_PARTIAL_INPUT,
  };

  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE;
  if (error->domain != G_IO_ERROR)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (error->code == (gint) codes[i])
      return TRUE;
  return FALSE;
}

gboolean
dfly_http_status_is_retryable (guint status)
{
  return SOUP_STATUS_IS_SERVER_ERROR (status) && status != SOUP_STATUS_NOT_IMPLEMENTED;
}

/* Sleeps ms, or less if cancellable is cancelled (then FALSE). */
static gboolean
backoff (guint ms, GCancellable *cancellable)
{
  gint64  deadline = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  GPollFD pollfd;
  gint64  left;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd)) {
    g_usleep ((gulong) ms * G_TIME_SPAN_MILLISECOND);
    return TRUE;
  }
  while (!g_cancellable_is_cancelled (cancellable) &&
         (left = deadline - g_get_monotonic_time ()) > 0)
    g_poll (&pollfd, 1, (gint) ((left + 999) / 1000));
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_is_cancelled (cancellable);
}

/* ---- One request: its settings, session and state ---- */

static gboolean
is_redirect (guint status)
{
  return status == SOUP_STATUS_MOVED_PERMANENTLY || status == SOUP_STATUS_FOUND ||
         status == SOUP_STATUS_SEE_OTHER || status == SOUP_STATUS_TEMPORARY_REDIRECT ||
         status == SOUP_STATUS_PERMANENT_REDIRECT;
}

static gboolean
is_http_uri (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);

  return (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0) &&
         host != NULL && *host != '\0';
}

static gboolean
is_same_origin (GUri *a, GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         g_uri_get_port (a) == g_uri_get_port (b);
}

typedef struct {
  const DflyHttpRequest *request;
  HttpSession           *hs;
  char                  *url; /* for messages */
  guint                  connect_timeout;
  guint                  retries;
  guint                  retry_backoff_ms;
  RequestPhase           phase;           /* of the attempt in flight */
  DflySourcePolicy      *policy;          /* source.allow and source.deny */
  gboolean               allowed_by_name; /* the target's host is in source.allow */
  GError                *refused;         /* why the policy closed a connection of this attempt */
} HttpCall;

static void
http_call_clear (HttpCall *call)
{
  g_clear_pointer (&call->hs, http_session_unref);
  g_clear_pointer (&call->url, g_free);
  g_clear_pointer (&call->policy, dfly_source_policy_free);
  g_clear_error (&call->refused);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HttpCall, http_call_clear)

static gboolean
http_call_init (HttpCall *call, DflyHttpClient *self, const DflyHttpRequest *request,
                GError **error)
{
  g_autoptr (DflyConfig) config = dfly_context_dup_config (self->context);
  g_auto (HttpSettings) settings = { 0 };

  call->request = request;
  call->url = request->url != NULL ? g_strdup (request->url)
                                   : g_uri_to_string_partial (request->uri, G_URI_HIDE_PASSWORD);
  if (!is_http_uri (request->uri)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "not an http or https URL with a host: %s", call->url);
    return FALSE;
  }
  call->policy = dfly_source_policy_new ((const char *const *) config->source.allow,
                                         (const char *const *) config->source.deny, error);
  if (call->policy == NULL)
    return FALSE;
  call->connect_timeout = config->http.connect_timeout;
  call->retries = config->http.retries;
  call->retry_backoff_ms = config->http.retry_backoff_ms;
  http_settings_init (&settings, config);
  call->hs = dfly_http_client_get_session (self, &settings);
  if (call->hs->ca_error != NULL &&
      g_ascii_strcasecmp (g_uri_get_scheme (request->uri), "https") == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s", call->hs->ca_error->message);
    return FALSE;
  }
  return TRUE;
}

/* "source.deny: 169.254.169.254 is denied (link-local): URL" */
static void
set_refused_error (GError **error, const GError *refused, const char *url)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED, "%s: %s", refused->message, url);
}

/* Closes connection if the policy refuses where it goes: the connect (or
 * the request, once connected) then fails, and the refusal is the error.
 * GSocketClient knows the address it is connecting to before it connects;
 * once connected, the peer's address is the one that counts. */
static void
http_call_check_connection (HttpCall *call, GIOStream *connection)
{
  GSocket *socket;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GError) error = NULL;

  if (!G_IS_SOCKET_CONNECTION (connection))
    return;
  socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));
  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return;
  if (dfly_source_policy_check_address (
        call->policy, g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)),
        call->allowed_by_name, &error))
    return;
  g_debug ("%s: %s", call->url, error->message);
  if (call->refused == NULL)
    call->refused = g_steal_pointer (&error);
  g_socket_close (socket, NULL);
}

static void
on_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection, gpointer data)
{
  HttpCall *call = data;

  switch (event) {
  case G_SOCKET_CLIENT_RESOLVING:
    call->phase = PHASE_CONNECTING;
    break;
  case G_SOCKET_CLIENT_CONNECTING:
    call->phase = PHASE_CONNECTING;
    /* libsoup resets it to the session's I/O timeout once connected. */
    if (G_IS_SOCKET_CONNECTION (connection))
      g_socket_set_timeout (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)),
                            call->connect_timeout);
    http_call_check_connection (call, connection);
    break;
  case G_SOCKET_CLIENT_CONNECTED:
    call->phase = PHASE_EXCHANGING;
    http_call_check_connection (call, connection);
    break;
  default:
    break;
  }
}

static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors,
                       gpointer data)
{
  HttpCall *call = data;

  /* The message's URI is the redirect target, if any. */
  return http_session_accepts (call->hs, soup_message_get_uri (msg), certificate);
}

/* The message to target: the caller's headers (credentials only while on
 * the first origin), ours, then the caller's preparation. */
static SoupMessage *
http_call_new_message (HttpCall *call, GUri *target, gboolean cross_origin, GError **error)
{
  const DflyHttpRequest *request = call->request;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GError) refused = NULL;
  SoupMessageHeaders *headers;

  if (!dfly_source_policy_check_host (call->policy, g_uri_get_host (target), &call->allowed_by_name,
                                      &refused)) {
    set_refused_error (error, refused, call->url);
    return NULL;
  }
  msg = soup_message_new_from_uri (request->method, target);
  headers = soup_message_get_request_headers (msg);
  if (request->headers != NULL) {
    GHashTableIter iter;
    gpointer       name, value;

    g_hash_table_iter_init (&iter, request->headers);
    while (g_hash_table_iter_next (&iter, &name, &value))
      if (!cross_origin || !dfly_http_is_credential_header (name))
        soup_message_headers_replace (headers, name, value);
  }
  soup_message_headers_replace (headers, "Accept-Encoding", "identity");
  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (msg, NULL, request->body);
  if (request->range != NULL)
    soup_message_headers_replace (headers, "Range", request->range);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  if (request->prepare != NULL &&
      !request->prepare (msg, cross_origin, request->prepare_data, error))
    return NULL;
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), call);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), call);
  return g_steal_pointer (&msg);
}

/* Where the answer in msg sends us next: NULL when it is the answer (and
 * error unset), or with a DFLY_ERROR when the redirect may not be followed. */
static GUri *
http_call_next_target (HttpCall *call, SoupMessage *msg, GUri *target, guint redirects,
                       GError **error)
{
  const char *location =
    soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
  g_autoptr (GUri) next = NULL;

  if ((call->request->flags & DFLY_HTTP_REQUEST_NO_REDIRECT) ||
      !is_redirect (soup_message_get_status (msg)) || location == NULL)
    return NULL;
  if (redirects == DFLY_HTTP_MAX_REDIRECTS) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "more than %u redirects: %s",
                 DFLY_HTTP_MAX_REDIRECTS, call->url);
    return NULL;
  }
  next = g_uri_parse_relative (target, location, SOUP_HTTP_URI_FLAGS, NULL);
  if (next == NULL || !is_http_uri (next)) {
    g_autofree char *shown = g_strescape (location, NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "redirected to \"%s\", not an http or https URL: %s", shown, call->url);
    return NULL;
  }
  return g_steal_pointer (&next);
}

/* One attempt: sends and follows redirects. Returns the last answer's
 * stream and message; NULL with libsoup's error if the exchange failed
 * (*msg_out still set, for its TLS errors), or with a DFLY_ERROR if a
 * redirect went wrong. */
static GInputStream *
http_call_send_once (HttpCall *call, SoupMessage **msg_out, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (GUri) target = g_uri_ref (call->request->uri);
  gboolean cross_origin = FALSE;

  for (guint redirects = 0;; redirects++) {
    g_autoptr (SoupMessage) msg = http_call_new_message (call, target, cross_origin, error);
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GUri) next = NULL;
    g_autoptr (GError) local_error = NULL;
    g_autofree char *shown = NULL;

    if (msg == NULL)
      return NULL;
    /* A new connection reports its progress; a reused one says nothing. */
    call->phase = PHASE_EXCHANGING;
    g_clear_error (&call->refused);
    stream = soup_session_send (call->hs->session, msg, cancellable, error);
    g_signal_handlers_disconnect_by_data (msg, call);
    if (stream == NULL && call->refused != NULL) {
      g_clear_error (error);
      set_refused_error (error, call->refused, call->url);
      return NULL;
    }
    if (stream != NULL)
      next = http_call_next_target (call, msg, target, redirects, &local_error);
    if (local_error != NULL) {
      g_input_stream_close (stream, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
    if (next == NULL) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    g_input_stream_close (stream, NULL, NULL);
    cross_origin = cross_origin || !is_same_origin (target, next);
    shown = g_uri_to_string_partial (next, G_URI_HIDE_PASSWORD);
    g_debug ("%s %s: HTTP %u, to %s", call->request->method, call->url,
             soup_message_get_status (msg), shown);
    g_uri_unref (target);
    target = g_steal_pointer (&next);
  }
}

DflyHttpBody *
dfly_http_client_send (DflyHttpClient *self, const DflyHttpRequest *request,
                       GCancellable *cancellable, GError **error)
{
  g_auto (HttpCall) call = { 0 };
  guint delay;

  g_return_val_if_fail (DFLY_IS_HTTP_CLIENT (self), NULL);
  g_return_val_if_fail (request->method != NULL && request->uri != NULL, NULL);

  if (!http_call_init (&call, self, request, error))
    return NULL;
  delay = call.retry_backoff_ms;
  for (guint attempt = 0;; attempt++) {
    g_autoptr (SoupMessage) msg = NULL;
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GError) local_error = NULL;
    g_autofree char *reason = NULL;
    gboolean         last = attempt >= call.retries;

    if (g_cancellable_is_cancelled (cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call.url);
      return NULL;
    }
    stream = http_call_send_once (&call, &msg, cancellable, &local_error);
    if (stream == NULL && local_error->domain == DFLY_ERROR) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
    if (stream != NULL && (last || !dfly_http_status_is_retryable (soup_message_get_status (msg))))
      return dfly_http_body_new (stream, msg, call.hs->session, call.url,
                                 call.hs->settings.read_timeout);
    if (stream == NULL && (last || !dfly_http_error_is_retryable (local_error))) {
      guint timeout =
        call.phase == PHASE_CONNECTING ? call.connect_timeout : call.hs->settings.read_timeout;

      g_propagate_error (
        error,
        transport_error_new (local_error, call.url, call.phase, timeout,
                             msg != NULL ? soup_message_get_tls_peer_certificate_errors (msg) : 0));
      return NULL;
    }

    if (stream != NULL) {
      guint status = soup_message_get_status (msg);

      reason = g_strdup_printf ("HTTP %u %s", status, soup_status_get_phrase (status));
      g_input_stream_close (stream, NULL, NULL);
    } else {
      reason = g_strdup (local_error->message);
    }
    g_debug ("%s %s: %s; attempt %u of %u in %u ms", request->method, call.url, reason, attempt + 2,
             call.retries + 1, delay);
    if (!backoff (delay, cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call.url);
      return NULL;
    }
    delay = MIN (delay * 2, MAX_BACKOFF_MS);
  }
}

static void
dfly_http_client_finalize (GObject *object)
{
  DflyHttpClient *self = DFLY_HTTP_CLIENT (object);

  g_clear_pointer (&self->session, http_session_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_http_client_parent_class)->finalize (object);
}

static void
dfly_http_client_class_init (DflyHttpClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_http_client_finalize;
}

static void
dfly_http_client_init (DflyHttpClient *self)
{
  g_mutex_init (&self->lock);
}

gboolean
dfly_http_client_check_destination (DflyHttpClient *self, const char *host, GInetAddress *address,
                                    GError **error)
{
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflySourcePolicy) policy = NULL;
  gboolean allowed_by_name = FALSE;

  g_return_val_if_fail (DFLY_IS_HTTP_CLIENT (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  config = dfly_context_dup_config (self->context);
  policy = dfly_source_policy_new ((const char *const *) config->source.allow,
                                   (const char *const *) config->source.deny, error);
  return policy != NULL && dfly_source_policy_check_host (policy, host, &allowed_by_name, error) &&
         (address == NULL ||
          dfly_source_policy_check_address (policy, address, allowed_by_name, error));
}

gboolean
dfly_http_host_matches (const char *const *origins, const char *host)
{
  g_return_val_if_fail (host != NULL, FALSE);

  return origins != NULL && origins[0] != NULL && dfly_source_rules_match (origins, host);
}

DflyHttpClient *
dfly_http_client_new (DflyContext *context)
{
  DflyHttpClient *self = g_object_new (DFLY_TYPE_HTTP_CLIENT, NULL);

  self->context = context;
  return self;
}
