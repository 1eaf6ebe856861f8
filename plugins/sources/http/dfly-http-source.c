/* dfly-http-source.c — the "http" source: HTTP and HTTPS origins
 *
 * Requests go through the daemon's DflyHttpClient (dfly-http-client.h):
 * one shared session, TLS trust, timeouts, retries, redirects that drop
 * credentials across origins, and bodies that count their bytes. What is
 * left here is what HTTP origins need of a source: a HEAD, or a GET of the
 * first byte where HEAD is refused, for stat; a checked range for
 * open_range; the content digest an origin may announce.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly/dfly-http-client.h"

G_DECLARE_FINAL_TYPE (DflyHttpSource, dfly_http_source, DFLY, HTTP_SOURCE, DflySource)

struct _DflyHttpSource {
  DflySource parent_instance;
};

G_DEFINE_FINAL_TYPE (DflyHttpSource, dfly_http_source, DFLY_TYPE_SOURCE)

static const char *const *
dfly_http_source_get_schemes (DflySource *source)
{
  static const char *const schemes[] = { "http", "https", NULL };

  return schemes;
}

/* ---- Reading response headers ---- */

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
      char              *item = g_strstrip (items[j]);
      g_autofree guchar *raw = NULL;
      gsize              raw_length = 0;
      gsize              length;

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

/* ---- Sending ---- */

/* Caller headers this source sets itself (beyond the client's framing ones). */
static const char *const reserved_headers[] = { NULL };

/* Sends method to url with the caller's headers (and a Range unless NULL);
 * the answer whatever its status. */
static DflyHttpBody *
send_request (DflyHttpSource *self, const char *method, GUri *uri, GHashTable *headers,
              const char *range, GCancellable *cancellable, GError **error)
{
  DflyContext    *context = dfly_component_get_context (DFLY_COMPONENT (self));
  DflyHttpRequest request = { .method = method, .uri = uri, .headers = headers, .range = range };

  return dfly_http_client_send (dfly_context_get_http_client (context), &request, cancellable,
                                error);
}

static GUri *
parse_url (const char *url, GHashTable *headers, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local_error);
  const char *scheme;

  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad URL: %s",
                 local_error->message);
    return NULL;
  }
  scheme = g_uri_get_scheme (uri);
  if ((g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0') {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "not an http or https URL with a host: %s", url);
    return NULL;
  }
  if (!dfly_http_check_headers (headers, reserved_headers, "the http source", error))
    return NULL;
  return g_steal_pointer (&uri);
}

/* "HTTP 404 Not Found: URL": every status is the origin's failure here. */
static gboolean
set_status_error (GError **error, DflyHttpBody *body)
{
  g_propagate_error (error, dfly_http_status_error_new (DFLY_ERROR_SOURCE,
                                                        dfly_http_body_get_message (body), NULL,
                                                        dfly_http_body_get_url (body)));
  return FALSE;
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
stat_new (DflyHttpBody *body, gint64 content_length, gboolean accepts_ranges)
{
  SoupMessage        *msg = dfly_http_body_get_message (body);
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  DflySourceStat     *stat = g_new0 (DflySourceStat, 1);

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
stat_by_get (DflyHttpSource *self, GUri *uri, GHashTable *headers, GCancellable *cancellable,
             GError **error)
{
  g_autoptr (DflyHttpBody) body = NULL;
  gint64      first, last, total;
  const char *content_range;

  body = send_request (self, "GET", uri, headers, "bytes=0-0", cancellable, error);
  if (body == NULL)
    return NULL;
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  content_range = soup_message_headers_get_one (
    soup_message_get_response_headers (dfly_http_body_get_message (body)), "Content-Range");

  switch (dfly_http_body_get_status (body)) {
  case SOUP_STATUS_OK:
    return stat_new (body, dfly_http_body_get_content_length (body), FALSE);
  case SOUP_STATUS_PARTIAL_CONTENT:
    if (!dfly_http_parse_content_range (content_range, &first, &last, &total) || first != 0 ||
        last != 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered bytes=0-0 with Content-Range \"%s\": %s",
                   content_range != NULL ? content_range : "", dfly_http_body_get_url (body));
      return NULL;
    }
    return stat_new (body, total, TRUE);
  case SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE:
    /* An empty file has no first byte: "bytes * /0". */
    if (dfly_http_parse_content_range (content_range, &first, &last, &total) && first < 0)
      return stat_new (body, total, TRUE);
    set_status_error (error, body);
    return NULL;
  default:
    set_status_error (error, body);
    return NULL;
  }
}

static DflySourceStat *
dfly_http_source_stat (DflySource *source, const char *url, GHashTable *headers,
                       GCancellable *cancellable, GError **error)
{
  DflyHttpSource *self = DFLY_HTTP_SOURCE (source);
  g_autoptr (GUri) uri = parse_url (url, headers, error);
  g_autoptr (DflyHttpBody) body = NULL;
  guint status;

  if (uri == NULL)
    return NULL;
  body = send_request (self, "HEAD", uri, headers, NULL, cancellable, error);
  if (body == NULL)
    return NULL;
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  status = dfly_http_body_get_status (body);
  if (status == SOUP_STATUS_OK)
    return stat_new (body, dfly_http_body_get_content_length (body),
                     response_accepts_byte_ranges (dfly_http_body_get_message (body)));
  if (is_head_refused (status)) {
    g_debug ("HEAD %s: HTTP %u; asking for its first byte instead", dfly_http_body_get_url (body),
             status);
    return stat_by_get (self, uri, headers, cancellable, error);
  }
  set_status_error (error, body);
  return NULL;
}

/* ---- open_range ---- */

static GInputStream *
dfly_http_source_open_range (DflySource *source, const char *url, GHashTable *headers,
                             guint64 offset, gint64 length, GCancellable *cancellable,
                             GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (DflyHttpBody) body = NULL;
  g_autofree char *range = NULL;
  guint            status;

  if (!dfly_http_format_range (offset, length, &range, error))
    return NULL;
  uri = parse_url (url, headers, error);
  if (uri == NULL)
    return NULL;
  if (length == 0)
    return g_memory_input_stream_new ();
  body = send_request (DFLY_HTTP_SOURCE (source), "GET", uri, headers, range, cancellable, error);
  if (body == NULL)
    return NULL;
  status = dfly_http_body_get_status (body);
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    return dfly_http_body_open_range (body, offset, length, error);
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  set_status_error (error, body);
  return NULL;
}

static void
dfly_http_source_class_init (DflyHttpSourceClass *klass)
{
  DflySourceClass *source_class = DFLY_SOURCE_CLASS (klass);

  source_class->get_schemes = dfly_http_source_get_schemes;
  source_class->stat = dfly_http_source_stat;
  source_class->open_range = dfly_http_source_open_range;
}

static void
dfly_http_source_init (DflyHttpSource *self)
{
}

DFLY_PLUGIN_DEFINE ("http", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                    "HTTP and HTTPS origins (libsoup): ranges, redirects, retries, TLS trust",
                    dfly_http_source_get_type)
