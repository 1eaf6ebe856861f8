/* dfly-download.c — DflyDownload: a task fetched piece by piece from its source
 *
 * Threads: the main thread owns the object, its requests and the bus; one
 * coordinator thread per download prepares the task and waits for its piece
 * workers (jobs on the engine's shared DflyWorkerPool). Each worker asks the
 * task's DflyPieceBoard for its next job, streams that piece from the source
 * or a parent through its own fixed buffer, digests it, writes it to
 * storage and commits it. Workers share the board and the first error.
 * Results go back to the main thread with dfly_main_call.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dfly-download.h"
#include "dfly-main-call.h"
#include "dfly-output.h"
#include "dfly-piece-board.h"
#include "dfly-swarm.h"
#include "dfly-upload-server.h"
#include "dfly-worker-pool.h"

#define READ_BUFFER_SIZE  (512 * 1024)
#define LAZY_IDLE_US      (2 * G_USEC_PER_SEC)
#define PROGRESS_INTERVAL 250 /* ms between download-progress signals */

struct _DflyDownload {
  GObject           parent_instance;
  DflyContext      *context;
  DflyStorage      *storage;
  DflySource       *source;
  DflyTaskInfo     *task;    /* main thread's view; replaced when prepared */
  GHashTable       *headers; /* for the source, from the first request */
  GMainContext     *main_context;
  GCancellable     *cancellable;
  DflyPeerServices *services;            /* NULL: the source only */
  gboolean          need_back_to_source; /* a scheduler's order to this seed */
  DflyPieceBoard   *board;               /* the pieces, shared with the threads and range readers */
  DflySwarm        *swarm;               /* with services, from start */
  DflyWorkerPool   *workers;             /* the engine's piece workers */
  GThread          *coordinator;         /* joined on the main thread when it reported */

  GPtrArray  *requests;   /* DflyDownloadRequest * waiting for the content */
  GHashTable *timeouts;   /* request → timeout source id */
  guint       placing;    /* outputs being placed now */
  guint       priority;   /* the highest of its requests' */
  gboolean    lazy;       /* only what range readers want (dfly_download_set_lazy) */
  gint64      idle_since; /* lazy, and no one has wanted anything since (monotonic µs) */
  guint       progress_id;
  guint64     reported;      /* completed bytes last emitted */
  gboolean    content_ready; /* every piece is committed */
  gboolean    finished;      /* the coordinator has reported */
  gboolean    done_emitted;
  GError     *error; /* why the content could not be had */
  /* The first request's output, written by the workers beside the cache
   * while they fetch, so it needs no copy at the end. */
  DflyOutputTemp      *direct;
  DflyDownloadRequest *direct_request; /* NULL once that request is answered */

  /* Shared with the threads. */
  GMutex              lock;
  GCond               ended_cond;
  gboolean            threads_ended; /* the coordinator is about to report */
  DflyConfig         *config;        /* as it was at start */
  DflyPieceDigestAlgo algo;
  GError             *worker_error;  /* the first failure */
  int                 direct_fd;     /* -1: none */
  gboolean            direct_usable; /* every byte goes through the workers */
  gboolean            direct_failed; /* a write to it failed: copy instead */
};

G_DEFINE_FINAL_TYPE (DflyDownload, dfly_download, G_TYPE_OBJECT)

enum { SIGNAL_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
dfly_download_finalize (GObject *object)
{
  DflyDownload *self = DFLY_DOWNLOAD (object);

  g_clear_handle_id (&self->progress_id, g_source_remove);
  g_clear_pointer (&self->timeouts, g_hash_table_unref);
  g_clear_pointer (&self->requests, g_ptr_array_unref);
  g_clear_pointer (&self->task, dfly_task_info_unref);
  g_clear_pointer (&self->headers, g_hash_table_unref);
  g_clear_pointer (&self->config, dfly_config_unref);
  g_clear_pointer (&self->direct, dfly_output_temp_free);
  g_clear_pointer (&self->swarm, dfly_swarm_unref);
  g_clear_pointer (&self->board, dfly_piece_board_unref);
  g_clear_pointer (&self->services, dfly_peer_services_unref);
  g_clear_pointer (&self->workers, dfly_worker_pool_unref);
  g_clear_error (&self->worker_error);
  g_clear_error (&self->error);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->source);
  g_clear_object (&self->storage);
  g_clear_object (&self->context);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->ended_cond);
  G_OBJECT_CLASS (dfly_download_parent_class)->finalize (object);
}

