/* test-wire-limits.c — what a listener bounds, against raw sockets: the
 * connection caps in all and per address (a connection served and closed
 * by its client frees its place), request heads that trickle in, and a
 * WebSocket peer that never reads */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <dfly/dfly.h>

#include "proto/dfly-wire.h"

#define WAIT_MS 10000 /* the bound on every wait; generous for valgrind */

typedef struct {
  SoupServer       *server;
  DflyWireListener *listener;
  guint             handled;
} Fixture;

static void
on_hello (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  ((Fixture *) data)->handled++;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "hello", 5);
}

static void
fixture_start (Fixture *f, const DflyWireLimits *limits)
{
  g_autoptr (GError) error = NULL;

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, "/hello", on_hello, f, NULL);
  f->listener = dfly_wire_listen (f->server, "127.0.0.1", 0, limits, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->listener, dfly_wire_listener_free);
  soup_server_disconnect (f->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->server);
}

/* A connection to the listener from local_ip (127.0.0.x); the server
 * runs in this thread, so its ends only move while the loop turns. */
static GSocket *
connect_from (Fixture *f, const char *local_ip)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string (local_ip, 0);
  g_autoptr (GSocketAddress) remote =
    g_inet_socket_address_new_from_string ("127.0.0.1", dfly_wire_listener_get_port (f->listener));
  g_autoptr (GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, local, FALSE, &error);
  g_assert_no_error (error);
  g_socket_connect (socket, remote, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

static void
send_text (GSocket *socket, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_socket_send (socket, text, strlen (text), NULL, &error), ==, strlen (text));
  g_assert_no_error (error);
}

typedef enum {
  PEER_OPEN,   /* nothing to read yet */
  PEER_DATA,   /* bytes came */
  PEER_CLOSED, /* the server closed or shut it down */
} PeerState;

/* Reads what is there without waiting; bytes go to got, if given. */
static PeerState
peer_state (GSocket *socket, GString *got)
{
  char buffer[4096];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return PEER_OPEN;
  if (n <= 0)
    return PEER_CLOSED;
  if (got != NULL)
    g_string_append_len (got, buffer, n);
  return PEER_DATA;
}

static gboolean
on_timer (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Turns the loop for ms. */
static void
turn_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_timer, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Turns the loop until socket is closed by the server, at most WAIT_MS;
 * TRUE when it was. Bytes it sent go to got. */
static gboolean
wait_closed (GSocket *socket, GString *got)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_get_monotonic_time () < end) {
    if (peer_state (socket, got) == PEER_CLOSED)
      return TRUE;
    turn_ms (10);
  }
  return FALSE;
}

#define HELLO "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"

/* Beyond max_per_address from one address, and beyond max_connections in
 * all, a connection is closed at once; the admitted ones are served, and a
 * closed one frees its place. */
static void
test_caps (Fixture *f, gconstpointer data)
{
  DflyWireLimits limits = { .max_connections = 5, .max_per_address = 3, .header_timeout = 60 };
  g_autoptr (GPtrArray) first = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) second = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GSocket) late = NULL;
  g_autoptr (GString) got = g_string_new (NULL);

  fixture_start (f, &limits);
  for (guint i = 0; i < 4; i++) {
    g_ptr_array_add (first, connect_from (f, "127.0.0.1"));
    turn_ms (20);
  }
  /* The fourth from 127.0.0.1 is over its address's cap. */
  g_assert_true (wait_closed (g_ptr_array_index (first, 3), NULL));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (peer_state (g_ptr_array_index (first, i), NULL), ==, PEER_OPEN);
  /* Another address has a cap of its own, but the total is 5. */
  for (guint i = 0; i < 3; i++) {
    g_ptr_array_add (second, connect_from (f, "127.0.0.2"));
    turn_ms (20);
  }
  g_assert_cmpint (peer_state (g_ptr_array_index (second, 0), NULL), ==, PEER_OPEN);
  g_assert_cmpint (peer_state (g_ptr_array_index (second, 1), NULL), ==, PEER_OPEN);
  g_assert_true (wait_closed (g_ptr_array_index (second, 2), NULL));
  /* Admitted ones are served. */
  send_text (g_ptr_array_index (first, 0), HELLO);
  while (strstr (got->str, "hello") == NULL &&
         peer_state (g_ptr_array_index (first, 0), got) != PEER_CLOSED)
    turn_ms (10);
  g_assert_true (g_str_has_prefix (got->str, "HTTP/1.1 200"));
  /* One gone, served or not, makes room for one more from its address. */
  g_socket_close (g_ptr_array_index (first, 0), NULL);
  g_ptr_array_remove_index (first, 0);
  turn_ms (100);
  late = connect_from (f, "127.0.0.1");
  turn_ms (100);
  g_assert_cmpint (peer_state (late, NULL), ==, PEER_OPEN);
  g_assert_cmpuint (f->handled, ==, 1);
}

