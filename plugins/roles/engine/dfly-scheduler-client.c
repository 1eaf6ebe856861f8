/* dfly-scheduler-client.c — a peer's side of the schedulers (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-piece-check.h"
#include "dfly-scheduler-client.h"

#define DOWN_SECONDS   5    /* a scheduler that failed is skipped this long */
#define MAX_CHECKS     8    /* piece checks (accusations) read back at once; more wait */
#define MAX_WAITING    1024 /* piece checks waiting; more are dropped, with a log line */
#define MAX_SCHEDULERS 64   /* known at once, retired ones included: a manager's list is capped */

typedef struct {
  DflySchedulerClient     *client;
  char                    *address;  /* "ip:port" as configured */
  char                    *base_url; /* http://ip:port */
  SoupWebsocketConnection *ws;
  GCancellable            *connecting;
  GQueue                   pending; /* GBytes frames sent before the connection is up */
  GHashTable              *streams; /* "task id/peer id" → DflyAnnounceStream */
  gint64                   down_until;
  gboolean                 retired; /* no longer listed: no new streams, no announces */
} Scheduler;

struct _DflySchedulerClient {
  DflyContext  *context;
  SoupSession  *session;
  GCancellable *checks;       /* piece checks in worker threads; cancelled when freed */
  guint         checking;     /* piece checks in flight */
  GQueue        waiting;      /* PieceCheck * waiting for one of MAX_CHECKS */
  GPtrArray    *schedulers;   /* Scheduler * */
  gulong        announced_id; /* bus host-announced, from this daemon's announcer */
  gulong        left_id;      /* bus host-left */
};

struct _DflyAnnounceStream {
  Scheduler               *scheduler;
  char                    *key;
  DflyAnnounceResponseFunc on_response;
  DflyAnnounceLostFunc     on_lost;
  gpointer                 user_data;
};

static char *
stream_key (const char *task_id, const char *peer_id)
{
  return g_strconcat (task_id, "/", peer_id, NULL);
}

/* ---- host announces ---- */

/* What one host message to one scheduler came to: user_data is
 * "WHAT to ADDRESS", for the log. */
static void
host_message_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *what = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = dfly_wire_post_finish (SOUP_SESSION (source), result, &error);

  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("%s failed: %s", what, error->message);
}

/* Posts message to path on every scheduler, through session. */
static void
post_to_schedulers (DflySchedulerClient *self, SoupSession *session, const char *path,
                    DflyMessageType type, const ProtobufCMessage *message, const char *what)
{
  for (guint i = 0; i < self->schedulers->len; i++) {
    Scheduler       *scheduler = g_ptr_array_index (self->schedulers, i);
    g_autofree char *url = g_strconcat (scheduler->base_url, path, NULL);

    if (scheduler->retired)
      continue;
    dfly_wire_post_async (session, url, type, message, NULL, host_message_done,
                          g_strdup_printf ("%s to %s", what, scheduler->address));
  }
}

/* The daemon's host announcer spoke (on the bus): tell every scheduler. */
static void
on_host_announced (DflyBus *bus, DflyHostInfo *info, gpointer user_data)
{
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                host = DFLY__V1__HOST__INIT;

  dfly_wire_host_to_message (info, &host);
  request.host = &host;
  post_to_schedulers (user_data, ((DflySchedulerClient *) user_data)->session, "/v1/announce-host",
                      DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base, "announcing this host");
}

/* The announcer stopped (or the host's id changed): tell every scheduler
 * this host leaves, so its peers go at once rather than when its announces
 * are missed. Best effort, on a session of its own that the requests keep
 * alive: the client's is aborted when the engine stops, right after. */
static void
on_host_left (DflyBus *bus, DflyHostInfo *info, gpointer user_data)
{
  DflySchedulerClient *self = user_data;
  g_autoptr (SoupSession) session =
    dfly_wire_session_new (self->context, DFLY_ROLE_FLAG_SCHEDULER, 2, 60);
  Dfly__V1__LeaveHostRequest request = DFLY__V1__LEAVE_HOST_REQUEST__INIT;

  request.id = info->id;
  post_to_schedulers (user_data, session, "/v1/leave-host", DFLY_MESSAGE_LEAVE_HOST_REQUEST,
                      &request.base, "telling that this host leaves");
}

