/* dfly-piece-check.c — an accused parent reads a piece back and checks it (see the header) */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dfly-piece-check.h"

#define CHECK_BUFFER (512 * 1024)

/* The committed record of piece number of task_id, or NULL (not held). */
static DflyPieceInfo *
find_piece (DflyStorage *storage, const char *task_id, guint32 number, GError **error)
{
  g_autoptr (GPtrArray) pieces = dfly_storage_list_pieces (storage, task_id, error);

  if (pieces == NULL)
    return NULL;
  for (guint i = 0; i < pieces->len; i++) {
    DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    if (piece->number == number)
      return dfly_piece_info_ref (piece);
  }
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "task %s: piece %u is not held", task_id,
               number);
  return NULL;
}

/* The digest of the bytes piece covers, in piece's algorithm; NULL on a read error. */
static char *
digest_from_disk (DflyStorage *storage, const DflyPieceInfo *piece, GCancellable *cancellable,
                  GError **error)
{
  g_autoptr (DflyPieceDigest) digest = NULL;
  g_autofree guint8  *buffer = NULL;
  DflyPieceDigestAlgo algo;
  guint64             done = 0;
  int                 fd;

  if (!dfly_piece_digest_algo_of (piece->digest, &algo)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, "task %s: piece %u has no known digest (%s)",
                 piece->task_id, piece->number, piece->digest);
    return NULL;
  }
  fd = dfly_storage_open_content (storage, piece->task_id, error);
  if (fd < 0)
    return NULL;
  digest = dfly_piece_digest_new (algo);
  buffer = g_malloc (CHECK_BUFFER);
  while (done < piece->length) {
    gssize n =
      pread (fd, buffer, MIN (CHECK_BUFFER, piece->length - done), (off_t) (piece->offset + done));

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || g_cancellable_set_error_if_cancelled (cancellable, error)) {
      if (n <= 0)
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "task %s: reading piece %u back: %s",
                     piece->task_id, piece->number, n < 0 ? g_strerror (errno) : "short file");
      close (fd);
      return NULL;
    }
    dfly_piece_digest_update (digest, buffer, n);
    done += n;
  }
  close (fd);
  return dfly_piece_digest_finish (digest);
}

gboolean
dfly_piece_check (DflyStorage *storage, const char *task_id, guint32 number, const char *reference,
                  gboolean *intact, GCancellable *cancellable, GError **error)
{
  g_autoptr (DflyPieceInfo) piece = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *read_back = NULL;
  gboolean         good;

  *intact = FALSE;
  piece = find_piece (storage, task_id, number, &local);
  if (piece == NULL) {
    if (g_error_matches (local, DFLY_ERROR, DFLY_ERROR_NOT_FOUND))
      return TRUE; /* not held: nothing to drop */
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  read_back = digest_from_disk (storage, piece, cancellable, &local);
  if (read_back == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  /* Unreadable counts as bad: the piece cannot be served either. */
  good =
    read_back != NULL && g_ascii_strcasecmp (read_back, piece->digest) == 0 &&
    (reference == NULL || *reference == '\0' || g_ascii_strcasecmp (reference, piece->digest) == 0);
  if (good) {
    *intact = TRUE;
    g_info ("task %s: piece %u read back intact (%s); the accusation was false", task_id, number,
            read_back);
    return TRUE;
  }
  g_message ("task %s: piece %u read back as %s, committed as %s%s%s: dropping it", task_id, number,
             read_back != NULL ? read_back : local->message, piece->digest,
             reference != NULL && *reference != '\0' ? ", the source's digest is " : "",
             reference != NULL ? reference : "");
  return dfly_storage_drop_piece (storage, task_id, number, error);
}
