/* dfly-oci-source.c — the "oci" source: blobs, manifests and images of OCI registries
 *
 * What a URL names is dfly-oci-ref.c's; manifests are parsed in
 * dfly-oci-manifest.c; credentials and tokens are dfly-oci-auth.c's.
 * Requests go through the daemon's DflyHttpClient (session, trust,
 * timeouts, retries, redirects that drop Authorization across origins, so a
 * registry's token never reaches the blob storage it redirects to).
 *
 * A URL naming a digest makes the task keyed by that digest, and its bytes
 * are checked against it by the peer role. A digest URL is tried as a blob
 * first (what most tasks are: layers), then as a manifest; a manifest (at
 * most oci.max_manifest_size) is read whole, checked against its digest
 * and served from memory.
 *
 * list() resolves a tag or digest to its manifest (choosing a platform from
 * an index) and names what to fetch, in a layout like an OCI image layout:
 *   default:          manifest.json, config.json, blobs/sha256/<layer hex>…
 *   all-platforms:    index.json (the index as the registry serves it) and
 *                     blobs/sha256/<hex> for every manifest, config and layer
 * (all-platforms on a single manifest gives the default layout).
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include <dfly/dfly.h>
#include <dfly/dfly-http-client.h>

#include "dfly-oci-auth.h"
#include "dfly-oci-manifest.h"
#include "dfly-oci-ref.h"
#include "dfly-oci-settings.h"

/* Error bodies are read for the registry's code, up to this. */
#define MAX_ERROR_BODY (64 * 1024)

G_DECLARE_FINAL_TYPE (DflyOciSource, dfly_oci_source, DFLY, OCI_SOURCE, DflySource)

struct _DflyOciSource {
  DflySource   parent_instance;
  DflyOciAuth *auth;
};

G_DEFINE_FINAL_TYPE (DflyOciSource, dfly_oci_source, DFLY_TYPE_SOURCE)

/* ---- One call: a reference, the client and settings ---- */

typedef struct {
  DflyOciSource  *self;
  DflyHttpClient *client;   /* borrowed from the context */
  DflySettings   *settings; /* the source's, as when the call began */
  DflyOciRef     *ref;
  char           *url;           /* for messages */
  GHashTable     *headers;       /* the caller's, borrowed */
  gboolean        caller_auth;   /* the caller sent its own Authorization */
  char           *authorization; /* ours for the registry, or NULL */
} OciCall;

static void
oci_call_clear (OciCall *call)
{
  g_clear_pointer (&call->settings, dfly_settings_unref);
  g_clear_pointer (&call->ref, dfly_oci_ref_free);
  g_clear_pointer (&call->url, g_free);
  g_clear_pointer (&call->authorization, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OciCall, oci_call_clear)

/* Caller headers this source sets itself, beyond the client's. */
static const char *const reserved_headers[] = { "Accept", NULL };

static gboolean
oci_call_init (OciCall *call, DflyOciSource *self, const char *url, GHashTable *headers,
               GError **error)
{
  DflyComponent         *component = DFLY_COMPONENT (self);
  const DflyOciSettings *settings;

  call->self = self;
  /* A reference: a reload may swap the settings while the call runs. */
  call->settings = dfly_component_dup_settings (component);
  if (call->settings == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_FAILED,
                         "the oci source's settings are not bound to the config");
    return FALSE;
  }
  settings = dfly_settings_get_values (call->settings);
  call->client = dfly_context_get_http_client (dfly_component_get_context (component));
  call->ref = dfly_oci_ref_parse (url, settings->insecure_registries, error);
  if (call->ref == NULL ||
      !dfly_http_check_headers (headers, reserved_headers, "the oci source", error) ||
      !dfly_oci_auth_use_file (self->auth, settings->auth_file, error))
    return FALSE;
  call->headers = headers;
  call->caller_auth = headers != NULL && g_hash_table_contains (headers, "Authorization");
  call->url = g_strdup (url);
  call->authorization = dfly_oci_auth_lookup (self->auth, call->ref);
  return TRUE;
}

/* ---- Sending ---- */

/* One GET or HEAD to the registry: the caller's headers, ours, an Accept
 * and a Range unless NULL. */
