/* dfly-piece-request.h — a request for piece bytes, as a parent reads it
 *
 * Piece bytes travel as plain HTTP/1.1: GET /v1/tasks/<task id> with one
 * Range, request after request on a kept-alive connection (proto/README.md).
 * A parent serves them outside SoupServer (with sendfile), so it reads the
 * request heads itself; this is their parser. libsoup's own header parser
 * does the HTTP; this adds what a piece request must be.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* RFC 6585's statuses, which libsoup 3.2 has no names for. 429 is a seed's
 * "this piece just went to another peer, fetch it there". */
#define STATUS_TOO_MANY_REQUESTS        429
#define STATUS_HEADER_FIELDS_TOO_LARGE  431

#define DFLY_PIECE_REQUEST_PREFIX   "GET /v1/tasks/"
/* A longer head is refused (431) and its connection closed. */
#define DFLY_PIECE_REQUEST_HEAD_MAX 8192

typedef struct {
  char               *task_id;    /* as sent: checked only for a task id's shape */
  SoupMessageHeaders *headers;
  gboolean            keep_alive; /* another request may follow on the connection */
} DflyPieceRequest;

/* The length of the head at the start of buffer, through its blank line;
 * 0 while the blank line has not arrived. */
gsize             dfly_piece_request_head_length (const char *buffer, gsize length);

/* One request head, through its blank line. On a request that is not a
 * piece request, NULL, with the status to answer in *status (400, 404, 405,
 * 505) and the reason in error. Never reads past length. */
DflyPieceRequest *dfly_piece_request_parse (const char *head, gsize length, guint *status,
                                            GError **error);

/* The one byte range asked for within content_length bytes, inclusive;
 * FALSE for none, several, or one outside the content (416). */
gboolean          dfly_piece_request_get_range (const DflyPieceRequest *request,
                                                goffset content_length, goffset *start,
                                                goffset *end);

void              dfly_piece_request_free (DflyPieceRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceRequest, dfly_piece_request_free)

G_END_DECLS
