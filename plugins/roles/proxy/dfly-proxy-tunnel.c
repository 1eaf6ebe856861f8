/* dfly-proxy-tunnel.c — CONNECT (see the header)
 *
 * A CONNECT is checked before anything is reached: a host:port target,
 * a port of proxy.connect_ports, a host source.allow/deny lets through
 * (dfly_http_client_check_destination, as the HTTP client checks a URL),
 * a free slot of proxy.max_tunnels. A tunnel then connects (GSocketClient,
 * http.connect_timeout; the policy checks each address tried, and closes a
 * refused socket before it connects), answers 200 and takes the client's
 * connection from libsoup once the answer is written; two fixed 64 KiB
 * buffers copy the bytes, one each way. A side that ends its half is
 * shut for writing on the other; the tunnel ends when both halves have
 * ended, on any error, after protocol.idle_timeout with no byte either way
 * (checked every second), or when the role stops.
 *
 * An intercepted CONNECT reaches nothing itself: its 200 comes at once,
 * the connection is wrapped in TLS with the host's leaf certificate and
 * handed to the inner SoupServer, whose requests the role handles (each
 * relay or download checks its URL with the HTTP client as any other).
 * The inner request must name the CONNECT's host and port (else 421), its
 * first head must come within protocol.header_timeout of the 200 (TLS
 * handshake included), and every answer closes the connection: libsoup
 * 3.2 never notices a client closing a kept-alive connection, which would
 * hold its slot for good. A slot is freed when libsoup lets go of the TLS
 * stream.
 *
 * Everything here runs on the main loop. A tunnel is reference counted:
 * each pending operation holds a reference, and its streams are closed
 * only when the last one goes, so no operation outlives its stream.
 */
#include "config.h"

#include <string.h>

#include "dfly-proxy-leaves.h"
#include "dfly-proxy-tunnel.h"
#include "dfly-wire.h"

#define TUNNEL_BUFFER (64 * 1024) /* each way */
#define TUNNEL_KEY    "dfly-proxy-tunnel"

typedef struct _Tunnel Tunnel;

/* One direction of a tunnel. */
typedef struct {
  Tunnel        *tunnel; /* its owner: the pipe lives in it */
  GInputStream  *input;
  GOutputStream *output;
  GSocket       *output_socket; /* shut for writing when input ends */
  guint8        *buffer;
  gboolean       ended;
} Pipe;

struct _Tunnel {
  gatomicrefcount    ref_count;
  DflyProxyTunnels  *owner; /* NULL once closed */
  SoupServerMessage *msg;   /* the CONNECT, until its connection is taken */
  char              *host;  /* lowercase, no brackets */
  guint16            port;
  char              *shown; /* host:port, for logs */
  gboolean           intercept;
  GCancellable      *cancellable;
  GError            *refused; /* why the policy closed a socket of the connect */
  GIOStream         *client;  /* the stolen connection */
  GSocketConnection *upstream;
  GTlsConnection    *tls; /* intercepted: ours until the inner server has it; then weak */
  Pipe               pipes[2];
  gint64             last_active; /* monotonic µs of the last byte either way */
  guint              deadline_id; /* intercepted: the first request head due */
  gulong             wrote_id, finished_id;
};

struct _DflyProxyTunnels {
  DflyProxy       *proxy;
  SoupServer      *inner;  /* intercepted connections' requests */
  DflyProxyLeaves *leaves; /* NULL when nothing is intercepted */
  GPtrArray       *open;   /* Tunnel *, each holding a reference */
  guint            sweep_id;
};

static Tunnel *
tunnel_ref (Tunnel *tunnel)
{
  g_atomic_ref_count_inc (&tunnel->ref_count);
  return tunnel;
}

