/* test-piece-http.c — the parsers of piece requests and responses, with
 * good and hostile heads */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>

#include "proto/dfly-piece-http.h"

#define TASK_ID "4f0c6a2de9b1d7a8c3e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"

static DflyPieceRequest *
parse (const char *head, guint *status, GError **error)
{
  return dfly_piece_request_parse (head, strlen (head), status, error);
}

static void
test_head_length (void)
{
  const char *crlf = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET";
  const char *lf = "GET / HTTP/1.1\nHost: a\n\nrest";

  g_assert_cmpuint (dfly_piece_head_length (crlf, strlen (crlf)), ==, strlen (crlf) - 3);
  g_assert_cmpuint (dfly_piece_head_length (lf, strlen (lf)), ==, strlen (lf) - 4);
  /* Not there yet, at every cut of a whole head. */
  for (gsize cut = 0; cut < strlen (crlf) - 3; cut++)
    g_assert_cmpuint (dfly_piece_head_length (crlf, cut), ==, 0);
  g_assert_cmpuint (dfly_piece_head_length ("", 0), ==, 0);
  g_assert_cmpuint (dfly_piece_head_length ("\n", 1), ==, 0);
  g_assert_cmpuint (dfly_piece_head_length ("\r\n\r", 3), ==, 0);
}

static void
test_good (void)
{
  g_autoptr (GError) error = NULL;
  guint status = 0;
  g_autoptr (DflyPieceRequest) request = parse ("GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n"
                                                "Host: 127.0.0.1:4000\r\n"
                                                "Range: bytes=1048576-2097151\r\n\r\n",
                                                &status, &error);
  goffset start = 0, end = 0;

  g_assert_no_error (error);
  g_assert_nonnull (request);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (request->task_id, ==, TASK_ID);
  g_assert_true (request->keep_alive);
  g_assert_true (dfly_piece_request_get_range (request, 4 * 1048576, &start, &end));
  g_assert_cmpint (start, ==, 1048576);
  g_assert_cmpint (end, ==, 2097151);
  /* A range reaching past the end is cut to it; one starting past it is none. */
  g_assert_true (dfly_piece_request_get_range (request, 1048576 + 10, &start, &end));
  g_assert_cmpint (end, ==, 1048576 + 9);
  g_assert_false (dfly_piece_request_get_range (request, 1048576, &start, &end));
  g_assert_false (dfly_piece_request_get_range (request, 0, &start, &end));
}

