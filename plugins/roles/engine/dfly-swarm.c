/* dfly-swarm.c — one download's part in the swarm (see the header)
 *
 * Threads: the streams, the subscriptions and the decision's sources are
 * the main thread's; the coordinator waits for the decision under the
 * swarm's lock. The pieces are the board's. Threads hand messages to the
 * main thread with dfly_main_call, each holding a reference, and the main
 * thread drops them once dfly_swarm_close() ran.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly-http-client.h>

#include "dfly-main-call.h"
#include "dfly-swarm.h"

#define WAIT_SLICE_US       (200 * 1000)
#define REGISTER_TIMEOUT_US (120 * G_USEC_PER_SEC)
/* Piece lengths a scheduler may pass on: download.min_piece_length's
 * lowest to download.piece_length's highest (the board caps the count). */
#define MIN_PIECE_LENGTH (G_GUINT64_CONSTANT (4) << 10)
#define MAX_PIECE_LENGTH (G_GUINT64_CONSTANT (1) << 30)

struct _DflySwarm {
  DflyPeerServices *services;
  DflyPieceBoard   *board;
  DflyContext      *context;
  GMainContext     *main_context;
  GCancellable     *cancellable;
  char             *task_id;
  char             *peer_id;
  DflyTaskInfo     *task;
  GHashTable       *headers;
  gboolean          need_back_to_source;
  gboolean          holds_content; /* registers only as a parent */

  /* Main thread only. */
  DflyAnnounceStream *stream;
  GHashTable         *subscriptions; /* parent base URL → DflyParentSubscription */
  gboolean            closed;
  gboolean            weak_reference_logged;

  /* The scheduler's answer, which the coordinator waits for. */
  GMutex            lock;
  GCond             cond;
  gboolean          decided;
  DflySwarmDecision decision;
  gboolean          back_to_source; /* this peer fetches from the source */
};

/* ---- the services ---- */

DflyPeerServices *
dfly_peer_services_new (void)
{
  return g_atomic_rc_box_new0 (DflyPeerServices);
}

DflyPeerServices *
dfly_peer_services_ref (DflyPeerServices *services)
{
  return g_atomic_rc_box_acquire (services);
}

static void
peer_services_clear (gpointer data)
{
  DflyPeerServices *services = data;

  g_clear_pointer (&services->client, dfly_scheduler_client_free);
  g_clear_pointer (&services->links, dfly_parent_links_free);
  g_clear_pointer (&services->fetcher, dfly_piece_fetcher_unref);
  g_clear_pointer (&services->download_limiter, dfly_rate_limiter_free);
  g_clear_pointer (&services->host_id, g_free);
}

void
dfly_peer_services_unref (DflyPeerServices *services)
{
  g_atomic_rc_box_release_full (services, peer_services_clear);
}

/* ---- life ---- */

static void board_reschedule (gpointer data, GPtrArray *failed_parent_ids);
static void board_piece_failed (gpointer data, guint32 number, const char *parent_id,
                                gboolean digest_mismatch, gboolean temporary);

static const DflyPieceBoardReports board_reports = { board_reschedule, board_piece_failed };

DflySwarm *
dfly_swarm_new (DflyPeerServices *services, DflyPieceBoard *board, DflyContext *context,
                const DflyTaskInfo *task, GHashTable *headers, gboolean need_back_to_source,
                GCancellable *cancellable)
{
  DflySwarm       *self = g_atomic_rc_box_new0 (DflySwarm);
  g_autofree char *uuid = g_uuid_string_random ();

  self->services = dfly_peer_services_ref (services);
  self->board = dfly_piece_board_ref (board);
  self->context = g_object_ref (context);
  self->main_context = g_main_context_ref_thread_default ();
  self->cancellable = g_object_ref (cancellable);
  self->task_id = g_strdup (task->id);
  self->peer_id = g_strconcat (services->host_id, "-", uuid, NULL);
  self->task = dfly_task_info_copy (task);
  self->headers = headers != NULL ? g_hash_table_ref (headers) : NULL;
  self->need_back_to_source = need_back_to_source;
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) dfly_parent_subscription_free);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  /* The board reports through this swarm until dfly_swarm_close(). */
  dfly_piece_board_set_reports (board, &board_reports, self);
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

  g_hash_table_unref (self->subscriptions);
  g_clear_pointer (&self->headers, g_hash_table_unref);
  dfly_task_info_unref (self->task);
  g_free (self->peer_id);
  g_free (self->task_id);
  g_object_unref (self->cancellable);
  g_main_context_unref (self->main_context);
  g_object_unref (self->context);
  dfly_piece_board_unref (self->board);
  dfly_peer_services_unref (self->services);
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
  dfly_piece_board_set_reports (self->board, NULL, NULL);
  g_clear_pointer (&self->stream, dfly_announce_stream_free);
  g_hash_table_remove_all (self->subscriptions);
}