static void
tunnel_unref (Tunnel *tunnel)
{
  if (!g_atomic_ref_count_dec (&tunnel->ref_count))
    return;
  /* No operation is pending: the streams can close. */
  g_clear_handle_id (&tunnel->deadline_id, g_source_remove);
  if (tunnel->client != NULL)
    g_io_stream_close (tunnel->client, NULL, NULL);
  if (tunnel->upstream != NULL)
    g_io_stream_close (G_IO_STREAM (tunnel->upstream), NULL, NULL);
  g_clear_object (&tunnel->client);
  g_clear_object (&tunnel->upstream);
  g_clear_object (&tunnel->msg);
  g_clear_object (&tunnel->cancellable);
  g_clear_error (&tunnel->refused);
  for (guint i = 0; i < 2; i++)
    g_free (tunnel->pipes[i].buffer);
  g_free (tunnel->host);
  g_free (tunnel->shown);
  g_free (tunnel);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tunnel, tunnel_unref)

/* Ends a tunnel: pending operations are cancelled, both sockets shut so
 * the peers see the end at once, and its slot is free. Idempotent. */
static void
tunnel_close (Tunnel *tunnel, const char *why)
{
  DflyProxyTunnels *owner = tunnel->owner;
  GSocket          *socket;

  if (owner == NULL)
    return;
  tunnel->owner = NULL;
  g_debug ("proxy: CONNECT %s closed: %s", tunnel->shown, why);
  g_cancellable_cancel (tunnel->cancellable);
  if (tunnel->msg != NULL) {
    g_clear_signal_handler (&tunnel->wrote_id, tunnel->msg);
    g_clear_signal_handler (&tunnel->finished_id, tunnel->msg);
  }
  socket = tunnel->client != NULL ? dfly_wire_socket_of (tunnel->client) : NULL;
  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  if (tunnel->upstream != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (tunnel->upstream), TRUE, TRUE, NULL);
  g_clear_handle_id (&tunnel->deadline_id, g_source_remove);
  /* Last: it drops the slot's reference. */
  g_ptr_array_remove_fast (owner->open, tunnel);
}

/* ---- copying ---- */

static void pipe_read (Pipe *pipe);

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pipe *pipe = user_data;
  g_autoptr (Tunnel) tunnel = pipe->tunnel; /* the write's reference */
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error)) {
    tunnel_close (tunnel, error->message);
    return;
  }
  if (tunnel->owner == NULL)
    return;
  tunnel->last_active = g_get_monotonic_time ();
  pipe_read (pipe);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pipe *pipe = user_data;
  g_autoptr (Tunnel) tunnel = pipe->tunnel; /* the read's reference */
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n < 0) {
    tunnel_close (tunnel, error->message);
    return;
  }
  if (tunnel->owner == NULL)
    return;
  if (n == 0) {
    /* This half ended: pass the end on, and wait for the other. */
    pipe->ended = TRUE;
    if (pipe->output_socket != NULL)
      g_socket_shutdown (pipe->output_socket, FALSE, TRUE, NULL);
    if (tunnel->pipes[0].ended && tunnel->pipes[1].ended)
      tunnel_close (tunnel, "both ends closed");
    return;
  }
  tunnel->last_active = g_get_monotonic_time ();
  tunnel_ref (tunnel); /* for the write, dropped by on_written */
  g_output_stream_write_all_async (pipe->output, pipe->buffer, (gsize) n, G_PRIORITY_DEFAULT,
                                   tunnel->cancellable, on_written, pipe);
}

static void
pipe_read (Pipe *pipe)
{
  tunnel_ref (pipe->tunnel); /* for the read, dropped by on_read */
  g_input_stream_read_async (pipe->input, pipe->buffer, TUNNEL_BUFFER, G_PRIORITY_DEFAULT,
                             pipe->tunnel->cancellable, on_read, pipe);
}

static void
pipe_start (Pipe *pipe, Tunnel *tunnel, GIOStream *from, GIOStream *to)
{
  pipe->tunnel = tunnel;
  pipe->input = g_io_stream_get_input_stream (from);
  pipe->output = g_io_stream_get_output_stream (to);
  pipe->output_socket = dfly_wire_socket_of (to);
  pipe->buffer = g_malloc (TUNNEL_BUFFER);
  pipe_read (pipe);
}