static void
dfly_download_class_init (DflyDownloadClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_download_finalize;
  signals[SIGNAL_DONE] = g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
remove_source_id (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

static void
dfly_download_init (DflyDownload *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->ended_cond);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_download_request_unref);
  self->timeouts = g_hash_table_new_full (NULL, NULL, NULL, remove_source_id);
  self->cancellable = g_cancellable_new ();
  self->direct_fd = -1;
}

DflyDownload *
dfly_download_new (DflyContext *context, DflyStorage *storage, DflySource *source,
                   DflyWorkerPool *workers, const DflyTaskInfo *task, GHashTable *headers)
{
  DflyDownload *self = g_object_new (DFLY_TYPE_DOWNLOAD, NULL);

  self->workers = dfly_worker_pool_ref (workers);
  self->context = g_object_ref (context);
  self->storage = g_object_ref (storage);
  self->source = g_object_ref (source);
  self->task = dfly_task_info_copy (task);
  self->headers = headers != NULL ? g_hash_table_ref (headers) : NULL;
  self->main_context = g_main_context_ref_thread_default ();
  self->board = dfly_piece_board_new (task->id, self->cancellable);
  return self;
}

void
dfly_download_use_swarm (DflyDownload *self, DflyPeerServices *services,
                         gboolean need_back_to_source)
{
  g_return_if_fail (DFLY_IS_DOWNLOAD (self) && self->config == NULL);

  g_clear_pointer (&self->services, dfly_peer_services_unref);
  self->services = dfly_peer_services_ref (services);
  self->need_back_to_source = need_back_to_source;
}

DflyPieceBoard *
dfly_download_get_board (DflyDownload *self)
{
  return self->board;
}

const char *
dfly_download_get_task_id (DflyDownload *self)
{
  return self->task->id;
}

/* ---- requests (main thread) ---- */

static void
maybe_done (DflyDownload *self)
{
  if (self->done_emitted || !self->finished || self->placing > 0 || self->requests->len > 0)
    return;
  self->done_emitted = TRUE;
  dfly_storage_release_task (self->storage, self->task->id);
  g_signal_emit (self, signals[SIGNAL_DONE], 0);
}

/* Answers one request with an error and forgets it. */
static void
fail_request (DflyDownload *self, DflyDownloadRequest *request, const GError *error)
{
  g_autoptr (DflyDownloadRequest) held = dfly_download_request_ref (request);

  g_hash_table_remove (self->timeouts, request);
  g_ptr_array_remove (self->requests, request);
  /* Its temporary file goes now; the workers may still write to it. */
  if (request == self->direct_request) {
    self->direct_request = NULL;
    dfly_output_temp_discard (self->direct);
  }
  g_info ("task %s: %s failed: %s", self->task->id, request->output, error->message);
  dfly_bus_emit_download_failed (dfly_context_get_bus (self->context), held, error);
}

typedef struct {
  DflyDownload        *download;
  DflyDownloadRequest *request;
} PlaceData;

/* On the main thread, where the download lives and the bus is emitted. */
static void
place_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree PlaceData *data = user_data;
  g_autoptr (DflyDownload) self = data->download;
  g_autoptr (DflyDownloadRequest) request = data->request;
  g_autoptr (GError) error = NULL;

  self->placing--;
  if (dfly_output_place_finish (result, &error)) {
    g_info ("task %s: %s is in place", self->task->id, request->output);
    dfly_bus_emit_download_finished (dfly_context_get_bus (self->context), request);
  } else {
    g_info ("task %s: %s failed: %s", self->task->id, request->output, error->message);
    dfly_bus_emit_download_failed (dfly_context_get_bus (self->context), request, error);
  }
  maybe_done (self);
}

/* Copies (or links) the finished content to one request's output. */
static void
place_output (DflyDownload *self, DflyDownloadRequest *request)
{
  PlaceData *data;

  g_hash_table_remove (self->timeouts, request);
  data = g_new0 (PlaceData, 1);
  data->download = g_object_ref (self);
  data->request = dfly_download_request_ref (request);
  g_ptr_array_remove (self->requests, request);
  self->placing++;
  dfly_output_place_async (self->storage, self->task->id,
                           (guint64) MAX (self->task->content_length, 0), request->output,
                           request->hardlink, request->digest, NULL, place_done, data);
}

typedef struct {
  DflyDownload        *download; /* borrowed: the source dies with the entry */
  DflyDownloadRequest *request;
} TimeoutData;

