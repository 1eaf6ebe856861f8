/* dfly-s3-source.c — the "s3" source: s3://bucket/key through libsoup, signed with SigV4
 *
 * A URL names a bucket (its host) and a key (its path, percent-decoded):
 * s3://bucket/dir/a%20b is the key "dir/a b". Query parameters named
 * X-Amz-* (a presigned URL's) are dropped, since every request is signed
 * here; others (versionId) are passed on and signed.
 *
 * Where requests go: s3.endpoint, else AWS_ENDPOINT_URL, else
 * https://s3.REGION.amazonaws.com. Buckets are virtual hosts
 * (bucket.endpoint) unless s3.path_style is 1, the endpoint is an IP
 * address or localhost, or the bucket is no DNS name: then endpoint/bucket.
 *
 * Credentials, first found wins: the request's X-Dfly-S3-Access-Key-Id,
 * X-Dfly-S3-Secret-Access-Key (and X-Dfly-S3-Session-Token) headers, which
 * are never sent on; s3.access_key_id and s3.secret_access_key; the
 * environment's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
 * Without any, requests go unsigned (public buckets).
 *
 * Like the http source (whose ideas, not code, this shares: plugins share
 * nothing): one SoupSession per config, rebuilt when http.read_timeout,
 * the connection cap or the TLS trust change; http.connect_timeout while a
 * socket connects; http.retries with doubling backoff after 5xx and
 * connection errors; bodies that count their bytes. S3 does not redirect
 * a correct request, so redirects are errors (PermanentRedirect: another
 * region).
 *
 * Errors name S3's code from the XML error body: "S3 NoSuchKey (HTTP 404):
 * s3://b/k". A HEAD answer has no body, so a failed HEAD is asked again as
 * a GET of the first byte, whose error body says which.
 */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "dfly/dfly.h"

#include "dfly-s3-signer.h"
#include "dfly-s3-xml.h"

#define USER_AGENT "dfly/" PACKAGE_VERSION
#define MAX_BACKOFF_MS 60000
/* An error body longer than this is cut (its code comes first anyway). */
#define MAX_ERROR_BODY (64 * 1024)
/* A ListObjectsV2 page longer than this is refused: 1000 keys of 1 KiB
 * with their metadata stay well below. */
#define MAX_LIST_PAGE_BYTES (16 * 1024 * 1024)
/* Objects one list() returns at most; a larger prefix is refused. */
#define MAX_LIST_OBJECTS 100000
/* SHA-256 of nothing: every request here has an empty body. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CREDENTIAL_HEADER_PREFIX "X-Dfly-S3-"

/* ---- S3Client: a session and the config it was built from ---- */

typedef struct {
  gatomicrefcount  ref_count;
  SoupSession     *session;
  guint            read_timeout;
  guint            max_conns;
  char            *ca_file;
  char           **insecure_hosts;
  GTlsDatabase    *ca_database;
  GError          *ca_error;
} S3Client;

static guint
client_max_conns (const DflyConfig *config)
{
  return (config->download.concurrency + 1) * config->download.max_tasks;
}

static S3Client *
s3_client_new (const DflyConfig *config)
{
  S3Client *client = g_new0 (S3Client, 1);

  g_atomic_ref_count_init (&client->ref_count);
  client->read_timeout = config->http.read_timeout;
  client->max_conns = client_max_conns (config);
  client->ca_file = g_strdup (config->http.ca_file);
  client->insecure_hosts = g_strdupv (config->http.insecure_hosts);
  client->session = soup_session_new_with_options (
    "user-agent", USER_AGENT, "timeout", client->read_timeout, "max-conns", client->max_conns,
    "max-conns-per-host", client->max_conns, NULL);
  soup_session_remove_feature_by_type (client->session, SOUP_TYPE_CONTENT_DECODER);
  if (client->ca_file[0] != '\0') {
    client->ca_database = g_tls_file_database_new (client->ca_file, &client->ca_error);
    if (client->ca_database == NULL)
      g_prefix_error (&client->ca_error, "http.ca_file %s: ", client->ca_file);
  }
  return client;
}

static S3Client *
s3_client_ref (S3Client *client)
{
  g_atomic_ref_count_inc (&client->ref_count);
  return client;
}

