/* dfly-piece-board.c — DflyPieceBoard: one task's pieces (see the header)
 *
 * Everything is under one lock. Workers wait on one condition in slices,
 * so cancellation and the stall timers are seen without a wake-up.
 */
#include "config.h"

#include <string.h>

#include "dfly-piece-board.h"
#include "dfly-wire.h"

#define PER_PARENT_INFLIGHT 4 /* pieces fetched from one parent at once */
/* From a seed, fewer: its upload feeds every child, and a child taking
 * more than its share of it becomes the one way to half the content. */
#define PER_SEED_INFLIGHT   2
#define PARENT_MAX_FAILURES 3            /* broken transfers before a parent is dropped */
#define DEFER_US            (500 * 1000) /* a piece a seed deferred: asked again after */
#define WAIT_SLICE_US       (200 * 1000)
#define RESCHEDULE_AFTER_US (2 * G_USEC_PER_SEC)  /* no progress: ask for parents */
#define SOURCE_AFTER_US     (15 * G_USEC_PER_SEC) /* no progress: go to the source */

enum { PIECE_MISSING, PIECE_INFLIGHT, PIECE_HELD };

typedef struct {
  char       *peer_id;
  char       *base_url;
  char       *task_url; /* base_url/v1/tasks/<task id> */
  GByteArray *bitmap;
  guint       inflight;
  guint       failures;
  gint64      cost_us;    /* moving average of a piece's time; 0 unknown */
  gint64      busy_until; /* it answered 503: not asked before then */
  gboolean    seed;       /* a seed host: its upload is the scarce one */
  GHashTable *deferred;   /* piece → monotonic µs: it answered 429 */
  gboolean    dead;       /* link lost or too many failures */
  gboolean    bad;        /* served bytes that did not match */
} Parent;

typedef struct {
  guint64 offset;
  guint64 end; /* exclusive */
} Range;

struct _DflyPieceBoard {
  char                        *task_id;
  GCancellable                *cancellable;
  GMutex                       lock;
  GCond                        cond;
  const DflyPieceBoardReports *reports;
  gpointer                     reports_data;

  gboolean sized;
  gint64   content_length; /* -1 unknown */
  guint64  piece_length;
  guint32  piece_count;
  guint8  *state;        /* PIECE_* per piece */
  char   **digests;      /* expected, per piece */
  char   **held_digests; /* of held pieces, for reports after failover */
  guint32  held;
  guint32  inflight;
  guint32  first_missing; /* no missing piece before it */

  gboolean streaming; /* one STREAM job from byte 0 */
  gboolean stream_taken;
  gboolean stream_done;
  guint64  stream_end; /* bytes of the stream committed */

  gboolean   to_source;
  gboolean   lazy; /* only wanted pieces */
  gboolean   finished;
  GError    *error;  /* why the task ended without its content */
  GPtrArray *ranges; /* Range *, wanted first */

  GPtrArray  *parents;     /* Parent * */
  GHashTable *refused;     /* parent ids never to use again */
  gint64      progress_at; /* monotonic time of the last progress */
  gint64      rescheduled_at;
  gboolean    news; /* a digest or a parent came since the last wake */

  guint64 completed;
  guint64 from_parents;
  guint64 from_source;
};

static void
parent_free (gpointer data)
{
  Parent *parent = data;

  g_free (parent->peer_id);
  g_free (parent->base_url);
  g_free (parent->task_url);
  g_byte_array_unref (parent->bitmap);
  g_hash_table_unref (parent->deferred);
  g_free (parent);
}

void
dfly_piece_job_clear (DflyPieceJob *job)
{
  g_clear_pointer (&job->parent_id, g_free);
  g_clear_pointer (&job->parent_url, g_free);
  g_clear_pointer (&job->digest, g_free);
}

/* ---- life ---- */

