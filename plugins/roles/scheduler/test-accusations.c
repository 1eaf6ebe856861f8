/* test-accusations.c — who an accusation counts as, and what the parent's answer does
 *
 * dfly-accusations alone, on hand-made peers of one task whose announce
 * streams are the server ends of socket pairs, as the scheduler's service
 * makes them; the TLS ones carry a certificate's identity, attached as the
 * TLS listener attaches it. What the scheduler sends the parent is read
 * back from the pair and decoded.
 */
#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include <dfly/dfly-identity.h>

#include "dfly-accusations.h"

#define TASK_ID "acc0000000000000000000000000000000000000000000000000000000000000"

typedef struct {
  ScheduleTask  task;
  SchedulePeer *parent;
  GPtrArray    *children; /* SchedulePeer * */
  GPtrArray    *writers;  /* int fds of the pairs' other ends, as pointers */
} World;

/* A peer of w's task on host_id, its stream carrying identity (NULL: plaintext). */
static SchedulePeer *
peer_new (World *w, const char *id, const char *host_id, DflyIdentity *identity)
{
  SchedulePeer *peer = g_new0 (SchedulePeer, 1);
  int           fds[2];
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GUri) uri = g_uri_parse ("ws://127.0.0.1/v1/announce-peer", G_URI_FLAGS_NONE, NULL);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  socket = g_socket_new_from_fd (fds[0], NULL);
  connection = g_socket_connection_factory_create_connection (socket);
  peer->stream = soup_websocket_connection_new (
    G_IO_STREAM (connection), uri, SOUP_WEBSOCKET_CONNECTION_SERVER, NULL, "dfly.v1", NULL);
  if (identity != NULL)
    dfly_identity_attach_to_websocket (peer->stream, identity);
  peer->id = g_strdup (id);
  peer->host_id = g_strdup (host_id);
  peer->task = &w->task;
  peer->bitmap = g_byte_array_new ();
  dfly_accusations_init (peer);
  g_ptr_array_add (w->writers, GINT_TO_POINTER (fds[1]));
  return peer;
}

static void
peer_free (SchedulePeer *peer)
{
  dfly_accusations_clear (peer);
  g_byte_array_unref (peer->bitmap);
  g_object_unref (peer->stream);
  g_free (peer->host_id);
  g_free (peer->id);
  g_free (peer);
}

static void
world_init (World *w)
{
  w->task.id = (char *) TASK_ID;
  w->task.content_length = 4 * 4096;
  w->task.piece_length = 4096;
  w->task.piece_count = 4;
  w->task.digests = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (w->task.digests, g_strdup ("sha256:00"));
  g_ptr_array_add (w->task.digests, g_strdup ("sha256:01"));
  g_ptr_array_set_size (w->task.digests, 4);
  w->children = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  w->writers = g_ptr_array_new ();
  w->parent = peer_new (w, "parent-1", "10.0.0.1-parent", NULL);
  for (guint32 n = 0; n < 4; n++)
    dfly_wire_bitmap_set (w->parent->bitmap, n);
  w->parent->finished = 4;
}

static void
world_clear (World *w)
{
  g_ptr_array_unref (w->children);
  peer_free (w->parent);
  for (guint i = 0; i < w->writers->len; i++)
    close (GPOINTER_TO_INT (g_ptr_array_index (w->writers, i)));
  g_ptr_array_unref (w->writers);
  g_ptr_array_unref (w->task.digests);
}

static SchedulePeer *
child (World *w, const char *id, const char *host_id, const char *cert_host)
{
  g_autoptr (DflyIdentity) identity =
    cert_host != NULL ? dfly_identity_new (cert_host, DFLY_ROLE_FLAG_PEER) : NULL;
  SchedulePeer *peer = peer_new (w, id, host_id, identity);

  g_ptr_array_add (w->children, peer);
  return peer;
}

/* Bytes the scheduler wrote to the parent's stream so far (the WebSocket
 * frames, unmasked from a server), after the main context ran. */
static GByteArray *
sent_to_parent (World *w)
{
  GByteArray *bytes = g_byte_array_new ();
  int         fd = GPOINTER_TO_INT (g_ptr_array_index (w->writers, 0));
  guint8      buffer[4096];
  gssize      n;

  while (g_main_context_iteration (NULL, FALSE))
    ;
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_byte_array_append (bytes, buffer, n);
  return bytes;
}

/* The CheckPieceResponses in bytes (each one WebSocket binary frame holding
 * one dfly frame), as "number=digest" joined by spaces. */
