/* dfly-schedule.c — DflySchedule: tasks, peers and choosing parents
 *
 * Parents are chosen for a mesh, not a tree: a child keeps every parent it
 * was offered and asks each for the pieces it lacks (rarest first), so no
 * cycle check is needed — pieces flow wherever they are held.
 *
 * Digest trust: only the task's reference reports its length and piece
 * digests, which children check every parent's bytes against. The
 * reference is a seed (under TLS, a host whose certificate grants the seed
 * role; on a plaintext link, a host announced as a seed) or a peer this
 * scheduler chose to send to the source. A peer that asks to go to the
 * source may (within back_to_source_limit) but fetches for itself only. A
 * digest arrives once per piece; a second, different report for the same
 * piece is logged and ignored.
 *
 * Bounds: lengths are checked before anything is sized by them (piece
 * lengths within the range any dflyd may use, at most max_pieces pieces);
 * tasks, peers per task, peers per stream and blocklists have caps; a peer
 * id belongs to the stream that registered it.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly-http-client.h>
#include <dfly/dfly-identity.h>

#include "dfly-accusations.h"
#include "dfly-parent-ranking.h"
#include "dfly-schedule.h"
#include "dfly-scheduler-settings.h"

#define RETRY_INTERVAL_MS    500 /* between scheduling rounds, as v2.2 */
#define ROUNDS_BEFORE_ORIGIN 4   /* empty rounds before going back to source */
#define ROUNDS_WAITING_SEED  120 /* rounds a child waits for a seed's first answer */
#define PUSH_DELAY_MS        20  /* coalesces updates to a task's children */
/* Piece lengths from the wire: download.min_piece_length's lowest and
 * download.piece_length's highest, so no dflyd makes others. */
#define MIN_PIECE_LENGTH (G_GUINT64_CONSTANT (4) << 10)
#define MAX_PIECE_LENGTH (G_GUINT64_CONSTANT (1) << 30)

struct _DflySchedule {
  GObject           parent_instance;
  DflyContext      *context;
  DflyScheduler    *algorithm;
  DflyScheduleHosts hosts;
  SoupSession      *session;         /* for seed triggers */
  GHashTable       *tasks;           /* task id → ScheduleTask */
  GHashTable       *streams;         /* stream → GHashTable of SchedulePeer * registered on it */
  guint             candidate_limit; /* the cluster's, from the manager; 0: the settings' */
};

G_DEFINE_FINAL_TYPE (DflySchedule, dfly_schedule, G_TYPE_OBJECT)

/* ---- peers and tasks ---- */

static void stream_forget_peer (DflySchedule *self, SchedulePeer *peer);

/* A peer sent to the source that failed or left gives its place back. */
static void
release_source_place (SchedulePeer *peer)
{
  if (peer->place == NULL)
    return;
  (*peer->place)--;
  peer->place = NULL;
}

static void
peer_free (gpointer data)
{
  SchedulePeer *peer = data;

  if (peer->state != DFLY_PEER_STATE_SUCCEEDED)
    release_source_place (peer);
  stream_forget_peer (peer->task->schedule, peer);
  g_clear_handle_id (&peer->retry_id, g_source_remove);
  g_clear_object (&peer->stream);
  g_byte_array_unref (peer->bitmap);
  g_byte_array_unref (peer->digests_sent);
  g_hash_table_unref (peer->blocklist);
  g_hash_table_unref (peer->offered);
  dfly_accusations_clear (peer);
  g_free (peer->host_id);
  g_free (peer->id);
  g_free (peer);
}

static void
task_free (gpointer data)
{
  ScheduleTask *task = data;

  g_clear_handle_id (&task->push_id, g_source_remove);
  g_hash_table_unref (task->peers);
  g_ptr_array_unref (task->digests);
  if (task->download != NULL)
    protobuf_c_message_free_unpacked (&task->download->base, NULL);
  g_free (task->id);
  g_free (task);
}

static Dfly__V1__Download *
copy_download (const Dfly__V1__Download *download)
{
  Dfly__V1__Download                                   kept = *download;
  g_autofree Dfly__V1__Download__RequestHeadersEntry **headers =
    g_new0 (Dfly__V1__Download__RequestHeadersEntry *, download->n_request_headers + 1);
  g_autofree guint8 *bytes = NULL;
  gsize              size;

  /* Credentials never leave the peer that holds them (dfly's do not send
   * them): none is kept, so none goes to a seed. */
  kept.n_request_headers = 0;
  kept.request_headers = headers;
  for (gsize i = 0; i < download->n_request_headers; i++)
    if (!dfly_http_is_credential_header (download->request_headers[i]->key))
      headers[kept.n_request_headers++] = download->request_headers[i];
  size = protobuf_c_message_get_packed_size (&kept.base);
  bytes = g_malloc (MAX (size, 1));
  protobuf_c_message_pack (&kept.base, bytes);
  return dfly__v1__download__unpack (NULL, size, bytes);
}

