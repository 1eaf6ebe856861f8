/* hostile-spoof-host.c — a host of the cluster that speaks for another
 *
 *   dfly-hostile spoof-host SCHEDULER OTHER_HOST_ID URL
 *
 * Run with a cluster certificate (DFLY_HOSTILE_TLS_CA, _CERT, _KEY) that
 * names a host other than OTHER_HOST_ID, it announces OTHER_HOST_ID's host
 * (to take its address), makes it leave, and registers a peer for URL's
 * task as OTHER_HOST_ID on an announce stream. Prints
 * "announce_host_status=", "leave_host_status=" and "stream_closed=" (1:
 * the scheduler closed the stream on the lie).
 */
#include "config.h"

#include "dfly-hostile.h"
#include "hostile-announce.h"

static guint
leave (HostileAnnounce *announce)
{
  Dfly__V1__LeaveHostRequest request = DFLY__V1__LEAVE_HOST_REQUEST__INIT;
  g_autofree char           *url = g_strconcat (announce->scheduler_url, "/v1/leave-host", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) reply = NULL;

  request.id = announce->host_id;
  frame = dfly_wire_pack (DFLY_MESSAGE_LEAVE_HOST_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  reply = soup_session_send_and_read (announce->session, msg, NULL, NULL);
  return soup_message_get_status (msg);
}

int
hostile_spoof_host (int argc, char **argv)
{
  HostileAnnounce announce = { 0 };

  if (argc != 4) {
    g_printerr ("usage: dfly-hostile spoof-host SCHEDULER OTHER_HOST_ID URL\n");
    return 2;
  }
  if (!hostile_announce_open (&announce, argv[1], argv[2], argv[3])) {
    hostile_announce_close (&announce);
    return 1;
  }
  hostile_announce_host (&announce, "127.0.0.1", 4000);
  g_print ("leave_host_status=%u\n", leave (&announce));
  hostile_announce_register (&announce, argv[3], 0, FALSE, FALSE);
  hostile_announce_wait (&announce, 3000);
  g_print ("stream_closed=%d\n",
           soup_websocket_connection_get_state (announce.ws) != SOUP_WEBSOCKET_STATE_OPEN);
  hostile_announce_close (&announce);
  return 0;
}