/* Closes tunnels silent both ways for idle_timeout; stops when none is open. */
static gboolean
on_sweep (gpointer user_data)
{
  DflyProxyTunnels *tunnels = user_data;
  g_autoptr (DflyConfig) config = dfly_context_dup_config (tunnels->proxy->context);
  gint64 idle = (gint64) config->protocol.idle_timeout * G_USEC_PER_SEC;
  gint64 now = g_get_monotonic_time ();

  if (tunnels->open->len == 0) {
    tunnels->sweep_id = 0;
    return G_SOURCE_REMOVE;
  }
  for (guint i = tunnels->open->len; i > 0; i--) {
    Tunnel *tunnel = g_ptr_array_index (tunnels->open, i - 1);

    if (idle > 0 && tunnel->pipes[0].buffer != NULL && now - tunnel->last_active > idle)
      tunnel_close (tunnel, "idle");
  }
  return G_SOURCE_CONTINUE;
}

/* ---- interception ---- */

static gboolean
on_deadline (gpointer user_data)
{
  Tunnel *tunnel = user_data;

  tunnel->deadline_id = 0;
  tunnel_close (tunnel, "no request head in time");
  return G_SOURCE_REMOVE;
}

/* libsoup let go of the TLS stream: the connection is over. */
static void
on_tls_gone (gpointer user_data, GObject *where_it_was)
{
  Tunnel *tunnel = user_data;

  tunnel->tls = NULL;
  tunnel_close (tunnel, "the intercepted connection ended");
  tunnel_unref (tunnel); /* the weak reference's */
}

/* The inner request must be for the CONNECT's host and port: the role
 * makes its URL from the Host header. Its answer closes the connection. */
static void
on_inner_got_headers (SoupServerMessage *msg, gpointer user_data)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Tunnel     *tunnel = remote != NULL ? g_object_get_data (G_OBJECT (remote), TUNNEL_KEY) : NULL;
  GUri       *uri = soup_server_message_get_uri (msg);
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  if (tunnel == NULL)
    return;
  g_clear_handle_id (&tunnel->deadline_id, g_source_remove);
  if (host == NULL || g_ascii_strcasecmp (host, tunnel->host) != 0 ||
      g_uri_get_port (uri) != tunnel->port) {
    dfly_proxy_answer_error (msg, SOUP_STATUS_MISDIRECTED_REQUEST,
                             "this connection is for %s: the request names another host",
                             tunnel->shown);
  }
}

static void
on_inner_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_object_set_data (G_OBJECT (msg), TUNNEL_KEY, GINT_TO_POINTER (TRUE));
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_inner_got_headers), NULL);
}

static void
intercept_start (Tunnel *tunnel)
{
  DflyProxyTunnels *tunnels = tunnel->owner;
  GSocket          *socket = dfly_wire_socket_of (tunnel->client);
  g_autoptr (DflyConfig) config = dfly_context_dup_config (tunnels->proxy->context);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;
  GTlsCertificate *certificate;

  certificate = dfly_proxy_leaves_get (tunnels->leaves, tunnel->host, &error);
  if (certificate != NULL)
    tls = g_tls_server_connection_new (tunnel->client, certificate, &error);
  if (socket != NULL) {
    local = g_socket_get_local_address (socket, NULL);
    remote = g_socket_get_remote_address (socket, NULL);
  }
  if (tls == NULL || local == NULL || remote == NULL) {
    g_info ("proxy: CONNECT %s not intercepted: %s", tunnel->shown,
            error != NULL ? error->message : "the client went away");
    tunnel_close (tunnel, "not intercepted");
    return;
  }
  /* Silence is timed by the socket while libsoup reads a request. */
  g_socket_set_timeout (socket, config->protocol.idle_timeout);
  g_object_set_data_full (G_OBJECT (remote), TUNNEL_KEY, tunnel_ref (tunnel),
                          (GDestroyNotify) tunnel_unref);
  if (config->protocol.header_timeout > 0)
    tunnel->deadline_id =
      g_timeout_add_seconds (config->protocol.header_timeout, on_deadline, tunnel);
  tunnel->tls = G_TLS_CONNECTION (tls);
  g_object_weak_ref (G_OBJECT (tls), on_tls_gone, tunnel_ref (tunnel));
  if (!soup_server_accept_iostream (tunnels->inner, tls, local, remote, &error)) {
    g_info ("proxy: CONNECT %s not intercepted: %s", tunnel->shown, error->message);
    tunnel_close (tunnel, "not accepted");
  }
  g_debug ("proxy: CONNECT %s intercepted", tunnel->shown);
}