/* ---- connections ---- */

/* Every stream on the scheduler is lost; the scheduler counts as down. */
static void
scheduler_lost (Scheduler *scheduler)
{
  g_autoptr (GList) streams = NULL;

  scheduler->down_until = g_get_monotonic_time () + DOWN_SECONDS * G_USEC_PER_SEC;
  if (scheduler->ws != NULL) {
    g_signal_handlers_disconnect_by_data (scheduler->ws, scheduler);
    g_clear_object (&scheduler->ws);
  }
  g_queue_clear_full (&scheduler->pending, (GDestroyNotify) g_bytes_unref);
  /* Handlers free their streams, which removes them from the table. */
  streams = g_hash_table_get_values (scheduler->streams);
  for (GList *l = streams; l != NULL; l = l->next) {
    DflyAnnounceStream *stream = l->data;

    if (g_hash_table_lookup (scheduler->streams, stream->key) == stream)
      stream->on_lost (stream->user_data);
  }
}

/* ---- piece checks: this host accused of serving a bad piece ---- */

typedef struct {
  DflySchedulerClient *client;  /* only once the check was not cancelled */
  DflyStorage         *storage; /* the thread's own ref */
  char                *address; /* the scheduler that asked, which hears the answer */
  char                *task_id;
  char                *peer_id;
  guint32              number;
  char                *reference;
  gboolean             intact;
} PieceCheck;

static void
piece_check_free (PieceCheck *check)
{
  g_clear_object (&check->storage);
  g_free (check->address);
  g_free (check->task_id);
  g_free (check->peer_id);
  g_free (check->reference);
  g_free (check);
}

static void
check_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PieceCheck  *check = task_data;
  DflyStorage *storage = dfly_context_get_storage (check->client->context);
  GError      *error = NULL;

  if (storage == NULL || !dfly_piece_check (storage, check->task_id, check->number,
                                            check->reference, &check->intact, cancellable, &error))
    g_task_return_error (
      task,
      error != NULL ? error : g_error_new_literal (DFLY_ERROR, DFLY_ERROR_FAILED, "no storage"));
  else
    g_task_return_boolean (task, TRUE);
}

static void check_done (GObject *source, GAsyncResult *result, gpointer user_data);

static void
start_check (DflySchedulerClient *self, PieceCheck *check)
{
  g_autoptr (GTask) task = g_task_new (NULL, self->checks, check_done, NULL);

  self->checking++;
  g_task_set_task_data (task, check, (GDestroyNotify) piece_check_free);
  g_task_run_in_thread (task, check_in_thread);
}

