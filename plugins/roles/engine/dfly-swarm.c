/* dfly-swarm.c — one download's part in the swarm (see the header)
 *
 * Threads: the board (everything under lock) is shared by the piece
 * threads and the main thread; streams and subscriptions are the main
 * thread's alone. Threads hand messages to the main thread with
 * dfly_main_call, each holding a reference, and the main thread
 * drops them once dfly_swarm_close() ran.
 */
#include "config.h"

#include <string.h>

#include "dfly-main-call.h"
#include "dfly-swarm.h"

#define PER_PARENT_INFLIGHT  4          /* pieces fetched from one parent at once */
/* From a seed, fewer: its upload feeds every child, and a child taking
 * more than its share of it becomes the one way to half the content. */
#define PER_SEED_INFLIGHT    2
#define PARENT_MAX_FAILURES  3          /* broken transfers before a parent is dropped */
#define DEFER_US             (500 * 1000) /* a piece a seed deferred: asked again after */
#define WAIT_SLICE_US        (200 * 1000)
#define RESCHEDULE_AFTER_US  (2 * G_USEC_PER_SEC)  /* no progress: ask for parents */
#define SOURCE_AFTER_US      (15 * G_USEC_PER_SEC) /* no progress: go to the source */
#define REGISTER_TIMEOUT_US  (120 * G_USEC_PER_SEC)

enum { PIECE_MISSING, PIECE_INFLIGHT, PIECE_HELD };

typedef struct {
  char                   *peer_id;
  char                   *base_url;
  char                   *task_url;     /* base_url/v1/tasks/<task id> */
  GByteArray             *bitmap;
  guint                   inflight;
  guint                   failures;
  gint64                  cost_us;      /* moving average of a piece's time; 0 unknown */
  gint64                  busy_until;   /* it answered 503: not asked before then */
  gboolean                seed;         /* a seed host: its upload is the scarce one */
  GHashTable             *deferred;     /* piece → monotonic µs: it answered 429 */
  gboolean                dead;         /* link lost or too many failures */
  gboolean                bad;          /* served bytes that did not match */
  DflyParentSubscription *subscription; /* main thread */
} Parent;

struct _DflySwarm {
  DflyPeerServices *services;
  DflyContext      *context;
  GMainContext     *main_context;
  GCancellable     *cancellable;
  char             *task_id;
  char             *peer_id;
  DflyTaskInfo     *task;
  GHashTable       *headers;
  gboolean          need_back_to_source;
  gboolean          holds_content;  /* registers only as a parent */

  /* Main thread only. */
  DflyAnnounceStream *stream;
  gboolean            closed;

