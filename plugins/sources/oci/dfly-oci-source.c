/* dfly-oci-source.c — the "oci" source: blobs, manifests and images of OCI registries
 *
 * URLs:
 *   oci://REGISTRY[:PORT]/REPO[/MORE]:TAG      an image by tag (list only)
 *   oci://REGISTRY[:PORT]/REPO@sha256:HEX      a blob, or a manifest by digest
 *   http(s)://REGISTRY/v2/REPO/blobs/sha256:HEX a blob, claimed from the http source
 * oci:// registries are reached over https, or http when listed in
 * oci.insecure_registries. A URL naming a digest makes the task keyed by
 * that digest, and its bytes are checked against it by the peer role.
 *
 * A digest URL is tried as a blob first (what most tasks are: layers), then
 * as a manifest; a manifest (at most oci.max_manifest_size) is read whole,
 * checked against its digest and served from memory.
 *
 * list() resolves a tag or digest to its manifest (choosing a platform from
 * an index) and names what to fetch, in a layout like an OCI image layout:
 *   default:          manifest.json, config.json, blobs/sha256/<layer hex>…
 *   all-platforms:    index.json (the index as the registry serves it) and
 *                     blobs/sha256/<hex> for every manifest, config and layer
 * (all-platforms on a single manifest gives the default layout).
 *
 * Authentication: a 401 with "WWW-Authenticate: Bearer realm=…" sends us to
 * the realm for a token (with Basic credentials from oci.auth_file when it
 * has some for this registry), and the request is tried again with it; a
 * Basic challenge is answered with the credentials. What worked is cached
 * per (registry, repository) — a token until its expiry — so later requests
 * send it at once. Credentials go only to the registry and its realm:
 * redirects to another origin (blob storage) drop Authorization.
 *
 * Everything the threads share is immutable or under the instance's lock;
 * the SoupSession is shared (libsoup 3.2's sync API is thread-safe) and
 * rebuilt when a reload changes what it was built from. Retries, timeouts
 * and redirect rules follow the http source (http.* keys).
 */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "dfly/dfly.h"

#define USER_AGENT "dfly/" PACKAGE_VERSION
#define MAX_BACKOFF_MS 60000
#define MAX_REDIRECTS 10
/* Bodies we read whole besides manifests: error JSON, token answers. */
#define MAX_ERROR_BODY (64 * 1024)
#define MAX_TOKEN_BODY (1024 * 1024)
#define MAX_AUTH_FILE (1024 * 1024)
/* Descriptors of one manifest or index: far more than any real image. */
#define MAX_DESCRIPTORS 4096
#define MAX_NAME_LENGTH 255
/* Seconds a token lives when the realm does not say (distribution spec). */
#define TOKEN_DEFAULT_LIFETIME 60

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MANIFEST_ACCEPT OCI_MANIFEST ", " OCI_INDEX ", " DOCKER_MANIFEST ", " DOCKER_LIST

/* ---- References ---- */

typedef struct {
  char     *registry; /* host[:port] as written */
  char     *scheme;   /* http or https */
  char     *repo;
  char     *tag;      /* NULL when digest is set */
  char     *digest;   /* "sha256:<hex>" or NULL */
  gboolean  blob;     /* an http(s) …/blobs/ URL: never a manifest */
} OciRef;

static void
oci_ref_free (OciRef *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->registry);
  g_free (ref->scheme);
  g_free (ref->repo);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OciRef, oci_ref_free)

static gboolean
is_sha256_digest (const char *digest)
{
  if (digest == NULL || !g_str_has_prefix (digest, "sha256:"))
    return FALSE;
  digest += 7;
  return strlen (digest) == 64 && strspn (digest, "0123456789abcdef") == 64;
}

/* Repository names: lowercase alphanumeric components separated by '/',
 * each may hold '.', '_' or '-' inside (distribution's grammar, loosely). */
