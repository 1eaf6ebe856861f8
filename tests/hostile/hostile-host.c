/* hostile-host.c — a fake host on a scheduler (see the header) */
#include "config.h"

#include "dfly-hostile.h"
#include "hostile-host.h"

#define MAX_MESSAGE (4 * 1024 * 1024)

static void
response_free (gpointer data)
{
  protobuf_c_message_free_unpacked (data, NULL);
}

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  HostileHost      *host = user_data;
  ProtobufCMessage *response =
    dfly_wire_unpack (g_bytes_get_data (message, NULL), g_bytes_get_size (message), MAX_MESSAGE,
                      DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, NULL);

  if (response != NULL)
    g_ptr_array_add (host->responses, response);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HostileHost *host = user_data;
  g_autoptr (GError) error = NULL;

  host->connected = TRUE;
  host->announce = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (host->announce == NULL) {
    g_printerr ("announce stream: %s\n", error->message);
    return;
  }
  dfly_wire_ws_setup (host->announce, MAX_MESSAGE);
  g_signal_connect (host->announce, "message", G_CALLBACK (on_message), host);
}

void
hostile_host_announce (HostileHost *host, guint port)
{
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                message = DFLY__V1__HOST__INIT;
  g_autofree char              *url = g_strconcat (host->scheduler_url, "/v1/announce-host", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) reply = NULL;

  message.id = host->host_id;
  message.type = DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL;
  message.hostname = "hostile";
  message.ip = host->ip;
  message.port = port;
  message.idc = "";
  message.location = "";
  message.cpu_count = 64;
  message.concurrent_upload_limit = 200;
  message.upload_rate_free = G_GUINT64_CONSTANT (10) << 30;
  message.announce_interval = 60;
  request.host = &message;
  frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  reply = soup_session_send_and_read (host->session, msg, NULL, NULL);
  g_print ("announce_host_status=%u\n", soup_message_get_status (msg));
}

gboolean
hostile_host_start (HostileHost *host, const char *scheduler, const char *ip, const char *name,
                    guint port)
{
  g_autofree char *url = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };

  host->session = soup_session_new ();
  host->scheduler_url = g_strconcat ("http://", scheduler, NULL);
  host->host_id = g_strconcat (ip, "-", name, NULL);
  host->ip = g_strdup (ip);
  host->responses = g_ptr_array_new_with_free_func (response_free);
  hostile_host_announce (host, port);
  url = g_strconcat (host->scheduler_url, "/v1/announce-peer", NULL);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  soup_session_websocket_connect_async (host->session, msg, NULL, protocols, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, host);
  return hostile_wait (&host->connected, 10000) && host->announce != NULL;
}

void
hostile_host_send (HostileHost *host, Dfly__V1__AnnouncePeerRequest *request, const char *task_id,
                   const char *peer_id)
{
  request->host_id = host->host_id;
  request->task_id = (char *) task_id;
  request->peer_id = (char *) peer_id;
  dfly_wire_ws_send (host->announce, DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request->base);
}

void
hostile_host_register (HostileHost *host, const char *task_id, const char *peer_id, const char *url,
                       guint64 piece_length, gboolean holds_content)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest reg = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download            download = DFLY__V1__DOWNLOAD__INIT;

  download.url = (char *) url;
  download.digest = "";
  download.tag = "";
  download.application = "";
  download.piece_length = piece_length;
  reg.download = &download;
  reg.holds_content = holds_content;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
  request.register_peer = &reg;
  hostile_host_send (host, &request, task_id, peer_id);
}

void
hostile_host_clear (HostileHost *host)
{
  g_clear_object (&host->announce);
  g_clear_object (&host->session);
  g_clear_pointer (&host->responses, g_ptr_array_unref);
  g_clear_pointer (&host->scheduler_url, g_free);
  g_clear_pointer (&host->host_id, g_free);
  g_clear_pointer (&host->ip, g_free);
}
