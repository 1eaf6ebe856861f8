/* dfly-wire.c — protocol messages on libsoup (see dfly-wire.h) */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <dfly/dfly.h>

#include "dfly-wire-backlog.h"
#include "dfly-wire-guard.h"
#include "dfly-wire.h"

/* Under AddressSanitizer, allocations libsoup makes and never frees (see
 * dfly_wire_listen) are kept out of LeakSanitizer's report. */
#if defined(__SANITIZE_ADDRESS__)
#define DFLY_WIRE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DFLY_WIRE_ASAN 1
#endif
#endif
#ifdef DFLY_WIRE_ASAN
#include <sanitizer/lsan_interface.h>
#define LEAKS_IGNORED_BEGIN() __lsan_disable ()
#define LEAKS_IGNORED_END()   __lsan_enable ()
#else
#define LEAKS_IGNORED_BEGIN() ((void) 0)
#define LEAKS_IGNORED_END()   ((void) 0)
#endif

GBytes *
dfly_wire_pack (DflyMessageType type, const ProtobufCMessage *message)
{
  gsize              size = protobuf_c_message_get_packed_size (message);
  g_autofree guint8 *payload = g_malloc (MAX (size, 1));

  protobuf_c_message_pack (message, payload);
  return dfly_frame_encode (type, payload, size);
}

ProtobufCMessage *
dfly_wire_unpack (const guint8 *data, gsize length, gsize max_size, guint32 expected, guint32 *type,
                  GError **error)
{
  g_autoptr (GBytes) payload = NULL;
  gsize   consumed = 0;
  guint32 got = 0;

  if (!dfly_frame_decode (data, length, max_size, &consumed, &got, &payload, error))
    return NULL;
  if (consumed == 0 || consumed != length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 consumed == 0 ? "truncated frame (%" G_GSIZE_FORMAT " bytes)"
                               : "%" G_GSIZE_FORMAT " bytes after the frame",
                 consumed == 0 ? length : length - consumed);
    return NULL;
  }
  if (expected != 0 && got != expected) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "message of type %u where type %u was expected", got, expected);
    return NULL;
  }
  if (type != NULL)
    *type = got;
  return dfly_message_decode (got, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                              error);
}

#define KEEPALIVE_SECONDS 5
/* Bytes a stream's peer may leave unread before it is cut: at least this,
 * and room for two of the largest messages. */
#define SEND_QUEUE_MIN (8 * 1024 * 1024)
#define SEND_QUEUE_KEY "dfly-wire-send-queue"

typedef struct {
  DflyWireBacklog *backlog;
  guint64          cap;
} SendQueue;

static void
send_queue_free (SendQueue *queue)
{
  dfly_wire_backlog_free (queue->backlog);
  g_free (queue);
}

GSocket *
dfly_wire_socket_of (GIOStream *stream)
{
  g_autoptr (GIOStream) level = stream != NULL ? g_object_ref (stream) : NULL;

  for (guint depth = 0; level != NULL && depth < 4; depth++) {
    GIOStream  *base = NULL;
    const char *property = G_IS_TLS_CONNECTION (level) ? "base-io-stream" : "base-iostream";

    if (G_IS_SOCKET_CONNECTION (level))
      return g_socket_connection_get_socket (G_SOCKET_CONNECTION (level));
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (level), property) == NULL)
      return NULL;
    g_object_get (level, property, &base, NULL);
    g_object_unref (level);
    level = base;
  }
  return NULL;
}

/* The socket under a WebSocket (a new reference), or NULL. */
static GSocket *
socket_of (SoupWebsocketConnection *connection)
{
  GSocket *socket = dfly_wire_socket_of (soup_websocket_connection_get_io_stream (connection));

  return socket != NULL ? g_object_ref (socket) : NULL;
}

