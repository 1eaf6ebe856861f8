/* dfly-manager-link.c — DflyManagerLink (see the header) */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "dfly-json-safe.h"
#include "dfly-manager-link.h"
#include "dfly-wire.h"

#define TIMEOUT_SECONDS 10

struct _DflyManagerLink {
  SoupSession  *session;
  GCancellable *cancellable; /* the call in flight; cancelled by free */
  char         *base;        /* http(s)://host:port */
  char         *collection;
  JsonObject   *record;
  guint         interval; /* seconds */
  guint         timer_id;
  gint64        id;
  guint         acknowledged;
  gboolean      failing; /* the last call failed (said once) */
  /* The watch: path fetched every refresh_interval. */
  char                *watch_url;
  DflyManagerWatchFunc watch_func;
  gpointer             watch_data;
  GCancellable        *watching; /* the fetch in flight */
  guint                watch_timer_id;
  guint                refresh; /* seconds */
  gboolean             watch_failing;
  gboolean             too_large; /* the answer in flight was refused unread */
};

char *
dfly_manager_link_base_url (const char *addr, gboolean tls, GError **error)
{
  gboolean bare =
    g_ascii_strncasecmp (addr, "http://", 7) != 0 && g_ascii_strncasecmp (addr, "https://", 8) != 0;
  g_autofree char *text =
    bare ? g_strconcat (tls ? "https://" : "http://", addr, NULL) : g_strdup (addr);
  /* Not SOUP_HTTP_URI_FLAGS: it would make a missing port 80. */
  g_autoptr (GUri) uri = g_uri_parse (text, G_URI_FLAGS_ENCODED, NULL);
  g_autofree char *scheme = uri != NULL ? g_ascii_strdown (g_uri_get_scheme (uri), -1) : NULL;
  int              port = uri != NULL ? g_uri_get_port (uri) : -1;

  /* host:port must say its port; a URL may leave its scheme's. */
  if (!bare && port < 0 && scheme != NULL)
    port = strcmp (scheme, "https") == 0 ? 443 : 80;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' || port <= 0 ||
      g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL ||
      (*g_uri_get_path (uri) != '\0' && strcmp (g_uri_get_path (uri), "/") != 0) ||
      (strcmp (scheme, "http") != 0 && strcmp (scheme, "https") != 0)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "manager.addr: %s is not host:port nor an http(s)://host:port URL", addr);
    return NULL;
  }
  return g_strdup_printf (
    "%s://%s%s%s:%d", scheme, strchr (g_uri_get_host (uri), ':') != NULL ? "[" : "",
    g_uri_get_host (uri), strchr (g_uri_get_host (uri), ':') != NULL ? "]" : "", port);
}

/* The JSON object an answer holds, parsed with its length (a body from
 * libsoup is not NUL-terminated) and its depth checked first; NULL if it
 * holds none. */
static JsonObject *
answer_object (GBytes *body)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  gsize       length = 0;
  const char *data = g_bytes_get_data (body, &length);
  JsonNode   *root;

  if (length == 0 || length > DFLY_MANAGER_LINK_MAX_ANSWER ||
      !dfly_json_depth_ok (data, length, DFLY_JSON_MAX_DEPTH) ||
      !json_parser_load_from_data (parser, data, (gssize) length, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root)
           ? json_object_ref (json_node_get_object (root))
           : NULL;
}

static void schedule_next (DflyManagerLink *self);
static void call (DflyManagerLink *self);

/* A failure: said when it starts, not at every interval. */
static void
failed (DflyManagerLink *self, const char *what, const char *why)
{
  if (!self->failing)
    g_message ("manager at %s: %s %s: %s; trying again every %u s", self->base, what,
               self->collection, why, self->interval);
  self->failing = TRUE;
}

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  DflyManagerLink *self;
  SoupMessage     *msg;
  guint            status;
  gboolean         registering;

  /* Freed meanwhile (the answer may have come just before): nothing of
   * self may be touched. */
  if (g_object_get_data (G_OBJECT (source), "dfly-manager-link") != user_data)
    return;
  self = user_data;
  msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  registering = self->id == 0;
  g_clear_object (&self->cancellable);
  if (body == NULL) {
    failed (self, registering ? "registering in" : "keeping alive in",
            self->too_large ? "its answer has no length or is over 64 KiB" : error->message);
    schedule_next (self);
    return;
  }
  status = soup_message_get_status (msg);
  if (!registering && status == SOUP_STATUS_NOT_FOUND) {
    g_info ("manager at %s: %s record %" G_GINT64_FORMAT " is gone; registering again", self->base,
            self->collection, self->id);
    self->id = 0;
    call (self);
    return;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    g_autofree char *why = g_strdup_printf ("HTTP %u", status);

    failed (self, registering ? "registering in" : "keeping alive in", why);
    schedule_next (self);
    return;
  }
  if (registering) {
    g_autoptr (JsonObject) record = answer_object (body);

    if (record == NULL || dfly_json_int_member (record, "id") <= 0) {
      failed (self, "registering in", "its answer has no record id");
      schedule_next (self);
      return;
    }
    self->id = dfly_json_int_member (record, "id");
    g_info ("manager at %s: registered in %s as %" G_GINT64_FORMAT, self->base, self->collection,
            self->id);
  } else if (self->failing) {
    g_info ("manager at %s: answering again", self->base);
  }
  self->failing = FALSE;
  self->acknowledged++;
  schedule_next (self);
}

gboolean
dfly_manager_answer_unreadable (SoupMessage *msg, goffset cap)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  SoupEncoding        encoding = soup_message_headers_get_encoding (headers);

  if (soup_message_get_status (msg) == SOUP_STATUS_NO_CONTENT)
    return FALSE;
  return (encoding != SOUP_ENCODING_NONE && encoding != SOUP_ENCODING_CONTENT_LENGTH) ||
         soup_message_headers_get_content_length (headers) > cap;
}