  /* The board. */
  GMutex            lock;
  GCond             cond;
  gboolean          decided;
  DflySwarmDecision decision;
  gboolean          back_to_source; /* this peer fetches from the source */
  gboolean          to_source;      /* remaining pieces from the source */
  gboolean          finished;
  gint64            content_length;
  guint64           piece_length;
  guint32           piece_count;
  guint8           *state;          /* PIECE_* per piece */
  char            **digests;        /* expected, per piece */
  char            **held_digests;   /* of held pieces, for reports after failover */
  guint32           held;
  guint32           inflight;
  GPtrArray        *parents;        /* Parent * */
  GHashTable       *refused;        /* parent ids never to use again */
  gint64            progress_at;    /* monotonic time of the last progress */
  gint64            rescheduled_at;
  guint64           from_parents;
  guint64           from_source;
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
dfly_swarm_piece_clear (DflySwarmPiece *piece)
{
  g_clear_pointer (&piece->parent_id, g_free);
  g_clear_pointer (&piece->parent_url, g_free);
  g_clear_pointer (&piece->digest, g_free);
}

/* ---- life ---- */

DflySwarm *
dfly_swarm_new (DflyPeerServices *services, DflyContext *context, const DflyTaskInfo *task,
                GHashTable *headers, gboolean need_back_to_source, GCancellable *cancellable)
{
  DflySwarm *self = g_atomic_rc_box_new0 (DflySwarm);
  g_autofree char *uuid = g_uuid_string_random ();

  self->services = services;
  self->context = g_object_ref (context);
  self->main_context = g_main_context_ref_thread_default ();
  self->cancellable = g_object_ref (cancellable);
  self->task_id = g_strdup (task->id);
  self->peer_id = g_strconcat (services->host_id, "-", uuid, NULL);
  self->task = dfly_task_info_copy (task);
  self->headers = headers != NULL ? g_hash_table_ref (headers) : NULL;
  self->need_back_to_source = need_back_to_source;
  self->content_length = -1;
  self->parents = g_ptr_array_new_with_free_func (parent_free);
  self->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->progress_at = g_get_monotonic_time ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

DflySwarm *
dfly_swarm_ref (DflySwarm *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
swarm_clear (gpointer data)
{
  DflySwarm *self = data;

  g_ptr_array_unref (self->parents);
  g_hash_table_unref (self->refused);
  if (self->digests != NULL)
    for (guint32 n = 0; n < self->piece_count; n++)
      g_free (self->digests[n]);
  if (self->held_digests != NULL)
    for (guint32 n = 0; n < self->piece_count; n++)
      g_free (self->held_digests[n]);
  g_free (self->digests);
  g_free (self->held_digests);
  g_free (self->state);
  g_clear_pointer (&self->headers, g_hash_table_unref);
  dfly_task_info_unref (self->task);
  g_free (self->peer_id);
  g_free (self->task_id);
  g_object_unref (self->cancellable);
  g_main_context_unref (self->main_context);
  g_object_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
}

void
dfly_swarm_unref (DflySwarm *self)
{
  g_atomic_rc_box_release_full (self, swarm_clear);
}

void
dfly_swarm_close (DflySwarm *self)
{
  self->closed = TRUE;
  g_clear_pointer (&self->stream, dfly_announce_stream_free);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    g_clear_pointer (&parent->subscription, dfly_parent_subscription_free);
  }
  g_mutex_unlock (&self->lock);
}

/* ---- the board (call with the lock held) ---- */

/* Sizes the board once the length is known. */
static void
board_set_length (DflySwarm *self, gint64 content_length, guint64 piece_length)
{
  if (self->state != NULL || content_length < 0 || piece_length == 0)
    return;
  self->content_length = content_length;
  self->piece_length = piece_length;
  self->piece_count = dfly_piece_count (content_length, piece_length);
  self->state = g_malloc0 (MAX (self->piece_count, 1));
  self->digests = g_new0 (char *, MAX (self->piece_count, 1));
  self->held_digests = g_new0 (char *, MAX (self->piece_count, 1));
}

static void
board_decide (DflySwarm *self, DflySwarmDecision decision)
{
  if (self->decided)
    return;
  self->decided = TRUE;
  self->decision = decision;
  if (decision == DFLY_SWARM_BACK_TO_SOURCE)
    self->back_to_source = TRUE;
  g_cond_broadcast (&self->cond);
}

static void
board_progress (DflySwarm *self)
{
  self->progress_at = g_get_monotonic_time ();
  g_cond_broadcast (&self->cond);
}

/* Progress that makes at most one piece takeable wakes one waiting thread:
 * waking all of them for each parent's notice cost more CPU than the
 * piece threads' transfers (any thread can take any piece, so if the one
 * woken cannot, none can). */
static void
board_progress_one (DflySwarm *self)
{
  self->progress_at = g_get_monotonic_time ();
  g_cond_signal (&self->cond);
}

static void
board_hold (DflySwarm *self, guint32 number, const char *digest)
{
  if (number >= self->piece_count || self->state[number] == PIECE_HELD)
    return;
  self->state[number] = PIECE_HELD;
  self->held++;
  g_free (self->held_digests[number]);
  self->held_digests[number] = g_strdup (digest);
}

static Parent *
board_find_parent (DflySwarm *self, const char *peer_id)
{
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->peer_id, peer_id) == 0)
      return parent;
  }
  return NULL;
}

/* ---- reports to the scheduler ---- */

typedef struct {
  DflySwarm *swarm;
  GBytes    *frame;
  GPtrArray *failed_parents; /* for a reschedule: NULL */
} SendData;