void
dfly_wire_ws_setup (SoupWebsocketConnection *connection, gsize max_message_size)
{
  g_autoptr (GSocket) socket = socket_of (connection);
  DflyWireBacklog *backlog = socket != NULL ? dfly_wire_backlog_new (socket) : NULL;

  soup_websocket_connection_set_max_incoming_payload_size (connection, max_message_size +
                                                                         DFLY_FRAME_HEADER_SIZE);
  soup_websocket_connection_set_keepalive_interval (connection, KEEPALIVE_SECONDS);
  if (backlog != NULL) {
    SendQueue *queue = g_new0 (SendQueue, 1);

    queue->backlog = backlog;
    queue->cap = MAX (SEND_QUEUE_MIN, 2 * (max_message_size + DFLY_FRAME_HEADER_SIZE));
    g_object_set_data_full (G_OBJECT (connection), SEND_QUEUE_KEY, queue,
                            (GDestroyNotify) send_queue_free);
  } else {
    g_debug ("a stream without a TCP socket: its send queue is not watched");
  }
}

void
dfly_wire_ws_accept (SoupServerMessage *msg, SoupWebsocketConnection *connection,
                     gsize max_message_size)
{
  const DflyIdentity *identity = dfly_identity_of_message (msg);

  if (identity != NULL)
    dfly_identity_attach_to_websocket (connection, (DflyIdentity *) identity);
  dfly_wire_ws_setup (connection, max_message_size);
}

/* The peer stopped reading: libsoup would queue what we send for ever. */
static void
cut (SoupWebsocketConnection *connection, guint64 waiting, const char *over)
{
  g_autoptr (GSocket) socket = socket_of (connection);
  g_autoptr (GSocketAddress) remote =
    socket != NULL ? g_socket_get_remote_address (socket, NULL) : NULL;
  g_autofree char *peer = remote != NULL
                            ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote))
                            : g_strdup ("a peer");

  g_message ("closing a stream to %s: %" G_GUINT64_FORMAT " bytes sent to it wait unread, "
             "more than %s",
             peer, waiting, over);
  soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                   "not reading");
  /* Its close frame would wait behind the rest: the queue goes now. */
  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

void
dfly_wire_ws_send (SoupWebsocketConnection *connection, DflyMessageType type,
                   const ProtobufCMessage *message)
{
  g_autoptr (GBytes) frame = NULL;
  SendQueue *queue;
  guint64    waiting;

  if (soup_websocket_connection_get_state (connection) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  frame = dfly_wire_pack (type, message);
  queue = g_object_get_data (G_OBJECT (connection), SEND_QUEUE_KEY);
  if (queue != NULL) {
    waiting = dfly_wire_backlog_add (queue->backlog, g_bytes_get_size (frame));
    /* Over its own cap; or its server's streams together are over theirs,
     * and this one leaves more than its share unread. */
    if (waiting > queue->cap || dfly_wire_backlog_over_share (queue->backlog)) {
      cut (connection, waiting, waiting > queue->cap ? "its cap" : "its share of what all may");
      return;
    }
  }
  soup_websocket_connection_send_message (connection, SOUP_WEBSOCKET_DATA_BINARY, frame);
}

static void
post_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SoupMessage *msg = g_task_get_task_data (task);
  GError      *error = NULL;
  GBytes      *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  if (body == NULL) {
    g_task_return_error (task, error);
    return;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg))) {
    g_task_return_new_error (task, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "%s answered %u %s",
                             g_uri_get_host (soup_message_get_uri (msg)),
                             soup_message_get_status (msg), soup_message_get_reason_phrase (msg));
    g_bytes_unref (body);
    return;
  }
  g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
}

void
dfly_wire_post_async (SoupSession *session, const char *url, DflyMessageType type,
                      const ProtobufCMessage *message, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (session, cancellable, callback, user_data);
  g_autoptr (GBytes) frame = dfly_wire_pack (type, message);
  SoupMessage *msg = soup_message_new (SOUP_METHOD_POST, url);

  if (msg == NULL) {
    g_task_return_new_error (task, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "not a valid URL: %s",
                             url);
    g_object_unref (task);
    return;
  }
  soup_message_set_request_body_from_bytes (msg, "application/x-dfly-frame", frame);
  g_task_set_task_data (task, msg, g_object_unref);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable, post_done, task);
}

