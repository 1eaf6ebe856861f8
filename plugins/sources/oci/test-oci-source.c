/* test-oci-source.c — the oci source against a real docker-registry on loopback
 *
 * Two docker-registry processes are started once for the whole run: an open
 * one, and one behind htpasswd (Basic auth). Test images are pushed to them
 * with libsoup (a multi-arch index with linux/amd64 and linux/arm64
 * manifests, and a single manifest).
 *
 * What docker-registry cannot be made to do on cue — run a token service,
 * answer 503 then recover, serve hostile manifests — comes from our own
 * SoupServer in a thread ("the fake"): it plays both the registry and its
 * token realm. A real registry's token auth needs a signing certificate and
 * a JWT issuer; the client's side of the flow (401 + Bearer challenge →
 * GET realm?service&scope with Basic credentials → retry with the token,
 * cached) is the same whoever signs the token, so the fake checks exactly
 * what the client sends.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "dfly/dfly.h"
#include "dfly-oci-settings.h"
#include "../../../tests/test-origin.h"
#include "../../../tests/test-soup-server.h"

const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_oci_source_get_type (void);

#define LAYER_SIZE (300 * 1024 + 7)

/* ---- a docker-registry ---- */

typedef struct {
  GPid  pid;
  char *dir;
  char *host; /* 127.0.0.1:PORT */
} Registry;

static Registry *
registry_start (const char *htpasswd)
{
  Registry *r = g_new0 (Registry, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *log = NULL;
  guint16          port = test_origin_free_port ();
  const char      *argv[] = { "/usr/bin/docker-registry", "serve", NULL, NULL };
  gint64           deadline;
  int              log_fd;

  r->dir = g_dir_make_tmp ("dfly-oci-registry-XXXXXX", &error);
  g_assert_no_error (error);
  r->host = g_strdup_printf ("127.0.0.1:%u", port);
  if (htpasswd != NULL) {
    g_autofree char *path = g_build_filename (r->dir, "htpasswd", NULL);

    g_file_set_contents (path, htpasswd, -1, &error);
    g_assert_no_error (error);
    auth = g_strdup_printf ("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", path);
  }
  config = g_strdup_printf ("version: 0.1\nlog:\n  level: error\n"
                            "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
                            "  delete:\n    enabled: true\n"
                            "http:\n  addr: %s\n%s",
                            r->dir, r->host, auth != NULL ? auth : "");
  config_path = g_build_filename (r->dir, "config.yml", NULL);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);
  argv[2] = config_path;
  log = g_build_filename (r->dir, "registry.log", NULL);
  log_fd = g_open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (log_fd, >=, 0);
  g_spawn_async_with_fds (r->dir, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                          test_origin_child_setup, NULL, &r->pid, -1, log_fd, log_fd, &error);
  g_assert_no_error (error);
  close (log_fd);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!test_origin_accepts (port)) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  }
  return r;
}

static void
registry_stop (Registry *r)
{
  kill (r->pid, SIGTERM);
  if (!test_origin_reap (r->pid, 5000)) {
    kill (r->pid, SIGKILL);
    test_origin_reap (r->pid, 5000);
  }
  g_spawn_close_pid (r->pid);
  test_origin_remove_tree (r->dir);
  g_free (r->dir);
  g_free (r->host);
  g_free (r);
}

/* ---- pushing with libsoup ---- */

static char *
digest_of (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  return g_strconcat ("sha256:", hex, NULL);
}

static guint
send_bytes (SoupSession *session, SoupMessage *msg, GBytes *body, const char *type,
            const char *authorization)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, type, body);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  return soup_message_get_status (msg);
}

/* POST an upload, PUT the bytes with their digest; returns the digest. */
static char *
push_blob (const char *host, const char *repo, GBytes *bytes, const char *authorization)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://%s/v2/%s/blobs/uploads/", host, repo);
  g_autoptr (SoupMessage) post = soup_message_new ("POST", url);
  g_autoptr (SoupMessage) put = NULL;
  g_autoptr (GUri) base = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GUri) location = NULL;
  g_autofree char *digest = digest_of (bytes);
  g_autofree char *target = NULL;
  g_autofree char *location_text = NULL;
  const char      *loc;

  g_assert_cmpuint (send_bytes (session, post, NULL, NULL, authorization), ==, 202);
  loc = soup_message_headers_get_one (soup_message_get_response_headers (post), "Location");
  g_assert_nonnull (loc);
  location = g_uri_parse_relative (base, loc, G_URI_FLAGS_ENCODED, NULL);
  location_text = g_uri_to_string (location);
  target =
    g_strdup_printf ("%s%sdigest=%s", location_text, strchr (loc, '?') != NULL ? "&" : "?", digest);
  put = soup_message_new ("PUT", target);
  g_assert_cmpuint (send_bytes (session, put, bytes, "application/octet-stream", authorization), ==,
                    201);
  return g_steal_pointer (&digest);
}