static gboolean
is_repo_name (const char *repo)
{
  g_auto (GStrv) parts = NULL;

  if (*repo == '\0' || strlen (repo) > MAX_NAME_LENGTH)
    return FALSE;
  parts = g_strsplit (repo, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    const char *p = parts[i];
    gsize n = strlen (p);

    if (n == 0 || strspn (p, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
        !g_ascii_isalnum (p[0]) || !g_ascii_isalnum (p[n - 1]))
      return FALSE;
  }
  return TRUE;
}

static gboolean
is_tag (const char *tag)
{
  gsize n = strlen (tag);

  return n > 0 && n <= 128 && (g_ascii_isalnum (tag[0]) || tag[0] == '_') &&
         strspn (tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* host[:port]: what a URL's authority may be, without user info. */
static gboolean
is_registry (const char *registry)
{
  g_autofree char *url = g_strconcat ("https://", registry, "/", NULL);
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && g_uri_get_userinfo (uri) == NULL && g_uri_get_host (uri) != NULL &&
         *g_uri_get_host (uri) != '\0' && strpbrk (registry, "/?#@ ") == NULL;
}

static gboolean
is_listed (char **list, const char *name)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    if (g_ascii_strcasecmp (list[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* http(s)://REGISTRY/v2/REPO/blobs/sha256:HEX, no query or fragment. */
static OciRef *
parse_blob_url (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (OciRef) ref = NULL;
  const char *path, *blobs;
  const char *scheme;

  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return NULL;
  path = g_uri_get_path (uri);
  if (!g_str_has_prefix (path, "/v2/"))
    return NULL;
  blobs = g_strrstr (path, "/blobs/");
  if (blobs == NULL || blobs < path + 4 || !is_sha256_digest (blobs + 7))
    return NULL;
  ref = g_new0 (OciRef, 1);
  ref->repo = g_strndup (path + 4, (gsize) (blobs - path - 4));
  if (!is_repo_name (ref->repo))
    return NULL;
  ref->digest = g_strdup (blobs + 7);
  ref->scheme = g_ascii_strdown (scheme, -1);
  if (g_uri_get_port (uri) > 0)
    ref->registry = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  else
    ref->registry = g_strdup (g_uri_get_host (uri));
  ref->blob = TRUE;
  return g_steal_pointer (&ref);
}

static OciRef *
oci_ref_parse (const char *url, char **insecure_registries, GError **error)
{
  g_autoptr (OciRef) ref = NULL;
  g_autofree char *shown = g_strescape (url, NULL);
  const char *rest, *slash, *at;

  if (g_ascii_strncasecmp (url, "oci://", 6) != 0) {
    ref = parse_blob_url (url);
    if (ref == NULL)
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "not an oci:// URL nor a registry blob URL: %s", shown);
    return g_steal_pointer (&ref);
  }
  rest = url + 6;
  slash = strchr (rest, '/');
  if (slash == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "no repository in %s (oci://REGISTRY/REPO:TAG or @sha256:…)", shown);
    return NULL;
  }
  ref = g_new0 (OciRef, 1);
  ref->registry = g_strndup (rest, (gsize) (slash - rest));
  rest = slash + 1;
  at = strchr (rest, '@');
  if (at != NULL) {
    ref->repo = g_strndup (rest, (gsize) (at - rest));
    ref->digest = g_strdup (at + 1);
  } else {
    const char *colon = strrchr (rest, ':');

    if (colon != NULL && strchr (colon, '/') == NULL) {
      ref->repo = g_strndup (rest, (gsize) (colon - rest));
      ref->tag = g_strdup (colon + 1);
    } else {
      ref->repo = g_strdup (rest);
      ref->tag = g_strdup ("latest");
    }
  }
  if (!is_registry (ref->registry)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad registry in %s", shown);
    return NULL;
  }
  if (!is_repo_name (ref->repo)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad repository name in %s (lowercase letters, digits, . _ - and /)", shown);
    return NULL;
  }
  if (ref->digest != NULL && !is_sha256_digest (ref->digest)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad digest in %s (sha256: and 64 lowercase hex digits)", shown);
    return NULL;
  }
  if (ref->tag != NULL && !is_tag (ref->tag)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad tag in %s", shown);
    return NULL;
  }
  ref->scheme = g_strdup (is_listed (insecure_registries, ref->registry) ? "http" : "https");
  return g_steal_pointer (&ref);
}

/* ---- OciClient: a session and the config it was built from ---- */

typedef struct {
  gatomicrefcount   ref_count;
  SoupSession      *session;
  guint             read_timeout;
  guint             max_conns;
  char            **insecure_hosts;
  char             *auth_file;
  GHashTable       *credentials; /* host[:port] → "user:password" */
  GError           *auth_error;  /* why oci.auth_file could not be read */
} OciClient;

static guint
client_max_conns (const DflyConfig *config)
{
  return (config->download.concurrency + 1) * config->download.max_tasks;
}

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
  JsonNode *root;
  JsonObject *auths;
  gsize length = 0;
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
    JsonNode *node = json_object_get_member (auths, l->data);
    JsonObject *entry;
    const char *auth, *user, *password;
    char *pair = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    entry = json_node_get_object (node);
    auth = json_object_get_string_member_with_default (entry, "auth", NULL);
    user = json_object_get_string_member_with_default (entry, "username", NULL);
    password = json_object_get_string_member_with_default (entry, "password", NULL);
    if (auth != NULL) {
      gsize n = 0;
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

static OciClient *
oci_client_new (const DflyConfig *config)
{
  OciClient *client = g_new0 (OciClient, 1);

  g_atomic_ref_count_init (&client->ref_count);
  client->read_timeout = config->http.read_timeout;
  client->max_conns = client_max_conns (config);
  client->insecure_hosts = g_strdupv (config->http.insecure_hosts);
  client->auth_file = g_strdup (config->oci.auth_file);
  client->credentials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  client->session = soup_session_new_with_options (
    "user-agent", USER_AGENT, "timeout", client->read_timeout, "max-conns", client->max_conns,
    "max-conns-per-host", client->max_conns, NULL);
  soup_session_remove_feature_by_type (client->session, SOUP_TYPE_CONTENT_DECODER);
  if (client->auth_file[0] != '\0' &&
      !load_credentials (client->auth_file, client->credentials, &client->auth_error)) {
    g_autoptr (GError) cause = g_steal_pointer (&client->auth_error);

    g_set_error (&client->auth_error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "oci.auth_file %s: %s", client->auth_file, cause->message);
  }
  return client;
}

static OciClient *
oci_client_ref (OciClient *client)
{
  g_atomic_ref_count_inc (&client->ref_count);
  return client;
}

static void
oci_client_unref (OciClient *client)
{
  if (!g_atomic_ref_count_dec (&client->ref_count))
    return;
  g_object_unref (client->session);
  g_strfreev (client->insecure_hosts);
  g_free (client->auth_file);
  g_hash_table_unref (client->credentials);
  g_clear_error (&client->auth_error);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OciClient, oci_client_unref)

static gboolean
oci_client_matches (const OciClient *client, const DflyConfig *config)
{
  return client->read_timeout == config->http.read_timeout &&
         client->max_conns == client_max_conns (config) &&
         g_strcmp0 (client->auth_file, config->oci.auth_file) == 0 &&
         g_strv_equal ((const char * const *) client->insecure_hosts,
                       (const char * const *) config->http.insecure_hosts);
}

/* ---- DflyOciSource ---- */

typedef struct {
  char   *authorization; /* the header's value */
  gint64  expires;       /* monotonic µs; G_MAXINT64: never */
} CachedAuth;

static void
cached_auth_free (CachedAuth *cached)
{
  g_free (cached->authorization);
  g_free (cached);
}

G_DECLARE_FINAL_TYPE (DflyOciSource, dfly_oci_source, DFLY, OCI_SOURCE, DflySource)

struct _DflyOciSource {
  DflySource  parent_instance;
  GMutex      lock;
  OciClient  *client; /* under lock; NULL until the first request */
  GHashTable *auths;  /* under lock: "registry\nrepo" → CachedAuth */
};

G_DEFINE_FINAL_TYPE (DflyOciSource, dfly_oci_source, DFLY_TYPE_SOURCE)

static OciClient *
dfly_oci_source_get_client (DflyOciSource *self, const DflyConfig *config)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->client == NULL || !oci_client_matches (self->client, config)) {
    g_clear_pointer (&self->client, oci_client_unref);
    self->client = oci_client_new (config);
    /* Credentials may have changed: forget what they earned. */
    g_hash_table_remove_all (self->auths);
  }
  return oci_client_ref (self->client);
}

static char *
auth_cache_key (const OciRef *ref)
{
  return g_strconcat (ref->registry, "\n", ref->repo, NULL);
}

static char *
lookup_auth (DflyOciSource *self, const OciRef *ref)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *key = auth_cache_key (ref);
  CachedAuth *cached = g_hash_table_lookup (self->auths, key);

  if (cached == NULL)
    return NULL;
  if (cached->expires <= g_get_monotonic_time ()) {
    g_hash_table_remove (self->auths, key);
    return NULL;
  }
  return g_strdup (cached->authorization);
}

static void
store_auth (DflyOciSource *self, const OciRef *ref, const char *authorization, gint64 expires)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  CachedAuth *cached = g_new0 (CachedAuth, 1);

  cached->authorization = g_strdup (authorization);
  cached->expires = expires;
  g_hash_table_replace (self->auths, auth_cache_key (ref), cached);
}

/* ---- One call: a reference, its client and config ---- */

typedef struct {
  DflyOciSource *self;
  OciClient     *client;
  DflyConfig    *config;
  OciRef        *ref;
  char          *url;           /* for messages */
  GHashTable    *headers;       /* the caller's, borrowed */
  gboolean       caller_auth;   /* the caller sent its own Authorization */
  char          *authorization; /* ours for the registry, or NULL */
} OciCall;

static void
oci_call_clear (OciCall *call)
{
  g_clear_pointer (&call->client, oci_client_unref);
  g_clear_pointer (&call->config, dfly_config_unref);
  g_clear_pointer (&call->ref, oci_ref_free);
  g_clear_pointer (&call->url, g_free);
  g_clear_pointer (&call->authorization, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OciCall, oci_call_clear)

static gboolean
is_token_char_string (const char *text)
{
  static const char extra[] = "!#$%&'*+-.^_`|~";

  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (extra, *p) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
is_field_value (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static const char * const reserved_headers[] = {
  "Accept", "Accept-Encoding", "Connection", "Content-Length", "Expect", "Host", "Range",
  "TE", "Trailer", "Transfer-Encoding", "Upgrade", NULL,
};

static gboolean
is_one_of (const char *name, const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
check_headers (GHashTable *headers, gboolean *has_auth, GError **error)
{
  GHashTableIter iter;
  gpointer name, value;

  *has_auth = FALSE;
  if (headers == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &name, &value)) {
    g_autofree char *shown = g_strescape (name, NULL);

    if (!is_token_char_string (name) || value == NULL || !is_field_value (value) ||
        is_one_of (name, reserved_headers)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "header %s: not a valid header, or one the oci source sets", shown);
      return FALSE;
    }
    if (g_ascii_strcasecmp (name, "Authorization") == 0)
      *has_auth = TRUE;
  }
  return TRUE;
}

static gboolean
oci_call_init (OciCall *call, DflyOciSource *self, const char *url, GHashTable *headers,
               GError **error)
{
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (self));

  call->self = self;
  call->config = dfly_context_dup_config (context);
  call->ref = oci_ref_parse (url, call->config->oci.insecure_registries, error);
  if (call->ref == NULL)
    return FALSE;
  if (!check_headers (headers, &call->caller_auth, error))
    return FALSE;
  call->headers = headers;
  call->url = g_strdup (url);
  call->client = dfly_oci_source_get_client (self, call->config);
  if (call->client->auth_error != NULL) {
    g_propagate_error (error, g_error_copy (call->client->auth_error));
    return FALSE;
  }
  call->authorization = lookup_auth (self, call->ref);
  return TRUE;
}

/* ---- Sending ---- */

static gboolean
is_redirect (guint status)
{
  return status == SOUP_STATUS_MOVED_PERMANENTLY || status == SOUP_STATUS_FOUND ||
         status == SOUP_STATUS_SEE_OTHER || status == SOUP_STATUS_TEMPORARY_REDIRECT ||
         status == SOUP_STATUS_PERMANENT_REDIRECT;
}

static gboolean
is_http_uri (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);

  return (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0) &&
         host != NULL && *host != '\0';
}

static gboolean
is_same_origin (GUri *a, GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         g_uri_get_port (a) == g_uri_get_port (b);
}

static gboolean
is_retryable_error (const GError *error)
{
  static const GIOErrorEnum codes[] = {
    G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CONNECTION_REFUSED, G_IO_ERROR_CONNECTION_CLOSED,
    G_IO_ERROR_BROKEN_PIPE, G_IO_ERROR_HOST_UNREACHABLE, G_IO_ERROR_NETWORK_UNREACHABLE,
    G_IO_ERROR_PARTIAL_INPUT,
  };

  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE;
  if (error->domain != G_IO_ERROR)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (error->code == (gint) codes[i])
      return TRUE;
  return FALSE;
}

static gboolean
is_retryable_status (guint status)
{
  return SOUP_STATUS_IS_SERVER_ERROR (status) && status != SOUP_STATUS_NOT_IMPLEMENTED;
}

static gboolean
backoff (guint ms, GCancellable *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  GPollFD pollfd;
  gint64 left;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd)) {
    g_usleep ((gulong) ms * G_TIME_SPAN_MILLISECOND);
    return TRUE;
  }
  while (!g_cancellable_is_cancelled (cancellable) &&
         (left = deadline - g_get_monotonic_time ()) > 0)
    g_poll (&pollfd, 1, (gint) ((left + 999) / 1000));
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_is_cancelled (cancellable);
}