GBytes *
dfly_wire_post_finish (SoupSession *session, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Refuses a body this server will not read whole: any body but a POST's,
 * one without a length, one over the cap. A refused body is not kept. */
static void
on_got_headers (SoupServerMessage *msg, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  gsize               max_size = GPOINTER_TO_SIZE (user_data);
  SoupEncoding        encoding = soup_message_headers_get_encoding (headers);
  goffset             length = soup_message_headers_get_content_length (headers);
  gboolean            post = strcmp (soup_server_message_get_method (msg), SOUP_METHOD_POST) == 0;
  gboolean            has_body =
    encoding != SOUP_ENCODING_NONE && !(encoding == SOUP_ENCODING_CONTENT_LENGTH && length == 0);

  if (!has_body)
    return;
  if (post && encoding == SOUP_ENCODING_CONTENT_LENGTH && length > 0 &&
      (guint64) length <= max_size)
    return;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), user_data);
}

void
dfly_wire_server_cap_bodies (SoupServer *server, gsize max_size)
{
  g_signal_connect (server, "request-started", G_CALLBACK (on_request_started),
                    GSIZE_TO_POINTER (max_size));
}

ProtobufCMessage *
dfly_wire_read_request (SoupServerMessage *msg, gsize max_size, guint32 expected)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  ProtobufCMessage *message;

  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_POST) != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
    return NULL;
  }
  bytes = soup_message_body_flatten (body);
  message = dfly_wire_unpack (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), max_size,
                              expected, NULL, &error);
  if (message == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, error->message,
                                      strlen (error->message));
  }
  return message;
}

void
dfly_wire_reply (SoupServerMessage *msg, DflyMessageType type, const ProtobufCMessage *message)
{
  g_autoptr (GBytes) frame = dfly_wire_pack (type, message);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/x-dfly-frame", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

#define DIVERT_WAIT_SECONDS 30 /* without a header timeout */
#define DIVERT_RECHECK_MS   10 /* a first request split before the prefix's end */
/* Longer than this a prefix's start is left for the server to deal with
 * (a peeked socket never tells that its peer closed). */
#define DIVERT_PARTIAL_US (G_USEC_PER_SEC)
/* Connections waiting for their first bytes, at most; beyond, they go
 * straight to the server. */
#define DIVERT_WAITING_MAX 1024

struct _DflyWireListener {
  GSocketService    *service;
  SoupServer        *server;
  guint16            port;
  guint              io_timeout;
  DflyWireGuard     *guard;         /* caps and head deadlines */
  char              *divert_prefix; /* NULL: every connection to the server */
  DflyWireDivertFunc divert;
  gpointer           divert_data;
  GPtrArray         *waiting;     /* Waiting *: connections not yet sorted */
  DflyTls           *tls;         /* NULL: plaintext */
  GCancellable      *cancellable; /* handshakes in flight */
};

#define IDENTITY_KEY "dfly-wire-identity"

/* Hands stream (connection itself, or TLS over it) to the server. Under
 * TLS the client's identity rides on the remote address object, which the
 * server keeps for the connection's messages (see on_request_identify). */
static void
serve_stream (DflyWireListener *listener, GSocketConnection *connection, GIOStream *stream,
              DflyIdentity *identity)
{
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr (GError) error = NULL;

  /* A client gone before we got to it has no remote address: nothing to serve. */
  if (local == NULL || remote == NULL)
    return;
  if (identity != NULL)
    g_object_set_data_full (G_OBJECT (remote), IDENTITY_KEY, dfly_identity_ref (identity),
                            (GDestroyNotify) dfly_identity_unref);
  dfly_wire_guard_serve (listener->guard, connection, remote);
  if (!soup_server_accept_iostream (listener->server, stream, local, remote, &error))
    g_debug ("dropping a connection: %s", error->message);
}

static void
serve (DflyWireListener *listener, GSocketConnection *connection)
{
  serve_stream (listener, connection, G_IO_STREAM (connection), NULL);
}

/* A connection whose first bytes decide where it goes. */
typedef struct {
  DflyWireListener  *listener;
  GSocketConnection *connection;
  GSource           *source;        /* bytes, or a recheck */
  guint              timeout_id;    /* the deadline */
  gint64             partial_since; /* 0, or when a prefix's start was first seen */
} Waiting;

static void
waiting_free (Waiting *waiting)
{
  g_source_destroy (waiting->source);
  g_source_unref (waiting->source);
  g_clear_handle_id (&waiting->timeout_id, g_source_remove);
  g_object_unref (waiting->connection);
  g_free (waiting);
}

static gboolean on_first_bytes (gpointer user_data);

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  return on_first_bytes (user_data);
}