/* A head trickled a byte at a time is cut at the header timeout, though
 * the socket is never silent long; a prompt one is served. */
static void
test_header_timeout (Fixture *f, gconstpointer data)
{
  DflyWireLimits limits = { .header_timeout = 1, .idle_timeout = 30 };
  g_autoptr (GSocket) trickler = NULL;
  g_autoptr (GSocket) prompt = NULL;
  g_autoptr (GString) got = g_string_new (NULL);
  const char *head = HELLO;
  gint64      start;
  guint       sent = 0;

  fixture_start (f, &limits);
  trickler = connect_from (f, "127.0.0.1");
  start = g_get_monotonic_time ();
  while (peer_state (trickler, NULL) == PEER_OPEN &&
         g_get_monotonic_time () - start < WAIT_MS * 1000) {
    char byte[2] = { head[sent % strlen (head)], '\0' };

    /* Never the head's end: only its first line, again and again. */
    if (byte[0] == '\r')
      byte[0] = 'x';
    send_text (trickler, byte);
    sent++;
    turn_ms (100);
  }
  g_assert_cmpint (peer_state (trickler, NULL), ==, PEER_CLOSED);
  /* Cut at about 1 s, not at the 30 s idle timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (f->handled, ==, 0);

  prompt = connect_from (f, "127.0.0.1");
  send_text (prompt, HELLO);
  turn_ms (1500);
  /* Served, and closed after its answer: libsoup 3.2 would never notice
   * the client closing a kept-alive one (see the caps test). */
  g_assert_true (wait_closed (prompt, got));
  g_assert_true (g_str_has_prefix (got->str, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (got->str, "Connection: close"));
  g_assert_cmpuint (f->handled, ==, 1);
}

/* A request that asks for an upgrade it does not get is answered like any
 * other, and its connection closed: only a WebSocket stays open. */
static void
test_upgrade_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GString) got = g_string_new (NULL);

  fixture_start (f, &(DflyWireLimits){ .header_timeout = 10, .idle_timeout = 30 });
  socket = connect_from (f, "127.0.0.1");
  send_text (socket, "GET /hello HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\n\r\n");
  g_assert_true (wait_closed (socket, got));
  g_assert_true (g_str_has_prefix (got->str, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (got->str, "Connection: close"));
}

/* ---- a listener that diverts piece connections ---- */

typedef struct {
  Fixture    base;
  GIOStream *diverted; /* the last one handed over */
} DivertFixture;

static void
on_divert (GIOStream *stream, gpointer data)
{
  DivertFixture *f = data;

  g_clear_object (&f->diverted);
  f->diverted = stream; /* ours now */
}

static void
divert_teardown (DivertFixture *f, gconstpointer data)
{
  g_clear_object (&f->diverted);
  fixture_teardown (&f->base, data);
}

/* A connection that says nothing is dropped at the header timeout, not
 * after the divert's 30 s; one handed over is the callee's to bound and
 * outlives it. */
static void
test_divert_timeout (DivertFixture *f, gconstpointer data)
{
  DflyWireLimits limits = { .header_timeout = 1, .idle_timeout = 30 };
  g_autoptr (GSocket) silent = NULL;
  g_autoptr (GSocket) piece = NULL;
  gint64 start;

  fixture_start (&f->base, &limits);
  dfly_wire_listener_divert (f->base.listener, "GET /v1/tasks/", on_divert, f);
  silent = connect_from (&f->base, "127.0.0.1");
  piece = connect_from (&f->base, "127.0.0.1");
  send_text (piece, "GET /v1/tasks/");
  start = g_get_monotonic_time ();
  g_assert_true (wait_closed (silent, NULL));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_nonnull (f->diverted);
  turn_ms (1500);
  g_assert_cmpint (peer_state (piece, NULL), ==, PEER_OPEN);
}

/* ---- a WebSocket peer that never reads ---- */

#define WS_MESSAGE  (64 * 1024)
#define WS_MAX_SEND (96 * 1024 * 1024) /* what the server would send if never cut */

typedef struct {
  Fixture                  base;
  SoupWebsocketConnection *ws;
  guint64                  sent; /* payload bytes handed to dfly_wire_ws_send */
  guint                    pump_id;
  gboolean                 closed;
  guint64                  received; /* by a reading client */
  guint64                  limit;    /* what the server sends at most */
} WsFixture;

