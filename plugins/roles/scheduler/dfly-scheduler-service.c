/* dfly-scheduler-service.c — the scheduler's side of the wire
 *
 *   GET  /v1/announce-peer   WebSocket: AnnouncePeerRequest frames in,
 *                            AnnouncePeerResponse frames out, every task of
 *                            a host on one connection
 *   POST /v1/announce-host   AnnounceHostRequest → empty 200
 *   POST /v1/leave-host      LeaveHostRequest → empty 200
 *   POST /v1/stat-task       StatTaskRequest → Task, or 404
 *
 * A frame that does not decode closes its stream (or gets 400): the
 * connection that sent it is not trusted further.
 *
 * Under TLS a host speaks only for itself: every announce frame, host
 * announce and leave must carry the host id of the caller's certificate
 * (else the stream is closed, or 403), and only a certificate granting the
 * seed role announces a seed host. On a plaintext link (no identity) the
 * network is trusted, as before.
 */
#include "config.h"

#include <dfly/dfly-identity.h>

#include "dfly-scheduler-service.h"

/* The range of host.announce_interval, in seconds: a host announcing
 * another would be kept for a time no dflyd asks for. */
#define MIN_ANNOUNCE_INTERVAL 1
#define MAX_ANNOUNCE_INTERVAL 3600

struct _DflySchedulerService {
  GObject           parent_instance;
  DflyContext      *context;
  DflySchedule     *schedule;
  SoupServer       *server;
  DflyWireListener *listener;
  GPtrArray        *streams; /* SoupWebsocketConnection * open now */
};

G_DEFINE_FINAL_TYPE (DflySchedulerService, dfly_scheduler_service, G_TYPE_OBJECT)

enum { SIGNAL_HOST_ANNOUNCED, SIGNAL_HOST_LEFT, N_SIGNALS };
static guint signals[N_SIGNALS];

static gsize
max_message_size (DflySchedulerService *self)
{
  return dfly_context_get_config (self->context)->protocol.max_message_size;
}

/* FALSE, with a log line, when the caller's certificate is not host_id's. */
static gboolean
speaks_for (const DflyIdentity *identity, const char *host_id, const char *what)
{
  if (identity == NULL || g_strcmp0 (dfly_identity_get_host_id (identity), host_id) == 0)
    return TRUE;
  g_message ("%s for host %s from host %s refused: a host speaks only for itself", what,
             host_id != NULL ? host_id : "(none)", dfly_identity_get_host_id (identity));
  return FALSE;
}

/* ---- streams ---- */

static void
on_stream_message (SoupWebsocketConnection *stream, gint type, GBytes *message, gpointer user_data)
{
  DflySchedulerService *self = user_data;
  g_autoptr (GError) error = NULL;
  ProtobufCMessage *decoded;

  /* Closing (a bad frame came first): what it sent meanwhile is dropped,
   * and it is not closed twice. */
  if (soup_websocket_connection_get_state (stream) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (type != SOUP_WEBSOCKET_DATA_BINARY) {
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
                                     "binary frames only");
    return;
  }
  decoded =
    dfly_wire_unpack (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                      max_message_size (self), DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, NULL, &error);
  if (decoded == NULL) {
    g_info ("closing an announce stream: %s", error->message);
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "malformed frame");
    return;
  }
  if (!speaks_for (dfly_identity_of_websocket (stream),
                   ((Dfly__V1__AnnouncePeerRequest *) decoded)->host_id, "an announce")) {
    soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                     "not this certificate's host");
  } else {
    dfly_schedule_handle (self->schedule, stream, (Dfly__V1__AnnouncePeerRequest *) decoded);
  }
  protobuf_c_message_free_unpacked (decoded, NULL);
}

static void
on_stream_closed (SoupWebsocketConnection *stream, gpointer user_data)
{
  DflySchedulerService *self = user_data;

  g_signal_handlers_disconnect_by_data (stream, self);
  dfly_schedule_stream_closed (self->schedule, stream);
  g_ptr_array_remove (self->streams, stream);
}