/* Until the socket is readable (readable is TRUE) or a short while. */
static void
wait_for (Waiting *waiting, gboolean readable)
{
  GSocket *socket = g_socket_connection_get_socket (waiting->connection);

  if (waiting->source != NULL) {
    g_source_destroy (waiting->source);
    g_source_unref (waiting->source);
  }
  if (readable) {
    waiting->source = g_socket_create_source (socket, G_IO_IN, NULL);
    g_source_set_callback (waiting->source, G_SOURCE_FUNC (on_readable), waiting, NULL);
  } else {
    waiting->source = g_timeout_source_new (DIVERT_RECHECK_MS);
    g_source_set_callback (waiting->source, on_first_bytes, waiting, NULL);
  }
  g_source_attach (waiting->source, NULL);
}

/* The first bytes (or the end) arrived: sorts the connection out. */
static gboolean
on_first_bytes (gpointer user_data)
{
  Waiting          *waiting = user_data;
  DflyWireListener *listener = waiting->listener;
  GSocket          *socket = g_socket_connection_get_socket (waiting->connection);
  gsize             want = strlen (listener->divert_prefix);
  g_autofree char  *peeked = g_malloc (want);
  gssize            n;

  do
    n = recv (g_socket_get_fd (socket), peeked, want, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    n = 0; /* woken by the timer with nothing yet */
  else if (n <= 0)
    n = -1; /* closed or broken before a request */
  if (n > 0 && waiting->partial_since == 0)
    waiting->partial_since = g_get_monotonic_time ();
  if (n >= 0 && (gsize) n < want && memcmp (peeked, listener->divert_prefix, n) == 0 &&
      (n == 0 || g_get_monotonic_time () - waiting->partial_since < DIVERT_PARTIAL_US)) {
    /* Too early to tell (a prefix split across packets, or nothing yet):
     * look again shortly, the socket may stay readable meanwhile. */
    wait_for (waiting, n == 0);
    return G_SOURCE_REMOVE;
  }
  {
    g_autoptr (GSocketConnection) connection = g_object_ref (waiting->connection);

    g_ptr_array_remove_fast (listener->waiting, waiting); /* frees it */
    if ((gsize) n == want && memcmp (peeked, listener->divert_prefix, want) == 0) {
      dfly_wire_guard_hand_over (listener->guard, connection);
      listener->divert (G_IO_STREAM (g_steal_pointer (&connection)), listener->divert_data);
    } else if (n > 0) {
      serve (listener, connection);
    }
  }
  return G_SOURCE_REMOVE;
}

static gboolean
on_waiting_timeout (gpointer user_data)
{
  Waiting *waiting = user_data;

  g_debug ("dropping a connection that sent no request in time");
  waiting->timeout_id = 0;
  g_ptr_array_remove_fast (waiting->listener->waiting, waiting);
  return G_SOURCE_REMOVE;
}

/* ---- under TLS ---- */

typedef struct {
  DflyWireListener  *listener; /* gone once cancellable is cancelled */
  GSocketConnection *connection;
  GCancellable      *cancellable;
} Handshaking;

static void
on_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Handshaking      *handshaking = user_data;
  DflyWireListener *listener = handshaking->listener;
  g_autoptr (GSocketConnection) connection = handshaking->connection;
  g_autoptr (GCancellable) cancellable = handshaking->cancellable;
  g_autoptr (DflyIdentity) identity = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOStream) stream =
    dfly_tls_server_handshake_finish (DFLY_TLS (source), result, &identity, &error);
  const char *protocol;

  g_free (handshaking);
  if (stream == NULL || g_cancellable_is_cancelled (cancellable)) {
    if (stream == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
      g_autofree char *from = remote != NULL
                                ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote))
                                : g_strdup ("a client");

      g_message ("tls: refusing %s: %s", from, error->message);
    }
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    return;
  }
  /* Piece connections say so in the handshake (ALPN), not in bytes that
   * would have to be peeked through TLS. */
  protocol = g_tls_connection_get_negotiated_protocol (G_TLS_CONNECTION (stream));
  if (listener->divert != NULL && g_strcmp0 (protocol, DFLY_TLS_ALPN_PIECES) == 0) {
    dfly_wire_guard_hand_over (listener->guard, connection);
    listener->divert (g_steal_pointer (&stream), listener->divert_data);
  } else {
    serve_stream (listener, connection, stream, identity);
  }
}

