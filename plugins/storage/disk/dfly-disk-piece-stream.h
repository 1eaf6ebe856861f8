/* dfly-disk-piece-stream.h — DflyDiskPieceStream, one piece of a content file
 *
 * A GInputStream over exactly [offset, offset + length) of an open file. It
 * reads with pread(), so streams over one file never share a position, and
 * keeps working after the file is unlinked (a task evicted while served).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DFLY_TYPE_DISK_PIECE_STREAM (dfly_disk_piece_stream_get_type ())
G_DECLARE_FINAL_TYPE (DflyDiskPieceStream, dfly_disk_piece_stream, DFLY, DISK_PIECE_STREAM,
                      GInputStream)

/* Takes ownership of fd; path is for error messages. */
GInputStream *dfly_disk_piece_stream_new (int fd, const char *path, guint64 offset,
                                          guint64 length);

G_END_DECLS