DflyPieceBoard *
dfly_piece_board_new (const char *task_id, GCancellable *cancellable)
{
  DflyPieceBoard *self = g_atomic_rc_box_new0 (DflyPieceBoard);

  self->task_id = g_strdup (task_id);
  self->cancellable = g_object_ref (cancellable);
  self->content_length = -1;
  self->ranges = g_ptr_array_new_with_free_func (g_free);
  self->parents = g_ptr_array_new_with_free_func (parent_free);
  self->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->progress_at = g_get_monotonic_time ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

DflyPieceBoard *
dfly_piece_board_ref (DflyPieceBoard *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
piece_board_clear (gpointer data)
{
  DflyPieceBoard *self = data;

  for (guint32 n = 0; self->state != NULL && n < self->piece_count; n++) {
    g_free (self->digests[n]);
    g_free (self->held_digests[n]);
  }
  g_free (self->digests);
  g_free (self->held_digests);
  g_free (self->state);
  g_clear_error (&self->error);
  g_ptr_array_unref (self->ranges);
  g_ptr_array_unref (self->parents);
  g_hash_table_unref (self->refused);
  g_object_unref (self->cancellable);
  g_free (self->task_id);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
}

void
dfly_piece_board_unref (DflyPieceBoard *self)
{
  g_atomic_rc_box_release_full (self, piece_board_clear);
}

void
dfly_piece_board_set_reports (DflyPieceBoard *self, const DflyPieceBoardReports *reports,
                              gpointer data)
{
  g_mutex_lock (&self->lock);
  self->reports = reports;
  self->reports_data = data;
  g_mutex_unlock (&self->lock);
}

/* ---- pieces (lock held) ---- */

static guint64
piece_size (DflyPieceBoard *self, guint32 number)
{
  guint64 offset = (guint64) number * self->piece_length;

  return MIN (self->piece_length, (guint64) self->content_length - offset);
}

/* Marks a piece held; FALSE if it was already. */
static gboolean
hold (DflyPieceBoard *self, guint32 number, const char *digest)
{
  if (number >= self->piece_count || self->state[number] == PIECE_HELD)
    return FALSE;
  self->state[number] = PIECE_HELD;
  self->held++;
  g_free (self->held_digests[number]);
  self->held_digests[number] = g_strdup (digest);
  return TRUE;
}

static void
set_missing (DflyPieceBoard *self, guint32 number)
{
  if (number >= self->piece_count || self->state[number] != PIECE_INFLIGHT)
    return;
  self->state[number] = PIECE_MISSING;
  self->first_missing = MIN (self->first_missing, number);
}

static void
progress_all (DflyPieceBoard *self)
{
  self->progress_at = g_get_monotonic_time ();
  g_cond_broadcast (&self->cond);
}

/* Progress that makes at most one piece takeable wakes one waiting thread:
 * waking all of them for each parent's notice cost more CPU than the
 * piece threads' transfers (any thread can take any piece, so if the one
 * woken cannot, none can). Range readers wait on the same condition, so
 * a held piece wakes all. */
static void
progress_one (DflyPieceBoard *self)
{
  self->progress_at = g_get_monotonic_time ();
  g_cond_signal (&self->cond);
}

/* ---- sizing and the plan ---- */

gboolean
dfly_piece_board_set_length (DflyPieceBoard *self, gint64 content_length, guint64 piece_length)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (content_length >= -1, FALSE);

  g_mutex_lock (&self->lock);
  if (self->sized) {
    ok = self->content_length == content_length && self->piece_length == piece_length;
  } else if (piece_length == 0 ||
             (content_length > 0 &&
              ((guint64) content_length - 1) / piece_length >= DFLY_PIECE_BOARD_MAX_PIECES)) {
    ok = FALSE;
  } else {
    self->piece_length = piece_length;
    self->content_length = content_length;
    if (content_length >= 0) {
      self->sized = TRUE;
      self->piece_count = dfly_piece_count (content_length, piece_length);
      self->state = g_malloc0 (MAX (self->piece_count, 1));
      self->digests = g_new0 (char *, MAX (self->piece_count, 1));
      self->held_digests = g_new0 (char *, MAX (self->piece_count, 1));
      /* A stream of unknown length learns it at its end: all held. */
      for (guint32 n = 0; self->stream_done && n < self->piece_count; n++)
        hold (self, n, NULL);
      g_cond_broadcast (&self->cond);
    }
  }
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
dfly_piece_board_get_length (DflyPieceBoard *self, gint64 *content_length, guint64 *piece_length)
{
  gboolean sized;

  g_mutex_lock (&self->lock);
  *content_length = self->content_length;
  *piece_length = self->piece_length;
  sized = self->sized;
  g_mutex_unlock (&self->lock);
  return sized;
}

void
dfly_piece_board_set_streaming (DflyPieceBoard *self)
{
  g_mutex_lock (&self->lock);
  self->streaming = TRUE;
  self->to_source = TRUE;
  g_mutex_unlock (&self->lock);
}

void
dfly_piece_board_set_to_source (DflyPieceBoard *self, gboolean to_source)
{
  g_mutex_lock (&self->lock);
  self->to_source = to_source;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
dfly_piece_board_set_lazy (DflyPieceBoard *self, gboolean lazy)
{
  g_mutex_lock (&self->lock);
  self->lazy = lazy;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

gboolean
dfly_piece_board_get_lazy (DflyPieceBoard *self)
{
  gboolean lazy;

  g_mutex_lock (&self->lock);
  lazy = self->lazy;
  g_mutex_unlock (&self->lock);
  return lazy;
}

gboolean
dfly_piece_board_get_to_source (DflyPieceBoard *self)
{
  gboolean to_source;

  g_mutex_lock (&self->lock);
  to_source = self->to_source;
  g_mutex_unlock (&self->lock);
  return to_source;
}

void
dfly_piece_board_hold (DflyPieceBoard *self, GPtrArray *pieces)
{
  g_mutex_lock (&self->lock);
  for (guint i = 0; self->sized && pieces != NULL && i < pieces->len; i++) {
    const DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    if (piece->number < self->piece_count && piece->length == piece_size (self, piece->number) &&
        hold (self, piece->number, piece->digest))
      self->completed += piece->length;
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

guint32
dfly_piece_board_count_missing (DflyPieceBoard *self)
{
  guint32 missing;

  g_mutex_lock (&self->lock);
  if (self->streaming)
    missing = self->stream_done ? 0 : 1;
  else
    missing = self->piece_count - self->held;
  g_mutex_unlock (&self->lock);
  return missing;
}

GPtrArray *
dfly_piece_board_dup_held (DflyPieceBoard *self)
{
  GPtrArray *held = g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_piece_info_unref);

  g_mutex_lock (&self->lock);
  for (guint32 n = 0; self->sized && n < self->piece_count; n++) {
    DflyPieceInfo *info;

    if (self->state[n] != PIECE_HELD)
      continue;
    info = dfly_piece_info_new (self->task_id, n);
    info->offset = (guint64) n * self->piece_length;
    info->length = piece_size (self, n);
    info->digest = g_strdup (self->held_digests[n]);
    g_ptr_array_add (held, info);
  }
  g_mutex_unlock (&self->lock);
  return held;
}

/* ---- what the scheduler and the parents say ---- */

void
dfly_piece_board_set_digest (DflyPieceBoard *self, guint32 number, const char *digest)
{
  g_mutex_lock (&self->lock);
  if (self->sized && number < self->piece_count && self->digests[number] == NULL &&
      digest != NULL && strchr (digest, ':') != NULL) {
    self->digests[number] = g_strdup (digest);
    self->news = TRUE;
  }
  g_mutex_unlock (&self->lock);
}

static Parent *
find_parent (DflyPieceBoard *self, const char *peer_id)
{
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->peer_id, peer_id) == 0)
      return parent;
  }
  return NULL;
}

gboolean
dfly_piece_board_add_parent (DflyPieceBoard *self, const char *peer_id, const char *base_url,
                             gboolean seed, const guint8 *bitmap, gsize bitmap_size)
{
  Parent *parent;

  g_mutex_lock (&self->lock);
  parent = find_parent (self, peer_id);
  if (g_hash_table_contains (self->refused, peer_id) || (parent != NULL && !parent->dead)) {
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  if (parent == NULL) {
    parent = g_new0 (Parent, 1);
    parent->peer_id = g_strdup (peer_id);
    parent->bitmap = g_byte_array_new ();
    parent->deferred = g_hash_table_new_full (NULL, NULL, NULL, g_free);
    g_ptr_array_add (self->parents, parent);
  }
  g_free (parent->base_url);
  g_free (parent->task_url);
  parent->base_url = g_strdup (base_url);
  parent->task_url = g_strconcat (base_url, "/v1/tasks/", self->task_id, NULL);
  parent->dead = FALSE;
  parent->failures = 0;
  parent->seed = seed;
  g_byte_array_set_size (parent->bitmap, 0);
  g_byte_array_append (parent->bitmap, bitmap, MIN (bitmap_size, (self->piece_count + 7) / 8));
  self->news = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
dfly_piece_board_parent_has (DflyPieceBoard *self, const char *base_url, guint32 number)
{
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->base_url, base_url) == 0 && number < self->piece_count &&
        !dfly_wire_bitmap_get (parent->bitmap, number)) {
      dfly_wire_bitmap_set (parent->bitmap, number);
      if (self->state[number] == PIECE_MISSING)
        progress_one (self);
      else
        self->progress_at = g_get_monotonic_time ();
    }
  }
  g_mutex_unlock (&self->lock);
}

gboolean
dfly_piece_board_parent_lost (DflyPieceBoard *self, const char *base_url)
{
  gboolean found = FALSE;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->base_url, base_url) != 0)
      continue;
    g_info ("task %s: parent %s is gone", self->task_id, parent->peer_id);
    parent->dead = TRUE;
    found = TRUE;
  }
  /* Rescheduling soon: the stall timer starts now. */
  self->rescheduled_at = 0;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return found;
}

