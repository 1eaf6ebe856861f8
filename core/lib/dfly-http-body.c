/* dfly-http-body.c — DflyHttpBody, an HTTP answer's body that counts its bytes */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly/dfly-http-body.h"
#include "dfly/dfly-http-client.h"
#include "dfly/dfly-http-range.h"

struct _DflyHttpBody {
  GInputStream  parent_instance;
  GInputStream *base; /* libsoup's */
  SoupMessage  *msg;
  SoupSession  *session; /* kept alive while the body streams */
  char         *url;
  guint         read_timeout;
  gint64        expected; /* bytes owed to the reader; -1: until the origin's end */
  gint64        received;
};

G_DEFINE_FINAL_TYPE (DflyHttpBody, dfly_http_body, G_TYPE_INPUT_STREAM)

static gssize
dfly_http_body_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                     GError **error)
{
  DflyHttpBody *self = DFLY_HTTP_BODY (stream);
  g_autoptr (GError) local_error = NULL;
  gssize n;

  if (self->expected >= 0) {
    if (self->received >= self->expected)
      return 0;
    count = MIN (count, (guint64) (self->expected - self->received));
  }
  n = g_input_stream_read (self->base, buffer, count, cancellable, &local_error);
  if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", self->url);
    return -1;
  }
  if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "%s sent nothing for %u s", self->url,
                 self->read_timeout);
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
dfly_http_body_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_input_stream_close (DFLY_HTTP_BODY (stream)->base, cancellable, error);
}

static void
dfly_http_body_finalize (GObject *object)
{
  DflyHttpBody *self = DFLY_HTTP_BODY (object);

  g_object_unref (self->base);
  g_object_unref (self->msg);
  g_object_unref (self->session);
  g_free (self->url);
  G_OBJECT_CLASS (dfly_http_body_parent_class)->finalize (object);
}

static void
dfly_http_body_class_init (DflyHttpBodyClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_http_body_finalize;
  /* skip stays GInputStream's: it reads through read_fn, so it counts. */
  stream_class->read_fn = dfly_http_body_read;
  stream_class->close_fn = dfly_http_body_close;
}

static void
dfly_http_body_init (DflyHttpBody *self)
{
}

DflyHttpBody *
dfly_http_body_new (GInputStream *base, SoupMessage *msg, SoupSession *session, const char *url,
                    guint read_timeout)
{
  DflyHttpBody *self = g_object_new (DFLY_TYPE_HTTP_BODY, NULL);

  self->base = g_object_ref (base);
  self->msg = g_object_ref (msg);
  self->session = g_object_ref (session);
  self->url = g_strdup (url);
  self->read_timeout = read_timeout;
  self->expected = dfly_http_body_get_content_length (self);
  return self;
}

SoupMessage *
dfly_http_body_get_message (DflyHttpBody *self)
{
  return self->msg;
}

guint
dfly_http_body_get_status (DflyHttpBody *self)
{
  return soup_message_get_status (self->msg);
}

const char *
dfly_http_body_get_url (DflyHttpBody *self)
{
  return self->url;
}

gint64
dfly_http_body_get_content_length (DflyHttpBody *self)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (self->msg);

  return dfly_http_content_length (soup_message_headers_get_one (headers, "Content-Length"),
                                   soup_message_headers_get_one (headers, "Transfer-Encoding"));
}

gint64
dfly_http_body_get_received (DflyHttpBody *self)
{
  return self->received;
}

void
dfly_http_body_set_length (DflyHttpBody *self, gint64 length)
{
  self->expected = length;
}

/* Checks the answer to a range and owes the bytes asked for. */
static gboolean
accept_range (DflyHttpBody *self, guint64 offset, gint64 length, GError **error)
{
  gint64           content_length = dfly_http_body_get_content_length (self);
  g_autofree char *range = NULL;
  gint64           first, last, total;
  const char      *content_range;

  if (!dfly_http_format_range (offset, length, &range, error))
    return FALSE;
  switch (dfly_http_body_get_status (self)) {
  case SOUP_STATUS_PARTIAL_CONTENT:
    content_range =
      soup_message_headers_get_one (soup_message_get_response_headers (self->msg), "Content-Range");
    if (range == NULL || !dfly_http_parse_content_range (content_range, &first, &last, &total) ||
        first != (gint64) offset || (length > 0 && last != first + length - 1) ||
        (length < 0 && total >= 0 && last != total - 1) ||
        (content_length >= 0 && content_length != last - first + 1)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered %s with Content-Range \"%s\": %s", range != NULL ? range : "no range",
                   content_range != NULL ? content_range : "", self->url);
      return FALSE;
    }
    self->expected = last - first + 1;
    return TRUE;
  case SOUP_STATUS_OK:
    /* The whole representation: usable from its start only. */
    if (offset > 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                   "the origin serves no ranges (asked from byte %" G_GUINT64_FORMAT "): %s",
                   offset, self->url);
      return FALSE;
    }
    if (length > 0 && content_length >= 0 && content_length < length) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "asked for %" G_GINT64_FORMAT " bytes of %" G_GINT64_FORMAT ": %s", length,
                   content_length, self->url);
      return FALSE;
    }
    self->expected = length > 0 ? length : content_length;
    return TRUE;
  default:
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "HTTP %u is no answer to a range: %s",
                 dfly_http_body_get_status (self), self->url);
    return FALSE;
  }
}

GInputStream *
dfly_http_body_open_range (DflyHttpBody *self, guint64 offset, gint64 length, GError **error)
{
  if (!accept_range (self, offset, length, error)) {
    g_input_stream_close (G_INPUT_STREAM (self), NULL, NULL);
    return NULL;
  }
  return g_object_ref (G_INPUT_STREAM (self));
}

GBytes *
dfly_http_body_read_all (DflyHttpBody *self, gsize max, GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;) {
    gssize n =
      g_input_stream_read (G_INPUT_STREAM (self), buffer, sizeof buffer, cancellable, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (bytes->len + (gsize) n > max) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "the answer is longer than %" G_GSIZE_FORMAT " bytes: %s", max, self->url);
      return NULL;
    }
    g_byte_array_append (bytes, buffer, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}