static char *
push_manifest (const char *host, const char *repo, const char *reference, const char *json,
               const char *type)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://%s/v2/%s/manifests/%s", host, repo, reference);
  g_autoptr (SoupMessage) put = soup_message_new ("PUT", url);
  g_autoptr (GBytes) bytes = g_bytes_new (json, strlen (json));

  g_assert_cmpuint (send_bytes (session, put, bytes, type, NULL), ==, 201);
  return digest_of (bytes);
}

static GBytes *
random_bytes (gsize size, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_rand_int_range (rand, 0, 256);
  return g_bytes_new_take (data, size);
}

/* ---- the run's registries and images ---- */

typedef struct {
  char   *config, *layer, *manifest;
  GBytes *layer_bytes;
  gsize   manifest_size;
  char   *manifest_json;
} Image;

static struct {
  Registry *open;
  Registry *locked;
  Image     amd64, arm64;
  char     *index;
  char     *locked_manifest;
} run;

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX    "application/vnd.oci.image.index.v1+json"

static void
push_image (Image *image, const char *host, const char *repo, const char *arch, guint32 seed)
{
  g_autofree char *config_json =
    g_strdup_printf ("{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                     "\"layers\",\"diff_ids\":[]}}",
                     arch);
  g_autoptr (GBytes) config = g_bytes_new (config_json, strlen (config_json));

  image->layer_bytes = random_bytes (LAYER_SIZE, seed);
  image->config = push_blob (host, repo, config, NULL);
  image->layer = push_blob (host, repo, image->layer_bytes, NULL);
  image->manifest_json = g_strdup_printf (
    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
    "\"size\":%zu},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
    "\"digest\":\"%s\",\"size\":%d}]}",
    image->config, strlen (config_json), image->layer, LAYER_SIZE);
  image->manifest_size = strlen (image->manifest_json);
  image->manifest = push_manifest (host, repo, arch, image->manifest_json, OCI_MANIFEST);
}

static void
image_clear (Image *image)
{
  g_free (image->config);
  g_free (image->layer);
  g_free (image->manifest);
  g_free (image->manifest_json);
  g_bytes_unref (image->layer_bytes);
}

static void
run_setup (void)
{
  g_autofree char *index = NULL;
  g_autofree char *htpasswd = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  run.open = registry_start (NULL);
  push_image (&run.amd64, run.open->host, "lib/app", "amd64", 1);
  push_image (&run.arm64, run.open->host, "lib/app", "arm64", 2);
  g_free (
    push_manifest (run.open->host, "lib/app", "single", run.amd64.manifest_json, OCI_MANIFEST));
  index = g_strdup_printf (
    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}",
    run.amd64.manifest, run.amd64.manifest_size, run.arm64.manifest, run.arm64.manifest_size);
  run.index = push_manifest (run.open->host, "lib/app", "multi", index, OCI_INDEX);

  /* bcrypt, as docker-registry wants; the locked registry has its own image */
  g_spawn_command_line_sync ("htpasswd -Bbn user secret", &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  run.locked = registry_start (out);
  {
    g_autofree char *basic = g_base64_encode ((const guchar *) "user:secret", 11);
    g_autofree char *authorization = g_strconcat ("Basic ", basic, NULL);
    g_autoptr (GBytes) layer = random_bytes (1000, 3);
    g_autofree char *digest = push_blob (run.locked->host, "private", layer, authorization);
    g_autoptr (SoupSession) session = soup_session_new ();
    g_autofree char *url = g_strdup_printf ("http://%s/v2/private/manifests/v1", run.locked->host);
    g_autoptr (SoupMessage) put = soup_message_new ("PUT", url);
    g_autofree char *json = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\",\"config\":{\"mediaType\":"
      "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1000},"
      "\"layers\":[]}",
      digest);
    g_autoptr (GBytes) body = g_bytes_new (json, strlen (json));

    g_assert_cmpuint (send_bytes (session, put, body, OCI_MANIFEST, authorization), ==, 201);
    run.locked_manifest = digest_of (body);
  }
}