static void
on_ws_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ((WsFixture *) data)->closed = TRUE;
}

/* One message per turn of the loop, as a busy sync stream would send. */
static gboolean
pump (gpointer data)
{
  WsFixture                *f = data;
  Dfly__V1__StatTaskRequest request = DFLY__V1__STAT_TASK_REQUEST__INIT;
  g_autofree char          *id = g_malloc (WS_MESSAGE + 1);

  if (f->ws == NULL || soup_websocket_connection_get_state (f->ws) != SOUP_WEBSOCKET_STATE_OPEN ||
      f->sent >= f->limit) {
    f->pump_id = 0;
    return G_SOURCE_REMOVE;
  }
  memset (id, 'a', WS_MESSAGE);
  id[WS_MESSAGE] = '\0';
  request.task_id = id;
  dfly_wire_ws_send (f->ws, DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base);
  f->sent += WS_MESSAGE;
  return G_SOURCE_CONTINUE;
}

static void
on_ws (SoupServer *server, SoupServerMessage *msg, const char *path, SoupWebsocketConnection *ws,
       gpointer data)
{
  WsFixture *f = data;

  dfly_wire_ws_setup (ws, 2 * WS_MESSAGE);
  f->ws = g_object_ref (ws);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), f);
  f->pump_id = g_timeout_add (1, pump, f);
}

static void
ws_setup (WsFixture *f, gconstpointer data)
{
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };

  f->limit = WS_MAX_SEND;
  fixture_start (&f->base, &(DflyWireLimits){ .header_timeout = 10, .idle_timeout = 60 });
  soup_server_add_websocket_handler (f->base.server, "/ws", NULL, protocols, on_ws, f, NULL);
}