void
dfly_piece_board_wake (DflyPieceBoard *self)
{
  g_mutex_lock (&self->lock);
  /* Only news restarts the stall timer: the scheduler's answers to this
   * child's own reschedules, repeating what it knew, would otherwise keep
   * it from ever turning to the source (say, with no digest it may use). */
  if (self->news)
    progress_all (self);
  else
    g_cond_broadcast (&self->cond);
  self->news = FALSE;
  g_mutex_unlock (&self->lock);
}

/* ---- choosing the next piece (lock held) ---- */

static gboolean
in_ranges (DflyPieceBoard *self, guint32 number)
{
  guint64 offset = (guint64) number * self->piece_length;
  guint64 end = offset + piece_size (self, number);

  for (guint i = 0; i < self->ranges->len; i++) {
    const Range *range = g_ptr_array_index (self->ranges, i);

    if (offset < range->end && end > range->offset)
      return TRUE;
  }
  return FALSE;
}

/* The first missing piece a range reader waits for, in the order they asked. */
static gboolean
first_wanted (DflyPieceBoard *self, guint32 *number)
{
  for (guint i = 0; i < self->ranges->len; i++) {
    const Range *range = g_ptr_array_index (self->ranges, i);
    guint32      last;

    if (range->offset >= (guint64) self->content_length)
      continue;
    last = (guint32) MIN ((range->end - 1) / self->piece_length, (guint64) self->piece_count - 1);
    for (guint32 n = (guint32) (range->offset / self->piece_length); n <= last; n++) {
      if (self->state[n] == PIECE_MISSING) {
        *number = n;
        return TRUE;
      }
    }
  }
  return FALSE;
}

