/* dfly-http-source.c — the "http" source: HTTP and HTTPS origins through libsoup
 *
 * Worker threads call stat and open_range at once, so everything here is
 * either immutable after construction or behind the instance's lock.
 * Since libsoup 3.2 the sync API may send from any thread, so the threads
 * share one SoupSession and its connection pool. A session is built (in
 * whichever thread needs it first) from the config keys it depends on —
 * the read timeout, the connection cap, the TLS trust — and replaced when a
 * reload changes one of them; requests in flight keep the old one alive.
 * Nothing but sending is ever called on a session once it is built.
 *
 * Timeouts: the session's I/O timeout is http.read_timeout; while a socket
 * connects its timeout is lowered to http.connect_timeout (the
 * "network-event" signal hands us the socket), and libsoup sets it back to
 * the I/O timeout once connected.
 *
 * Retries: opening a request (stat, open_range) is tried again after a 5xx
 * answer or a connection failure, http.retries times, after a backoff that
 * starts at http.retry_backoff_ms and doubles. A body that fails half way is
 * not retried here: the caller retries its piece.
 *
 * TLS: certificates are checked against the system CAs by glib-networking;
 * when that fails, "accept-certificate" checks the chain against
 * http.ca_file, and accepts any certificate of a host listed in
 * http.insecure_hosts. Nothing else turns verification off.
 *
 * Redirects are followed here, not by libsoup: at most MAX_REDIRECTS per
 * attempt, to http and https only, and a redirect to another origin drops
 * the caller's credentials (Authorization, Cookie) for the rest of the
 * chain — a registry's token must not reach the storage it redirects to.
 * (libsoup 3.2 as shipped in Debian 12 forwards them.)
 *
 * Bodies stream: open_range returns a stream over libsoup's, which counts
 * bytes and fails if the origin's body ends short.
 */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "dfly/dfly.h"

#define USER_AGENT "dfly/" PACKAGE_VERSION
/* No single backoff grows beyond this, however many retries. */
#define MAX_BACKOFF_MS 60000
/* Redirects followed per attempt (as many as curl's and Go's default). */
#define MAX_REDIRECTS 10

/* ---- HttpClient: a session and the config it was built from ---- */

typedef struct {
  gatomicrefcount  ref_count;
  SoupSession     *session;
  guint            read_timeout;
  guint            max_conns;
  char            *ca_file;
  char           **insecure_hosts;
  GTlsDatabase    *ca_database; /* http.ca_file loaded; NULL when unset or unreadable */
  GError          *ca_error;    /* why http.ca_file could not be loaded */
} HttpClient;

/* Every piece in flight of every task may be reading from one origin, and
 * each task may stat it once more: a sync request waiting for a free
 * connection would otherwise block until another one is done. */
static guint
client_max_conns (const DflyConfig *config)
{
  return (config->download.concurrency + 1) * config->download.max_tasks;
}

static HttpClient *
http_client_new (const DflyConfig *config)
{
  HttpClient *client = g_new0 (HttpClient, 1);

  g_atomic_ref_count_init (&client->ref_count);
  client->read_timeout = config->http.read_timeout;
  client->max_conns = client_max_conns (config);
  client->ca_file = g_strdup (config->http.ca_file);
  client->insecure_hosts = g_strdupv (config->http.insecure_hosts);
  client->session = soup_session_new_with_options (
    "user-agent", USER_AGENT, "timeout", client->read_timeout, "max-conns", client->max_conns,
    "max-conns-per-host", client->max_conns, NULL);
  /* Ranges count bytes of the representation as sent: never decode it. */
  soup_session_remove_feature_by_type (client->session, SOUP_TYPE_CONTENT_DECODER);
  if (client->ca_file[0] != '\0') {
    client->ca_database = g_tls_file_database_new (client->ca_file, &client->ca_error);
    if (client->ca_database == NULL)
      g_prefix_error (&client->ca_error, "http.ca_file %s: ", client->ca_file);
  }
  return client;
}

static HttpClient *
http_client_ref (HttpClient *client)
{
  g_atomic_ref_count_inc (&client->ref_count);
  return client;
}

