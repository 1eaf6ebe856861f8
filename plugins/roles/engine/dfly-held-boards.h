/* dfly-held-boards.h — the boards of tasks just completed, for range readers
 *
 * A range read of a task held whole needs only its sized, complete board:
 * without this, every read (a lazy image pull makes thousands) would start
 * a download whose coordinator thread opens the task and lists its pieces
 * from storage before the first byte. The engine keeps the board of each
 * task that completed here, for DFLY_HELD_BOARDS_TTL seconds and at most
 * DFLY_HELD_BOARDS_MAX of them, the oldest dropped first. A task deleted
 * meanwhile fails its reader's first read (the content is gone), as it would
 * a reader's already open. Main thread.
 */
#pragma once

#include "dfly-piece-board.h"

G_BEGIN_DECLS

#define DFLY_HELD_BOARDS_MAX 256
#define DFLY_HELD_BOARDS_TTL 60

typedef struct _DflyHeldBoards DflyHeldBoards;

DflyHeldBoards *dfly_held_boards_new (void);
void            dfly_held_boards_free (DflyHeldBoards *self);
/* Keeps board (a reference) for task_id, replacing an older one. */
void dfly_held_boards_put (DflyHeldBoards *self, const char *task_id, DflyPieceBoard *board);
/* A new reference to task_id's board, or NULL (none, or too old). */
DflyPieceBoard *dfly_held_boards_lookup (DflyHeldBoards *self, const char *task_id);
void            dfly_held_boards_forget (DflyHeldBoards *self, const char *task_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyHeldBoards, dfly_held_boards_free)

G_END_DECLS
