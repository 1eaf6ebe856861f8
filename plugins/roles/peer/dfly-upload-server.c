/* dfly-upload-server.c — the peer service (see the header)
 *
 * Piece bytes are read from the task's content file with pread in fixed
 * chunks and appended to a non-accumulating body one chunk at a time (the
 * next one when the last is written), so an upload holds one chunk of
 * memory whatever its size; the rate limiter paces the chunks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dfly-upload-server.h"

#define CHUNK_SIZE        (256 * 1024)
/* A seed sends a piece once and leaves the next copies to the children
 * (BitTorrent's super-seeding): asked again this soon, it answers 429. */
#define FIRST_SERVE_US    (2 * G_USEC_PER_SEC)
#define FIRST_SERVE_KEEP  4096 /* ranges remembered before old ones are dropped */
#define TASKS_PREFIX      "/v1/tasks/"

struct _DflyUploadServer {
  DflyContext           *context;
  DflyStorage           *storage;
  DflyRateLimiter       *limiter;
  gboolean               seed;
  DflyUploadTriggerFunc  trigger;
  gpointer               trigger_data;
  SoupServer            *server;
  DflyWireListener      *listener;
  GPtrArray             *uploads;     /* Upload * running */
  GHashTable            *served;      /* seed: "task/start-end" → monotonic µs first sent */
  guint64                bytes_sent;
  gulong                 piece_id;    /* bus piece-finished */
  GHashTable            *subscribers; /* task id → GPtrArray of sync streams */
  GPtrArray             *streams;     /* every sync stream open */
};

static gsize
max_message_size (DflyUploadServer *self)
{
  return dfly_context_get_config (self->context)->protocol.max_message_size;
}

guint
dfly_upload_server_get_slots (DflyUploadServer *self)
{
  DflyConfig *config = dfly_context_get_config (self->context);

  return self->seed ? config->upload.seed_slots : config->upload.slots;
}

/* ---- piece bytes ---- */

typedef struct {
  DflyUploadServer  *server;
  SoupServerMessage *msg;
  int                fd;
  guint64            offset;    /* next byte to send */
  guint64            end;       /* one past the last */
  guint              resume_id; /* a rate-limit pause */
} Upload;

static void
upload_free (Upload *upload)
{
  g_clear_handle_id (&upload->resume_id, g_source_remove);
  if (upload->fd >= 0)
    close (upload->fd);
  g_free (upload);
}

static void upload_next_chunk (Upload *upload);

static gboolean
on_resume (gpointer user_data)
{
  Upload *upload = user_data;

  upload->resume_id = 0;
  soup_server_message_unpause (upload->msg);
  upload_next_chunk (upload);
  return G_SOURCE_REMOVE;
}

/* Appends the next chunk, or completes the body. */
static void
upload_next_chunk (Upload *upload)
{
  SoupMessageBody *body = soup_server_message_get_response_body (upload->msg);
  gsize want = MIN (CHUNK_SIZE, upload->end - upload->offset);
  g_autofree guint8 *chunk = NULL;
  gssize n;

  if (upload->offset >= upload->end) {
    soup_message_body_complete (body);
    return;
  }
  /* Each chunk is read into a buffer of its own that the body takes over
   * (no copy); the body frees it once written, so one chunk is held at a
   * time. */
  chunk = g_malloc (want);
  do
    n = pread (upload->fd, chunk, want, (off_t) upload->offset);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    /* The body was promised whole: all the server can do is cut it short,
     * which the child sees as a broken transfer and retries elsewhere. */
    g_warning ("upload: reading the content failed at %" G_GUINT64_FORMAT ": %s",
               upload->offset, n < 0 ? g_strerror (errno) : "end of file");
    soup_message_body_complete (body);
    return;
  }
  soup_message_body_append_take (body, g_steal_pointer (&chunk), n);
  upload->offset += n;
  upload->server->bytes_sent += n;
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  Upload *upload = user_data;
  gint64 wait;

  if (upload->offset >= upload->end) {
    upload_next_chunk (upload);
    return;
  }
  wait = dfly_rate_limiter_reserve (upload->server->limiter,
                                    MIN (CHUNK_SIZE, upload->end - upload->offset));
  if (wait <= 0) {
    upload_next_chunk (upload);
    return;
  }
  soup_server_message_pause (msg);
  upload->resume_id = g_timeout_add (MAX (wait / 1000, 1), on_resume, upload);
}