static void
http_client_unref (HttpClient *client)
{
  if (!g_atomic_ref_count_dec (&client->ref_count))
    return;
  g_object_unref (client->session);
  g_free (client->ca_file);
  g_strfreev (client->insecure_hosts);
  g_clear_object (&client->ca_database);
  g_clear_error (&client->ca_error);
  g_free (client);
}

static gboolean
http_client_matches (const HttpClient *client, const DflyConfig *config)
{
  return client->read_timeout == config->http.read_timeout &&
         client->max_conns == client_max_conns (config) &&
         g_strcmp0 (client->ca_file, config->http.ca_file) == 0 &&
         g_strv_equal ((const char * const *) client->insecure_hosts,
                       (const char * const *) config->http.insecure_hosts);
}

static gboolean
http_client_is_insecure_host (const HttpClient *client, const char *host)
{
  for (guint i = 0; client->insecure_hosts[i] != NULL; i++)
    if (g_ascii_strcasecmp (client->insecure_hosts[i], host) == 0)
      return TRUE;
  return FALSE;
}

/* ---- DflyHttpSource ---- */

G_DECLARE_FINAL_TYPE (DflyHttpSource, dfly_http_source, DFLY, HTTP_SOURCE, DflySource)

struct _DflyHttpSource {
  DflySource  parent_instance;
  GMutex      lock;
  HttpClient *client; /* under lock; NULL until the first request */
};

G_DEFINE_FINAL_TYPE (DflyHttpSource, dfly_http_source, DFLY_TYPE_SOURCE)

/* The client for config, built or rebuilt when config asks for another. */
static HttpClient *
dfly_http_source_get_client (DflyHttpSource *self, const DflyConfig *config)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->client == NULL || !http_client_matches (self->client, config)) {
    g_clear_pointer (&self->client, http_client_unref);
    self->client = http_client_new (config);
  }
  return http_client_ref (self->client);
}

/* ---- Checking what the caller passed ---- */

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

/* A field value: no control characters but tab (so no CR, LF or NUL). */
static gboolean
is_field_value (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return FALSE;
  return TRUE;
}

/* Caller headers not sent on past a redirect to another origin. */
static const char * const credential_headers[] = { "Authorization", "Cookie", NULL };

