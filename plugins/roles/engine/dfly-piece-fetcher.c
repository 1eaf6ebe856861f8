/* dfly-piece-fetcher.c — piece bytes from parents (see the header)
 *
 * The pool holds idle connections by "host:port". A connection taken from
 * it may have been closed by its parent meanwhile (a parent drops one idle
 * for 90 s): a request on it that gets no answer at all is sent once more
 * on a new connection. A body's first bytes often arrive with its head;
 * they are kept and read first.
 *
 * A parent URL in https is reached over mutual TLS (dfly-tls.h), asking for
 * ALPN DFLY_TLS_ALPN_PIECES; its bytes then go through GIO's streams with
 * the socket's timeout instead of recv() on a blocking descriptor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "dfly-piece-fetcher.h"
#include "dfly-piece-http.h"
#include "dfly-wire.h"

#define IDLE_PER_PARENT 32 /* connections kept idle per parent; more are closed */
/* An error answer's body is read (to keep the connection) up to this size. */
#define DRAIN_MAX 4096

struct _DflyPieceFetcher {
  gint        ref_count;
  guint       timeout;
  DflyTls    *tls; /* for https parents; NULL: none */
  GMutex      lock;
  GHashTable *idle; /* "scheme://host:port" → GQueue of GIOStream */
};

static void
idle_queue_free (GQueue *queue)
{
  g_queue_free_full (queue, g_object_unref);
}

DflyPieceFetcher *
dfly_piece_fetcher_new (guint timeout)
{
  DflyPieceFetcher *self = g_new0 (DflyPieceFetcher, 1);

  self->ref_count = 1;
  self->timeout = timeout;
  g_mutex_init (&self->lock);
  self->idle =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) idle_queue_free);
  return self;
}

DflyPieceFetcher *
dfly_piece_fetcher_ref (DflyPieceFetcher *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
dfly_piece_fetcher_unref (DflyPieceFetcher *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_hash_table_unref (self->idle);
  g_clear_object (&self->tls);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
dfly_piece_fetcher_set_tls (DflyPieceFetcher *self, DflyTls *tls)
{
  g_set_object (&self->tls, tls);
}

/* An idle connection to key, or NULL. */
static GIOStream *
take_idle (DflyPieceFetcher *self, const char *key)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GQueue *queue = g_hash_table_lookup (self->idle, key);

  return queue != NULL ? g_queue_pop_head (queue) : NULL;
}

static void
give_back (DflyPieceFetcher *self, const char *key, GIOStream *connection)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GQueue *queue = g_hash_table_lookup (self->idle, key);

  if (queue == NULL) {
    queue = g_queue_new ();
    g_hash_table_insert (self->idle, g_strdup (key), queue);
  }
  if (queue->length < IDLE_PER_PARENT)
    g_queue_push_head (queue, g_steal_pointer (&connection)); /* the warmest first */
  g_clear_object (&connection);
}

/* ---- blocking I/O, woken by cancellation ---- */

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  shutdown (GPOINTER_TO_INT (user_data), SHUT_RDWR);
}

/* The error for a failed send or recv (n < 0, errno set) or an early end
 * (n == 0). */
static void
set_io_error (GError **error, gssize n, int saved_errno, guint timeout, GCancellable *cancellable,
              const char *what)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return;
  if (n == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "parent closed the connection %s",
                 what);
  else if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "parent silent for %u s %s", timeout,
                 what);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s %s",
                 g_strerror (saved_errno), what);
}

static int
fd_of (GIOStream *connection)
{
  return g_socket_get_fd (dfly_wire_socket_of (connection));
}

/* Through TLS: GIO reads or writes, cancellable and bounded by the
 * socket's timeout; errno is set as recv() and send() would. */
static gssize
tls_transfer (GIOStream *connection, void *buffer, gsize length, gboolean all, gboolean out,
              GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  gsize    done = 0;
  gboolean ok;

  if (out)
    ok = g_output_stream_write_all (g_io_stream_get_output_stream (connection), buffer, length,
                                    &done, cancellable, &error);
  else if (all)
    ok = g_input_stream_read_all (g_io_stream_get_input_stream (connection), buffer, length, &done,
                                  cancellable, &error);
  else {
    gssize n = g_input_stream_read (g_io_stream_get_input_stream (connection), buffer, length,
                                    cancellable, &error);

    ok = n >= 0;
    done = MAX (n, 0);
  }
  if (ok && (done == length || !all || out))
    return done;
  if (ok || done > 0) /* the end came first */
    return done > 0 && !all ? (gssize) done : 0;
  errno = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)   ? EAGAIN
          : g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? ECANCELED
                                                                      : ECONNRESET;
  return -1;
}

/* recv() of up to length bytes (all of them with MSG_WAITALL). */
static gssize
receive (GIOStream *connection, void *buffer, gsize length, int flags, GCancellable *cancellable)
{
  int    fd = fd_of (connection);
  gulong id = 0;
  gssize n;

  if (G_IS_TLS_CONNECTION (connection))
    return tls_transfer (connection, buffer, length, (flags & MSG_WAITALL) != 0, FALSE,
                         cancellable);

  if (cancellable != NULL)
    id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), GINT_TO_POINTER (fd), NULL);
  do
    n = recv (fd, buffer, length, flags);
  while (n < 0 && errno == EINTR && !g_cancellable_is_cancelled (cancellable));
  if (id != 0) {
    int saved_errno = errno;

    g_cancellable_disconnect (cancellable, id);
    errno = saved_errno;
  }
  return n;
}