static void
on_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection,
                  gpointer data)
{
  OciCall *call = data;

  if (event == G_SOCKET_CLIENT_CONNECTING && G_IS_SOCKET_CONNECTION (connection))
    g_socket_set_timeout (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)),
                          call->config->http.connect_timeout);
}

static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer data)
{
  OciCall *call = data;
  const char *host = g_uri_get_host (soup_message_get_uri (msg));

  return is_listed (call->client->insecure_hosts, host);
}

typedef struct {
  const char *method;
  const char *accept;        /* or NULL */
  const char *range;         /* or NULL */
  const char *authorization; /* for the first origin only; or NULL */
  gboolean    registry;      /* send the caller's headers (to the first origin) */
} Request;

static SoupMessage *
request_message (OciCall *call, const Request *request, GUri *target, gboolean cross_origin)
{
  SoupMessage *msg = soup_message_new_from_uri (request->method, target);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  if (request->registry && call->headers != NULL) {
    GHashTableIter iter;
    gpointer name, value;

    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &name, &value))
      if (!cross_origin || (g_ascii_strcasecmp (name, "Authorization") != 0 &&
                            g_ascii_strcasecmp (name, "Cookie") != 0))
        soup_message_headers_replace (headers, name, value);
  }
  if (!cross_origin && request->authorization != NULL)
    soup_message_headers_replace (headers, "Authorization", request->authorization);
  if (request->accept != NULL)
    soup_message_headers_replace (headers, "Accept", request->accept);
  if (request->range != NULL)
    soup_message_headers_replace (headers, "Range", request->range);
  soup_message_headers_replace (headers, "Accept-Encoding", "identity");
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), call);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), call);
  return msg;
}

static void
set_transport_error (GError **error, const GError *cause, const char *url)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", url);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT, "%s timed out: %s", url, cause->message);
  else
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s: %s", url, cause->message);
}

/* One attempt, following redirects. */
static GInputStream *
send_once (OciCall *call, const Request *request, GUri *uri, SoupMessage **msg_out,
           GCancellable *cancellable, GError **error)
{
  g_autoptr (GUri) target = g_uri_ref (uri);
  gboolean cross_origin = FALSE;

  for (guint redirects = 0;; redirects++) {
    g_autoptr (SoupMessage) msg = request_message (call, request, target, cross_origin);
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GUri) next = NULL;
    const char *location;

    stream = soup_session_send (call->client->session, msg, cancellable, error);
    g_signal_handlers_disconnect_by_data (msg, call);
    location = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
    if (stream == NULL || !is_redirect (soup_message_get_status (msg)) || location == NULL) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    g_input_stream_close (stream, NULL, NULL);
    if (redirects == MAX_REDIRECTS) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "more than %u redirects: %s",
                   MAX_REDIRECTS, call->url);
      return NULL;
    }
    next = g_uri_parse_relative (target, location, SOUP_HTTP_URI_FLAGS, NULL);
    if (next == NULL || !is_http_uri (next)) {
      g_autofree char *shown = g_strescape (location, NULL);

      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "redirected to \"%s\", not an http or https URL: %s", shown, call->url);
      return NULL;
    }
    cross_origin = cross_origin || !is_same_origin (target, next);
    g_uri_unref (target);
    target = g_steal_pointer (&next);
  }
}

/* Sends with the configured retries on 5xx and connection failures; the
 * last answer whatever its status. */
static GInputStream *
send_request (OciCall *call, const Request *request, GUri *uri, SoupMessage **msg_out,
              GCancellable *cancellable, GError **error)
{
  guint delay = call->config->http.retry_backoff_ms;

  for (guint attempt = 0;; attempt++) {
    g_autoptr (SoupMessage) msg = NULL;
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GError) local_error = NULL;
    gboolean last = attempt >= call->config->http.retries;

    if (g_cancellable_is_cancelled (cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call->url);
      return NULL;
    }
    stream = send_once (call, request, uri, &msg, cancellable, &local_error);
    if (stream == NULL && local_error->domain == DFLY_ERROR) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
    if (stream != NULL && (last || !is_retryable_status (soup_message_get_status (msg)))) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    if (stream == NULL && (last || !is_retryable_error (local_error))) {
      set_transport_error (error, local_error, call->url);
      return NULL;
    }
    if (stream != NULL)
      g_input_stream_close (stream, NULL, NULL);
    g_debug ("%s %s: %s; attempt %u of %u in %u ms", request->method, call->url,
             stream != NULL ? soup_status_get_phrase (soup_message_get_status (msg))
                            : local_error->message,
             attempt + 2, call->config->http.retries + 1, delay);
    if (!backoff (delay, cancellable)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED, "cancelled: %s", call->url);
      return NULL;
    }
    delay = MIN (delay * 2, MAX_BACKOFF_MS);
  }
}