static ScheduleTask *
task_lookup_or_new (DflySchedule *self, const char *task_id)
{
  ScheduleTask *task = g_hash_table_lookup (self->tasks, task_id);

  if (task != NULL)
    return task;
  task = g_new0 (ScheduleTask, 1);
  task->id = g_strdup (task_id);
  task->schedule = self;
  task->content_length = -1;
  task->digests = g_ptr_array_new_with_free_func (g_free);
  task->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, peer_free);
  g_hash_table_insert (self->tasks, task->id, task);
  return task;
}

static void
stream_forget_peer (DflySchedule *self, SchedulePeer *peer)
{
  GHashTable *peers =
    peer->stream != NULL ? g_hash_table_lookup (self->streams, peer->stream) : NULL;

  if (peers != NULL)
    g_hash_table_remove (peers, peer);
}

static SchedulePeer *
lookup_peer (DflySchedule *self, const char *task_id, const char *peer_id)
{
  ScheduleTask *task = g_hash_table_lookup (self->tasks, task_id);

  return task != NULL ? g_hash_table_lookup (task->peers, peer_id) : NULL;
}

/* Removes a peer; a task left without peers is forgotten. */
static void
peer_remove (DflySchedule *self, SchedulePeer *peer)
{
  ScheduleTask *task = peer->task;

  g_hash_table_remove (task->peers, peer->id);
  if (g_hash_table_size (task->peers) == 0)
    g_hash_table_remove (self->tasks, task->id);
}

/* The task's reference, fetching or done (a peer that asked for the source
 * or holds the content is a parent, not a source of lengths and digests). */
static gboolean
peer_is_active_source (const SchedulePeer *peer)
{
  return peer->sent_to_source && peer->state != DFLY_PEER_STATE_FAILED &&
         peer->state != DFLY_PEER_STATE_LEAVE;
}

static gboolean
task_has_active_source (ScheduleTask *task)
{
  GHashTableIter iter;
  gpointer       value;

  g_hash_table_iter_init (&iter, task->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    if (peer_is_active_source (value))
      return TRUE;
  }
  return FALSE;
}

static guint
max_pieces (ScheduleTask *task)
{
  return dfly_scheduler_settings_get (task->schedule->context)->max_pieces;
}

/* The reference's length (content_length -1: a streamed origin, known at
 * its end). FALSE, changing nothing, for what no dflyd sends: a piece
 * length out of range, or more than max_pieces pieces. */
static gboolean
task_set_length (ScheduleTask *task, gint64 content_length, guint64 piece_length)
{
  if (piece_length < MIN_PIECE_LENGTH || piece_length > MAX_PIECE_LENGTH ||
      (content_length > 0 && ((guint64) content_length - 1) / piece_length >= max_pieces (task))) {
    g_message ("task %s: %" G_GINT64_FORMAT " bytes in pieces of %" G_GUINT64_FORMAT
               " is out of bounds (pieces of %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
               " bytes, at most %u of them); refused",
               task->id, content_length, piece_length, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH,
               max_pieces (task));
    return FALSE;
  }
  task->piece_length = piece_length;
  if (content_length < 0)
    return TRUE;
  task->content_length = content_length;
  task->piece_count = dfly_piece_count (content_length, piece_length);
  /* Digests a stream reported past its end go. */
  g_ptr_array_set_size (task->digests, task->piece_count);
  return TRUE;
}

/* ---- answers ---- */

static void
send_response (SchedulePeer *peer, Dfly__V1__AnnouncePeerResponse *response)
{
  response->task_id = peer->task->id;
  response->peer_id = peer->id;
  peer->answered = TRUE;
  dfly_wire_ws_send (peer->stream, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response->base);
}

static void
send_need_back_to_source (SoupWebsocketConnection *stream, const char *task_id, const char *peer_id,
                          const char *why)
{
  Dfly__V1__AnnouncePeerResponse     response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__NeedBackToSourceResponse need = DFLY__V1__NEED_BACK_TO_SOURCE_RESPONSE__INIT;

  need.description = (char *) why;
  response.task_id = (char *) task_id;
  response.peer_id = (char *) peer_id;
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE;
  response.need_back_to_source = &need;
  dfly_wire_ws_send (stream, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response.base);
}

/* Sends peer to the source. reference: this scheduler chose it (or it is a
 * seed), so its lengths and digests count; else it asked, and fetches for
 * itself. A normal peer holds a place of the matching count. */
static void
send_back_to_source (SchedulePeer *peer, const char *why, gboolean reference)
{
  g_clear_handle_id (&peer->retry_id, g_source_remove);
  if (!peer->back_to_source && !peer->seed) {
    peer->place = reference ? &peer->task->back_to_source_count : &peer->task->asked_count;
    (*peer->place)++;
  }
  peer->back_to_source = TRUE;
  peer->sent_to_source = reference;
  peer->answered = TRUE;
  g_info ("task %s: peer %s goes back to source: %s", peer->task->id, peer->id, why);
  send_need_back_to_source (peer->stream, peer->task->id, peer->id, why);
}

/* The reference said what no origin does: its word no longer counts, and
 * its place goes to the next one chosen (it still fetches for itself). */