static void
s3_client_unref (S3Client *client)
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
s3_client_matches (const S3Client *client, const DflyConfig *config)
{
  return client->read_timeout == config->http.read_timeout &&
         client->max_conns == client_max_conns (config) &&
         g_strcmp0 (client->ca_file, config->http.ca_file) == 0 &&
         g_strv_equal ((const char * const *) client->insecure_hosts,
                       (const char * const *) config->http.insecure_hosts);
}

/* ---- DflyS3Source ---- */

G_DECLARE_FINAL_TYPE (DflyS3Source, dfly_s3_source, DFLY, S3_SOURCE, DflySource)

struct _DflyS3Source {
  DflySource  parent_instance;
  GMutex      lock;
  S3Client   *client; /* under lock; NULL until the first request */
};

G_DEFINE_FINAL_TYPE (DflyS3Source, dfly_s3_source, DFLY_TYPE_SOURCE)

static S3Client *
dfly_s3_source_get_client (DflyS3Source *self, const DflyConfig *config)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->client == NULL || !s3_client_matches (self->client, config)) {
    g_clear_pointer (&self->client, s3_client_unref);
    self->client = s3_client_new (config);
  }
  return s3_client_ref (self->client);
}

/* ---- Checking what the caller passed ---- */

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

static gboolean
is_field_value (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static const char * const reserved_headers[] = {
  "Accept-Encoding", "Authorization", "Connection", "Content-Length", "Expect", "Host", "Range",
  "TE", "Trailer", "Transfer-Encoding", "Upgrade", "X-Amz-Date", "X-Amz-Content-Sha256",
  "X-Amz-Security-Token", NULL,
};

static gboolean
is_one_of (const char *name, const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_credential_header (const char *name)
{
  return g_ascii_strncasecmp (name, CREDENTIAL_HEADER_PREFIX,
                              strlen (CREDENTIAL_HEADER_PREFIX)) == 0;
}

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
                   "header %s is set by the s3 source, not by callers", shown);
      return FALSE;
    }
  }
  return TRUE;
}

static const char *
lookup_header (GHashTable *headers, const char *wanted)
{
  GHashTableIter iter;
  gpointer name, value;

  if (headers == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, wanted) == 0)
      return value;
  return NULL;
}

/* A bucket name as S3 allows (and a little more: upper case and '_' of
 * old us-east-1 buckets, which then take path style). */
static gboolean
is_bucket_name (const char *name)
{
  gsize length = strlen (name);

  return length >= 1 && length <= 255 &&
         strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
           length;
}

/* Usable as a DNS label under the endpoint's host (and, over https, under
 * its wildcard certificate: no dots). */
static gboolean
is_virtual_host_bucket (const char *name, gboolean https)
{
  gsize length = strlen (name);

  return length >= 3 && length <= 63 &&
         strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-.") == length && name[0] != '-' &&
         name[length - 1] != '-' && !(https && strchr (name, '.') != NULL);
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

/* ---- Errors ---- */

typedef enum {
  PHASE_CONNECTING,
  PHASE_EXCHANGING,
} RequestPhase;

static void
set_transport_error (GError **error, const GError *cause, const char *url, RequestPhase phase,
                     guint timeout)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", url);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && phase == PHASE_CONNECTING)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "connecting for %s timed out after %u s",
                 url, timeout);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "S3 sent nothing for %u s: %s", timeout,
                 url);
  else
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s: %s", url, cause->message);
}

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

static gboolean
is_retryable_status (guint status)
{
  return SOUP_STATUS_IS_SERVER_ERROR (status) && status != SOUP_STATUS_NOT_IMPLEMENTED;
}

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