static gboolean
send_on_main (gpointer user_data)
{
  SendData *data = user_data;

  if (!data->swarm->closed && data->swarm->stream != NULL)
    dfly_announce_stream_send (data->swarm->stream, data->frame);
  g_bytes_unref (data->frame);
  dfly_swarm_unref (data->swarm);
  g_free (data);
  return G_SOURCE_REMOVE;
}

/* Fills the ids and sends request from any thread. */
static void
send_request (DflySwarm *self, Dfly__V1__AnnouncePeerRequest *request)
{
  SendData *data = g_new0 (SendData, 1);

  request->host_id = self->services->host_id;
  request->task_id = self->task_id;
  request->peer_id = self->peer_id;
  data->swarm = dfly_swarm_ref (self);
  data->frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request->base);
  dfly_main_call (self->main_context, send_on_main, data);
}

static void
fill_piece (Dfly__V1__Piece *piece, const DflyPieceInfo *info)
{
  piece->number = info->number;
  piece->parent_id = info->parent_id != NULL ? info->parent_id : "";
  piece->offset = info->offset;
  piece->length = info->length;
  piece->digest = info->digest != NULL ? info->digest : "";
  piece->cost_us = info->cost_us;
}

static void
report_piece (DflySwarm *self, const DflyPieceInfo *info, gboolean from_source)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceFinishedRequest finished = DFLY__V1__DOWNLOAD_PIECE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPieceBackToSourceFinishedRequest source_finished =
    DFLY__V1__DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__Piece piece = DFLY__V1__PIECE__INIT;

  fill_piece (&piece, info);
  if (from_source) {
    source_finished.piece = &piece;
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED;
    request.download_piece_back_to_source_finished = &source_finished;
  } else {
    finished.piece = &piece;
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FINISHED;
    request.download_piece_finished = &finished;
  }
  send_request (self, &request);
}

static void
send_register (DflySwarm *self)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest register_peer = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download download = DFLY__V1__DOWNLOAD__INIT;
  g_autofree Dfly__V1__Download__RequestHeadersEntry *entries = NULL;
  g_autofree Dfly__V1__Download__RequestHeadersEntry **entry_pointers = NULL;
  guint n = 0;

  download.url = self->task->url;
  download.digest = self->task->digest != NULL ? self->task->digest : "";
  download.tag = self->task->tag != NULL ? self->task->tag : "";
  download.application = self->task->application != NULL ? self->task->application : "";
  download.piece_length = self->task->piece_length;
  download.need_back_to_source = self->need_back_to_source || self->back_to_source;
  register_peer.holds_content = self->holds_content;
  if (self->headers != NULL) {
    GHashTableIter iter;
    gpointer name, value;

    entries = g_new0 (Dfly__V1__Download__RequestHeadersEntry, g_hash_table_size (self->headers));
    entry_pointers = g_new0 (Dfly__V1__Download__RequestHeadersEntry *,
                             g_hash_table_size (self->headers));
    g_hash_table_iter_init (&iter, self->headers);
    while (g_hash_table_iter_next (&iter, &name, &value)) {
      dfly__v1__download__request_headers_entry__init (&entries[n]);
      entries[n].key = name;
      entries[n].value = value;
      entry_pointers[n] = &entries[n];
      n++;
    }
  }
  download.n_request_headers = n;
  download.request_headers = entry_pointers;
  register_peer.download = &download;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
  request.register_peer = &register_peer;
  send_request (self, &request);
}

static void
send_source_started (DflySwarm *self)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceStartedRequest started =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED_REQUEST__INIT;

  started.content_length = self->content_length;
  started.piece_length = self->piece_length;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED;
  request.download_peer_back_to_source_started = &started;
  send_request (self, &request);
}

static void
send_started (DflySwarm *self)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerStartedRequest started = DFLY__V1__DOWNLOAD_PEER_STARTED_REQUEST__INIT;

  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_STARTED;
  request.download_peer_started = &started;
  send_request (self, &request);
}