/* The next piece from the source: a wanted one, else (but lazy) the first
 * missing. */
static gboolean
pick_source (DflyPieceBoard *self, guint32 *number)
{
  if (first_wanted (self, number))
    return TRUE;
  if (self->lazy)
    return FALSE;
  while (self->first_missing < self->piece_count &&
         self->state[self->first_missing] != PIECE_MISSING)
    self->first_missing++;
  *number = self->first_missing;
  return self->first_missing < self->piece_count;
}

static gboolean
is_deferred (Parent *parent, guint32 n, gint64 now)
{
  gint64 *until = g_hash_table_lookup (parent->deferred, GUINT_TO_POINTER (n));

  return until != NULL && *until > now;
}

/* How soon a parent would deliver one more piece: a slow parent, or one
 * with many pieces in flight, is asked last. Unmeasured ones are tried. */
static gint64
expected_cost (const Parent *parent)
{
  gint64 cost = (gint64) (parent->inflight + 1) * MAX (parent->cost_us, 1);

  /* A seed's upload feeds the whole swarm: a piece another parent holds
   * is taken from that one unless the seed is far quicker. */
  return parent->seed ? cost * 4 : cost;
}

/* The rarest missing piece some usable parent holds and whose digest is
 * known, and the parent expected to deliver it soonest; wanted_only: among
 * the pieces range readers wait for. */