static void
demote_reference (SchedulePeer *peer)
{
  g_message ("task %s: peer %s is no longer the task's reference", peer->task->id, peer->id);
  peer->sent_to_source = FALSE;
  release_source_place (peer);
}

static void
send_empty (SchedulePeer *peer)
{
  Dfly__V1__AnnouncePeerResponse response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__EmptyTaskResponse    empty = DFLY__V1__EMPTY_TASK_RESPONSE__INIT;

  g_clear_handle_id (&peer->retry_id, g_source_remove);
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_EMPTY_TASK;
  response.empty_task = &empty;
  send_response (peer, &response);
}

/* Sends child parents and the digests it lacks; FALSE if there was nothing
 * new to say (no new parent, no new digest) and nothing was sent. */
static gboolean
send_normal (DflySchedule *self, SchedulePeer *child, gboolean force)
{
  const DflySchedulerSettings   *settings = dfly_scheduler_settings_get (self->context);
  Dfly__V1__AnnouncePeerResponse response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  Dfly__V1__NormalTaskResponse   normal = DFLY__V1__NORMAL_TASK_RESPONSE__INIT;
  g_autoptr (GPtrArray) parents = dfly_parent_ranking_rank (
    self->algorithm, &self->hosts, child,
    self->candidate_limit > 0 ? self->candidate_limit : settings->candidate_parents);
  g_autofree Dfly__V1__CandidateParent  *parent_messages = NULL;
  g_autofree Dfly__V1__CandidateParent **parent_pointers = NULL;
  g_autofree Dfly__V1__Host             *hosts = NULL;
  g_autofree Dfly__V1__PieceDigest      *digest_messages = NULL;
  g_autofree Dfly__V1__PieceDigest     **digest_pointers = NULL;
  ScheduleTask                          *task = child->task;
  gboolean                               news = FALSE;
  guint                                  n_digests = 0;

  if (parents->len == 0 && !force)
    return FALSE;
  parent_messages = g_new0 (Dfly__V1__CandidateParent, parents->len);
  parent_pointers = g_new0 (Dfly__V1__CandidateParent *, parents->len);
  hosts = g_new0 (Dfly__V1__Host, parents->len);
  for (guint i = 0; i < parents->len; i++) {
    SchedulePeer *parent = g_ptr_array_index (parents, i);
    DflyHostInfo *host = self->hosts.lookup (parent->host_id, self->hosts.user_data);

    dfly__v1__candidate_parent__init (&parent_messages[i]);
    dfly__v1__host__init (&hosts[i]);
    dfly_wire_host_to_message (host, &hosts[i]);
    parent_messages[i].peer_id = parent->id;
    parent_messages[i].host = &hosts[i];
    parent_messages[i].piece_bitmap.data = parent->bitmap->data;
    parent_messages[i].piece_bitmap.len = parent->bitmap->len;
    parent_pointers[i] = &parent_messages[i];
    if (!g_hash_table_contains (child->offered, parent->id)) {
      g_hash_table_add (child->offered, g_strdup (parent->id));
      news = TRUE;
    }
  }
  digest_messages = g_new0 (Dfly__V1__PieceDigest, task->digests->len);
  digest_pointers = g_new0 (Dfly__V1__PieceDigest *, task->digests->len);
  for (guint32 n = 0; n < task->digests->len; n++) {
    char *digest = g_ptr_array_index (task->digests, n);

    if (digest == NULL || dfly_wire_bitmap_get (child->digests_sent, n))
      continue;
    dfly__v1__piece_digest__init (&digest_messages[n_digests]);
    digest_messages[n_digests].number = n;
    digest_messages[n_digests].digest = digest;
    digest_pointers[n_digests] = &digest_messages[n_digests];
    n_digests++;
  }
  if (!news && n_digests == 0 && !force)
    return FALSE;
  /* Marked only now: nothing is marked sent unless it is. */
  for (guint i = 0; i < n_digests; i++)
    dfly_wire_bitmap_set (child->digests_sent, digest_messages[i].number);
  normal.n_candidate_parents = parents->len;
  normal.candidate_parents = parent_pointers;
  normal.n_piece_digests = n_digests;
  normal.piece_digests = digest_pointers;
  normal.content_length = (guint64) task->content_length;
  normal.piece_length = task->piece_length;
  normal.piece_count = task->piece_count;
  response.response_case = DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK;
  response.normal_task = &normal;
  send_response (child, &response);
  g_debug ("task %s: peer %s gets %u parents, %u digests", task->id, child->id, parents->len,
           n_digests);
  return TRUE;
}

/* ---- scheduling rounds ---- */

static void schedule_peer (DflySchedule *self, SchedulePeer *peer);

static gboolean
on_retry (gpointer user_data)
{
  SchedulePeer *peer = user_data;

  peer->retry_id = 0;
  schedule_peer (peer->task->schedule, peer);
  return G_SOURCE_REMOVE;
}

static void
retry_later (SchedulePeer *peer)
{
  if (peer->retry_id == 0)
    peer->retry_id = g_timeout_add (RETRY_INTERVAL_MS, on_retry, peer);
}