static void
run_teardown (void)
{
  registry_stop (run.open);
  registry_stop (run.locked);
  image_clear (&run.amd64);
  image_clear (&run.arm64);
  g_free (run.index);
  g_free (run.locked_manifest);
}

/* ---- per test: a context and a source ---- */

typedef struct {
  DflyContext *context;
  DflySource  *source;
  char        *dir; /* scratch: auth files */
} Fixture;

/* The source's settings in config, writable: config is not shared yet. */
static DflyOciSettings *
oci_settings (DflyConfig *config)
{
  return (DflyOciSettings *) dfly_settings_get_values (dfly_config_get_settings (config, "oci"));
}

static DflyConfig *
test_config (const char *auth_file, const char *extra_registry)
{
  g_autoptr (GError) error = NULL;
  DflyConfig      *config = dfly_config_new_default ();
  const char      *registries[] = { run.open->host, run.locked->host, extra_registry, NULL };
  DflyOciSettings *settings;

  config->http.retries = 2;
  config->http.retry_backoff_ms = 10;
  config->http.connect_timeout = 5;
  config->http.read_timeout = 5;
  /* As dflyd does once the plugin is loaded: the section is the source's own. */
  g_assert_true (dfly_config_add_plugin (config, "oci", &dfly_oci_settings, &error));
  g_assert_no_error (error);
  settings = oci_settings (config);
  g_strfreev (settings->insecure_registries);
  settings->insecure_registries = g_strdupv ((char **) registries);
  g_free (settings->auth_file);
  settings->auth_file = g_strdup (auth_file != NULL ? auth_file : "");
  settings->max_manifest_size = 64 * 1024;
  return config;
}

static void
fixture_use (Fixture *f, DflyConfig *config)
{
  if (f->source != NULL)
    g_assert_finalize_object (f->source);
  if (f->context != NULL)
    g_assert_finalize_object (f->context);
  f->context = dfly_context_new (config);
  f->source =
    g_object_new (dfly_oci_source_get_type (), "context", f->context, "name", "oci", NULL);
  dfly_config_unref (config);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("dfly-oci-test-XXXXXX", &error);
  g_assert_no_error (error);
  fixture_use (f, test_config (NULL, NULL));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->source);
  g_assert_finalize_object (f->context);
  test_origin_remove_tree (f->dir);
  g_free (f->dir);
}

#define FIXTURE_TEST(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

static GPtrArray *
list (Fixture *f, const char *url, const char *platform, gboolean all, GError **error)
{
  g_autoptr (GHashTable) options = g_hash_table_new (g_str_hash, g_str_equal);

  if (platform != NULL)
    g_hash_table_insert (options, "platform", (gpointer) platform);
  if (all)
    g_hash_table_insert (options, "all-platforms", "true");
  return dfly_source_list (f->source, url, NULL, options, NULL, error);
}

static void
assert_entry (GPtrArray *entries, guint i, const char *path, const char *digest, gint64 length)
{
  DflySourceEntry *entry = g_ptr_array_index (entries, i);
  g_autofree char *url = g_strdup_printf ("oci://%s/lib/app@%s", run.open->host, digest);

  g_assert_cmpstr (entry->path, ==, path);
  g_assert_cmpstr (entry->url, ==, url);
  g_assert_cmpint (entry->length, ==, length);
  g_assert_true (dfly_source_entry_path_is_safe (entry->path));
}

static void
assert_entry_on (GPtrArray *entries, guint i, const char *host, const char *repo, const char *path,
                 const char *digest)
{
  DflySourceEntry *entry = g_ptr_array_index (entries, i);
  g_autofree char *url = g_strdup_printf ("oci://%s/%s@%s", host, repo, digest);

  g_assert_cmpstr (entry->path, ==, path);
  g_assert_cmpstr (entry->url, ==, url);
}

static char *
blob_path (const char *digest)
{
  return g_strconcat ("blobs/sha256/", digest + 7, NULL);
}

static GBytes *
read_all (GInputStream *stream, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;) {
    gssize n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    g_byte_array_append (bytes, buffer, (guint) n);
  }
  g_input_stream_close (stream, NULL, NULL);
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/* ---- tests against docker-registry ---- */