/* Reads a whole body of at most max bytes; NULL (with *too_big) past it. */
static GBytes *
read_bounded (GInputStream *stream, gsize max, gboolean *too_big, GCancellable *cancellable,
              GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[16384];

  *too_big = FALSE;
  for (;;) {
    gssize n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (bytes->len + (gsize) n > max) {
      *too_big = TRUE;
      return NULL;
    }
    g_byte_array_append (bytes, buffer, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static gboolean
parse_json (GBytes *bytes, JsonParser *parser, GError **error)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  return json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) size, error);
}

/* The registry's error: "HTTP 404 Not Found, MANIFEST_UNKNOWN (manifest
 * unknown): URL", with a code from what the registry named. */
static void
set_registry_error (OciCall *call, SoupMessage *msg, GInputStream *stream, GError **error)
{
  guint status = soup_message_get_status (msg);
  DflyError code = DFLY_ERROR_SOURCE;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *detail = NULL;
  gboolean too_big;

  if (status == SOUP_STATUS_NOT_FOUND)
    code = DFLY_ERROR_NOT_FOUND;
  else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    code = DFLY_ERROR_ACCESS_DENIED;
  if (stream != NULL)
    body = read_bounded (stream, MAX_ERROR_BODY, &too_big, NULL, NULL);
  if (body != NULL && parse_json (body, parser, NULL)) {
    JsonNode *root = json_parser_get_root (parser);
    JsonObject *object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root)
                                                                       : NULL;
    JsonNode *errors = object != NULL ? json_object_get_member (object, "errors") : NULL;
    JsonArray *array = errors != NULL && JSON_NODE_HOLDS_ARRAY (errors)
                         ? json_node_get_array (errors) : NULL;
    JsonNode *first = array != NULL && json_array_get_length (array) > 0
                        ? json_array_get_element (array, 0) : NULL;

    if (first != NULL && JSON_NODE_HOLDS_OBJECT (first)) {
      JsonObject *entry = json_node_get_object (first);
      const char *name = json_object_get_string_member_with_default (entry, "code", "");
      const char *message = json_object_get_string_member_with_default (entry, "message", "");
      g_autofree char *safe_name = g_strescape (name, NULL);
      g_autofree char *safe_message = g_strescape (message, NULL);

      if (strlen (safe_name) > 64)
        safe_name[64] = '\0';
      if (strlen (safe_message) > 200)
        safe_message[200] = '\0';
      detail = g_strdup_printf (", %s (%s)", safe_name, safe_message);
      if (g_str_equal (name, "MANIFEST_UNKNOWN") || g_str_equal (name, "BLOB_UNKNOWN") ||
          g_str_equal (name, "NAME_UNKNOWN"))
        code = DFLY_ERROR_NOT_FOUND;
      else if (g_str_equal (name, "UNAUTHORIZED") || g_str_equal (name, "DENIED"))
        code = DFLY_ERROR_ACCESS_DENIED;
    }
  }
  if (stream != NULL)
    g_input_stream_close (stream, NULL, NULL);
  g_set_error (error, DFLY_ERROR, code, "HTTP %u %s%s: %s", status,
               soup_status_get_phrase (status), detail != NULL ? detail : "", call->url);
}

/* ---- Authentication ---- */

static char *
basic_authorization (OciCall *call)
{
  const char *pair = g_hash_table_lookup (call->client->credentials, call->ref->registry);
  g_autofree char *encoded = NULL;

  if (pair == NULL)
    return NULL;
  encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  return g_strconcat ("Basic ", encoded, NULL);
}

/* A token from the realm of a Bearer challenge; stored in the cache. */
static gboolean
fetch_token (OciCall *call, GHashTable *params, GCancellable *cancellable, GError **error)
{
  const char *realm = g_hash_table_lookup (params, "realm");
  const char *service = g_hash_table_lookup (params, "service");
  const char *scope = g_hash_table_lookup (params, "scope");
  g_autofree char *default_scope = g_strdup_printf ("repository:%s:pull", call->ref->repo);
  g_autofree char *basic = basic_authorization (call);
  g_autoptr (GUri) realm_uri = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GString) query = g_string_new (NULL);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *authorization = NULL;
  JsonNode *root;
  JsonObject *object;
  const char *token;
  gint64 lifetime;
  gboolean too_big;
  Request request = { "GET", "application/json", NULL, basic, FALSE };

  realm_uri = realm != NULL ? g_uri_parse (realm, SOUP_HTTP_URI_FLAGS, NULL) : NULL;
  if (realm_uri == NULL || !is_http_uri (realm_uri)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "the registry's Bearer challenge names no http(s) realm: %s", call->url);
    return FALSE;
  }
  if (g_uri_get_query (realm_uri) != NULL)
    g_string_append (query, g_uri_get_query (realm_uri));
  if (service != NULL) {
    g_autofree char *escaped = g_uri_escape_string (service, NULL, FALSE);

    g_string_append_printf (query, "%sservice=%s", query->len > 0 ? "&" : "", escaped);
  }
  {
    g_autofree char *escaped = g_uri_escape_string (scope != NULL ? scope : default_scope, NULL,
                                                    FALSE);

    g_string_append_printf (query, "%sscope=%s", query->len > 0 ? "&" : "", escaped);
  }
  uri = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (realm_uri), NULL,
                     g_uri_get_host (realm_uri), g_uri_get_port (realm_uri),
                     g_uri_get_path (realm_uri), query->str, NULL);
  stream = send_request (call, &request, uri, &msg, cancellable, error);
  if (stream == NULL)
    return FALSE;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    guint status = soup_message_get_status (msg);

    g_input_stream_close (stream, NULL, NULL);
    g_set_error (error, DFLY_ERROR,
                 status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN
                   ? DFLY_ERROR_ACCESS_DENIED : DFLY_ERROR_SOURCE,
                 "token service %s answered HTTP %u %s%s: %s", realm, status,
                 soup_status_get_phrase (status), basic != NULL ? " to our credentials" : "",
                 call->url);
    return FALSE;
  }
  body = read_bounded (stream, MAX_TOKEN_BODY, &too_big, cancellable, NULL);
  g_input_stream_close (stream, NULL, NULL);
  if (body == NULL || !parse_json (body, parser, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "token service %s sent no JSON object: %s", realm, call->url);
    return FALSE;
  }
  object = json_node_get_object (root);
  token = json_object_get_string_member_with_default (object, "token", NULL);
  if (token == NULL || *token == '\0')
    token = json_object_get_string_member_with_default (object, "access_token", NULL);
  if (token == NULL || *token == '\0' || !is_field_value (token) || strlen (token) > 65536) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "token service %s sent no usable token: %s",
                 realm, call->url);
    return FALSE;
  }
  lifetime = json_object_get_int_member_with_default (object, "expires_in", 0);
  if (lifetime <= 0 || lifetime > 86400)
    lifetime = TOKEN_DEFAULT_LIFETIME;
  authorization = g_strconcat ("Bearer ", token, NULL);
  /* A few seconds early: a token must not expire on its way. */
  store_auth (call->self, call->ref, authorization,
              g_get_monotonic_time () + MAX (lifetime - 5, 1) * G_TIME_SPAN_SECOND);
  g_free (call->authorization);
  call->authorization = g_steal_pointer (&authorization);
  return TRUE;
}

