/* test-piece-fetcher.c — DflyPieceFetcher against a hostile parent
 *
 * The parent is raw bytes: a GSocketService on 127.0.0.1, run by a thread
 * of its own (so the fetcher's blocking calls can run on the test's), gives
 * each connection a thread that reads request heads and answers each with
 * the next scripted answer, or, in echo mode, with the range asked for. It
 * counts connections, so a test tells a kept connection from a new one.
 * Every wait is bounded: the fetcher's timeout, the parent's socket
 * timeout, and WAIT_SECONDS on whatever the test waits for itself.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>

#include "dfly-piece-fetcher.h"
#include "dfly-piece-http.h"

#define TASK_ID      "4f0c6a2de9b1d7a8c3e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"
#define WAIT_SECONDS 10 /* the longest any wait in this test may take */
#define TIMEOUT      1  /* the fetcher's, in seconds */

/* ---- the parent ---- */

typedef enum {
  AFTER_KEEP,  /* read the next request */
  AFTER_CLOSE, /* close the connection */
  AFTER_HANG,  /* keep the connection open and silent until the parent stops */
} After;

typedef struct {
  GBytes *bytes; /* NULL: nothing */
  GBytes *later; /* sent after a pause, or NULL */
  After   after;
} Answer;

typedef struct {
  GMutex          lock;
  GCond           cond;
  GMainContext   *context;
  GMainLoop      *loop;
  GThread        *thread;
  GSocketService *service;
  guint16         port;
  char           *url;
  GQueue          answers;     /* Answer *, one per request in arrival order */
  gboolean        echo;        /* with no answer queued, send the range asked for */
  GPtrArray      *requests;    /* the heads received */
  GPtrArray      *connections; /* GThread *, one per accepted connection */
  guint           accepts;
  guint           closed; /* connections over */
  gboolean        stopping;
} Parent;

static void
answer_free (Answer *answer)
{
  g_clear_pointer (&answer->bytes, g_bytes_unref);
  g_clear_pointer (&answer->later, g_bytes_unref);
  g_free (answer);
}

/* Byte i of the content the echo mode serves. */
static guint8
content_byte (guint64 i)
{
  return (guint8) (i * 7 + i / 251);
}

static GBytes *
content (guint64 start, guint64 end)
{
  guint8 *data = g_malloc (end - start + 1);

  for (guint64 i = start; i <= end; i++)
    data[i - start] = content_byte (i);
  return g_bytes_new_take (data, end - start + 1);
}

static GBytes *
head_206 (guint64 start, guint64 end, guint64 content_length)
{
  char *head = g_strdup_printf ("HTTP/1.1 206 Partial Content\r\n"
                                "Content-Range: bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                                "/*\r\nContent-Length: %" G_GUINT64_FORMAT "\r\n\r\n",
                                start, end, content_length);

  return g_bytes_new_take (head, strlen (head));
}

/* A right answer for [start, end]: its head and body in one write, or the
 * body after a pause, so that it is read apart from the head. */
static Answer *
answer_206 (guint64 start, guint64 end, gboolean split, After after)
{
  Answer *answer = g_new0 (Answer, 1);
  g_autoptr (GBytes) head = head_206 (start, end, end - start + 1);
  g_autoptr (GBytes) body = content (start, end);

  if (split) {
    answer->bytes = g_steal_pointer (&head);
    answer->later = g_steal_pointer (&body);
  } else {
    g_autoptr (GByteArray) both = g_byte_array_new ();

    g_byte_array_append (both, g_bytes_get_data (head, NULL), g_bytes_get_size (head));
    g_byte_array_append (both, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    answer->bytes = g_byte_array_free_to_bytes (g_steal_pointer (&both));
  }
  answer->after = after;
  return answer;
}

static Answer *
answer_raw (const char *bytes, gsize length, After after)
{
  Answer *answer = g_new0 (Answer, 1);

  if (bytes != NULL)
    answer->bytes = g_bytes_new (bytes, length);
  answer->after = after;
  return answer;
}

#define ANSWER(literal, after) answer_raw (literal, sizeof literal - 1, after)

static void
parent_push (Parent *parent, Answer *answer)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);

  g_queue_push_tail (&parent->answers, answer);
}

static guint
parent_get_accepts (Parent *parent)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);

  return parent->accepts;
}