static void
on_upload_finished (SoupServerMessage *msg, gpointer user_data)
{
  Upload *upload = user_data;

  g_signal_handlers_disconnect_by_data (msg, upload);
  g_ptr_array_remove_fast (upload->server->uploads, upload); /* frees it */
}

/* Whether every piece covering [start, end] is committed. */
static gboolean
holds_range (DflyUploadServer *self, const DflyTaskInfo *task, guint64 start, guint64 end)
{
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (GHashTable) held = NULL;

  if (task->piece_length == 0)
    return FALSE;
  if (task->state == DFLY_TASK_STATE_SUCCEEDED)
    return TRUE;
  pieces = dfly_storage_list_pieces (self->storage, task->id, NULL);
  if (pieces == NULL)
    return FALSE;
  held = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < pieces->len; i++) {
    const DflyPieceInfo *piece = g_ptr_array_index (pieces, i);

    g_hash_table_add (held, GUINT_TO_POINTER (piece->number));
  }
  for (guint64 n = start / task->piece_length; n <= end / task->piece_length; n++) {
    if (!g_hash_table_contains (held, GUINT_TO_POINTER ((guint) n)))
      return FALSE;
  }
  return TRUE;
}

static void
refuse (SoupServerMessage *msg, guint status, const char *why)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, why, strlen (why));
}

static char *
range_key (const char *task_id, goffset start, goffset end)
{
  return g_strdup_printf ("%s/%" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT, task_id, start, end);
}

/* Whether a seed may send this range now: not if it sent it within
 * FIRST_SERVE_US (the peer that got it serves the others). */
static gboolean
first_serve (DflyUploadServer *self, const char *key)
{
  gint64 *sent = g_hash_table_lookup (self->served, key);

  return sent == NULL || g_get_monotonic_time () - *sent >= FIRST_SERVE_US;
}

/* Remembers that a seed sends this range now. */
static void
mark_served (DflyUploadServer *self, char *key)
{
  gint64 now = g_get_monotonic_time ();

  if (g_hash_table_size (self->served) >= FIRST_SERVE_KEEP) {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->served);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      if (now - *(gint64 *) value >= FIRST_SERVE_US)
        g_hash_table_iter_remove (&iter);
    }
  }
  g_hash_table_replace (self->served, key, g_memdup2 (&now, sizeof now));
}

static void
serve_task (DflyUploadServer *self, SoupServerMessage *msg, const char *task_id)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr (DflyTaskInfo) task = NULL;
  g_autofree char *path = NULL;
  g_autofree char *key = NULL;
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  Upload *upload;
  int fd;

  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0) {
    refuse (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only\n");
    soup_message_headers_replace (response, "Allow", "GET");
    return;
  }
  if (!dfly_task_id_is_valid (task_id)) {
    refuse (msg, SOUP_STATUS_BAD_REQUEST, "not a task id\n");
    return;
  }
  task = dfly_storage_lookup_task (self->storage, task_id, NULL);
  if (task == NULL || task->content_length <= 0) {
    refuse (msg, SOUP_STATUS_NOT_FOUND, "task not held\n");
    return;
  }
  if (!soup_message_headers_get_ranges (request, task->content_length, &ranges, &n_ranges) ||
      n_ranges != 1) {
    if (ranges != NULL)
      soup_message_headers_free_ranges (request, ranges);
    refuse (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "one byte range is required\n");
    soup_message_headers_set_content_range (response, 0, -1, task->content_length);
    return;
  }
  if (!holds_range (self, task, ranges[0].start, ranges[0].end)) {
    soup_message_headers_free_ranges (request, ranges);
    refuse (msg, SOUP_STATUS_NOT_FOUND, "piece not held\n");
    return;
  }
  key = range_key (task_id, ranges[0].start, ranges[0].end);
  if (self->seed && !first_serve (self, key)) {
    soup_message_headers_free_ranges (request, ranges);
    refuse (msg, STATUS_TOO_MANY_REQUESTS, "piece just sent to another peer: ask it\n");
    soup_message_headers_replace (response, "Retry-After", "1");
    return;
  }
  if (self->uploads->len >= dfly_upload_server_get_slots (self)) {
    soup_message_headers_free_ranges (request, ranges);
    refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "every upload slot is busy\n");
    soup_message_headers_replace (response, "Retry-After", "1");
    return;
  }
  path = dfly_storage_content_path (self->storage, task_id, NULL);
  fd = path != NULL ? open (path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) {
    soup_message_headers_free_ranges (request, ranges);
    refuse (msg, SOUP_STATUS_NOT_FOUND, "task not held\n");
    return;
  }
  if (self->seed)
    mark_served (self, g_steal_pointer (&key));
  upload = g_new0 (Upload, 1);
  upload->server = self;
  upload->msg = msg;
  upload->fd = fd;
  upload->offset = ranges[0].start;
  upload->end = ranges[0].end + 1;
  soup_message_headers_free_ranges (request, ranges);
  g_ptr_array_add (self->uploads, upload);
  soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  soup_message_headers_set_content_type (response, "application/octet-stream", NULL);
  soup_message_headers_set_content_range (response, upload->offset, upload->end - 1,
                                          task->content_length);
  soup_message_headers_set_content_length (response, upload->end - upload->offset);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), upload);
  g_signal_connect (msg, "finished", G_CALLBACK (on_upload_finished), upload);
  /* The first chunk is paced like the rest. */
  on_wrote_chunk (msg, upload);
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
  Dfly__V1__Piece piece = DFLY__V1__PIECE__INIT;

  piece_to_message (info, &piece);
  response.piece = &piece;
  response.task_id = info->task_id;
  dfly_wire_ws_send (stream, DFLY_MESSAGE_SYNC_PIECES_RESPONSE, &response.base);
}