/* After a 401: TRUE when there is something new to try. */
static gboolean
authenticate (OciCall *call, SoupMessage *msg, GCancellable *cancellable, GError **error)
{
  const char *challenge = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                        "WWW-Authenticate");

  if (challenge == NULL)
    return FALSE;
  if (g_ascii_strncasecmp (challenge, "Bearer ", 7) == 0) {
    GHashTable *params = soup_header_parse_param_list (challenge + 7);
    gboolean ok = fetch_token (call, params, cancellable, error);

    soup_header_free_param_list (params);
    return ok;
  }
  if (g_ascii_strncasecmp (challenge, "Basic", 5) == 0) {
    g_autofree char *basic = basic_authorization (call);

    if (basic == NULL || g_strcmp0 (basic, call->authorization) == 0)
      return FALSE;
    store_auth (call->self, call->ref, basic, G_MAXINT64);
    g_free (call->authorization);
    call->authorization = g_steal_pointer (&basic);
    return TRUE;
  }
  return FALSE;
}

/* A request to the registry: /v2/REPO/KIND/REFERENCE, authenticating once
 * when challenged. Returns the answer whatever its status. */
static GInputStream *
registry_send (OciCall *call, const char *method, const char *kind, const char *reference,
               const char *accept, const char *range, SoupMessage **msg_out,
               GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/v2/%s/%s/%s", call->ref->repo, kind, reference);
  g_autoptr (GUri) uri = NULL;
  const char *host = call->ref->registry;
  g_autofree char *url = g_strconcat (call->ref->scheme, "://", host, path, NULL);
  gboolean authenticated = FALSE;

  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  g_assert (uri != NULL); /* every part was checked */
  for (;;) {
    Request request = { method, accept, range, call->caller_auth ? NULL : call->authorization,
                        TRUE };
    g_autoptr (SoupMessage) msg = NULL;
    g_autoptr (GInputStream) stream = send_request (call, &request, uri, &msg, cancellable, error);

    if (stream == NULL)
      return NULL;
    if (soup_message_get_status (msg) != SOUP_STATUS_UNAUTHORIZED || authenticated ||
        call->caller_auth) {
      *msg_out = g_steal_pointer (&msg);
      return g_steal_pointer (&stream);
    }
    authenticated = TRUE;
    {
      g_autoptr (GError) auth_error = NULL;

      if (!authenticate (call, msg, cancellable, &auth_error)) {
        if (auth_error != NULL) {
          g_input_stream_close (stream, NULL, NULL);
          g_propagate_error (error, g_steal_pointer (&auth_error));
          return NULL;
        }
        *msg_out = g_steal_pointer (&msg);
        return g_steal_pointer (&stream);
      }
    }
    g_input_stream_close (stream, NULL, NULL);
  }
}

/* ---- A body stream that counts ---- */

#define DFLY_TYPE_OCI_BODY_STREAM (dfly_oci_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (DflyOciBodyStream, dfly_oci_body_stream, DFLY, OCI_BODY_STREAM,
                      GInputStream)

struct _DflyOciBodyStream {
  GInputStream  parent_instance;
  GInputStream *base;
  SoupMessage  *msg;
  OciClient    *client;
  char         *url;
  gint64        expected;
  gint64        received;
};

G_DEFINE_FINAL_TYPE (DflyOciBodyStream, dfly_oci_body_stream, G_TYPE_INPUT_STREAM)

static gssize
dfly_oci_body_stream_read (GInputStream *stream, void *buffer, gsize count,
                           GCancellable *cancellable, GError **error)
{
  DflyOciBodyStream *self = DFLY_OCI_BODY_STREAM (stream);
  g_autoptr (GError) local_error = NULL;
  gssize n;

  if (self->expected >= 0) {
    if (self->received >= self->expected)
      return 0;
    count = MIN (count, (guint64) (self->expected - self->received));
  }
  n = g_input_stream_read (self->base, buffer, count, cancellable, &local_error);
  if (n < 0 && (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))) {
    set_transport_error (error, local_error, self->url);
    return -1;
  }
  if (n < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "reading the body of %s: %s", self->url,
                 local_error->message);
    return -1;
  }
  if (n == 0 && self->expected >= 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "body ended after %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " bytes: %s",
                 self->received, self->expected, self->url);
    return -1;
  }
  self->received += n;
  return n;
}

static gboolean
dfly_oci_body_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_input_stream_close (DFLY_OCI_BODY_STREAM (stream)->base, cancellable, error);
}

static void
dfly_oci_body_stream_finalize (GObject *object)
{
  DflyOciBodyStream *self = DFLY_OCI_BODY_STREAM (object);

  g_object_unref (self->base);
  g_object_unref (self->msg);
  oci_client_unref (self->client);
  g_free (self->url);
  G_OBJECT_CLASS (dfly_oci_body_stream_parent_class)->finalize (object);
}

static void
dfly_oci_body_stream_class_init (DflyOciBodyStreamClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_oci_body_stream_finalize;
  stream_class->read_fn = dfly_oci_body_stream_read;
  stream_class->close_fn = dfly_oci_body_stream_close;
}

static void
dfly_oci_body_stream_init (DflyOciBodyStream *self)
{
}

static GInputStream *
body_stream_new (OciCall *call, GInputStream *base, SoupMessage *msg, gint64 expected)
{
  DflyOciBodyStream *stream = g_object_new (DFLY_TYPE_OCI_BODY_STREAM, NULL);

  stream->base = g_object_ref (base);
  stream->msg = g_object_ref (msg);
  stream->client = oci_client_ref (call->client);
  stream->url = g_strdup (call->url);
  stream->expected = expected;
  return G_INPUT_STREAM (stream);
}

/* ---- Response headers ---- */

/* Content-Length when the body is framed by one, else -1. */
static gint64
response_content_length (SoupMessage *msg)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);

  return dfly_http_content_length (soup_message_headers_get_one (headers, "Content-Length"),
                                   soup_message_headers_get_one (headers, "Transfer-Encoding"));
}

/* ---- Manifests ---- */

typedef struct {
  char   *media_type;
  char   *digest;
  gint64  size;
  char   *os;           /* index entries only, or NULL */
  char   *architecture;
  char   *variant;
} Descriptor;

static void
descriptor_free (Descriptor *d)
{
  g_free (d->media_type);
  g_free (d->digest);
  g_free (d->os);
  g_free (d->architecture);
  g_free (d->variant);
  g_free (d);
}

typedef struct {
  GBytes    *bytes;
  char      *media_type;
  char      *digest;      /* "sha256:<hex>" of bytes */
  gboolean   is_index;
  Descriptor *config;     /* manifests only */
  GPtrArray *descriptors; /* layers, or an index's manifests */
} Manifest;