static void
on_announce_peer (SoupServer *server, SoupServerMessage *msg, const char *path,
                  SoupWebsocketConnection *stream, gpointer user_data)
{
  DflySchedulerService *self = user_data;

  dfly_wire_ws_accept (msg, stream, max_message_size (self));
  g_ptr_array_add (self->streams, g_object_ref (stream));
  g_signal_connect (stream, "message", G_CALLBACK (on_stream_message), self);
  g_signal_connect (stream, "closed", G_CALLBACK (on_stream_closed), self);
}

/* ---- one-shot calls ---- */

static void
refuse (SoupServerMessage *msg, guint status, const char *why)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, why, strlen (why));
}

static void
bad_request (SoupServerMessage *msg, const GError *error)
{
  refuse (msg, SOUP_STATUS_BAD_REQUEST, error->message);
}

/* Why this caller may not announce host, or NULL. */
static char *
announce_refusal (SoupServerMessage *msg, const DflyHostInfo *host)
{
  const DflyIdentity *identity = dfly_identity_of_message (msg);

  if (!speaks_for (identity, host->id, "a host announce"))
    return g_strdup_printf ("host %s: not this certificate's host", host->id);
  if (identity != NULL && host->type != DFLY_HOST_TYPE_NORMAL &&
      !dfly_identity_has_role (identity, DFLY_ROLE_FLAG_SEED)) {
    g_message ("host %s announces itself as a %s seed without the seed role; refused", host->id,
               dfly_host_type_to_string (host->type));
    return g_strdup_printf ("host %s: a seed needs a certificate with the seed role", host->id);
  }
  return NULL;
}