static gboolean
on_request_timeout (gpointer user_data)
{
  TimeoutData  *data = user_data;
  DflyDownload *self = data->download;
  g_autoptr (DflyDownloadRequest) request = dfly_download_request_ref (data->request);
  g_autoptr (GError) error = NULL;

  /* The table entry's destroy would remove this very source: steal it. */
  g_hash_table_steal (self->timeouts, request);
  g_set_error (&error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "download of %s did not finish within %us",
               request->url, request->timeout);
  g_object_ref (self);
  fail_request (self, request, error);
  /* No one waits any more (no request, no range reader): stop fetching. A
   * reader ends only by its own cancellable or close. */
  if (self->requests->len == 0 && !self->content_ready &&
      dfly_piece_board_count_readers (self->board) == 0)
    g_cancellable_cancel (self->cancellable);
  maybe_done (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

guint
dfly_download_get_priority (DflyDownload *self)
{
  g_return_val_if_fail (DFLY_IS_DOWNLOAD (self), 0);
  return self->priority;
}

void
dfly_download_raise_priority (DflyDownload *self, guint priority)
{
  g_return_if_fail (DFLY_IS_DOWNLOAD (self));
  self->priority = MAX (self->priority, priority);
}

void
dfly_download_set_lazy (DflyDownload *self, gboolean lazy)
{
  g_return_if_fail (DFLY_IS_DOWNLOAD (self));
  self->lazy = lazy;
  self->idle_since = 0;
  dfly_piece_board_set_lazy (self->board, lazy);
}

void
dfly_download_add_request (DflyDownload *self, DflyDownloadRequest *request)
{
  g_return_if_fail (DFLY_IS_DOWNLOAD (self) && request != NULL);

  /* Someone wants the whole content. */
  if (self->lazy)
    dfly_download_set_lazy (self, FALSE);

  g_ptr_array_add (self->requests, dfly_download_request_ref (request));
  if (self->finished && self->error != NULL) {
    fail_request (self, request, self->error);
    return;
  }
  if (self->content_ready) {
    place_output (self, request);
    return;
  }
  if (request->timeout > 0) {
    TimeoutData *data = g_new0 (TimeoutData, 1);

    data->download = self;
    data->request = request;
    g_hash_table_insert (
      self->timeouts, request,
      GUINT_TO_POINTER (g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, request->timeout,
                                                    on_request_timeout, data, g_free)));
  }
}

void
dfly_download_cancel (DflyDownload *self, const GError *reason)
{
  g_return_if_fail (DFLY_IS_DOWNLOAD (self) && reason != NULL);

  g_object_ref (self);
  g_cancellable_cancel (self->cancellable);
  while (self->requests->len > 0)
    fail_request (self, g_ptr_array_index (self->requests, 0), reason);
  maybe_done (self);
  g_object_unref (self);
}

gboolean
dfly_download_is_cancelled (DflyDownload *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

gboolean
dfly_download_has_content (DflyDownload *self)
{
  return self->finished && self->content_ready;
}

gboolean
dfly_download_has_failed (DflyDownload *self)
{
  /* The board knows first: its readers hear of the failure before the
   * coordinator's report reaches the main thread. */
  return (self->finished && self->error != NULL) || dfly_piece_board_has_failed (self->board);
}

/* ---- progress (main thread) ---- */

/* A lazy download no one reads from any more stops after LAZY_IDLE_US;
 * its pieces stay in storage, and the next reader's download resumes. */
static void
stop_if_unwanted (DflyDownload *self)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GError) reason = NULL;

  if (!self->lazy || self->requests->len > 0 || self->content_ready ||
      dfly_download_is_cancelled (self) || dfly_piece_board_count_readers (self->board) > 0) {
    self->idle_since = 0;
    return;
  }
  if (self->idle_since == 0)
    self->idle_since = now;
  if (now - self->idle_since < LAZY_IDLE_US)
    return;
  g_info ("task %s: no reader wants more of it, stopping", self->task->id);
  reason = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "task %s: no reader wants more of it",
                        self->task->id);
  dfly_download_cancel (self, reason);
}

static gboolean
emit_progress (gpointer user_data)
{
  DflyDownload *self = user_data;
  g_autoptr (DflyTaskInfo) info = NULL;
  guint64 completed, piece_length;
  gint64  length;

  stop_if_unwanted (self);

  dfly_piece_board_get_bytes (self->board, &completed, NULL, NULL);
  dfly_piece_board_get_length (self->board, &length, &piece_length);

  if (completed == self->reported)
    return G_SOURCE_CONTINUE;
  self->reported = completed;
  info = dfly_task_info_copy (self->task);
  info->completed_length = completed;
  if (!self->content_ready) {
    info->content_length = length;
    info->state = DFLY_TASK_STATE_RUNNING;
  }
  dfly_bus_emit_download_progress (dfly_context_get_bus (self->context), info);
  return G_SOURCE_CONTINUE;
}

/* ---- the threads ---- */