static gboolean
pick_parent (DflyPieceBoard *self, guint32 *number, Parent **chosen, gint64 now,
             gboolean wanted_only)
{
  guint32 start = self->piece_count > 0 ? g_random_int_range (0, self->piece_count) : 0;
  guint   best_holders = G_MAXUINT;

  *chosen = NULL;
  for (guint32 k = 0; k < self->piece_count; k++) {
    guint32 n = (start + k) % self->piece_count;
    guint   holders = 0;
    Parent *least = NULL;

    if (self->state[n] != PIECE_MISSING || self->digests[n] == NULL ||
        (wanted_only && !in_ranges (self, n)))
      continue;
    for (guint i = 0; i < self->parents->len; i++) {
      Parent *parent = g_ptr_array_index (self->parents, i);

      if (parent->dead || parent->bad || !dfly_wire_bitmap_get (parent->bitmap, n))
        continue;
      holders++;
      if (parent->inflight < (parent->seed ? PER_SEED_INFLIGHT : PER_PARENT_INFLIGHT) &&
          parent->busy_until <= now && !is_deferred (parent, n, now) &&
          (least == NULL || expected_cost (parent) < expected_cost (least)))
        least = parent;
    }
    if (least != NULL && holders < best_holders) {
      best_holders = holders;
      *number = n;
      *chosen = least;
      if (holders == 1)
        break; /* none rarer */
    }
  }
  return *chosen != NULL;
}

static void
take (DflyPieceBoard *self, DflyPieceJob *job, DflyPieceJobKind kind, guint32 number, gint64 now)
{
  self->state[number] = PIECE_INFLIGHT;
  self->inflight++;
  job->kind = kind;
  job->number = number;
  job->offset = (guint64) number * self->piece_length;
  job->length = (gint64) piece_size (self, number);
  job->piece_length = self->piece_length;
  job->started = now;
}

static void
reschedule (DflyPieceBoard *self)
{
  g_autoptr (GPtrArray) failed = g_ptr_array_new ();

  if (self->reports == NULL)
    return;
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (parent->dead || parent->bad)
      g_ptr_array_add (failed, parent->peer_id);
  }
  self->reports->reschedule (self->reports_data, failed);
}