static guint
parent_get_requests (Parent *parent)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);

  return parent->requests->len;
}

/* Waits until closed connections number at least count. */
static void
parent_wait_closed (Parent *parent, guint count)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);
  gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;

  while (parent->closed < count)
    g_assert_true (g_cond_wait_until (&parent->cond, &parent->lock, deadline) ||
                   parent->closed >= count);
}

/* The next request head on socket, NULL at its end or on an error. */
static char *
read_request (GSocket *socket, GByteArray *pending)
{
  gsize length;

  while ((length = dfly_piece_head_length ((const char *) pending->data, pending->len)) == 0) {
    guint8 chunk[4096];
    gssize n;

    if (pending->len > DFLY_PIECE_HEAD_MAX)
      return NULL;
    n = g_socket_receive (socket, (char *) chunk, sizeof chunk, NULL, NULL);
    if (n <= 0)
      return NULL;
    g_byte_array_append (pending, chunk, n);
  }
  {
    char *head = g_strndup ((const char *) pending->data, length);

    g_byte_array_remove_range (pending, 0, length);
    return head;
  }
}

/* The echo mode's answer to head: the range asked for, of a content of 1 GiB. */
static Answer *
answer_echo (const char *head)
{
  g_autoptr (DflyPieceRequest) request = NULL;
  goffset start, end;
  guint   status;

  request = dfly_piece_request_parse (head, strlen (head), &status, NULL);
  if (request == NULL || !dfly_piece_request_get_range (request, 1 << 30, &start, &end))
    return ANSWER ("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", AFTER_CLOSE);
  return answer_206 (start, end, FALSE, AFTER_KEEP);
}

static void
send_bytes (GOutputStream *output, GBytes *bytes)
{
  if (bytes != NULL)
    g_output_stream_write_all (output, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                               NULL, NULL, NULL);
}

typedef struct {
  Parent            *parent;
  GSocketConnection *connection;
} Connection;

static gpointer
serve_connection (gpointer data)
{
  Connection    *connection = data;
  Parent        *parent = connection->parent;
  GSocket       *socket = g_socket_connection_get_socket (connection->connection);
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection->connection));
  g_autoptr (GByteArray) pending = g_byte_array_new ();
  gboolean more = TRUE;

  g_socket_set_timeout (socket, WAIT_SECONDS);
  while (more) {
    g_autofree char *head = read_request (socket, pending);
    Answer          *answer = NULL;

    if (head == NULL)
      break;
    g_mutex_lock (&parent->lock);
    g_ptr_array_add (parent->requests, g_strdup (head));
    answer = g_queue_pop_head (&parent->answers);
    g_mutex_unlock (&parent->lock);
    if (answer == NULL && parent->echo)
      answer = answer_echo (head);
    if (answer == NULL)
      break;
    send_bytes (output, answer->bytes);
    if (answer->later != NULL) {
      g_usleep (G_USEC_PER_SEC / 20);
      send_bytes (output, answer->later);
    }
    if (answer->after == AFTER_HANG) {
      gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;

      g_mutex_lock (&parent->lock);
      while (!parent->stopping && g_cond_wait_until (&parent->cond, &parent->lock, deadline))
        ;
      g_mutex_unlock (&parent->lock);
    }
    more = answer->after == AFTER_KEEP;
    answer_free (answer);
  }
  g_io_stream_close (G_IO_STREAM (connection->connection), NULL, NULL);
  g_object_unref (connection->connection);
  g_free (connection);
  g_mutex_lock (&parent->lock);
  parent->closed++;
  g_cond_broadcast (&parent->cond);
  g_mutex_unlock (&parent->lock);
  return NULL;
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *socket_connection, GObject *source,
             gpointer user_data)
{
  Parent     *parent = user_data;
  Connection *connection = g_new0 (Connection, 1);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);

  connection->parent = parent;
  connection->connection = g_object_ref (socket_connection);
  parent->accepts++;
  g_ptr_array_add (parent->connections,
                   g_thread_new ("test-parent-connection", serve_connection, connection));
  g_cond_broadcast (&parent->cond);
  return TRUE;
}

