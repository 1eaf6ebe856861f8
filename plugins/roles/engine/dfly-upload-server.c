/* dfly-upload-server.c — the peer service (see the header)
 *
 * SoupServer speaks the sync streams and the one-shot calls; connections
 * for piece bytes are diverted at their first request to the piece sender
 * (dfly-piece-sender.c), which sends them with sendfile on threads.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly-http-client.h>

#include "dfly-piece-http.h"
#include "dfly-piece-sender.h"
#include "dfly-seed-order.h"
#include "dfly-upload-server.h"

struct _DflyUploadServer {
  DflyContext          *context;
  DflyStorage          *storage;
  DflyUploadPolicy     *policy;
  DflyUploadTriggerFunc trigger;
  gpointer              trigger_data;
  SoupServer           *server;
  DflyWireListener     *listener;
  DflyPieceSender      *sender;
  gulong                piece_id;    /* bus piece-finished */
  GHashTable           *subscribers; /* task id → GPtrArray of sync streams */
  GPtrArray            *streams;     /* every sync stream open */
  GQueue               *reveals;     /* Reveal, soonest first */
  guint                 reveal_id;
  GCancellable         *cancellable;      /* listings in flight; cancelled when freed */
  guint                 listings;         /* one-shot ones in flight, at most MAX_LISTINGS */
  guint                 sync_listings;    /* sync streams' in flight, at most MAX_SYNC_LISTINGS */
  GQueue                waiting_listings; /* Listing *: sync streams' waiting their turn */
  guint                 subscriptions;    /* of all sync streams, at most MAX_SUBSCRIPTIONS */
  guint                 orders_refused;   /* busy, since the last line saying so */
  gint64                orders_logged_at; /* that line's time, monotonic µs */
};

/* What one peer can make this server hold or do: a child subscribes to the
 * tasks it fetches from this host, at most download.max_tasks (1024 at the
 * most); one-shot listings run on GIO's shared thread pool, a few at once. */
#define MAX_SUBSCRIPTIONS_PER_STREAM 1024
/* And all peers together: a subscription costs a listing and an entry in
 * the subscribers table, which each closing stream is removed from. */
#define MAX_SUBSCRIPTIONS 65536
#define MAX_LISTINGS      32
/* A sync stream's listing holds a task's whole piece list until it is sent
 * (16,384 pieces are some 3 MiB): a few at once, the rest wait their turn,
 * so a flood of subscriptions does not make this process hold them all. */
#define MAX_SYNC_LISTINGS 4
#define SUBSCRIPTIONS_KEY "dfly-upload-subscriptions"
/* Orders refused as busy are logged at most once per this many µs. */
#define ORDERS_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

/* A piece the policy told some of its task's streams of; the others hear
 * of it at `at` (monotonic µs). */
typedef struct {
  DflyPieceInfo *piece;
  GPtrArray     *told; /* streams told already: compared, never sent to */
  gint64         at;
} Reveal;

#define REVEAL_CHECK_MS 100 /* how often reveals that are due are looked for */

static void
reveal_free (Reveal *reveal)
{
  dfly_piece_info_unref (reveal->piece);
  g_ptr_array_unref (reveal->told);
  g_free (reveal);
}

static gint
reveal_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Reveal *x = a, *y = b;

  return (x->at > y->at) - (x->at < y->at);
}

static gsize
max_message_size (DflyUploadServer *self)
{
  return dfly_context_get_config (self->context)->protocol.max_message_size;
}

guint
dfly_upload_server_get_slots (DflyUploadServer *self)
{
  return dfly_piece_sender_get_slots (self->sender);
}

static void
refuse (SoupServerMessage *msg, guint status, const char *why)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, why, strlen (why));
}

/* ---- piece sync streams ---- */

static void
piece_to_message (const DflyPieceInfo *info, Dfly__V1__Piece *piece)
{
  piece->number = info->number;
  piece->offset = info->offset;
  piece->length = info->length;
  piece->digest = info->digest != NULL ? info->digest : "";
  piece->parent_id = info->parent_id != NULL ? info->parent_id : "";
  piece->cost_us = info->cost_us;
}

