/* dfly-range-stream.h — a byte range of a task, read as its pieces land
 *
 * A DflyRangeStream reads [offset, offset + length) of a task's content:
 * each read waits on the task's DflyPieceBoard until the piece under the
 * position is held, then reads committed bytes from storage into the
 * caller's buffer (never more than one piece at a time, never the whole
 * range in memory). While open it asks the board to fetch its pieces
 * first. The first read checks the range against the content's length
 * (DFLY_ERROR_INVALID_ARGUMENT past the end). Reads block: from a thread,
 * or through the asynchronous GInputStream calls.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-piece-board.h"

G_BEGIN_DECLS

#define DFLY_TYPE_RANGE_STREAM (dfly_range_stream_get_type ())
G_DECLARE_FINAL_TYPE (DflyRangeStream, dfly_range_stream, DFLY, RANGE_STREAM, GInputStream)

/* Pins the task in storage while open. cancellable (may be NULL) ends
 * this reader only, as does closing it. */
GInputStream *dfly_range_stream_new (DflyPieceBoard *board, DflyStorage *storage,
                                     const char *task_id, guint64 offset, guint64 length,
                                     GCancellable *cancellable);
/* The content's length, and the bytes this reader owes (0 when its range
 * did not fit); FALSE before its first read found them out. */
gboolean dfly_range_stream_get_length (DflyRangeStream *self, guint64 *content_length,
                                       guint64 *range_length);

G_END_DECLS
