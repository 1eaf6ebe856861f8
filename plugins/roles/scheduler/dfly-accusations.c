/* dfly-accusations.c — children's word that a parent served a bad piece (see the header) */
#include "config.h"

#include <dfly/dfly-identity.h>

#include "dfly-accusations.h"
#include "dfly-wire.h"

void
dfly_accusations_init (SchedulePeer *peer)
{
  peer->accusers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  peer->checking = g_byte_array_new ();
  peer->intact = g_byte_array_new ();
}

void
dfly_accusations_clear (SchedulePeer *peer)
{
  g_clear_pointer (&peer->accusers, g_hash_table_unref);
  g_clear_pointer (&peer->checking, g_byte_array_unref);
  g_clear_pointer (&peer->intact, g_byte_array_unref);
}

static void
bitmap_clear (GByteArray *bits, guint32 n)
{
  if (n / 8 < bits->len)
    bits->data[n / 8] &= (guint8) ~(1u << (n % 8));
}

/* Who an accusation is from: the host child's certificate names, or with
 * no certificate on a plaintext link, the host it registered as; NULL
 * (does not count) without one under TLS. */
static const char *
accuser_of (SchedulePeer *child, gboolean tls)
{
  const DflyIdentity *identity = dfly_identity_of_websocket (child->stream);

  if (identity != NULL)
    return dfly_identity_get_host_id (identity);
  return tls ? NULL : child->host_id;
}

/* Asks parent, on its own stream, to read piece number back. */
static void
send_check (SchedulePeer *parent, guint32 number)
{
  Dfly__V1__AnnouncePeerResponse response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__CheckPieceResponse   check = DFLY__V1__CHECK_PIECE_RESPONSE__INIT;
  GPtrArray                     *digests = parent->task->digests;

  check.piece_number = number;
  check.digest = number < digests->len && g_ptr_array_index (digests, number) != NULL
                   ? g_ptr_array_index (digests, number)
                   : "";
  response.task_id = parent->task->id;
  response.peer_id = parent->id;
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_CHECK_PIECE;
  response.check_piece = &check;
  dfly_wire_ws_send (parent->stream, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response.base);
}

void
dfly_accusations_add (SchedulePeer *parent, SchedulePeer *child, guint32 number, gboolean tls)
{
  const char         *accuser = accuser_of (child, tls);
  ScheduleAccusation *accusation;

  if (accuser == NULL) {
    g_message ("task %s: peer %s has no certificate; its accusation of %s does not count",
               parent->task->id, child->id, parent->id);
    return;
  }
  /* Bitmaps grow with piece numbers: only the task's. */
  if (parent->task->content_length < 0 || number >= parent->task->piece_count) {
    g_info ("task %s: an accusation of %s for piece %u, out of range; ignored", parent->task->id,
            parent->id, number);
    return;
  }
  if (dfly_wire_bitmap_get (parent->intact, number)) {
    g_message ("task %s: %s read piece %u back intact before; %s's accusation is dismissed",
               parent->task->id, parent->id, number, accuser);
    return;
  }
  /* One standing accusation per accusing host: its peers are one voice. */
  accusation = g_new0 (ScheduleAccusation, 1);
  accusation->piece_number = number;
  g_hash_table_replace (parent->accusers, g_strdup (accuser), accusation);
  if (!dfly_wire_bitmap_get (parent->checking, number)) {
    dfly_wire_bitmap_set (parent->checking, number);
    g_info ("task %s: asking %s to read piece %u back", parent->task->id, parent->id, number);
    send_check (parent, number);
  }
}

static gboolean
accuses_piece (gpointer key, gpointer value, gpointer user_data)
{
  return ((ScheduleAccusation *) value)->piece_number == GPOINTER_TO_UINT (user_data);
}

gboolean
dfly_accusations_answered (SchedulePeer *parent, guint32 number, gboolean intact)
{
  guint dismissed;

  if (!dfly_wire_bitmap_get (parent->checking, number)) {
    g_info ("task %s: %s answers a check of piece %u nobody asked for; ignored", parent->task->id,
            parent->id, number);
    return FALSE;
  }
  bitmap_clear (parent->checking, number);
  dismissed =
    g_hash_table_foreach_remove (parent->accusers, accuses_piece, GUINT_TO_POINTER (number));
  if (intact) {
    dfly_wire_bitmap_set (parent->intact, number);
    g_message ("task %s: %s read piece %u back intact: %u accusation(s) dismissed, it is offered "
               "as before",
               parent->task->id, parent->id, number, dismissed);
    return FALSE;
  }
  g_message ("task %s: %s read piece %u back bad and dropped it: no longer offered for it",
             parent->task->id, parent->id, number);
  if (dfly_wire_bitmap_get (parent->bitmap, number)) {
    bitmap_clear (parent->bitmap, number);
    parent->finished--;
  }
  return TRUE;
}

guint
dfly_accusations_count (const SchedulePeer *parent)
{
  return g_hash_table_size (parent->accusers);
}