static gboolean
is_one_of (const char *name, const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Headers this source sets or that would change how bytes are framed. */
static const char * const reserved_headers[] = {
  "Accept-Encoding", "Connection", "Content-Length", "Expect", "Host", "Range",
  "TE", "Trailer", "Transfer-Encoding", "Upgrade", NULL,
};

static gboolean
check_headers (GHashTable *headers, GError **error)
{
  GHashTableIter iter;
  gpointer name, value;

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
    if (value == NULL || !is_field_value (value)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header %s: value holds control characters (CR, LF, NUL…)", shown);
      return FALSE;
    }
    if (is_one_of (name, reserved_headers)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header %s is set by the http source, not by callers", shown);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- Reading response headers ---- */

/* Content-Length when the body is framed by one, else -1. */
static gint64
response_content_length (SoupMessage *msg)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);

  return dfly_http_content_length (soup_message_headers_get_one (headers, "Content-Length"),
                                   soup_message_headers_get_one (headers, "Transfer-Encoding"));
}

/* "sha256:HEX" from Repr-Digest (RFC 9530, sha-256=:BASE64:) or Digest
 * (RFC 3230, SHA-256=BASE64); NULL when the origin names no SHA-256. */
static char *
response_digest (SoupMessage *msg)
{
  static const struct {
    const char *header;
    gboolean    colons; /* the value is a byte sequence, :BASE64: */
  } fields[] = {
    { "Repr-Digest", TRUE },
    { "Digest", FALSE },
  };
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++) {
    const char *value = soup_message_headers_get_list (headers, fields[i].header);
    g_auto (GStrv) items = NULL;

    if (value == NULL)
      continue;
    items = g_strsplit (value, ",", -1);
    for (guint j = 0; items[j] != NULL; j++) {
      char *item = g_strstrip (items[j]);
      g_autofree guchar *raw = NULL;
      gsize raw_length = 0;
      gsize length;

      if (g_ascii_strncasecmp (item, "sha-256=", 8) != 0)
        continue;
      item += 8;
      length = strlen (item);
      if (fields[i].colons) {
        if (length < 2 || item[0] != ':' || item[length - 1] != ':')
          continue;
        item[length - 1] = '\0';
        item++;
        length -= 2;
      }
      /* 32 bytes are 44 base64 characters; g_base64_decode checks nothing. */
      if (length != 44 || strspn (item, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789+/=") != length)
        continue;
      raw = g_base64_decode (item, &raw_length);
      if (raw_length == 32) {
        GString *digest = g_string_new ("sha256:");

        for (gsize k = 0; k < raw_length; k++)
          g_string_append_printf (digest, "%02x", raw[k]);
        return g_string_free (digest, FALSE);
      }
    }
  }
  return NULL;
}

static gboolean
response_accepts_byte_ranges (SoupMessage *msg)
{
  return soup_message_headers_header_contains (soup_message_get_response_headers (msg),
                                               "Accept-Ranges", "bytes");
}

/* ---- Errors ---- */

/* "HTTP 404 Not Found: URL" */
static void
set_status_error (GError **error, SoupMessage *msg, const char *url)
{
  guint status = soup_message_get_status (msg);

  g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "HTTP %u %s: %s", status,
               soup_status_get_phrase (status), url);
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

/* Turns the GError of a request or of a body read into a DFLY_ERROR. */
static void
set_transport_error (GError **error, const GError *cause, const char *url, RequestPhase phase,
                     guint timeout, GTlsCertificateFlags tls_flags)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", url);
  } else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    if (phase == PHASE_CONNECTING)
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "connecting to %s timed out after %u s",
                   url, timeout);
    else
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "%s sent nothing for %u s", url,
                   timeout);
  } else if (cause->domain == G_TLS_ERROR && tls_flags != 0) {
    g_autofree char *flags = describe_tls_flags (tls_flags);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "TLS certificate not trusted (%s): %s",
                 flags, url);
  } else {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s: %s", url, cause->message);
  }
}

/* Worth another attempt: the origin or the path to it may come back. */
static gboolean
is_retryable_error (const GError *error)
{
  static const GIOErrorEnum codes[] = {
    G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CONNECTION_REFUSED, G_IO_ERROR_CONNECTION_CLOSED,
    G_IO_ERROR_BROKEN_PIPE, G_IO_ERROR_HOST_UNREACHABLE, G_IO_ERROR_NETWORK_UNREACHABLE,
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

/* 501 says the method is not implemented: asking again will not help. */
static gboolean
is_retryable_status (guint status)
{
  return SOUP_STATUS_IS_SERVER_ERROR (status) && status != SOUP_STATUS_NOT_IMPLEMENTED;
}

/* Sleeps ms, or less if cancellable is cancelled (then FALSE). */
static gboolean
backoff (guint ms, GCancellable *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  GPollFD pollfd;
  gint64 left;

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

/* ---- A body stream that counts ---- */

#define DFLY_TYPE_HTTP_BODY_STREAM (dfly_http_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (DflyHttpBodyStream, dfly_http_body_stream, DFLY, HTTP_BODY_STREAM,
                      GInputStream)

struct _DflyHttpBodyStream {
  GInputStream  parent_instance;
  GInputStream *base;     /* libsoup's */
  SoupMessage  *msg;
  HttpClient   *client;   /* keeps the session alive while the body streams */
  char         *url;
  gint64        expected; /* bytes owed to the reader; -1: until the origin's end */
  gint64        received;
};

G_DEFINE_FINAL_TYPE (DflyHttpBodyStream, dfly_http_body_stream, G_TYPE_INPUT_STREAM)

static gssize
dfly_http_body_stream_read (GInputStream *stream, void *buffer, gsize count,
                            GCancellable *cancellable, GError **error)
{
  DflyHttpBodyStream *self = DFLY_HTTP_BODY_STREAM (stream);
  g_autoptr (GError) local_error = NULL;
  gssize n;

  if (self->expected >= 0) {
    if (self->received >= self->expected)
      return 0;
    count = MIN (count, (guint64) (self->expected - self->received));
  }
  n = g_input_stream_read (self->base, buffer, count, cancellable, &local_error);
  if (n < 0 && (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))) {
    set_transport_error (error, local_error, self->url, PHASE_EXCHANGING,
                         self->client->read_timeout, 0);
    return -1;
  }
  if (n < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "reading the body of %s: %s", self->url,
                 local_error->message);
    return -1;
  }
  if (n == 0 && self->expected >= 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "body ended after %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " bytes: %s",
                 self->received, self->expected, self->url);
    return -1;
  }
  self->received += n;
  return n;
}