/* Best effort: a failed write to the direct output only means the output
 * is copied from storage at the end instead. */
static void
write_direct (DflyDownload *self, const guint8 *data, gsize length, guint64 offset)
{
  if (self->direct_fd < 0 || g_atomic_int_get (&self->direct_failed))
    return;
  while (length > 0) {
    gssize n = pwrite (self->direct_fd, data, length, (off_t) offset);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_info ("task %s: writing the output directly failed (%s), will copy it", self->task->id,
              g_strerror (errno));
      g_atomic_int_set (&self->direct_failed, TRUE);
      return;
    }
    data += n;
    length -= n;
    offset += n;
  }
}

/* Waits before a retry, waking early on cancellation. */
static void
backoff_sleep (GCancellable *cancellable, guint ms)
{
  for (guint slept = 0; slept < ms && !g_cancellable_is_cancelled (cancellable); slept += 20)
    g_usleep (20 * 1000);
}

/* Reads the job's bytes (to the end when its length is -1) from stream into
 * storage, through buffer, cutting pieces of the job's piece length and
 * committing each. From a parent there is one piece, and it is committed
 * only if it matches the digest the back-to-source peer reported. Returns
 * FALSE on any error; *fetched counts the bytes of committed pieces. */
static gboolean
stream_pieces (DflyDownload *self, GInputStream *stream, const DflyPieceJob *job, guint8 *buffer,
               guint64 *fetched, GError **error)
{
  DflyPieceDigestAlgo algo = self->algo;
  guint64             piece_length = job->piece_length;
  guint64             offset = job->offset;
  gint64              want = job->length;
  const char         *parent_id = job->parent_id;
  const char         *expected = job->digest;
  guint32             number = job->number;
  gboolean            at_end = FALSE;

  *fetched = 0;
  while (!at_end) {
    g_autoptr (DflyPieceDigest) digest = NULL;
    g_autoptr (DflyPieceInfo) piece = NULL;
    guint64 piece_offset = offset + *fetched;
    guint64 piece_want = piece_length;
    guint64 got = 0;
    gint64  started = g_get_monotonic_time ();

    if (expected != NULL) {
      /* Checked with the algorithm the back-to-source peer used; the swarm
       * passes on only references this download may check with (a
       * cryptographic one when download.piece_digest is), so this refusal
       * is a last guard. */
      if (!dfly_piece_digest_may_check (self->algo, expected) ||
          !dfly_piece_digest_algo_of (expected, &algo)) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                     "piece digest %s cannot be checked under download.piece_digest %s", expected,
                     self->config->download.piece_digest);
        return FALSE;
      }
    }
    digest = dfly_piece_digest_new (algo);
    if (want >= 0)
      piece_want = MIN (piece_length, (guint64) want - *fetched);
    while (got < piece_want) {
      gssize n = g_input_stream_read (stream, buffer, MIN (READ_BUFFER_SIZE, piece_want - got),
                                      self->cancellable, error);

      if (n < 0)
        return FALSE;
      if (n == 0) {
        if (want >= 0) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                       "the origin closed the body %" G_GUINT64_FORMAT " bytes short",
                       (guint64) want - *fetched - got);
          return FALSE;
        }
        at_end = TRUE;
        break;
      }
      if (self->services != NULL &&
          !dfly_rate_limiter_consume (self->services->download_limiter, n, self->cancellable)) {
        g_cancellable_set_error_if_cancelled (self->cancellable, error);
        return FALSE;
      }
      dfly_piece_digest_update (digest, buffer, n);
      if (!dfly_storage_write (self->storage, self->task->id, piece_offset + got, buffer, n, error))
        return FALSE;
      write_direct (self, buffer, n, piece_offset + got);
      got += n;
    }
    if (got == 0)
      break; /* a stream that ended on a piece boundary */
    piece = dfly_piece_info_new (self->task->id, number++);
    piece->offset = piece_offset;
    piece->length = got;
    piece->digest = dfly_piece_digest_finish (digest);
    piece->cost_us = g_get_monotonic_time () - started;
    piece->parent_id = g_strdup (parent_id);
    if (expected != NULL && g_ascii_strcasecmp (expected, piece->digest) != 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH,
                   "piece %u from %s is %s, the source's digest is %s", piece->number, parent_id,
                   piece->digest, expected);
      return FALSE;
    }
    if (!dfly_storage_commit_piece (self->storage, piece, error))
      return FALSE;
    *fetched += got;
    dfly_piece_board_commit (self->board, piece, parent_id == NULL);
    if (self->swarm != NULL)
      dfly_swarm_piece_committed (self->swarm, piece, parent_id == NULL);
    if (want >= 0 && *fetched >= (guint64) want)
      at_end = TRUE;
  }
  return TRUE;
}

