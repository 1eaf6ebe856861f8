/* hostile-ws-noread.c — streams that ask for much and never read a byte of it
 *
 * ws-noread HOST PORT PATH STREAMS SECONDS TASK_ID...: opens STREAMS
 * WebSockets to HOST:PORT/PATH (a peer's /v1/sync-pieces), each with a
 * receive buffer of 4 KiB, subscribes each to every TASK_ID (the server
 * answers with every piece it holds of them, and each new one), and then
 * never reads again for SECONDS. Prints how many streams were upgraded and
 * how many of them the server closed meanwhile (closed_by_server): a server
 * that caps what a stream leaves unread cuts them instead of queueing.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dfly/dfly.h>

#include "dfly-hostile.h"
#include "dfly-wire.h"

#define RECEIVE_BUFFER 4096
#define HEAD_WAIT_MS   10000

static gboolean
send_all (int fd, const guint8 *data, gsize length)
{
  while (length > 0) {
    gssize n = send (fd, data, length, MSG_NOSIGNAL);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    length -= n;
  }
  return TRUE;
}

/* One client frame (masked, as RFC 6455 asks of clients) holding payload. */
static gboolean
send_frame (int fd, GBytes *payload)
{
  gsize         length = g_bytes_get_size (payload);
  const guint8 *data = g_bytes_get_data (payload, NULL);
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  guint8 head[10] = { 0x82 }; /* FIN, binary */
  gsize  head_length = 2;

  if (length < 126) {
    head[1] = 0x80 | length;
  } else if (length < 65536) {
    head[1] = 0x80 | 126;
    head[2] = length >> 8;
    head[3] = length & 0xff;
    head_length = 4;
  } else {
    head[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
      head[2 + i] = (guint64) length >> (8 * (7 - i));
    head_length = 10;
  }
  g_byte_array_append (frame, head, head_length);
  g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < length; i++) {
    guint8 byte = data[i] ^ mask[i % 4];

    g_byte_array_append (frame, &byte, 1);
  }
  return send_all (fd, frame->data, frame->len);
}

/* Until the end of the 101 answer's head, byte by byte (nothing after it
 * is read). */
static gboolean
read_upgrade (int fd)
{
  g_autoptr (GString) got = g_string_new (NULL);
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char          byte;

  while (!g_str_has_suffix (got->str, "\r\n\r\n") && got->len < 4096) {
    if (poll (&pfd, 1, HEAD_WAIT_MS) <= 0 || recv (fd, &byte, 1, 0) != 1)
      return FALSE;
    g_string_append_c (got, byte);
  }
  return g_str_has_prefix (got->str, "HTTP/1.1 101");
}

static int
open_stream (const struct sockaddr_in *to, const char *host, const char *path)
{
  g_autofree char *request =
    g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: " DFLY_WIRE_WS_PROTOCOL "\r\n\r\n",
                     path, host);
  int size = RECEIVE_BUFFER;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (connect (fd, (const struct sockaddr *) to, sizeof *to) < 0 ||
      !send_all (fd, (const guint8 *) request, strlen (request)) || !read_upgrade (fd)) {
    close (fd);
    return -1;
  }
  return fd;
}

int
hostile_ws_noread (int argc, char **argv)
{
  struct sockaddr_in to = { .sin_family = AF_INET };
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  guint  streams, closed = 0;
  gint64 end;

  if (argc < 7 || inet_pton (AF_INET, argv[1], &to.sin_addr) != 1) {
    g_printerr ("usage: ws-noread HOST PORT PATH STREAMS SECONDS TASK_ID...\n");
    return 2;
  }
  to.sin_port = htons (atoi (argv[2]));
  streams = atoi (argv[4]);
  for (guint i = 0; i < streams; i++) {
    struct pollfd pfd = { .fd = open_stream (&to, argv[1], argv[3]), .events = POLLRDHUP };

    if (pfd.fd < 0)
      continue;
    for (int t = 6; t < argc; t++) {
      Dfly__V1__SyncPiecesRequest request = DFLY__V1__SYNC_PIECES_REQUEST__INIT;
      g_autoptr (GBytes) frame = NULL;

      request.task_id = argv[t];
      frame = dfly_wire_pack (DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
      send_frame (pfd.fd, frame);
    }
    g_array_append_val (fds, pfd);
  }
  g_print ("upgraded=%u\n", fds->len);
  /* Never read: only notice when the server hangs up. */
  end = g_get_monotonic_time () + (gint64) atoi (argv[5]) * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && closed < fds->len) {
    if (poll ((struct pollfd *) fds->data, fds->len, 100) < 0 && errno != EINTR)
      break;
    for (guint i = 0; i < fds->len; i++) {
      struct pollfd *pfd = &g_array_index (fds, struct pollfd, i);

      if (pfd->fd >= 0 && (pfd->revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        closed++;
        close (pfd->fd);
        pfd->fd = -1;
      }
    }
  }
  for (guint i = 0; i < fds->len; i++) {
    if (g_array_index (fds, struct pollfd, i).fd >= 0)
      close (g_array_index (fds, struct pollfd, i).fd);
  }
  g_print ("closed_by_server=%u\n", closed);
  return 0;
}