static gboolean
dfly_http_body_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_input_stream_close (DFLY_HTTP_BODY_STREAM (stream)->base, cancellable, error);
}

static void
dfly_http_body_stream_finalize (GObject *object)
{
  DflyHttpBodyStream *self = DFLY_HTTP_BODY_STREAM (object);

  g_object_unref (self->base);
  g_object_unref (self->msg);
  http_client_unref (self->client);
  g_free (self->url);
  G_OBJECT_CLASS (dfly_http_body_stream_parent_class)->finalize (object);
}

static void
dfly_http_body_stream_class_init (DflyHttpBodyStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_http_body_stream_finalize;
  /* skip stays GInputStream's: it reads through read_fn, so it counts. */
  stream_class->read_fn = dfly_http_body_stream_read;
  stream_class->close_fn = dfly_http_body_stream_close;
}

static void
dfly_http_body_stream_init (DflyHttpBodyStream *self)
{
}

/* ---- One call of stat or open_range ---- */

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
  HttpClient   *client;
  DflyConfig   *config;
  GUri         *uri;
  char         *url;    /* for messages: as asked for, password hidden */
  GHashTable   *headers; /* the caller's, borrowed */
  RequestPhase  phase;  /* of the attempt in flight */
} HttpCall;

static void
http_call_clear (HttpCall *call)
{
  g_clear_pointer (&call->client, http_client_unref);
  g_clear_pointer (&call->config, dfly_config_unref);
  g_clear_pointer (&call->uri, g_uri_unref);
  g_clear_pointer (&call->url, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HttpCall, http_call_clear)

static gboolean
http_call_init (HttpCall *call, DflyHttpSource *self, const char *url, GHashTable *headers,
                GError **error)
{
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (self));
  g_autoptr (GError) local_error = NULL;

  call->uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local_error);
  if (call->uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad URL: %s",
                 local_error->message);
    return FALSE;
  }
  if (!is_http_uri (call->uri)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "not an http or https URL with a host: %s", url);
    return FALSE;
  }
  call->url = g_uri_to_string_partial (call->uri, G_URI_HIDE_PASSWORD);
  if (!check_headers (headers, error))
    return FALSE;
  call->headers = headers;
  call->config = dfly_context_dup_config (context);
  call->client = dfly_http_source_get_client (self, call->config);
  if (call->client->ca_error != NULL &&
      g_ascii_strcasecmp (g_uri_get_scheme (call->uri), "https") == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s",
                 call->client->ca_error->message);
    return FALSE;
  }
  return TRUE;
}

static void
on_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection,
                  gpointer data)
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
                            call->config->http.connect_timeout);
    break;
  case G_SOCKET_CLIENT_CONNECTED:
    call->phase = PHASE_EXCHANGING;
    break;
  default:
    break;
  }
}

/* Emitted when the system CAs refuse the origin's certificate. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  HttpCall *call = data;
  GUri *uri = soup_message_get_uri (msg); /* the redirect target, if any */
  const char *host = g_uri_get_host (uri);
  g_autoptr (GSocketConnectable) identity = NULL;
  GTlsCertificateFlags flags;

  if (http_client_is_insecure_host (call->client, host)) {
    g_debug ("accepting the certificate of %s (in http.insecure_hosts)", host);
    return TRUE;
  }
  if (call->client->ca_database == NULL)
    return FALSE;
  identity = g_network_address_new (host, (guint16) MAX (g_uri_get_port (uri), 0));
  flags = g_tls_database_verify_chain (call->client->ca_database, certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity,
                                       NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  return flags == 0;
}

