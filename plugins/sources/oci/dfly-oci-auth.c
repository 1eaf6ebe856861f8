/* dfly-oci-auth.c — DflyOciAuth: oci.auth_file's credentials, Bearer tokens, their cache */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "dfly-oci-auth.h"
#include "dfly-oci-manifest.h"

#define MAX_TOKEN_BODY (1024 * 1024)
#define MAX_AUTH_FILE  (1024 * 1024)
/* Seconds a token lives when the realm does not say (distribution spec). */
#define TOKEN_DEFAULT_LIFETIME 60

typedef struct {
  char  *authorization; /* the header's value */
  gint64 expires;       /* monotonic µs; G_MAXINT64: never */
} CachedAuth;

static void
cached_auth_free (CachedAuth *cached)
{
  g_free (cached->authorization);
  g_free (cached);
}

struct _DflyOciAuth {
  GObject     parent_instance;
  GMutex      lock;
  char       *auth_file;   /* under lock: the file read last; NULL before the first */
  GHashTable *credentials; /* under lock: host[:port] → "user:password" */
  GError     *file_error;  /* under lock: why auth_file could not be read */
  GHashTable *auths;       /* under lock: "registry\nrepo" → CachedAuth */
};

G_DEFINE_FINAL_TYPE (DflyOciAuth, dfly_oci_auth, G_TYPE_OBJECT)

/* "https://index.docker.io/v1/" → "index.docker.io"; "host:5000" stays. */
static char *
auth_key_registry (const char *key)
{
  const char *start = strstr (key, "://");
  const char *end;

  start = start != NULL ? start + 3 : key;
  end = strchr (start, '/');
  return end != NULL ? g_strndup (start, (gsize) (end - start)) : g_strdup (start);
}

static gboolean
load_credentials (const char *path, GHashTable *credentials, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  JsonNode        *root;
  JsonObject      *auths;
  gsize            length = 0;
  g_autoptr (GList) members = NULL;

  if (!g_file_get_contents (path, &text, &length, error))
    return FALSE;
  if (length > MAX_AUTH_FILE) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "larger than %u bytes",
                 MAX_AUTH_FILE);
    return FALSE;
  }
  if (!json_parser_load_from_data (parser, text, (gssize) length, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "not a JSON object");
    return FALSE;
  }
  if (!json_object_has_member (json_node_get_object (root), "auths"))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "auths"))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "\"auths\" is not an object");
    return FALSE;
  }
  auths = json_object_get_object_member (json_node_get_object (root), "auths");
  members = json_object_get_members (auths);
  for (GList *l = members; l != NULL; l = l->next) {
    JsonNode   *node = json_object_get_member (auths, l->data);
    JsonObject *entry;
    const char *auth, *user, *password;
    char       *pair = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    entry = json_node_get_object (node);
    auth = dfly_oci_json_string (entry, "auth");
    user = dfly_oci_json_string (entry, "username");
    password = dfly_oci_json_string (entry, "password");
    if (auth != NULL) {
      gsize   n = 0;
      guchar *raw = g_base64_decode (auth, &n);

      pair = g_strndup ((const char *) raw, n);
      g_free (raw);
      if (strchr (pair, ':') == NULL || strlen (pair) != n || !g_utf8_validate (pair, -1, NULL))
        g_clear_pointer (&pair, g_free);
    } else if (user != NULL && password != NULL) {
      pair = g_strconcat (user, ":", password, NULL);
    }
    if (pair != NULL)
      g_hash_table_replace (credentials, auth_key_registry (l->data), pair);
  }
  return TRUE;
}

static char *
auth_cache_key (const DflyOciRef *ref)
{
  return g_strconcat (ref->registry, "\n", ref->repo, NULL);
}

char *
dfly_oci_auth_lookup (DflyOciAuth *self, const DflyOciRef *ref)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *key = auth_cache_key (ref);
  CachedAuth      *cached = g_hash_table_lookup (self->auths, key);

  if (cached == NULL)
    return NULL;
  if (cached->expires <= g_get_monotonic_time ()) {
    g_hash_table_remove (self->auths, key);
    return NULL;
  }
  return g_strdup (cached->authorization);
}

