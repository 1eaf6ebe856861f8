/* dflyctl-manager-client.c — requests to the manager's REST API (see the header) */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "dfly/dfly-error.h"
#include "dfly-json-safe.h"
#include "dflyctl.h"
#include "dflyctl-manager-client.h"
#include "dflyctl-parse.h"

#define READ_CHUNK 16384

struct _DflyctlManagerClient {
  SoupSession *session;
  char        *url; /* no trailing slash */
};

const char *
dflyctl_json_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

void
dflyctl_manager_client_free (DflyctlManagerClient *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->session);
  g_free (self->url);
  g_free (self);
}

/* What an http(s) base URL may hold: no credentials (there is no
 * authentication yet, and they would end up in messages), no query or
 * fragment (the API's paths are appended). */
static gboolean
check_base_url (const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *scheme;

  if (!dflyctl_check_url (url, error))
    return FALSE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, local_error->message);
    return FALSE;
  }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("the scheme is %s: the manager speaks http:// or https://"), scheme);
    return FALSE;
  }
  if (g_uri_get_userinfo (uri) != NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("it holds a user name or password; the manager takes none"));
    return FALSE;
  }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("it has a query or a fragment; give the manager's address alone"));
    return FALSE;
  }
  return TRUE;
}

DflyctlManagerClient *
dflyctl_manager_client_new (const char *url, const char *origin, DflyTls *tls, GError **error)
{
  g_autoptr (DflyctlManagerClient) self = g_new0 (DflyctlManagerClient, 1);
  g_autoptr (GError) local_error = NULL;
  gsize length = strlen (url);

  if (!check_base_url (url, &local_error)) {
    g_autofree char *quoted = dflyctl_quote_arg (url);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("bad %s URL “%s”: %s"), origin,
                 quoted, local_error->message);
    return NULL;
  }
  if (tls != NULL && g_ascii_strncasecmp (url, "https:", 6) != 0) {
    g_autofree char *quoted = dflyctl_quote_arg (url);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("--ca, --cert and --key need an https:// manager, not %s URL “%s”"), origin,
                 quoted);
    return NULL;
  }
  while (length > 0 && url[length - 1] == '/')
    length--;
  self->url = g_strndup (url, length);
  self->session = soup_session_new_with_options ("timeout", DFLYCTL_MANAGER_TIMEOUT_S,
                                                 "idle-timeout", DFLYCTL_MANAGER_TIMEOUT_S,
                                                 "user-agent", "dflyctl/" PACKAGE_VERSION, NULL);
  /* A manager is named by its address: http_proxy is for the outside world. */
  soup_session_set_proxy_resolver (self->session, NULL);
  if (tls != NULL)
    dfly_tls_setup_session (tls, self->session, DFLY_ROLE_FLAG_MANAGER);
  return g_steal_pointer (&self);
}

const char *
dflyctl_manager_client_get_url (DflyctlManagerClient *self)
{
  return self->url;
}

/* A failure before any answer: unreachable (exit 3), too slow (7), TLS or
 * not HTTP at all (1). */
static void
set_transport_error (DflyctlManagerClient *self, const GError *cause, GError **error)
{
  if (cause->domain == G_RESOLVER_ERROR ||
      g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
      g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
      g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_REMOTE_UNREACHABLE,
                 _ ("cannot reach the manager at %s: %s"), self->url, cause->message);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT,
                 _ ("the manager at %s did not answer within %d s"), self->url,
                 DFLYCTL_MANAGER_TIMEOUT_S);
  else if (cause->domain == G_TLS_ERROR)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, _ ("TLS with the manager at %s failed: %s"),
                 self->url, cause->message);
  else
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s gave no HTTP answer: %s"), self->url, cause->message);
}

/* The whole body, refused past DFLYCTL_MANAGER_MAX_ANSWER bytes. */
static GBytes *
read_answer (DflyctlManagerClient *self, SoupMessage *msg, GInputStream *stream, GError **error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (GError) local_error = NULL;
  guint8  buffer[READ_CHUNK];
  goffset length =
    soup_message_headers_get_content_length (soup_message_get_response_headers (msg));

  for (;;) {
    gssize n;

    if (length > DFLYCTL_MANAGER_MAX_ANSWER ||
        data->len > (guint) DFLYCTL_MANAGER_MAX_ANSWER - READ_CHUNK) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                   _ ("the manager at %s answered more than %d MiB; refused"), self->url,
                   DFLYCTL_MANAGER_MAX_ANSWER / (1024 * 1024));
      return NULL;
    }
    n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, &local_error);
    if (n < 0) {
      set_transport_error (self, local_error, error);
      return NULL;
    }
    if (n == 0)
      break;
    g_byte_array_append (data, buffer, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* The API's errors by HTTP status; any other is DFLY_ERROR_FAILED. */
typedef struct {
  guint     status;
  DflyError code;
} StatusCode;

static const StatusCode status_codes[] = {
  { SOUP_STATUS_BAD_REQUEST, DFLY_ERROR_INVALID_ARGUMENT },
  { SOUP_STATUS_NOT_FOUND, DFLY_ERROR_NOT_FOUND },
  { SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, DFLY_ERROR_INVALID_ARGUMENT },
  { SOUP_STATUS_INSUFFICIENT_STORAGE, DFLY_ERROR_BUSY },
};

static DflyError
code_of_status (guint status)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_codes); i++) {
    if (status_codes[i].status == status)
      return status_codes[i].code;
  }
  return DFLY_ERROR_FAILED;
}