/* Answers the scheduler that asked: PieceCheckedRequest on its stream. */
static void
answer_check (DflySchedulerClient *self, const PieceCheck *check)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__PieceCheckedRequest checked = DFLY__V1__PIECE_CHECKED_REQUEST__INIT;

  checked.piece_number = check->number;
  checked.intact = check->intact;
  request.host_id = "";
  request.task_id = check->task_id;
  request.peer_id = check->peer_id;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_PIECE_CHECKED;
  request.piece_checked = &checked;
  for (guint i = 0; i < self->schedulers->len; i++) {
    Scheduler *scheduler = g_ptr_array_index (self->schedulers, i);

    if (strcmp (scheduler->address, check->address) == 0 && scheduler->ws != NULL &&
        soup_websocket_connection_get_state (scheduler->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      dfly_wire_ws_send (scheduler->ws, DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request.base);
  }
}

static void
check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PieceCheck *check = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  DflySchedulerClient *self;

  if (!g_task_propagate_boolean (G_TASK (result), &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the client is gone */
  self = check->client;
  self->checking--;
  if (error != NULL)
    g_message ("task %s: checking piece %u failed: %s", check->task_id, check->number,
               error->message);
  else
    answer_check (self, check);
  if (!g_queue_is_empty (&self->waiting))
    start_check (self, g_queue_pop_head (&self->waiting));
}

/* A scheduler relays a child's accusation: read the piece back, off the
 * main loop. A finished task has no download any more, so this is the
 * host's business, not a stream's. */
static void
check_piece (Scheduler *scheduler, const Dfly__V1__AnnouncePeerResponse *response)
{
  DflySchedulerClient *self = scheduler->client;
  DflyStorage         *storage = dfly_context_get_storage (self->context);
  PieceCheck          *check;

  if (!dfly_task_id_is_valid (response->task_id) || storage == NULL)
    return;
  if (self->waiting.length >= MAX_WAITING) {
    g_message ("task %s: %u piece checks wait already, not checking piece %u", response->task_id,
               self->waiting.length, response->check_piece->piece_number);
    return;
  }
  check = g_new0 (PieceCheck, 1);
  check->client = self;
  check->storage = g_object_ref (storage);
  check->address = g_strdup (scheduler->address);
  check->task_id = g_strdup (response->task_id);
  check->peer_id = g_strdup (response->peer_id);
  check->number = response->check_piece->piece_number;
  check->reference = g_strdup (response->check_piece->digest);
  g_info ("task %s: scheduler %s says a child caught piece %u with a wrong digest; reading it "
          "back",
          check->task_id, scheduler->address, check->number);
  if (self->checking < MAX_CHECKS)
    start_check (self, check);
  else
    g_queue_push_tail (&self->waiting, check);
}

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Scheduler  *scheduler = user_data;
  DflyConfig *config = dfly_context_get_config (scheduler->client->context);
  g_autoptr (GError) error = NULL;
  Dfly__V1__AnnouncePeerResponse *response;
  DflyAnnounceStream             *stream;
  g_autofree char                *key = NULL;

  /* Closing (a bad frame came first): the rest is dropped, not closed twice. */
  if (soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  response = (Dfly__V1__AnnouncePeerResponse *) dfly_wire_unpack (
    g_bytes_get_data (message, NULL), g_bytes_get_size (message), config->protocol.max_message_size,
    DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, &error);
  if (response == NULL) {
    g_message ("scheduler %s sent a bad frame, dropping it: %s", scheduler->address,
               error->message);
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "malformed frame");
    return;
  }
  if (response->response_case == DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_CHECK_PIECE) {
    check_piece (scheduler, response);
    protobuf_c_message_free_unpacked (&response->base, NULL);
    return;
  }
  key = stream_key (response->task_id, response->peer_id);
  stream = g_hash_table_lookup (scheduler->streams, key);
  if (stream != NULL)
    stream->on_response (response, stream->user_data);
  protobuf_c_message_free_unpacked (&response->base, NULL);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, gpointer user_data)
{
  Scheduler *scheduler = user_data;

  g_info ("the connection to scheduler %s closed", scheduler->address);
  scheduler_lost (scheduler);
}

static void
connect_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Scheduler *scheduler = user_data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws;
  DflyConfig              *config;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the client is gone */
  g_clear_object (&scheduler->connecting);
  if (ws == NULL) {
    g_info ("scheduler %s is unreachable: %s", scheduler->address, error->message);
    scheduler_lost (scheduler);
    return;
  }
  config = dfly_context_get_config (scheduler->client->context);
  scheduler->ws = ws;
  dfly_wire_ws_setup (ws, config->protocol.max_message_size);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), scheduler);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), scheduler);
  while (!g_queue_is_empty (&scheduler->pending)) {
    g_autoptr (GBytes) frame = g_queue_pop_head (&scheduler->pending);

    soup_websocket_connection_send_message (ws, SOUP_WEBSOCKET_DATA_BINARY, frame);
  }
}

static void
scheduler_connect (Scheduler *scheduler)
{
  g_autofree char *url = NULL;
  SoupMessage     *msg;
  char            *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };

  if (scheduler->ws != NULL || scheduler->connecting != NULL)
    return;
  url = g_strconcat (scheduler->base_url, "/v1/announce-peer", NULL);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  scheduler->connecting = g_cancellable_new ();
  soup_session_websocket_connect_async (scheduler->client->session, msg, NULL, protocols,
                                        G_PRIORITY_DEFAULT, scheduler->connecting, connect_done,
                                        scheduler);
  g_object_unref (msg);
}

