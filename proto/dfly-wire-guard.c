/* dfly-wire-guard.c — what a listener holds every connection to (see the header) */
#include "config.h"

#include "dfly-wire-admission.h"
#include "dfly-wire-backlog.h"
#include "dfly-wire-guard.h"

#define ACCEPTED_KEY "dfly-wire-accepted" /* on the socket: gint64 *, monotonic µs */
#define DEADLINE_KEY "dfly-wire-deadline" /* on the remote address object: Deadline * */
#define PENDING_KEY  "dfly-wire-pending"  /* on the socket until served: Deadline * */

struct _DflyWireGuard {
  SoupServer          *server;
  DflyWireAdmission   *admission;
  DflyWireLimits       limits;
  DflyWireBacklogPool *unread;     /* what the connections' streams leave unread */
  gulong               started_id; /* the server's request-started */
};

/* When a connection's first request head is due. It hangs on the socket
 * until the connection is served, then on the remote address object the
 * server keeps for the connection and hands every message of it
 * (soup_server_message_get_remote_address), where got-headers finds it. */
typedef struct {
  GWeakRef socket;
  guint    timeout_id;
} Deadline;

static void
deadline_free (Deadline *deadline)
{
  g_clear_handle_id (&deadline->timeout_id, g_source_remove);
  g_weak_ref_clear (&deadline->socket);
  g_free (deadline);
}

static gboolean
on_deadline (gpointer user_data)
{
  Deadline *deadline = user_data;
  g_autoptr (GSocket) socket = g_weak_ref_get (&deadline->socket);

  deadline->timeout_id = 0;
  if (socket != NULL) {
    g_debug ("shutting down a connection: no whole request head in time");
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  }
  return G_SOURCE_REMOVE;
}

static void
deadline_arm (Deadline *deadline, gint64 ms)
{
  g_clear_handle_id (&deadline->timeout_id, g_source_remove);
  deadline->timeout_id = g_timeout_add ((guint) CLAMP (ms, 0, G_MAXUINT), on_deadline, deadline);
}

/* A deadline for socket due header_timeout after now (none without one). */
static Deadline *
deadline_new (DflyWireGuard *self, GSocket *socket, gint64 due)
{
  Deadline *deadline = g_new0 (Deadline, 1);

  g_weak_ref_init (&deadline->socket, socket);
  if (self->limits.header_timeout > 0)
    deadline_arm (deadline, (due - g_get_monotonic_time ()) / 1000);
  return deadline;
}

static Deadline *
deadline_of (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_data (G_OBJECT (remote), DEADLINE_KEY) : NULL;
}

/* libsoup 3.2 never notices that a client closed a kept-alive connection
 * between requests: the connection, its socket and its descriptor stay
 * for good (and count against the caps). So every answer closes its
 * connection (a WebSocket handshake replaces the header with its own);
 * piece bytes, the traffic that gains from reuse, never pass through
 * libsoup. */
static void
on_got_headers (SoupServerMessage *msg, gpointer user_data)
{
  Deadline *deadline = deadline_of (msg);

  if (deadline != NULL)
    g_clear_handle_id (&deadline->timeout_id, g_source_remove);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  if (deadline_of (msg) != NULL)
    g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), NULL);
}

DflyWireGuard *
dfly_wire_guard_new (SoupServer *server, const char *name, const DflyWireLimits *limits)
{
  DflyWireGuard *self = g_new0 (DflyWireGuard, 1);

  self->server = g_object_ref (server);
  self->limits = *limits;
  self->unread = dfly_wire_backlog_pool_new (limits->max_unread);
  self->admission =
    dfly_wire_admission_new (name, limits->max_connections, limits->max_per_address);
  self->started_id =
    g_signal_connect (server, "request-started", G_CALLBACK (on_request_started), NULL);
  return self;
}

void
dfly_wire_guard_free (DflyWireGuard *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->started_id, self->server);
  dfly_wire_admission_unref (self->admission);
  dfly_wire_backlog_pool_unref (self->unread);
  g_object_unref (self->server);
  g_free (self);
}

gboolean
dfly_wire_guard_admit (DflyWireGuard *self, GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  gint64  *accepted = g_new (gint64, 1);

  if (!dfly_wire_admission_admit (self->admission, connection)) {
    g_free (accepted);
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    return FALSE;
  }
  *accepted = g_get_monotonic_time ();
  dfly_wire_backlog_pool_attach (self->unread, socket);
  /* Until it is served or handed over: a TLS handshake or the divert's
   * peek may not take longer either. */
  g_object_set_data_full (
    G_OBJECT (socket), PENDING_KEY,
    deadline_new (self, socket, *accepted + (gint64) self->limits.header_timeout * G_USEC_PER_SEC),
    (GDestroyNotify) deadline_free);
  g_object_set_data_full (G_OBJECT (socket), ACCEPTED_KEY, accepted, g_free);
  g_socket_set_timeout (socket, self->limits.idle_timeout);
  return TRUE;
}

void
dfly_wire_guard_serve (DflyWireGuard *self, GSocketConnection *connection, GSocketAddress *remote)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  gint64  *accepted = g_object_get_data (G_OBJECT (socket), ACCEPTED_KEY);
  gint64   due = (accepted != NULL ? *accepted : g_get_monotonic_time ()) +
               (gint64) self->limits.header_timeout * G_USEC_PER_SEC;

  dfly_wire_guard_hand_over (self, connection);
  g_socket_set_timeout (socket, self->limits.idle_timeout);
  g_object_set_data_full (G_OBJECT (remote), DEADLINE_KEY, deadline_new (self, socket, due),
                          (GDestroyNotify) deadline_free);
}

void
dfly_wire_guard_hand_over (DflyWireGuard *self, GSocketConnection *connection)
{
  g_object_set_data (G_OBJECT (g_socket_connection_get_socket (connection)), PENDING_KEY, NULL);
}

guint
dfly_wire_guard_get_header_timeout (DflyWireGuard *self)
{
  return self->limits.header_timeout;
}

guint
dfly_wire_guard_count (DflyWireGuard *self, const char *address)
{
  return dfly_wire_admission_count (self->admission, address);
}