static void
on_got_headers (SoupMessage *msg, gpointer user_data)
{
  DflyManagerLink *self = user_data;

  if (dfly_manager_answer_unreadable (msg, DFLY_MANAGER_LINK_MAX_ANSWER)) {
    self->too_large = TRUE;
    g_cancellable_cancel (self->cancellable);
  }
}

static void
call (DflyManagerLink *self)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *url = NULL;

  if (self->id == 0) {
    g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), self->record);
    char *json = json_to_string (node, FALSE);
    gsize length = strlen (json);
    g_autoptr (GBytes) body = g_bytes_new_take (json, length);

    url = g_strdup_printf ("%s/api/v1/%s", self->base, self->collection);
    msg = soup_message_new (SOUP_METHOD_POST, url);
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
  } else {
    url = g_strdup_printf ("%s/api/v1/%s/%" G_GINT64_FORMAT "/keepalive", self->base,
                           self->collection, self->id);
    msg = soup_message_new (SOUP_METHOD_POST, url);
  }
  self->cancellable = g_cancellable_new ();
  self->too_large = FALSE;
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), self);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, self->cancellable,
                                    on_answer, self);
}

static gboolean
on_timer (gpointer user_data)
{
  DflyManagerLink *self = user_data;

  self->timer_id = 0;
  call (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_next (DflyManagerLink *self)
{
  self->timer_id = g_timeout_add_seconds (self->interval, on_timer, self);
}

DflyManagerLink *
dfly_manager_link_new (DflyContext *context, const char *collection, JsonObject *record,
                       GError **error)
{
  DflyConfig      *config = dfly_context_get_config (context);
  g_autofree char *base = dfly_manager_link_base_url (
    config->manager.addr, dfly_context_get_tls (context) != NULL, error);
  DflyManagerLink *self;

  if (base == NULL) {
    json_object_unref (record);
    return NULL;
  }
  self = g_new0 (DflyManagerLink, 1);
  self->session =
    dfly_wire_session_new (context, DFLY_ROLE_FLAG_MANAGER, TIMEOUT_SECONDS, TIMEOUT_SECONDS * 6);
  soup_session_set_proxy_resolver (self->session, NULL);
  /* Answers to a freed link are told apart by this mark going away. */
  g_object_set_data (G_OBJECT (self->session), "dfly-manager-link", self);
  self->base = g_steal_pointer (&base);
  self->collection = g_strdup (collection);
  self->record = record;
  self->interval = MAX (config->manager.keepalive_interval, 1);
  self->refresh = MAX (config->manager.refresh_interval, 1);
  call (self);
  return self;
}

static void watch_fetch (DflyManagerLink *self);

static gboolean
on_watch_timer (gpointer user_data)
{
  DflyManagerLink *self = user_data;

  self->watch_timer_id = 0;
  watch_fetch (self);
  return G_SOURCE_REMOVE;
}

static void
on_watch_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr (JsonObject) object = NULL;
  DflyManagerLink *self;
  SoupMessage     *msg;
  g_autofree char *why = NULL;

  if (g_object_get_data (G_OBJECT (source), "dfly-manager-link") != user_data)
    return;
  self = user_data;
  g_clear_object (&self->watching);
  msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  if (body == NULL)
    why = g_strdup (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                      ? "its answer has no length or is over 64 KiB"
                      : error->message);
  else if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    why = g_strdup_printf ("HTTP %u", soup_message_get_status (msg));
  else if ((object = answer_object (body)) == NULL)
    why = g_strdup ("not a JSON object");
  if (why != NULL) {
    if (!self->watch_failing)
      g_message ("manager at %s: reading %s: %s; keeping what it said last", self->base,
                 self->watch_url, why);
    self->watch_failing = TRUE;
  } else {
    self->watch_failing = FALSE;
    self->watch_func (object, self->watch_data);
  }
  self->watch_timer_id = g_timeout_add_seconds (self->refresh, on_watch_timer, self);
}

/* The same bound as the calls'. */
static void
on_watch_got_headers (SoupMessage *msg, gpointer user_data)
{
  DflyManagerLink *self = user_data;

  if (dfly_manager_answer_unreadable (msg, DFLY_MANAGER_LINK_MAX_ANSWER))
    g_cancellable_cancel (self->watching);
}

static void
watch_fetch (DflyManagerLink *self)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, self->watch_url);

  self->watching = g_cancellable_new ();
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_watch_got_headers), self);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, self->watching,
                                    on_watch_answer, self);
}

void
dfly_manager_link_watch (DflyManagerLink *self, const char *path, DflyManagerWatchFunc func,
                         gpointer user_data)
{
  g_return_if_fail (self->watch_url == NULL);
  self->watch_url = g_strconcat (self->base, path, NULL);
  self->watch_func = func;
  self->watch_data = user_data;
  watch_fetch (self);
}

gint64
dfly_manager_link_get_id (DflyManagerLink *self)
{
  return self->id;
}

guint
dfly_manager_link_get_acknowledged (DflyManagerLink *self)
{
  return self->acknowledged;
}

void
dfly_manager_link_free (DflyManagerLink *self)
{
  if (self == NULL)
    return;
  g_object_set_data (G_OBJECT (self->session), "dfly-manager-link", NULL);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->watch_timer_id, g_source_remove);
  if (self->watching != NULL)
    g_cancellable_cancel (self->watching);
  g_clear_object (&self->watching);
  g_free (self->watch_url);
  soup_session_abort (self->session);
  g_object_unref (self->session);
  g_free (self->base);
  g_free (self->collection);
  json_object_unref (self->record);
  g_free (self);
}