/* Reports every held piece again (to a new scheduler); lock held. */
static void
replay_held (DflySwarm *self)
{
  for (guint32 n = 0; n < self->piece_count; n++) {
    g_autoptr (DflyPieceInfo) info = NULL;

    if (self->state[n] != PIECE_HELD)
      continue;
    info = dfly_piece_info_new (self->task_id, n);
    info->offset = (guint64) n * self->piece_length;
    info->length = MIN (self->piece_length, (guint64) self->content_length - info->offset);
    info->digest = g_strdup (self->held_digests[n]);
    report_piece (self, info, self->back_to_source);
  }
}

static void
send_reschedule (DflySwarm *self)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__ReschedulePeerRequest reschedule = DFLY__V1__RESCHEDULE_PEER_REQUEST__INIT;
  g_autoptr (GPtrArray) failed = g_ptr_array_new ();

  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (parent->dead || parent->bad)
      g_ptr_array_add (failed, parent->peer_id);
  }
  reschedule.n_failed_parent_ids = failed->len;
  reschedule.failed_parent_ids = (char **) failed->pdata;
  reschedule.description = "no parent has the missing pieces";
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_RESCHEDULE_PEER;
  request.reschedule_peer = &reschedule;
  send_request (self, &request);
}

/* ---- what the scheduler and parents say (main thread) ---- */

static void on_response (const Dfly__V1__AnnouncePeerResponse *response, gpointer user_data);
static void on_stream_lost (gpointer user_data);

/* Opens the announce stream on the task's scheduler (the next one after a
 * failure); FALSE when no scheduler is reachable. */
static gboolean
open_stream (DflySwarm *self)
{
  if (self->services->client == NULL)
    return FALSE;
  self->stream = dfly_scheduler_client_open (self->services->client, self->task_id,
                                             self->peer_id, on_response, on_stream_lost, self);
  if (self->stream == NULL)
    return FALSE;
  g_info ("task %s: announcing to scheduler %s", self->task_id,
          dfly_announce_stream_get_address (self->stream));
  return TRUE;
}

static void
on_stream_lost (gpointer user_data)
{
  DflySwarm *self = user_data;

  g_clear_pointer (&self->stream, dfly_announce_stream_free);
  if (self->closed)
    return;
  if (!open_stream (self)) {
    g_mutex_lock (&self->lock);
    g_info ("task %s: no scheduler is reachable, going to the source", self->task_id);
    board_decide (self, DFLY_SWARM_BACK_TO_SOURCE);
    self->to_source = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    return;
  }
  /* The new scheduler learns this peer from scratch: register, then what
   * it holds. */
  send_register (self);
  g_mutex_lock (&self->lock);
  if (self->decided && self->state != NULL) {
    if (self->back_to_source)
      send_source_started (self);
    else
      send_started (self);
    replay_held (self);
  }
  g_mutex_unlock (&self->lock);
}

static void
on_parent_piece (const char *base_url, const Dfly__V1__Piece *piece, gpointer user_data)
{
  DflySwarm *self = user_data;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->base_url, base_url) == 0 && piece->number < self->piece_count &&
        !dfly_wire_bitmap_get (parent->bitmap, piece->number)) {
      dfly_wire_bitmap_set (parent->bitmap, piece->number);
      if (self->state[piece->number] == PIECE_MISSING)
        board_progress_one (self);
      else
        self->progress_at = g_get_monotonic_time ();
    }
  }
  g_mutex_unlock (&self->lock);
}

static void
on_parent_lost (const char *base_url, gpointer user_data)
{
  DflySwarm *self = user_data;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->parents->len; i++) {
    Parent *parent = g_ptr_array_index (self->parents, i);

    if (strcmp (parent->base_url, base_url) != 0)
      continue;
    g_info ("task %s: parent %s is gone", self->task_id, parent->peer_id);
    g_clear_pointer (&parent->subscription, dfly_parent_subscription_free);
    parent->dead = TRUE;
  }
  /* Rescheduling soon: the stall timer starts now. */
  self->rescheduled_at = 0;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