/* The seed will not fetch the task: its children go to the source, in
 * the next turn of the loop rather than at their next round (half a
 * second of a pull lost waiting for it, the image bench showed). */
static void
seed_gave_up (ScheduleTask *task)
{
  GHashTableIter iter;
  gpointer       value;

  task->seed_failed = TRUE;
  g_hash_table_iter_init (&iter, task->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SchedulePeer *peer = value;

    g_clear_handle_id (&peer->retry_id, g_source_remove);
    peer->retry_id = g_idle_add (on_retry, peer);
  }
}

static void
trigger_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *task_id = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = dfly_wire_post_finish (SOUP_SESSION (source), result, &error);
  DflySchedule *self;
  ScheduleTask *task;

  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = g_object_get_data (source, "dfly-schedule");
  task = self != NULL ? g_hash_table_lookup (self->tasks, task_id) : NULL;
  g_message ("task %s: the seed peer refused to download it: %s", task_id, error->message);
  if (task != NULL)
    seed_gave_up (task);
}

/* Tells a seed peer to fetch the task from its source; FALSE if there is none. */
static gboolean
trigger_seed (DflySchedule *self, ScheduleTask *task)
{
  g_autoptr (GPtrArray) seeds = self->hosts.list_seeds (self->hosts.user_data);
  Dfly__V1__DownloadTaskRequest request = DFLY__V1__DOWNLOAD_TASK_REQUEST__INIT;
  g_autofree char              *base = NULL;
  g_autofree char              *url = NULL;
  DflyHostInfo                 *seed = NULL;
  guint                         best = 0;

  /* Rendezvous hashing: a task goes to the same seed while the set holds. */
  for (guint i = 0; i < seeds->len; i++) {
    DflyHostInfo    *host = g_ptr_array_index (seeds, i);
    g_autofree char *key = NULL;
    guint            weight;

    if (host->port == 0 || host->ip == NULL || host->disable_shared)
      continue;
    key = g_strconcat (host->id, "/", task->id, NULL);
    weight = g_str_hash (key);
    if (seed == NULL || weight > best) {
      seed = host;
      best = weight;
    }
  }
  if (seed == NULL || task->download == NULL)
    return FALSE;
  task->seed_triggered = TRUE;
  request.task_id = task->id;
  request.download = task->download;
  base = dfly_wire_base_url (seed->ip, seed->port, dfly_context_get_tls (self->context) != NULL);
  url = g_strconcat (base, "/v1/download-task", NULL);
  g_info ("task %s: seed peer %s goes back to source", task->id, seed->id);
  dfly_wire_post_async (self->session, url, DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST, &request.base, NULL,
                        trigger_done, g_strdup (task->id));
  return TRUE;
}

/* The places of peers this scheduler sends and of those that ask are
 * counted apart, so peers that ask cannot keep the task from a reference. */
static gboolean
may_go_back_to_source (DflySchedule *self, ScheduleTask *task)
{
  return task->back_to_source_count <
         dfly_scheduler_settings_get (self->context)->back_to_source_limit;
}

static gboolean
may_ask_for_source (DflySchedule *self, ScheduleTask *task)
{
  return task->asked_count < dfly_scheduler_settings_get (self->context)->back_to_source_limit;
}

static void
schedule_peer (DflySchedule *self, SchedulePeer *peer)
{
  ScheduleTask *task = peer->task;

  if (peer->back_to_source || peer->state == DFLY_PEER_STATE_SUCCEEDED ||
      peer->state == DFLY_PEER_STATE_FAILED)
    return;
  peer->rounds++;
  if (task->content_length == 0) {
    send_empty (peer);
    return;
  }
  if (task->content_length < 0) {
    /* Nothing known of the content yet: a seed peer (or an earlier peer)
     * is asked to fetch it, and the child waits for its first answer. */
    if (!task_has_active_source (task) && (!task->seed_triggered || task->seed_failed)) {
      if ((task->seed_failed || !trigger_seed (self, task)) && may_go_back_to_source (self, task)) {
        send_back_to_source (peer, "no seed peer has the task", TRUE);
        return;
      }
    }
    if (peer->rounds > ROUNDS_WAITING_SEED && may_go_back_to_source (self, task)) {
      send_back_to_source (peer, "the seed peer did not start", TRUE);
      return;
    }
    retry_later (peer);
    return;
  }
  if (send_normal (self, peer, FALSE) || g_hash_table_size (peer->offered) > 0) {
    peer->rounds = 0;
    return;
  }
  if (peer->rounds >= ROUNDS_BEFORE_ORIGIN && !task_has_active_source (task) &&
      may_go_back_to_source (self, task)) {
    send_back_to_source (peer, "no parent holds the task", TRUE);
    return;
  }
  retry_later (peer);
}