DflyPieceJobKind
dfly_piece_board_next (DflyPieceBoard *self, DflyPieceJob *job)
{
  memset (job, 0, sizeof *job);
  job->kind = DFLY_PIECE_JOB_STOP;
  g_mutex_lock (&self->lock);
  for (;;) {
    gint64   now = g_get_monotonic_time ();
    gboolean has_ranges = self->ranges->len > 0;
    Parent  *parent = NULL;
    guint32  number = 0;

    if (g_cancellable_is_cancelled (self->cancellable))
      break;
    if (self->streaming) {
      if (self->stream_done) {
        job->kind = DFLY_PIECE_JOB_DONE;
        break;
      }
      if (!self->stream_taken) {
        self->stream_taken = TRUE;
        job->kind = DFLY_PIECE_JOB_STREAM;
        job->length = self->content_length;
        job->piece_length = self->piece_length;
        job->started = now;
        break;
      }
    } else if (!self->sized || self->held >= self->piece_count) {
      job->kind = DFLY_PIECE_JOB_DONE;
      break;
    } else if (self->to_source) {
      if (pick_source (self, &number)) {
        take (self, job, DFLY_PIECE_JOB_SOURCE, number, now);
        break;
      }
    } else if ((has_ranges && pick_parent (self, &number, &parent, now, TRUE)) ||
               (!self->lazy && pick_parent (self, &number, &parent, now, FALSE))) {
      take (self, job, DFLY_PIECE_JOB_PARENT, number, now);
      parent->inflight++;
      job->parent_id = g_strdup (parent->peer_id);
      job->parent_url = g_strdup (parent->task_url);
      job->digest = g_strdup (self->digests[number]);
      break;
    } else if (self->lazy && !first_wanted (self, &number)) {
      /* Nothing asked for: waiting is not a parent's lack of progress. */
      self->progress_at = now;
    } else if (self->inflight == 0 && now - self->progress_at > SOURCE_AFTER_US) {
      g_info ("task %s: no parent made progress for %d s, going to the source for the rest",
              self->task_id, (int) (SOURCE_AFTER_US / G_USEC_PER_SEC));
      self->to_source = TRUE;
      continue;
    } else if (self->inflight == 0 && now - self->progress_at > RESCHEDULE_AFTER_US &&
               now - self->rescheduled_at > RESCHEDULE_AFTER_US) {
      self->rescheduled_at = now;
      reschedule (self);
    }
    g_cond_wait_until (&self->cond, &self->lock, now + WAIT_SLICE_US);
  }
  g_mutex_unlock (&self->lock);
  return job->kind;
}

void
dfly_piece_board_commit (DflyPieceBoard *self, const DflyPieceInfo *piece, gboolean from_source)
{
  guint64 fresh = 0;

  g_mutex_lock (&self->lock);
  if (self->streaming) {
    /* A retried stream commits its first pieces again. */
    guint64 end = piece->offset + piece->length;

    if (end > self->stream_end) {
      fresh = end - MAX (self->stream_end, piece->offset);
      self->stream_end = end;
    }
    if (self->sized)
      hold (self, piece->number, piece->digest);
  } else if (hold (self, piece->number, piece->digest)) {
    fresh = piece->length;
  }
  self->completed += fresh;
  if (from_source)
    self->from_source += fresh;
  else
    self->from_parents += fresh;
  /* Range readers may wait for this one. */
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
report_failure (DflyPieceBoard *self, const DflyPieceJob *job, gboolean mismatch,
                gboolean temporary)
{
  if (self->reports != NULL)
    self->reports->piece_failed (self->reports_data, job->number, job->parent_id, mismatch,
                                 temporary);
}

/* A parent's failure decides when it is asked again, if ever. */
static void
parent_failed (DflyPieceBoard *self, Parent *parent, const DflyPieceJob *job, const GError *error)
{
  if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH)) {
    g_message ("task %s: parent %s served piece %u with a wrong digest; not using it again",
               self->task_id, parent->peer_id, job->number);
    parent->bad = TRUE;
    g_hash_table_add (self->refused, g_strdup (parent->peer_id));
    report_failure (self, job, TRUE, FALSE);
    reschedule (self);
  } else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    /* The seed sent this piece to another child: ask for it elsewhere. */
    gint64 until = g_get_monotonic_time () + DEFER_US;

    g_hash_table_replace (parent->deferred, GUINT_TO_POINTER (job->number),
                          g_memdup2 (&until, sizeof until));
  } else if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_BUSY)) {
    /* Every upload slot of it is taken: not a failure, ask others first. */
    parent->busy_until = g_get_monotonic_time () + G_USEC_PER_SEC;
  } else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_info ("task %s: piece %u from %s failed: %s", self->task_id, job->number, parent->peer_id,
            error->message);
    if (++parent->failures >= PARENT_MAX_FAILURES)
      parent->dead = TRUE;
    report_failure (self, job, FALSE, !parent->dead);
  }
}