static void
manifest_free (Manifest *m)
{
  if (m == NULL)
    return;
  g_bytes_unref (m->bytes);
  g_free (m->media_type);
  g_free (m->digest);
  g_clear_pointer (&m->config, descriptor_free);
  g_clear_pointer (&m->descriptors, g_ptr_array_unref);
  g_free (m);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Manifest, manifest_free)

static gboolean
is_manifest_type (const char *type)
{
  return g_strcmp0 (type, OCI_MANIFEST) == 0 || g_strcmp0 (type, DOCKER_MANIFEST) == 0;
}

static gboolean
is_index_type (const char *type)
{
  return g_strcmp0 (type, OCI_INDEX) == 0 || g_strcmp0 (type, DOCKER_LIST) == 0;
}

static Descriptor *
parse_descriptor (JsonNode *node, gboolean with_platform, const char *what, GError **error)
{
  JsonObject *object;
  JsonNode *size;
  Descriptor *d;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s is not a JSON object", what);
    return NULL;
  }
  object = json_node_get_object (node);
  size = json_object_get_member (object, "size");
  if (!is_sha256_digest (json_object_get_string_member_with_default (object, "digest", NULL))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "%s has no digest of the form sha256:<64 lowercase hex>", what);
    return NULL;
  }
  if (size == NULL || !JSON_NODE_HOLDS_VALUE (size) ||
      json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s has no valid size", what);
    return NULL;
  }
  d = g_new0 (Descriptor, 1);
  d->digest = g_strdup (json_object_get_string_member (object, "digest"));
  d->size = json_node_get_int (size);
  d->media_type = g_strdup (json_object_get_string_member_with_default (object, "mediaType", ""));
  if (with_platform && json_object_has_member (object, "platform") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "platform"))) {
    JsonObject *platform = json_object_get_object_member (object, "platform");

    d->os = g_strdup (json_object_get_string_member_with_default (platform, "os", NULL));
    d->architecture =
      g_strdup (json_object_get_string_member_with_default (platform, "architecture", NULL));
    d->variant = g_strdup (json_object_get_string_member_with_default (platform, "variant", NULL));
  }
  return d;
}

static char *
sha256_digest (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  return g_strconcat ("sha256:", hex, NULL);
}

/* Parses bytes as the manifest or index media_type says (or, without a
 * usable Content-Type, as its own mediaType says). */
static Manifest *
manifest_parse (GBytes *bytes, const char *content_type, const char *url, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (Manifest) m = g_new0 (Manifest, 1);
  g_autoptr (GError) local_error = NULL;
  JsonNode *root, *list;
  JsonObject *object;
  const char *own_type;
  JsonArray *array;
  guint n;

  m->bytes = g_bytes_ref (bytes);
  m->digest = sha256_digest (bytes);
  if (!parse_json (bytes, parser, &local_error) || (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "the manifest is not a JSON object%s%s: %s",
                 local_error != NULL ? ": " : "", local_error != NULL ? local_error->message : "",
                 url);
    return NULL;
  }
  object = json_node_get_object (root);
  own_type = json_object_get_string_member_with_default (object, "mediaType", NULL);
  if (is_manifest_type (content_type) || is_index_type (content_type))
    m->media_type = g_strdup (content_type);
  else
    m->media_type = g_strdup (own_type);
  if (!is_manifest_type (m->media_type) && !is_index_type (m->media_type)) {
    g_autofree char *shown = g_strescape (m->media_type != NULL ? m->media_type
                                          : content_type != NULL ? content_type : "none", NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                 "unsupported manifest media type \"%.200s\" (OCI or Docker v2 manifests and "
                 "indexes only): %s", shown, url);
    return NULL;
  }
  m->is_index = is_index_type (m->media_type);
  list = json_object_get_member (object, m->is_index ? "manifests" : "layers");
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "the %s has no \"%s\" array: %s",
                 m->is_index ? "index" : "manifest", m->is_index ? "manifests" : "layers", url);
    return NULL;
  }
  array = json_node_get_array (list);
  n = json_array_get_length (array);
  if (n > MAX_DESCRIPTORS) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "the %s lists %u entries, more than %u: %s", m->is_index ? "index" : "manifest",
                 n, MAX_DESCRIPTORS, url);
    return NULL;
  }
  m->descriptors = g_ptr_array_new_with_free_func ((GDestroyNotify) descriptor_free);
  for (guint i = 0; i < n; i++) {
    g_autofree char *what = g_strdup_printf ("%s %u", m->is_index ? "manifest" : "layer", i);
    Descriptor *d = parse_descriptor (json_array_get_element (array, i), m->is_index, what,
                                      &local_error);

    if (d == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "bad manifest: %s: %s",
                   local_error->message, url);
      return NULL;
    }
    g_ptr_array_add (m->descriptors, d);
  }
  if (!m->is_index) {
    m->config = parse_descriptor (json_object_get_member (object, "config"), FALSE, "config",
                                  &local_error);
    if (m->config == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "bad manifest: %s: %s",
                   local_error->message, url);
      return NULL;
    }
  }
  return g_steal_pointer (&m);
}

/* GETs a manifest by tag or digest, at most oci.max_manifest_size bytes,
 * checked against the digest it was asked by. */
static Manifest *
fetch_manifest (OciCall *call, const char *reference, GCancellable *cancellable, GError **error)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (Manifest) m = NULL;
  guint64 max = call->config->oci.max_manifest_size;
  g_autofree char *content_type = NULL;
  gint64 length;
  gboolean too_big = FALSE;

  stream = registry_send (call, "GET", "manifests", reference, MANIFEST_ACCEPT, NULL, &msg,
                          cancellable, error);
  if (stream == NULL)
    return NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    set_registry_error (call, msg, stream, error);
    return NULL;
  }
  length = response_content_length (msg);
  if (length < 0 || (guint64) length <= max)
    bytes = read_bounded (stream, (gsize) max, &too_big, cancellable, &local_error);
  else
    too_big = TRUE;
  g_input_stream_close (stream, NULL, NULL);
  if (too_big) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "the manifest is larger than oci.max_manifest_size (%" G_GUINT64_FORMAT
                 " bytes): %s", max, call->url);
    return NULL;
  }
  if (bytes == NULL) {
    set_transport_error (error, local_error, call->url);
    return NULL;
  }
  /* "type/subtype; params" → "type/subtype" */
  content_type = g_strdup (soup_message_headers_get_content_type (
    soup_message_get_response_headers (msg), NULL));
  m = manifest_parse (bytes, content_type, call->url, error);
  if (m == NULL)
    return NULL;
  if (is_sha256_digest (reference) && !g_str_equal (reference, m->digest)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH,
                 "the manifest's bytes have digest %s, not %s: %s", m->digest, reference,
                 call->url);
    return NULL;
  }
  return g_steal_pointer (&m);
}

/* ---- Platforms ---- */

typedef struct {
  char *os, *architecture, *variant; /* variant may be NULL: any */
} Platform;