/* Whether a failure mid-transfer deserves another attempt: the connection
 * broke or stalled. What the origin answered was already retried by the
 * source, and local or permanent errors will not heal. */
static gboolean
is_transient (const GError *error)
{
  return error->domain == G_IO_ERROR && error->code != G_IO_ERROR_CANCELLED;
}

/* Fetches a job from the source (one piece, or a stream of them) with
 * retries; a retried stream commits its first pieces again. */
static gboolean
fetch_from_source (DflyDownload *self, const DflyPieceJob *job, guint8 *buffer, GError **error)
{
  guint attempts = self->config->http.retries + 1;
  guint backoff = self->config->http.retry_backoff_ms;

  for (guint attempt = 1;; attempt++) {
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GError) local = NULL;
    guint64 fetched = 0;

    stream = dfly_source_open_range (self->source, self->task->url, self->headers, job->offset,
                                     job->length, self->cancellable, &local);
    if (stream != NULL && stream_pieces (self, stream, job, buffer, &fetched, &local)) {
      g_input_stream_close (stream, NULL, NULL);
      return TRUE;
    }
    if (attempt >= attempts || !is_transient (local) ||
        g_cancellable_is_cancelled (self->cancellable)) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    g_info ("task %s: piece %u attempt %u failed (%s), retrying in %ums", self->task->id,
            job->number, attempt, local->message, backoff);
    backoff_sleep (self->cancellable, backoff);
    backoff = MIN (backoff * 2, 30000);
  }
}

/* Fetches one piece from a parent's upload server, checking it against the
 * digest the back-to-source peer reported. */
static gboolean
fetch_from_parent (DflyDownload *self, const DflyPieceJob *job, guint8 *buffer, GError **error)
{
  g_autoptr (GInputStream) stream =
    dfly_piece_fetcher_open (self->services->fetcher, job->parent_url, job->offset,
                             job->offset + job->length - 1, self->cancellable, error);
  guint64  fetched = 0;
  gboolean ok;

  if (stream == NULL)
    return FALSE;
  ok = stream_pieces (self, stream, job, buffer, &fetched, error);
  /* Read whole, the body gives its connection back for the next piece. */
  g_input_stream_close (stream, NULL, NULL);
  return ok;
}

static void
set_worker_error (DflyDownload *self, GError **error)
{
  g_mutex_lock (&self->lock);
  if (self->worker_error == NULL)
    self->worker_error = g_steal_pointer (error);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
}

/* A piece worker: runs what the board hands out until nothing is left. */
static gpointer
worker_thread (gpointer user_data)
{
  DflyDownload      *self = user_data;
  g_autofree guint8 *buffer = g_malloc (READ_BUFFER_SIZE);

  for (;;) {
    DflyPieceJob job;
    g_autoptr (GError) error = NULL;
    DflyPieceJobKind kind = dfly_piece_board_next (self->board, &job);
    gboolean         ok;

    if (kind == DFLY_PIECE_JOB_DONE || kind == DFLY_PIECE_JOB_STOP)
      break;
    if (kind == DFLY_PIECE_JOB_PARENT)
      ok = fetch_from_parent (self, &job, buffer, &error);
    else
      ok = fetch_from_source (self, &job, buffer, &error);
    dfly_piece_board_job_done (self->board, &job, ok ? NULL : error);
    dfly_piece_job_clear (&job);
    /* The source failing is final; a parent failing is not. */
    if (!ok && kind != DFLY_PIECE_JOB_PARENT) {
      set_worker_error (self, &error);
      break;
    }
  }
  return NULL;
}

/* Turns what the threads saw into the error a caller gets. */
static GError *
public_error (DflyDownload *self, GError *error)
{
  GError *mapped;

  if (error->domain == DFLY_ERROR)
    return error;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    mapped = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "download of %s was cancelled",
                          self->task->url);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    mapped = g_error_new (DFLY_ERROR, DFLY_ERROR_TIMEOUT, "the origin stalled: %s: %s",
                          self->task->url, error->message);
  else
    mapped = g_error_new (DFLY_ERROR, DFLY_ERROR_SOURCE, "reading %s failed: %s", self->task->url,
                          error->message);
  g_error_free (error);
  return mapped;
}

/* Works out what to fetch for a content of content_length bytes (-1:
 * unknown) given the held record and the pieces already committed: sizes
 * the task (in pieces of forced_piece_length, if not 0) and sets up the
 * board. Returns the task record. */
