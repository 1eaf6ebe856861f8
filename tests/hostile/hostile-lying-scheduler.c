/* hostile-lying-scheduler.c — a scheduler that sizes tasks absurdly
 *
 *   dfly-hostile lying-scheduler IP SECONDS
 *
 * Listens on IP (a free port, printed as "port=") as a scheduler: host
 * announces and leaves get 200, and every peer that registers on an
 * announce stream is told its task holds 16 MiB in 1-byte pieces (a piece
 * table of 16 Mi entries, were it believed), then 2^40 bytes in 1-byte
 * pieces, then to go back to source. A peer must ignore both lengths and
 * fetch the real bytes from the origin. Serves for SECONDS (or until
 * SIGTERM), then prints "registers=" (registrations answered).
 */
#include "config.h"

#include <dfly/dfly.h>
#include <glib-unix.h>

#include "dfly-hostile.h"
#include "dfly-wire.h"

#define MAX_MESSAGE (4 * 1024 * 1024)

typedef struct {
  GPtrArray *streams; /* announce streams kept open */
  guint      registers;
} Liar;

static void
send_length (SoupWebsocketConnection *ws, const Dfly__V1__AnnouncePeerRequest *request,
             guint64 content_length)
{
  Dfly__V1__AnnouncePeerResponse response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__NormalTaskResponse   normal = DFLY__V1__NORMAL_TASK_RESPONSE__INIT;

  normal.content_length = content_length;
  normal.piece_length = 1;
  normal.piece_count = (guint32) MIN (content_length, G_MAXUINT32);
  response.task_id = request->task_id;
  response.peer_id = request->peer_id;
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK;
  response.normal_task = &normal;
  dfly_wire_ws_send (ws, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response.base);
}

static void
send_to_source (SoupWebsocketConnection *ws, const Dfly__V1__AnnouncePeerRequest *request)
{
  Dfly__V1__AnnouncePeerResponse     response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__NeedBackToSourceResponse need = DFLY__V1__NEED_BACK_TO_SOURCE_RESPONSE__INIT;

  need.description = "a lying scheduler";
  response.task_id = request->task_id;
  response.peer_id = request->peer_id;
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE;
  response.need_back_to_source = &need;
  dfly_wire_ws_send (ws, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response.base);
}

static void
on_announce (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Liar                          *liar = user_data;
  Dfly__V1__AnnouncePeerRequest *request = (Dfly__V1__AnnouncePeerRequest *) dfly_wire_unpack (
    g_bytes_get_data (message, NULL), g_bytes_get_size (message), MAX_MESSAGE,
    DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, NULL, NULL);

  if (request == NULL)
    return;
  if (request->request_case == DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER) {
    liar->registers++;
    send_length (ws, request, G_GUINT64_CONSTANT (16) << 20);
    send_length (ws, request, G_GUINT64_CONSTANT (1) << 40);
    send_to_source (ws, request);
  }
  protobuf_c_message_free_unpacked (&request->base, NULL);
}

static void
on_announce_peer (SoupServer *server, SoupServerMessage *msg, const char *path,
                  SoupWebsocketConnection *connection, gpointer user_data)
{
  Liar *liar = user_data;

  dfly_wire_ws_setup (connection, MAX_MESSAGE);
  g_signal_connect (connection, "message", G_CALLBACK (on_announce), liar);
  g_ptr_array_add (liar->streams, g_object_ref (connection));
}

static void
on_post (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static gboolean
on_term (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

int
hostile_lying_scheduler (int argc, char **argv)
{
  Liar  liar = { g_ptr_array_new_with_free_func (g_object_unref), 0 };
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (DflyWireListener) listener = NULL;
  g_autoptr (GError) error = NULL;
  gboolean stopped = FALSE;
  guint    term_id;

  if (argc != 3) {
    g_printerr ("usage: lying-scheduler IP SECONDS\n");
    return 2;
  }
  server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (server, "/v1/announce-peer", NULL, protocols, on_announce_peer,
                                     &liar, NULL);
  soup_server_add_handler (server, "/v1/announce-host", on_post, NULL, NULL);
  soup_server_add_handler (server, "/v1/leave-host", on_post, NULL, NULL);
  listener = dfly_wire_listen (server, argv[1], 0, NULL, &error);
  if (listener == NULL) {
    g_printerr ("lying-scheduler: %s\n", error->message);
    return 1;
  }
  g_print ("port=%u\n", dfly_wire_listener_get_port (listener));
  term_id = g_unix_signal_add (SIGTERM, on_term, &stopped);
  hostile_wait (&stopped, (guint) MIN (g_ascii_strtoull (argv[2], NULL, 10), 600) * 1000);
  g_source_remove (term_id);
  g_print ("registers=%u\n", liar.registers);
  g_ptr_array_unref (liar.streams);
  return 0;
}