static gboolean
quit_parent (gpointer user_data)
{
  Parent *parent = user_data;

  g_socket_service_stop (parent->service);
  g_socket_listener_close (G_SOCKET_LISTENER (parent->service));
  g_main_loop_quit (parent->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
run_parent (gpointer data)
{
  Parent *parent = data;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (parent->context);
  parent->service = g_socket_service_new ();
  g_signal_connect (parent->service, "incoming", G_CALLBACK (on_incoming), parent);
  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (parent->service), address,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                                &effective, &error));
  g_assert_no_error (error);
  g_socket_service_start (parent->service);
  g_mutex_lock (&parent->lock);
  parent->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_cond_broadcast (&parent->cond);
  g_mutex_unlock (&parent->lock);
  g_main_loop_run (parent->loop);
  /* The cancelled accept's callback holds the service until it runs. */
  while (g_main_context_iteration (parent->context, FALSE))
    ;
  g_clear_object (&parent->service);
  while (g_main_context_iteration (parent->context, FALSE))
    ;
  g_main_context_pop_thread_default (parent->context);
  return NULL;
}

static Parent *
parent_new (void)
{
  Parent *parent = g_new0 (Parent, 1);

  g_mutex_init (&parent->lock);
  g_cond_init (&parent->cond);
  g_queue_init (&parent->answers);
  parent->requests = g_ptr_array_new_with_free_func (g_free);
  parent->connections = g_ptr_array_new ();
  parent->context = g_main_context_new ();
  parent->loop = g_main_loop_new (parent->context, FALSE);
  parent->thread = g_thread_new ("test-parent", run_parent, parent);
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&parent->lock);
    gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;

    while (parent->port == 0)
      g_assert_true (g_cond_wait_until (&parent->cond, &parent->lock, deadline) ||
                     parent->port != 0);
  }
  parent->url = g_strdup_printf ("http://127.0.0.1:%u/v1/tasks/" TASK_ID, parent->port);
  return parent;
}

/* Stops accepting, releases hanging connections and joins every thread. */
static void
parent_free (Parent *parent)
{
  guint n_connections;

  g_mutex_lock (&parent->lock);
  parent->stopping = TRUE;
  g_cond_broadcast (&parent->cond);
  g_mutex_unlock (&parent->lock);
  g_main_context_invoke (parent->context, quit_parent, parent);
  g_thread_join (parent->thread);
  /* No accept runs any more: the list of connection threads is final. */
  n_connections = parent->connections->len;
  for (guint i = 0; i < n_connections; i++)
    g_thread_join (g_ptr_array_index (parent->connections, i));
  g_ptr_array_unref (parent->connections);
  g_ptr_array_unref (parent->requests);
  g_queue_clear_full (&parent->answers, (GDestroyNotify) answer_free);
  g_main_loop_unref (parent->loop);
  g_main_context_unref (parent->context);
  g_free (parent->url);
  g_cond_clear (&parent->cond);
  g_mutex_clear (&parent->lock);
  g_free (parent);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Parent, parent_free)

/* ---- the child ---- */