/* A message to target; the caller's credentials only if it is still on the
 * origin asked for. */
static SoupMessage *
http_call_new_message (HttpCall *call, const char *method, GUri *target, gboolean cross_origin,
                       const char *range)
{
  SoupMessage *msg = soup_message_new_from_uri (method, target);
  SoupMessageHeaders *request_headers = soup_message_get_request_headers (msg);

  if (call->headers != NULL) {
    GHashTableIter iter;
    gpointer name, value;

    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &name, &value))
      if (!cross_origin || !is_one_of (name, credential_headers))
        soup_message_headers_replace (request_headers, name, value);
  }
  soup_message_headers_replace (request_headers, "Accept-Encoding", "identity");
  if (range != NULL)
    soup_message_headers_replace (request_headers, "Range", range);
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), call);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), call);
  return msg;
}

/* One attempt: sends to the URL and follows its redirects. Returns the last
 * answer's body stream and message; NULL with libsoup's error if the
 * exchange failed (*msg_out still set, for its TLS errors), or with a
 * DFLY_ERROR if a redirect went wrong. */
static GInputStream *
http_call_send_once (HttpCall *call, const char *method, const char *range,
                     SoupMessage **msg_out, GCancellable *cancellable, GError **error)
{
  g_autoptr (GUri) target = g_uri_ref (call->uri);
  gboolean cross_origin = FALSE;

  for (guint redirects = 0;; redirects++) {
    g_autoptr (SoupMessage) msg = http_call_new_message (call, method, target, cross_origin, range);
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GUri) next = NULL;
    g_autofree char *shown = NULL;
    const char *location;

    /* A new connection reports its progress; a reused one says nothing. */
    call->phase = PHASE_EXCHANGING;
    stream = soup_session_send (call->client->session, msg, cancellable, error);
    g_signal_handlers_disconnect_by_data (msg, call);
    location = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
    if (stream == NULL || !is_redirect (soup_message_get_status (msg)) || location == NULL) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    g_input_stream_close (stream, NULL, NULL);
    if (redirects == MAX_REDIRECTS) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "more than %u redirects: %s",
                   MAX_REDIRECTS, call->url);
      return NULL;
    }
    next = g_uri_parse_relative (target, location, SOUP_HTTP_URI_FLAGS, NULL);
    if (next == NULL || !is_http_uri (next)) {
      shown = g_strescape (location, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "redirected to \"%s\", not an http or https URL: %s", shown, call->url);
      return NULL;
    }
    cross_origin = cross_origin || !is_same_origin (target, next);
    shown = g_uri_to_string_partial (next, G_URI_HIDE_PASSWORD);
    g_debug ("%s %s: HTTP %u, to %s", method, call->url, soup_message_get_status (msg), shown);
    g_uri_unref (target);
    target = g_steal_pointer (&next);
  }
}

/* Sends method (with a Range header unless range is NULL) and returns the
 * body stream and, in *msg_out, the message, whatever the status — except
 * that 5xx answers and connection failures are retried as configured. */
