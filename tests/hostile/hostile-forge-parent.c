/* hostile-forge-parent.c — a parent that serves pieces forged to keep their CRC-32C
 *
 *   dfly-hostile forge-parent SCHEDULER IP TASK_ID URL FILE PIECE_LENGTH SECONDS
 *
 * Announces itself to the scheduler at SCHEDULER ("ip:port") as a normal
 * host at IP (IP-forger; its peer is IP-forger-liar), registers as a peer
 * holding task TASK_ID (URL's) whole, reports
 * every piece of FILE (the origin's bytes) and, for SECONDS, serves them on
 * its own upload server: piece sync streams list every piece, and each piece
 * request gets the real bytes with four of them flipped and four more
 * patched so the piece keeps its CRC-32C (CRC is affine: the patch is solved
 * by running the CRC backwards over 32 bits). Under CRC-32C piece digests a
 * child cannot tell; under SHA-256 it must. Prints "port=", then at the end
 * "requests=" (piece requests answered) and "forged=" (pieces sent forged).
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dfly/dfly.h>
#include <glib-unix.h>

#include "dfly-hostile.h"
#include "hostile-announce.h"

#define CRC32C_POLY 0x82f63b78u
#define MAX_MESSAGE (4 * 1024 * 1024) /* a sync stream's incoming frames */

typedef struct {
  HostileAnnounce announce;
  char           *task_id;
  int             fd; /* FILE */
  guint64         length;
  guint64         piece_length;
  guint32         piece_count;
  guint           requests;
  guint           forged;
  GPtrArray      *streams; /* sync streams kept open */
  gboolean        stopped; /* SIGTERM */
} Forger;

/* The register state before the last 32 bits of input, given the state after
 * them with those bits zero: 32 steps of the reflected CRC run backwards. */
static guint32
crc_unshift32 (guint32 reg)
{
  for (int bit = 0; bit < 32; bit++)
    reg = (reg & 0x80000000u) != 0 ? ((reg ^ CRC32C_POLY) << 1) | 1u : reg << 1;
  return reg;
}

/* Changes piece (length >= 8) so its CRC-32C stays: bytes 0-3 flipped, the
 * last four solved for. */
static void
forge (guint8 *piece, gsize length)
{
  guint32 want = dfly_crc32c (0, piece, length);
  guint32 before, patch;

  for (int i = 0; i < 4; i++)
    piece[i] ^= 0xa5;
  /* Internal registers are the complement of dfly_crc32c's values. */
  before = ~dfly_crc32c (0, piece, length - 4);
  patch = crc_unshift32 (~want) ^ before;
  for (int i = 0; i < 4; i++)
    piece[length - 4 + i] = (guint8) (patch >> (8 * i));
  g_assert (dfly_crc32c (0, piece, length) == want);
}

/* ---- the upload server ---- */

static void
on_piece_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  Forger             *forger = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupRange          *ranges = NULL;
  int                 n_ranges = 0;
  g_autofree guint8  *bytes = NULL;
  goffset             start, end;
  gsize               length;

  if (!g_str_has_suffix (path, forger->task_id) ||
      !soup_message_headers_get_ranges (headers, forger->length, &ranges, &n_ranges)) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  start = ranges[0].start;
  end = ranges[0].end;
  soup_message_headers_free_ranges (headers, ranges);
  length = end - start + 1;
  bytes = g_malloc (length);
  if (pread (forger->fd, bytes, length, start) != (gssize) length) {
    soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    return;
  }
  forger->requests++;
  /* Whole pieces only: a range that is one piece. */
  if (start % forger->piece_length == 0 && length >= 8 &&
      (length == forger->piece_length || (guint64) end + 1 == forger->length)) {
    forge (bytes, length);
    forger->forged++;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  soup_message_headers_set_content_range (soup_server_message_get_response_headers (msg), start,
                                          end, forger->length);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_TAKE,
                                    (char *) g_steal_pointer (&bytes), length);
}

/* Piece n as the forger claims it: no digest (only the source's count). */
static void
fill_piece (Forger *forger, guint32 n, Dfly__V1__Piece *piece)
{
  dfly__v1__piece__init (piece);
  piece->number = n;
  piece->offset = (guint64) n * forger->piece_length;
  piece->length = MIN (forger->piece_length, forger->length - piece->offset);
  piece->digest = "";
  piece->parent_id = "";
}

static void
send_piece_list (Forger *forger, SoupWebsocketConnection *ws)
{
  for (guint32 n = 0; n < forger->piece_count; n++) {
    Dfly__V1__SyncPiecesResponse response = DFLY__V1__SYNC_PIECES_RESPONSE__INIT;
    Dfly__V1__Piece              piece;

    fill_piece (forger, n, &piece);
    response.piece = &piece;
    response.task_id = forger->task_id;
    dfly_wire_ws_send (ws, DFLY_MESSAGE_SYNC_PIECES_RESPONSE, &response.base);
  }
}