/* Up to max bytes of a body; what does not fit is left unread. */
static GBytes *
read_capped (GInputStream *stream, gsize max, GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;) {
    gssize n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (bytes->len + (gsize) n > max) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "the answer is longer than %" G_GSIZE_FORMAT " bytes", max);
      return NULL;
    }
    g_byte_array_append (bytes, buffer, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/* "S3 NoSuchKey (HTTP 404): s3://b/k" from an error answer (its body read
 * from stream, if any), with the DFLY_ERROR code the S3 code maps to. */
static void
set_s3_error (GError **error, SoupMessage *msg, GInputStream *stream, const char *url)
{
  guint status = soup_message_get_status (msg);
  g_autofree char *code = NULL;

  if (stream != NULL) {
    g_autoptr (GBytes) body = read_capped (stream, MAX_ERROR_BODY, NULL, NULL);

    if (body != NULL)
      code = dfly_s3_parse_error_code (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    g_input_stream_close (stream, NULL, NULL);
  }
  if (code != NULL) {
    g_autofree char *shown = g_strescape (code, NULL);

    g_set_error (error, DFLY_ERROR, dfly_s3_error_code_to_dfly (code, status),
                 "S3 %s (HTTP %u): %s", shown, status, url);
  } else {
    g_set_error (error, DFLY_ERROR, dfly_s3_error_code_to_dfly (NULL, status),
                 "S3 HTTP %u %s: %s", status, soup_status_get_phrase (status), url);
  }
}

/* ---- A body stream that counts ---- */

#define DFLY_TYPE_S3_BODY_STREAM (dfly_s3_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (DflyS3BodyStream, dfly_s3_body_stream, DFLY, S3_BODY_STREAM, GInputStream)

struct _DflyS3BodyStream {
  GInputStream  parent_instance;
  GInputStream *base;
  SoupMessage  *msg;
  S3Client     *client;
  char         *url;
  gint64        expected; /* -1: until the end */
  gint64        received;
};

G_DEFINE_FINAL_TYPE (DflyS3BodyStream, dfly_s3_body_stream, G_TYPE_INPUT_STREAM)

static gssize
dfly_s3_body_stream_read (GInputStream *stream, void *buffer, gsize count,
                          GCancellable *cancellable, GError **error)
{
  DflyS3BodyStream *self = DFLY_S3_BODY_STREAM (stream);
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
                         self->client->read_timeout);
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
dfly_s3_body_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_input_stream_close (DFLY_S3_BODY_STREAM (stream)->base, cancellable, error);
}

static void
dfly_s3_body_stream_finalize (GObject *object)
{
  DflyS3BodyStream *self = DFLY_S3_BODY_STREAM (object);

  g_object_unref (self->base);
  g_object_unref (self->msg);
  s3_client_unref (self->client);
  g_free (self->url);
  G_OBJECT_CLASS (dfly_s3_body_stream_parent_class)->finalize (object);
}

static void
dfly_s3_body_stream_class_init (DflyS3BodyStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_s3_body_stream_finalize;
  stream_class->read_fn = dfly_s3_body_stream_read;
  stream_class->close_fn = dfly_s3_body_stream_close;
}

static void
dfly_s3_body_stream_init (DflyS3BodyStream *self)
{
}

/* ---- One call: the URL taken apart, where to send, how to sign ---- */

typedef struct {
  S3Client   *client;
  DflyConfig *config;
  char       *url;         /* as asked for, for messages */
  char       *bucket;
  char       *key;         /* decoded; "" for the bucket itself */
  GPtrArray  *url_query;   /* decoded name, value pairs passed on (not X-Amz-*) */
  GHashTable *headers;     /* the caller's, borrowed */
  char       *scheme;      /* of the endpoint */
  char       *host;        /* as sent in Host: the bucket's virtual host or the endpoint's */
  int         port;
  gboolean    path_style;
  char       *region;
  char       *access_key_id;
  char       *secret_access_key;
  char       *session_token;
  RequestPhase phase;
} S3Call;

static void
s3_call_clear (S3Call *call)
{
  g_clear_pointer (&call->client, s3_client_unref);
  g_clear_pointer (&call->config, dfly_config_unref);
  g_clear_pointer (&call->url, g_free);
  g_clear_pointer (&call->bucket, g_free);
  g_clear_pointer (&call->key, g_free);
  g_clear_pointer (&call->url_query, g_ptr_array_unref);
  g_clear_pointer (&call->scheme, g_free);
  g_clear_pointer (&call->host, g_free);
  g_clear_pointer (&call->region, g_free);
  g_clear_pointer (&call->access_key_id, g_free);
  g_clear_pointer (&call->secret_access_key, g_free);
  g_clear_pointer (&call->session_token, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (S3Call, s3_call_clear)

static const char *
first_set (const char *a, const char *b)
{
  return a != NULL && a[0] != '\0' ? a : b;
}

static gboolean
s3_call_parse_url (S3Call *call, const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *query;
  const char *path;

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &local_error);
  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad URL: %s",
                 local_error->message);
    return FALSE;
  }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "s3") != 0 || g_uri_get_host (uri) == NULL ||
      !is_bucket_name (g_uri_get_host (uri)) || g_uri_get_port (uri) != -1 ||
      g_uri_get_userinfo (uri) != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "not an s3://BUCKET/KEY URL with a valid bucket name: %s", url);
    return FALSE;
  }
  call->url = g_strdup (url);
  call->bucket = g_strdup (g_uri_get_host (uri));
  path = g_uri_get_path (uri);
  call->key = g_uri_unescape_string (path[0] == '/' ? path + 1 : path, NULL);
  if (call->key == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the key is not validly percent-encoded: %s", url);
    return FALSE;
  }
  call->url_query = g_ptr_array_new_with_free_func (g_free);
  query = g_uri_get_query (uri);
  if (query != NULL) {
    g_auto (GStrv) params = g_strsplit (query, "&", -1);

    for (guint i = 0; params[i] != NULL; i++) {
      char *equals = strchr (params[i], '=');
      char *name, *value;

      if (params[i][0] == '\0')
        continue;
      if (equals != NULL)
        *equals = '\0';
      name = g_uri_unescape_string (params[i], NULL);
      value = g_uri_unescape_string (equals != NULL ? equals + 1 : "", NULL);
      if (name == NULL || value == NULL) {
        g_free (name);
        g_free (value);
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                     "bad query parameter in %s", url);
        return FALSE;
      }
      /* A presigned URL's signature: we sign ourselves. */
      if (g_ascii_strncasecmp (name, "X-Amz-", 6) == 0) {
        g_free (name);
        g_free (value);
        continue;
      }
      g_ptr_array_add (call->url_query, name);
      g_ptr_array_add (call->url_query, value);
    }
  }
  g_ptr_array_add (call->url_query, NULL);
  return TRUE;
}

