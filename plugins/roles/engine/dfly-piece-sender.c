/* dfly-piece-sender.c — piece bytes to children (see the header)
 *
 * Each connection's thread reads request heads into a fixed buffer (bytes
 * of a pipelined next request stay there), answers each, and ends when the
 * child closes, asks to, stays idle too long or misbehaves. The socket is
 * made blocking: sendfile then sleeps in the kernel until the range is out,
 * with SO_SNDTIMEO bounding a stall. Stopping shuts every socket down,
 * which wakes its thread.
 *
 * Under TLS the bytes must pass through GnuTLS in this process (the kernel
 * here has no TLS offload, so no sendfile): the thread reads the content
 * into a fixed buffer and writes it to the GTlsConnection, with the
 * GSocket's timeout bounding each wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dfly-piece-http.h"
#include "dfly-wire.h"
#include "dfly-piece-sender.h"

/* Longer than SoupSession's 60 s, so the child closes an idle connection
 * first and never sends a request into one being closed here. */
#define IDLE_TIMEOUT_MS (90 * 1000)
/* Piece connections beyond the upload slots, for idle kept-alive ones. */
#define IDLE_CONNECTIONS 256
/* Connections refused over the cap are logged at most once per this many µs. */
#define REFUSED_LINE_US (10 * G_USEC_PER_SEC)
/* Under a rate limit, bytes go out in slices of this size. */
#define PACED_SLICE (256 * 1024)
/* Under TLS, content is copied through a buffer of this size. */
#define TLS_COPY_BUFFER (64 * 1024)

struct _DflyPieceSender {
  DflyContext      *context;
  DflyStorage      *storage;
  DflyRateLimiter  *limiter;
  DflyUploadPolicy *policy;      /* admits ranges, from any connection's thread */
  DflyHostType      host_type;   /* picks the upload slots' key */
  GCancellable     *cancellable; /* cancelled when stopping: ends rate-limit waits */
  GMutex            lock;
  GCond             cond; /* a connection ended */
  gboolean          stopping;
  GPtrArray        *connections; /* Connection * being served */
  GPtrArray        *finished;    /* GThread * of ended connections, to join */
  guint             active;      /* ranges being sent */
  guint64           bytes_sent;
  guint             refused;      /* connections over the cap since the last line saying so */
  gint64            refused_line; /* that line's time, monotonic µs; 0: none yet */
};

typedef struct {
  DflyPieceSender *sender;
  GIOStream       *stream; /* a GSocketConnection, or a GTlsConnection over one */
  GSocket         *socket;
  gboolean         tls;
  char            *copy_buffer; /* TLS_COPY_BUFFER bytes under TLS */
  int              fd;
  GThread         *thread;
  guint            timeout_ms; /* http.read_timeout: a stalled head or send */
  guint            head_ms;    /* protocol.header_timeout: a head from its first byte */
} Connection;

/* ---- answers ---- */

static gboolean
send_all (Connection *c, const char *data, gsize length, int flags)
{
  int fd = c->fd;

  if (c->tls) {
    g_socket_set_timeout (c->socket, c->timeout_ms / 1000);
    return g_output_stream_write_all (g_io_stream_get_output_stream (c->stream), data, length, NULL,
                                      NULL, NULL);
  }
  while (length > 0) {
    gssize n = send (fd, data, length, flags | MSG_NOSIGNAL);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    length -= n;
  }
  return TRUE;
}

static const char *
reason_phrase (guint status)
{
  if (status == STATUS_TOO_MANY_REQUESTS)
    return "Too Many Requests";
  if (status == STATUS_HEADER_FIELDS_TOO_LARGE)
    return "Request Header Fields Too Large";
  return soup_status_get_phrase (status);
}