static DflyHttpBody *
oci_call_send (OciCall *call, GUri *uri, const char *method, const char *accept, const char *range,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  DflyHttpRequest request = {
    .method = method, .uri = uri, .url = call->url, .headers = headers, .range = range
  };

  if (call->headers != NULL) {
    GHashTableIter iter;
    gpointer       name, value;

    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &name, &value))
      g_hash_table_insert (headers, name, value);
  }
  if (!call->caller_auth && call->authorization != NULL)
    g_hash_table_insert (headers, (gpointer) "Authorization", call->authorization);
  if (accept != NULL)
    g_hash_table_insert (headers, (gpointer) "Accept", (gpointer) accept);
  return dfly_http_client_send (call->client, &request, cancellable, error);
}

/* A request to the registry: /v2/REPO/KIND/REFERENCE, authenticating once
 * when challenged. Returns the answer whatever its status. */
static DflyHttpBody *
registry_send (OciCall *call, const char *method, const char *kind, const char *reference,
               const char *accept, const char *range, GCancellable *cancellable, GError **error)
{
  g_autofree char *url = g_strdup_printf ("%s://%s/v2/%s/%s/%s", call->ref->scheme,
                                          call->ref->registry, call->ref->repo, kind, reference);
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  g_autoptr (DflyHttpBody) body = NULL;
  g_autofree char *challenge = NULL;
  g_autoptr (GError) auth_error = NULL;
  char *authorization;

  g_assert (uri != NULL); /* every part was checked */
  body = oci_call_send (call, uri, method, accept, range, cancellable, error);
  if (body == NULL || dfly_http_body_get_status (body) != SOUP_STATUS_UNAUTHORIZED ||
      call->caller_auth)
    return g_steal_pointer (&body);
  challenge = g_strdup (soup_message_headers_get_one (
    soup_message_get_response_headers (dfly_http_body_get_message (body)), "WWW-Authenticate"));
  authorization = dfly_oci_auth_answer (call->self->auth, call->client, call->ref, challenge,
                                        call->authorization, call->url, cancellable, &auth_error);
  if (authorization == NULL && auth_error == NULL)
    return g_steal_pointer (&body);
  /* The 401's connection goes back to the pool before we send again. */
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (authorization == NULL) {
    g_propagate_error (error, g_steal_pointer (&auth_error));
    return NULL;
  }
  g_free (call->authorization);
  call->authorization = authorization;
  return oci_call_send (call, uri, method, accept, range, cancellable, error);
}

/* The registry's error: "HTTP 404 Not Found, MANIFEST_UNKNOWN (manifest
 * unknown): URL", with a code from what the registry named. Closes body. */
static gboolean
set_registry_error (GError **error, OciCall *call, DflyHttpBody *body)
{
  SoupMessage *msg = dfly_http_body_get_message (body);
  DflyError    code = dfly_http_status_to_error (dfly_http_body_get_status (body));
  g_autoptr (GBytes) bytes = dfly_http_body_read_all (body, MAX_ERROR_BODY, NULL, NULL);
  g_autofree char *detail = NULL;

  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (bytes != NULL)
    detail = dfly_oci_parse_error_body (bytes, &code);
  g_propagate_error (error, dfly_http_status_error_new (code, msg, detail, call->url));
  return FALSE;
}

/* ---- Manifests ---- */

/* GETs a manifest by tag or digest, at most oci.max_manifest_size bytes,
 * checked against the digest it was asked by. */