/* Credentials and region: the request's headers, the config, the
 * environment, in that order. */
static gboolean
s3_call_resolve_credentials (S3Call *call, GError **error)
{
  const char *id = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Access-Key-Id");
  const char *secret = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Secret-Access-Key");
  const char *token = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Session-Token");

  if ((id == NULL) != (secret == NULL)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "headers " CREDENTIAL_HEADER_PREFIX "Access-Key-Id and "
                 CREDENTIAL_HEADER_PREFIX "Secret-Access-Key go together: %s", call->url);
    return FALSE;
  }
  if (id == NULL && call->config->s3.access_key_id[0] != '\0') {
    id = call->config->s3.access_key_id;
    secret = call->config->s3.secret_access_key;
    token = NULL;
  } else if (id == NULL && g_getenv ("AWS_ACCESS_KEY_ID") != NULL &&
             g_getenv ("AWS_SECRET_ACCESS_KEY") != NULL) {
    id = g_getenv ("AWS_ACCESS_KEY_ID");
    secret = g_getenv ("AWS_SECRET_ACCESS_KEY");
    token = g_getenv ("AWS_SESSION_TOKEN");
  }
  call->access_key_id = g_strdup (id);
  call->secret_access_key = g_strdup (secret);
  call->session_token = g_strdup (token != NULL && token[0] != '\0' ? token : NULL);
  call->region = g_strdup (
    first_set (call->config->s3.region,
               first_set (g_getenv ("AWS_REGION"),
                          first_set (g_getenv ("AWS_DEFAULT_REGION"), "us-east-1"))));
  return TRUE;
}

static gboolean
is_ip_or_localhost (const char *host)
{
  return g_hostname_is_ip_address (host) || g_ascii_strcasecmp (host, "localhost") == 0;
}