/* A short text answer; FALSE when it could not be sent. */
static gboolean
answer (Connection *c, guint status, const char *extra_headers, const char *why,
        gboolean keep_alive)
{
  g_autofree char *body = g_strconcat (why, "\n", NULL);
  g_autofree char *head = g_strdup_printf (
    "HTTP/1.1 %u %s\r\nServer: dfly/" PACKAGE_VERSION "\r\n"
    "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s%s\r\n",
    status, reason_phrase (status), strlen (body), extra_headers != NULL ? extra_headers : "",
    keep_alive ? "" : "Connection: close\r\n");

  return send_all (c, head, strlen (head), MSG_MORE) && send_all (c, body, strlen (body), 0);
}

/* ---- what may be sent ---- */

/* Whether every piece covering [start, end] is committed. */
static gboolean
holds_range (DflyPieceSender *self, const DflyTaskInfo *task, guint64 start, guint64 end)
{
  g_autoptr (GPtrArray) pieces = NULL;
  guint64 first, last;
  guint   found = 0;

  if (task->piece_length == 0)
    return FALSE;
  if (task->state == DFLY_TASK_STATE_SUCCEEDED)
    return TRUE;
  pieces = dfly_storage_list_pieces (self->storage, task->id, NULL);
  first = start / task->piece_length;
  last = end / task->piece_length;
  /* Piece numbers are unique: every one in [first, last] is there when as
   * many of them are. */
  for (guint i = 0; pieces != NULL && i < pieces->len; i++) {
    const DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    if (piece->number >= first && piece->number <= last)
      found++;
  }
  return found == last - first + 1;
}

guint
dfly_piece_sender_get_slots (DflyPieceSender *self)
{
  g_autoptr (DflyConfig) config = dfly_context_dup_config (self->context);

  return self->host_type != DFLY_HOST_TYPE_NORMAL ? config->upload.seed_slots
                                                  : config->upload.slots;
}

typedef enum {
  TAKE_SLOT_OK,
  TAKE_SLOT_BUSY,     /* every slot is taken: 503 */
  TAKE_SLOT_DEFERRED, /* the policy defers this range: 429 */
} TakeSlot;

static void
release_slot (DflyPieceSender *self)
{
  g_mutex_lock (&self->lock);
  self->active--;
  g_mutex_unlock (&self->lock);
}

/* Takes an upload slot for bytes [start, end] of task, if the policy
 * admits them now. With every slot busy the answer is 503 whatever the
 * policy would say, so it never counts a range as sent that was not. */
static TakeSlot
take_slot (DflyPieceSender *self, const char *task_id, goffset start, goffset end)
{
  guint slots = dfly_piece_sender_get_slots (self);

  g_mutex_lock (&self->lock);
  if (self->active >= slots) {
    g_mutex_unlock (&self->lock);
    return TAKE_SLOT_BUSY;
  }
  self->active++;
  g_mutex_unlock (&self->lock);
  if (!dfly_upload_policy_admit (self->policy, task_id, start, end)) {
    release_slot (self);
    return TAKE_SLOT_DEFERRED;
  }
  return TAKE_SLOT_OK;
}

/* ---- sending ---- */

/* length bytes of file at offset through TLS; bytes written, or -1. */
static gssize
copy_to_tls (Connection *c, int file, guint64 offset, gsize length)
{
  gssize n;

  do
    n = pread (file, c->copy_buffer, MIN (length, TLS_COPY_BUFFER), (off_t) offset);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n;
  return send_all (c, c->copy_buffer, n, 0) ? n : -1;
}

/* [offset, end) of file to the socket, paced by the upload rate limit. */
static gboolean
send_range (Connection *c, int file, guint64 offset, guint64 end)
{
  DflyPieceSender *self = c->sender;

  while (offset < end) {
    guint64 slice = end - offset;

    if (dfly_rate_limiter_get_rate (self->limiter) > 0) {
      slice = MIN (slice, PACED_SLICE);
      if (!dfly_rate_limiter_consume (self->limiter, slice, self->cancellable))
        return FALSE;
    }
    while (slice > 0) {
      off_t  position = (off_t) offset;
      gssize n =
        c->tls ? copy_to_tls (c, file, offset, slice) : sendfile (c->fd, file, &position, slice);

      if (n < 0 && errno == EINTR)
        continue;
      /* An error, a stall past SO_SNDTIMEO, or a file shorter than its
       * committed pieces: the body was promised whole, so all that can be
       * done is to cut it, which the child sees and retries elsewhere. */
      if (n <= 0) {
        if (n == 0)
          g_message ("upload: content file ends before %" G_GUINT64_FORMAT, offset);
        return FALSE;
      }
      offset += n;
      slice -= n;
      g_mutex_lock (&self->lock);
      self->bytes_sent += n;
      g_mutex_unlock (&self->lock);
    }
  }
  return TRUE;
}

