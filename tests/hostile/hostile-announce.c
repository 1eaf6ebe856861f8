/* hostile-announce.c — a lying peer's announce stream to a scheduler (see the header) */
#include "config.h"

#include <dfly/dfly-tls.h>
#include <dfly/dfly.h>
#include <glib-unix.h>

#include "dfly-hostile.h"
#include "hostile-announce.h"

#define MAX_MESSAGE (4 * 1024 * 1024)
#define ZEROS       "0000000000000000000000000000000000000000000000000000000000000000"

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  HostileAnnounce  *self = user_data;
  ProtobufCMessage *response =
    dfly_wire_unpack (g_bytes_get_data (message, NULL), g_bytes_get_size (message), MAX_MESSAGE,
                      DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, NULL);

  if (response != NULL)
    g_ptr_array_add (self->responses, response);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HostileAnnounce *self = user_data;
  g_autoptr (GError) error = NULL;

  self->connected = TRUE;
  self->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (self->ws == NULL) {
    g_printerr ("announce stream: %s\n", error->message);
    return;
  }
  dfly_wire_ws_setup (self->ws, MAX_MESSAGE);
  g_signal_connect (self->ws, "message", G_CALLBACK (on_message), self);
}

static void
response_free (gpointer data)
{
  protobuf_c_message_free_unpacked (data, NULL);
}

gboolean
hostile_announce_open (HostileAnnounce *self, const char *scheduler, const char *host_id,
                       const char *url)
{
  char            *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  const char      *ca = g_getenv ("DFLY_HOSTILE_TLS_CA");
  g_autofree char *stream_url = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) tls = NULL;

  self->task_id = dfly_task_id_new (url, "", "", 0, NULL, &error);
  if (self->task_id == NULL) {
    g_printerr ("%s: %s\n", url, error->message);
    return FALSE;
  }
  self->session = soup_session_new ();
  /* With a cluster certificate (a host of the cluster turned hostile):
   * DFLY_HOSTILE_TLS_CA, _CERT and _KEY name its files. */
  if (ca != NULL) {
    tls = dfly_tls_new (ca, g_getenv ("DFLY_HOSTILE_TLS_CERT"), g_getenv ("DFLY_HOSTILE_TLS_KEY"),
                        &error);
    if (tls == NULL) {
      g_printerr ("tls: %s\n", error->message);
      return FALSE;
    }
    dfly_tls_setup_session (tls, self->session, DFLY_ROLE_FLAG_SCHEDULER);
  }
  self->scheduler_url = g_strconcat (tls != NULL ? "https://" : "http://", scheduler, NULL);
  stream_url = g_strconcat (self->scheduler_url, "/v1/announce-peer", NULL);
  self->host_id = g_strdup (host_id);
  self->peer_id = g_strconcat (host_id, "-liar", NULL);
  self->responses = g_ptr_array_new_with_free_func (response_free);
  msg = soup_message_new (SOUP_METHOD_GET, stream_url);
  if (msg == NULL) {
    g_printerr ("not a scheduler address: %s\n", scheduler);
    return FALSE;
  }
  soup_session_websocket_connect_async (self->session, msg, NULL, protocols, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, self);
  return hostile_wait (&self->connected, 10000) && self->ws != NULL;
}

void
hostile_announce_close (HostileAnnounce *self)
{
  if (self->ws != NULL) {
    g_signal_handlers_disconnect_by_data (self->ws, self);
    g_clear_object (&self->ws);
  }
  g_clear_object (&self->session);
  g_clear_pointer (&self->responses, g_ptr_array_unref);
  g_clear_pointer (&self->scheduler_url, g_free);
  g_clear_pointer (&self->host_id, g_free);
  g_clear_pointer (&self->task_id, g_free);
  g_clear_pointer (&self->peer_id, g_free);
}

void
hostile_announce_send (HostileAnnounce *self, Dfly__V1__AnnouncePeerRequest *request)
{
  request->host_id = self->host_id;
  request->task_id = self->task_id;
  request->peer_id = self->peer_id;
  dfly_wire_ws_send (self->ws, DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request->base);
}