/* Under TLS every message learns who sent it, from its connection's
 * remote address object (serve_stream). */
static void
on_request_identify (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  DflyIdentity   *identity =
    remote != NULL ? g_object_get_data (G_OBJECT (remote), IDENTITY_KEY) : NULL;

  if (identity != NULL)
    dfly_identity_attach_to_message (msg, identity);
}

void
dfly_wire_listener_set_tls (DflyWireListener *listener, DflyTls *tls)
{
  g_return_if_fail (listener->tls == NULL);
  if (tls == NULL)
    return;
  listener->tls = g_object_ref (tls);
  g_signal_connect_object (listener->server, "request-started", G_CALLBACK (on_request_identify),
                           NULL, 0);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  DflyWireListener *listener = user_data;
  Waiting          *waiting;
  guint             wait_seconds = dfly_wire_guard_get_header_timeout (listener->guard);

  if (!dfly_wire_guard_admit (listener->guard, connection))
    return TRUE;
  if (listener->tls != NULL) {
    Handshaking *handshaking = g_new0 (Handshaking, 1);

    handshaking->listener = listener;
    handshaking->connection = g_object_ref (connection);
    handshaking->cancellable = g_object_ref (listener->cancellable);
    g_socket_set_timeout (g_socket_connection_get_socket (connection), listener->io_timeout);
    dfly_tls_server_handshake_async (listener->tls, G_IO_STREAM (connection), listener->cancellable,
                                     on_handshake, handshaking);
    return TRUE;
  }
  if (listener->divert == NULL || listener->waiting->len >= DIVERT_WAITING_MAX) {
    serve (listener, connection);
    return TRUE;
  }
  waiting = g_new0 (Waiting, 1);
  waiting->listener = listener;
  waiting->connection = g_object_ref (connection);
  waiting->timeout_id = g_timeout_add_seconds (
    wait_seconds > 0 ? wait_seconds : DIVERT_WAIT_SECONDS, on_waiting_timeout, waiting);
  g_ptr_array_add (listener->waiting, waiting);
  wait_for (waiting, TRUE);
  return TRUE;
}