static void
ws_teardown (WsFixture *f, gconstpointer data)
{
  g_clear_handle_id (&f->pump_id, g_source_remove);
  if (f->ws != NULL && soup_websocket_connection_get_state (f->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (f->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  while (f->ws != NULL && !f->closed)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&f->ws);
  fixture_teardown (&f->base, data);
}

#define WS_UPGRADE                                                                  \
  "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"    \
  "Sec-WebSocket-Protocol: " DFLY_WIRE_WS_PROTOCOL "\r\n\r\n"

/* The server sends and sends; the client upgrades and never reads again.
 * Its stream is cut once 8 MiB wait, long before the server ran out of
 * things to send. */
static void
test_ws_never_reads (WsFixture *f, gconstpointer data)
{
  g_autoptr (GSocket) client = connect_from (&f->base, "127.0.0.1");
  gint64 end = g_get_monotonic_time () + 4 * WAIT_MS * 1000;

  g_test_expect_message ("dfly-proto", G_LOG_LEVEL_MESSAGE, "closing a stream to 127.0.0.1:*");
  send_text (client, WS_UPGRADE);
  while (!f->closed && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_test_assert_expected_messages ();
  g_assert_true (f->closed);
  g_test_message ("cut after %" G_GUINT64_FORMAT " MiB sent to a peer that never read",
                  f->sent / (1024 * 1024));
  /* The cap, plus what the kernel's buffers on both ends took. */
  g_assert_cmpuint (f->sent, >=, 8 * 1024 * 1024);
  g_assert_cmpuint (f->sent, <, 48 * 1024 * 1024);
}

static void
on_client_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  ((WsFixture *) data)->received += g_bytes_get_size (message);
}

static void
on_connected (GObject *session, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* A client that reads gets everything, far more than the cap. */
static void
test_ws_reader (WsFixture *f, gconstpointer data)
{
  g_autofree char *url =
    g_strdup_printf ("ws://127.0.0.1:%u/ws", dfly_wire_listener_get_port (f->base.listener));
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SoupWebsocketConnection) client = NULL;
  g_autoptr (GError) error = NULL;
  char  *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  gint64 end = g_get_monotonic_time () + 6 * WAIT_MS * 1000;

  f->limit = 32 * 1024 * 1024;
  soup_session_websocket_connect_async (session, msg, NULL, protocols, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  while (result == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  client = soup_session_websocket_connect_finish (session, result, &error);
  g_assert_no_error (error);
  soup_websocket_connection_set_max_incoming_payload_size (client, 2 * WS_MESSAGE);
  g_signal_connect (client, "message", G_CALLBACK (on_client_message), f);
  while (f->received < f->limit && !f->closed && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (f->closed);
  g_assert_cmpuint (f->sent, ==, f->limit);
  g_assert_cmpuint (f->received, >=, f->limit);
  soup_websocket_connection_close (client, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  while (soup_websocket_connection_get_state (client) != SOUP_WEBSOCKET_STATE_CLOSED &&
         g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- streams that never read, beyond their listener's max_unread ---- */

#define SHARE_STREAMS 4

typedef struct {
  Fixture    base;
  GPtrArray *streams; /* SoupWebsocketConnection * */
  guint64    sent[SHARE_STREAMS];
  guint      closed;
  guint      pump_id;
} ShareFixture;

static void
on_share_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ((ShareFixture *) data)->closed++;
}

/* One message to each open stream per turn of the loop. */
static gboolean
pump_all (gpointer data)
{
  ShareFixture             *f = data;
  Dfly__V1__StatTaskRequest request = DFLY__V1__STAT_TASK_REQUEST__INIT;
  g_autofree char          *id = g_strnfill (WS_MESSAGE, 'a');

  request.task_id = id;
  for (guint i = 0; i < f->streams->len; i++) {
    SoupWebsocketConnection *ws = g_ptr_array_index (f->streams, i);

    if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN &&
        f->sent[i] < WS_MAX_SEND) {
      dfly_wire_ws_send (ws, DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base);
      f->sent[i] += WS_MESSAGE;
    }
  }
  return G_SOURCE_CONTINUE;
}

static void
on_share_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
             SoupWebsocketConnection *ws, gpointer data)
{
  ShareFixture *f = data;

  dfly_wire_ws_setup (ws, 2 * WS_MESSAGE);
  g_ptr_array_add (f->streams, g_object_ref (ws));
  g_signal_connect (ws, "closed", G_CALLBACK (on_share_closed), f);
  if (f->streams->len == SHARE_STREAMS)
    f->pump_id = g_timeout_add (1, pump_all, f);
}

static void
share_setup (ShareFixture *f, gconstpointer data)
{
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };

  f->streams = g_ptr_array_new_with_free_func (g_object_unref);
  fixture_start (&f->base, &(DflyWireLimits){
                             .header_timeout = 10, .idle_timeout = 60, .max_unread = 1024 * 1024 });
  soup_server_add_websocket_handler (f->base.server, "/ws", NULL, protocols, on_share_ws, f, NULL);
}

static void
share_teardown (ShareFixture *f, gconstpointer data)
{
  g_clear_handle_id (&f->pump_id, g_source_remove);
  while (f->closed < f->streams->len)
    g_main_context_iteration (NULL, TRUE);
  g_ptr_array_unref (f->streams);
  fixture_teardown (&f->base, data);
}

/* Four streams that never read, on a listener whose streams may leave
 * 1 MiB unread together: each is cut once it holds more than its share,
 * long before its own 8 MiB cap. */
static void
test_ws_share (ShareFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  gint64  end = g_get_monotonic_time () + 4 * WAIT_MS * 1000;
  guint64 most = 0;

  g_test_expect_message ("dfly-proto", G_LOG_LEVEL_MESSAGE, "*more than its share*");
  for (guint i = 0; i < SHARE_STREAMS; i++) {
    g_ptr_array_add (clients, connect_from (&f->base, "127.0.0.1"));
    send_text (g_ptr_array_index (clients, i), WS_UPGRADE);
  }
  while ((f->streams->len < SHARE_STREAMS || f->closed < SHARE_STREAMS) &&
         g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->closed, ==, SHARE_STREAMS);
  for (guint i = 0; i < SHARE_STREAMS; i++)
    most = MAX (most, f->sent[i]);
  g_test_message ("each cut after %" G_GUINT64_FORMAT " KiB at most", most / 1024);
  /* The single stream's cap alone let 12 MiB go (test_ws_never_reads). */
  g_assert_cmpuint (most, <, 8 * 1024 * 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/wire-limits/caps", Fixture, NULL, NULL, test_caps, fixture_teardown);
  g_test_add ("/wire-limits/header-timeout", Fixture, NULL, NULL, test_header_timeout,
              fixture_teardown);
  g_test_add ("/wire-limits/upgrade-refused", Fixture, NULL, NULL, test_upgrade_refused,
              fixture_teardown);
  g_test_add ("/wire-limits/divert-timeout", DivertFixture, NULL, NULL, test_divert_timeout,
              divert_teardown);
  g_test_add ("/wire-limits/ws-never-reads", WsFixture, NULL, ws_setup, test_ws_never_reads,
              ws_teardown);
  g_test_add ("/wire-limits/ws-reader", WsFixture, NULL, ws_setup, test_ws_reader, ws_teardown);
  g_test_add ("/wire-limits/ws-share", ShareFixture, NULL, share_setup, test_ws_share,
              share_teardown);
  return g_test_run ();
}
