/* dfly-piece-check.h — an accused parent reads a piece back and checks it
 *
 * A child told the scheduler that this host served a piece whose bytes did
 * not match the back-to-source peer's digest; the scheduler asks this host
 * to look (CheckPieceResponse, proto/README.md). The piece is read back from
 * storage through a fixed buffer and digested with the algorithm of the
 * digest it was committed with. It must match that digest and, when the
 * scheduler sent one, the reference digest too. A piece that does not (bit
 * rot, a bad sector) is dropped from storage, so this host stops listing
 * and serving it and fetches it again when asked for the task; one that
 * does stays: a false accusation changes nothing here.
 */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

/* Blocking (storage reads): a worker thread. *intact says whether the piece
 * is held and good; a piece found bad is dropped before this returns. FALSE
 * with an error when the piece could not be read or dropped. */
gboolean dfly_piece_check (DflyStorage *storage, const char *task_id, guint32 number,
                           const char *reference, gboolean *intact, GCancellable *cancellable,
                           GError **error);

G_END_DECLS
