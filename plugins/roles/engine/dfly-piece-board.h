/* dfly-piece-board.h — one task's pieces: what is held, what is wanted next, and from where
 *
 * A DflyPieceBoard is the only record of a running task's pieces: their
 * states (missing, in flight, held), the digests the back-to-source peer
 * reported (the only ones a piece from a parent is checked against), the
 * bytes that came from the source and from parents, and the parents that
 * hold what (their bitmaps and how busy each is). The download's piece
 * workers ask it for their next job: the rarest missing piece whose digest
 * is known from the least busy parent holding it, or the next missing piece
 * from the source once the pieces come from there; pieces a range reader
 * waits for go first. Range readers wait on it for a piece to be held.
 *
 * Thread-safe: one mutex and one condition; reference-counted. The swarm
 * feeds it what the scheduler and the parents say (main thread); it tells
 * the swarm what to report through DflyPieceBoardReports (any thread, lock
 * held: the callbacks must only queue).
 */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

typedef struct _DflyPieceBoard DflyPieceBoard;

/* The piece table is held in memory: no real file needs more. */
#define DFLY_PIECE_BOARD_MAX_PIECES (16 * 1024 * 1024) /* 256 TiB at 16 MiB pieces */

typedef enum {
  DFLY_PIECE_JOB_SOURCE, /* piece number from the source */
  DFLY_PIECE_JOB_STREAM, /* everything from byte 0, one stream cut into pieces */
  DFLY_PIECE_JOB_PARENT, /* piece number from parent_url, checked against digest */
  DFLY_PIECE_JOB_DONE,   /* every piece is held */
  DFLY_PIECE_JOB_STOP,   /* cancelled */
} DflyPieceJobKind;

typedef struct {
  DflyPieceJobKind kind;
  guint32          number;
  guint64          offset;
  gint64           length; /* -1: to the end (a stream of unknown length) */
  guint64          piece_length;
  char            *parent_id;  /* PARENT only */
  char            *parent_url; /* the parent's /v1/tasks/<id> */
  char            *digest;     /* expected, PARENT only */
  gint64           started;    /* monotonic µs it was handed out */
} DflyPieceJob;

void dfly_piece_job_clear (DflyPieceJob *job);

/* What the board asks its swarm to tell the scheduler; called with the
 * board's lock held, from a piece worker. */
typedef struct {
  /* No parent has what is missing: failed holds the ids not to offer again. */
  void (*reschedule) (gpointer data, GPtrArray *failed_parent_ids);
  void (*piece_failed) (gpointer data, guint32 number, const char *parent_id,
                        gboolean digest_mismatch, gboolean temporary);
} DflyPieceBoardReports;

DflyPieceBoard *dfly_piece_board_new (const char *task_id, GCancellable *cancellable);
DflyPieceBoard *dfly_piece_board_ref (DflyPieceBoard *self);
void            dfly_piece_board_unref (DflyPieceBoard *self);
/* reports NULL: nothing is reported (a download without a swarm). data is
 * borrowed: clear it before data goes. */
void dfly_piece_board_set_reports (DflyPieceBoard *self, const DflyPieceBoardReports *reports,
                                   gpointer data);

/* ---- sizing and the plan (the download's coordinator) ---- */

/* Sizes the board once; TRUE if it is now sized so (or, with content_length
 * -1, a stream of unknown length), FALSE for a contradiction, a piece length
 * of 0 or more than DFLY_PIECE_BOARD_MAX_PIECES pieces. */
gboolean dfly_piece_board_set_length (DflyPieceBoard *self, gint64 content_length,
                                      guint64 piece_length);
gboolean dfly_piece_board_get_length (DflyPieceBoard *self, gint64 *content_length,
                                      guint64 *piece_length);
/* The origin serves no ranges: one STREAM job from byte 0 (pieces held from
 * before are fetched again). */
void dfly_piece_board_set_streaming (DflyPieceBoard *self);
/* Pieces from the source (TRUE) or from parents (FALSE, the default). */
void     dfly_piece_board_set_to_source (DflyPieceBoard *self, gboolean to_source);
gboolean dfly_piece_board_get_to_source (DflyPieceBoard *self);
/* Lazy (TRUE): only the pieces range readers wait for are handed out, the
 * others stay missing (a reader's task with no one asking for the whole);
 * FALSE, the default: every piece, the wanted first. */