static void
scheduler_free (gpointer data)
{
  Scheduler *scheduler = data;

  if (scheduler->connecting != NULL) {
    g_cancellable_cancel (scheduler->connecting);
    g_clear_object (&scheduler->connecting);
  }
  if (scheduler->ws != NULL) {
    g_signal_handlers_disconnect_by_data (scheduler->ws, scheduler);
    if (soup_websocket_connection_get_state (scheduler->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (scheduler->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_clear_object (&scheduler->ws);
  }
  g_queue_clear_full (&scheduler->pending, (GDestroyNotify) g_bytes_unref);
  g_hash_table_unref (scheduler->streams);
  g_free (scheduler->base_url);
  g_free (scheduler->address);
  g_free (scheduler);
}

/* ---- streams ---- */

static guint
rendezvous_weight (const char *address, const char *task_id)
{
  g_autofree char *key = g_strconcat (address, "/", task_id, NULL);
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize  length = sizeof digest;

  g_checksum_update (checksum, (const guchar *) key, -1);
  g_checksum_get_digest (checksum, digest, &length);
  return (guint) digest[0] << 24 | (guint) digest[1] << 16 | (guint) digest[2] << 8 | digest[3];
}

DflyAnnounceStream *
dfly_scheduler_client_open (DflySchedulerClient *self, const char *task_id, const char *peer_id,
                            DflyAnnounceResponseFunc on_response, DflyAnnounceLostFunc on_lost,
                            gpointer user_data)
{
  gint64              now = g_get_monotonic_time ();
  Scheduler          *best = NULL;
  guint               best_weight = 0;
  DflyAnnounceStream *stream;

  for (guint i = 0; i < self->schedulers->len; i++) {
    Scheduler *scheduler = g_ptr_array_index (self->schedulers, i);
    guint      weight = rendezvous_weight (scheduler->address, task_id);

    if (scheduler->down_until > now || scheduler->retired)
      continue;
    if (best == NULL || weight > best_weight) {
      best = scheduler;
      best_weight = weight;
    }
  }
  if (best == NULL)
    return NULL;
  stream = g_new0 (DflyAnnounceStream, 1);
  stream->scheduler = best;
  stream->key = stream_key (task_id, peer_id);
  stream->on_response = on_response;
  stream->on_lost = on_lost;
  stream->user_data = user_data;
  g_hash_table_replace (best->streams, stream->key, stream);
  scheduler_connect (best);
  return stream;
}

void
dfly_announce_stream_send (DflyAnnounceStream *stream, GBytes *frame)
{
  Scheduler *scheduler = stream->scheduler;

  if (scheduler->ws != NULL &&
      soup_websocket_connection_get_state (scheduler->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (scheduler->ws, SOUP_WEBSOCKET_DATA_BINARY, frame);
  else
    g_queue_push_tail (&scheduler->pending, g_bytes_ref (frame));
}

const char *
dfly_announce_stream_get_address (DflyAnnounceStream *stream)
{
  return stream->scheduler->address;
}

void
dfly_announce_stream_free (DflyAnnounceStream *stream)
{
  if (stream == NULL)
    return;
  if (g_hash_table_lookup (stream->scheduler->streams, stream->key) == stream)
    g_hash_table_steal (stream->scheduler->streams, stream->key);
  g_free (stream->key);
  g_free (stream);
}

/* ---- life ---- */

static Scheduler *
find_scheduler (DflySchedulerClient *self, const char *address)
{
  for (guint i = 0; i < self->schedulers->len; i++) {
    Scheduler *scheduler = g_ptr_array_index (self->schedulers, i);

    if (strcmp (scheduler->address, address) == 0)
      return scheduler;
  }
  return NULL;
}

/* A scheduler at address, added unless known; FALSE if address is not
 * host:port or the table is full. */
static gboolean
add_scheduler (DflySchedulerClient *self, const char *address)
{
  g_autoptr (GSocketConnectable) parsed = g_network_address_parse (address, 0, NULL);
  Scheduler *scheduler = find_scheduler (self, address);

  if (scheduler != NULL) {
    scheduler->retired = FALSE;
    return TRUE;
  }
  if (parsed == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (parsed)) == 0 ||
      self->schedulers->len >= MAX_SCHEDULERS)
    return FALSE;
  scheduler = g_new0 (Scheduler, 1);
  scheduler->client = self;
  scheduler->address = g_strdup (address);
  scheduler->base_url =
    dfly_wire_base_url (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)),
                        g_network_address_get_port (G_NETWORK_ADDRESS (parsed)),
                        dfly_context_get_tls (self->context) != NULL);
  /* A host libsoup makes no URL of (an IPv6 zone, "fe80::1%eth0") would
   * never connect nor fail: not taken. */
  if (!g_uri_is_valid (scheduler->base_url, SOUP_HTTP_URI_FLAGS, NULL)) {
    g_free (scheduler->base_url);
    g_free (scheduler->address);
    g_free (scheduler);
    return FALSE;
  }
  g_queue_init (&scheduler->pending);
  scheduler->streams = g_hash_table_new (g_str_hash, g_str_equal);
  g_ptr_array_add (self->schedulers, scheduler);
  return TRUE;
}

static DflySchedulerClient *
client_new (DflyContext *context)
{
  DflySchedulerClient *self = g_new0 (DflySchedulerClient, 1);

  self->context = g_object_ref (context);
  self->session = dfly_wire_session_new (context, DFLY_ROLE_FLAG_SCHEDULER, 10, 60);
  self->checks = g_cancellable_new ();
  g_queue_init (&self->waiting);
  self->schedulers = g_ptr_array_new_with_free_func (scheduler_free);
  self->announced_id = g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_HOST_ANNOUNCED,
                                         G_CALLBACK (on_host_announced), self);
  self->left_id = g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_HOST_LEFT,
                                    G_CALLBACK (on_host_left), self);
  return self;
}