static void
platform_clear (Platform *p)
{
  g_clear_pointer (&p->os, g_free);
  g_clear_pointer (&p->architecture, g_free);
  g_clear_pointer (&p->variant, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Platform, platform_clear)

/* Go's GOARCH names for uname's machines. */
static void
host_platform (Platform *p)
{
  static const struct {
    const char *machine, *architecture, *variant;
  } machines[] = {
    { "x86_64", "amd64", NULL }, { "aarch64", "arm64", NULL }, { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },   { "i686", "386", NULL },      { "i386", "386", NULL },
    { "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
  };
  struct utsname name;

  p->os = g_strdup ("linux");
  if (uname (&name) == 0) {
    for (gsize i = 0; i < G_N_ELEMENTS (machines); i++) {
      if (g_str_equal (name.machine, machines[i].machine)) {
        p->architecture = g_strdup (machines[i].architecture);
        p->variant = g_strdup (machines[i].variant);
        return;
      }
    }
    p->architecture = g_strdup (name.machine);
    return;
  }
  p->architecture = g_strdup ("amd64");
}

static gboolean
parse_platform (const char *text, Platform *p, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 4);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++) {
    gsize len = strlen (parts[i]);

    if (len == 0 || len > 64 ||
        strspn (parts[i], "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
      n = 0;
  }
  if (n < 2 || n > 3) {
    g_autofree char *shown = g_strescape (text, NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad platform \"%.100s\" (os/architecture[/variant], e.g. linux/arm64)", shown);
    return FALSE;
  }
  p->os = g_strdup (parts[0]);
  p->architecture = g_strdup (parts[1]);
  p->variant = g_strdup (parts[2]);
  return TRUE;
}

static const Descriptor *
select_platform (const Manifest *index, const Platform *p)
{
  for (guint i = 0; i < index->descriptors->len; i++) {
    const Descriptor *d = g_ptr_array_index (index->descriptors, i);

    if (g_strcmp0 (d->os, p->os) == 0 && g_strcmp0 (d->architecture, p->architecture) == 0 &&
        (p->variant == NULL || g_strcmp0 (d->variant, p->variant) == 0) &&
        !is_index_type (d->media_type))
      return d;
  }
  return NULL;
}

/* ---- list ---- */

static char *
entry_url (const OciCall *call, const char *digest)
{
  if (call->ref->blob)
    return g_strdup_printf ("%s://%s/v2/%s/blobs/%s", call->ref->scheme, call->ref->registry,
                            call->ref->repo, digest);
  return g_strdup_printf ("oci://%s/%s@%s", call->ref->registry, call->ref->repo, digest);
}

static void
add_entry (GPtrArray *entries, GHashTable *paths, const OciCall *call, const char *digest,
           const char *path, gint64 length)
{
  g_autofree char *url = entry_url (call, digest);

  g_assert (dfly_source_entry_path_is_safe (path)); /* built from checked digests */
  if (!g_hash_table_add (paths, g_strdup (path)))
    return;
  g_ptr_array_add (entries, dfly_source_entry_new (url, path, length));
}

static char *
blob_path (const char *digest)
{
  return g_strconcat ("blobs/sha256/", digest + 7, NULL);
}

static void
add_manifest_blobs (GPtrArray *entries, GHashTable *paths, const OciCall *call,
                    const Manifest *m, gboolean layout)
{
  g_autofree char *config_path = layout ? blob_path (m->config->digest) : g_strdup ("config.json");

  add_entry (entries, paths, call, m->config->digest, config_path, m->config->size);
  for (guint i = 0; i < m->descriptors->len; i++) {
    const Descriptor *d = g_ptr_array_index (m->descriptors, i);
    g_autofree char *path = blob_path (d->digest);

    add_entry (entries, paths, call, d->digest, path, d->size);
  }
}

static GPtrArray *
dfly_oci_source_list (DflySource *source, const char *url, GHashTable *headers,
                      GHashTable *options, GCancellable *cancellable, GError **error)
{
  g_auto (OciCall) call = { 0 };
  g_autoptr (Manifest) top = NULL;
  g_autoptr (Manifest) manifest = NULL;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (
    (GDestroyNotify) dfly_source_entry_free);
  g_autoptr (GHashTable) paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (Platform) platform = { 0 };
  const char *platform_text = options != NULL ? g_hash_table_lookup (options, "platform") : NULL;
  const char *all = options != NULL ? g_hash_table_lookup (options, "all-platforms") : NULL;
  const Descriptor *chosen;

  if (!oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->blob) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "a blob URL names one object, not an image: %s", url);
    return NULL;
  }
  if (platform_text != NULL) {
    if (!parse_platform (platform_text, &platform, error))
      return NULL;
  } else {
    host_platform (&platform);
  }
  top = fetch_manifest (&call, call.ref->digest != NULL ? call.ref->digest : call.ref->tag,
                        cancellable, error);
  if (top == NULL)
    return NULL;

  if (top->is_index && g_strcmp0 (all, "true") == 0) {
    add_entry (entries, paths, &call, top->digest, "index.json",
               (gint64) g_bytes_get_size (top->bytes));
    for (guint i = 0; i < top->descriptors->len; i++) {
      const Descriptor *d = g_ptr_array_index (top->descriptors, i);
      g_autoptr (Manifest) m = NULL;
      g_autofree char *path = blob_path (d->digest);

      if (is_index_type (d->media_type)) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                     "the index lists another index (%s): %s", d->digest, url);
        return NULL;
      }
      m = fetch_manifest (&call, d->digest, cancellable, error);
      if (m == NULL)
        return NULL;
      if (m->is_index) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                     "the index lists another index (%s): %s", d->digest, url);
        return NULL;
      }
      add_entry (entries, paths, &call, m->digest, path, (gint64) g_bytes_get_size (m->bytes));
      add_manifest_blobs (entries, paths, &call, m, TRUE);
    }
    return g_steal_pointer (&entries);
  }

  if (top->is_index) {
    chosen = select_platform (top, &platform);
    if (chosen == NULL) {
      g_autoptr (GString) have = g_string_new (NULL);

      for (guint i = 0; i < top->descriptors->len && i < 32; i++) {
        const Descriptor *d = g_ptr_array_index (top->descriptors, i);
        g_autofree char *os = g_strescape (d->os != NULL ? d->os : "?", NULL);
        g_autofree char *arch = g_strescape (d->architecture != NULL ? d->architecture : "?", NULL);

        g_string_append_printf (have, "%s%.64s/%.64s", have->len > 0 ? ", " : "", os, arch);
      }
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND,
                   "no manifest for platform %s/%s%s%s in the index (it has: %s): %s",
                   platform.os, platform.architecture, platform.variant != NULL ? "/" : "",
                   platform.variant != NULL ? platform.variant : "", have->str, url);
      return NULL;
    }
    manifest = fetch_manifest (&call, chosen->digest, cancellable, error);
    if (manifest == NULL)
      return NULL;
    if (manifest->is_index) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                   "the index lists another index (%s): %s", chosen->digest, url);
      return NULL;
    }
  } else {
    manifest = g_steal_pointer (&top);
  }
  add_entry (entries, paths, &call, manifest->digest, "manifest.json",
             (gint64) g_bytes_get_size (manifest->bytes));
  add_manifest_blobs (entries, paths, &call, manifest, FALSE);
  return g_steal_pointer (&entries);
}

/* ---- stat and open_range ---- */

static gboolean
is_not_found (SoupMessage *msg)
{
  return soup_message_get_status (msg) == SOUP_STATUS_NOT_FOUND;
}