/* The body of [start, end] read whole and closed, or NULL and error. */
static GBytes *
fetch (DflyPieceFetcher *fetcher, const char *url, guint64 start, guint64 end,
       GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) stream = NULL;
  gsize              size = end - start + 1, n = 0;
  g_autofree guint8 *buffer = g_malloc (size + 1);

  stream = dfly_piece_fetcher_open (fetcher, url, start, end, cancellable, error);
  if (stream == NULL)
    return NULL;
  /* One byte more than asked for: a body never gives more. */
  if (!g_input_stream_read_all (stream, buffer, size + 1, &n, cancellable, error)) {
    g_input_stream_close (stream, NULL, NULL);
    return NULL;
  }
  g_assert_cmpuint (n, ==, size);
  g_assert_true (g_input_stream_close (stream, NULL, NULL));
  return g_bytes_new_take (g_steal_pointer (&buffer), n);
}

static void
assert_content (GBytes *bytes, guint64 start, guint64 end)
{
  g_autoptr (GBytes) expected = content (start, end);

  g_assert_nonnull (bytes);
  g_assert_true (g_bytes_equal (bytes, expected));
}

static void
assert_fetch_ok (DflyPieceFetcher *fetcher, Parent *parent, guint64 start, guint64 end)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = fetch (fetcher, parent->url, start, end, NULL, &error);

  g_assert_no_error (error);
  assert_content (bytes, start, end);
}

/* ---- the tests ---- */

/* A body read whole gives its connection back: the next request, split
 * head and body, a big piece, all go over the one connection. */
static void
test_reuse (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", parent->port);
  const goffset    ranges[][2] = { { 0, 9 }, { 10, 4095 }, { 1 << 20, (2 << 20) - 1 } };

  parent_push (parent, answer_206 (ranges[0][0], ranges[0][1], FALSE, AFTER_KEEP));
  parent_push (parent, answer_206 (ranges[1][0], ranges[1][1], TRUE, AFTER_KEEP));
  parent_push (parent, answer_206 (ranges[2][0], ranges[2][1], FALSE, AFTER_KEEP));
  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    assert_fetch_ok (fetcher, parent, ranges[i][0], ranges[i][1]);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 1);
  g_assert_cmpuint (parent_get_requests (parent), ==, 3);
  /* What went out: a piece request each, for the range asked for. */
  for (guint i = 0; i < parent->requests->len; i++) {
    const char *head = g_ptr_array_index (parent->requests, i);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyPieceRequest) request = NULL;
    guint   status = 0;
    goffset start = -1, end = -1;

    request = dfly_piece_request_parse (head, strlen (head), &status, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (request->task_id, ==, TASK_ID);
    g_assert_true (request->keep_alive);
    g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Host"), ==, host);
    g_assert_true (dfly_piece_request_get_range (request, 4 << 20, &start, &end));
    g_assert_cmpint (start, ==, ranges[i][0]);
    g_assert_cmpint (end, ==, ranges[i][1]);
  }
}

/* A body that ends early, or a stream closed before its end, leaves a
 * connection in the middle of a body: never reused. */
static void
test_cut_short (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GInputStream) stream = NULL;
  char   buffer[5];
  gsize  n = 0;
  gint64 started;

  /* Half a body, then the connection closes. */
  parent_push (parent, ANSWER ("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/*\r\n"
                               "Content-Length: 100\r\n\r\n0123456789012345678901234567890123456789"
                               "0123456789",
                               AFTER_CLOSE));
  parent_push (parent, answer_206 (0, 99, FALSE, AFTER_KEEP));
  bytes = fetch (fetcher, parent->url, 0, 99, NULL, &error);
  g_assert_null (bytes);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_test_message ("cut and closed: %s", error->message);
  g_clear_error (&error);
  assert_fetch_ok (fetcher, parent, 0, 99);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 2);

  /* Half a body, then silence: the read times out. */
  parent_push (parent, ANSWER ("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/*\r\n"
                               "Content-Length: 100\r\n\r\n0123456789",
                               AFTER_HANG));
  parent_push (parent, answer_206 (0, 99, FALSE, AFTER_KEEP));
  started = g_get_monotonic_time ();
  bytes = fetch (fetcher, parent->url, 0, 99, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - started, <, (TIMEOUT + 1) * G_USEC_PER_SEC);
  g_clear_error (&error);
  assert_fetch_ok (fetcher, parent, 0, 99);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 3);

  /* A whole body sent, but the stream closed after five bytes. */
  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  stream = dfly_piece_fetcher_open (fetcher, parent->url, 0, 9, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_input_stream_read_all (stream, buffer, sizeof buffer, &n, NULL, &error));
  g_assert_cmpuint (n, ==, sizeof buffer);
  g_assert_true (g_input_stream_close (stream, NULL, NULL));
  g_clear_object (&stream);
  assert_fetch_ok (fetcher, parent, 0, 9);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 4);
}

