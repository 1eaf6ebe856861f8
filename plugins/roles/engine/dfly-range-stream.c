/* dfly-range-stream.c — DflyRangeStream (see the header) */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "dfly-range-stream.h"

struct _DflyRangeStream {
  GInputStream    parent_instance;
  DflyPieceBoard *board;
  DflyStorage    *storage;
  char           *task_id;
  GCancellable   *cancellable; /* the reader's, or NULL */
  gpointer        priority;    /* the board's token while open */
  guint64         offset;
  guint64         length;
  guint64         position;       /* bytes of the range read */
  gboolean        checked;        /* the range fits the content */
  gint64          content_length; /* known after the first read: -1 before */
  int             fd;             /* the content, once a piece is held */
};

G_DEFINE_FINAL_TYPE (DflyRangeStream, dfly_range_stream, G_TYPE_INPUT_STREAM)

/* The first read: the board knows the length once the task is planned. */
static gboolean
check_range (DflyRangeStream *self, GCancellable *cancellable, GError **error)
{
  gint64  content_length;
  guint64 piece_length;

  if (!dfly_piece_board_wait_length (self->board, &content_length, &piece_length, cancellable,
                                     error))
    return FALSE;
  /* To the end: what is left after offset (an offset past the end fails). */
  if (self->length == DFLY_DOWNLOAD_TO_END && self->offset <= (guint64) content_length)
    self->length = (guint64) content_length - self->offset;
  if (self->length > (guint64) content_length ||
      self->offset > (guint64) content_length - self->length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bytes %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT " are past the end of task %s"
                 " (%" G_GINT64_FORMAT " bytes)",
                 self->offset, self->length, self->task_id, content_length);
    self->content_length = content_length;
    return FALSE;
  }
  self->content_length = content_length;
  self->checked = TRUE;
  return TRUE;
}

static gssize
dfly_range_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                        GError **error)
{
  DflyRangeStream *self = DFLY_RANGE_STREAM (stream);
  GCancellable    *reader = cancellable != NULL ? cancellable : self->cancellable;
  guint64          position = self->offset + self->position;
  gint64           content_length;
  guint64          piece_length, piece_end;
  gsize            want;

  if (g_cancellable_set_error_if_cancelled (self->cancellable, error) ||
      (!self->checked && !check_range (self, reader, error)))
    return -1;
  if (self->position >= self->length || count == 0)
    return 0;
  dfly_piece_board_get_length (self->board, &content_length, &piece_length);
  if (!dfly_piece_board_wait_piece (self->board, (guint32) (position / piece_length), reader,
                                    error))
    return -1;
  if (self->fd < 0) {
    self->fd = dfly_storage_open_content (self->storage, self->task_id, error);
    if (self->fd < 0)
      return -1;
  }
  /* Within the piece just waited for. */
  piece_end = (position / piece_length + 1) * piece_length;
  want = (gsize) MIN ((guint64) count, MIN (piece_end, self->offset + self->length) - position);
  for (;;) {
    gssize n = pread (self->fd, buffer, want, (off_t) position);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "reading task %s at %" G_GUINT64_FORMAT ": %s",
                   self->task_id, position, n < 0 ? g_strerror (errno) : "end of file");
      return -1;
    }
    self->position += (guint64) n;
    return n;
  }
}

static gboolean
dfly_range_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  DflyRangeStream *self = DFLY_RANGE_STREAM (stream);

  dfly_piece_board_unprioritize (self->board, g_steal_pointer (&self->priority));
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  return TRUE;
}

static void
dfly_range_stream_finalize (GObject *object)
{
  DflyRangeStream *self = DFLY_RANGE_STREAM (object);

  /* Closed by GInputStream's dispose if the reader did not. */
  dfly_storage_release_task (self->storage, self->task_id);
  dfly_piece_board_unref (self->board);
  g_object_unref (self->storage);
  g_clear_object (&self->cancellable);
  g_free (self->task_id);
  G_OBJECT_CLASS (dfly_range_stream_parent_class)->finalize (object);
}

static void
dfly_range_stream_class_init (DflyRangeStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_range_stream_finalize;
  stream_class->read_fn = dfly_range_stream_read;
  stream_class->close_fn = dfly_range_stream_close;
}

static void
dfly_range_stream_init (DflyRangeStream *self)
{
  self->fd = -1;
  self->content_length = -1;
}

GInputStream *
dfly_range_stream_new (DflyPieceBoard *board, DflyStorage *storage, const char *task_id,
                       guint64 offset, guint64 length, GCancellable *cancellable)
{
  DflyRangeStream *self = g_object_new (DFLY_TYPE_RANGE_STREAM, NULL);

  self->board = dfly_piece_board_ref (board);
  self->storage = g_object_ref (storage);
  self->task_id = g_strdup (task_id);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->offset = offset;
  self->length = length;
  self->priority = dfly_piece_board_prioritize (board, offset, length);
  dfly_storage_acquire_task (storage, task_id);
  return G_INPUT_STREAM (self);
}

gboolean
dfly_range_stream_get_length (DflyRangeStream *self, guint64 *content_length, guint64 *range_length)
{
  g_return_val_if_fail (DFLY_IS_RANGE_STREAM (self), FALSE);

  /* Set by the first read, which the caller waited for. */
  if (self->content_length < 0)
    return FALSE;
  if (content_length != NULL)
    *content_length = (guint64) self->content_length;
  if (range_length != NULL)
    *range_length = self->checked ? self->length : 0;
  return TRUE;
}