static void
send_piece (SoupWebsocketConnection *stream, const DflyPieceInfo *info)
{
  Dfly__V1__SyncPiecesResponse response = DFLY__V1__SYNC_PIECES_RESPONSE__INIT;
  Dfly__V1__Piece              piece = DFLY__V1__PIECE__INIT;

  piece_to_message (info, &piece);
  response.piece = &piece;
  response.task_id = info->task_id;
  dfly_wire_ws_send (stream, DFLY_MESSAGE_SYNC_PIECES_RESPONSE, &response.base);
}

typedef struct {
  DflyUploadServer        *server; /* valid unless the listing was cancelled */
  SoupWebsocketConnection *stream;
  char                    *task_id;
} Listing;

static void
listing_free (Listing *listing)
{
  g_object_unref (listing->stream);
  g_free (listing->task_id);
  g_free (listing);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Listing, listing_free)

static void start_listings (DflyUploadServer *self);

static guint
count_subscriptions (SoupWebsocketConnection *stream)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (stream), SUBSCRIPTIONS_KEY));
}

static void
count_subscription (SoupWebsocketConnection *stream)
{
  g_object_set_data (G_OBJECT (stream), SUBSCRIPTIONS_KEY,
                     GUINT_TO_POINTER (count_subscriptions (stream) + 1));
}

static void
list_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError    *error = NULL;
  GPtrArray *pieces = dfly_storage_list_pieces (source, task_data, &error);

  if (pieces != NULL)
    g_task_return_pointer (task, pieces, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

static void
listed (GObject *storage, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Listing) listing = user_data;
  SoupWebsocketConnection *stream = listing->stream;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pieces = g_task_propagate_pointer (G_TASK (result), &error);

  /* Cancelled: the server is gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  listing->server->sync_listings--;
  /* A stream closed meanwhile is not sent to. */
  if (pieces != NULL && g_ptr_array_find (listing->server->streams, stream, NULL) &&
      soup_websocket_connection_get_state (stream) == SOUP_WEBSOCKET_STATE_OPEN) {
    for (guint i = 0; i < pieces->len; i++)
      send_piece (stream, g_ptr_array_index (pieces, i));
  }
  g_clear_pointer (&pieces, g_ptr_array_unref);
  start_listings (listing->server);
}

/* Lists for the sync streams waiting, while fewer than MAX_SYNC_LISTINGS run. */
static void
start_listings (DflyUploadServer *self)
{
  Listing *listing;

  while (self->sync_listings < MAX_SYNC_LISTINGS &&
         (listing = g_queue_pop_head (&self->waiting_listings)) != NULL) {
    g_autoptr (GTask) task = NULL;

    if (soup_websocket_connection_get_state (listing->stream) != SOUP_WEBSOCKET_STATE_OPEN) {
      listing_free (listing);
      continue;
    }
    self->sync_listings++;
    task = g_task_new (self->storage, self->cancellable, listed, listing);
    g_task_set_task_data (task, g_strdup (listing->task_id), g_free);
    g_task_run_in_thread (task, list_thread);
  }
}