static void
store_auth (DflyOciAuth *self, const DflyOciRef *ref, const char *authorization, gint64 expires)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  CachedAuth *cached = g_new0 (CachedAuth, 1);

  cached->authorization = g_strdup (authorization);
  cached->expires = expires;
  g_hash_table_replace (self->auths, auth_cache_key (ref), cached);
}

gboolean
dfly_oci_auth_use_file (DflyOciAuth *self, const char *auth_file, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (g_strcmp0 (self->auth_file, auth_file) != 0) {
    g_autoptr (GError) cause = NULL;

    g_free (self->auth_file);
    self->auth_file = g_strdup (auth_file);
    g_hash_table_remove_all (self->credentials);
    g_clear_error (&self->file_error);
    /* Credentials may have changed: forget what they earned. */
    g_hash_table_remove_all (self->auths);
    if (auth_file[0] != '\0' && !load_credentials (auth_file, self->credentials, &cause))
      self->file_error = g_error_new (DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "oci.auth_file %s: %s",
                                      auth_file, cause->message);
  }
  if (self->file_error != NULL) {
    g_propagate_error (error, g_error_copy (self->file_error));
    return FALSE;
  }
  return TRUE;
}

/* "Basic …" for ref's registry from the auth file, or NULL. */
static char *
basic_authorization (DflyOciAuth *self, const DflyOciRef *ref)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  const char      *pair = g_hash_table_lookup (self->credentials, ref->registry);
  g_autofree char *encoded = NULL;

  if (pair == NULL)
    return NULL;
  encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  return g_strconcat ("Basic ", encoded, NULL);
}

/* The token service's URL for a Bearer challenge's params, or NULL. */
static GUri *
token_uri (GHashTable *params, const DflyOciRef *ref)
{
  const char      *realm = g_hash_table_lookup (params, "realm");
  const char      *service = g_hash_table_lookup (params, "service");
  const char      *scope = g_hash_table_lookup (params, "scope");
  g_autofree char *default_scope = g_strdup_printf ("repository:%s:pull", ref->repo);
  g_autofree char *escaped_scope = NULL;
  g_autoptr (GUri) realm_uri = NULL;
  g_autoptr (GString) query = g_string_new (NULL);
  const char *scheme;

  realm_uri = realm != NULL ? g_uri_parse (realm, SOUP_HTTP_URI_FLAGS, NULL) : NULL;
  if (realm_uri == NULL || g_uri_get_host (realm_uri) == NULL ||
      g_uri_get_host (realm_uri)[0] == '\0')
    return NULL;
  scheme = g_uri_get_scheme (realm_uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return NULL;
  if (g_uri_get_query (realm_uri) != NULL)
    g_string_append (query, g_uri_get_query (realm_uri));
  if (service != NULL) {
    g_autofree char *escaped = g_uri_escape_string (service, NULL, FALSE);

    g_string_append_printf (query, "%sservice=%s", query->len > 0 ? "&" : "", escaped);
  }
  escaped_scope = g_uri_escape_string (scope != NULL ? scope : default_scope, NULL, FALSE);
  g_string_append_printf (query, "%sscope=%s", query->len > 0 ? "&" : "", escaped_scope);
  return g_uri_build (G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host (realm_uri),
                      g_uri_get_port (realm_uri), g_uri_get_path (realm_uri), query->str, NULL);
}

GUri *
dfly_oci_auth_token_uri (const char *challenge, const DflyOciRef *ref)
{
  GHashTable *params;
  GUri       *uri;

  if (g_ascii_strncasecmp (challenge, "Bearer ", 7) != 0)
    return NULL;
  params = soup_header_parse_param_list (challenge + 7);
  uri = token_uri (params, ref);
  soup_header_free_param_list (params);
  return uri;
}

char *
dfly_oci_auth_parse_token (GBytes *answer, gint64 *lifetime)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode   *root;
  JsonObject *object;
  const char *token;

  if (!dfly_oci_parse_json (answer, parser, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  token = dfly_oci_json_string (object, "token");
  if (token == NULL || *token == '\0')
    token = dfly_oci_json_string (object, "access_token");
  if (token == NULL || *token == '\0' || !dfly_http_is_field_value (token) ||
      strlen (token) > 65536)
    return NULL;
  *lifetime = dfly_oci_json_int (object, "expires_in", 0);
  if (*lifetime <= 0 || *lifetime > 86400)
    *lifetime = TOKEN_DEFAULT_LIFETIME;
  return g_strdup (token);
}

/* A token from the realm of a Bearer challenge, as an Authorization;
 * stored in the cache. */
static char *
fetch_token (DflyOciAuth *self, DflyHttpClient *client, const DflyOciRef *ref, GHashTable *params,
             const char *url, GCancellable *cancellable, GError **error)
{
  const char      *realm = g_hash_table_lookup (params, "realm");
  g_autofree char *basic = basic_authorization (self, ref);
  g_autoptr (GUri) uri = token_uri (params, ref);
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (DflyHttpBody) body = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *token = NULL;
  g_autofree char *authorization = NULL;
  gint64           lifetime = 0;
  guint            status;
  DflyHttpRequest  request = { .method = "GET", .uri = uri, .headers = headers };

  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "the registry's Bearer challenge names no http(s) realm: %s", url);
    return NULL;
  }
  g_hash_table_insert (headers, (gpointer) "Accept", (gpointer) "application/json");
  if (basic != NULL)
    g_hash_table_insert (headers, (gpointer) "Authorization", basic);
  body = dfly_http_client_send (client, &request, cancellable, error);
  if (body == NULL)
    return NULL;
  status = dfly_http_body_get_status (body);
  if (status != SOUP_STATUS_OK) {
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    g_set_error (error, DFLY_ERROR,
                 status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN
                   ? DFLY_ERROR_ACCESS_DENIED
                   : DFLY_ERROR_SOURCE,
                 "token service %s answered HTTP %u %s%s: %s", realm, status,
                 soup_status_get_phrase (status), basic != NULL ? " to our credentials" : "", url);
    return NULL;
  }
  bytes = dfly_http_body_read_all (body, MAX_TOKEN_BODY, cancellable, NULL);
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  token = bytes != NULL ? dfly_oci_auth_parse_token (bytes, &lifetime) : NULL;
  if (token == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "token service %s sent no usable token: %s",
                 realm, url);
    return NULL;
  }
  authorization = g_strconcat ("Bearer ", token, NULL);
  /* A few seconds early: a token must not expire on its way. */
  store_auth (self, ref, authorization,
              g_get_monotonic_time () + MAX (lifetime - 5, 1) * G_TIME_SPAN_SECOND);
  return g_steal_pointer (&authorization);
}