/* Lock held. */
static void
decide (DflySwarm *self, DflySwarmDecision decision)
{
  if (self->decided)
    return;
  self->decided = TRUE;
  self->decision = decision;
  if (decision == DFLY_SWARM_BACK_TO_SOURCE)
    self->back_to_source = TRUE;
  g_cond_broadcast (&self->cond);
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
  Dfly__V1__AnnouncePeerRequest          request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
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
  Dfly__V1__Download            download = DFLY__V1__DOWNLOAD__INIT;
  g_autofree Dfly__V1__Download__RequestHeadersEntry  *entries = NULL;
  g_autofree Dfly__V1__Download__RequestHeadersEntry **entry_pointers = NULL;
  guint                                                n = 0;

  download.url = self->task->url;
  download.digest = self->task->digest != NULL ? self->task->digest : "";
  download.tag = self->task->tag != NULL ? self->task->tag : "";
  download.application = self->task->application != NULL ? self->task->application : "";
  download.piece_length = self->task->piece_length;
  download.need_back_to_source = self->need_back_to_source || self->back_to_source;
  register_peer.holds_content = self->holds_content;
  if (self->headers != NULL) {
    GHashTableIter iter;
    gpointer       name, value;

    entries = g_new0 (Dfly__V1__Download__RequestHeadersEntry, g_hash_table_size (self->headers));
    entry_pointers =
      g_new0 (Dfly__V1__Download__RequestHeadersEntry *, g_hash_table_size (self->headers));
    g_hash_table_iter_init (&iter, self->headers);
    while (g_hash_table_iter_next (&iter, &name, &value)) {
      /* Credentials stay here: this host fetches with them itself, and a
       * seed without them fails, which sends this download to the source. */
      if (dfly_http_is_credential_header (name))
        continue;
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
  Dfly__V1__AnnouncePeerRequest                    request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceStartedRequest started =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED_REQUEST__INIT;
  gint64  content_length;
  guint64 piece_length;

  /* A streamed origin's length is -1 until its end. */
  dfly_piece_board_get_length (self->board, &content_length, &piece_length);
  started.content_length = content_length;
  started.piece_length = piece_length;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED;
  request.download_peer_back_to_source_started = &started;
  send_request (self, &request);
}

static void
send_started (DflySwarm *self)
{
  Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerStartedRequest started = DFLY__V1__DOWNLOAD_PEER_STARTED_REQUEST__INIT;

  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_STARTED;
  request.download_peer_started = &started;
  send_request (self, &request);
}

/* Reports every held piece again (to a new scheduler). */
static void
replay_held (DflySwarm *self, gboolean from_source)
{
  g_autoptr (GPtrArray) held = dfly_piece_board_dup_held (self->board);

  for (guint i = 0; i < held->len; i++)
    report_piece (self, g_ptr_array_index (held, i), from_source);
}

/* The board's reports (a piece worker, the board's lock held). */
static void
board_reschedule (gpointer data, GPtrArray *failed_parent_ids)
{
  DflySwarm                      *self = data;
  Dfly__V1__AnnouncePeerRequest   request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__ReschedulePeerRequest reschedule = DFLY__V1__RESCHEDULE_PEER_REQUEST__INIT;

  reschedule.n_failed_parent_ids = failed_parent_ids->len;
  reschedule.failed_parent_ids = (char **) failed_parent_ids->pdata;
  reschedule.description = "no parent has the missing pieces";
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_RESCHEDULE_PEER;
  request.reschedule_peer = &reschedule;
  send_request (self, &request);
}

static void
board_piece_failed (gpointer data, guint32 number, const char *parent_id, gboolean mismatch,
                    gboolean temporary)
{
  DflySwarm                           *self = data;
  Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceFailedRequest failed = DFLY__V1__DOWNLOAD_PIECE_FAILED_REQUEST__INIT;

  failed.piece_number = number;
  failed.parent_id = (char *) parent_id;
  failed.temporary = temporary;
  failed.digest_mismatch = mismatch;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED;
  request.download_piece_failed = &failed;
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
  self->stream = dfly_scheduler_client_open (self->services->client, self->task_id, self->peer_id,
                                             on_response, on_stream_lost, self);
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
    g_info ("task %s: no scheduler is reachable, going to the source", self->task_id);
    g_mutex_lock (&self->lock);
    decide (self, DFLY_SWARM_BACK_TO_SOURCE);
    g_mutex_unlock (&self->lock);
    dfly_piece_board_set_to_source (self->board, TRUE);
    return;
  }
  /* The new scheduler learns this peer from scratch: register, then what
   * it holds. */
  send_register (self);
  g_mutex_lock (&self->lock);
  if (self->decided) {
    if (self->back_to_source)
      send_source_started (self);
    else
      send_started (self);
    replay_held (self, self->back_to_source);
  }
  g_mutex_unlock (&self->lock);
}

static void
on_parent_piece (const char *base_url, const Dfly__V1__Piece *piece, gpointer user_data)
{
  DflySwarm *self = user_data;

  dfly_piece_board_parent_has (self->board, base_url, piece->number);
}

static void
on_parent_lost (const char *base_url, gpointer user_data)
{
  DflySwarm *self = user_data;

  dfly_piece_board_parent_lost (self->board, base_url);
  g_hash_table_remove (self->subscriptions, base_url);
}

static void
add_parents (DflySwarm *self, const Dfly__V1__NormalTaskResponse *normal)
{
  for (gsize i = 0; i < normal->n_candidate_parents; i++) {
    const Dfly__V1__CandidateParent *candidate = normal->candidate_parents[i];
    const Dfly__V1__Host            *host = candidate->host;
    g_autofree char                 *base_url = NULL;

    if (candidate->peer_id == NULL || host == NULL || host->ip == NULL ||
        !g_hostname_is_ip_address (host->ip) || strchr (host->ip, '%') != NULL || host->port == 0 ||
        host->port > G_MAXUINT16)
      continue;
    base_url =
      dfly_wire_base_url (host->ip, host->port, dfly_context_get_tls (self->context) != NULL);
    if (!dfly_piece_board_add_parent (self->board, candidate->peer_id, base_url,
                                      host->type != DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL,
                                      candidate->piece_bitmap.data, candidate->piece_bitmap.len))
      continue;
    g_info ("task %s: parent %s at %s", self->task_id, candidate->peer_id, base_url);
    if (!self->closed && !g_hash_table_contains (self->subscriptions, base_url))
      g_hash_table_insert (self->subscriptions, g_strdup (base_url),
                           dfly_parent_links_subscribe (self->services->links, base_url,
                                                        self->task_id, on_parent_piece,
                                                        on_parent_lost, self));
  }
}

/* A digest the back-to-source peer reported, which parents' bytes are checked
 * against. One this download cannot check with (unknown, or forgeable when
 * download.piece_digest is cryptographic: a peer configured for crc32c went
 * to the source) is not used: that piece comes from the source instead. */
static void
set_reference_digest (DflySwarm *self, guint32 number, const char *digest)
{
  g_autoptr (DflyConfig) config = dfly_context_dup_config (self->context);
  DflyPieceDigestAlgo configured = DFLY_PIECE_DIGEST_SHA256;

  dfly_piece_digest_algo_from_string (config->download.piece_digest, &configured);
  if (dfly_piece_digest_may_check (configured, digest)) {
    dfly_piece_board_set_digest (self->board, number, digest);
    return;
  }
  if (!self->weak_reference_logged)
    g_message ("task %s: the back-to-source peer's piece digests (%.16s...) cannot be checked "
               "under download.piece_digest %s; pieces without a usable digest come from the "
               "source",
               self->task_id, digest, config->download.piece_digest);
  self->weak_reference_logged = TRUE;
}

static void
on_response (const Dfly__V1__AnnouncePeerResponse *response, gpointer user_data)
{
  DflySwarm *self = user_data;

  switch (response->response_case) {
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_EMPTY_TASK:
    /* The download sizes the board for its 0 bytes. */
    g_mutex_lock (&self->lock);
    decide (self, DFLY_SWARM_EMPTY);
    g_mutex_unlock (&self->lock);
    break;
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE:
    g_info ("task %s: the scheduler sends this peer to the source: %s", self->task_id,
            response->need_back_to_source->description);
    g_mutex_lock (&self->lock);
    if (self->decided && self->decision == DFLY_SWARM_PARENTS)
      dfly_piece_board_set_to_source (self->board, TRUE);
    decide (self, DFLY_SWARM_BACK_TO_SOURCE);
    g_mutex_unlock (&self->lock);
    break;
  case DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK: {
    const Dfly__V1__NormalTaskResponse *normal = response->normal_task;

    if (normal->content_length > G_MAXINT64 || normal->piece_length < MIN_PIECE_LENGTH ||
        normal->piece_length > MAX_PIECE_LENGTH ||
        !dfly_piece_board_set_length (self->board, (gint64) normal->content_length,
                                      normal->piece_length)) {
      g_message ("task %s: the scheduler's content length %" G_GUINT64_FORMAT
                 " (pieces of %" G_GUINT64_FORMAT
                 ") is out of bounds or contradicts what is known; ignored",
                 self->task_id, normal->content_length, normal->piece_length);
      break;
    }
    for (gsize i = 0; i < normal->n_piece_digests; i++)
      set_reference_digest (self, normal->piece_digests[i]->number,
                            normal->piece_digests[i]->digest);
    add_parents (self, normal);
    g_mutex_lock (&self->lock);
    if (!self->decided)
      send_started (self);
    decide (self, DFLY_SWARM_PARENTS);
    g_mutex_unlock (&self->lock);
    dfly_piece_board_wake (self->board);
    break;
  }
  default:
    g_info ("task %s: an empty answer from the scheduler", self->task_id);
    break;
  }
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
      decide (self, DFLY_SWARM_BACK_TO_SOURCE);
      g_mutex_unlock (&self->lock);
    }
  }
  dfly_swarm_unref (self);
  return G_SOURCE_REMOVE;
}