static void
subscribe (DflyUploadServer *self, SoupWebsocketConnection *stream, const char *task_id)
{
  GPtrArray *streams = g_hash_table_lookup (self->subscribers, task_id);
  Listing   *listing;

  /* Already subscribed: it heard what was held then, and the bus since.
   * Closing (over its cap): what it still sent is dropped. */
  if ((streams != NULL && g_ptr_array_find (streams, stream, NULL)) ||
      soup_websocket_connection_get_state (stream) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (count_subscriptions (stream) >= MAX_SUBSCRIPTIONS_PER_STREAM) {
    g_info ("closing a piece sync stream: it asks for more than %u tasks",
            MAX_SUBSCRIPTIONS_PER_STREAM);
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                     "too many subscriptions");
    return;
  }
  if (self->subscriptions >= MAX_SUBSCRIPTIONS) {
    g_info ("closing a piece sync stream: %u subscriptions are open, the most this server keeps",
            self->subscriptions);
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                     "too many subscriptions here");
    return;
  }
  if (streams == NULL) {
    streams = g_ptr_array_new ();
    g_hash_table_insert (self->subscribers, g_strdup (task_id), streams);
  }
  g_ptr_array_add (streams, stream);
  count_subscription (stream);
  self->subscriptions++;
  /* Then what is held now, listed off the main loop; a piece committed
   * meanwhile may come twice (by the bus too), which children ignore. */
  listing = g_new0 (Listing, 1);
  listing->server = self;
  listing->stream = g_object_ref (stream);
  listing->task_id = g_strdup (task_id);
  g_queue_push_tail (&self->waiting_listings, listing);
  start_listings (self);
}

/* Tells streams of piece, but those in told (NULL: none). */
static void
send_to_all (GPtrArray *streams, const DflyPieceInfo *piece, GPtrArray *told)
{
  /* Starting at a random child: the first told asks first. */
  guint start = g_random_int_range (0, streams->len);

  for (guint i = 0; i < streams->len; i++) {
    SoupWebsocketConnection *stream = g_ptr_array_index (streams, (start + i) % streams->len);

    if (told == NULL || !g_ptr_array_find (told, stream, NULL))
      send_piece (stream, piece);
  }
}

static gboolean
on_reveal (gpointer user_data)
{
  DflyUploadServer *self = user_data;
  gint64            now = g_get_monotonic_time ();
  Reveal           *reveal;

  while ((reveal = g_queue_peek_head (self->reveals)) != NULL && reveal->at <= now) {
    GPtrArray *streams = g_hash_table_lookup (self->subscribers, reveal->piece->task_id);

    if (streams != NULL && streams->len > 0)
      send_to_all (streams, reveal->piece, reveal->told);
    reveal_free (g_queue_pop_head (self->reveals));
  }
  if (!g_queue_is_empty (self->reveals))
    return G_SOURCE_CONTINUE;
  self->reveal_id = 0;
  return G_SOURCE_REMOVE;
}

/* The policy says which streams hear of a new piece now; the rest hear of
 * it when it says. */
static void
on_piece_finished (DflyBus *bus, DflyPieceInfo *piece, gpointer user_data)
{
  DflyUploadServer *self = user_data;
  GPtrArray        *streams = g_hash_table_lookup (self->subscribers, piece->task_id);
  g_autoptr (GPtrArray) now = NULL;
  gint64  reveal_after = 0;
  Reveal *reveal;

  if (streams == NULL || streams->len == 0)
    return;
  now = dfly_upload_policy_announce (self->policy, piece, streams, &reveal_after);
  if (now->len > 0)
    send_to_all (now, piece, NULL);
  if (now->len >= streams->len)
    return;
  /* Referenced, so that a stream closed meanwhile is never mistaken for a
   * new one at its address. */
  reveal = g_new0 (Reveal, 1);
  reveal->piece = dfly_piece_info_ref (piece);
  reveal->told = g_ptr_array_new_full (now->len, g_object_unref);
  for (guint i = 0; i < now->len; i++)
    g_ptr_array_add (reveal->told, g_object_ref (g_ptr_array_index (now, i)));
  reveal->at = g_get_monotonic_time () + reveal_after;
  g_queue_insert_sorted (self->reveals, reveal, reveal_compare, NULL);
  if (self->reveal_id == 0)
    self->reveal_id = g_timeout_add (REVEAL_CHECK_MS, on_reveal, self);
}

static void
unsubscribe_all (DflyUploadServer *self, SoupWebsocketConnection *stream)
{
  GHashTableIter iter;
  gpointer       value;

  self->subscriptions -= MIN (self->subscriptions, count_subscriptions (stream));
  g_hash_table_iter_init (&iter, self->subscribers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    GPtrArray *streams = value;

    g_ptr_array_remove (streams, stream);
    if (streams->len == 0)
      g_hash_table_iter_remove (&iter);
  }
}