static void
test_tag (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("oci://%s/lib/app:single", run.open->host);
  g_autofree char *layer = blob_path (run.amd64.layer);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = list (f, url, NULL, FALSE, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  assert_entry (entries, 0, "manifest.json", run.amd64.manifest, run.amd64.manifest_size);
  assert_entry (entries, 1, "config.json", run.amd64.config,
                ((DflySourceEntry *) g_ptr_array_index (entries, 1))->length);
  g_assert_cmpint (((DflySourceEntry *) g_ptr_array_index (entries, 1))->length, >, 0);
  assert_entry (entries, 2, layer, run.amd64.layer, LAYER_SIZE);
}

static void
test_index_platform (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("oci://%s/lib/app:multi", run.open->host);
  const struct {
    const char *platform;
    Image      *image;
  } cases[] = {
    { "linux/amd64", &run.amd64 },
    { "linux/arm64", &run.arm64 },
    { "linux/arm64/v8", &run.arm64 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, cases[i].platform, FALSE, &error);
    g_autofree char *layer = blob_path (cases[i].image->layer);

    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 3);
    assert_entry (entries, 0, "manifest.json", cases[i].image->manifest,
                  cases[i].image->manifest_size);
    assert_entry (entries, 2, layer, cases[i].image->layer, LAYER_SIZE);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, "linux/s390x", FALSE, &error);

    g_assert_null (entries);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "no manifest for platform linux/s390x"));
    g_assert_nonnull (strstr (error->message, "linux/arm64"));
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, "linux", FALSE, &error);

    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_null (entries);
  }
  {
    /* the default: this host's platform; the test hosts are amd64 or arm64 */
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, NULL, FALSE, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 3);
  }
}

static void
test_all_platforms (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("oci://%s/lib/app@%s", run.open->host, run.index);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = list (f, url, NULL, TRUE, &error);
  g_autofree char *amd64 = blob_path (run.amd64.manifest);
  g_autofree char *arm64_layer = blob_path (run.arm64.layer);

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 7);
  assert_entry (entries, 0, "index.json", run.index,
                ((DflySourceEntry *) g_ptr_array_index (entries, 0))->length);
  assert_entry (entries, 1, amd64, run.amd64.manifest, run.amd64.manifest_size);
  assert_entry (entries, 6, arm64_layer, run.arm64.layer, LAYER_SIZE);
}

static void
test_blob (Fixture *f, gconstpointer data)
{
  g_autofree char *oci = g_strdup_printf ("oci://%s/lib/app@%s", run.open->host, run.arm64.layer);
  g_autofree char *http =
    g_strdup_printf ("http://%s/v2/lib/app/blobs/%s", run.open->host, run.arm64.layer);
  const char *urls[] = { oci, http };

  for (gsize i = 0; i < G_N_ELEMENTS (urls); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflySourceStat) stat = dfly_source_stat (f->source, urls[i], NULL, NULL, &error);
    g_autoptr (GInputStream) stream = NULL;
    g_autoptr (GBytes) got = NULL;
    g_autofree char *digest = dfly_source_get_content_digest (f->source, urls[i]);
    const guint8    *want = g_bytes_get_data (run.arm64.layer_bytes, NULL);

    g_assert_no_error (error);
    g_assert_cmpint (stat->content_length, ==, LAYER_SIZE);
    g_assert_cmpstr (stat->digest, ==, run.arm64.layer);
    g_assert_cmpstr (digest, ==, run.arm64.layer);
    stream = dfly_source_open_range (f->source, urls[i], NULL, 1000, 70000, NULL, &error);
    g_assert_no_error (error);
    got = read_all (stream, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), want + 1000, 70000);
    g_clear_object (&stream);
    g_clear_pointer (&got, g_bytes_unref);
    stream = dfly_source_open_range (f->source, urls[i], NULL, 0, -1, NULL, &error);
    g_assert_no_error (error);
    got = read_all (stream, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (got, run.arm64.layer_bytes));
  }
}

static void
test_manifest_by_digest (Fixture *f, gconstpointer data)
{
  g_autofree char *url =
    g_strdup_printf ("oci://%s/lib/app@%s", run.open->host, run.amd64.manifest);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) got = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, run.amd64.manifest_size);
  stream = dfly_source_open_range (f->source, url, NULL, 0, -1, NULL, &error);
  g_assert_no_error (error);
  got = read_all (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), run.amd64.manifest_json,
                   run.amd64.manifest_size);
}