add_parents (DflySwarm *self, const Dfly__V1__NormalTaskResponse *normal)
{
  for (gsize i = 0; i < normal->n_candidate_parents; i++) {
    const Dfly__V1__CandidateParent *candidate = normal->candidate_parents[i];
    const Dfly__V1__Host *host = candidate->host;
    Parent *parent;

    if (candidate->peer_id == NULL || host == NULL || host->ip == NULL ||
        !g_hostname_is_ip_address (host->ip) || strchr (host->ip, '%') != NULL ||
        host->port == 0 || host->port > G_MAXUINT16 ||
        g_hash_table_contains (self->refused, candidate->peer_id))
      continue;
    parent = board_find_parent (self, candidate->peer_id);
    if (parent != NULL && !parent->dead)
      continue;
    if (parent == NULL) {
      parent = g_new0 (Parent, 1);
      parent->peer_id = g_strdup (candidate->peer_id);
      parent->bitmap = g_byte_array_new ();
      parent->deferred = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      g_ptr_array_add (self->parents, parent);
    }
    g_free (parent->base_url);
    g_free (parent->task_url);
    parent->base_url = dfly_wire_base_url (host->ip, host->port);
    parent->task_url = g_strconcat (parent->base_url, "/v1/tasks/", self->task_id, NULL);
    parent->dead = FALSE;
    parent->failures = 0;
    parent->seed = host->type != DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL;
    g_byte_array_set_size (parent->bitmap, 0);
    g_byte_array_append (parent->bitmap, candidate->piece_bitmap.data,
                         MIN (candidate->piece_bitmap.len, (self->piece_count + 7) / 8));
    g_info ("task %s: parent %s at %s", self->task_id, parent->peer_id, parent->base_url);
    if (!self->closed && parent->subscription == NULL)
      parent->subscription = dfly_parent_links_subscribe (self->services->links,
                                                          parent->base_url, self->task_id,
                                                          on_parent_piece, on_parent_lost, self);
  }
}

static void
on_response (const Dfly__V1__AnnouncePeerResponse *response, gpointer user_data)
{
  DflySwarm *self = user_data;

  g_mutex_lock (&self->lock);
  switch (response->response_case) {
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_EMPTY_TASK:
    board_set_length (self, 0, MAX (self->task->piece_length, 1));
    board_decide (self, DFLY_SWARM_EMPTY);
    break;
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE:
    g_info ("task %s: the scheduler sends this peer to the source: %s", self->task_id,
            response->need_back_to_source->description);
    if (self->decided && self->decision == DFLY_SWARM_PARENTS)
      self->to_source = TRUE;
    board_decide (self, DFLY_SWARM_BACK_TO_SOURCE);
    g_cond_broadcast (&self->cond);
    break;
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK: {
    const Dfly__V1__NormalTaskResponse *normal = response->normal_task;

    if (normal->content_length > G_MAXINT64 ||
        (self->state != NULL && (gint64) normal->content_length != self->content_length)) {
      g_message ("task %s: the scheduler's content length %" G_GUINT64_FORMAT
                 " contradicts what is known; ignored", self->task_id, normal->content_length);
      break;
    }
    board_set_length (self, (gint64) normal->content_length, normal->piece_length);
    if (self->state == NULL)
      break; /* a length of nothing: malformed */
    for (gsize i = 0; i < normal->n_piece_digests; i++) {
      const Dfly__V1__PieceDigest *digest = normal->piece_digests[i];

      if (digest->number < self->piece_count && self->digests[digest->number] == NULL &&
          digest->digest != NULL && strchr (digest->digest, ':') != NULL)
        self->digests[digest->number] = g_strdup (digest->digest);
    }
    add_parents (self, normal);
    if (!self->decided)
      send_started (self);
    board_decide (self, DFLY_SWARM_PARENTS);
    board_progress (self);
    break;
  }
  default:
    g_info ("task %s: an empty answer from the scheduler", self->task_id);
    break;
  }
  g_mutex_unlock (&self->lock);
}

/* ---- the coordinator ---- */