static void
on_sync_message (SoupWebsocketConnection *stream, gint type, GBytes *message, gpointer user_data)
{
  DflyUploadServer *self = user_data;
  g_autoptr (GError) error = NULL;
  Dfly__V1__SyncPiecesRequest *request;

  /* Closing (a bad frame, over its cap): what it sent meanwhile is dropped,
   * and it is not closed twice. */
  if (soup_websocket_connection_get_state (stream) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  request = (Dfly__V1__SyncPiecesRequest *) dfly_wire_unpack (
    g_bytes_get_data (message, NULL), g_bytes_get_size (message), max_message_size (self),
    DFLY_MESSAGE_SYNC_PIECES_REQUEST, NULL, &error);
  if (type != SOUP_WEBSOCKET_DATA_BINARY || request == NULL ||
      !dfly_task_id_is_valid (request->task_id)) {
    g_info ("closing a piece sync stream: %s", error != NULL ? error->message : "bad request");
    if (request != NULL)
      protobuf_c_message_free_unpacked (&request->base, NULL);
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "malformed frame");
    return;
  }
  subscribe (self, stream, request->task_id);
  protobuf_c_message_free_unpacked (&request->base, NULL);
}

static void
on_sync_closed (SoupWebsocketConnection *stream, gpointer user_data)
{
  DflyUploadServer *self = user_data;

  g_signal_handlers_disconnect_by_data (stream, self);
  unsubscribe_all (self, stream);
  g_ptr_array_remove (self->streams, stream);
}

static void
on_sync_pieces (SoupServer *server, SoupServerMessage *msg, const char *path,
                SoupWebsocketConnection *stream, gpointer user_data)
{
  DflyUploadServer *self = user_data;

  dfly_wire_ws_accept (msg, stream, max_message_size (self));
  g_ptr_array_add (self->streams, g_object_ref (stream));
  g_signal_connect (stream, "message", G_CALLBACK (on_sync_message), self);
  g_signal_connect (stream, "closed", G_CALLBACK (on_sync_closed), self);
}

/* ---- one-shot calls ---- */

typedef struct {
  DflyUploadServer  *server; /* valid unless the listing was cancelled */
  SoupServerMessage *msg;
  guint32            number;
  gboolean           gone; /* the client went away meanwhile */
} PieceQuery;

static void
piece_query_free (PieceQuery *query)
{
  g_signal_handlers_disconnect_by_data (query->msg, query);
  g_object_unref (query->msg);
  g_free (query);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PieceQuery, piece_query_free)

static void
on_query_gone (SoupServerMessage *msg, gpointer user_data)
{
  ((PieceQuery *) user_data)->gone = TRUE;
}

