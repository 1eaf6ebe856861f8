/* fuzz-piece-http.c — libFuzzer target: the heads of piece requests and
 * responses as they arrive on a piece connection (dfly_piece_head_length,
 * then both parsers on the head it finds, or on the whole input) */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <dfly/dfly.h>

#include "proto/dfly-piece-http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Content lengths a request's range is checked against: none, tiny, a
 * piece, and the largest there is. */
static const goffset content_lengths[] = { 0, 1, 4096, 4 * 1024 * 1024, G_MAXINT64 };

static void
check_request (const char *head, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyPieceRequest) request = NULL;
  guint status = 0;

  request = dfly_piece_request_parse (head, length, &status, &error);
  if (request == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR && error->code == DFLY_ERROR_PROTOCOL);
    g_assert (status >= 400 && status < 600);
    return;
  }
  g_assert (error == NULL);
  g_assert (status == SOUP_STATUS_OK);
  g_assert (dfly_task_id_is_valid (request->task_id));
  for (guint i = 0; i < G_N_ELEMENTS (content_lengths); i++) {
    goffset start = -1, end = -1;

    if (dfly_piece_request_get_range (request, content_lengths[i], &start, &end))
      g_assert (start >= 0 && start <= end && end < content_lengths[i]);
  }
}

/* Whatever is accepted is a response the fetcher can act on: a 206 names
 * the range its Content-Length covers, and only a body of known length
 * leaves the connection to reuse. */
static void
check_response (const char *head, gsize length)
{
  g_autoptr (GError) error = NULL;
  DflyPieceResponse response;

  if (!dfly_piece_response_parse (head, length, &response, &error)) {
    g_assert (error != NULL && error->domain == DFLY_ERROR && error->code == DFLY_ERROR_PROTOCOL);
    return;
  }
  g_assert (error == NULL);
  g_assert (response.status >= 100 && response.status <= 999);
  if (response.status == SOUP_STATUS_PARTIAL_CONTENT) {
    /* Checked without overflowing: end - start + 1 may not fit. */
    g_assert (response.start >= 0 && response.start <= response.end);
    g_assert (response.content_length >= 1 &&
              response.content_length - 1 == response.end - response.start);
  } else {
    g_assert (response.start == -1 && response.end == -1);
  }
  if (response.keep_alive)
    g_assert (response.content_length >= 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *input = (const char *) data;
  gsize       head_length = dfly_piece_head_length (input, size);

  if (head_length > 0) {
    /* The head ends with its blank line, and is found again alone. */
    g_assert (head_length <= size && head_length >= 2);
    g_assert (input[head_length - 1] == '\n');
    g_assert (dfly_piece_head_length (input, head_length) == head_length);
    g_assert (dfly_piece_head_length (input, head_length - 1) == 0);
  }
  check_request (input, head_length > 0 ? head_length : size);
  check_response (input, head_length > 0 ? head_length : size);
  return 0;
}
