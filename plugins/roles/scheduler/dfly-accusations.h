/* dfly-accusations.h — children's word that a parent served a bad piece, and its answer
 *
 * A child that catches a parent's piece not matching the back-to-source
 * peer's digest reports it (DownloadPieceFailedRequest.digest_mismatch). It
 * blocks that parent for itself at once; for everyone, the scheduler counts
 * accusations, one per accusing host: under TLS the host its certificate
 * names (a peer without one does not count), on a plaintext link the host it
 * registered as. The accused parent is asked to read the piece back from
 * its own storage (CheckPieceResponse); its answer (PieceCheckedRequest)
 * dismisses the accusations of that piece: intact, it was falsely accused;
 * bad (bit rot), it dropped the piece and is no longer offered for it.
 * dfly-parent-ranking.c offers no one a parent with LIAR_ACCUSERS standing
 * accusations, so a parent that cannot or will not answer is banned when
 * two hosts catch it, and two hosts lying about an honest parent keep it
 * from new children only until it answers (milliseconds). A parent that
 * lies in its answer escapes the ban, but every child still blocks it
 * after its first bad piece, and none takes its bytes.
 */
#pragma once

#include "dfly-schedule-peer.h"

G_BEGIN_DECLS

void dfly_accusations_init (SchedulePeer *peer);
void dfly_accusations_clear (SchedulePeer *peer);
/* child caught parent serving piece number with a wrong digest. tls: the
 * cluster runs TLS (an accusation then needs a certificate). */
void dfly_accusations_add (SchedulePeer *parent, SchedulePeer *child, guint32 number, gboolean tls);
/* parent's answer to a check; TRUE when what it holds changed (its
 * children should hear). */
gboolean dfly_accusations_answered (SchedulePeer *parent, guint32 number, gboolean intact);
/* The accusations standing against parent (distinct accusing hosts). */
guint dfly_accusations_count (const SchedulePeer *parent);

G_END_DECLS