static void
test_keep_alive (void)
{
  struct {
    const char *version_and_headers;
    gboolean    keep_alive;
  } cases[] = {
    { "HTTP/1.1\r\n", TRUE },
    { "HTTP/1.1\r\nConnection: close\r\n", FALSE },
    { "HTTP/1.1\r\nConnection: Keep-Alive, close\r\n", FALSE },
    { "HTTP/1.0\r\n", FALSE },
    { "HTTP/1.0\r\nConnection: keep-alive\r\n", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *head =
      g_strdup_printf ("GET /v1/tasks/" TASK_ID " %s\r\n", cases[i].version_and_headers);
    g_autoptr (GError) error = NULL;
    guint status = 0;
    g_autoptr (DflyPieceRequest) request = parse (head, &status, &error);

    g_assert_no_error (error);
    g_assert_cmpint (request->keep_alive, ==, cases[i].keep_alive);
  }
}

static void
test_ranges (void)
{
  const char *refused[] = {
    "",                         /* no Range at all */
    "Range: bytes=0-1,4-5\r\n", /* several */
    "Range: bytes=9-3\r\n",     /* backwards */
    "Range: items=0-1\r\n",     /* another unit */
    "Range: bytes=\r\n",        /* empty */
    "Range: bytes=-\r\n",
    "Range: bytes=abc-def\r\n",
    "Range: bytes=99999999999999999999999-\r\n",
    "Range: bytes=4096-\r\n", /* at the end */
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autofree char *head =
      g_strdup_printf ("GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n%s\r\n", refused[i]);
    g_autoptr (GError) error = NULL;
    guint status = 0;
    g_autoptr (DflyPieceRequest) request = parse (head, &status, &error);
    goffset start = -1, end = -1;

    g_assert_no_error (error);
    g_assert_false (dfly_piece_request_get_range (request, 4096, &start, &end));
  }
}

static void
test_refused (void)
{
  struct {
    const char *head;
    guint       status;
  } cases[] = {
    { "POST /v1/tasks/" TASK_ID " HTTP/1.1\r\n\r\n", SOUP_STATUS_METHOD_NOT_ALLOWED },
    { "HEAD /v1/tasks/" TASK_ID " HTTP/1.1\r\n\r\n", SOUP_STATUS_METHOD_NOT_ALLOWED },
    { "GET /v1/sync-pieces HTTP/1.1\r\n\r\n", SOUP_STATUS_NOT_FOUND },
    { "GET /v1/taskss/" TASK_ID " HTTP/1.1\r\n\r\n", SOUP_STATUS_NOT_FOUND },
    { "GET /v1/tasks/ HTTP/1.1\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/../../etc/passwd HTTP/1.1\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID "/x HTTP/1.1\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/%34f0c HTTP/1.1\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nContent-Length: 5\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID "\r\n\r\n", SOUP_STATUS_BAD_REQUEST }, /* no version */
    { "GET /v1/tasks/" TASK_ID " HTTP/2.0\r\n\r\n", SOUP_STATUS_HTTP_VERSION_NOT_SUPPORTED },
    { "\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
    { "GET\r\n\r\n", SOUP_STATUS_BAD_REQUEST },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    guint status = 0;
    g_autoptr (DflyPieceRequest) request = parse (cases[i].head, &status, &error);

    g_test_message ("%s", cases[i].head);
    g_assert_null (request);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
    g_assert_cmpuint (status, ==, cases[i].status);
  }
}

/* Bytes no parser should choke on: NULs, a head cut anywhere, a huge one. */
static void
test_hostile (void)
{
  const char       good[] = "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n";
  char             with_nul[sizeof good];
  g_autofree char *huge = NULL;
  GString         *many = g_string_new ("GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n");
  guint            status = 0;

  for (gsize cut = 0; cut < sizeof good - 1; cut++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *head = g_strndup (good, cut);
    g_autoptr (DflyPieceRequest) request = dfly_piece_request_parse (head, cut, &status, &error);

    /* Cut before the request line's end, a head is refused; after it,
     * libsoup takes what there is (the sender only passes whole heads). */
    if (cut < strlen ("GET /v1/tasks/" TASK_ID " HTTP/1.1"))
      g_assert_null (request);
    if (request != NULL)
      g_assert_cmpstr (request->task_id, ==, TASK_ID);
    else
      g_assert_nonnull (error);
  }
  for (gsize at = 0; at < sizeof good - 1; at++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyPieceRequest) request = NULL;

    memcpy (with_nul, good, sizeof good);
    with_nul[at] = '\0';
    request = dfly_piece_request_parse (with_nul, sizeof good - 1, &status, &error);
    /* A NUL is never taken as part of a task id or a range. */
    if (request != NULL)
      g_assert_cmpstr (request->task_id, ==, TASK_ID);
  }
  huge = g_strnfill (DFLY_PIECE_HEAD_MAX + 1, 'a');
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (dfly_piece_request_parse (huge, strlen (huge), &status, &error));
    g_assert_cmpuint (status, ==, STATUS_HEADER_FIELDS_TOO_LARGE);
  }
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (many, "X-Header-%u: %u\r\n", i, i);
  g_string_append (many, "\r\n");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyPieceRequest) request =
      dfly_piece_request_parse (many->str, many->len, &status, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (request->task_id, ==, TASK_ID);
  }
  g_string_free (many, TRUE);
}

/* ---- responses: the child's end ---- */

#define GOOD_206                                     \
  "HTTP/1.1 206 Partial Content\r\n"                 \
  "Content-Range: bytes 1048576-2097151/4194304\r\n" \
  "Content-Length: 1048576\r\n\r\n"

static gboolean
parse_response (const char *head, DflyPieceResponse *response, GError **error)
{
  return dfly_piece_response_parse (head, strlen (head), response, error);
}

/* What any accepted response must be for the fetcher to act on it. */
static void
assert_sane_response (const DflyPieceResponse *response)
{
  g_assert_cmpuint (response->status, >=, 100);
  g_assert_cmpuint (response->status, <=, 999);
  g_assert_cmpint (response->content_length, >=, -1);
  if (response->status == SOUP_STATUS_PARTIAL_CONTENT) {
    g_assert_cmpint (response->start, >=, 0);
    g_assert_cmpint (response->end, >=, response->start);
    g_assert_cmpint (response->content_length, >=, 1);
    g_assert_cmpint (response->content_length - 1, ==, response->end - response->start);
  } else {
    g_assert_cmpint (response->start, ==, -1);
    g_assert_cmpint (response->end, ==, -1);
  }
  if (response->keep_alive)
    g_assert_cmpint (response->content_length, >=, 0);
}