char *
dfly_oci_auth_answer (DflyOciAuth *self, DflyHttpClient *client, const DflyOciRef *ref,
                      const char *challenge, const char *tried, const char *url,
                      GCancellable *cancellable, GError **error)
{
  g_autofree char *basic = NULL;

  if (challenge == NULL)
    return NULL;
  if (g_ascii_strncasecmp (challenge, "Bearer ", 7) == 0) {
    GHashTable *params = soup_header_parse_param_list (challenge + 7);
    char       *authorization = fetch_token (self, client, ref, params, url, cancellable, error);

    soup_header_free_param_list (params);
    return authorization;
  }
  if (g_ascii_strncasecmp (challenge, "Basic", 5) != 0)
    return NULL;
  basic = basic_authorization (self, ref);
  if (basic == NULL || g_strcmp0 (basic, tried) == 0)
    return NULL;
  store_auth (self, ref, basic, G_MAXINT64);
  return g_steal_pointer (&basic);
}

static void
dfly_oci_auth_finalize (GObject *object)
{
  DflyOciAuth *self = DFLY_OCI_AUTH (object);

  g_free (self->auth_file);
  g_hash_table_unref (self->credentials);
  g_clear_error (&self->file_error);
  g_hash_table_unref (self->auths);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_oci_auth_parent_class)->finalize (object);
}

static void
dfly_oci_auth_class_init (DflyOciAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_oci_auth_finalize;
}

static void
dfly_oci_auth_init (DflyOciAuth *self)
{
  g_mutex_init (&self->lock);
  self->credentials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->auths =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cached_auth_free);
}

DflyOciAuth *
dfly_oci_auth_new (void)
{
  return g_object_new (DFLY_TYPE_OCI_AUTH, NULL);
}