DflySchedulerClient *
dfly_scheduler_client_new_listed (DflyContext *context)
{
  return client_new (context);
}

guint
dfly_scheduler_client_set_addresses (DflySchedulerClient *self, const char *const *addresses)
{
  guint taken = 0;

  /* Those no longer listed that no stream uses go first, so that they do
   * not count against the cap; the others stay until their streams end (a
   * stream holds its scheduler). */
  for (guint i = self->schedulers->len; i > 0; i--) {
    Scheduler *scheduler = g_ptr_array_index (self->schedulers, i - 1);

    scheduler->retired = !g_strv_contains (
      addresses != NULL ? addresses : (const char *const[]){ NULL }, scheduler->address);
    if (scheduler->retired && g_hash_table_size (scheduler->streams) == 0)
      g_ptr_array_remove_index (self->schedulers, i - 1);
  }
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++) {
    if (add_scheduler (self, addresses[i]))
      taken++;
  }
  return taken;
}

char **
dfly_scheduler_client_dup_addresses (DflySchedulerClient *self)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char        **addresses;

  for (guint i = 0; i < self->schedulers->len; i++) {
    Scheduler *scheduler = g_ptr_array_index (self->schedulers, i);

    if (!scheduler->retired)
      g_strv_builder_add (builder, scheduler->address);
  }
  addresses = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return addresses;
}

DflySchedulerClient *
dfly_scheduler_client_new (DflyContext *context, const char *const *addresses)
{
  DflySchedulerClient *self;

  if (addresses == NULL || addresses[0] == NULL)
    return NULL;
  self = client_new (context);
  for (guint i = 0; addresses[i] != NULL; i++)
    add_scheduler (self, addresses[i]); /* the config checked them */
  return self;
}

void
dfly_scheduler_client_free (DflySchedulerClient *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->announced_id, dfly_context_get_bus (self->context));
  g_clear_signal_handler (&self->left_id, dfly_context_get_bus (self->context));
  /* A check still reading finishes in its thread and answers no one. */
  g_cancellable_cancel (self->checks);
  g_clear_object (&self->checks);
  g_queue_clear_full (&self->waiting, (GDestroyNotify) piece_check_free);
  soup_session_abort (self->session);
  g_ptr_array_unref (self->schedulers);
  g_object_unref (self->session);
  g_object_unref (self->context);
  g_free (self);
}