static void
test_not_found (Fixture *f, gconstpointer data)
{
  g_autofree char *tag = g_strdup_printf ("oci://%s/lib/app:nope", run.open->host);
  g_autofree char *repo = g_strdup_printf ("oci://%s/no/such:v1", run.open->host);
  g_autofree char *blob =
    g_strdup_printf ("http://%s/v2/lib/app/blobs/sha256:%064d", run.open->host, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = list (f, tag, NULL, FALSE, &error);
  g_autoptr (DflySourceStat) stat = NULL;

  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "MANIFEST_UNKNOWN"));
  g_assert_nonnull (strstr (error->message, "HTTP 404"));
  g_clear_error (&error);
  entries = list (f, repo, NULL, FALSE, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  stat = dfly_source_stat (f->source, blob, NULL, NULL, &error);
  g_assert_null (stat);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
}

static void
test_urls (Fixture *f, gconstpointer data)
{
  const char *bad[] = {
    "oci://",
    "oci://host",
    "oci://host/",
    "oci://host/UPPER:tag",
    "oci://host/repo@sha256:abc",
    "oci://host/repo@md5:0123",
    "oci://host/repo:bad tag",
    "oci://us er@host/repo:v1",
    "oci://host/../x:v1",
    "oci://host/a//b:v1",
  };
  const char      *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  g_autofree char *blob = g_strdup_printf ("https://r.example/v2/a/b/blobs/sha256:%s", hex);
  g_autofree char *query = g_strdup_printf ("%s?x=1", blob);
  g_autofree char *oci = g_strdup_printf ("oci://r.example:5000/a/b@sha256:%s", hex);
  g_autofree char *digest = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, bad[i], NULL, FALSE, &error);

    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_null (dfly_source_get_content_digest (f->source, bad[i]));
  }
  g_assert_true (dfly_source_claims_url (f->source, blob));
  g_assert_false (dfly_source_claims_url (f->source, query));
  /* Found by fuzz-oci: a blob URL with an empty host named no registry. */
  g_clear_pointer (&query, g_free);
  query = g_strdup_printf ("http:///v2/a/blobs/sha256:%s", hex);
  g_assert_false (dfly_source_claims_url (f->source, query));
  g_assert_null (dfly_source_get_content_digest (f->source, query));
  g_clear_pointer (&query, g_free);
  query = g_strdup_printf ("http://:5000/v2/a/blobs/sha256:%s", hex);
  g_assert_false (dfly_source_claims_url (f->source, query));
  g_assert_false (dfly_source_claims_url (f->source, "https://r.example/v2/a/manifests/v1"));
  g_assert_false (dfly_source_claims_url (f->source, "https://r.example/file"));
  digest = dfly_source_get_content_digest (f->source, blob);
  g_assert_cmpstr (digest + 7, ==, hex);
  g_clear_pointer (&digest, g_free);
  digest = dfly_source_get_content_digest (f->source, oci);
  g_assert_cmpstr (digest + 7, ==, hex);
  g_assert_null (dfly_source_get_content_digest (f->source, "oci://host/repo:v1"));
}

/* A source whose section was never bound (a test or embedder that skipped
 * dfly_config_add_plugin) fails its calls with a message, never crashes. */
static void
test_unbound_settings (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("oci://%s/lib/app:v1", run.open->host);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  fixture_use (f, dfly_config_new_default ());
  entries = list (f, url, NULL, FALSE, &error);
  g_assert_null (entries);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "the oci source's settings are not bound to the config");
}

/* The context picks the source that claims a URL over one that only takes
 * its scheme, whatever their order. */
