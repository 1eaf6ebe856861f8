/* hostile-fake-hosts.c — thousands of hosts that do not exist
 *
 *   dfly-hostile fake-hosts SCHEDULER COUNT INTERVAL
 *
 * Announces COUNT hosts to the scheduler at SCHEDULER ("ip:port"), each
 * with its own id and announce interval INTERVAL (seconds: a huge one would
 * keep them for ever), a few at a time, and never again: a table that only
 * refused newcomers once full would lock out every real host after them.
 * Prints "announced=" (answered 200), "refused=" (answered otherwise) and
 * "failed=" (no answer).
 */
#include "config.h"

#include <dfly/dfly.h>

#include "dfly-hostile.h"
#include "dfly-wire.h"

#define IN_FLIGHT 8

typedef struct {
  SoupSession *session;
  char        *url;
  guint        count, interval;
  guint        sent, announced, refused, failed;
  gboolean     done;
} Flood;

static void send_next (Flood *flood);

static gboolean
send_next_idle (gpointer user_data)
{
  send_next (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Flood       *flood = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GBytes) reply =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  if (reply == NULL)
    flood->failed++;
  else if (soup_message_get_status (msg) == SOUP_STATUS_OK)
    flood->announced++;
  else
    flood->refused++;
  flood->done = flood->announced + flood->refused + flood->failed == flood->count;
  /* Once the connection is back in the session's pool: sent from here, the
   * next announce would open another each time. */
  g_idle_add (send_next_idle, flood);
}

static void
send_next (Flood *flood)
{
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                host = DFLY__V1__HOST__INIT;
  g_autofree char              *id = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) frame = NULL;

  if (flood->sent == flood->count)
    return;
  id = g_strdup_printf ("10.%u.%u.%u-fake", (flood->sent >> 16) & 0xff, (flood->sent >> 8) & 0xff,
                        flood->sent & 0xff);
  host.id = id;
  host.type = DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL;
  host.hostname = "fake";
  host.ip = "10.255.255.1";
  host.port = 9;
  host.idc = "";
  host.location = "";
  host.concurrent_upload_limit = 200;
  host.announce_interval = flood->interval;
  request.host = &host;
  flood->sent++;
  frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base);
  msg = soup_message_new (SOUP_METHOD_POST, flood->url);
  soup_message_set_request_body_from_bytes (msg, "application/x-dfly-frame", frame);
  /* libsoup sends a POST on a connection of its own unless told it may be
   * repeated: a few connections carry the whole flood. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  soup_session_send_and_read_async (flood->session, msg, G_PRIORITY_DEFAULT, NULL, on_answer,
                                    flood);
}

int
hostile_fake_hosts (int argc, char **argv)
{
  Flood flood = { 0 };

  if (argc != 4) {
    g_printerr ("usage: fake-hosts SCHEDULER COUNT INTERVAL\n");
    return 2;
  }
  flood.url = g_strconcat ("http://", argv[1], "/v1/announce-host", NULL);
  flood.count = (guint) g_ascii_strtoull (argv[2], NULL, 10);
  flood.interval = (guint) MIN (g_ascii_strtoull (argv[3], NULL, 10), G_MAXUINT32);
  flood.session =
    soup_session_new_with_options ("max-conns-per-host", IN_FLIGHT, "timeout", 10, NULL);
  flood.done = flood.count == 0;
  for (guint i = 0; i < IN_FLIGHT; i++)
    send_next (&flood);
  hostile_wait (&flood.done, 600 * 1000);
  g_print ("announced=%u\nrefused=%u\nfailed=%u\n", flood.announced, flood.refused, flood.failed);
  g_object_unref (flood.session);
  g_free (flood.url);
  return flood.done ? 0 : 1;
}