static void
subscribe (DflyUploadServer *self, SoupWebsocketConnection *stream, const char *task_id)
{
  GPtrArray *streams = g_hash_table_lookup (self->subscribers, task_id);
  g_autoptr (GPtrArray) pieces = NULL;

  if (streams == NULL) {
    streams = g_ptr_array_new ();
    g_hash_table_insert (self->subscribers, g_strdup (task_id), streams);
  }
  if (!g_ptr_array_find (streams, stream, NULL))
    g_ptr_array_add (streams, stream);
  /* Then what is held now; any piece committed later comes by the bus. */
  pieces = dfly_storage_list_pieces (self->storage, task_id, NULL);
  for (guint i = 0; pieces != NULL && i < pieces->len; i++)
    send_piece (stream, g_ptr_array_index (pieces, i));
}

static void
on_piece_finished (DflyBus *bus, DflyPieceInfo *piece, gpointer user_data)
{
  DflyUploadServer *self = user_data;
  GPtrArray *streams = g_hash_table_lookup (self->subscribers, piece->task_id);
  guint start;

  if (streams == NULL || streams->len == 0)
    return;
  /* Starting at a random child: the first told asks first, and a seed sends
   * each piece once, so a fixed order would funnel the seed into one child. */
  start = g_random_int_range (0, streams->len);
  for (guint i = 0; i < streams->len; i++)
    send_piece (g_ptr_array_index (streams, (start + i) % streams->len), piece);
}

static void
unsubscribe_all (DflyUploadServer *self, SoupWebsocketConnection *stream)
{
  GHashTableIter iter;
  gpointer value;

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

  dfly_wire_ws_setup (stream, max_message_size (self));
  g_ptr_array_add (self->streams, g_object_ref (stream));
  g_signal_connect (stream, "message", G_CALLBACK (on_sync_message), self);
  g_signal_connect (stream, "closed", G_CALLBACK (on_sync_closed), self);
}

/* ---- one-shot calls ---- */

static void
on_download_piece (DflyUploadServer *self, SoupServerMessage *msg)
{
  Dfly__V1__DownloadPieceRequest *request;
  Dfly__V1__DownloadPieceResponse response = DFLY__V1__DOWNLOAD_PIECE_RESPONSE__INIT;
  Dfly__V1__Piece piece = DFLY__V1__PIECE__INIT;
  g_autoptr (GPtrArray) pieces = NULL;

  request = (Dfly__V1__DownloadPieceRequest *) dfly_wire_read_request (
    msg, max_message_size (self), DFLY_MESSAGE_DOWNLOAD_PIECE_REQUEST);
  if (request == NULL)
    return;
  if (dfly_task_id_is_valid (request->task_id))
    pieces = dfly_storage_list_pieces (self->storage, request->task_id, NULL);
  for (guint i = 0; pieces != NULL && i < pieces->len; i++) {
    const DflyPieceInfo *info = g_ptr_array_index (pieces, i);

    if (info->number != request->piece_number)
      continue;
    piece_to_message (info, &piece);
    response.piece = &piece;
    dfly_wire_reply (msg, DFLY_MESSAGE_DOWNLOAD_PIECE_RESPONSE, &response.base);
    break;
  }
  if (response.piece == NULL)
    refuse (msg, SOUP_STATUS_NOT_FOUND, "piece not held\n");
  protobuf_c_message_free_unpacked (&request->base, NULL);
}