static void
test_lookup (Fixture *f, gconstpointer data)
{
  /* Only our source is loaded: an http blob URL is still ours... */
  g_autofree char *blob =
    g_strdup_printf ("http://%s/v2/lib/app/blobs/%s", run.open->host, run.amd64.layer);
  g_autoptr (GError) error = NULL;
  DflyContext *context = dfly_context_new (dfly_context_get_config (f->context));
  DflySource  *found;

  /* A context of its own: it holds the source until it goes. */
  dfly_context_add_source (context, f->source);
  found = dfly_context_lookup_source (context, blob, &error);
  g_assert_no_error (error);
  g_assert_true (found == f->source);
  /* ...and a plain http URL is not. */
  g_assert_null (dfly_context_lookup_source (context, "http://127.0.0.1/x", &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED);
  g_assert_finalize_object (context);
}

static char *
write_auth_file (Fixture *f, const char *registry, const char *pair)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  g_autofree char *json =
    g_strdup_printf ("{\"auths\":{\"http://%s/v2/\":{\"auth\":\"%s\"},"
                     "\"other.example\":{\"username\":\"a\",\"password\":\"b\"}}}",
                     registry, encoded);
  char *path = g_build_filename (f->dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, json, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_basic_auth (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("oci://%s/private:v1", run.locked->host);
  g_autofree char *good = write_auth_file (f, run.locked->host, "user:secret");

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, NULL, FALSE, &error);

    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED);
    g_assert_nonnull (strstr (error->message, "UNAUTHORIZED"));
  }
  fixture_use (f, test_config (good, NULL));
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = list (f, url, NULL, FALSE, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 2);
    assert_entry_on (entries, 0, run.locked->host, "private", "manifest.json", run.locked_manifest);
  }
  {
    g_autofree char *bad = write_auth_file (f, run.locked->host, "user:wrong");
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = NULL;

    fixture_use (f, test_config (bad, NULL));
    entries = list (f, url, NULL, FALSE, &error);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED);
  }
  {
    g_autofree char *path = g_build_filename (f->dir, "config.json", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = NULL;

    g_file_set_contents (path, "{\"auths\": [", -1, &error);
    g_assert_no_error (error);
    fixture_use (f, test_config (path, NULL));
    entries = list (f, url, NULL, FALSE, &error);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_assert_nonnull (strstr (error->message, "oci.auth_file"));
  }
}

/* ---- the fake registry (SoupServer in a thread) ---- */

typedef struct {
  GMutex          lock;
  TestSoupServer *server;
  char           *host;
  guint           token_requests;
  guint           unavailable; /* 503s still to answer */
  guint           requests;
  char           *last_token_auth;
} Fake;

static const char *fake_layer = "fake layer bytes";

static void
fake_reply (SoupServerMessage *msg, guint status, const char *type, const char *body, gsize len)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body, len);
}

static char *
manifest_with (const char *layers)
{
  return g_strdup_printf ("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\","
                          "\"config\":{\"digest\":\"sha256:%064d\",\"size\":2},"
                          "\"layers\":[%s]}",
                          1, layers);
}