static DflyTaskInfo *
plan (DflyDownload *self, DflyTaskInfo *held_in, gint64 content_length, gboolean accepts_ranges,
      guint64 forced_piece_length, GError **error)
{
  g_autoptr (DflyTaskInfo) held = held_in;
  g_autoptr (GPtrArray) pieces = NULL;
  guint64  piece_length;
  guint32  missing;
  gboolean ok;

  if ((held->content_length >= 0 && held->content_length != content_length) ||
      (forced_piece_length != 0 && held->piece_length != 0 &&
       held->piece_length != forced_piece_length)) {
    /* The origin's file changed under the task: its pieces are stale. */
    g_info ("task %s: content length changed (%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
            ") or piece length, starting over",
            self->task->id, held->content_length, content_length);
    dfly_storage_release_task (self->storage, self->task->id);
    ok = dfly_storage_delete_task (self->storage, self->task->id, error);
    /* Pinned again whatever happened: the download releases its pin once,
     * when it ends (a failed delete must not drop another holder's). */
    dfly_storage_acquire_task (self->storage, self->task->id);
    if (!ok)
      return NULL;
    g_clear_pointer (&held, dfly_task_info_unref);
    held = dfly_storage_open_task (self->storage, self->task, error);
    if (held == NULL)
      return NULL;
  }

  piece_length = forced_piece_length;
  if (piece_length == 0)
    piece_length = self->task->piece_length;
  if (piece_length == 0)
    piece_length = held->piece_length;
  if (piece_length == 0)
    piece_length = self->config->download.piece_length;
  if (piece_length == 0)
    piece_length = dfly_piece_length_for (content_length);
  held->piece_length = piece_length;
  held->content_length = content_length;
  held->total_pieces = content_length >= 0 ? dfly_piece_count (content_length, piece_length) : 0;
  /* The piece table is held in memory: refuse what no real file needs. */
  if (held->total_pieces > DFLY_PIECE_BOARD_MAX_PIECES) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "%s claims %" G_GINT64_FORMAT " bytes: more than %u pieces", self->task->url,
                 content_length, DFLY_PIECE_BOARD_MAX_PIECES);
    return NULL;
  }
  if (!dfly_piece_board_set_length (self->board, content_length, piece_length)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "%s: its length (%" G_GINT64_FORMAT ") contradicts the swarm's", self->task->url,
                 content_length);
    return NULL;
  }
  held->state = DFLY_TASK_STATE_RUNNING;
  if (!dfly_storage_update_task (self->storage, held, error))
    return NULL;
  /* The content file exists even for 0 bytes. */
  if (!dfly_storage_write (self->storage, self->task->id, 0, "", 0, error))
    return NULL;

  if (content_length != 0 && (content_length < 0 || !accepts_ranges)) {
    if (held->completed_length > 0)
      g_info ("task %s: the origin cannot serve ranges, fetching it whole again", self->task->id);
    dfly_piece_board_set_streaming (self->board);
    self->direct_usable = TRUE;
    return g_steal_pointer (&held);
  }

  pieces = dfly_storage_list_pieces (self->storage, self->task->id, error);
  if (pieces == NULL)
    return NULL;
  dfly_piece_board_hold (self->board, pieces);
  missing = dfly_piece_board_count_missing (self->board);
  if (missing < held->total_pieces)
    g_info ("task %s: resuming, %u of %u pieces held", self->task->id, held->total_pieces - missing,
            held->total_pieces);
  /* Pieces held from before never pass through the workers. */
  self->direct_usable = missing == held->total_pieces;
  return g_steal_pointer (&held);
}

/* Asks the source about the content, then plans. */
static DflyTaskInfo *
prepare_source (DflyDownload *self, DflyTaskInfo *held, GError **error)
{
  g_autoptr (DflySourceStat) stat =
    dfly_source_stat (self->source, self->task->url, self->headers, self->cancellable, error);

  if (stat == NULL) {
    dfly_task_info_unref (held);
    return NULL;
  }
  return plan (self, held, stat->content_length, stat->accepts_ranges, 0, error);
}

static gboolean
is_complete (const DflyTaskInfo *task)
{
  return task->state == DFLY_TASK_STATE_SUCCEEDED && task->content_length >= 0 &&
         task->completed_length == (guint64) task->content_length;
}

/* Works out what to fetch and from where: with a swarm, the scheduler
 * decides; *decision says what it did. A task held whole is made known to
 * the swarm (a seed as its source, any other peer as a parent). */