static gboolean
on_wait_tick (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

Dfly__V1__AnnouncePeerResponse *
hostile_announce_wait (HostileAnnounce *self, guint timeout_ms)
{
  for (guint waited = 0; self->responses->len == 0 && waited < timeout_ms; waited += 100) {
    gboolean tick = FALSE;

    g_timeout_add (100, on_wait_tick, &tick);
    hostile_wait (&tick, 200);
  }
  return self->responses->len > 0 ? g_ptr_array_index (self->responses, 0) : NULL;
}

gint64
hostile_announce_stat_length (HostileAnnounce *self)
{
  Dfly__V1__StatTaskRequest request = DFLY__V1__STAT_TASK_REQUEST__INIT;
  g_autofree char          *url = g_strconcat (self->scheduler_url, "/v1/stat-task", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) reply = NULL;
  Dfly__V1__Task *task;
  gint64          length;

  request.task_id = self->task_id;
  frame = dfly_wire_pack (DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  reply = soup_session_send_and_read (self->session, msg, NULL, NULL);
  if (reply == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    return -2;
  task =
    (Dfly__V1__Task *) dfly_wire_unpack (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply),
                                         MAX_MESSAGE, DFLY_MESSAGE_TASK, NULL, NULL);
  if (task == NULL)
    return -2;
  length = task->content_length;
  protobuf_c_message_free_unpacked (&task->base, NULL);
  return length;
}

void
hostile_announce_host (HostileAnnounce *self, const char *ip, guint port)
{
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                host = DFLY__V1__HOST__INIT;
  g_autofree char              *url = g_strconcat (self->scheduler_url, "/v1/announce-host", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) reply = NULL;

  host.id = self->host_id;
  host.type = DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL;
  host.hostname = "hostile";
  host.ip = (char *) ip;
  host.port = port;
  host.idc = "";
  host.location = "";
  host.cpu_count = 64;
  host.concurrent_upload_limit = 200;
  host.upload_rate_free = G_GUINT64_CONSTANT (10) << 30;
  host.announce_interval = 60;
  request.host = &host;
  frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  reply = soup_session_send_and_read (self->session, msg, NULL, NULL);
  g_print ("announce_host_status=%u\n", soup_message_get_status (msg));
}

void
hostile_announce_register (HostileAnnounce *self, const char *url, guint64 piece_length,
                           gboolean need_back_to_source, gboolean holds_content)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest reg = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download            download = DFLY__V1__DOWNLOAD__INIT;

  download.url = (char *) url;
  download.digest = "";
  download.tag = "";
  download.application = "";
  download.piece_length = piece_length;
  download.need_back_to_source = need_back_to_source;
  reg.download = &download;
  reg.holds_content = holds_content;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
  request.register_peer = &reg;
  hostile_announce_send (self, &request);
}

/* ---- the lie ---- */

static void
report_piece (HostileAnnounce *self, guint32 number, guint64 piece_length, const char *digest)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceBackToSourceFinishedRequest finished =
    DFLY__V1__DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__Piece piece = DFLY__V1__PIECE__INIT;

  piece.number = number;
  piece.parent_id = "";
  piece.offset = (guint64) number * piece_length;
  piece.length = piece_length;
  piece.digest = (char *) digest;
  piece.cost_us = 1;
  finished.piece = &piece;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED;
  request.download_piece_back_to_source_finished = &finished;
  hostile_announce_send (self, &request);
}

/* Says the origin holds content_length bytes in pieces of piece_length,
 * reports pieces with digests of zeros (in every algorithm's form), and
 * says it finished. */
static void
lie (HostileAnnounce *self, gint64 content_length, guint64 piece_length)
{
  Dfly__V1__AnnouncePeerRequest                    request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceStartedRequest started =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFinishedRequest finished =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  static const guint32 numbers[] = { 0, 1, 2, 3, 4, 5, 6, 7, 1u << 24, 1u << 31, G_MAXUINT32 };
  static const char   *digests[] = { "sha256:" ZEROS, "crc32c:00000000", "xxh3:0000000000000000" };

  started.content_length = content_length;
  started.piece_length = piece_length;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED;
  request.download_peer_back_to_source_started = &started;
  hostile_announce_send (self, &request);
  for (gsize d = 0; d < G_N_ELEMENTS (digests); d++) {
    for (gsize i = 0; i < G_N_ELEMENTS (numbers); i++)
      report_piece (self, numbers[i], piece_length, digests[d]);
  }
  finished.content_length = (guint64) content_length;
  finished.piece_count = dfly_piece_count ((guint64) content_length, MAX (piece_length, 1));
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED;
  request.download_peer_back_to_source_finished = &finished;
  hostile_announce_send (self, &request);
}

static gboolean
on_term (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

int
hostile_lie_as_source (int argc, char **argv, const char *name, gboolean need_back_to_source,
                       gint64 content_length, guint64 piece_length)
{
  HostileAnnounce                 self = { 0 };
  Dfly__V1__AnnouncePeerResponse *response;
  gboolean                        stopped = FALSE;
  guint                           term_id;

  if (argc != 4) {
    g_printerr ("usage: %s SCHEDULER URL SECONDS\n", name);
    return 2;
  }
  if (!hostile_announce_open (&self, argv[1], "127.0.0.1-liar", argv[2])) {
    hostile_announce_close (&self);
    return 1;
  }
  g_print ("task_id=%s\n", self.task_id);
  hostile_announce_register (&self, argv[2], 0, need_back_to_source, FALSE);
  response = hostile_announce_wait (&self, 10000);
  if (response == NULL) {
    g_print ("response=none\n");
  } else if (response->response_case ==
             DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE) {
    g_print ("response=back-to-source: %s\n", response->need_back_to_source->description);
    lie (&self, content_length, piece_length);
  } else {
    g_print ("response=%d\n", response->response_case);
  }
  /* Holds its place while the real peers come, then sees what stuck. */
  term_id = g_unix_signal_add (SIGTERM, on_term, &stopped);
  hostile_wait (&stopped, (guint) MIN (g_ascii_strtoull (argv[3], NULL, 10), 600) * 1000);
  g_source_remove (term_id);
  g_print ("stat_content_length=%" G_GINT64_FORMAT "\n", hostile_announce_stat_length (&self));
  hostile_announce_close (&self);
  return 0;
}