static void
fake_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
  Fake               *fake = data;
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  const char         *auth = soup_message_headers_get_one (in, "Authorization");
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&fake->lock);
  g_autofree char *good_layer = NULL;

  fake->requests++;
  if (g_str_equal (path, "/token")) {
    const char *scope = query != NULL ? g_hash_table_lookup (query, "scope") : NULL;
    const char *service = query != NULL ? g_hash_table_lookup (query, "service") : NULL;

    fake->token_requests++;
    g_free (fake->last_token_auth);
    fake->last_token_auth = g_strdup (auth);
    if (g_strcmp0 (scope, "repository:tok/app:pull") != 0 || g_strcmp0 (service, "fake") != 0) {
      fake_reply (msg, 400, NULL, NULL, 0);
      return;
    }
    if (auth != NULL && g_str_equal (auth, "Basic dXNlcjp3cm9uZw==")) { /* user:wrong */
      fake_reply (msg, 401, NULL, NULL, 0);
      return;
    }
    const char *token = "{\"token\":\"T0K\",\"expires_in\":300}";

    fake_reply (msg, 200, "application/json", token, strlen (token));
    return;
  }
  if (g_str_has_prefix (path, "/v2/tok/")) {
    if (g_strcmp0 (auth, "Bearer T0K") != 0) {
      g_autofree char *challenge = g_strdup_printf (
        "Bearer realm=\"http://%s/token\",service=\"fake\",scope=\"repository:tok/app:pull\"",
        fake->host);
      const char *body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"no\"}]}";

      soup_message_headers_replace (out, "WWW-Authenticate", challenge);
      fake_reply (msg, 401, "application/json", body, strlen (body));
      return;
    }
    g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, fake_layer, -1);
    g_autofree char *blob = g_strconcat ("/blobs/sha256:", hex, NULL);

    if (g_str_has_suffix (path, blob)) {
      fake_reply (msg, 200, "application/octet-stream", fake_layer, strlen (fake_layer));
      return;
    }
    fake_reply (msg, 404, NULL, NULL, 0);
    return;
  }
  if (g_str_has_prefix (path, "/v2/flaky/")) {
    if (fake->unavailable > 0) {
      fake->unavailable--;
      fake_reply (msg, 503, "text/plain", "busy", 4);
      return;
    }
    good_layer = manifest_with ("");
    fake_reply (msg, 200, OCI_MANIFEST, good_layer, strlen (good_layer));
    return;
  }
  if (g_str_equal (path, "/v2/hostile/manifests/badjson")) {
    fake_reply (msg, 200, OCI_MANIFEST, "{\"layers\": [", 12);
  } else if (g_str_equal (path, "/v2/hostile/manifests/unknown")) {
    const char *body = "{\"mediaType\":\"application/x-evil\",\"layers\":[]}";

    fake_reply (msg, 200, "application/x-evil", body, strlen (body));
  } else if (g_str_equal (path, "/v2/hostile/manifests/schema1")) {
    const char *body = "{\"schemaVersion\":1,\"fsLayers\":[]}";

    fake_reply (msg, 200, "application/vnd.docker.distribution.manifest.v1+prettyjws", body,
                strlen (body));
  } else if (g_str_equal (path, "/v2/hostile/manifests/huge")) {
    g_autofree char *body = g_malloc (100 * 1024);

    memset (body, ' ', 100 * 1024);
    body[0] = '{';
    body[100 * 1024 - 1] = '}';
    fake_reply (msg, 200, OCI_MANIFEST, body, 100 * 1024);
  } else if (g_str_equal (path, "/v2/hostile/manifests/many")) {
    g_autoptr (GString) layers = g_string_new (NULL);
    g_autofree char *body = NULL;

    for (guint i = 0; i < 5000; i++)
      g_string_append_printf (layers, "%s{\"digest\":\"sha256:%064u\",\"size\":1}",
                              i > 0 ? "," : "", i);
    body = manifest_with (layers->str);
    soup_server_message_set_status (msg, 200, NULL);
    soup_server_message_set_response (msg, OCI_MANIFEST, SOUP_MEMORY_COPY, body, strlen (body));
  } else if (g_str_equal (path, "/v2/hostile/manifests/baddigest")) {
    g_autofree char *body = manifest_with ("{\"digest\":\"sha256:../../etc/passwd\",\"size\":1}");

    fake_reply (msg, 200, OCI_MANIFEST, body, strlen (body));
  } else if (g_str_equal (path, "/v2/hostile/manifests/upper")) {
    g_autofree char *body = manifest_with (
      "{\"digest\":\"sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\","
      "\"size\":1}");

    fake_reply (msg, 200, OCI_MANIFEST, body, strlen (body));
  } else if (g_str_equal (path, "/v2/hostile/manifests/negative")) {
    g_autofree char *body = manifest_with ("{\"digest\":\"sha256:"
                                           "0000000000000000000000000000"
                                           "000000000000000000000000000000000000\",\"size\":-5}");

    fake_reply (msg, 200, OCI_MANIFEST, body, strlen (body));
  } else {
    const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"unknown\"}]}";

    fake_reply (msg, 404, "application/json", body, strlen (body));
  }
}

static Fake *
fake_start (void)
{
  Fake *fake = g_new0 (Fake, 1);

  g_mutex_init (&fake->lock);
  fake->server = test_soup_server_start (fake_handler, fake);
  fake->host = g_strdup_printf ("127.0.0.1:%u", fake->server->port);
  return fake;
}

static void
fake_stop (Fake *fake)
{
  test_soup_server_stop (fake->server);
  g_mutex_clear (&fake->lock);
  g_free (fake->host);
  g_free (fake->last_token_auth);
  g_free (fake);
}