/* Every answer but the range asked for is an error of its own kind; a
 * short one of known length is read so that its connection serves on. */
static void
test_answers (void)
{
  struct {
    const char *answer;
    GQuark      domain; /* automatic: the quarks are looked up at run time */
    int         code;
    gboolean    reused;
  } cases[] = {
    { "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 5\r\n\r\nlater", G_IO_ERROR,
      G_IO_ERROR_WOULD_BLOCK, TRUE },
    { "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 5\r\n\r\nlater",
      G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, FALSE },
    { "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", DFLY_ERROR,
      DFLY_ERROR_BUSY, TRUE },
    { "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", G_IO_ERROR, G_IO_ERROR_FAILED,
      TRUE },
    { "HTTP/1.1 404 Not Found\r\n\r\nto the end", G_IO_ERROR, G_IO_ERROR_FAILED, FALSE },
    { "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */5\r\n"
      "Content-Length: 27\r\n\r\none byte range is required\n",
      G_IO_ERROR, G_IO_ERROR_FAILED, TRUE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", G_IO_ERROR, G_IO_ERROR_FAILED,
      TRUE },
    /* a 206 for another range */
    { "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-19/*\r\n"
      "Content-Length: 10\r\n\r\n0123456789",
      G_IO_ERROR, G_IO_ERROR_FAILED, TRUE },
    { "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-8/*\r\n"
      "Content-Length: 9\r\n\r\n012345678",
      G_IO_ERROR, G_IO_ERROR_FAILED, TRUE },
    /* malformed */
    { "HELLO WORLD\r\n\r\n", DFLY_ERROR, DFLY_ERROR_PROTOCOL, FALSE },
    { "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n"
      "Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
      DFLY_ERROR, DFLY_ERROR_PROTOCOL, FALSE },
    { "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n"
      "Content-Length: 11\r\n\r\n0123456789",
      DFLY_ERROR, DFLY_ERROR_PROTOCOL, FALSE },
    { "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789", DFLY_ERROR,
      DFLY_ERROR_PROTOCOL, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Parent) parent = parent_new ();
    g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) bytes = NULL;

    g_test_message ("%s", cases[i].answer);
    parent_push (parent, answer_raw (cases[i].answer, strlen (cases[i].answer),
                                     cases[i].reused ? AFTER_KEEP : AFTER_CLOSE));
    parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
    bytes = fetch (fetcher, parent->url, 0, 9, NULL, &error);
    g_assert_null (bytes);
    g_assert_error (error, cases[i].domain, cases[i].code);
    g_test_message ("-> %s", error->message);
    assert_fetch_ok (fetcher, parent, 0, 9);
    g_assert_cmpuint (parent_get_accepts (parent), ==, cases[i].reused ? 1 : 2);
  }
}

/* A refusal with an empty body is read whole at once: its connection
 * serves on too. */
