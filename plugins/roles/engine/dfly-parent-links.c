/* dfly-parent-links.c — piece sync streams to parents (see the header) */
#include "config.h"

#include "dfly-parent-links.h"

typedef struct {
  DflyParentLinks         *links;
  char                    *base_url;
  SoupWebsocketConnection *ws;
  GCancellable            *connecting;
  GHashTable              *subscriptions; /* task id → DflyParentSubscription */
} Link;

struct _DflyParentLinks {
  DflyContext *context;
  SoupSession *session;
  GHashTable  *links; /* base url → Link */
};

struct _DflyParentSubscription {
  Link               *link;
  char               *task_id;
  DflyParentPieceFunc on_piece;
  DflyParentLostFunc  on_lost;
  gpointer            user_data;
};

static void
send_sync_request (Link *link, const char *task_id)
{
  Dfly__V1__SyncPiecesRequest request = DFLY__V1__SYNC_PIECES_REQUEST__INIT;

  request.task_id = (char *) task_id;
  dfly_wire_ws_send (link->ws, DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
}

/* The link is gone: every subscription hears it, and the link is freed. */
static void
link_lost (Link *link)
{
  DflyParentLinks *links = link->links;
  g_autofree char *base_url = g_strdup (link->base_url);
  g_autoptr (GList) subscriptions = NULL;

  g_hash_table_steal (links->links, link->base_url);
  if (link->ws != NULL)
    g_signal_handlers_disconnect_by_data (link->ws, link);
  subscriptions = g_hash_table_get_values (link->subscriptions);
  for (GList *l = subscriptions; l != NULL; l = l->next) {
    DflyParentSubscription *subscription = l->data;

    /* The handler frees it; it must not reach back into this link. */
    subscription->link = NULL;
  }
  g_hash_table_steal_all (link->subscriptions);
  for (GList *l = subscriptions; l != NULL; l = l->next) {
    DflyParentSubscription *subscription = l->data;

    subscription->on_lost (base_url, subscription->user_data);
  }
  g_clear_object (&link->ws);
  g_clear_object (&link->connecting);
  g_hash_table_unref (link->subscriptions);
  g_free (link->base_url);
  g_free (link);
}

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Link       *link = user_data;
  DflyConfig *config = dfly_context_get_config (link->links->context);
  g_autoptr (GError) error = NULL;
  Dfly__V1__SyncPiecesResponse *response;
  DflyParentSubscription       *subscription;

  /* Closing (a bad frame came first): the rest is dropped, not closed twice. */
  if (soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  response = (Dfly__V1__SyncPiecesResponse *) dfly_wire_unpack (
    g_bytes_get_data (message, NULL), g_bytes_get_size (message), config->protocol.max_message_size,
    DFLY_MESSAGE_SYNC_PIECES_RESPONSE, NULL, &error);
  if (response == NULL) {
    g_info ("parent %s sent a bad frame, dropping it: %s", link->base_url, error->message);
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "malformed frame");
    return;
  }
  subscription =
    response->piece != NULL ? g_hash_table_lookup (link->subscriptions, response->task_id) : NULL;
  if (subscription != NULL)
    subscription->on_piece (link->base_url, response->piece, subscription->user_data);
  protobuf_c_message_free_unpacked (&response->base, NULL);
}

static void
on_closed (SoupWebsocketConnection *ws, gpointer user_data)
{
  link_lost (user_data);
}

static void
connect_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws;
  DflyConfig              *config;
  GHashTableIter           iter;
  gpointer                 key;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the links are gone */
  if (ws == NULL) {
    g_info ("parent %s is unreachable: %s", link->base_url, error->message);
    link_lost (link);
    return;
  }
  config = dfly_context_get_config (link->links->context);
  link->ws = ws;
  g_clear_object (&link->connecting);
  dfly_wire_ws_setup (ws, config->protocol.max_message_size);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), link);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), link);
  g_hash_table_iter_init (&iter, link->subscriptions);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    send_sync_request (link, key);
}

DflyParentSubscription *
dfly_parent_links_subscribe (DflyParentLinks *self, const char *base_url, const char *task_id,
                             DflyParentPieceFunc on_piece, DflyParentLostFunc on_lost,
                             gpointer user_data)
{
  Link                   *link = g_hash_table_lookup (self->links, base_url);
  DflyParentSubscription *subscription = g_new0 (DflyParentSubscription, 1);

  if (link == NULL) {
    g_autofree char *url = g_strconcat (base_url, "/v1/sync-pieces", NULL);
    char            *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
    SoupMessage     *msg = soup_message_new (SOUP_METHOD_GET, url);

    link = g_new0 (Link, 1);
    link->links = self;
    link->base_url = g_strdup (base_url);
    link->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
    link->connecting = g_cancellable_new ();
    g_hash_table_insert (self->links, link->base_url, link);
    soup_session_websocket_connect_async (self->session, msg, NULL, protocols, G_PRIORITY_DEFAULT,
                                          link->connecting, connect_done, link);
    g_object_unref (msg);
  }
  subscription->link = link;
  subscription->task_id = g_strdup (task_id);
  subscription->on_piece = on_piece;
  subscription->on_lost = on_lost;
  subscription->user_data = user_data;
  g_hash_table_replace (link->subscriptions, subscription->task_id, subscription);
  if (link->ws != NULL)
    send_sync_request (link, task_id);
  return subscription;
}

void
dfly_parent_subscription_free (DflyParentSubscription *subscription)
{
  if (subscription == NULL)
    return;
  /* The parent keeps sending this task's pieces; they are dropped here. */
  if (subscription->link != NULL && g_hash_table_lookup (subscription->link->subscriptions,
                                                         subscription->task_id) == subscription)
    g_hash_table_remove (subscription->link->subscriptions, subscription->task_id);
  g_free (subscription->task_id);
  g_free (subscription);
}

DflyParentLinks *
dfly_parent_links_new (DflyContext *context)
{
  DflyParentLinks *self = g_new0 (DflyParentLinks, 1);

  self->context = g_object_ref (context);
  self->session =
    dfly_wire_session_new (context, DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED, 10, 60);
  self->links = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

void
dfly_parent_links_free (DflyParentLinks *self)
{
  GHashTableIter iter;
  gpointer       value;

  if (self == NULL)
    return;
  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Link *link = value;

    if (link->connecting != NULL)
      g_cancellable_cancel (link->connecting);
    g_clear_object (&link->connecting);
    if (link->ws != NULL) {
      g_signal_handlers_disconnect_by_data (link->ws, link);
      if (soup_websocket_connection_get_state (link->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (link->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&link->ws);
    }
    /* Subscriptions belong to downloads, all gone by now. */
    g_hash_table_unref (link->subscriptions);
    g_free (link->base_url);
    g_free (link);
  }
  g_hash_table_unref (self->links);
  soup_session_abort (self->session);
  g_object_unref (self->session);
  g_object_unref (self->context);
  g_free (self);
}