static void
on_sync_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  send_piece_list (user_data, ws);
}

static void
on_sync_pieces (SoupServer *server, SoupServerMessage *msg, const char *path,
                SoupWebsocketConnection *connection, gpointer user_data)
{
  Forger *forger = user_data;

  dfly_wire_ws_setup (connection, MAX_MESSAGE);
  g_signal_connect (connection, "message", G_CALLBACK (on_sync_message), forger);
  g_ptr_array_add (forger->streams, g_object_ref (connection));
}

/* ---- the scheduler ---- */

/* Registers as a peer holding the whole task and reports every piece. */
static void
register_parent (Forger *forger, const char *url)
{
  Dfly__V1__AnnouncePeerRequest         request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerFinishedRequest finished = DFLY__V1__DOWNLOAD_PEER_FINISHED_REQUEST__INIT;

  hostile_announce_register (&forger->announce, url, forger->piece_length, FALSE, TRUE);
  for (guint32 n = 0; n < forger->piece_count; n++) {
    Dfly__V1__AnnouncePeerRequest          piece_request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
    Dfly__V1__DownloadPieceFinishedRequest done = DFLY__V1__DOWNLOAD_PIECE_FINISHED_REQUEST__INIT;
    Dfly__V1__Piece                        piece;

    fill_piece (forger, n, &piece);
    done.piece = &piece;
    piece_request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FINISHED;
    piece_request.download_piece_finished = &done;
    hostile_announce_send (&forger->announce, &piece_request);
  }
  finished.content_length = forger->length;
  finished.piece_count = forger->piece_count;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FINISHED;
  request.download_peer_finished = &finished;
  hostile_announce_send (&forger->announce, &request);
}

static gboolean
on_term (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

int
hostile_forge_parent (int argc, char **argv)
{
  Forger forger = { 0 };
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (DflyWireListener) listener = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *host_id = NULL;
  char            *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  struct stat      st;
  guint            port;

  if (argc != 8) {
    g_printerr ("usage: forge-parent SCHEDULER IP TASK_ID URL FILE PIECE_LENGTH SECONDS\n");
    return 2;
  }
  forger.task_id = argv[3];
  forger.fd = open (argv[5], O_RDONLY | O_CLOEXEC);
  forger.piece_length = g_ascii_strtoull (argv[6], NULL, 10);
  if (forger.fd < 0 || fstat (forger.fd, &st) != 0 || forger.piece_length < 8) {
    g_printerr ("forge-parent: cannot read %s or bad piece length\n", argv[5]);
    return 2;
  }
  forger.length = st.st_size;
  forger.piece_count = (forger.length + forger.piece_length - 1) / forger.piece_length;
  forger.streams = g_ptr_array_new_with_free_func (g_object_unref);

  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, "/v1/tasks/", on_piece_request, &forger, NULL);
  soup_server_add_websocket_handler (server, "/v1/sync-pieces", NULL, protocols, on_sync_pieces,
                                     &forger, NULL);
  listener = dfly_wire_listen (server, argv[2], 0, NULL, &error);
  if (listener == NULL) {
    g_printerr ("forge-parent: %s\n", error->message);
    return 1;
  }
  port = dfly_wire_listener_get_port (listener);
  g_print ("port=%u\n", port);
  host_id = g_strconcat (argv[2], "-forger", NULL);
  if (!hostile_announce_open (&forger.announce, argv[1], host_id, argv[4]))
    return 1;
  /* The task the test names: its id may carry what the URL alone does not. */
  g_free (forger.announce.task_id);
  forger.announce.task_id = g_strdup (forger.task_id);
  hostile_announce_host (&forger.announce, argv[2], port);
  register_parent (&forger, argv[4]);
  g_print ("registered=%s\n", forger.task_id);
  /* Serves until the time is up or SIGTERM (and re-announces, as a live host does). */
  g_unix_signal_add (SIGTERM, on_term, &forger.stopped);
  for (guint64 left = g_ascii_strtoull (argv[7], NULL, 10); left > 0 && !forger.stopped; left--) {
    hostile_wait (&forger.stopped, 1000);
    if (left % 10 == 0)
      hostile_announce_host (&forger.announce, argv[2], port);
  }
  g_print ("requests=%u\nforged=%u\n", forger.requests, forger.forged);
  g_ptr_array_unref (forger.streams);
  hostile_announce_close (&forger.announce);
  close (forger.fd);
  return 0;
}