static void
test_empty_refusal (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;

  parent_push (parent,
               ANSWER ("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n", AFTER_KEEP));
  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  g_assert_null (fetch (fetcher, parent->url, 0, 9, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  assert_fetch_ok (fetcher, parent, 0, 9);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 1);
}

/* An error answer with a body too long to read through closes its
 * connection, and so does a head longer than any piece head. */
static void
test_long_answers (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) answer = g_string_new ("HTTP/1.1 429 Too Many Requests\r\n"
                                             "Content-Length: 100000\r\n\r\n");
  g_autofree char *body = g_strnfill (100000, 'x');
  g_autofree char *endless = g_strnfill (DFLY_PIECE_HEAD_MAX + 100, 'x');

  g_string_append (answer, body);
  parent_push (parent, answer_raw (answer->str, answer->len, AFTER_HANG));
  g_assert_null (fetch (fetcher, parent->url, 0, 9, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  g_string_assign (answer, "HTTP/1.1 206 Partial Content\r\nX-Endless: ");
  g_string_append (answer, endless);
  parent_push (parent, answer_raw (answer->str, answer->len, AFTER_HANG));
  g_assert_null (fetch (fetcher, parent->url, 0, 9, NULL, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  g_clear_error (&error);

  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  assert_fetch_ok (fetcher, parent, 0, 9);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 3);
}

/* A pooled connection its parent closed meanwhile: the request goes once
 * more on a new connection, whether the close came before the request or
 * in answer to it. A new connection that gets no answer is not retried. */
static void
test_pooled_closed (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;

  /* Kept alive by its answer, then closed by the parent. */
  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_CLOSE));
  parent_push (parent, answer_206 (10, 19, FALSE, AFTER_KEEP));
  assert_fetch_ok (fetcher, parent, 0, 9);
  parent_wait_closed (parent, 1);
  assert_fetch_ok (fetcher, parent, 10, 19);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 2);
  g_assert_cmpuint (parent_get_requests (parent), ==, 2);

  /* Closed as the request arrives, without an answer. */
  parent_push (parent, answer_raw (NULL, 0, AFTER_CLOSE));
  parent_push (parent, answer_206 (20, 29, FALSE, AFTER_KEEP));
  assert_fetch_ok (fetcher, parent, 20, 29);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 3);
  g_assert_cmpuint (parent_get_requests (parent), ==, 4);

  /* Half a head, then closed: the same. */
  parent_push (parent, ANSWER ("HTTP/1.1 206 Partial", AFTER_CLOSE));
  parent_push (parent, answer_206 (30, 39, FALSE, AFTER_KEEP));
  assert_fetch_ok (fetcher, parent, 30, 39);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 4);

  /* On a new connection, no answer is the answer. */
  {
    g_autoptr (DflyPieceFetcher) fresh = dfly_piece_fetcher_new (TIMEOUT);

    parent_push (parent, answer_raw (NULL, 0, AFTER_CLOSE));
    parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
    g_assert_null (fetch (fresh, parent->url, 0, 9, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
    g_assert_cmpuint (parent_get_accepts (parent), ==, 5);
    g_assert_cmpuint (parent_get_requests (parent), ==, 7);
  }
}

/* A parent that accepts and says nothing costs one timeout. */
static void
test_silent (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  gint64 started, took;

  parent_push (parent, answer_raw (NULL, 0, AFTER_HANG));
  started = g_get_monotonic_time ();
  g_assert_null (fetch (fetcher, parent->url, 0, 9, NULL, &error));
  took = g_get_monotonic_time () - started;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_test_message ("silent parent: %s after %" G_GINT64_FORMAT " ms", error->message, took / 1000);
  g_assert_cmpint (took, >=, TIMEOUT * G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (took, <, TIMEOUT * G_USEC_PER_SEC * 3 / 2);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 1);
}

/* A parent silent on a pooled connection times out once: a timeout is not
 * taken for a connection the parent closed, so it is not asked again. */
static void
test_silent_pooled (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  gint64 started, took;

  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  parent_push (parent, answer_raw (NULL, 0, AFTER_HANG));
  parent_push (parent, answer_raw (NULL, 0, AFTER_HANG));
  assert_fetch_ok (fetcher, parent, 0, 9);
  started = g_get_monotonic_time ();
  g_assert_null (fetch (fetcher, parent->url, 10, 19, NULL, &error));
  took = g_get_monotonic_time () - started;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_test_message ("silent on a pooled connection: %s after %" G_GINT64_FORMAT " ms", error->message,
                  took / 1000);
  g_assert_cmpint (took, <, TIMEOUT * G_USEC_PER_SEC * 3 / 2);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 1);
}

