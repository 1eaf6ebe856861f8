/* dfly-disk-piece-stream.c — DflyDiskPieceStream, one piece of a content file */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "dfly/dfly.h"

#include "dfly-disk-piece-stream.h"

struct _DflyDiskPieceStream {
  GInputStream  parent_instance;
  int           fd;
  char         *path;
  guint64       offset;    /* of the next byte to read */
  guint64       remaining; /* bytes of the piece still to read */
};

G_DEFINE_FINAL_TYPE (DflyDiskPieceStream, dfly_disk_piece_stream, G_TYPE_INPUT_STREAM)

static gssize
dfly_disk_piece_stream_read (GInputStream *stream, void *buffer, gsize count,
                             GCancellable *cancellable, GError **error)
{
  DflyDiskPieceStream *self = DFLY_DISK_PIECE_STREAM (stream);
  gsize want = (gsize) MIN ((guint64) count, self->remaining);
  gssize n;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (want == 0)
    return 0;
  do
    n = pread (self->fd, buffer, want, (off_t) self->offset);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int saved = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "reading %s: %s", self->path,
                 g_strerror (saved));
    return -1;
  }
  if (n == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO,
                 "reading %s: the file ends at %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                 " bytes before the end of the piece", self->path, self->offset,
                 self->remaining);
    return -1;
  }
  self->offset += n;
  self->remaining -= n;
  return n;
}

static gssize
dfly_disk_piece_stream_skip (GInputStream *stream, gsize count, GCancellable *cancellable,
                             GError **error)
{
  DflyDiskPieceStream *self = DFLY_DISK_PIECE_STREAM (stream);
  gsize skipped = (gsize) MIN ((guint64) count, self->remaining);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  self->offset += skipped;
  self->remaining -= skipped;
  return skipped;
}

static gboolean
dfly_disk_piece_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  DflyDiskPieceStream *self = DFLY_DISK_PIECE_STREAM (stream);

  if (self->fd >= 0) {
    close (self->fd);
    self->fd = -1;
  }
  return TRUE;
}

static void
dfly_disk_piece_stream_finalize (GObject *object)
{
  DflyDiskPieceStream *self = DFLY_DISK_PIECE_STREAM (object);

  /* GInputStream closes an unclosed stream in dispose; be sure anyway. */
  if (self->fd >= 0)
    close (self->fd);
  g_free (self->path);
  G_OBJECT_CLASS (dfly_disk_piece_stream_parent_class)->finalize (object);
}

static void
dfly_disk_piece_stream_class_init (DflyDiskPieceStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_disk_piece_stream_finalize;
  stream_class->read_fn = dfly_disk_piece_stream_read;
  stream_class->skip = dfly_disk_piece_stream_skip;
  stream_class->close_fn = dfly_disk_piece_stream_close;
}

static void
dfly_disk_piece_stream_init (DflyDiskPieceStream *self)
{
  self->fd = -1;
}

GInputStream *
dfly_disk_piece_stream_new (int fd, const char *path, guint64 offset, guint64 length)
{
  DflyDiskPieceStream *self = g_object_new (DFLY_TYPE_DISK_PIECE_STREAM, NULL);

  self->fd = fd;
  self->path = g_strdup (path);
  self->offset = offset;
  self->remaining = length;
  return G_INPUT_STREAM (self);
}