static gboolean
s3_call_resolve_endpoint (S3Call *call, GError **error)
{
  const char *endpoint = first_set (call->config->s3.endpoint, g_getenv ("AWS_ENDPOINT_URL"));
  g_autofree char *aws = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *host;
  gboolean https;

  if (endpoint == NULL || endpoint[0] == '\0')
    endpoint = aws = g_strdup_printf ("https://s3.%s.amazonaws.com", call->region);
  uri = g_uri_parse (endpoint, SOUP_HTTP_URI_FLAGS, &local_error);
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0 &&
       g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "the S3 endpoint \"%s\" is not an http or https URL", endpoint);
    return FALSE;
  }
  host = g_uri_get_host (uri);
  https = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0;
  call->scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  call->port = g_uri_get_port (uri);
  call->path_style = call->config->s3.path_style != 0 || is_ip_or_localhost (host) ||
                     !is_virtual_host_bucket (call->bucket, https);
  call->host = call->path_style ? g_strdup (host) : g_strdup_printf ("%s.%s", call->bucket, host);
  return TRUE;
}

static gboolean
s3_call_init (S3Call *call, DflyS3Source *self, const char *url, GHashTable *headers,
              GError **error)
{
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (self));

  if (!s3_call_parse_url (call, url, error) || !check_headers (headers, error))
    return FALSE;
  call->headers = headers;
  call->config = dfly_context_dup_config (context);
  if (!s3_call_resolve_credentials (call, error) || !s3_call_resolve_endpoint (call, error))
    return FALSE;
  call->client = dfly_s3_source_get_client (self, call->config);
  if (call->client->ca_error != NULL && strcmp (call->scheme, "https") == 0) {
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
  S3Call *call = data;

  switch (event) {
  case G_SOCKET_CLIENT_RESOLVING:
    call->phase = PHASE_CONNECTING;
    break;
  case G_SOCKET_CLIENT_CONNECTING:
    call->phase = PHASE_CONNECTING;
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

static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  S3Call *call = data;
  g_autoptr (GSocketConnectable) identity = NULL;

  if (is_one_of (call->host, (const char * const *) call->client->insecure_hosts))
    return TRUE;
  if (call->client->ca_database == NULL)
    return FALSE;
  identity = g_network_address_new (call->host, (guint16) MAX (call->port, 0));
  return g_tls_database_verify_chain (call->client->ca_database, certificate,
                                      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
                                      G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) == 0;
}

/* The Host header libsoup sends for the URI: the port only when it is not
 * the scheme's. */
static char *
host_header (const S3Call *call)
{
  gboolean default_port = call->port == -1 ||
                          (strcmp (call->scheme, "http") == 0 && call->port == 80) ||
                          (strcmp (call->scheme, "https") == 0 && call->port == 443);
  g_autofree char *host =
    strchr (call->host, ':') != NULL ? g_strdup_printf ("[%s]", call->host) : g_strdup (call->host);

  return default_port ? g_steal_pointer (&host) : g_strdup_printf ("%s:%d", host, call->port);
}

/* A signed message for method on the call's object (key NULL: the bucket,
 * with query: NULL-terminated name, value pairs). */
static SoupMessage *
s3_call_new_message (S3Call *call, const char *method, const char *key, const char * const *query,
                     const char *range, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *encoded_path = NULL;
  g_autofree char *query_string = dfly_s3_canonical_query (query);
  g_autofree char *host = host_header (call);
  g_autofree char *target = NULL;
  g_autoptr (GPtrArray) signed_headers = g_ptr_array_new ();
  g_autoptr (SoupMessage) msg = NULL;
  SoupMessageHeaders *request_headers;

  if (call->path_style)
    path = key != NULL ? g_strdup_printf ("/%s/%s", call->bucket, key)
                       : g_strdup_printf ("/%s", call->bucket);
  else
    path = g_strdup_printf ("/%s", key != NULL ? key : "");
  encoded_path = dfly_s3_uri_encode (path, FALSE);
  target = g_strdup_printf ("%s://%s%s%s%s", call->scheme, host, encoded_path,
                            query_string[0] != '\0' ? "?" : "", query_string);
  msg = soup_message_new (method, target);
  if (msg == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "cannot make a request for %s",
                 call->url);
    return NULL;
  }
  request_headers = soup_message_get_request_headers (msg);

  g_ptr_array_add (signed_headers, (gpointer) "host");
  g_ptr_array_add (signed_headers, host);
  g_ptr_array_add (signed_headers, (gpointer) "x-amz-content-sha256");
  g_ptr_array_add (signed_headers, (gpointer) EMPTY_SHA256);
  soup_message_headers_replace (request_headers, "x-amz-content-sha256", EMPTY_SHA256);
  if (range != NULL) {
    g_ptr_array_add (signed_headers, (gpointer) "range");
    g_ptr_array_add (signed_headers, (gpointer) range);
    soup_message_headers_replace (request_headers, "Range", range);
  }
  if (call->headers != NULL) {
    GHashTableIter iter;
    gpointer name, value;

    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &name, &value)) {
      if (is_credential_header (name))
        continue;
      g_ptr_array_add (signed_headers, name);
      g_ptr_array_add (signed_headers, value);
      soup_message_headers_replace (request_headers, name, value);
    }
  }
  g_ptr_array_add (signed_headers, NULL);
  soup_message_headers_replace (request_headers, "Accept-Encoding", "identity");

  if (call->access_key_id != NULL) {
    DflyS3Credentials credentials = { call->access_key_id, call->secret_access_key,
                                      call->session_token };
    DflyS3SignInput input = { method, path, query, (const char * const *) signed_headers->pdata,
                              EMPTY_SHA256, g_get_real_time () / G_USEC_PER_SEC, call->region,
                              "s3" };
    g_autoptr (DflyS3Signature) signature = dfly_s3_sign (&input, &credentials);

    soup_message_headers_replace (request_headers, "Authorization", signature->authorization);
    soup_message_headers_replace (request_headers, "x-amz-date", signature->amz_date);
    if (call->session_token != NULL)
      soup_message_headers_replace (request_headers, "x-amz-security-token", call->session_token);
  }
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), call);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), call);
  return g_steal_pointer (&msg);
}