DflySwarmDecision
dfly_swarm_register (DflySwarm *self)
{
  gint64            deadline = g_get_monotonic_time () + REGISTER_TIMEOUT_US;
  DflySwarmDecision decision;

  dfly_main_call (self->main_context, register_on_main, dfly_swarm_ref (self));
  g_mutex_lock (&self->lock);
  while (!self->decided && !g_cancellable_is_cancelled (self->cancellable)) {
    gint64 now = g_get_monotonic_time ();

    if (now >= deadline) {
      g_info ("task %s: the scheduler did not answer, going to the source", self->task_id);
      decide (self, DFLY_SWARM_BACK_TO_SOURCE);
      break;
    }
    g_cond_wait_until (&self->cond, &self->lock, MIN (deadline, now + WAIT_SLICE_US));
  }
  decision = g_cancellable_is_cancelled (self->cancellable) ? DFLY_SWARM_CANCELLED : self->decision;
  g_mutex_unlock (&self->lock);
  return decision;
}

void
dfly_swarm_share_held (DflySwarm *self, const DflyTaskInfo *task)
{
  gboolean seed = self->need_back_to_source || self->services->seed;

  g_mutex_lock (&self->lock);
  /* A seed is the task's source; anyone else is only a parent. */
  self->back_to_source = seed;
  self->holds_content = !seed;
  decide (self, seed ? DFLY_SWARM_BACK_TO_SOURCE : DFLY_SWARM_PARENTS);
  g_mutex_unlock (&self->lock);
  dfly_main_call (self->main_context, register_on_main, dfly_swarm_ref (self));
  if (seed)
    send_source_started (self);
  replay_held (self, seed);
  dfly_swarm_finish (self, NULL, task->content_length, task->total_pieces);
}

void
dfly_swarm_source_started (DflySwarm *self)
{
  g_mutex_lock (&self->lock);
  self->back_to_source = TRUE;
  g_mutex_unlock (&self->lock);
  send_source_started (self);
  replay_held (self, TRUE);
}

/* ---- the piece workers ---- */

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

  report_piece (self, piece, from_source);
  /* The upload server tells this host's children. */
  data->context = g_object_ref (self->context);
  data->piece = dfly_piece_info_ref ((DflyPieceInfo *) piece);
  dfly_main_call (self->main_context, emit_piece_on_main, data);
}

void
dfly_swarm_finish (DflySwarm *self, const GError *error, gint64 content_length, guint32 piece_count)
{
  Dfly__V1__AnnouncePeerRequest         request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerFinishedRequest finished = DFLY__V1__DOWNLOAD_PEER_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFinishedRequest source_finished =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPeerFailedRequest failed = DFLY__V1__DOWNLOAD_PEER_FAILED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFailedRequest source_failed =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED_REQUEST__INIT;
  gboolean from_source;

  g_mutex_lock (&self->lock);
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