/* "manager: name: already taken in scheduler-clusters (HTTP 409)": the
 * field is named once, whether or not the message starts with it. */
static void
set_api_error (guint status, JsonObject *answer, GError **error)
{
  const char      *message = dflyctl_json_string (answer, "message");
  const char      *field = dflyctl_json_string (answer, "field");
  g_autofree char *prefix = field != NULL ? g_strconcat (field, ":", NULL) : NULL;
  g_autofree char *safe_message = dflyctl_quote_arg (message);

  if (prefix != NULL && !g_str_has_prefix (message, prefix)) {
    g_autofree char *safe_field = dflyctl_quote_arg (field);

    g_set_error (error, DFLY_ERROR, code_of_status (status), _ ("manager: %s: %s (HTTP %u)"),
                 safe_field, safe_message, status);
    return;
  }
  g_set_error (error, DFLY_ERROR, code_of_status (status), _ ("manager: %s (HTTP %u)"),
               safe_message, status);
}

static const char *
node_type_name (JsonNodeType type)
{
  return type == JSON_NODE_ARRAY ? _ ("a list") : _ ("an object");
}

/* The answer's body as the JSON node expected, or the API's error. */
static JsonNode *
parse_answer (DflyctlManagerClient *self, SoupMessage *msg, GBytes *body, JsonNodeType expected,
              GError **error)
{
  guint       status = soup_message_get_status (msg);
  const char *type =
    soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (status == SOUP_STATUS_NO_CONTENT && expected == JSON_NODE_NULL)
    return json_node_new (JSON_NODE_NULL);
  if (type == NULL || g_ascii_strcasecmp (type, "application/json") != 0) {
    g_autofree char *safe_type = type != NULL ? dflyctl_quote_arg (type) : NULL;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s answered HTTP %u with %s, not JSON"), self->url, status,
                 safe_type != NULL ? safe_type : _ ("no content type"));
    return NULL;
  }
  if (!dfly_json_depth_ok (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                           DFLY_JSON_MAX_DEPTH)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s answered HTTP %u with malformed JSON: not one array or "
                    "object of at most %u levels"),
                 self->url, status, DFLY_JSON_MAX_DEPTH);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                   (gssize) g_bytes_get_size (body), &local_error)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s answered HTTP %u with malformed JSON: %s"), self->url,
                 status, local_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    if (root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
        dflyctl_json_string (json_node_get_object (root), "message") != NULL) {
      set_api_error (status, json_node_get_object (root), error);
      return NULL;
    }
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s answered HTTP %u with JSON that is not an error of its "
                    "API"),
                 self->url, status);
    return NULL;
  }
  if (expected == JSON_NODE_NULL)
    return json_node_new (JSON_NODE_NULL);
  if (root == NULL || JSON_NODE_TYPE (root) != expected) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 _ ("the manager at %s answered HTTP %u with JSON that is not %s"), self->url,
                 status, node_type_name (expected));
    return NULL;
  }
  return json_node_copy (root);
}

JsonNode *
dflyctl_manager_client_request (DflyctlManagerClient *self, const char *method, const char *path,
                                JsonNode *body, JsonNodeType expected, GError **error)
{
  g_autofree char *url = g_strconcat (self->url, "/api/v1/", path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) local_error = NULL;

  if (msg == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("bad manager URL %s"), url);
    return NULL;
  }
  /* The API never redirects: a 3xx is some other server's answer. */
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json");
  if (body != NULL) {
    g_autofree char *text = json_to_string (body, FALSE);
    gsize            length = strlen (text);
    g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&text), length);

    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  g_debug ("%s %s", method, url);
  stream = soup_session_send (self->session, msg, NULL, &local_error);
  if (stream == NULL) {
    set_transport_error (self, local_error, error);
    return NULL;
  }
  answer = read_answer (self, msg, stream, error);
  g_input_stream_close (stream, NULL, NULL);
  if (answer == NULL)
    return NULL;
  return parse_answer (self, msg, answer, expected, error);
}