static DflyOciManifest *
fetch_manifest (OciCall *call, const char *reference, GCancellable *cancellable, GError **error)
{
  g_autoptr (DflyHttpBody) body = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (DflyOciManifest) m = NULL;
  guint64 max =
    ((const DflyOciSettings *) dfly_settings_get_values (call->settings))->max_manifest_size;
  g_autofree char *content_type = NULL;
  gint64           length;

  body = registry_send (call, "GET", "manifests", reference, DFLY_OCI_MANIFEST_ACCEPT, NULL,
                        cancellable, error);
  if (body == NULL)
    return NULL;
  if (dfly_http_body_get_status (body) != SOUP_STATUS_OK) {
    set_registry_error (error, call, body);
    return NULL;
  }
  length = dfly_http_body_get_content_length (body);
  if (length < 0 || (guint64) length <= max)
    bytes = dfly_http_body_read_all (body, (gsize) max, cancellable, &local_error);
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (bytes == NULL && (local_error == NULL || dfly_http_body_get_received (body) > (gint64) max)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "the manifest is larger than oci.max_manifest_size (%" G_GUINT64_FORMAT
                 " bytes): %s",
                 max, call->url);
    return NULL;
  }
  if (bytes == NULL) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return NULL;
  }
  /* "type/subtype; params" → "type/subtype" */
  content_type = g_strdup (soup_message_headers_get_content_type (
    soup_message_get_response_headers (dfly_http_body_get_message (body)), NULL));
  m = dfly_oci_manifest_parse (bytes, content_type, call->url, error);
  if (m == NULL)
    return NULL;
  if (dfly_oci_is_sha256_digest (reference) && !g_str_equal (reference, m->digest)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_DIGEST_MISMATCH,
                 "the manifest's bytes have digest %s, not %s: %s", m->digest, reference,
                 call->url);
    return NULL;
  }
  return g_steal_pointer (&m);
}

/* ---- list ---- */

static void
add_entry (GPtrArray *entries, GHashTable *paths, const OciCall *call, const char *digest,
           const char *path, gint64 length)
{
  g_autofree char *url = dfly_oci_ref_object_url (call->ref, digest);

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
                    const DflyOciManifest *m, gboolean layout)
{
  g_autofree char *config_path = layout ? blob_path (m->config->digest) : g_strdup ("config.json");

  add_entry (entries, paths, call, m->config->digest, config_path, m->config->size);
  for (guint i = 0; i < m->descriptors->len; i++) {
    const DflyOciDescriptor *d = g_ptr_array_index (m->descriptors, i);
    g_autofree char         *path = blob_path (d->digest);

    add_entry (entries, paths, call, d->digest, path, d->size);
  }
}