/* Sends (signed anew per attempt) and returns the body stream and, in
 * *msg_out, the message, whatever the status, but for 5xx answers and
 * connection failures, which are retried as http.retries says. */
static GInputStream *
s3_call_send (S3Call *call, const char *method, const char *key, const char * const *query,
              const char *range, SoupMessage **msg_out, GCancellable *cancellable, GError **error)
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
    msg = s3_call_new_message (call, method, key, query, range, error);
    if (msg == NULL)
      return NULL;
    call->phase = PHASE_EXCHANGING;
    stream = soup_session_send (call->client->session, msg, cancellable, &local_error);
    g_signal_handlers_disconnect_by_data (msg, call);
    if (stream != NULL && (last || !is_retryable_status (soup_message_get_status (msg)))) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    if (stream == NULL && (last || !is_retryable_error (local_error))) {
      guint timeout = call->phase == PHASE_CONNECTING ? call->config->http.connect_timeout
                                                      : call->client->read_timeout;

      set_transport_error (error, local_error, call->url, call->phase, timeout);
      return NULL;
    }
    if (stream != NULL) {
      reason = g_strdup_printf ("HTTP %u", soup_message_get_status (msg));
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

/* The URL's own query parameters, NULL-terminated. */
static const char * const *
object_query (S3Call *call)
{
  return (const char * const *) call->url_query->pdata;
}

static gboolean
s3_call_check_object (S3Call *call, GError **error)
{
  if (call->key[0] == '\0' || g_str_has_suffix (call->key, "/")) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "names no object (a bucket or a prefix; dflyctl get --recursive fetches "
                 "those): %s", call->url);
    return FALSE;
  }
  return TRUE;
}

/* ---- stat ---- */

static DflySourceStat *
stat_new (SoupMessage *msg, gint64 content_length)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  DflySourceStat *stat = g_new0 (DflySourceStat, 1);

  stat->content_length = content_length;
  stat->accepts_ranges = TRUE;
  stat->etag = g_strdup (soup_message_headers_get_one (headers, "ETag"));
  stat->last_modified = g_strdup (soup_message_headers_get_one (headers, "Last-Modified"));
  return stat;
}

/* HEAD failed: a GET of the first byte says why in its body (or succeeds,
 * when only HEAD was refused). */