void
dfly_wire_listener_divert (DflyWireListener *listener, const char *prefix, DflyWireDivertFunc func,
                           gpointer user_data)
{
  g_return_if_fail (listener->divert == NULL && prefix != NULL && *prefix != '\0');
  listener->divert_prefix = g_strdup (prefix);
  listener->divert = func;
  listener->divert_data = user_data;
}

void
dfly_wire_limits_from_config (const DflyConfig *config, DflyWireLimits *limits)
{
  limits->max_connections = config->protocol.max_connections;
  limits->max_per_address = config->protocol.max_connections_per_address;
  limits->header_timeout = config->protocol.header_timeout;
  limits->idle_timeout = config->protocol.idle_timeout;
  limits->max_unread = config->protocol.max_unread;
}

DflyWireListener *
dfly_wire_listen (SoupServer *server, const char *ip, guint16 port, const DflyWireLimits *limits,
                  GError **error)
{
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string (ip, port);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GSList) listeners = NULL;
  g_autofree char            *name = NULL;
  static const DflyWireLimits no_limits = { 0 };
  DflyWireListener           *listener;

  if (address == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s is not an IP address", ip);
    return NULL;
  }
  if (limits == NULL)
    limits = &no_limits;
  listener = g_new0 (DflyWireListener, 1);
  listener->service = g_socket_service_new ();
  /* GLib's default backlog of 10 drops SYNs when a swarm connects at once;
   * each drop costs a second. The kernel caps it at somaxconn. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (listener->service), 4096);
  listener->server = g_object_ref (server);
  listener->io_timeout = limits->idle_timeout;
  listener->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) waiting_free);
  listener->cancellable = g_cancellable_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (listener->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                      &local_error)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot listen on %s port %u: %s", ip, port,
                 local_error->message);
    dfly_wire_listener_free (listener);
    return NULL;
  }
  listener->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  name = g_strdup_printf ("%s port %u", ip, listener->port);
  listener->guard = dfly_wire_guard_new (server, name, limits);
  /* SoupServer keeps a connection alive after a response only while it has
   * a listener of its own; without one, every request would cost a new
   * connection (one per piece). So it gets one, on a loopback port nobody
   * is told of. */
  listeners = soup_server_get_listeners (server);
  if (listeners == NULL) {
    gboolean listening;

    /* libsoup 3.2's listener never frees its local address (valgrind
     * suppresses the same stack: tests/valgrind.supp). */
    LEAKS_IGNORED_BEGIN ();
    listening = soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &local_error);
    LEAKS_IGNORED_END ();
    if (!listening) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot listen on loopback: %s",
                   local_error->message);
      dfly_wire_listener_free (listener);
      return NULL;
    }
  }
  g_signal_connect (listener->service, "incoming", G_CALLBACK (on_incoming), listener);
  return listener;
}

guint16
dfly_wire_listener_get_port (DflyWireListener *listener)
{
  return listener->port;
}

void
dfly_wire_listener_free (DflyWireListener *listener)
{
  if (listener == NULL)
    return;
  g_signal_handlers_disconnect_by_data (listener->service, listener);
  /* Handshakes still running end cancelled, before the listener goes. */
  g_cancellable_cancel (listener->cancellable);
  g_ptr_array_unref (listener->waiting);
  g_free (listener->divert_prefix);
  dfly_wire_guard_free (listener->guard);
  g_socket_service_stop (listener->service);
  g_socket_listener_close (G_SOCKET_LISTENER (listener->service));
  g_object_unref (listener->service);
  g_object_unref (listener->server);
  g_clear_object (&listener->tls);
  g_clear_object (&listener->cancellable);
  g_free (listener);
}

