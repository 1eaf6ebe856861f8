/* dfly-http-body.h — an HTTP answer's body as a stream that counts its bytes
 *
 * DflyHttpClient returns one per answer. It keeps the message (status,
 * headers) and the session it came on alive while it streams, stops after
 * the bytes it owes (the Content-Length, or the range asked for) and fails
 * with DFLY_ERROR_SOURCE when the origin's body ends before them. Read
 * errors are DFLY_ERRORs naming the URL (TIMEOUT, CANCELLED, SOURCE).
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define DFLY_TYPE_HTTP_BODY (dfly_http_body_get_type ())
G_DECLARE_FINAL_TYPE (DflyHttpBody, dfly_http_body, DFLY, HTTP_BODY, GInputStream)

/* A body over libsoup's base for msg, sent on session; owes Content-Length
 * bytes when the body is framed by one. read_timeout is named in errors. */
DflyHttpBody *dfly_http_body_new (GInputStream *base, SoupMessage *msg, SoupSession *session,
                                  const char *url, guint read_timeout);

SoupMessage *dfly_http_body_get_message (DflyHttpBody *self);
guint        dfly_http_body_get_status (DflyHttpBody *self);
const char  *dfly_http_body_get_url (DflyHttpBody *self);
/* Content-Length when the body is framed by one, else -1. */
gint64 dfly_http_body_get_content_length (DflyHttpBody *self);
/* Bytes read so far. */
gint64 dfly_http_body_get_received (DflyHttpBody *self);
/* Bytes owed: reads end after them, and fail if the body ends before;
 * -1: until the origin's end. */
void dfly_http_body_set_length (DflyHttpBody *self, gint64 length);

/* Checks a 206 or 200 answer to dfly_http_format_range (offset, length)
 * and returns self (a new reference) owing exactly the bytes asked for. A
 * 200 is usable from byte 0 only (else DFLY_ERROR_NOT_SUPPORTED); a
 * mismatched Content-Range, a shorter body or another status is
 * DFLY_ERROR_SOURCE, and self is closed. */
GInputStream *dfly_http_body_open_range (DflyHttpBody *self, guint64 offset, gint64 length,
                                         GError **error);

/* The whole body, at most max bytes; longer is DFLY_ERROR_SOURCE ("longer
 * than max bytes") and what is left stays unread. */
GBytes *dfly_http_body_read_all (DflyHttpBody *self, gsize max, GCancellable *cancellable,
                                 GError **error);

G_END_DECLS
