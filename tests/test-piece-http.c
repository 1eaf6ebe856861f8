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
    g_autofree char *head = g_strdup_printf ("GET /v1/tasks/" TASK_ID " %s\r\n",
                                             cases[i].version_and_headers);
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
    "",                                /* no Range at all */
    "Range: bytes=0-1,4-5\r\n",        /* several */
    "Range: bytes=9-3\r\n",            /* backwards */
    "Range: items=0-1\r\n",            /* another unit */
    "Range: bytes=\r\n",               /* empty */
    "Range: bytes=-\r\n",
    "Range: bytes=abc-def\r\n",
    "Range: bytes=99999999999999999999999-\r\n",
    "Range: bytes=4096-\r\n",          /* at the end */
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autofree char *head = g_strdup_printf ("GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n%s\r\n",
                                             refused[i]);
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
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
      SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      SOUP_STATUS_BAD_REQUEST },
    { "GET /v1/tasks/" TASK_ID "\r\n\r\n", SOUP_STATUS_BAD_REQUEST },           /* no version */
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
  const char good[] = "GET /v1/tasks/" TASK_ID " HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n";
  char with_nul[sizeof good];
  g_autofree char *huge = NULL;
  GString *many = g_string_new ("GET /v1/tasks/" TASK_ID " HTTP/1.1\r\n");
  guint status = 0;

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
  return g_test_run ();
}