static char *
checks_in (GByteArray *bytes)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gsize offset = 0;

  while (offset + 2 <= bytes->len) {
    guint8                         *frame = bytes->data + offset;
    guint64                         length = frame[1] & 0x7f;
    gsize                           head = 2;
    Dfly__V1__AnnouncePeerResponse *response;

    g_assert_cmpuint (frame[0], ==, 0x82); /* FIN, binary */
    if (length == 126) {
      length = (guint64) frame[2] << 8 | frame[3];
      head = 4;
    }
    g_assert_cmpuint (offset + head + length, <=, bytes->len);
    response = (Dfly__V1__AnnouncePeerResponse *) dfly_wire_unpack (
      frame + head, length, 1 << 20, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, NULL);
    g_assert_nonnull (response);
    g_assert_cmpstr (response->task_id, ==, TASK_ID);
    g_assert_cmpstr (response->peer_id, ==, "parent-1");
    g_assert_cmpint (response->response_case, ==,
                     DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_CHECK_PIECE);
    g_string_append_printf (out, "%s%u=%s", out->len > 0 ? " " : "",
                            response->check_piece->piece_number, response->check_piece->digest);
    protobuf_c_message_free_unpacked (&response->base, NULL);
    offset += head + length;
  }
  return g_strdup (out->str);
}

/* Plaintext: one accusation per registered host; the parent is asked once
 * per piece, with the reference digest ("" when none is known). */
static void
test_plaintext (void)
{
  World w = { 0 };
  g_autoptr (GByteArray) sent = NULL;
  g_autofree char *checks = NULL;

  world_init (&w);
  dfly_accusations_add (w.parent, child (&w, "c-1", "10.0.0.2-c", NULL), 0, FALSE);
  dfly_accusations_add (w.parent, child (&w, "c-2", "10.0.0.2-c", NULL), 0, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 1);
  dfly_accusations_add (w.parent, child (&w, "d-1", "10.0.0.3-d", NULL), 0, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 2);
  dfly_accusations_add (w.parent, child (&w, "e-1", "10.0.0.4-e", NULL), 3, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 3);
  /* Out of the task's pieces: not counted, no check. */
  dfly_accusations_add (w.parent, child (&w, "f-1", "10.0.0.5-f", NULL), 4, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 3);
  sent = sent_to_parent (&w);
  checks = checks_in (sent);
  g_assert_cmpstr (checks, ==, "0=sha256:00 3=");
  world_clear (&w);
}

/* Under TLS the certificate's host counts, whatever host the peer
 * registered as; a peer without a certificate does not count. */
static void
test_tls (void)
{
  World w = { 0 };

  world_init (&w);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*has no certificate*");
  dfly_accusations_add (w.parent, child (&w, "x-1", "10.0.0.9-x", NULL), 1, TRUE);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 0);
  /* Two peers claiming two hosts, one certificate: one accuser. */
  dfly_accusations_add (w.parent, child (&w, "c-1", "10.0.0.2-c", "cert-c"), 1, TRUE);
  dfly_accusations_add (w.parent, child (&w, "c-2", "10.0.0.7-z", "cert-c"), 1, TRUE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 1);
  dfly_accusations_add (w.parent, child (&w, "d-1", "10.0.0.2-c", "cert-d"), 1, TRUE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 2);
  world_clear (&w);
}

/* The answer: intact dismisses the piece's accusations and later ones; bad
 * takes the piece off the parent; an answer nobody asked for does nothing. */
static void
test_answers (void)
{
  World w = { 0 };

  world_init (&w);
  dfly_accusations_add (w.parent, child (&w, "c-1", "10.0.0.2-c", NULL), 0, FALSE);
  dfly_accusations_add (w.parent, child (&w, "d-1", "10.0.0.3-d", NULL), 0, FALSE);
  dfly_accusations_add (w.parent, child (&w, "e-1", "10.0.0.4-e", NULL), 1, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 3);

  g_assert_false (dfly_accusations_answered (w.parent, 0, TRUE));
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 1);
  dfly_accusations_add (w.parent, child (&w, "g-1", "10.0.0.6-g", NULL), 0, FALSE);
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 1);

  g_assert_true (dfly_accusations_answered (w.parent, 1, FALSE));
  g_assert_cmpuint (dfly_accusations_count (w.parent), ==, 0);
  g_assert_false (dfly_wire_bitmap_get (w.parent->bitmap, 1));
  g_assert_true (dfly_wire_bitmap_get (w.parent->bitmap, 0));
  g_assert_cmpuint (w.parent->finished, ==, 3);

  /* Unasked (again, or never asked): nothing changes. */
  g_assert_false (dfly_accusations_answered (w.parent, 1, FALSE));
  g_assert_false (dfly_accusations_answered (w.parent, 2, FALSE));
  g_assert_cmpuint (w.parent->finished, ==, 3);
  g_assert_true (dfly_wire_bitmap_get (w.parent->bitmap, 2));
  world_clear (&w);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/accusations/plaintext", test_plaintext);
  g_test_add_func ("/accusations/tls", test_tls);
  g_test_add_func ("/accusations/answers", test_answers);
  return g_test_run ();
}
