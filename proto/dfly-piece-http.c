/* dfly-piece-http.c — a request for piece bytes (see the header) */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>

#include "dfly-piece-http.h"

#define TASKS_PATH "/v1/tasks/"

gsize
dfly_piece_head_length (const char *buffer, gsize length)
{
  /* RFC 9112 lets a bare LF end a line; libsoup's parser takes both. */
  for (gsize i = 0; i < length; i++) {
    if (buffer[i] != '\n')
      continue;
    if (i + 1 < length && buffer[i + 1] == '\n')
      return i + 2;
    if (i + 2 < length && buffer[i + 1] == '\r' && buffer[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

/* HTTP/1.1 keeps a connection unless told to close it; 1.0 only when
 * told to keep it. */
static gboolean
keeps_alive (SoupMessageHeaders *headers, SoupHTTPVersion version)
{
  if (version == SOUP_HTTP_1_0)
    return soup_message_headers_header_contains (headers, "Connection", "keep-alive");
  return !soup_message_headers_header_contains (headers, "Connection", "close");
}

static DflyPieceRequest *
refuse (guint *status, guint code, GError **error, const char *why)
{
  *status = code;
  g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, why);
  return NULL;
}

DflyPieceRequest *
dfly_piece_request_parse (const char *head, gsize length, guint *status, GError **error)
{
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char  *method = NULL;
  g_autofree char  *path = NULL;
  SoupHTTPVersion   version = SOUP_HTTP_1_0;
  DflyPieceRequest *request;
  const char       *id;
  gsize             id_length;
  guint             parsed;

  if (length > DFLY_PIECE_HEAD_MAX)
    return refuse (status, STATUS_HEADER_FIELDS_TOO_LARGE, error, "request head too large");
  parsed = soup_headers_parse_request (head, (int) length, headers, &method, &path, &version);
  if (parsed != SOUP_STATUS_OK)
    return refuse (status, parsed, error, "malformed request head");
  if (strcmp (method, SOUP_METHOD_GET) != 0)
    return refuse (status, SOUP_STATUS_METHOD_NOT_ALLOWED, error, "GET only");
  if (!g_str_has_prefix (path, TASKS_PATH))
    return refuse (status, SOUP_STATUS_NOT_FOUND, error, "no such resource");
  /* The body of a GET is never read here, so one would be taken for the
   * next request: refused, and the connection closed. */
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_NONE &&
      soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    return refuse (status, SOUP_STATUS_BAD_REQUEST, error, "a piece request has no body");
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) != 0)
    return refuse (status, SOUP_STATUS_BAD_REQUEST, error, "a piece request has no body");
  id = path + strlen (TASKS_PATH);
  id_length = strcspn (id, "?#");
  request = g_new0 (DflyPieceRequest, 1);
  request->task_id = g_strndup (id, id_length);
  if (!dfly_task_id_is_valid (request->task_id)) {
    dfly_piece_request_free (request);
    return refuse (status, SOUP_STATUS_BAD_REQUEST, error, "not a task id");
  }
  request->headers = g_steal_pointer (&headers);
  request->keep_alive = keeps_alive (request->headers, version);
  *status = SOUP_STATUS_OK;
  return request;
}

gboolean
dfly_piece_request_get_range (const DflyPieceRequest *request, goffset content_length,
                              goffset *start, goffset *end)
{
  SoupRange *ranges = NULL;
  int        n_ranges = 0;
  gboolean   one;

  if (content_length <= 0 ||
      !soup_message_headers_get_ranges (request->headers, content_length, &ranges, &n_ranges))
    return FALSE;
  /* libsoup leaves a last byte past the end as it was sent. */
  one = n_ranges == 1 && ranges[0].start >= 0 && ranges[0].start < content_length &&
        ranges[0].end >= ranges[0].start;
  if (one) {
    *start = ranges[0].start;
    *end = MIN (ranges[0].end, content_length - 1);
  }
  soup_message_headers_free_ranges (request->headers, ranges);
  return one;
}

gboolean
dfly_piece_response_parse (const char *head, gsize length, DflyPieceResponse *response,
                           GError **error)
{
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autofree char *reason = NULL;
  SoupHTTPVersion  version = SOUP_HTTP_1_0;
  SoupEncoding     encoding;
  goffset          start = -1, end = -1, total = -1;

  response->status = 0;
  response->content_length = -1;
  response->start = response->end = -1;
  response->keep_alive = FALSE;
  if (length > DFLY_PIECE_HEAD_MAX ||
      !soup_headers_parse_response (head, (int) length, headers, &version, &response->status,
                                    &reason)) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "malformed response head");
    return FALSE;
  }
  encoding = soup_message_headers_get_encoding (headers);
  if (encoding == SOUP_ENCODING_CONTENT_LENGTH)
    response->content_length = soup_message_headers_get_content_length (headers);
  else if (encoding != SOUP_ENCODING_EOF) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "a %u answer with a %s body",
                 response->status, encoding == SOUP_ENCODING_CHUNKED ? "chunked" : "strange");
    return FALSE;
  }
  if (response->status == SOUP_STATUS_PARTIAL_CONTENT &&
      (!soup_message_headers_get_content_range (headers, &start, &end, &total) || start < 0 ||
       end < start || response->content_length < 1 ||
       response->content_length - 1 != end - start)) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                         "a 206 answer whose Content-Range and Content-Length disagree");
    return FALSE;
  }
  response->start = start;
  response->end = end;
  /* A body that ends with the connection leaves nothing to reuse. */
  response->keep_alive = response->content_length >= 0 && keeps_alive (headers, version);
  return TRUE;
}

void
dfly_piece_request_free (DflyPieceRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->task_id);
  g_clear_pointer (&request->headers, soup_message_headers_unref);
  g_free (request);
}