static void
test_response_good (void)
{
  const char *heads[] = {
    GOOD_206,
    /* Bare LFs, as dfly_piece_head_length takes them. */
    "HTTP/1.1 206 Partial Content\nContent-Range: bytes 1048576-2097151/4194304\n"
    "Content-Length: 1048576\n\n",
    /* An unknown total, and other headers around. */
    "HTTP/1.1 206 \r\nDate: Sat, 28 Nov 2026 04:39:12 GMT\r\n"
    "Content-Range: bytes 1048576-2097151/*\r\nX-Other: 1\r\nContent-Length: 1048576\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++) {
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    g_test_message ("%s", heads[i]);
    g_assert_true (parse_response (heads[i], &response, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (response.status, ==, SOUP_STATUS_PARTIAL_CONTENT);
    g_assert_cmpint (response.start, ==, 1048576);
    g_assert_cmpint (response.end, ==, 2097151);
    g_assert_cmpint (response.content_length, ==, 1048576);
    g_assert_true (response.keep_alive);
    assert_sane_response (&response);
  }
}

static void
test_response_keep_alive (void)
{
  struct {
    const char *head;
    gboolean    keep_alive;
  } cases[] = {
    { GOOD_206, TRUE },
    { "HTTP/1.1 206 Partial Content\r\nConnection: close\r\n"
      "Content-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n",
      FALSE },
    { "HTTP/1.1 206 Partial Content\r\nConnection: Keep-Alive, close\r\n"
      "Content-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n",
      FALSE },
    { "HTTP/1.0 206 Partial Content\r\n"
      "Content-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n",
      FALSE },
    { "HTTP/1.0 206 Partial Content\r\nConnection: keep-alive\r\n"
      "Content-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n",
      TRUE },
    /* Without a length the body ends with the connection. */
    { "HTTP/1.1 404 Not Found\r\n\r\n", FALSE },
    { "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\n", FALSE },
    { "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    g_test_message ("%s", cases[i].head);
    g_assert_true (parse_response (cases[i].head, &response, &error));
    g_assert_no_error (error);
    g_assert_cmpint (response.keep_alive, ==, cases[i].keep_alive);
    assert_sane_response (&response);
  }
}

/* Refusals are answers too: their short bodies are read so that the
 * connection serves on. */
static void
test_response_refusals (void)
{
  struct {
    const char *head;
    guint       status;
    gint64      content_length;
    gboolean    keep_alive;
  } cases[] = {
    { "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 5\r\n\r\n", 429, 5, TRUE },
    { "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 1\r\n\r\n", 503, 4,
      TRUE },
    { "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\n", 503, 4,
      FALSE },
    { "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n", 404, 9,
      TRUE },
    { "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */10\r\n"
      "Content-Length: 0\r\n\r\n",
      416, 0, TRUE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n", 200, 4194304, TRUE },
    { "HTTP/1.1 500 Internal Server Error\r\n\r\n", 500, -1, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    g_test_message ("%s", cases[i].head);
    g_assert_true (parse_response (cases[i].head, &response, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (response.status, ==, cases[i].status);
    g_assert_cmpint (response.content_length, ==, cases[i].content_length);
    g_assert_cmpint (response.keep_alive, ==, cases[i].keep_alive);
    g_assert_cmpint (response.start, ==, -1);
    g_assert_cmpint (response.end, ==, -1);
  }
}

static void
test_response_refused (void)
{
  const char *heads[] = {
    /* 206s whose body is not the one range they name */
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 11\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 9\r\n\r\n",
    /* end - start + 1 overflows */
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9223372036854775807/*\r\n"
    "Content-Length: 9223372036854775808\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes */100\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9-0/100\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0--1/*\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: items 0-9/100\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n"
    "Content-Length: 10\r\nContent-Length: 11\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9223372036854775808-"
    "9223372036854775809/*\r\nContent-Length: 2\r\n\r\n",
    "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=x\r\n\r\n",
    /* bodies this protocol never sends */
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n"
    "Transfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n",
    /* status lines that are none */
    "",
    "\r\n",
    "\r\n\r\n",
    "HTTP/1.1\r\n\r\n",
    "HTTP/1.1 \r\n\r\n",
    "HTTP/1.1 abc OK\r\n\r\n",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 99999999999 OK\r\n\r\n",
    "HTTP/2.0 200 OK\r\n\r\n",
    "HTTP/1.5 200 OK\r\n\r\n",
    "HTTP/1 200 OK\r\n\r\n",
    "http/1.1 200 OK\r\n\r\n",
    " HTTP/1.1 200 OK\r\n\r\n",
    "FOO/1.1 200 OK\r\n\r\n",
    "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n\r\n",
    "SSH-2.0-OpenSSH_9.2p1\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++) {
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    g_test_message ("%s", heads[i]);
    g_assert_false (parse_response (heads[i], &response, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  }
}

/* A head as long as the fetcher reads is taken; one byte more is not. */
static void
test_response_too_large (void)
{
  const char *status_line = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nX-Pad: ";
  GString    *head = g_string_new (status_line);
  g_autoptr (GError) error = NULL;
  DflyPieceResponse response;

  while (head->len < DFLY_PIECE_HEAD_MAX - 4)
    g_string_append_c (head, 'x');
  g_string_append (head, "\r\n\r\n");
  g_assert_cmpuint (head->len, ==, DFLY_PIECE_HEAD_MAX);
  g_assert_cmpuint (dfly_piece_head_length (head->str, head->len), ==, head->len);
  g_assert_true (dfly_piece_response_parse (head->str, head->len, &response, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (response.status, ==, STATUS_TOO_MANY_REQUESTS);
  g_string_insert_c (head, strlen (status_line), 'x');
  g_assert_false (dfly_piece_response_parse (head->str, head->len, &response, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  g_string_free (head, TRUE);
}

/* NULs anywhere and a head cut anywhere: an error, or a sane response. */
static void
test_response_hostile (void)
{
  const char  good[] = GOOD_206;
  const gsize status_line = strlen ("HTTP/1.1 206 Partial Content");
  char        with_nul[sizeof good];

  for (gsize cut = 0; cut <= sizeof good - 1; cut++) {
    g_autoptr (GError) error = NULL;
    g_autofree char  *head = g_strndup (good, cut);
    DflyPieceResponse response;
    gboolean          ok = dfly_piece_response_parse (head, cut, &response, &error);

    /* Without its whole status line a head is none; after it, libsoup
     * takes what there is (the fetcher only passes whole heads), and a
     * 206 cut before its Content-Length has no body to trust. */
    if (cut < status_line)
      g_assert_false (ok);
    if (ok) {
      g_assert_no_error (error);
      assert_sane_response (&response);
      g_assert_cmpuint (response.status, ==, SOUP_STATUS_PARTIAL_CONTENT);
      g_assert_cmpint (response.content_length, ==, 1048576);
    } else {
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
    }
  }
  for (gsize at = 0; at < sizeof good - 1; at++) {
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    memcpy (with_nul, good, sizeof good);
    with_nul[at] = '\0';
    /* A NUL is never taken as the end of a line or a number. */
    if (dfly_piece_response_parse (with_nul, sizeof good - 1, &response, &error)) {
      assert_sane_response (&response);
      g_assert_cmpint (response.start, ==, 1048576);
      g_assert_cmpint (response.end, ==, 2097151);
    } else {
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
    }
  }
  /* What comes after the blank line is body, never head. */
  {
    const char *with_body = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 5\r\n\r\n"
                            "later\r\nConnection: close\r\n\r\n";
    const char *body = strstr (with_body, "later");
    gsize       length = dfly_piece_head_length (with_body, strlen (with_body));
    g_autoptr (GError) error = NULL;
    DflyPieceResponse response;

    g_assert_cmpuint (length, ==, body - with_body);
    g_assert_true (dfly_piece_response_parse (with_body, length, &response, &error));
    g_assert_true (response.keep_alive);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/piece-request/head-length", test_head_length);
  g_test_add_func ("/piece-request/good", test_good);
  g_test_add_func ("/piece-request/keep-alive", test_keep_alive);
  g_test_add_func ("/piece-request/ranges", test_ranges);
  g_test_add_func ("/piece-request/refused", test_refused);
  g_test_add_func ("/piece-request/hostile", test_hostile);
  g_test_add_func ("/piece-response/good", test_response_good);
  g_test_add_func ("/piece-response/keep-alive", test_response_keep_alive);
  g_test_add_func ("/piece-response/refusals", test_response_refusals);
  g_test_add_func ("/piece-response/refused", test_response_refused);
  g_test_add_func ("/piece-response/too-large", test_response_too_large);
  g_test_add_func ("/piece-response/hostile", test_response_hostile);
  return g_test_run ();
}