typedef struct {
  GCancellable *cancellable;
  gulong        delay_us;
} Canceller;

static gpointer
cancel_later (gpointer data)
{
  Canceller *canceller = data;

  g_usleep (canceller->delay_us);
  g_cancellable_cancel (canceller->cancellable);
  return NULL;
}

/* Cancelling from another thread wakes a read blocked on the head or in
 * the body at once, long before the fetcher's own timeout. */
static void
test_cancel (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (WAIT_SECONDS * 3);
  char buffer[10];

  for (guint in_body = 0; in_body < 2; in_body++) {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GError) error = NULL;
    g_autoptr (GInputStream) stream = NULL;
    Canceller canceller = { cancellable, G_USEC_PER_SEC / 5 };
    GThread  *thread;
    gint64    started;
    gsize     n = 0;

    if (in_body)
      parent_push (parent, ANSWER ("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n"
                                   "Content-Length: 10\r\n\r\n01234",
                                   AFTER_HANG));
    else
      parent_push (parent, answer_raw (NULL, 0, AFTER_HANG));
    started = g_get_monotonic_time ();
    thread = g_thread_new ("test-cancel", cancel_later, &canceller);
    stream = dfly_piece_fetcher_open (fetcher, parent->url, 0, 9, cancellable, &error);
    if (in_body) {
      g_assert_no_error (error);
      g_assert_false (
        g_input_stream_read_all (stream, buffer, sizeof buffer, &n, cancellable, &error));
      g_assert_cmpuint (n, ==, 5);
      g_input_stream_close (stream, NULL, NULL);
    } else {
      g_assert_null (stream);
    }
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC);
    g_thread_join (thread);
  }
  /* Neither connection went back to the pool. */
  parent_push (parent, answer_206 (0, 9, FALSE, AFTER_KEEP));
  assert_fetch_ok (fetcher, parent, 0, 9);
  g_assert_cmpuint (parent_get_accepts (parent), ==, 3);

  /* Cancelled before it starts: an error at once. */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GError) error = NULL;

    g_cancellable_cancel (cancellable);
    g_assert_null (fetch (fetcher, parent->url, 0, 9, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
}

static void
test_bad_url (void)
{
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  const char *urls[] = {
    "",
    "not a url",
    "/v1/tasks/" TASK_ID,
    "https://127.0.0.1:4000/v1/tasks/" TASK_ID,
    "ftp://127.0.0.1:4000/v1/tasks/" TASK_ID,
    "http://127.0.0.1/v1/tasks/" TASK_ID, /* no port */
    "http://127.0.0.1:0/v1/tasks/" TASK_ID,
    "http://127.0.0.1:99999/v1/tasks/" TASK_ID,
    "http:/v1/tasks/" TASK_ID,
    "http://127.0.0.1:4000/v1/tasks/%zz",
    "http://:4000/v1/tasks/" TASK_ID, /* no host */
    "http://127.0.0.1:4000",          /* no path */
  };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++) {
    g_autoptr (GError) error = NULL;

    g_test_message ("%s", urls[i]);
    g_assert_null (dfly_piece_fetcher_open (fetcher, urls[i], 0, 9, NULL, &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  }
}

/* A parent nobody listens for: the connect fails, with a G_IO_ERROR. */
static void
test_refused_connection (void)
{
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  guint16          port;

  {
    g_autoptr (Parent) parent = parent_new ();

    port = parent->port;
  }
  url = g_strdup_printf ("http://127.0.0.1:%u/v1/tasks/" TASK_ID, port);
  g_assert_null (dfly_piece_fetcher_open (fetcher, url, 0, 9, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

typedef struct {
  DflyPieceFetcher *fetcher;
  Parent           *parent;
  guint             index;
} Worker;

#define WORKERS           4
#define PIECES_PER_WORKER 25

static gpointer
fetch_pieces (gpointer data)
{
  Worker *worker = data;

  for (guint i = 0; i < PIECES_PER_WORKER; i++) {
    guint64 start = (guint64) (worker->index * PIECES_PER_WORKER + i) * 16384;

    assert_fetch_ok (worker->fetcher, worker->parent, start, start + 16383);
  }
  return NULL;
}

/* Threads share the pool: each holds one connection at a time, so a
 * parent sees no more connections than there are threads. */
static void
test_threads (void)
{
  g_autoptr (Parent) parent = parent_new ();
  g_autoptr (DflyPieceFetcher) fetcher = dfly_piece_fetcher_new (TIMEOUT);
  Worker   workers[WORKERS];
  GThread *threads[WORKERS];

  parent->echo = TRUE;
  for (guint i = 0; i < WORKERS; i++) {
    workers[i] = (Worker){ fetcher, parent, i };
    threads[i] = g_thread_new ("test-worker", fetch_pieces, &workers[i]);
  }
  for (guint i = 0; i < WORKERS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (parent_get_requests (parent), ==, WORKERS * PIECES_PER_WORKER);
  g_assert_cmpuint (parent_get_accepts (parent), <=, WORKERS);
}

/* An open stream keeps its fetcher: the last unref may come from it, with
 * its connection given back to a pool about to go. */
static void
test_stream_outlives_fetcher (void)
{
  g_autoptr (Parent) parent = parent_new ();
  DflyPieceFetcher *fetcher = dfly_piece_fetcher_new (TIMEOUT);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  char  buffer[10];
  gsize n = 0;

  parent_push (parent, answer_206 (0, 9, TRUE, AFTER_KEEP));
  stream = dfly_piece_fetcher_open (fetcher, parent->url, 0, 9, NULL, &error);
  g_assert_no_error (error);
  dfly_piece_fetcher_unref (fetcher);
  g_assert_true (g_input_stream_read_all (stream, buffer, sizeof buffer, &n, NULL, &error));
  g_assert_cmpuint (n, ==, sizeof buffer);
  g_assert_true (g_input_stream_close (stream, NULL, NULL));
  g_clear_object (&stream);
  /* The pool went with the fetcher, and closed the connection. */
  parent_wait_closed (parent, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/piece-fetcher/reuse", test_reuse);
  g_test_add_func ("/piece-fetcher/cut-short", test_cut_short);
  g_test_add_func ("/piece-fetcher/answers", test_answers);
  g_test_add_func ("/piece-fetcher/empty-refusal", test_empty_refusal);
  g_test_add_func ("/piece-fetcher/long-answers", test_long_answers);
  g_test_add_func ("/piece-fetcher/pooled-closed", test_pooled_closed);
  g_test_add_func ("/piece-fetcher/silent", test_silent);
  g_test_add_func ("/piece-fetcher/silent-pooled", test_silent_pooled);
  g_test_add_func ("/piece-fetcher/cancel", test_cancel);
  g_test_add_func ("/piece-fetcher/bad-url", test_bad_url);
  g_test_add_func ("/piece-fetcher/refused-connection", test_refused_connection);
  g_test_add_func ("/piece-fetcher/threads", test_threads);
  g_test_add_func ("/piece-fetcher/stream-outlives-fetcher", test_stream_outlives_fetcher);
  return g_test_run ();
}