static gboolean
register_on_main (gpointer user_data)
{
  DflySwarm *self = user_data;

  if (!self->closed) {
    if (open_stream (self)) {
      send_register (self);
    } else {
      g_mutex_lock (&self->lock);
      board_decide (self, DFLY_SWARM_BACK_TO_SOURCE);
      g_mutex_unlock (&self->lock);
    }
  }
  dfly_swarm_unref (self);
  return G_SOURCE_REMOVE;
}

DflySwarmDecision
dfly_swarm_register (DflySwarm *self, gint64 *content_length, guint64 *piece_length)
{
  gint64 deadline = g_get_monotonic_time () + REGISTER_TIMEOUT_US;
  DflySwarmDecision decision;

  dfly_main_call (self->main_context, register_on_main, dfly_swarm_ref (self));
  g_mutex_lock (&self->lock);
  while (!self->decided && !g_cancellable_is_cancelled (self->cancellable)) {
    gint64 now = g_get_monotonic_time ();

    if (now >= deadline) {
      g_info ("task %s: the scheduler did not answer, going to the source", self->task_id);
      board_decide (self, DFLY_SWARM_BACK_TO_SOURCE);
      break;
    }
    g_cond_wait_until (&self->cond, &self->lock, MIN (deadline, now + WAIT_SLICE_US));
  }
  decision = g_cancellable_is_cancelled (self->cancellable) ? DFLY_SWARM_CANCELLED
                                                           : self->decision;
  *content_length = self->content_length;
  *piece_length = self->piece_length;
  g_mutex_unlock (&self->lock);
  return decision;
}

static void
hold_pieces (DflySwarm *self, GPtrArray *held)
{
  for (guint i = 0; held != NULL && i < held->len; i++) {
    const DflyPieceInfo *piece = g_ptr_array_index (held, i);

    if (piece->length == MIN (self->piece_length,
                              (guint64) self->content_length - piece->offset))
      board_hold (self, piece->number, piece->digest);
  }
}

void
dfly_swarm_share_held (DflySwarm *self, const DflyTaskInfo *task, GPtrArray *held)
{
  gboolean seed = self->need_back_to_source || self->services->seed;

  g_mutex_lock (&self->lock);
  board_set_length (self, task->content_length, task->piece_length);
  /* A seed is the task's source; anyone else is only a parent. */
  self->back_to_source = seed;
  self->holds_content = !seed;
  board_decide (self, seed ? DFLY_SWARM_BACK_TO_SOURCE : DFLY_SWARM_PARENTS);
  hold_pieces (self, held);
  g_mutex_unlock (&self->lock);
  dfly_main_call (self->main_context, register_on_main, dfly_swarm_ref (self));
  g_mutex_lock (&self->lock);
  if (seed)
    send_source_started (self);
  replay_held (self);
  g_mutex_unlock (&self->lock);
  dfly_swarm_finish (self, NULL, task->content_length, task->total_pieces);
}

void
dfly_swarm_source_started (DflySwarm *self, gint64 content_length, guint64 piece_length,
                           GPtrArray *held)
{
  g_mutex_lock (&self->lock);
  self->back_to_source = TRUE;
  board_set_length (self, content_length, piece_length);
  hold_pieces (self, held);
  if (self->state == NULL) {
    /* A streamed origin: no piece count to report pieces against. */
    self->content_length = -1;
    self->piece_length = piece_length;
  }
  send_source_started (self);
  if (self->state != NULL)
    replay_held (self);
  g_mutex_unlock (&self->lock);
}

void
dfly_swarm_set_held (DflySwarm *self, GPtrArray *held)
{
  g_mutex_lock (&self->lock);
  hold_pieces (self, held);
  g_mutex_unlock (&self->lock);
}

/* ---- the piece threads ---- */

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
 * known, and the parent expected to deliver it soonest; lock held. */
