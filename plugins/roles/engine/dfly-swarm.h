/* dfly-swarm.h — one download's part in the swarm: the P2P half
 *
 * A DflySwarm speaks for one DflyDownload to its scheduler (the announce
 * stream) and to its parents (their piece sync streams), and feeds what
 * they say into the download's DflyPieceBoard: the task's length, the
 * digests the back-to-source peer reported, the parents and what each
 * holds. The board decides which piece comes next from where; the swarm
 * reports to the scheduler what the board and the workers tell it, from
 * the main thread, where its streams live.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-parent-links.h"
#include "dfly-piece-board.h"
#include "dfly-piece-fetcher.h"
#include "dfly-rate-limiter.h"
#include "dfly-scheduler-client.h"

G_BEGIN_DECLS

/* What the engine shares with every download: reference-counted, since
 * downloads and their threads may end after the engine. The client and
 * the links are used on the main thread only; the fetcher and the limiter
 * are thread-safe. */
typedef struct _DflyPeerServices {
  DflySchedulerClient *client; /* NULL: no scheduler, source only */
  DflyParentLinks     *links;
  DflyRateLimiter     *download_limiter;
  DflyPieceFetcher    *fetcher; /* piece bytes from parents */
  char                *host_id;
  gboolean             seed;
} DflyPeerServices;

DflyPeerServices *dfly_peer_services_new (void);
DflyPeerServices *dfly_peer_services_ref (DflyPeerServices *services);
/* The last reference frees the members: drop it on the main thread. */
void dfly_peer_services_unref (DflyPeerServices *services);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPeerServices, dfly_peer_services_unref)

typedef struct _DflySwarm DflySwarm;

typedef enum {
  DFLY_SWARM_PARENTS,        /* fetch from parents (and what they cannot give, from the source) */
  DFLY_SWARM_BACK_TO_SOURCE, /* fetch from the source, report each piece's digest */
  DFLY_SWARM_EMPTY,          /* the content is 0 bytes */
  DFLY_SWARM_CANCELLED,
} DflySwarmDecision;

/* Main thread. need_back_to_source: the scheduler's order to a seed. */
DflySwarm *dfly_swarm_new (DflyPeerServices *services, DflyPieceBoard *board, DflyContext *context,
                           const DflyTaskInfo *task, GHashTable *headers,
                           gboolean need_back_to_source, GCancellable *cancellable);
DflySwarm *dfly_swarm_ref (DflySwarm *self);
void       dfly_swarm_unref (DflySwarm *self);
/* Main thread, once the download's threads ended: drops the streams;
 * later reports are not sent. */
void dfly_swarm_close (DflySwarm *self);

/* The coordinator thread: registers and waits for the scheduler's answer.
 * For PARENTS the board is sized. */
DflySwarmDecision dfly_swarm_register (DflySwarm *self);
/* This host holds the task whole already (the board holds every piece): it
 * registers (a seed as the task's source, any other peer as a parent only)
 * and reports every piece, without waiting. */
void dfly_swarm_share_held (DflySwarm *self, const DflyTaskInfo *task);
/* Back to source: the board is sized (or streams) and holds what storage
 * held; reports both. */
void dfly_swarm_source_started (DflySwarm *self);

/* Piece workers: a piece was committed (the board knows already); from_source
 * says where it came from. Reported to the scheduler and on the bus. */
void dfly_swarm_piece_committed (DflySwarm *self, const DflyPieceInfo *piece, gboolean from_source);
/* Coordinator: the end, with error NULL on success. */
void dfly_swarm_finish (DflySwarm *self, const GError *error, gint64 content_length,
                        guint32 piece_count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySwarm, dfly_swarm_unref)

G_END_DECLS