static DflyTaskInfo *
prepare (DflyDownload *self, DflySwarmDecision *decision, GError **error)
{
  DflyTaskInfo *held = dfly_storage_open_task (self->storage, self->task, error);
  g_autoptr (GPtrArray) pieces = NULL;
  DflyTaskInfo *task;
  gint64        content_length;
  guint64       piece_length;

  *decision = DFLY_SWARM_BACK_TO_SOURCE;
  if (held == NULL)
    return NULL;
  if (is_complete (held)) {
    /* Range readers read it through the board. */
    pieces = dfly_storage_list_pieces (self->storage, held->id, NULL);
    dfly_piece_board_set_length (self->board, held->content_length, held->piece_length);
    dfly_piece_board_hold (self->board, pieces);
    if (self->swarm != NULL && held->content_length > 0)
      dfly_swarm_share_held (self->swarm, held);
    return held;
  }
  if (self->swarm != NULL)
    *decision = dfly_swarm_register (self->swarm);
  switch (*decision) {
  case DFLY_SWARM_CANCELLED:
    dfly_task_info_unref (held);
    g_cancellable_set_error_if_cancelled (self->cancellable, error);
    return NULL;
  case DFLY_SWARM_EMPTY:
    return plan (self, held, 0, TRUE, 0, error);
  case DFLY_SWARM_PARENTS:
    dfly_piece_board_get_length (self->board, &content_length, &piece_length);
    return plan (self, held, content_length, TRUE, piece_length, error);
  case DFLY_SWARM_BACK_TO_SOURCE:
  default:
    dfly_piece_board_set_to_source (self->board, TRUE);
    task = prepare_source (self, held, error);
    /* Said at once, so a seed that cannot fetch it (the origin wants
     * credentials only the requester holds, or source.deny refuses it)
     * sends the requesters to the source without waiting. */
    if (task == NULL && self->swarm != NULL)
      dfly_swarm_finish (self->swarm, *error, -1, 0);
    if (task != NULL && task->state != DFLY_TASK_STATE_SUCCEEDED && self->swarm != NULL)
      dfly_swarm_source_started (self->swarm);
    return task;
  }
}

/* Runs count piece workers and records the outcome in task and storage. */
static gboolean
fetch_pieces (DflyDownload *self, DflyTaskInfo *task, guint count, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (DflyWorkerGroup) workers = dfly_worker_group_new (self->workers);
  guint64 completed, piece_length;
  gint64  length;

  for (guint i = 0; i < count; i++)
    dfly_worker_group_push (workers, worker_thread, self);
  dfly_worker_group_wait (workers);
  dfly_piece_board_get_bytes (self->board, &completed, NULL, NULL);
  if (!dfly_piece_board_get_length (self->board, &length, &piece_length)) {
    /* A stream of unknown length: now known. */
    length = (gint64) completed;
    dfly_piece_board_set_length (self->board, length, piece_length);
  }
  if (self->worker_error != NULL) {
    local = g_steal_pointer (&self->worker_error);
  } else if (!g_cancellable_set_error_if_cancelled (self->cancellable, &local)) {
    task->content_length = length;
    task->total_pieces = dfly_piece_count (length, piece_length);
    task->completed_length = completed;
    task->state = DFLY_TASK_STATE_SUCCEEDED;
    dfly_storage_update_task (self->storage, task, &local);
  }
  if (local != NULL) {
    task->state = DFLY_TASK_STATE_FAILED;
    dfly_storage_update_task (self->storage, task, NULL);
  }
  if (self->swarm != NULL)
    dfly_swarm_finish (self->swarm, local, length,
                       dfly_piece_count (MAX (length, 0), piece_length));
  if (local != NULL) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  DflyDownload *download;
  DflyTaskInfo *task; /* the final record, or NULL */
  GError       *error;
} FinishData;

static void
finish_data_free (FinishData *data)
{
  g_object_unref (data->download);
  g_clear_pointer (&data->task, dfly_task_info_unref);
  g_clear_error (&data->error);
  g_free (data);
}

static gboolean finish_on_main (gpointer user_data);

static gpointer
coordinator_thread (gpointer user_data)
{
  DflyDownload *self = user_data;
  FinishData   *data = g_new0 (FinishData, 1);
  g_autoptr (DflyTaskInfo) task = NULL;
  DflySwarmDecision decision;
  GError           *error = NULL;

  data->download = self; /* the ref taken by start() */
  task = prepare (self, &decision, &error);
  if (task != NULL && task->state != DFLY_TASK_STATE_SUCCEEDED) {
    guint count = MIN (decision == DFLY_SWARM_PARENTS ? self->config->download.parent_concurrency
                                                      : self->config->download.concurrency,
                       dfly_piece_board_count_missing (self->board));

    fetch_pieces (self, task, count, &error);
  }
  if (error != NULL)
    data->error = public_error (self, error);
  else
    data->task = g_steal_pointer (&task);
  dfly_piece_board_finish (self->board, data->error);
  g_mutex_lock (&self->lock);
  self->threads_ended = TRUE;
  g_cond_broadcast (&self->ended_cond);
  g_mutex_unlock (&self->lock);
  dfly_main_call (self->main_context, finish_on_main, data);
  return NULL;
}