static GInputStream *
http_call_send (HttpCall *call, const char *method, const char *range, SoupMessage **msg_out,
                GCancellable *cancellable, GError **error)
{
  guint delay = call->config->http.retry_backoff_ms;

  for (guint attempt = 0;; attempt++) {
    g_autoptr (SoupMessage) msg = NULL;
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GError) local_error = NULL;
    g_autofree char *reason = NULL;
    gboolean last = attempt >= call->config->http.retries;

    if (g_cancellable_is_cancelled (cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call->url);
      return NULL;
    }
    stream = http_call_send_once (call, method, range, &msg, cancellable, &local_error);
    if (stream == NULL && local_error->domain == DFLY_ERROR) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

    if (stream != NULL && (last || !is_retryable_status (soup_message_get_status (msg)))) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    if (stream == NULL && (last || !is_retryable_error (local_error))) {
      guint timeout = call->phase == PHASE_CONNECTING ? call->config->http.connect_timeout
                                                      : call->client->read_timeout;

      set_transport_error (error, local_error, call->url, call->phase, timeout,
                           soup_message_get_tls_peer_certificate_errors (msg));
      return NULL;
    }

    if (stream != NULL) {
      guint status = soup_message_get_status (msg);

      reason = g_strdup_printf ("HTTP %u %s", status, soup_status_get_phrase (status));
      g_input_stream_close (stream, NULL, NULL);
    } else {
      reason = g_strdup (local_error->message);
    }
    g_debug ("%s %s: %s; attempt %u of %u in %u ms", method, call->url, reason, attempt + 2,
             call->config->http.retries + 1, delay);
    if (!backoff (delay, cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call->url);
      return NULL;
    }
    delay = MIN (delay * 2, MAX_BACKOFF_MS);
  }
}

static GInputStream *
body_stream_new (HttpCall *call, GInputStream *base, SoupMessage *msg, gint64 expected)
{
  DflyHttpBodyStream *stream = g_object_new (DFLY_TYPE_HTTP_BODY_STREAM, NULL);

  stream->base = g_object_ref (base);
  stream->msg = g_object_ref (msg);
  stream->client = http_client_ref (call->client);
  stream->url = g_strdup (call->url);
  stream->expected = expected;
  return G_INPUT_STREAM (stream);
}

/* ---- stat ---- */

/* HEAD answers that a GET may not share: not implemented, not allowed,
 * or forbidden (a presigned URL signs the method, and was signed for GET). */
static gboolean
is_head_refused (guint status)
{
  return status == SOUP_STATUS_FORBIDDEN || status == SOUP_STATUS_METHOD_NOT_ALLOWED ||
         status == SOUP_STATUS_NOT_IMPLEMENTED;
}

static DflySourceStat *
stat_new (SoupMessage *msg, gint64 content_length, gboolean accepts_ranges)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  DflySourceStat *stat = g_new0 (DflySourceStat, 1);

  stat->content_length = content_length;
  stat->accepts_ranges = accepts_ranges;
  stat->etag = g_strdup (soup_message_headers_get_one (headers, "ETag"));
  stat->last_modified = g_strdup (soup_message_headers_get_one (headers, "Last-Modified"));
  stat->digest = response_digest (msg);
  return stat;
}

/* The origin refused HEAD: a GET of the first byte tells the length (206
 * and its Content-Range), or that there are no ranges (200). The body is
 * not read. */
static DflySourceStat *
stat_by_get (HttpCall *call, GCancellable *cancellable, GError **error)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  gint64 first, last, total;
  const char *content_range;
  guint status;

  stream = http_call_send (call, "GET", "bytes=0-0", &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  g_input_stream_close (stream, NULL, NULL);
  status = soup_message_get_status (msg);
  content_range =
    soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Range");

  switch (status) {
  case SOUP_STATUS_OK:
    return stat_new (msg, response_content_length (msg), FALSE);
  case SOUP_STATUS_PARTIAL_CONTENT:
    if (!dfly_http_parse_content_range (content_range, &first, &last, &total) || first != 0 ||
        last != 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered bytes=0-0 with Content-Range \"%s\": %s",
                   content_range != NULL ? content_range : "", call->url);
      return NULL;
    }
    return stat_new (msg, total, TRUE);
  case SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE:
    /* An empty file has no first byte: "bytes * /0". */
    if (dfly_http_parse_content_range (content_range, &first, &last, &total) && first < 0)
      return stat_new (msg, total, TRUE);
    set_status_error (error, msg, call->url);
    return NULL;
  default:
    set_status_error (error, msg, call->url);
    return NULL;
  }
}