static void
on_download_task (DflyUploadServer *self, SoupServerMessage *msg)
{
  Dfly__V1__DownloadTaskRequest *request;
  g_autoptr (GError) error = NULL;

  if (self->trigger == NULL) {
    refuse (msg, SOUP_STATUS_FORBIDDEN, "not a seed peer\n");
    return;
  }
  request = (Dfly__V1__DownloadTaskRequest *) dfly_wire_read_request (
    msg, max_message_size (self), DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST);
  if (request == NULL)
    return;
  if (!dfly_task_id_is_valid (request->task_id) || request->download == NULL ||
      request->download->url == NULL) {
    refuse (msg, SOUP_STATUS_BAD_REQUEST, "a task id and a download are required\n");
  } else if (!self->trigger (request->task_id, request->download, self->trigger_data, &error)) {
    refuse (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, error->message);
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

  if (g_str_has_prefix (path, TASKS_PREFIX))
    serve_task (self, msg, path + strlen (TASKS_PREFIX));
  else if (strcmp (path, "/v1/download-piece") == 0)
    on_download_piece (self, msg);
  else if (strcmp (path, "/v1/download-task") == 0)
    on_download_task (self, msg);
  else
    refuse (msg, SOUP_STATUS_NOT_FOUND, "no such resource\n");
}

/* ---- life ---- */

DflyUploadServer *
dfly_upload_server_new (DflyContext *context, DflyStorage *storage, DflyRateLimiter *limiter,
                        gboolean seed, DflyUploadTriggerFunc trigger, gpointer trigger_data,
                        GError **error)
{
  DflyConfig *config = dfly_context_get_config (context);
  g_autoptr (DflyUploadServer) self = g_new0 (DflyUploadServer, 1);
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };

  self->context = g_object_ref (context);
  self->storage = g_object_ref (storage);
  self->limiter = limiter;
  self->seed = seed;
  self->trigger = trigger;
  self->trigger_data = trigger_data;
  self->subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_ptr_array_unref);
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->uploads = g_ptr_array_new_with_free_func ((GDestroyNotify) upload_free);
  self->served = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->server = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  dfly_wire_server_cap_bodies (self->server, config->protocol.max_message_size +
                                             DFLY_FRAME_HEADER_SIZE);
  soup_server_add_websocket_handler (self->server, "/v1/sync-pieces", NULL, protocols,
                                     on_sync_pieces, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  self->listener = dfly_wire_listen (self->server, config->host.ip, config->upload.port, 0,
                                     error);
  if (self->listener == NULL)
    return NULL;
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
  g_clear_pointer (&self->listener, dfly_wire_listener_free);
  while (self->streams->len > 0) {
    g_autoptr (SoupWebsocketConnection) stream = g_object_ref (g_ptr_array_index (self->streams, 0));

    g_signal_handlers_disconnect_by_data (stream, self);
    g_ptr_array_remove_index_fast (self->streams, 0);
    if (soup_websocket_connection_get_state (stream) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  }
  /* Uploads still running are cut; their messages must not call back. */
  for (guint i = 0; i < self->uploads->len; i++) {
    Upload *upload = g_ptr_array_index (self->uploads, i);

    g_signal_handlers_disconnect_by_data (upload->msg, upload);
  }
  g_ptr_array_unref (self->uploads);
  g_hash_table_unref (self->served);
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_hash_table_unref (self->subscribers);
  g_ptr_array_unref (self->streams);
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
  return self->uploads->len;
}

guint64
dfly_upload_server_get_bytes_sent (DflyUploadServer *self)
{
  return self->bytes_sent;
}