static void
piece_listed (GObject *storage, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PieceQuery) query = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) pieces = g_task_propagate_pointer (G_TASK (result), &error);
  Dfly__V1__DownloadPieceResponse response = DFLY__V1__DOWNLOAD_PIECE_RESPONSE__INIT;
  Dfly__V1__Piece                 piece = DFLY__V1__PIECE__INIT;

  /* Cancelled: the server is gone, and the message with it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  query->server->listings--;
  if (query->gone)
    return;
  for (guint i = 0; pieces != NULL && i < pieces->len; i++) {
    const DflyPieceInfo *info = g_ptr_array_index (pieces, i);

    if (info->number == query->number) {
      piece_to_message (info, &piece);
      response.piece = &piece;
      dfly_wire_reply (query->msg, DFLY_MESSAGE_DOWNLOAD_PIECE_RESPONSE, &response.base);
      break;
    }
  }
  if (response.piece == NULL)
    refuse (query->msg, SOUP_STATUS_NOT_FOUND, "piece not held\n");
  soup_server_message_unpause (query->msg);
}

/* Answered once the task's pieces are listed, off the main loop. */
static void
on_download_piece (DflyUploadServer *self, SoupServerMessage *msg)
{
  Dfly__V1__DownloadPieceRequest *request;
  g_autoptr (GTask) task = NULL;
  PieceQuery *query;

  request = (Dfly__V1__DownloadPieceRequest *) dfly_wire_read_request (
    msg, max_message_size (self), DFLY_MESSAGE_DOWNLOAD_PIECE_REQUEST);
  if (request == NULL)
    return;
  if (!dfly_task_id_is_valid (request->task_id)) {
    refuse (msg, SOUP_STATUS_NOT_FOUND, "piece not held\n");
    protobuf_c_message_free_unpacked (&request->base, NULL);
    return;
  }
  if (self->listings >= MAX_LISTINGS) {
    refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy\n");
    protobuf_c_message_free_unpacked (&request->base, NULL);
    return;
  }
  self->listings++;
  query = g_new0 (PieceQuery, 1);
  query->server = self;
  query->msg = g_object_ref (msg);
  query->number = request->piece_number;
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_query_gone), query);
  g_signal_connect (msg, "finished", G_CALLBACK (on_query_gone), query);
  soup_server_message_pause (msg);
  task = g_task_new (self->storage, self->cancellable, piece_listed, query);
  g_task_set_task_data (task, g_strdup (request->task_id), g_free);
  g_task_run_in_thread (task, list_thread);
  protobuf_c_message_free_unpacked (&request->base, NULL);
}

/* 503, and a line saying so at most every ORDERS_LOG_INTERVAL_US. */
static void
refuse_busy_order (DflyUploadServer *self, SoupServerMessage *msg, const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  self->orders_refused++;
  if (self->orders_logged_at == 0 || now - self->orders_logged_at >= ORDERS_LOG_INTERVAL_US) {
    g_message ("refused %u order(s) to fetch a task: %s", self->orders_refused, error->message);
    self->orders_refused = 0;
    self->orders_logged_at = now;
  }
  refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
}

static void
on_download_task (DflyUploadServer *self, SoupServerMessage *msg)
{
  Dfly__V1__DownloadTaskRequest *request;
  g_autoptr (GError) error = NULL;
  g_autofree char *caller = dfly_seed_order_caller (msg);
  g_autofree char *url = NULL;

  if (self->trigger == NULL) {
    refuse (msg, SOUP_STATUS_FORBIDDEN, "not a seed peer\n");
    return;
  }
  if (!dfly_seed_order_check (msg, &error)) {
    g_message ("refused an order from %s: %s", caller, error->message);
    refuse (msg, SOUP_STATUS_FORBIDDEN, error->message);
    return;
  }
  request = (Dfly__V1__DownloadTaskRequest *) dfly_wire_read_request (
    msg, max_message_size (self), DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST);
  if (request == NULL)
    return;
  /* Who made this seed fetch what: the URL without its query or user info. */
  url = dfly_http_public_url (request->download != NULL ? request->download->url : NULL);
  g_info ("order from %s: task %s, %s", caller,
          dfly_task_id_is_valid (request->task_id) ? request->task_id : "(not a task id)", url);
  if (!dfly_task_id_is_valid (request->task_id) || request->download == NULL ||
      request->download->url == NULL) {
    refuse (msg, SOUP_STATUS_BAD_REQUEST, "a task id and a download are required\n");
  } else if (!self->trigger (request->task_id, request->download, self->trigger_data, &error)) {
    if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_BUSY)) {
      refuse_busy_order (self, msg, error);
    } else {
      refuse (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, error->message);
    }
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
  }
  protobuf_c_message_free_unpacked (&request->base, NULL);
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  DflyUploadServer *self = user_data;

  if (strcmp (path, "/v1/download-piece") == 0) {
    on_download_piece (self, msg);
  } else if (strcmp (path, "/v1/download-task") == 0) {
    on_download_task (self, msg);
  } else if (g_str_has_prefix (path, "/v1/tasks/")) {
    /* Piece bytes are the piece sender's, on connections that start with
     * a piece GET; this connection started with something else. */
    if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0) {
      refuse (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only\n");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
    } else {
      refuse (msg, SOUP_STATUS_BAD_REQUEST,
              "a piece request must be the first on its connection: ask again on a new one\n");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
    }
  } else {
    refuse (msg, SOUP_STATUS_NOT_FOUND, "no such resource\n");
  }
}