static void
on_announce_host (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  DflySchedulerService          *self = user_data;
  Dfly__V1__AnnounceHostRequest *request;
  g_autoptr (DflyHostInfo) host = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *refusal = NULL;

  request = (Dfly__V1__AnnounceHostRequest *) dfly_wire_read_request (
    msg, max_message_size (self), DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST);
  if (request == NULL)
    return;
  host = dfly_wire_host_from_message (request->host, &error);
  protobuf_c_message_free_unpacked (&request->base, NULL);
  if (host == NULL) {
    bad_request (msg, error);
    return;
  }
  if (host->announce_interval < MIN_ANNOUNCE_INTERVAL ||
      host->announce_interval > MAX_ANNOUNCE_INTERVAL) {
    g_autofree char *why =
      g_strdup_printf ("host %s: announce interval %u s is out of range (%u..%u)", host->id,
                       host->announce_interval, MIN_ANNOUNCE_INTERVAL, MAX_ANNOUNCE_INTERVAL);

    g_message ("%s; refused", why);
    refuse (msg, SOUP_STATUS_BAD_REQUEST, why);
    return;
  }
  refusal = announce_refusal (msg, host);
  if (refusal != NULL) {
    refuse (msg, SOUP_STATUS_FORBIDDEN, refusal);
    return;
  }
  g_signal_emit (self, signals[SIGNAL_HOST_ANNOUNCED], 0, host);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static void
on_leave_host (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  DflySchedulerService       *self = user_data;
  Dfly__V1__LeaveHostRequest *request;
  g_autoptr (DflyHostInfo) host = NULL;

  request = (Dfly__V1__LeaveHostRequest *) dfly_wire_read_request (msg, max_message_size (self),
                                                                   DFLY_MESSAGE_LEAVE_HOST_REQUEST);
  if (request == NULL)
    return;
  host = dfly_host_info_new (request->id);
  protobuf_c_message_free_unpacked (&request->base, NULL);
  if (!speaks_for (dfly_identity_of_message (msg), host->id, "a leave")) {
    refuse (msg, SOUP_STATUS_FORBIDDEN, "a host leaves only for itself");
    return;
  }
  g_signal_emit (self, signals[SIGNAL_HOST_LEFT], 0, host);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static void
on_stat_task (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  DflySchedulerService      *self = user_data;
  Dfly__V1__StatTaskRequest *request;
  Dfly__V1__Task            *task;

  request = (Dfly__V1__StatTaskRequest *) dfly_wire_read_request (msg, max_message_size (self),
                                                                  DFLY_MESSAGE_STAT_TASK_REQUEST);
  if (request == NULL)
    return;
  task = dfly_schedule_stat_task (self->schedule, request->task_id);
  protobuf_c_message_free_unpacked (&request->base, NULL);
  if (task == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  dfly_wire_reply (msg, DFLY_MESSAGE_TASK, &task->base);
  dfly_schedule_free_task_message (task);
}

/* ---- object ---- */

static void
close_streams (DflySchedulerService *self)
{
  while (self->streams->len > 0) {
    g_autoptr (SoupWebsocketConnection) stream =
      g_object_ref (g_ptr_array_index (self->streams, 0));

    g_signal_handlers_disconnect_by_data (stream, self);
    g_ptr_array_remove_index_fast (self->streams, 0);
    dfly_schedule_stream_closed (self->schedule, stream);
    if (soup_websocket_connection_get_state (stream) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (stream, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  }
}

static void
dfly_scheduler_service_dispose (GObject *object)
{
  DflySchedulerService *self = DFLY_SCHEDULER_SERVICE (object);

  g_clear_pointer (&self->listener, dfly_wire_listener_free);
  if (self->streams != NULL)
    close_streams (self);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_object (&self->schedule);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (dfly_scheduler_service_parent_class)->dispose (object);
}

static void
dfly_scheduler_service_finalize (GObject *object)
{
  g_ptr_array_unref (DFLY_SCHEDULER_SERVICE (object)->streams);
  G_OBJECT_CLASS (dfly_scheduler_service_parent_class)->finalize (object);
}

static void
dfly_scheduler_service_class_init (DflySchedulerServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_scheduler_service_dispose;
  G_OBJECT_CLASS (klass)->finalize = dfly_scheduler_service_finalize;
  /* A host announced itself (or left) over the protocol: the role keeps
   * the hosts table. (DflyHostInfo) */
  signals[SIGNAL_HOST_ANNOUNCED] =
    g_signal_new ("host-announced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, DFLY_TYPE_HOST_INFO | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_HOST_LEFT] =
    g_signal_new ("host-left", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, DFLY_TYPE_HOST_INFO | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
dfly_scheduler_service_init (DflySchedulerService *self)
{
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
}

DflySchedulerService *
dfly_scheduler_service_new (DflyContext *context, DflySchedule *schedule, GError **error)
{
  g_autoptr (DflySchedulerService) self = g_object_new (DFLY_TYPE_SCHEDULER_SERVICE, NULL);
  DflyConfig    *config = dfly_context_get_config (context);
  char          *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  DflyWireLimits limits;

  self->context = g_object_ref (context);
  self->schedule = g_object_ref (schedule);
  self->server = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  dfly_wire_server_cap_bodies (self->server,
                               config->protocol.max_message_size + DFLY_FRAME_HEADER_SIZE);
  soup_server_add_websocket_handler (self->server, "/v1/announce-peer", NULL, protocols,
                                     on_announce_peer, self, NULL);
  soup_server_add_handler (self->server, "/v1/announce-host", on_announce_host, self, NULL);
  soup_server_add_handler (self->server, "/v1/leave-host", on_leave_host, self, NULL);
  soup_server_add_handler (self->server, "/v1/stat-task", on_stat_task, self, NULL);
  dfly_wire_limits_from_config (config, &limits);
  self->listener =
    dfly_wire_listen (self->server, config->host.ip, config->scheduler.port, &limits, error);
  if (self->listener == NULL)
    return NULL;
  dfly_wire_listener_set_tls (self->listener, dfly_context_get_tls (context));
  g_info ("scheduler service listening on %s port %u", config->host.ip,
          dfly_wire_listener_get_port (self->listener));
  return g_steal_pointer (&self);
}

guint16
dfly_scheduler_service_get_port (DflySchedulerService *self)
{
  return dfly_wire_listener_get_port (self->listener);
}

SoupServer *
dfly_scheduler_service_get_server (DflySchedulerService *self)
{
  return self->server;
}