/* ---- the CONNECT's answer ---- */

/* The 200 is out: the connection is ours from here. */
static void
on_wrote_body (SoupServerMessage *msg, gpointer user_data)
{
  Tunnel  *tunnel = user_data;
  GSocket *socket;

  g_clear_signal_handler (&tunnel->wrote_id, msg);
  g_clear_signal_handler (&tunnel->finished_id, msg);
  tunnel->client = soup_server_message_steal_connection (msg);
  g_clear_object (&tunnel->msg);
  socket = tunnel->client != NULL ? dfly_wire_socket_of (tunnel->client) : NULL;
  if (socket == NULL) {
    tunnel_close (tunnel, "the client went away");
    return;
  }
  if (tunnel->intercept) {
    intercept_start (tunnel);
    return;
  }
  /* Idle is timed by the sweep, on both directions together. */
  g_socket_set_timeout (socket, 0);
  g_socket_set_timeout (g_socket_connection_get_socket (tunnel->upstream), 0);
  tunnel->last_active = g_get_monotonic_time ();
  pipe_start (&tunnel->pipes[0], tunnel, tunnel->client, G_IO_STREAM (tunnel->upstream));
  pipe_start (&tunnel->pipes[1], tunnel, G_IO_STREAM (tunnel->upstream), tunnel->client);
  g_debug ("proxy: CONNECT %s tunnelled", tunnel->shown);
}

/* The CONNECT ended before its connection was taken (the client left, or
 * an error answer went out). */
static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  tunnel_close (user_data, "the CONNECT ended");
}

static void
answer_ok (Tunnel *tunnel)
{
  SoupServerMessage *msg = tunnel->msg;

  soup_server_message_set_status (msg, SOUP_STATUS_OK, "Connection established");
  /* The listener asks every answer to close its connection; this one's
   * connection goes on as the tunnel. */
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Connection");
  tunnel->wrote_id = g_signal_connect (msg, "wrote-body", G_CALLBACK (on_wrote_body), tunnel);
}

static void
answer_refused (Tunnel *tunnel, const GError *error)
{
  SoupServerMessage *msg = g_object_ref (tunnel->msg);

  g_info ("proxy: CONNECT %s: %s", tunnel->shown, error->message);
  tunnel_close (tunnel, error->message);
  dfly_proxy_answer_error (msg, dfly_proxy_status_for_error (error), "%s", error->message);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* Whether the policy lets a connection go to connection's peer. */
static gboolean
check_connection (Tunnel *tunnel, DflyProxyTunnels *tunnels, GSocketConnection *connection,
                  GError **error)
{
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return TRUE;
  return dfly_http_client_check_destination (
    dfly_context_get_http_client (tunnels->proxy->context), tunnel->host,
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)), error);
}

/* Before each address is connected to: a refused one is closed there, so
 * nothing reaches it, and the refusal becomes the answer. */