/* A manifest by digest, when the digest names no blob. */
static Manifest *
fetch_digest_manifest (OciCall *call, GCancellable *cancellable, GError **error)
{
  if (call->ref->digest == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "a tag names an image, not one object: list it, or ask by @sha256:…: %s",
                 call->url);
    return NULL;
  }
  return fetch_manifest (call, call->ref->digest, cancellable, error);
}

static DflySourceStat *
dfly_oci_source_stat (DflySource *source, const char *url, GHashTable *headers,
                      GCancellable *cancellable, GError **error)
{
  g_auto (OciCall) call = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (Manifest) m = NULL;
  DflySourceStat *stat;

  if (!oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->digest != NULL) {
    stream = registry_send (&call, "HEAD", "blobs", call.ref->digest, NULL, NULL, &msg,
                            cancellable, error);
    if (stream == NULL)
      return NULL;
    if (soup_message_get_status (msg) == SOUP_STATUS_OK) {
      g_input_stream_close (stream, NULL, NULL);
      stat = g_new0 (DflySourceStat, 1);
      stat->content_length = response_content_length (msg);
      stat->accepts_ranges = TRUE; /* the distribution spec's blob GET serves ranges */
      stat->etag = g_strdup (
        soup_message_headers_get_one (soup_message_get_response_headers (msg), "ETag"));
      stat->digest = g_strdup (call.ref->digest);
      return stat;
    }
    if (!is_not_found (msg) || call.ref->blob) {
      set_registry_error (&call, msg, stream, error);
      return NULL;
    }
    g_input_stream_close (stream, NULL, NULL);
  }
  m = fetch_digest_manifest (&call, cancellable, error);
  if (m == NULL)
    return NULL;
  stat = g_new0 (DflySourceStat, 1);
  stat->content_length = (gint64) g_bytes_get_size (m->bytes);
  stat->accepts_ranges = TRUE; /* served from memory */
  stat->digest = g_strdup (m->digest);
  return stat;
}

static GInputStream *
manifest_range (OciCall *call, GCancellable *cancellable, guint64 offset, gint64 length,
                GError **error)
{
  g_autoptr (Manifest) m = fetch_digest_manifest (call, cancellable, error);
  gsize size;

  if (m == NULL)
    return NULL;
  size = g_bytes_get_size (m->bytes);
  if (offset > size || (length > 0 && (guint64) length > size - offset)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "asked for bytes past the manifest's %" G_GSIZE_FORMAT ": %s", size, call->url);
    return NULL;
  }
  {
    g_autoptr (GBytes) slice =
      g_bytes_new_from_bytes (m->bytes, (gsize) offset, length >= 0 ? (gsize) length
                                                                    : size - (gsize) offset);

    return g_memory_input_stream_new_from_bytes (slice);
  }
}

static GInputStream *
dfly_oci_source_open_range (DflySource *source, const char *url, GHashTable *headers,
                            guint64 offset, gint64 length, GCancellable *cancellable,
                            GError **error)
{
  g_auto (OciCall) call = { 0 };
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autofree char *range = NULL;
  gint64 first, last, total, content_length;
  const char *content_range;

  if (length < -1 || offset > G_MAXINT64 ||
      (length > 0 && offset > (guint64) (G_MAXINT64 - length))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad range: %" G_GINT64_FORMAT " bytes from byte %" G_GUINT64_FORMAT, length,
                 offset);
    return NULL;
  }
  if (!oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->digest == NULL)
    return manifest_range (&call, cancellable, offset, length, error);
  if (length == 0)
    return g_memory_input_stream_new ();
  if (length > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, offset,
                             offset + (guint64) length - 1);
  else if (offset > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);
  stream = registry_send (&call, "GET", "blobs", call.ref->digest, NULL, range, &msg,
                          cancellable, error);
  if (stream == NULL)
    return NULL;
  content_length = response_content_length (msg);
  switch (soup_message_get_status (msg)) {
  case SOUP_STATUS_PARTIAL_CONTENT:
    content_range =
      soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Range");
    if (range == NULL || !dfly_http_parse_content_range (content_range, &first, &last, &total) ||
        first != (gint64) offset || (length > 0 && last != first + length - 1) ||
        (length < 0 && total >= 0 && last != total - 1) ||
        (content_length >= 0 && content_length != last - first + 1)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered %s with Content-Range \"%s\": %s", range != NULL ? range : "no range",
                   content_range != NULL ? content_range : "", call.url);
      g_input_stream_close (stream, NULL, NULL);
      return NULL;
    }
    return body_stream_new (&call, stream, msg, last - first + 1);
  case SOUP_STATUS_OK:
    if (offset > 0) {
      g_input_stream_close (stream, NULL, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                   "the registry serves no ranges (asked from byte %" G_GUINT64_FORMAT "): %s",
                   offset, call.url);
      return NULL;
    }
    if (length > 0 && content_length >= 0 && content_length < length) {
      g_input_stream_close (stream, NULL, NULL);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "asked for %" G_GINT64_FORMAT " bytes of %" G_GINT64_FORMAT ": %s", length,
                   content_length, call.url);
      return NULL;
    }
    return body_stream_new (&call, stream, msg, length > 0 ? length : content_length);
  default:
    if (is_not_found (msg) && !call.ref->blob) {
      g_input_stream_close (stream, NULL, NULL);
      return manifest_range (&call, cancellable, offset, length, error);
    }
    set_registry_error (&call, msg, stream, error);
    return NULL;
  }
}

/* ---- Identity ---- */

static char *
dfly_oci_source_get_content_digest (DflySource *source, const char *url)
{
  g_autoptr (OciRef) ref = oci_ref_parse (url, NULL, NULL);

  return ref != NULL && ref->digest != NULL ? g_strdup (ref->digest) : NULL;
}

static gboolean
dfly_oci_source_claims_url (DflySource *source, const char *url)
{
  g_autoptr (OciRef) ref = NULL;

  if (g_ascii_strncasecmp (url, "oci://", 6) == 0)
    return FALSE; /* ours by scheme */
  ref = parse_blob_url (url);
  return ref != NULL;
}

static const char * const *
dfly_oci_source_get_schemes (DflySource *source)
{
  static const char * const schemes[] = { "oci", NULL };

  return schemes;
}

static void
dfly_oci_source_finalize (GObject *object)
{
  DflyOciSource *self = DFLY_OCI_SOURCE (object);

  g_clear_pointer (&self->client, oci_client_unref);
  g_hash_table_unref (self->auths);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (dfly_oci_source_parent_class)->finalize (object);
}

static void
dfly_oci_source_class_init (DflyOciSourceClass *klass)
{
  DflySourceClass *source_class = DFLY_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_oci_source_finalize;
  source_class->get_schemes = dfly_oci_source_get_schemes;
  source_class->claims_url = dfly_oci_source_claims_url;
  source_class->stat = dfly_oci_source_stat;
  source_class->open_range = dfly_oci_source_open_range;
  source_class->list = dfly_oci_source_list;
  source_class->get_content_digest = dfly_oci_source_get_content_digest;
}

static void
dfly_oci_source_init (DflyOciSource *self)
{
  g_mutex_init (&self->lock);
  self->auths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) cached_auth_free);
}

DFLY_PLUGIN_DEFINE ("oci", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                    "OCI registries: blobs and manifests by digest, images by tag, token auth",
                    dfly_oci_source_get_type)