void
dfly_wire_host_to_message (const DflyHostInfo *info, Dfly__V1__Host *host)
{
  host->id = info->id;
  host->type = (Dfly__V1__HostType) info->type;
  host->hostname = info->hostname != NULL ? info->hostname : "";
  host->ip = info->ip != NULL ? info->ip : "";
  host->port = info->port;
  host->idc = info->idc != NULL ? info->idc : "";
  host->location = info->location != NULL ? info->location : "";
  host->disable_shared = info->disable_shared;
  host->cpu_count = info->cpu_count;
  host->memory_total = info->mem_total;
  host->memory_available = info->mem_available;
  host->disk_total = info->disk_total;
  host->disk_free = info->disk_free;
  host->upload_rate_limit = info->upload_rate_limit;
  host->upload_rate_free = info->upload_rate_free;
  host->concurrent_upload_count = info->upload_slots_used;
  host->concurrent_upload_limit = info->upload_slots;
  host->announce_interval = info->announce_interval;
}

static gboolean
valid_text (const char *text, gsize max)
{
  return text != NULL && strlen (text) <= max;
}

DflyHostInfo *
dfly_wire_host_from_message (const Dfly__V1__Host *host, GError **error)
{
  DflyHostInfo *info;

  if (host == NULL || host->id == NULL || host->id[0] == '\0' || !valid_text (host->id, 512)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "host announce without an id");
    return NULL;
  }
  /* A scoped IPv6 address (fe80::1%eth0) names a link of the sender's. */
  if (host->ip == NULL || !g_hostname_is_ip_address (host->ip) || strchr (host->ip, '%') != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "host %s: \"%s\" is not an IP address",
                 host->id, host->ip != NULL ? host->ip : "");
    return NULL;
  }
  if (host->port > G_MAXUINT16 || host->type > DFLY__V1__HOST_TYPE__HOST_TYPE_WEAK ||
      !valid_text (host->hostname, 255) || !valid_text (host->idc, 255) ||
      !valid_text (host->location, 1024)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "host %s: a field is out of range",
                 host->id);
    return NULL;
  }
  info = dfly_host_info_new (host->id);
  info->type = (DflyHostType) host->type;
  info->hostname = g_strdup (host->hostname);
  info->ip = g_strdup (host->ip);
  info->port = (guint16) host->port;
  info->idc = g_strdup (host->idc);
  info->location = g_strdup (host->location);
  info->disable_shared = host->disable_shared;
  info->cpu_count = host->cpu_count;
  info->mem_total = host->memory_total;
  info->mem_available = host->memory_available;
  info->disk_total = host->disk_total;
  info->disk_free = host->disk_free;
  info->announce_interval = host->announce_interval;
  info->upload_slots = host->concurrent_upload_limit;
  info->upload_slots_used = host->concurrent_upload_count;
  info->upload_rate_limit = host->upload_rate_limit;
  info->upload_rate_free = host->upload_rate_free;
  return info;
}

gboolean
dfly_wire_bitmap_get (GByteArray *bits, guint32 n)
{
  return n / 8 < bits->len && (bits->data[n / 8] & (1u << (n % 8))) != 0;
}

void
dfly_wire_bitmap_set (GByteArray *bits, guint32 n)
{
  if (n / 8 >= bits->len) {
    guint old = bits->len;

    g_byte_array_set_size (bits, n / 8 + 1);
    memset (bits->data + old, 0, bits->len - old);
  }
  bits->data[n / 8] |= 1u << (n % 8);
}

char *
dfly_wire_base_url (const char *ip, guint port, gboolean tls)
{
  const char *scheme = tls ? "https" : "http";

  return strchr (ip, ':') != NULL ? g_strdup_printf ("%s://[%s]:%u", scheme, ip, port)
                                  : g_strdup_printf ("%s://%s:%u", scheme, ip, port);
}

SoupSession *
dfly_wire_session_new (DflyContext *context, DflyRoleFlags roles, guint timeout, guint idle_timeout)
{
  SoupSession *session =
    soup_session_new_with_options ("timeout", timeout, "idle-timeout", idle_timeout, NULL);

  if (dfly_context_get_tls (context) != NULL)
    dfly_tls_setup_session (dfly_context_get_tls (context), session, roles);
  return session;
}
