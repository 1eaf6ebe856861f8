/* dfly-proxy-relay.c — passing a request through (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-proxy-headers.h"
#include "dfly-proxy-pump.h"
#include "dfly-proxy-relay.h"

typedef struct {
  SoupServerMessage *msg;
  DflyHttpClient    *client;
  char              *method;
  char              *url;
  GHashTable        *headers;
  GBytes            *body; /* the client's, or NULL */
  gboolean           after_p2p;
} Relay;

static void
relay_free (Relay *relay)
{
  g_object_unref (relay->msg);
  g_object_unref (relay->client);
  g_free (relay->method);
  g_free (relay->url);
  g_hash_table_unref (relay->headers);
  g_clear_pointer (&relay->body, g_bytes_unref);
  g_free (relay);
}

static void
send_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Relay *relay = task_data;
  g_autoptr (GUri) uri = g_uri_parse (relay->url, SOUP_HTTP_URI_FLAGS, NULL);
  DflyHttpRequest request = {
    .method = relay->method,
    .uri = uri,
    .headers = relay->headers,
    .flags = DFLY_HTTP_REQUEST_NO_REDIRECT,
    .body = relay->body,
  };
  GError       *error = NULL;
  DflyHttpBody *body;

  if (uri == NULL) {
    g_task_return_new_error (task, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "not a URL: %s",
                             relay->url);
    return;
  }
  body = dfly_http_client_send (relay->client, &request, cancellable, &error);
  if (body == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, g_object_unref);
}

/* Whether an answer to method with status carries no body (RFC 9110 6.4.1). */
static gboolean
has_no_body (const char *method, guint status)
{
  return strcmp (method, "HEAD") == 0 || (status >= 100 && status < 200) || status == 204 ||
         status == 304;
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Relay              *relay = g_task_get_task_data (G_TASK (result));
  SoupServerMessage  *msg = relay->msg;
  SoupMessageHeaders *answer = soup_server_message_get_response_headers (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyHttpBody) body = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *shown = dfly_http_public_url (relay->url);
  SoupMessage     *upstream;
  guint            status;
  gint64           length;

  if (body == NULL) {
    g_info ("proxy: %s %s: %s", relay->method, shown, error->message);
    dfly_proxy_answer_error (msg, dfly_proxy_status_for_error (error), "%s", error->message);
    soup_server_message_unpause (msg);
    return;
  }
  upstream = dfly_http_body_get_message (body);
  status = soup_message_get_status (upstream);
  g_debug ("proxy: %s %s: HTTP %u", relay->method, shown, status);
  soup_server_message_set_status (msg, status, soup_message_get_reason_phrase (upstream));
  dfly_proxy_headers_copy_answer (soup_message_get_response_headers (upstream), answer);
  if (relay->after_p2p && status >= 400)
    soup_message_headers_replace (answer, "X-Dragonfly-Error-Type", "source");
  if (has_no_body (relay->method, status)) {
    /* A HEAD answer tells the length the GET would have. */
    length = dfly_http_body_get_content_length (body);
    if (length >= 0 && strcmp (relay->method, "HEAD") == 0)
      soup_message_headers_set_content_length (answer, length);
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    soup_message_body_complete (soup_server_message_get_response_body (msg));
    soup_server_message_unpause (msg);
    return;
  }
  length = dfly_http_body_get_content_length (body);
  if (length >= 0)
    soup_message_headers_set_content_length (answer, length);
  else
    soup_message_headers_set_encoding (answer, SOUP_ENCODING_CHUNKED);
  dfly_proxy_pump_start (msg, G_INPUT_STREAM (body), NULL, NULL, NULL);
}

void
dfly_proxy_relay (DflyProxy *proxy, SoupServerMessage *msg, const char *url, GHashTable *headers,
                  const GError *why_not_p2p)
{
  Relay           *relay = g_new0 (Relay, 1);
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  g_autoptr (GTask) task = NULL;

  relay->msg = g_object_ref (msg);
  relay->client = g_object_ref (dfly_context_get_http_client (proxy->context));
  relay->method = g_strdup (soup_server_message_get_method (msg));
  relay->url = g_strdup (url);
  relay->headers = headers;
  relay->after_p2p = why_not_p2p != NULL;
  if (request_body->length > 0)
    relay->body = soup_message_body_flatten (request_body);
  if (why_not_p2p != NULL) {
    g_autofree char *shown = dfly_http_public_url (url);

    g_info ("proxy: %s through the swarm failed (%s); passing it through", shown,
            why_not_p2p->message);
  }
  task = g_task_new (NULL, proxy->stopping, on_sent, NULL);
  g_task_set_task_data (task, relay, (GDestroyNotify) relay_free);
  g_task_run_in_thread (task, send_in_thread);
}