static GPtrArray *
dfly_oci_source_list (DflySource *source, const char *url, GHashTable *headers, GHashTable *options,
                      GCancellable *cancellable, GError **error)
{
  g_auto (OciCall) call = { 0 };
  g_autoptr (DflyOciManifest) top = NULL;
  g_autoptr (DflyOciManifest) manifest = NULL;
  g_autoptr (GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_source_entry_free);
  g_autoptr (GHashTable) paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (DflyOciPlatform) platform = { 0 };
  const char *platform_text = options != NULL ? g_hash_table_lookup (options, "platform") : NULL;
  const char *all = options != NULL ? g_hash_table_lookup (options, "all-platforms") : NULL;
  const DflyOciDescriptor *chosen;

  if (!oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->blob) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "a blob URL names one object, not an image: %s", url);
    return NULL;
  }
  if (platform_text != NULL) {
    if (!dfly_oci_platform_parse (&platform, platform_text, error))
      return NULL;
  } else {
    dfly_oci_platform_init_host (&platform);
  }
  top = fetch_manifest (&call, call.ref->digest != NULL ? call.ref->digest : call.ref->tag,
                        cancellable, error);
  if (top == NULL)
    return NULL;

  if (top->is_index && g_strcmp0 (all, "true") == 0) {
    add_entry (entries, paths, &call, top->digest, "index.json",
               (gint64) g_bytes_get_size (top->bytes));
    for (guint i = 0; i < top->descriptors->len; i++) {
      const DflyOciDescriptor *d = g_ptr_array_index (top->descriptors, i);
      g_autoptr (DflyOciManifest) m = NULL;
      g_autofree char *path = blob_path (d->digest);

      if (dfly_oci_is_index_type (d->media_type)) {
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
    chosen = dfly_oci_manifest_select_platform (top, &platform);
    if (chosen == NULL) {
      g_autoptr (GString) have = g_string_new (NULL);

      for (guint i = 0; i < top->descriptors->len && i < 32; i++) {
        const DflyOciDescriptor *d = g_ptr_array_index (top->descriptors, i);
        g_autofree char         *os = g_strescape (d->os != NULL ? d->os : "?", NULL);
        g_autofree char *arch = g_strescape (d->architecture != NULL ? d->architecture : "?", NULL);

        g_string_append_printf (have, "%s%.64s/%.64s", have->len > 0 ? ", " : "", os, arch);
      }
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND,
                   "no manifest for platform %s/%s%s%s in the index (it has: %s): %s", platform.os,
                   platform.architecture, platform.variant != NULL ? "/" : "",
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

/* A manifest by digest, when the digest names no blob. */
static DflyOciManifest *
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
  g_autoptr (DflyHttpBody) body = NULL;
  g_autoptr (DflyOciManifest) m = NULL;
  DflySourceStat *stat;

  if (!oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->digest != NULL) {
    body = registry_send (&call, "HEAD", "blobs", call.ref->digest, NULL, NULL, cancellable, error);
    if (body == NULL)
      return NULL;
    if (dfly_http_body_get_status (body) == SOUP_STATUS_OK) {
      g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
      stat = g_new0 (DflySourceStat, 1);
      stat->content_length = dfly_http_body_get_content_length (body);
      stat->accepts_ranges = TRUE; /* the distribution spec's blob GET serves ranges */
      stat->etag = g_strdup (soup_message_headers_get_one (
        soup_message_get_response_headers (dfly_http_body_get_message (body)), "ETag"));
      stat->digest = g_strdup (call.ref->digest);
      return stat;
    }
    if (dfly_http_body_get_status (body) != SOUP_STATUS_NOT_FOUND || call.ref->blob) {
      set_registry_error (error, &call, body);
      return NULL;
    }
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
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
  g_autoptr (DflyOciManifest) m = fetch_digest_manifest (call, cancellable, error);
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
    g_autoptr (GBytes) slice = g_bytes_new_from_bytes (
      m->bytes, (gsize) offset, length >= 0 ? (gsize) length : size - (gsize) offset);

    return g_memory_input_stream_new_from_bytes (slice);
  }
}

static GInputStream *
dfly_oci_source_open_range (DflySource *source, const char *url, GHashTable *headers,
                            guint64 offset, gint64 length, GCancellable *cancellable,
                            GError **error)
{
  g_auto (OciCall) call = { 0 };
  g_autoptr (DflyHttpBody) body = NULL;
  g_autofree char *range = NULL;
  guint            status;

  if (!dfly_http_format_range (offset, length, &range, error) ||
      !oci_call_init (&call, DFLY_OCI_SOURCE (source), url, headers, error))
    return NULL;
  if (call.ref->digest == NULL)
    return manifest_range (&call, cancellable, offset, length, error);
  if (length == 0)
    return g_memory_input_stream_new ();
  body = registry_send (&call, "GET", "blobs", call.ref->digest, NULL, range, cancellable, error);
  if (body == NULL)
    return NULL;
  status = dfly_http_body_get_status (body);
  if (status == SOUP_STATUS_NOT_FOUND && !call.ref->blob) {
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    return manifest_range (&call, cancellable, offset, length, error);
  }
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    return dfly_http_body_open_range (body, offset, length, error);
  set_registry_error (error, &call, body);
  return NULL;
}

/* ---- Identity ---- */

static char *
dfly_oci_source_get_content_digest (DflySource *source, const char *url)
{
  g_autoptr (DflyOciRef) ref = dfly_oci_ref_parse (url, NULL, NULL);

  return ref != NULL && ref->digest != NULL ? g_strdup (ref->digest) : NULL;
}

static gboolean
dfly_oci_source_claims_url (DflySource *source, const char *url)
{
  g_autoptr (DflyOciRef) ref = NULL;

  if (g_ascii_strncasecmp (url, "oci://", 6) == 0)
    return FALSE; /* ours by scheme */
  ref = dfly_oci_ref_parse_blob_url (url);
  return ref != NULL;
}

static const char *const *
dfly_oci_source_get_schemes (DflySource *source)
{
  static const char *const schemes[] = { "oci", NULL };

  return schemes;
}

static void
dfly_oci_source_finalize (GObject *object)
{
  DflyOciSource *self = DFLY_OCI_SOURCE (object);

  g_clear_object (&self->auth);
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
  self->auth = dfly_oci_auth_new ();
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("oci", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                                  "OCI registries: blobs and manifests by digest, images by tag, "
                                  "token auth",
                                  dfly_oci_source_get_type, &dfly_oci_settings)
