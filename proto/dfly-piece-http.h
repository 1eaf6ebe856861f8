/* dfly-piece-http.h — piece bytes over HTTP/1.1, the heads of both ends
 *
 * Piece bytes travel as plain HTTP/1.1: GET /v1/tasks/<task id> with one
 * Range, request after request on a kept-alive connection (proto/README.md).
 * Both ends speak it on plain blocking sockets rather than through libsoup's
 * message machinery (the parent sends with sendfile, the child reuses its
 * connections across threads), so they read the heads themselves; these are
 * their parsers. libsoup's own header parsers do the HTTP; these add what a
 * piece request and a piece response must be.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* RFC 6585's statuses, which libsoup 3.2 has no names for. 429 is a seed's
 * "this piece just went to another peer, fetch it there". */
#define STATUS_TOO_MANY_REQUESTS       429
#define STATUS_HEADER_FIELDS_TOO_LARGE 431

#define DFLY_PIECE_REQUEST_PREFIX "GET /v1/tasks/"
/* A longer head is refused (431, or as a broken answer) and its connection
 * closed. */
#define DFLY_PIECE_HEAD_MAX 8192

typedef struct {
  char               *task_id; /* as sent: checked only for a task id's shape */
  SoupMessageHeaders *headers;
  gboolean            keep_alive; /* another request may follow on the connection */
} DflyPieceRequest;

/* The length of the head (request or response) at the start of buffer,
 * through its blank line; 0 while the blank line has not arrived. */
gsize dfly_piece_head_length (const char *buffer, gsize length);

/* One request head, through its blank line. On a request that is not a
 * piece request, NULL, with the status to answer in *status (400, 404, 405,
 * 505) and the reason in error. Never reads past length. */
DflyPieceRequest *dfly_piece_request_parse (const char *head, gsize length, guint *status,
                                            GError **error);

/* The one byte range asked for within content_length bytes, inclusive;
 * FALSE for none, several, or one outside the content (416). */
gboolean dfly_piece_request_get_range (const DflyPieceRequest *request, goffset content_length,
                                       goffset *start, goffset *end);

void dfly_piece_request_free (DflyPieceRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceRequest, dfly_piece_request_free)

typedef struct {
  guint    status;
  gint64   content_length; /* -1: none given */
  goffset  start, end;     /* a 206's Content-Range, inclusive; -1 otherwise */
  gboolean keep_alive;     /* the connection may carry the next request */
} DflyPieceResponse;

/* One response head, through its blank line. FALSE with
 * DFLY_ERROR_PROTOCOL when it is no HTTP/1.x response, or a body this
 * protocol never sends (chunked, or a 206 without one Content-Range and a
 * Content-Length that agree). */
gboolean dfly_piece_response_parse (const char *head, gsize length, DflyPieceResponse *response,
                                    GError **error);

G_END_DECLS