gboolean
dfly_download_wait_threads (DflyDownload *self, gint64 deadline)
{
  gboolean ended;

  g_mutex_lock (&self->lock);
  while (!self->threads_ended && self->coordinator != NULL &&
         g_cond_wait_until (&self->ended_cond, &self->lock, deadline))
    ;
  ended = self->threads_ended || self->coordinator == NULL;
  g_mutex_unlock (&self->lock);
  return ended;
}

/* Renames the directly written output into place when it holds every
 * byte; otherwise its request is placed like any other. */
static void
finish_direct (DflyDownload *self)
{
  g_autoptr (DflyDownloadRequest) request = NULL;
  g_autoptr (GError) error = NULL;

  if (self->direct == NULL || self->direct_request == NULL || !self->direct_usable ||
      self->direct_failed)
    return;
  request = dfly_download_request_ref (self->direct_request);
  self->direct_request = NULL;
  if (!dfly_output_temp_commit (self->direct, &error)) {
    fail_request (self, request, error);
    return;
  }
  g_hash_table_remove (self->timeouts, request);
  g_ptr_array_remove (self->requests, request);
  g_info ("task %s: %s is in place", self->task->id, request->output);
  dfly_bus_emit_download_finished (dfly_context_get_bus (self->context), request);
}

static gboolean
finish_on_main (gpointer user_data)
{
  FinishData   *data = user_data;
  DflyDownload *self = data->download;
  DflyBus      *bus = dfly_context_get_bus (self->context);

  self->finished = TRUE;
  g_clear_pointer (&self->coordinator, g_thread_join);
  g_clear_handle_id (&self->progress_id, g_source_remove);
  if (self->swarm != NULL)
    dfly_swarm_close (self->swarm);
  if (data->error != NULL) {
    self->error = g_error_copy (data->error);
    g_info ("task %s failed: %s", self->task->id, self->error->message);
    dfly_bus_emit_task_failed (bus, self->task, self->error);
    while (self->requests->len > 0)
      fail_request (self, g_ptr_array_index (self->requests, 0), self->error);
  } else {
    g_clear_pointer (&self->task, dfly_task_info_unref);
    self->task = dfly_task_info_ref (data->task);
    self->content_ready = TRUE;
    g_info ("task %s finished: %" G_GINT64_FORMAT " bytes in %u pieces", self->task->id,
            self->task->content_length, self->task->total_pieces);
    emit_progress (self);
    dfly_bus_emit_task_finished (bus, self->task);
    finish_direct (self);
    while (self->requests->len > 0)
      place_output (self, g_ptr_array_index (self->requests, 0));
  }
  g_clear_pointer (&self->direct, dfly_output_temp_free);
  maybe_done (self);
  finish_data_free (data);
  return G_SOURCE_REMOVE;
}

void
dfly_download_start (DflyDownload *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (DFLY_IS_DOWNLOAD (self) && self->config == NULL);

  self->config = dfly_context_dup_config (self->context);
  if (!dfly_piece_digest_algo_from_string (self->config->download.piece_digest, &self->algo))
    self->algo = DFLY_PIECE_DIGEST_SHA256;
  /* One request without a digest to check or a link to make: its output
   * can be written as the pieces arrive. */
  if (self->requests->len == 1) {
    DflyDownloadRequest *first = g_ptr_array_index (self->requests, 0);

    if (first->digest == NULL && !first->hardlink) {
      self->direct = dfly_output_temp_new (first->output, &error);
      if (self->direct != NULL) {
        self->direct_request = first;
        self->direct_fd = dfly_output_temp_get_fd (self->direct);
      } else {
        g_info ("task %s: %s", self->task->id, error->message);
        g_clear_error (&error);
      }
    }
  }
  if (self->services != NULL)
    self->swarm = dfly_swarm_new (self->services, self->board, self->context, self->task,
                                  self->headers, self->need_back_to_source, self->cancellable);
  dfly_storage_acquire_task (self->storage, self->task->id);
  dfly_bus_emit_task_registered (dfly_context_get_bus (self->context), self->task);
  self->progress_id = g_timeout_add (PROGRESS_INTERVAL, emit_progress, self);
  /* The coordinator holds a ref until finish_on_main. */
  self->coordinator = g_thread_new ("dfly-download", coordinator_thread, g_object_ref (self));
}