static DflySourceStat *
stat_by_get (S3Call *call, GCancellable *cancellable, GError **error)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  gint64 first, last, total;
  const char *content_range;

  stream = s3_call_send (call, "GET", call->key, object_query (call), "bytes=0-0", &msg,
                         cancellable, error);
  if (stream == NULL)
    return NULL;
  content_range =
    soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Range");
  switch (soup_message_get_status (msg)) {
  case SOUP_STATUS_PARTIAL_CONTENT:
    g_input_stream_close (stream, NULL, NULL);
    /* Only the total counts here: some servers (s3rver) send more than
     * the byte asked for, and the body is not read. */
    if (!dfly_http_parse_content_range (content_range, &first, &last, &total) || first != 0 ||
        total < 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered bytes=0-0 with Content-Range \"%s\": %s",
                   content_range != NULL ? content_range : "", call->url);
      return NULL;
    }
    return stat_new (msg, total);
  case SOUP_STATUS_OK:
    g_input_stream_close (stream, NULL, NULL);
    return stat_new (msg, response_content_length (msg));
  default:
    set_s3_error (error, msg, stream, call->url);
    return NULL;
  }
}

static DflySourceStat *
dfly_s3_source_stat (DflySource *source, const char *url, GHashTable *headers,
                     GCancellable *cancellable, GError **error)
{
  g_auto (S3Call) call = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;

  if (!s3_call_init (&call, DFLY_S3_SOURCE (source), url, headers, error) ||
      !s3_call_check_object (&call, error))
    return NULL;
  stream = s3_call_send (&call, "HEAD", call.key, object_query (&call), NULL, &msg, cancellable,
                         error);
  if (stream == NULL)
    return NULL;
  g_input_stream_close (stream, NULL, NULL);
  if (soup_message_get_status (msg) == SOUP_STATUS_OK)
    return stat_new (msg, response_content_length (msg));
  g_debug ("HEAD %s: HTTP %u; asking for its first byte to learn why", call.url,
           soup_message_get_status (msg));
  return stat_by_get (&call, cancellable, error);
}

/* ---- open_range ---- */

static GInputStream *
body_stream_new (S3Call *call, GInputStream *base, SoupMessage *msg, gint64 expected)
{
  DflyS3BodyStream *stream = g_object_new (DFLY_TYPE_S3_BODY_STREAM, NULL);

  stream->base = g_object_ref (base);
  stream->msg = g_object_ref (msg);
  stream->client = s3_client_ref (call->client);
  stream->url = g_strdup (call->url);
  stream->expected = expected;
  return G_INPUT_STREAM (stream);
}

static GInputStream *
dfly_s3_source_open_range (DflySource *source, const char *url, GHashTable *headers,
                           guint64 offset, gint64 length, GCancellable *cancellable,
                           GError **error)
{
  g_auto (S3Call) call = { 0 };
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
  if (!s3_call_init (&call, DFLY_S3_SOURCE (source), url, headers, error) ||
      !s3_call_check_object (&call, error))
    return NULL;
  if (length == 0)
    return g_memory_input_stream_new ();
  if (length > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, offset,
                             offset + (guint64) length - 1);
  else if (offset > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);
  stream = s3_call_send (&call, "GET", call.key, object_query (&call), range, &msg, cancellable,
                         error);
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
    if (offset > 0) {
      g_input_stream_close (stream, NULL, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                   "S3 served the whole object when asked from byte %" G_GUINT64_FORMAT ": %s",
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
    set_s3_error (error, msg, stream, call.url);
    return NULL;
  }
}

/* ---- list ---- */

/* One ListObjectsV2 page of prefix, after token (NULL: the first). */
static DflyS3ListPage *
list_page (S3Call *call, const char *prefix, const char *token, GCancellable *cancellable,
           GError **error)
{
  const char *query[] = { "list-type", "2", "prefix", prefix,
                          token != NULL ? "continuation-token" : NULL, token, NULL };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) local_error = NULL;
  DflyS3ListPage *page;

  stream = s3_call_send (call, "GET", NULL, query, NULL, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    set_s3_error (error, msg, stream, call->url);
    return NULL;
  }
  body = read_capped (stream, MAX_LIST_PAGE_BYTES, cancellable, &local_error);
  g_input_stream_close (stream, NULL, NULL);
  if (body == NULL) {
    g_set_error (error, DFLY_ERROR, local_error->domain == DFLY_ERROR ? local_error->code
                                                                      : DFLY_ERROR_SOURCE,
                 "listing %s: %s", call->url, local_error->message);
    return NULL;
  }
  page = dfly_s3_parse_list_page (g_bytes_get_data (body, NULL), g_bytes_get_size (body), error);
  if (page == NULL)
    g_prefix_error (error, "listing %s: ", call->url);
  return page;
}