static void
test_token (Fixture *f, gconstpointer data)
{
  Fake            *fake = fake_start ();
  g_autofree char *layer = g_compute_checksum_for_string (G_CHECKSUM_SHA256, fake_layer, -1);
  g_autofree char *url = g_strdup_printf ("oci://%s/tok/app@sha256:%s", fake->host, layer);
  g_autofree char *auth = write_auth_file (f, fake->host, "user:secret");

  fixture_use (f, test_config (auth, fake->host));
  for (guint i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GInputStream) stream =
      dfly_source_open_range (f->source, url, NULL, 0, -1, NULL, &error);
    g_autoptr (GBytes) got = NULL;

    g_assert_no_error (error);
    got = read_all (stream, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), fake_layer,
                     strlen (fake_layer));
  }
  /* one token for three requests, fetched with our Basic credentials */
  g_assert_cmpuint (fake->token_requests, ==, 1);
  g_assert_cmpstr (fake->last_token_auth, ==, "Basic dXNlcjpzZWNyZXQ=");
  g_assert_cmpuint (fake->requests, ==, 1 + 1 + 3);

  {
    g_autofree char *bad = write_auth_file (f, fake->host, "user:wrong");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflySourceStat) stat = NULL;

    fixture_use (f, test_config (bad, fake->host));
    stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED);
    g_assert_nonnull (strstr (error->message, "token service"));
  }
  fixture_use (f, test_config (NULL, NULL));
  fake_stop (fake);
}

static void
test_retry (Fixture *f, gconstpointer data)
{
  Fake            *fake = fake_start ();
  g_autofree char *url = g_strdup_printf ("oci://%s/flaky/app:v1", fake->host);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  fixture_use (f, test_config (NULL, fake->host));
  fake->unavailable = 2; /* http.retries is 2: the third attempt gets through */
  entries = list (f, url, NULL, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  g_clear_pointer (&entries, g_ptr_array_unref);
  fake->unavailable = 3;
  entries = list (f, url, NULL, FALSE, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_nonnull (strstr (error->message, "HTTP 503"));
  fixture_use (f, test_config (NULL, NULL));
  fake_stop (fake);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  Fake *fake = fake_start ();
  const struct {
    const char *tag;
    gint        code;
    const char *text;
  } cases[] = {
    { "badjson", DFLY_ERROR_SOURCE, "not a JSON object" },
    { "unknown", DFLY_ERROR_NOT_SUPPORTED, "unsupported manifest media type" },
    { "schema1", DFLY_ERROR_NOT_SUPPORTED, "unsupported manifest media type" },
    { "huge", DFLY_ERROR_SOURCE, "larger than oci.max_manifest_size" },
    { "many", DFLY_ERROR_SOURCE, "more than 4096" },
    { "baddigest", DFLY_ERROR_SOURCE, "no digest of the form" },
    { "upper", DFLY_ERROR_SOURCE, "no digest of the form" },
    { "negative", DFLY_ERROR_SOURCE, "no valid size" },
    { "missing", DFLY_ERROR_NOT_FOUND, "MANIFEST_UNKNOWN" },
  };

  fixture_use (f, test_config (NULL, fake->host));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *url = g_strdup_printf ("oci://%s/hostile:%s", fake->host, cases[i].tag);
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = NULL;

    if (g_str_equal (cases[i].tag, "many")) {
      DflyConfig *config = test_config (NULL, fake->host);

      oci_settings (config)->max_manifest_size = 4 * 1024 * 1024;
      fixture_use (f, config);
    }
    entries = list (f, url, NULL, FALSE, &error);
    g_test_message ("%s: %s", cases[i].tag, error != NULL ? error->message : "no error");
    g_assert_null (entries);
    g_assert_error (error, DFLY_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].text));
  }
  fixture_use (f, test_config (NULL, NULL));
  fake_stop (fake);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!g_file_test ("/usr/bin/docker-registry", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test ("/usr/bin/htpasswd", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip ("docker-registry or htpasswd is not installed");
    return 0;
  }
  FIXTURE_TEST ("/oci/tag", test_tag);
  FIXTURE_TEST ("/oci/index-platform", test_index_platform);
  FIXTURE_TEST ("/oci/all-platforms", test_all_platforms);
  FIXTURE_TEST ("/oci/blob", test_blob);
  FIXTURE_TEST ("/oci/manifest-by-digest", test_manifest_by_digest);
  FIXTURE_TEST ("/oci/not-found", test_not_found);
  FIXTURE_TEST ("/oci/urls", test_urls);
  FIXTURE_TEST ("/oci/lookup", test_lookup);
  FIXTURE_TEST ("/oci/unbound-settings", test_unbound_settings);
  FIXTURE_TEST ("/oci/basic-auth", test_basic_auth);
  FIXTURE_TEST ("/oci/token", test_token);
  FIXTURE_TEST ("/oci/retry", test_retry);
  FIXTURE_TEST ("/oci/hostile", test_hostile);
  run_setup ();
  status = g_test_run ();
  run_teardown ();
  return status;
}