static void
on_client_event (GSocketClient *client, GSocketClientEvent event, GSocketConnectable *connectable,
                 GIOStream *connection, gpointer user_data)
{
  Tunnel *tunnel = user_data;
  g_autoptr (GError) error = NULL;

  if (event != G_SOCKET_CLIENT_CONNECTING || tunnel->owner == NULL ||
      !G_IS_SOCKET_CONNECTION (connection) ||
      check_connection (tunnel, tunnel->owner, G_SOCKET_CONNECTION (connection), &error))
    return;
  g_debug ("proxy: CONNECT %s: %s", tunnel->shown, error->message);
  if (tunnel->refused == NULL)
    tunnel->refused = g_steal_pointer (&error);
  g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)), NULL);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Tunnel) tunnel = user_data; /* the connect's reference */
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) connection =
    g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  g_signal_handlers_disconnect_by_data (source, tunnel);
  if (tunnel->owner == NULL)
    return;
  if (connection == NULL) {
    g_autoptr (GError) answer = NULL;

    if (tunnel->refused != NULL)
      answer = g_error_copy (tunnel->refused);
    else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      answer =
        g_error_new (DFLY_ERROR, DFLY_ERROR_TIMEOUT, "connecting to %s timed out", tunnel->shown);
    else
      answer = g_error_new (DFLY_ERROR, DFLY_ERROR_SOURCE, "connecting to %s: %s", tunnel->shown,
                            error->message);
    answer_refused (tunnel, answer);
    return;
  }
  /* Where it actually went, once more. */
  if (!check_connection (tunnel, tunnel->owner, connection, &error)) {
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    answer_refused (tunnel, error);
    return;
  }
  tunnel->upstream = g_steal_pointer (&connection);
  answer_ok (tunnel);
  soup_server_message_unpause (tunnel->msg);
}

/* A host name as a CONNECT may give it: DNS labels, at most 253 bytes. */
static gboolean
is_host_name (const char *name)
{
  gsize length = strlen (name);

  return length > 0 && length <= 253 && name[0] != '.' && name[0] != '-' &&
         strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-._") == length &&
         strstr (name, "..") == NULL;
}

/* host (lowercase; an address as GLib writes it) and port of a CONNECT's
 * authority-form target; NULL with a reason. */
static char *
parse_target (SoupServerMessage *msg, guint16 *port, GError **error)
{
  GUri       *uri = soup_server_message_get_uri (msg);
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;
  const char *path = uri != NULL ? g_uri_get_path (uri) : NULL;
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *ascii = NULL;
  g_autofree char *lower = NULL;

  if (host != NULL && g_uri_get_userinfo (uri) == NULL && g_uri_get_query (uri) == NULL &&
      g_uri_get_fragment (uri) == NULL &&
      (path == NULL || *path == '\0' || strcmp (path, "/") == 0) && g_uri_get_port (uri) > 0 &&
      g_uri_get_port (uri) <= G_MAXUINT16) {
    address = g_inet_address_new_from_string (host);
    ascii = address != NULL ? g_inet_address_to_string (address) : g_hostname_to_ascii (host);
    lower = ascii != NULL ? g_ascii_strdown (ascii, -1) : NULL;
  }
  if (lower == NULL || (address == NULL && !is_host_name (lower))) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "a CONNECT's target is host:port");
    return NULL;
  }
  *port = (guint16) g_uri_get_port (uri);
  return g_steal_pointer (&lower);
}

static gboolean
port_allowed (DflyProxyTunnels *tunnels, guint16 port)
{
  char text[8];

  g_snprintf (text, sizeof text, "%u", port);
  return g_strv_contains ((const char *const *) tunnels->proxy->settings->connect_ports, text);
}

