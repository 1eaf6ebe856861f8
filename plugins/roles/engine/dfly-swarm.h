/* dfly-swarm.h — one download's part in the swarm: the P2P half
 *
 * A DflySwarm speaks for one DflyDownload to its scheduler (the announce
 * stream) and to its parents (their piece sync streams), and keeps the
 * board the download's threads work from: which pieces this host holds or
 * is fetching, which parent holds what, and the digests the back-to-source
 * peer reported — the only ones a piece from a parent is checked against.
 *
 * The piece threads ask dfly_swarm_next() for work: the rarest missing
 * piece whose digest is known, from the least busy parent holding it, or a
 * piece from the source once the scheduler says so (or cannot be reached,
 * or no parent has made progress for a while). What they report goes to
 * the scheduler from the main thread, where the swarm's streams live.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-parent-links.h"
#include "dfly-piece-fetcher.h"
#include "dfly-rate-limiter.h"
#include "dfly-scheduler-client.h"

G_BEGIN_DECLS

/* What the role shares with every download (owned by the role). */
typedef struct _DflyPeerServices {
  DflySchedulerClient *client;           /* NULL: no scheduler, source only */
  DflyParentLinks     *links;
  DflyRateLimiter     *download_limiter;
  DflyPieceFetcher    *fetcher;          /* piece bytes from parents */
  char                *host_id;
  gboolean             seed;
} DflyPeerServices;

typedef struct _DflySwarm DflySwarm;

typedef enum {
  DFLY_SWARM_PARENTS,        /* fetch from parents (and what they cannot give, from the source) */
  DFLY_SWARM_BACK_TO_SOURCE, /* fetch from the source, report each piece's digest */
  DFLY_SWARM_EMPTY,          /* the content is 0 bytes */
  DFLY_SWARM_CANCELLED,
} DflySwarmDecision;

typedef enum {
  DFLY_SWARM_NEXT_PARENT, /* fetch piece from parent_url, check digest */
  DFLY_SWARM_NEXT_SOURCE, /* fetch piece from the source */
  DFLY_SWARM_NEXT_DONE,   /* every piece is held */
  DFLY_SWARM_NEXT_STOP,   /* cancelled */
} DflySwarmNext;

typedef struct {
  guint32  number;
  char    *parent_id;  /* PARENT only */
  char    *parent_url; /* the parent's /v1/tasks/<id> */
  char    *digest;     /* expected, PARENT only */
  gint64   started;    /* monotonic µs it was handed out */
} DflySwarmPiece;

void          dfly_swarm_piece_clear (DflySwarmPiece *piece);

/* Main thread. need_back_to_source: the scheduler's order to a seed. */
DflySwarm    *dfly_swarm_new (DflyPeerServices *services, DflyContext *context,
                              const DflyTaskInfo *task, GHashTable *headers,
                              gboolean need_back_to_source, GCancellable *cancellable);
DflySwarm    *dfly_swarm_ref (DflySwarm *self);
void          dfly_swarm_unref (DflySwarm *self);
/* Main thread: drops the streams; later reports are not sent. */
void          dfly_swarm_close (DflySwarm *self);

/* The coordinator thread: registers and waits for the scheduler's answer.
 * For PARENTS the content and piece length are filled in. */
DflySwarmDecision dfly_swarm_register (DflySwarm *self, gint64 *content_length,
                                       guint64 *piece_length);
/* This host holds the task whole already: it registers (a seed as the
 * task's source, any other peer as a parent only) and reports every piece
 * (held: DflyPieceInfo *), without waiting. */
void          dfly_swarm_share_held (DflySwarm *self, const DflyTaskInfo *task, GPtrArray *held);
/* Back to source: the source's answer, and the pieces held from before. */
void          dfly_swarm_source_started (DflySwarm *self, gint64 content_length,
                                         guint64 piece_length, GPtrArray *held);
/* Parents: the pieces held from before (DflyPieceInfo *). */
void          dfly_swarm_set_held (DflySwarm *self, GPtrArray *held);

/* Piece threads. */
DflySwarmNext dfly_swarm_next (DflySwarm *self, DflySwarmPiece *piece);
/* error NULL: the piece was committed (already reported by
 * dfly_swarm_piece_committed). */
void          dfly_swarm_piece_done (DflySwarm *self, const DflySwarmPiece *piece,
                                     const GError *error);
/* Any thread: a piece was committed; from_source says where it came from. */
void          dfly_swarm_piece_committed (DflySwarm *self, const DflyPieceInfo *piece,
                                          gboolean from_source);
/* Coordinator: the end, with error NULL on success. */
void          dfly_swarm_finish (DflySwarm *self, const GError *error, gint64 content_length,
                                 guint32 piece_count);
/* Bytes that came from parents and from the source. */
void          dfly_swarm_get_bytes (DflySwarm *self, guint64 *from_parents, guint64 *from_source);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySwarm, dfly_swarm_unref)

G_END_DECLS