/* ---- the body as a stream ---- */

#define DFLY_TYPE_PIECE_BODY (dfly_piece_body_get_type ())
G_DECLARE_FINAL_TYPE (DflyPieceBody, dfly_piece_body, DFLY, PIECE_BODY, GInputStream)

struct _DflyPieceBody {
  GInputStream      parent_instance;
  DflyPieceFetcher *fetcher;
  char             *key;
  GIOStream        *connection;
  char             *early; /* body bytes that came with the head */
  gsize             early_length, early_read;
  guint64           remaining;  /* body bytes not read yet */
  gboolean          keep_alive; /* the parent keeps the connection */
  gboolean          broken;     /* a read failed: the connection is done */
};

G_DEFINE_FINAL_TYPE (DflyPieceBody, dfly_piece_body, G_TYPE_INPUT_STREAM)

static gssize
dfly_piece_body_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                      GError **error)
{
  DflyPieceBody *self = DFLY_PIECE_BODY (stream);
  gssize         n;

  count = MIN (count, self->remaining);
  if (count == 0)
    return 0;
  if (self->early_read < self->early_length) {
    n = MIN (count, self->early_length - self->early_read);
    memcpy (buffer, self->early + self->early_read, n);
    self->early_read += n;
  } else {
    n = receive (self->connection, buffer, count, MSG_WAITALL, cancellable);
    if (n <= 0) {
      self->broken = TRUE;
      set_io_error (error, n, errno, self->fetcher->timeout, cancellable, "mid-piece");
      return -1;
    }
  }
  self->remaining -= n;
  return n;
}

static gboolean
dfly_piece_body_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  DflyPieceBody *self = DFLY_PIECE_BODY (stream);

  /* Only a body read to its end leaves the connection at a request's start. */
  if (self->connection != NULL && self->remaining == 0 && self->keep_alive && !self->broken)
    give_back (self->fetcher, self->key, g_steal_pointer (&self->connection));
  g_clear_object (&self->connection);
  return TRUE;
}

static void
dfly_piece_body_finalize (GObject *object)
{
  DflyPieceBody *self = DFLY_PIECE_BODY (object);

  g_clear_object (&self->connection);
  g_free (self->early);
  g_free (self->key);
  dfly_piece_fetcher_unref (self->fetcher);
  G_OBJECT_CLASS (dfly_piece_body_parent_class)->finalize (object);
}

static void
dfly_piece_body_class_init (DflyPieceBodyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_piece_body_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = dfly_piece_body_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = dfly_piece_body_close;
}

static void
dfly_piece_body_init (DflyPieceBody *self)
{
}

/* ---- one request ---- */

/* A new blocking connection to host:port, over TLS if tls. */
static GIOStream *
connect_to (DflyPieceFetcher *self, const char *host, int port, gboolean tls,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  struct timeval timeout = { .tv_sec = self->timeout };
  int            fd, flags;

  g_socket_client_set_timeout (client, self->timeout);
  /* Parents are IP literals on the cluster's network: no proxy lookup
   * (GIO's default asks libproxy on every connect). */
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, host, port, cancellable, error);
  if (connection == NULL)
    return NULL;
  if (tls) {
    g_socket_set_timeout (g_socket_connection_get_socket (connection), self->timeout);
    return dfly_tls_client_handshake (self->tls, G_IO_STREAM (connection), DFLY_TLS_ALPN_PIECES,
                                      DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED, cancellable,
                                      error);
  }
  /* Blocking from now on: GSocket's own I/O is not used on it. */
  fd = g_socket_get_fd (g_socket_connection_get_socket (connection));
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "setting up a connection: %s",
                 g_strerror (errno));
    return NULL;
  }
  return G_IO_STREAM (g_steal_pointer (&connection));
}

static gboolean
send_request (GIOStream *connection, const char *request, GCancellable *cancellable, guint timeout,
              GError **error)
{
  int   fd = fd_of (connection);
  gsize length = strlen (request);

  if (G_IS_TLS_CONNECTION (connection)) {
    if (tls_transfer (connection, (char *) request, length, TRUE, TRUE, cancellable) ==
        (gssize) length)
      return TRUE;
    set_io_error (error, -1, errno, timeout, cancellable, "sending a request");
    return FALSE;
  }

  while (length > 0) {
    gssize n = send (fd, request, length, MSG_NOSIGNAL);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      set_io_error (error, n, errno, timeout, cancellable, "sending a request");
      return FALSE;
    }
    request += n;
    length -= n;
  }
  return TRUE;
}

/* Reads a response head into buffer (DFLY_PIECE_HEAD_MAX bytes); returns
 * its length, *have the bytes read (the head and maybe some body), 0 on
 * error. *nothing says the connection ended before any byte came. */