void     dfly_piece_board_set_lazy (DflyPieceBoard *self, gboolean lazy);
gboolean dfly_piece_board_get_lazy (DflyPieceBoard *self);
/* Pieces held already (DflyPieceInfo *, of the right length), from storage. */
void dfly_piece_board_hold (DflyPieceBoard *self, GPtrArray *pieces);
/* Pieces not held (a stream not yet done: 1, its one job). */
guint32 dfly_piece_board_count_missing (DflyPieceBoard *self);
/* Every held piece (DflyPieceInfo * with its digest), for a new scheduler. */
GPtrArray *dfly_piece_board_dup_held (DflyPieceBoard *self);

/* ---- what the scheduler and the parents say (the swarm, main thread) ---- */

/* A digest reported by the back-to-source peer; the first one stays. */
void dfly_piece_board_set_digest (DflyPieceBoard *self, guint32 number, const char *digest);
/* A parent offered by the scheduler (again); FALSE when it is refused (it
 * served a bad piece) or is already usable. bitmap: the pieces it holds. */
gboolean dfly_piece_board_add_parent (DflyPieceBoard *self, const char *peer_id,
                                      const char *base_url, gboolean seed, const guint8 *bitmap,
                                      gsize bitmap_size);
/* A parent at base_url now holds number. */
void dfly_piece_board_parent_has (DflyPieceBoard *self, const char *base_url, guint32 number);
/* The link to base_url is lost; TRUE if a parent was there. */
gboolean dfly_piece_board_parent_lost (DflyPieceBoard *self, const char *base_url);
/* After new parents or digests: waiting workers look again, and the stall
 * timer (going to the source) restarts if a digest or a parent was new. */
void dfly_piece_board_wake (DflyPieceBoard *self);

/* ---- the piece workers ---- */

/* Blocks until there is work (or none is left). The job is filled in; clear
 * it with dfly_piece_job_clear() after dfly_piece_board_job_done(). */
DflyPieceJobKind dfly_piece_board_next (DflyPieceBoard *self, DflyPieceJob *job);
/* A piece of job was committed (a stream commits several, and a retried
 * stream commits them again: counted once); from_source says where it
 * came from. */
void dfly_piece_board_commit (DflyPieceBoard *self, const DflyPieceInfo *piece,
                              gboolean from_source);
/* The job ended: error NULL when its piece was committed. */
void dfly_piece_board_job_done (DflyPieceBoard *self, const DflyPieceJob *job, const GError *error);
/* The task ended (error NULL: complete): range readers stop waiting. */
void dfly_piece_board_finish (DflyPieceBoard *self, const GError *error);
/* Whether the task ended without its content (any thread). */
gboolean dfly_piece_board_has_failed (DflyPieceBoard *self);

/* ---- counters (any thread) ---- */

/* Bytes held (committed before and now), and the new ones by origin. */
void dfly_piece_board_get_bytes (DflyPieceBoard *self, guint64 *completed, guint64 *from_parents,
                                 guint64 *from_source);

/* ---- range readers ---- */

/* Pieces covering [offset, offset + length) go before any other; returns a
 * token for dfly_piece_board_unprioritize(). */
gpointer dfly_piece_board_prioritize (DflyPieceBoard *self, guint64 offset, guint64 length);
void     dfly_piece_board_unprioritize (DflyPieceBoard *self, gpointer token);
/* Range readers open now (their ranges are prioritized). */
guint dfly_piece_board_count_readers (DflyPieceBoard *self);
/* Blocks until the board is sized; FALSE with the task's error, or when
 * cancellable (the reader's) is cancelled. */
gboolean dfly_piece_board_wait_length (DflyPieceBoard *self, gint64 *content_length,
                                       guint64 *piece_length, GCancellable *cancellable,
                                       GError **error);
/* Blocks until piece number is held; FALSE as above. */
gboolean dfly_piece_board_wait_piece (DflyPieceBoard *self, guint32 number,
                                      GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceBoard, dfly_piece_board_unref)

G_END_DECLS