/* Sends every child of the task what changed: new parents, new digests. */
static gboolean
on_push (gpointer user_data)
{
  ScheduleTask *task = user_data;
  DflySchedule *self = task->schedule;
  g_autoptr (GPtrArray) peers = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer       value;

  task->push_id = 0;
  /* In a random order: the first child told of a new piece asks the seed
   * for it first and gets it (a seed sends each piece once), so a fixed
   * order would make one child the swarm's only way to the seed. */
  g_hash_table_iter_init (&iter, task->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (peers, value);
  for (guint i = peers->len; i > 1; i--) {
    guint    j = g_random_int_range (0, i);
    gpointer swap = peers->pdata[i - 1];

    peers->pdata[i - 1] = peers->pdata[j];
    peers->pdata[j] = swap;
  }
  for (guint i = 0; i < peers->len; i++) {
    SchedulePeer *peer = g_ptr_array_index (peers, i);

    if (peer->back_to_source || peer->state == DFLY_PEER_STATE_SUCCEEDED ||
        peer->state == DFLY_PEER_STATE_FAILED || task->content_length < 0)
      continue;
    if (!peer->answered)
      schedule_peer (self, peer);
    else
      send_normal (self, peer, FALSE);
  }
  return G_SOURCE_REMOVE;
}

static void
push_later (ScheduleTask *task)
{
  if (task->push_id == 0)
    task->push_id = g_timeout_add (PUSH_DELAY_MS, on_push, task);
}

/* ---- what peers say ---- */

/* A seed: under TLS, a host whose certificate grants the role; on a
 * plaintext link, a host that announced itself as one. */
static gboolean
registers_seed (DflySchedule *self, SoupWebsocketConnection *stream, const char *host_id)
{
  const DflyIdentity *identity = dfly_identity_of_websocket (stream);
  DflyHostInfo       *host;

  if (identity != NULL)
    return dfly_identity_has_role (identity, DFLY_ROLE_FLAG_SEED);
  host = self->hosts.lookup (host_id, self->hosts.user_data);
  return host != NULL && host->type != DFLY_HOST_TYPE_NORMAL;
}

/* A peer id belongs to the stream that registered it; under TLS its own
 * host may take it over on a new stream (a reconnect). */
static gboolean
may_take_over (const SchedulePeer *peer, SoupWebsocketConnection *stream)
{
  const DflyIdentity *identity = dfly_identity_of_websocket (stream);

  return peer->stream == stream ||
         (identity != NULL && g_strcmp0 (dfly_identity_get_host_id (identity), peer->host_id) == 0);
}

/* Why no new peer of task_id may register on stream, or NULL. */
static const char *
cap_reached (DflySchedule *self, SoupWebsocketConnection *stream, const char *task_id)
{
  const DflySchedulerSettings *settings = dfly_scheduler_settings_get (self->context);
  ScheduleTask                *task = g_hash_table_lookup (self->tasks, task_id);
  GHashTable                  *on_stream = g_hash_table_lookup (self->streams, stream);

  if (on_stream != NULL && g_hash_table_size (on_stream) >= settings->max_peers_per_stream)
    return "its stream has scheduler.max_peers_per_stream peers";
  if (task == NULL && g_hash_table_size (self->tasks) >= settings->max_tasks)
    return "the scheduler has scheduler.max_tasks tasks";
  if (task != NULL && g_hash_table_size (task->peers) >= settings->max_peers_per_task)
    return "the task has scheduler.max_peers_per_task peers";
  return NULL;
}

static void
handle_register (DflySchedule *self, SoupWebsocketConnection *stream,
                 const Dfly__V1__AnnouncePeerRequest *request)
{
  const Dfly__V1__Download *download = request->register_peer->download;
  ScheduleTask             *task;
  SchedulePeer             *peer;
  GHashTable               *on_stream;
  const char               *full;

  peer = lookup_peer (self, request->task_id, request->peer_id);
  if (peer != NULL && !may_take_over (peer, stream)) {
    g_message ("task %s: peer %s is registered on another stream; refusing it here",
               request->task_id, request->peer_id);
    return;
  }
  if (peer != NULL)
    peer_remove (self, peer); /* registered again: start over */
  full = cap_reached (self, stream, request->task_id);
  if (full != NULL) {
    /* Not tracked: it fetches for itself, and its reports are ignored. */
    g_message ("task %s: peer %s not registered, %s; it goes to the source", request->task_id,
               request->peer_id, full);
    send_need_back_to_source (stream, request->task_id, request->peer_id, full);
    return;
  }
  task = task_lookup_or_new (self, request->task_id);
  if (task->download == NULL && download != NULL)
    task->download = copy_download (download);
  peer = g_new0 (SchedulePeer, 1);
  peer->id = g_strdup (request->peer_id);
  peer->host_id = g_strdup (request->host_id);
  peer->task = task;
  peer->stream = g_object_ref (stream);
  peer->state = DFLY_PEER_STATE_RECEIVED;
  peer->bitmap = g_byte_array_new ();
  peer->digests_sent = g_byte_array_new ();
  peer->blocklist = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  peer->offered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dfly_accusations_init (peer);
  g_hash_table_insert (task->peers, peer->id, peer);
  on_stream = g_hash_table_lookup (self->streams, stream);
  if (on_stream == NULL) {
    on_stream = g_hash_table_new (NULL, NULL);
    g_hash_table_insert (self->streams, g_object_ref (stream), on_stream);
  }
  g_hash_table_add (on_stream, peer);
  g_info ("task %s: peer %s registered", task->id, peer->id);

  peer->seed = registers_seed (self, stream, peer->host_id);
  if (request->register_peer->holds_content) {
    /* Only a parent: what it holds arrives as piece reports. */
    peer->state = DFLY_PEER_STATE_SUCCEEDED;
    return;
  }
  /* A seed fetches from the source, unless a requester already does: the
   * seed refused the order (credentials it lacks) and its own host asks
   * again with them. Then it is a child of that requester, as the others
   * are, and the origin still sends the task once. */
  if (peer->seed && !task_has_active_source (task)) {
    send_back_to_source (peer, "seed peer", TRUE);
    return;
  }
  /* A normal peer asking for the source may go, but is not the reference. */
  if (download != NULL && download->need_back_to_source && may_ask_for_source (self, task)) {
    send_back_to_source (peer, "asked for", FALSE);
    return;
  }
  schedule_peer (self, peer);
}

static void
record_piece (SchedulePeer *peer, const Dfly__V1__Piece *piece, gboolean from_source)
{
  ScheduleTask *task = peer->task;

  if (piece == NULL)
    return;
  /* Bitmaps and digests grow with piece numbers: only the task's count
   * (while it is unknown, only the source peer's reports, and capped). */
  if (task->content_length >= 0 ? piece->number >= task->piece_count
                                : !from_source || piece->number >= max_pieces (task)) {
    g_info ("task %s: peer %s reports piece %u, out of range; ignored", task->id, peer->id,
            piece->number);
    return;
  }
  if (!dfly_wire_bitmap_get (peer->bitmap, piece->number)) {
    dfly_wire_bitmap_set (peer->bitmap, piece->number);
    peer->finished++;
  }
  if (from_source && piece->digest != NULL && piece->digest[0] != '\0') {
    /* A streamed origin: pieces are counted as they come. */
    if (piece->number >= task->digests->len)
      g_ptr_array_set_size (task->digests, piece->number + 1);
    if (g_ptr_array_index (task->digests, piece->number) == NULL)
      g_ptr_array_index (task->digests, piece->number) = g_strdup (piece->digest);
    else if (strcmp (g_ptr_array_index (task->digests, piece->number), piece->digest) != 0)
      g_message ("task %s: peer %s reports digest %s for piece %u, not %s; keeping the first",
                 task->id, peer->id, piece->digest, piece->number,
                 (char *) g_ptr_array_index (task->digests, piece->number));
  }
}

static gboolean
is_gone (gpointer key, gpointer value, gpointer user_data)
{
  return !g_hash_table_contains (user_data, key);
}

/* Only peers of the task can be offered, so only they are worth blocking,
 * and those that left are dropped as the list fills: it stays within the
 * task's peers (max_peers_per_task). */
static void
blocklist_add (SchedulePeer *peer, const char *parent_id)
{
  GHashTable *peers = peer->task->peers;

  if (parent_id == NULL || !g_hash_table_contains (peers, parent_id))
    return;
  if (g_hash_table_size (peer->blocklist) >= g_hash_table_size (peers))
    g_hash_table_foreach_remove (peer->blocklist, is_gone, peers);
  g_hash_table_add (peer->blocklist, g_strdup (parent_id));
}

static void
count_upload (ScheduleTask *task, const char *parent_id, gboolean ok)
{
  SchedulePeer *parent = parent_id != NULL ? g_hash_table_lookup (task->peers, parent_id) : NULL;

  if (parent == NULL)
    return;
  if (ok)
    parent->uploads_ok++;
  else
    parent->uploads_failed++;
}

void
dfly_schedule_handle (DflySchedule *self, SoupWebsocketConnection *stream,
                      const Dfly__V1__AnnouncePeerRequest *request)
{
  SchedulePeer *peer;

  if (request->task_id == NULL || !dfly_task_id_is_valid (request->task_id) ||
      request->peer_id == NULL || request->peer_id[0] == '\0') {
    g_info ("announce without a valid task or peer id, ignored");
    return;
  }
  if (request->request_case == DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER) {
    handle_register (self, stream, request);
    return;
  }
  peer = lookup_peer (self, request->task_id, request->peer_id);
  if (peer == NULL || peer->stream != stream) {
    g_debug ("task %s: message from unregistered peer %s ignored", request->task_id,
             request->peer_id);
    return;
  }
  switch (request->request_case) {
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_STARTED:
    peer->state = DFLY_PEER_STATE_RUNNING;
    break;
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED: {
    const Dfly__V1__DownloadPeerBackToSourceStartedRequest *started =
      request->download_peer_back_to_source_started;

    if (!peer->back_to_source) {
      g_info ("task %s: peer %s says it went to the source unasked; ignored", peer->task->id,
              peer->id);
      break;
    }
    peer->state = DFLY_PEER_STATE_BACK_TO_SOURCE;
    /* Only the reference's length is believed. */
    if (peer->sent_to_source && peer->task->content_length < 0 &&
        !task_set_length (peer->task, started->content_length, started->piece_length))
      demote_reference (peer);
    push_later (peer->task);
    break;
  }
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_RESCHEDULE_PEER: {
    const Dfly__V1__ReschedulePeerRequest *reschedule = request->reschedule_peer;

    for (gsize i = 0; i < reschedule->n_failed_parent_ids; i++)
      blocklist_add (peer, reschedule->failed_parent_ids[i]);
    /* Offer every usable parent again, since the child dropped some. */
    g_hash_table_remove_all (peer->offered);
    peer->answered = FALSE;
    schedule_peer (self, peer);
    break;
  }
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FINISHED:
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED: {
    guint64 length = request->download_peer_finished != NULL
                       ? request->download_peer_finished->content_length
                       : request->download_peer_back_to_source_finished->content_length;

    peer->state = DFLY_PEER_STATE_SUCCEEDED;
    g_clear_handle_id (&peer->retry_id, g_source_remove);
    if (peer->sent_to_source && peer->task->content_length < 0 &&
        (length > G_MAXINT64 ||
         !task_set_length (peer->task, (gint64) length, peer->task->piece_length)))
      demote_reference (peer);
    g_info ("task %s: peer %s succeeded", peer->task->id, peer->id);
    push_later (peer->task);
    break;
  }
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FAILED:
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED:
    peer->state = DFLY_PEER_STATE_FAILED;
    release_source_place (peer);
    g_clear_handle_id (&peer->retry_id, g_source_remove);
    g_info ("task %s: peer %s failed", peer->task->id, peer->id);
    /* A seed that could not start (the origin wants credentials it lacks,
     * or source.deny refuses it): the requesters fetch it themselves, with
     * their own credentials and rules, as Dragonfly does on a seed's 401. */
    if (peer->sent_to_source && peer->task->content_length < 0)
      seed_gave_up (peer->task);
    /* Children waiting on it look elsewhere. */
    push_later (peer->task);
    break;
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FINISHED:
    if (peer->state == DFLY_PEER_STATE_RECEIVED)
      peer->state = DFLY_PEER_STATE_RUNNING;
    record_piece (peer, request->download_piece_finished->piece, FALSE);
    if (request->download_piece_finished->piece != NULL)
      count_upload (peer->task, request->download_piece_finished->piece->parent_id, TRUE);
    /* Its first piece makes it a parent for others. */
    if (peer->finished == 1)
      push_later (peer->task);
    break;
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED:
    record_piece (peer, request->download_piece_back_to_source_finished->piece,
                  peer->sent_to_source);
    push_later (peer->task);
    break;
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED: {
    const Dfly__V1__DownloadPieceFailedRequest *failed = request->download_piece_failed;

    /* A mismatch is an accusation, weighed by the parent's own look at the
     * piece (dfly-accusations.h), not a failed upload that false reports
     * could pile up. */
    if (!failed->digest_mismatch)
      count_upload (peer->task, failed->parent_id, FALSE);
    if (failed->digest_mismatch && failed->parent_id != NULL) {
      SchedulePeer *parent = g_hash_table_lookup (peer->task->peers, failed->parent_id);

      g_message ("task %s: parent %s served piece %u with a wrong digest to %s", peer->task->id,
                 failed->parent_id, failed->piece_number, peer->id);
      blocklist_add (peer, failed->parent_id);
      /* Caught by enough hosts, and not cleared by its own look at the
       * piece, it is offered to no one (dfly-accusations.h). */
      if (parent != NULL)
        dfly_accusations_add (parent, peer, failed->piece_number,
                              dfly_context_get_tls (self->context) != NULL);
    } else if (!failed->temporary && failed->parent_id != NULL) {
      blocklist_add (peer, failed->parent_id);
    }
    break;
  }
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FAILED:
    break;
  case DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_PIECE_CHECKED:
    if (dfly_accusations_answered (peer, request->piece_checked->piece_number,
                                   request->piece_checked->intact))
      push_later (peer->task);
    break;
  default:
    g_info ("task %s: peer %s sent an empty announce", peer->task->id, peer->id);
    break;
  }
}

void
dfly_schedule_stream_closed (DflySchedule *self, SoupWebsocketConnection *stream)
{
  GHashTable *on_stream;

  /* Removing a peer takes it off the stream's set (peer_free). */
  while ((on_stream = g_hash_table_lookup (self->streams, stream)) != NULL &&
         g_hash_table_size (on_stream) > 0) {
    GHashTableIter   iter;
    gpointer         key;
    g_autofree char *task_id = NULL;
    SchedulePeer    *peer;
    ScheduleTask    *task;

    g_hash_table_iter_init (&iter, on_stream);
    g_hash_table_iter_next (&iter, &key, NULL);
    peer = key;
    task_id = g_strdup (peer->task->id);
    g_info ("task %s: peer %s left", task_id, peer->id);
    peer_remove (self, peer);
    task = g_hash_table_lookup (self->tasks, task_id);
    if (task != NULL)
      push_later (task);
  }
  g_hash_table_remove (self->streams, stream);
}

void
dfly_schedule_host_left (DflySchedule *self, const char *host_id)
{
  g_autoptr (GList) tasks = g_hash_table_get_values (self->tasks);

  for (GList *t = tasks; t != NULL; t = t->next) {
    ScheduleTask *task = t->data;
    g_autoptr (GList) peers = g_hash_table_get_values (task->peers);
    gboolean last = FALSE;

    for (GList *p = peers; p != NULL && !last; p = p->next) {
      SchedulePeer *peer = p->data;

      if (g_strcmp0 (peer->host_id, host_id) != 0)
        continue;
      last = g_hash_table_size (task->peers) == 1;
      peer_remove (self, peer);
    }
    if (!last)
      push_later (task);
  }
}

Dfly__V1__Task *
dfly_schedule_stat_task (DflySchedule *self, const char *task_id)
{
  ScheduleTask   *task = g_hash_table_lookup (self->tasks, task_id);
  Dfly__V1__Task *message;
  GHashTableIter  iter;
  gpointer        value;

  if (task == NULL)
    return NULL;
  message = g_new0 (Dfly__V1__Task, 1);
  dfly__v1__task__init (message);
  message->id = g_strdup (task->id);
  /* Anyone may ask: never a signed URL's signature or token. */
  message->url =
    task->download != NULL ? dfly_http_public_url (task->download->url) : g_strdup ("");
  message->digest = g_strdup (task->download != NULL ? task->download->digest : "");
  message->tag = g_strdup (task->download != NULL ? task->download->tag : "");
  message->application = g_strdup (task->download != NULL ? task->download->application : "");
  message->piece_length = task->piece_length;
  message->content_length = task->content_length;
  message->piece_count = task->piece_count;
  message->state = DFLY__V1__TASK_STATE__TASK_STATE_RUNNING;
  message->peer_count = g_hash_table_size (task->peers);
  g_hash_table_iter_init (&iter, task->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SchedulePeer *peer = value;

    if (peer->state == DFLY_PEER_STATE_SUCCEEDED) {
      message->state = DFLY__V1__TASK_STATE__TASK_STATE_SUCCEEDED;
      message->has_available_peer = TRUE;
    }
  }
  return message;
}

void
dfly_schedule_free_task_message (Dfly__V1__Task *task)
{
  if (task == NULL)
    return;
  g_free (task->id);
  g_free (task->url);
  g_free (task->digest);
  g_free (task->tag);
  g_free (task->application);
  g_free (task);
}

guint
dfly_schedule_get_n_tasks (DflySchedule *self)
{
  return g_hash_table_size (self->tasks);
}

guint
dfly_schedule_get_n_blocked (DflySchedule *self)
{
  GHashTableIter tasks, peers;
  gpointer       task, peer;
  guint          n = 0;

  g_hash_table_iter_init (&tasks, self->tasks);
  while (g_hash_table_iter_next (&tasks, NULL, &task)) {
    g_hash_table_iter_init (&peers, ((ScheduleTask *) task)->peers);
    while (g_hash_table_iter_next (&peers, NULL, &peer))
      n += g_hash_table_size (((SchedulePeer *) peer)->blocklist);
  }
  return n;
}

guint
dfly_schedule_get_n_peers (DflySchedule *self)
{
  GHashTableIter iter;
  gpointer       value;
  guint          n = 0;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += g_hash_table_size (((ScheduleTask *) value)->peers);
  return n;
}

/* ---- object ---- */

static void
dfly_schedule_dispose (GObject *object)
{
  DflySchedule *self = DFLY_SCHEDULE (object);

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_hash_table_remove_all (self->tasks);
  g_hash_table_remove_all (self->streams);
  g_clear_object (&self->session);
  g_clear_object (&self->algorithm);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (dfly_schedule_parent_class)->dispose (object);
}

static void
dfly_schedule_finalize (GObject *object)
{
  DflySchedule *self = DFLY_SCHEDULE (object);

  g_hash_table_unref (self->tasks);
  g_hash_table_unref (self->streams);
  G_OBJECT_CLASS (dfly_schedule_parent_class)->finalize (object);
}

static void
dfly_schedule_class_init (DflyScheduleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_schedule_dispose;
  G_OBJECT_CLASS (klass)->finalize = dfly_schedule_finalize;
}

static void
dfly_schedule_init (DflySchedule *self)
{
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, task_free);
  self->streams =
    g_hash_table_new_full (NULL, NULL, g_object_unref, (GDestroyNotify) g_hash_table_unref);
}

void
dfly_schedule_set_candidate_limit (DflySchedule *self, guint limit)
{
  self->candidate_limit = limit;
}

DflySchedule *
dfly_schedule_new (DflyContext *context, DflyScheduler *algorithm, const DflyScheduleHosts *hosts)
{
  DflySchedule *self = g_object_new (DFLY_TYPE_SCHEDULE, NULL);

  self->context = g_object_ref (context);
  self->algorithm = g_object_ref (algorithm);
  self->hosts = *hosts;
  self->session = dfly_wire_session_new (context, DFLY_ROLE_FLAG_SEED, 10, 60);
  g_object_set_data (G_OBJECT (self->session), "dfly-schedule", self);
  return self;
}