static gsize
read_head (GIOStream *connection, char *buffer, gsize *have, gboolean *nothing, guint timeout,
           GCancellable *cancellable, GError **error)
{
  gsize head_length;

  *have = 0;
  *nothing = FALSE;
  while ((head_length = dfly_piece_head_length (buffer, *have)) == 0) {
    gssize n;

    if (*have == DFLY_PIECE_HEAD_MAX) {
      g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "response head too large");
      return 0;
    }
    n = receive (connection, buffer + *have, DFLY_PIECE_HEAD_MAX - *have, 0, cancellable);
    if (n <= 0) {
      *nothing = *have == 0;
      set_io_error (error, n, errno, timeout, cancellable, "before answering");
      return 0;
    }
    *have += n;
  }
  return head_length;
}

/* Whether path can go into a request line as it is: printable, no spaces. */
static gboolean
is_request_target (const char *path)
{
  for (const char *p = path; *p != '\0'; p++) {
    if ((guchar) *p <= ' ' || (guchar) *p >= 0x7f)
      return FALSE;
  }
  return TRUE;
}

/* The error for an answer other than the range asked for. */
static void
set_answer_error (GError **error, const DflyPieceResponse *response, const char *parent_url)
{
  if (response->status == STATUS_TOO_MANY_REQUESTS)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "parent %s defers the piece",
                 parent_url);
  else if (response->status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "parent %s has no free upload slot",
                 parent_url);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "parent %s answered %u %s", parent_url,
                 response->status,
                 response->status == SOUP_STATUS_PARTIAL_CONTENT
                   ? "for another range"
                   : soup_status_get_phrase (response->status));
}

GInputStream *
dfly_piece_fetcher_open (DflyPieceFetcher *self, const char *parent_url, guint64 start, guint64 end,
                         GCancellable *cancellable, GError **error)
{
  /* The path stays as sent (encoded): it goes into the request line. */
  g_autoptr (GUri) uri = g_uri_parse (parent_url, G_URI_FLAGS_ENCODED_PATH, NULL);
  g_autofree char *key = NULL;
  g_autofree char *pool_key = NULL;
  g_autofree char *request = NULL;
  char             head[DFLY_PIECE_HEAD_MAX];

  gboolean tls = uri != NULL && g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;

  if (uri == NULL || (!tls && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' || g_uri_get_port (uri) <= 0 ||
      *g_uri_get_path (uri) != '/' || !is_request_target (g_uri_get_path (uri))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "bad parent URL %s", parent_url);
    return NULL;
  }
  if (tls && self->tls == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "parent %s needs TLS, this host has none",
                 parent_url);
    return NULL;
  }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  key = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  pool_key = g_strconcat (g_uri_get_scheme (uri), "://", key, NULL);
  request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n"
                             "Range: bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "\r\n\r\n",
                             g_uri_get_path (uri), key, start, end);
  for (gboolean reused = TRUE;;) {
    g_autoptr (GIOStream) connection = reused ? take_idle (self, pool_key) : NULL;
    g_autoptr (GError) local = NULL;
    DflyPieceResponse response;
    DflyPieceBody    *body;
    gsize             head_length, have = 0;
    gboolean          nothing = FALSE;

    if (connection == NULL) {
      reused = FALSE;
      connection =
        connect_to (self, g_uri_get_host (uri), g_uri_get_port (uri), tls, cancellable, error);
      if (connection == NULL)
        return NULL;
    }
    head_length =
      send_request (connection, request, cancellable, self->timeout, &local)
        ? read_head (connection, head, &have, &nothing, self->timeout, cancellable, &local)
        : 0;
    if (head_length == 0) {
      /* A kept connection the parent had closed: once more on a new one
       * (but a parent that stays silent is not asked twice). */
      if (reused && (nothing || local->domain == G_IO_ERROR) &&
          !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
          !g_cancellable_is_cancelled (cancellable)) {
        reused = FALSE;
        continue;
      }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
    if (!dfly_piece_response_parse (head, head_length, &response, error))
      return NULL;
    body = g_object_new (DFLY_TYPE_PIECE_BODY, NULL);
    body->fetcher = dfly_piece_fetcher_ref (self);
    body->key = g_strdup (pool_key);
    body->connection = g_steal_pointer (&connection);
    body->early_length = have - head_length;
    body->early = g_memdup2 (head + head_length, body->early_length);
    body->remaining = response.content_length >= 0 ? (guint64) response.content_length : 0;
    body->keep_alive = response.keep_alive;
    if (response.status == SOUP_STATUS_PARTIAL_CONTENT && (guint64) response.start == start &&
        (guint64) response.end == end)
      return G_INPUT_STREAM (body);
    /* A short refusal is read to its end, so the connection serves on. */
    if (response.content_length < 0 || response.content_length > DRAIN_MAX ||
        g_input_stream_skip (G_INPUT_STREAM (body), response.content_length, cancellable, NULL) !=
          response.content_length)
      body->keep_alive = FALSE;
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    g_object_unref (body);
    set_answer_error (error, &response, parent_url);
    return NULL;
  }
}