/* Under TLS an answer leaves as records of at most 16 KiB, each its own
 * write: corked while it is written, so the records fill whole segments and
 * its last one is pushed at once when uncorked, not held by Nagle until the
 * child acknowledges the rest (up to its delayed-ack 40 ms, a piece's tail
 * or a short refusal's body waited). */
static void
cork (Connection *c, gboolean on)
{
  int value = on;

  if (c->tls)
    setsockopt (c->fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
}

/* Answers one request; FALSE when the connection must close. */
static gboolean
serve (Connection *c, const DflyPieceRequest *request)
{
  DflyPieceSender *self = c->sender;
  g_autoptr (DflyTaskInfo) task = dfly_storage_lookup_task (self->storage, request->task_id, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  goffset          start, end;
  gboolean         sent;
  int              file;

  if (task == NULL || task->content_length <= 0)
    return answer (c, SOUP_STATUS_NOT_FOUND, NULL, "task not held", request->keep_alive);
  if (!dfly_piece_request_get_range (request, task->content_length, &start, &end)) {
    g_autofree char *range =
      g_strdup_printf ("Content-Range: bytes */%" G_GINT64_FORMAT "\r\n", task->content_length);

    return answer (c, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, range,
                   "one byte range is required", request->keep_alive);
  }
  if (!holds_range (self, task, start, end))
    return answer (c, SOUP_STATUS_NOT_FOUND, NULL, "piece not held", request->keep_alive);
  switch (take_slot (self, task->id, start, end)) {
  case TAKE_SLOT_DEFERRED:
    return answer (c, STATUS_TOO_MANY_REQUESTS, "Retry-After: 1\r\n",
                   "piece just sent to another peer: ask it", request->keep_alive);
  case TAKE_SLOT_BUSY:
    return answer (c, SOUP_STATUS_SERVICE_UNAVAILABLE, "Retry-After: 1\r\n",
                   "every upload slot is busy", request->keep_alive);
  case TAKE_SLOT_OK:
  default:
    break;
  }
  /* From storage, which opens it under its lock: a task deleted since the
   * lookup is not held, and one deleted from now on still reads whole. */
  file = dfly_storage_open_content (self->storage, task->id, &error);
  if (file < 0) {
    dfly_upload_policy_withdraw (self->policy, task->id, start, end);
    release_slot (self);
    if (!g_error_matches (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND))
      g_message ("upload: task %s: %s", task->id, error->message);
    return answer (c, SOUP_STATUS_NOT_FOUND, NULL, "task not held", request->keep_alive);
  }
  head = g_strdup_printf ("HTTP/1.1 206 Partial Content\r\nServer: dfly/" PACKAGE_VERSION "\r\n"
                          "Content-Type: application/octet-stream\r\n"
                          "Content-Range: bytes %" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT
                          "/%" G_GINT64_FORMAT "\r\n"
                          "Content-Length: %" G_GOFFSET_FORMAT "\r\n%s\r\n",
                          start, end, task->content_length, end - start + 1,
                          request->keep_alive ? "" : "Connection: close\r\n");
  /* MSG_MORE: the head leaves with the first bytes of the body. */
  sent = send_all (c, head, strlen (head), MSG_MORE) &&
         send_range (c, file, (guint64) start, (guint64) end + 1);
  close (file);
  /* Broken off: nobody got this copy, so the next asker may have it. */
  if (!sent)
    dfly_upload_policy_withdraw (self->policy, task->id, start, end);
  release_slot (self);
  return sent && request->keep_alive;
}

/* ---- a connection ---- */

/* Until fd is readable: FALSE after timeout_ms, or when it broke. */
static gboolean
wait_readable (int fd, int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int           n;

  do
    n = poll (&pfd, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  return n > 0;
}

/* Some bytes of a request into buffer; 0 or less when the connection
 * ended, broke, or stayed silent for timeout_ms. */
static gssize
receive (Connection *c, char *buffer, gsize size, int timeout_ms)
{
  gssize n;

  if (c->tls) {
    /* GnuTLS may hold bytes already read from the socket: no poll first. */
    g_socket_set_timeout (c->socket, MAX (timeout_ms / 1000, 1));
    return g_input_stream_read (g_io_stream_get_input_stream (c->stream), buffer, size, NULL, NULL);
  }
  if (!wait_readable (c->fd, timeout_ms))
    return -1;
  do
    n = recv (c->fd, buffer, size, 0);
  while (n < 0 && errno == EINTR);
  return n;
}

static void
serve_connection (Connection *c)
{
  char   buffer[DFLY_PIECE_HEAD_MAX];
  gsize  have = 0;
  gint64 head_due = 0; /* when the head begun must be whole, monotonic µs; 0: none begun */

  for (;;) {
    g_autoptr (DflyPieceRequest) request = NULL;
    g_autoptr (GError) error = NULL;
    gsize    head_length;
    guint    status;
    gboolean served;

    while ((head_length = dfly_piece_head_length (buffer, have)) == 0) {
      gint64 wait_ms = IDLE_TIMEOUT_MS;
      gssize n;

      if (have == sizeof buffer) {
        answer (c, STATUS_HEADER_FIELDS_TOO_LARGE, NULL, "request head too large", FALSE);
        return;
      }
      /* Idle between requests for long; a head once begun must be whole
       * within the header timeout, so a client that trickles its bytes
       * holds no thread for long. */
      if (have > 0) {
        gint64 now = g_get_monotonic_time ();

        if (head_due == 0)
          head_due = now + (gint64) c->head_ms * 1000;
        wait_ms = MIN ((gint64) c->timeout_ms, (head_due - now) / 1000);
        if (wait_ms <= 0) {
          g_debug ("upload: closing a piece connection: no whole request head in time");
          return;
        }
      }
      n = receive (c, buffer + have, sizeof buffer - have, (int) wait_ms);
      if (n <= 0)
        return;
      have += n;
    }
    head_due = 0;
    request = dfly_piece_request_parse (buffer, head_length, &status, &error);
    if (request == NULL) {
      g_info ("upload: refusing a piece request (%u): %s", status, error->message);
      answer (c, status, status == SOUP_STATUS_METHOD_NOT_ALLOWED ? "Allow: GET\r\n" : NULL,
              error->message, FALSE);
      return;
    }
    cork (c, TRUE);
    served = serve (c, request);
    cork (c, FALSE);
    if (!served)
      return;
    memmove (buffer, buffer + head_length, have - head_length);
    have -= head_length;
  }
}

static gpointer
connection_thread (gpointer user_data)
{
  Connection      *c = user_data;
  DflyPieceSender *self = c->sender;
  GIOStream       *stream = c->stream;

  serve_connection (c);
  /* Off the list before the socket closes, so a stop never shuts down a
   * descriptor number already given to someone else. */
  g_mutex_lock (&self->lock);
  g_ptr_array_remove_fast (self->connections, c);
  g_ptr_array_add (self->finished, c->thread);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_free (c->copy_buffer);
  g_free (c);
  g_io_stream_close (stream, NULL, NULL);
  g_object_unref (stream);
  return NULL;
}

/* Joins the threads of connections that ended. */
static void
reap (DflyPieceSender *self)
{
  g_autoptr (GPtrArray) finished = NULL;

  g_mutex_lock (&self->lock);
  finished = g_steal_pointer (&self->finished);
  self->finished = g_ptr_array_new ();
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < finished->len; i++)
    g_thread_join (g_ptr_array_index (finished, i));
}

/* A connection over the cap: said at most once per REFUSED_LINE_US. */
static void
refused_locked (DflyPieceSender *self)
{
  gint64 now = g_get_monotonic_time ();

  self->refused++;
  if (self->refused_line != 0 && now - self->refused_line < REFUSED_LINE_US)
    return;
  g_message ("upload: %u piece connections open, closed %u new one(s)", self->connections->len,
             self->refused);
  self->refused = 0;
  self->refused_line = now;
}

void
dfly_piece_sender_take (DflyPieceSender *self, GIOStream *stream)
{
  g_autoptr (DflyConfig) config = dfly_context_dup_config (self->context);
  gboolean tls = G_IS_TLS_CONNECTION (stream);
  GSocket *socket;
  g_autoptr (GError) error = NULL;
  struct timeval stall = { .tv_sec = config->http.read_timeout };
  Connection    *c;
  GThread       *thread = NULL;
  guint          slots;
  int            flags;

  socket = dfly_wire_socket_of (stream);
  reap (self);
  slots = dfly_piece_sender_get_slots (self);
  c = g_new0 (Connection, 1);
  c->sender = self;
  c->stream = stream;
  c->socket = socket;
  c->tls = tls;
  c->copy_buffer = tls ? g_malloc (TLS_COPY_BUFFER) : NULL;
  c->fd = g_socket_get_fd (socket);
  c->timeout_ms = config->http.read_timeout * 1000;
  c->head_ms = config->protocol.header_timeout * 1000;
  /* Blocking from now on: in plaintext GSocket is no longer used on it
   * (under TLS, GIO waits on it with the socket's timeout). */
  flags = fcntl (c->fd, F_GETFL);
  if (!tls && (flags < 0 || fcntl (c->fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
               setsockopt (c->fd, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof stall) < 0)) {
    g_message ("upload: cannot set up a piece connection: %s", g_strerror (errno));
    g_object_unref (stream);
    g_free (c->copy_buffer);
    g_free (c);
    return;
  }
  g_mutex_lock (&self->lock);
  /* A thread per connection: beyond the slots (and a margin for idle
   * kept-alive ones) a new connection is closed at once. */
  if (self->connections->len >= slots + IDLE_CONNECTIONS)
    refused_locked (self);
  else if (!self->stopping) {
    thread = c->thread = g_thread_try_new ("dfly-upload", connection_thread, c, &error);
    if (thread != NULL)
      g_ptr_array_add (self->connections, c);
  }
  g_mutex_unlock (&self->lock);
  /* Once unlocked, a thread that was made may have served and freed c. */
  if (thread == NULL) {
    if (error != NULL)
      g_message ("upload: no thread for a piece connection: %s", error->message);
    g_object_unref (stream);
    g_free (c->copy_buffer);
    g_free (c);
  }
}

/* ---- life ---- */

DflyPieceSender *
dfly_piece_sender_new (DflyContext *context, DflyStorage *storage, DflyRateLimiter *limiter,
                       DflyHostType host_type, DflyUploadPolicy *policy)
{
  DflyPieceSender *self = g_new0 (DflyPieceSender, 1);

  self->context = g_object_ref (context);
  self->storage = g_object_ref (storage);
  self->limiter = limiter;
  self->policy = g_object_ref (policy);
  self->host_type = host_type;
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->connections = g_ptr_array_new ();
  self->finished = g_ptr_array_new ();
  return self;
}

void
dfly_piece_sender_free (DflyPieceSender *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  for (guint i = 0; i < self->connections->len; i++)
    shutdown (((Connection *) g_ptr_array_index (self->connections, i))->fd, SHUT_RDWR);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
  g_mutex_lock (&self->lock);
  while (self->connections->len > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  reap (self);
  g_ptr_array_unref (self->connections);
  g_ptr_array_unref (self->finished);
  g_object_unref (self->policy);
  g_object_unref (self->cancellable);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_object_unref (self->storage);
  g_object_unref (self->context);
  g_free (self);
}

guint
dfly_piece_sender_get_active (DflyPieceSender *self)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->active;
}

guint64
dfly_piece_sender_get_bytes_sent (DflyPieceSender *self)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->bytes_sent;
}