void
dfly_piece_board_job_done (DflyPieceBoard *self, const DflyPieceJob *job, const GError *error)
{
  Parent *parent;

  g_mutex_lock (&self->lock);
  if (job->kind == DFLY_PIECE_JOB_STREAM) {
    self->stream_taken = FALSE;
    self->stream_done = error == NULL;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    return;
  }
  parent = job->parent_id != NULL ? find_parent (self, job->parent_id) : NULL;
  self->inflight--;
  if (parent != NULL)
    parent->inflight--;
  if (error == NULL) {
    if (parent != NULL) {
      gint64 cost = g_get_monotonic_time () - job->started;

      parent->cost_us = parent->cost_us == 0 ? cost : (3 * parent->cost_us + cost) / 4;
    }
    /* The calling thread asks for its next piece itself, so one more is
     * woken for what this may have freed; all only to see that all is held. */
    if (self->held >= self->piece_count)
      progress_all (self);
    else
      progress_one (self);
  } else {
    set_missing (self, job->number);
    if (parent != NULL)
      parent_failed (self, parent, job, error);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

gboolean
dfly_piece_board_has_failed (DflyPieceBoard *self)
{
  gboolean failed;

  g_mutex_lock (&self->lock);
  failed = self->finished && self->error != NULL;
  g_mutex_unlock (&self->lock);
  return failed;
}

void
dfly_piece_board_finish (DflyPieceBoard *self, const GError *error)
{
  g_mutex_lock (&self->lock);
  self->finished = TRUE;
  if (error != NULL && self->error == NULL)
    self->error = g_error_copy (error);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
dfly_piece_board_get_bytes (DflyPieceBoard *self, guint64 *completed, guint64 *from_parents,
                            guint64 *from_source)
{
  g_mutex_lock (&self->lock);
  if (completed != NULL)
    *completed = self->completed;
  if (from_parents != NULL)
    *from_parents = self->from_parents;
  if (from_source != NULL)
    *from_source = self->from_source;
  g_mutex_unlock (&self->lock);
}

/* ---- range readers ---- */

gpointer
dfly_piece_board_prioritize (DflyPieceBoard *self, guint64 offset, guint64 length)
{
  Range *range = g_new0 (Range, 1);

  range->offset = offset;
  range->end = length > G_MAXUINT64 - offset ? G_MAXUINT64 : offset + length;
  g_mutex_lock (&self->lock);
  if (length > 0)
    g_ptr_array_add (self->ranges, range);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (length == 0)
    g_clear_pointer (&range, g_free);
  return range;
}

void
dfly_piece_board_unprioritize (DflyPieceBoard *self, gpointer token)
{
  if (token == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_ptr_array_remove (self->ranges, token);
  g_mutex_unlock (&self->lock);
}

guint
dfly_piece_board_count_readers (DflyPieceBoard *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->ranges->len;
  g_mutex_unlock (&self->lock);
  return n;
}

/* Waits a slice for what a reader wants (lock held); FALSE with an error
 * when the task ended without it or the reader gave up. */
static gboolean
wait_slice (DflyPieceBoard *self, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (self->error != NULL) {
    g_propagate_error (error, g_error_copy (self->error));
    return FALSE;
  }
  if (self->finished || g_cancellable_is_cancelled (self->cancellable)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "task %s ended without its content",
                 self->task_id);
    return FALSE;
  }
  g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () + WAIT_SLICE_US);
  return TRUE;
}

gboolean
dfly_piece_board_wait_length (DflyPieceBoard *self, gint64 *content_length, guint64 *piece_length,
                              GCancellable *cancellable, GError **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  while (ok && !self->sized)
    ok = wait_slice (self, cancellable, error);
  *content_length = self->content_length;
  *piece_length = self->piece_length;
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
dfly_piece_board_wait_piece (DflyPieceBoard *self, guint32 number, GCancellable *cancellable,
                             GError **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  while (ok && !(number < self->piece_count && self->state[number] == PIECE_HELD))
    ok = wait_slice (self, cancellable, error);
  g_mutex_unlock (&self->lock);
  return ok;
}