static gboolean
pick (DflySwarm *self, guint32 *number, Parent **chosen, gint64 now)
{
  guint32 start = self->piece_count > 0 ? g_random_int_range (0, self->piece_count) : 0;
  guint best_holders = G_MAXUINT;

  *chosen = NULL;
  for (guint32 k = 0; k < self->piece_count; k++) {
    guint32 n = (start + k) % self->piece_count;
    guint holders = 0;
    Parent *least = NULL;

    if (self->state[n] != PIECE_MISSING || self->digests[n] == NULL)
      continue;
    for (guint i = 0; i < self->parents->len; i++) {
      Parent *parent = g_ptr_array_index (self->parents, i);

      if (parent->dead || parent->bad || !dfly_wire_bitmap_get (parent->bitmap, n))
        continue;
      holders++;
      if (parent->inflight < (parent->seed ? PER_SEED_INFLIGHT : PER_PARENT_INFLIGHT) &&
          parent->busy_until <= now &&
          !is_deferred (parent, n, now) &&
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

DflySwarmNext
dfly_swarm_next (DflySwarm *self, DflySwarmPiece *piece)
{
  DflySwarmNext next = DFLY_SWARM_NEXT_STOP;

  g_mutex_lock (&self->lock);
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    Parent *parent = NULL;
    guint32 number = 0;

    if (g_cancellable_is_cancelled (self->cancellable))
      break;
    if (self->held >= self->piece_count) {
      next = DFLY_SWARM_NEXT_DONE;
      break;
    }
    if (self->to_source) {
      for (number = 0; number < self->piece_count; number++)
        if (self->state[number] == PIECE_MISSING)
          break;
      if (number < self->piece_count) {
        self->state[number] = PIECE_INFLIGHT;
        self->inflight++;
        piece->number = number;
        next = DFLY_SWARM_NEXT_SOURCE;
        break;
      }
    } else if (pick (self, &number, &parent, now)) {
      self->state[number] = PIECE_INFLIGHT;
      self->inflight++;
      parent->inflight++;
      piece->number = number;
      piece->parent_id = g_strdup (parent->peer_id);
      piece->parent_url = g_strdup (parent->task_url);
      piece->digest = g_strdup (self->digests[number]);
      piece->started = now;
      next = DFLY_SWARM_NEXT_PARENT;
      break;
    } else if (self->inflight == 0 && now - self->progress_at > SOURCE_AFTER_US) {
      g_info ("task %s: no parent made progress for %d s, going to the source for the rest",
              self->task_id, (int) (SOURCE_AFTER_US / G_USEC_PER_SEC));
      self->to_source = TRUE;
      continue;
    } else if (self->inflight == 0 && now - self->progress_at > RESCHEDULE_AFTER_US &&
               now - self->rescheduled_at > RESCHEDULE_AFTER_US) {
      self->rescheduled_at = now;
      send_reschedule (self);
    }
    g_cond_wait_until (&self->cond, &self->lock, now + WAIT_SLICE_US);
  }
  g_mutex_unlock (&self->lock);
  return next;
}

static void
report_failure (DflySwarm *self, const DflySwarmPiece *piece, gboolean mismatch,
                gboolean temporary)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceFailedRequest failed = DFLY__V1__DOWNLOAD_PIECE_FAILED_REQUEST__INIT;

  failed.piece_number = piece->number;
  failed.parent_id = piece->parent_id;
  failed.temporary = temporary;
  failed.digest_mismatch = mismatch;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED;
  request.download_piece_failed = &failed;
  send_request (self, &request);
}

void
dfly_swarm_piece_done (DflySwarm *self, const DflySwarmPiece *piece, const GError *error)
{
  Parent *parent;

  g_mutex_lock (&self->lock);
  parent = piece->parent_id != NULL ? board_find_parent (self, piece->parent_id) : NULL;
  self->inflight--;
  if (parent != NULL)
    parent->inflight--;
  if (error == NULL) {
    if (parent != NULL) {
      gint64 cost = g_get_monotonic_time () - piece->started;

      parent->cost_us = parent->cost_us == 0 ? cost : (3 * parent->cost_us + cost) / 4;
    }
    /* The calling thread asks for its next piece itself, so one more is
     * woken for what this may have freed; all only to see that all is held. */
    if (self->held >= self->piece_count)
      board_progress (self);
    else
      board_progress_one (self);
  } else {
    if (self->state[piece->number] == PIECE_INFLIGHT)
      self->state[piece->number] = PIECE_MISSING;
    if (parent != NULL && g_error_matches (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH)) {
      g_message ("task %s: parent %s served piece %u with a wrong digest; not using it again",
                 self->task_id, parent->peer_id, piece->number);
      parent->bad = TRUE;
      g_hash_table_add (self->refused, g_strdup (parent->peer_id));
      report_failure (self, piece, TRUE, FALSE);
      send_reschedule (self);
    } else if (parent != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      /* The seed sent this piece to another child: ask for it elsewhere. */
      gint64 until = g_get_monotonic_time () + DEFER_US;

      g_hash_table_replace (parent->deferred, GUINT_TO_POINTER (piece->number),
                            g_memdup2 (&until, sizeof until));
    } else if (parent != NULL && g_error_matches (error, DFLY_ERROR, DFLY_ERROR_BUSY)) {
      /* Every upload slot of it is taken: not a failure, ask others first. */
      parent->busy_until = g_get_monotonic_time () + G_USEC_PER_SEC;
    } else if (parent != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_info ("task %s: piece %u from %s failed: %s", self->task_id, piece->number,
              parent->peer_id, error->message);
      if (++parent->failures >= PARENT_MAX_FAILURES)
        parent->dead = TRUE;
      report_failure (self, piece, FALSE, !parent->dead);
    }
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

typedef struct {
  DflyContext   *context;
  DflyPieceInfo *piece;
} PieceData;

static gboolean
emit_piece_on_main (gpointer user_data)
{
  PieceData *data = user_data;

  dfly_bus_emit_piece_finished (dfly_context_get_bus (data->context), data->piece);
  dfly_piece_info_unref (data->piece);
  g_object_unref (data->context);
  g_free (data);
  return G_SOURCE_REMOVE;
}

void
dfly_swarm_piece_committed (DflySwarm *self, const DflyPieceInfo *piece, gboolean from_source)
{
  PieceData *data = g_new0 (PieceData, 1);

  g_mutex_lock (&self->lock);
  /* A streamed origin has no board: its pieces are only reported. */
  board_hold (self, piece->number, piece->digest);
  if (from_source)
    self->from_source += piece->length;
  else
    self->from_parents += piece->length;
  report_piece (self, piece, from_source);
  g_mutex_unlock (&self->lock);
  /* The upload server tells this host's children. */
  data->context = g_object_ref (self->context);
  data->piece = dfly_piece_info_ref ((DflyPieceInfo *) piece);
  dfly_main_call (self->main_context, emit_piece_on_main, data);
}

void
dfly_swarm_finish (DflySwarm *self, const GError *error, gint64 content_length,
                   guint32 piece_count)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerFinishedRequest finished = DFLY__V1__DOWNLOAD_PEER_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFinishedRequest source_finished =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPeerFailedRequest failed = DFLY__V1__DOWNLOAD_PEER_FAILED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFailedRequest source_failed =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED_REQUEST__INIT;
  gboolean from_source;

  g_mutex_lock (&self->lock);
  self->finished = TRUE;
  from_source = self->back_to_source;
  g_mutex_unlock (&self->lock);
  if (error == NULL && from_source) {
    source_finished.content_length = (guint64) MAX (content_length, 0);
    source_finished.piece_count = piece_count;
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED;
    request.download_peer_back_to_source_finished = &source_finished;
  } else if (error == NULL) {
    finished.content_length = (guint64) MAX (content_length, 0);
    finished.piece_count = piece_count;
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FINISHED;
    request.download_peer_finished = &finished;
  } else if (from_source) {
    source_failed.description = error->message;
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED;
    request.download_peer_back_to_source_failed = &source_failed;
  } else {
    failed.description = error->message;
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FAILED;
    request.download_peer_failed = &failed;
  }
  send_request (self, &request);
}

void
dfly_swarm_get_bytes (DflySwarm *self, guint64 *from_parents, guint64 *from_source)
{
  g_mutex_lock (&self->lock);
  *from_parents = self->from_parents;
  *from_source = self->from_source;
  g_mutex_unlock (&self->lock);
}