void
dfly_proxy_tunnels_serve (DflyProxyTunnels *tunnels, SoupServerMessage *msg)
{
  DflyProxy *proxy = tunnels->proxy;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketConnectable) address = NULL;
  g_autoptr (DflyConfig) config = NULL;
  g_autofree char *host = NULL;
  Tunnel          *tunnel;
  guint16          port = 0;

  if (g_object_get_data (G_OBJECT (msg), TUNNEL_KEY) != NULL) {
    dfly_proxy_answer_error (msg, SOUP_STATUS_BAD_REQUEST,
                             "no CONNECT inside an intercepted CONNECT");
    return;
  }
  host = parse_target (msg, &port, &error);
  if (host == NULL) {
    dfly_proxy_answer_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
    return;
  }
  if (!port_allowed (tunnels, port)) {
    g_info ("proxy: CONNECT %s:%u refused: the port is not in proxy.connect_ports", host, port);
    dfly_proxy_answer_error (msg, SOUP_STATUS_FORBIDDEN,
                             "CONNECT to port %u is not allowed (proxy.connect_ports)", port);
    return;
  }
  if (!dfly_http_client_check_destination (dfly_context_get_http_client (proxy->context), host,
                                           NULL, &error)) {
    g_info ("proxy: CONNECT %s:%u refused: %s", host, port, error->message);
    dfly_proxy_answer_error (msg, SOUP_STATUS_FORBIDDEN, "%s", error->message);
    return;
  }
  if (tunnels->open->len >= proxy->settings->max_tunnels) {
    g_info ("proxy: CONNECT %s:%u refused: %u tunnels open (proxy.max_tunnels)", host, port,
            tunnels->open->len);
    dfly_proxy_answer_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                             "%u tunnels are open already; try again later", tunnels->open->len);
    return;
  }

  tunnel = g_new0 (Tunnel, 1);
  g_atomic_ref_count_init (&tunnel->ref_count); /* the slot's reference */
  tunnel->owner = tunnels;
  tunnel->msg = g_object_ref (msg);
  tunnel->host = g_steal_pointer (&host);
  tunnel->port = port;
  tunnel->shown = strchr (tunnel->host, ':') != NULL
                    ? g_strdup_printf ("[%s]:%u", tunnel->host, port)
                    : g_strdup_printf ("%s:%u", tunnel->host, port);
  tunnel->cancellable = g_cancellable_new ();
  tunnel->intercept =
    tunnels->leaves != NULL &&
    dfly_http_host_matches ((const char *const *) proxy->settings->intercept, tunnel->host);
  g_ptr_array_add (tunnels->open, tunnel);
  if (tunnels->sweep_id == 0)
    tunnels->sweep_id = g_timeout_add_seconds (1, on_sweep, tunnels);
  tunnel->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), tunnel);

  if (tunnel->intercept) {
    answer_ok (tunnel);
    return;
  }
  config = dfly_context_dup_config (proxy->context);
  client = g_socket_client_new ();
  /* Not through a proxy from the environment: this is the proxy. */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, config->http.connect_timeout);
  g_signal_connect (client, "event", G_CALLBACK (on_client_event), tunnel);
  address = g_network_address_new (tunnel->host, port);
  soup_server_message_pause (msg);
  g_socket_client_connect_async (client, address, tunnel->cancellable, on_connected,
                                 tunnel_ref (tunnel));
}

DflyProxyTunnels *
dfly_proxy_tunnels_new (DflyProxy *proxy, SoupServerCallback handler, gpointer handler_data,
                        GError **error)
{
  DflyProxyTunnels *tunnels = g_new0 (DflyProxyTunnels, 1);

  tunnels->proxy = proxy;
  tunnels->open = g_ptr_array_new_with_free_func ((GDestroyNotify) tunnel_unref);
  if (proxy->settings->intercept[0] != NULL) {
    tunnels->leaves = dfly_proxy_leaves_new (proxy->settings->ca_cert, proxy->settings->ca_key,
                                             DFLY_PROXY_LEAVES_MAX, error);
    if (tunnels->leaves == NULL) {
      dfly_proxy_tunnels_free (tunnels);
      return NULL;
    }
  }
  tunnels->inner = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  g_signal_connect (tunnels->inner, "request-started", G_CALLBACK (on_inner_request_started), NULL);
  /* Bodies the role would refuse on its own server (SoupServer would hold
   * them whole in memory). */
  dfly_wire_server_cap_bodies (tunnels->inner, proxy->settings->max_request_body);
  soup_server_add_handler (tunnels->inner, NULL, handler, handler_data, NULL);
  return tunnels;
}

void
dfly_proxy_tunnels_free (DflyProxyTunnels *tunnels)
{
  if (tunnels == NULL)
    return;
  while (tunnels->open->len > 0)
    tunnel_close (g_ptr_array_index (tunnels->open, tunnels->open->len - 1), "the proxy stops");
  g_clear_handle_id (&tunnels->sweep_id, g_source_remove);
  if (tunnels->inner != NULL)
    soup_server_disconnect (tunnels->inner);
  g_clear_object (&tunnels->inner);
  g_clear_pointer (&tunnels->leaves, dfly_proxy_leaves_free);
  g_ptr_array_unref (tunnels->open);
  g_free (tunnels);
}