/* ---- life ---- */

static void
on_piece_connection (GIOStream *stream, gpointer user_data)
{
  dfly_piece_sender_take (user_data, stream);
}

DflyUploadServer *
dfly_upload_server_new (DflyContext *context, DflyStorage *storage, DflyRateLimiter *limiter,
                        DflyHostType host_type, DflyUploadPolicy *policy,
                        DflyUploadTriggerFunc trigger, gpointer trigger_data, GError **error)
{
  DflyConfig *config = dfly_context_get_config (context);
  g_autoptr (DflyUploadServer) self = g_new0 (DflyUploadServer, 1);
  char          *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  DflyWireLimits limits;

  self->context = g_object_ref (context);
  self->storage = g_object_ref (storage);
  self->policy = g_object_ref (policy);
  self->trigger = trigger;
  self->trigger_data = trigger_data;
  self->subscribers =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->sender = dfly_piece_sender_new (context, storage, limiter, host_type, policy);
  self->reveals = g_queue_new ();
  self->cancellable = g_cancellable_new ();
  self->server = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  dfly_wire_server_cap_bodies (self->server,
                               config->protocol.max_message_size + DFLY_FRAME_HEADER_SIZE);
  soup_server_add_websocket_handler (self->server, "/v1/sync-pieces", NULL, protocols,
                                     on_sync_pieces, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  dfly_wire_limits_from_config (config, &limits);
  self->listener =
    dfly_wire_listen (self->server, config->host.ip, config->upload.port, &limits, error);
  if (self->listener == NULL)
    return NULL;
  dfly_wire_listener_set_tls (self->listener, dfly_context_get_tls (context));
  dfly_wire_listener_divert (self->listener, DFLY_PIECE_REQUEST_PREFIX, on_piece_connection,
                             self->sender);
  self->piece_id = g_signal_connect (dfly_context_get_bus (context), DFLY_BUS_PIECE_FINISHED,
                                     G_CALLBACK (on_piece_finished), self);
  g_info ("upload server listening on %s port %u", config->host.ip,
          dfly_wire_listener_get_port (self->listener));
  return g_steal_pointer (&self);
}

void
dfly_upload_server_free (DflyUploadServer *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->piece_id, dfly_context_get_bus (self->context));
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->listener, dfly_wire_listener_free);
  g_clear_handle_id (&self->reveal_id, g_source_remove);
  g_queue_free_full (self->reveals, (GDestroyNotify) reveal_free);
  g_queue_clear_full (&self->waiting_listings, (GDestroyNotify) listing_free);
  while (self->streams->len > 0) {
    g_autoptr (SoupWebsocketConnection) stream =
      g_object_ref (g_ptr_array_index (self->streams, 0));

    g_signal_handlers_disconnect_by_data (stream, self);
    g_ptr_array_remove_index_fast (self->streams, 0);
    if (soup_websocket_connection_get_state (stream) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  }
  /* Uploads still running are cut. */
  dfly_piece_sender_free (self->sender);
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_hash_table_unref (self->subscribers);
  g_ptr_array_unref (self->streams);
  g_object_unref (self->policy);
  g_object_unref (self->storage);
  g_object_unref (self->context);
  g_free (self);
}

guint16
dfly_upload_server_get_port (DflyUploadServer *self)
{
  return dfly_wire_listener_get_port (self->listener);
}

guint
dfly_upload_server_get_active (DflyUploadServer *self)
{
  return dfly_piece_sender_get_active (self->sender);
}

guint64
dfly_upload_server_get_bytes_sent (DflyUploadServer *self)
{
  return dfly_piece_sender_get_bytes_sent (self->sender);
}