static GPtrArray *
dfly_s3_source_list (DflySource *source, const char *url, GHashTable *headers,
                     GHashTable *options, GCancellable *cancellable, GError **error)
{
  g_auto (S3Call) call = { 0 };
  g_autoptr (GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_source_entry_free);
  g_autofree char *prefix = NULL;
  g_autofree char *token = NULL;

  if (!s3_call_init (&call, DFLY_S3_SOURCE (source), url, headers, error))
    return NULL;
  /* s3://b/dir and s3://b/dir/ both name the keys under "dir/". */
  prefix = call.key[0] == '\0' || g_str_has_suffix (call.key, "/")
             ? g_strdup (call.key)
             : g_strconcat (call.key, "/", NULL);

  do {
    g_autoptr (DflyS3ListPage) page = list_page (&call, prefix, token, cancellable, error);

    if (page == NULL)
      return NULL;
    for (guint i = 0; i < page->objects->len; i++) {
      const DflyS3Object *object = g_ptr_array_index (page->objects, i);
      const char *path;
      g_autofree char *encoded = NULL;
      g_autofree char *entry_url = NULL;

      if (!g_str_has_prefix (object->key, prefix)) {
        g_autofree char *shown = g_strescape (object->key, NULL);

        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                     "listed key \"%s\" is not under the prefix: %s", shown, call.url);
        return NULL;
      }
      path = object->key + strlen (prefix);
      /* "dir/" markers of consoles hold no bytes of their own. */
      if (path[0] == '\0' || (g_str_has_suffix (path, "/") && object->size == 0))
        continue;
      if (!dfly_source_entry_path_is_safe (path)) {
        g_autofree char *shown = g_strescape (object->key, NULL);

        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                     "refusing key \"%s\": not a safe relative path: %s", shown, call.url);
        return NULL;
      }
      if (entries->len >= MAX_LIST_OBJECTS) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "more than %u objects under %s",
                     MAX_LIST_OBJECTS, call.url);
        return NULL;
      }
      encoded = dfly_s3_uri_encode (object->key, FALSE);
      entry_url = g_strdup_printf ("s3://%s/%s", call.bucket, encoded);
      g_ptr_array_add (entries, dfly_source_entry_new (entry_url, path, object->size));
    }
    if (page->is_truncated && g_strcmp0 (token, page->continuation_token) == 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "listing %s: the same continuation token twice", call.url);
      return NULL;
    }
    g_free (token);
    token = page->is_truncated ? g_strdup (page->continuation_token) : NULL;
  } while (token != NULL);
  return g_steal_pointer (&entries);
}

static const char * const *
dfly_s3_source_get_schemes (DflySource *source)
{
  static const char * const schemes[] = { "s3", NULL };

  return schemes;
}

static void
dfly_s3_source_finalize (GObject *object)
{
  DflyS3Source *self = DFLY_S3_SOURCE (object);

  g_clear_pointer (&self->client, s3_client_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_s3_source_parent_class)->finalize (object);
}

static void
dfly_s3_source_class_init (DflyS3SourceClass *klass)
{
  DflySourceClass *source_class = DFLY_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_s3_source_finalize;
  source_class->get_schemes = dfly_s3_source_get_schemes;
  source_class->stat = dfly_s3_source_stat;
  source_class->open_range = dfly_s3_source_open_range;
  source_class->list = dfly_s3_source_list;
}

static void
dfly_s3_source_init (DflyS3Source *self)
{
  g_mutex_init (&self->lock);
}

DFLY_PLUGIN_DEFINE ("s3", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                    "S3 and S3-compatible object stores: SigV4, ranges, listings, retries",
                    dfly_s3_source_get_type)