static DflySourceStat *
dfly_http_source_stat (DflySource *source, const char *url, GHashTable *headers,
                       GCancellable *cancellable, GError **error)
{
  g_auto (HttpCall) call = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  guint status;

  if (!http_call_init (&call, DFLY_HTTP_SOURCE (source), url, headers, error))
    return NULL;
  stream = http_call_send (&call, "HEAD", NULL, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  g_input_stream_close (stream, NULL, NULL);
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_OK)
    return stat_new (msg, response_content_length (msg), response_accepts_byte_ranges (msg));
  if (is_head_refused (status)) {
    g_debug ("HEAD %s: HTTP %u; asking for its first byte instead", call.url, status);
    return stat_by_get (&call, cancellable, error);
  }
  set_status_error (error, msg, call.url);
  return NULL;
}

/* ---- open_range ---- */

static GInputStream *
dfly_http_source_open_range (DflySource *source, const char *url, GHashTable *headers,
                             guint64 offset, gint64 length, GCancellable *cancellable,
                             GError **error)
{
  g_auto (HttpCall) call = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autofree char *range = NULL;
  gint64 first, last, total, content_length;
  const char *content_range;

  if (length < -1 || offset > G_MAXINT64 ||
      (length > 0 && offset > (guint64) (G_MAXINT64 - length))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad range: %" G_GINT64_FORMAT " bytes from byte %" G_GUINT64_FORMAT, length,
                 offset);
    return NULL;
  }
  if (!http_call_init (&call, DFLY_HTTP_SOURCE (source), url, headers, error))
    return NULL;
  if (length == 0)
    return g_memory_input_stream_new ();

  if (length > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, offset,
                             offset + (guint64) length - 1);
  else if (offset > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);
  stream = http_call_send (&call, "GET", range, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  content_length = response_content_length (msg);

  switch (soup_message_get_status (msg)) {
  case SOUP_STATUS_PARTIAL_CONTENT:
    content_range =
      soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Range");
    if (range == NULL || !dfly_http_parse_content_range (content_range, &first, &last, &total) ||
        first != (gint64) offset || (length > 0 && last != first + length - 1) ||
        (length < 0 && total >= 0 && last != total - 1) ||
        (content_length >= 0 && content_length != last - first + 1)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered %s with Content-Range \"%s\": %s", range != NULL ? range : "no range",
                   content_range != NULL ? content_range : "", call.url);
      g_input_stream_close (stream, NULL, NULL);
      return NULL;
    }
    return body_stream_new (&call, stream, msg, last - first + 1);
  case SOUP_STATUS_OK:
    /* The whole representation: usable from its start only. */
    if (offset > 0) {
      g_input_stream_close (stream, NULL, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                   "the origin serves no ranges (asked from byte %" G_GUINT64_FORMAT "): %s",
                   offset, call.url);
      return NULL;
    }
    if (length > 0 && content_length >= 0 && content_length < length) {
      g_input_stream_close (stream, NULL, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "asked for %" G_GINT64_FORMAT " bytes of %" G_GINT64_FORMAT ": %s", length,
                   content_length, call.url);
      return NULL;
    }
    return body_stream_new (&call, stream, msg, length > 0 ? length : content_length);
  default:
    g_input_stream_close (stream, NULL, NULL);
    set_status_error (error, msg, call.url);
    return NULL;
  }
}

static const char * const *
dfly_http_source_get_schemes (DflySource *source)
{
  static const char * const schemes[] = { "http", "https", NULL };

  return schemes;
}

static void
dfly_http_source_finalize (GObject *object)
{
  DflyHttpSource *self = DFLY_HTTP_SOURCE (object);

  g_clear_pointer (&self->client, http_client_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_http_source_parent_class)->finalize (object);
}

static void
dfly_http_source_class_init (DflyHttpSourceClass *klass)
{
  DflySourceClass *source_class = DFLY_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_http_source_finalize;
  source_class->get_schemes = dfly_http_source_get_schemes;
  source_class->stat = dfly_http_source_stat;
  source_class->open_range = dfly_http_source_open_range;
}

static void
dfly_http_source_init (DflyHttpSource *self)
{
  g_mutex_init (&self->lock);
}

DFLY_PLUGIN_DEFINE ("http", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                    "HTTP and HTTPS origins (libsoup): ranges, redirects, retries, TLS trust",
                    dfly_http_source_get_type)
