/* fuzz-oci.c — libFuzzer target: what a registry (or a URL a peer names)
 * hands the OCI source to parse
 *
 * The whole input is a manifest or index body (dfly_oci_manifest_parse,
 * under each Content-Type a registry may send), a token service answer
 * (dfly_oci_auth_parse_token) and an error body (dfly_oci_parse_error_body);
 * its first line is a WWW-Authenticate challenge (dfly_oci_auth_token_uri),
 * an oci:// or registry blob URL (dfly_oci_ref_parse) and a platform
 * (dfly_oci_platform_parse).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <dfly/dfly.h>
#include <dfly/dfly-http-client.h>

#include "plugins/sources/oci/dfly-oci-auth.h"
#include "plugins/sources/oci/dfly-oci-manifest.h"
#include "plugins/sources/oci/dfly-oci-ref.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const content_types[] = {
  NULL,
  DFLY_OCI_MANIFEST,
  DFLY_OCI_INDEX,
  DFLY_DOCKER_MANIFEST,
  DFLY_DOCKER_LIST,
  "application/json",
};

static void
check_descriptor (const DflyOciDescriptor *d)
{
  g_assert (d != NULL && dfly_oci_is_sha256_digest (d->digest));
  g_assert (d->size >= 0 && d->media_type != NULL);
}

static void
check_manifest (GBytes *bytes, const char *content_type)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyOciManifest) m = dfly_oci_manifest_parse (bytes, content_type, "fuzz", &error);
  g_autofree char *hex = NULL;
  g_autofree char *digest = NULL;

  if (m == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR);
    g_assert (g_utf8_validate (error->message, -1, NULL));
    return;
  }
  g_assert (error == NULL);
  /* The digest a manifest is known by is that of the bytes received. */
  hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  digest = g_strconcat ("sha256:", hex, NULL);
  g_assert (strcmp (m->digest, digest) == 0);
  g_assert (m->is_index == dfly_oci_is_index_type (m->media_type));
  g_assert (m->is_index || strcmp (m->media_type, DFLY_OCI_MANIFEST) == 0 ||
            strcmp (m->media_type, DFLY_DOCKER_MANIFEST) == 0);
  g_assert (m->descriptors != NULL && m->descriptors->len <= 4096);
  for (guint i = 0; i < m->descriptors->len; i++)
    check_descriptor (g_ptr_array_index (m->descriptors, i));
  if (m->is_index) {
    DflyOciPlatform          platform = { (char *) "linux", (char *) "arm64", NULL };
    const DflyOciDescriptor *chosen;

    g_assert (m->config == NULL);
    chosen = dfly_oci_manifest_select_platform (m, &platform);
    if (chosen != NULL)
      g_assert (!dfly_oci_is_index_type (chosen->media_type) &&
                g_strcmp0 (chosen->architecture, "arm64") == 0);
  } else {
    check_descriptor (m->config);
  }
}

static void
check_token (GBytes *answer)
{
  gint64           lifetime = -1;
  g_autofree char *token = dfly_oci_auth_parse_token (answer, &lifetime);

  if (token == NULL)
    return;
  /* It goes into an Authorization header as it is. */
  g_assert (token[0] != '\0' && strlen (token) <= 65536 && dfly_http_is_field_value (token));
  g_assert (lifetime >= 1 && lifetime <= 86400);
}

/* What a registry's error body adds to our message: short, printable. */
static void
check_error_body (GBytes *body)
{
  DflyError        code = DFLY_ERROR_SOURCE;
  g_autofree char *detail = dfly_oci_parse_error_body (body, &code);

  g_assert (code == DFLY_ERROR_SOURCE || code == DFLY_ERROR_NOT_FOUND ||
            code == DFLY_ERROR_ACCESS_DENIED);
  if (detail == NULL)
    return;
  g_assert (strlen (detail) <= 64 + 200 + 5);
  for (const char *c = detail; *c != '\0'; c++)
    g_assert (g_ascii_isprint (*c));
}

static void
check_challenge (const char *challenge)
{
  DflyOciRef ref = { (char *) "registry.example:5000", (char *) "https", (char *) "library/alpine",
                     (char *) "3.20" };
  g_autoptr (GUri) uri = dfly_oci_auth_token_uri (challenge, &ref);
  g_autofree char *text = NULL;
  g_autoptr (GUri) again = NULL;
  const char *scheme;

  if (uri == NULL)
    return;
  /* Only an http(s) realm with a host is ever asked, with a scope. */
  scheme = g_uri_get_scheme (uri);
  g_assert (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0);
  g_assert (g_uri_get_host (uri) != NULL && g_uri_get_host (uri)[0] != '\0');
  g_assert (g_uri_get_query (uri) != NULL && strstr (g_uri_get_query (uri), "scope=") != NULL);
  text = g_uri_to_string (uri);
  again = g_uri_parse (text, SOUP_HTTP_URI_FLAGS, NULL);
  g_assert (again != NULL);
}

static void
check_ref (const char *url)
{
  char *insecure[] = { (char *) "localhost:5000", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyOciRef) ref = dfly_oci_ref_parse (url, insecure, &error);
  g_autoptr (DflyOciRef) again = NULL;
  g_autofree char *object = NULL;
  const char *digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  if (ref == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR &&
              error->code == DFLY_ERROR_INVALID_ARGUMENT);
    return;
  }
  g_assert (error == NULL);
  g_assert (ref->registry[0] != '\0' && ref->repo[0] != '\0');
  g_assert (strcmp (ref->scheme, "http") == 0 || strcmp (ref->scheme, "https") == 0);
  g_assert ((ref->tag == NULL) != (ref->digest == NULL));
  g_assert (ref->digest == NULL || dfly_oci_is_sha256_digest (ref->digest));
  /* Another object of the same repository is found where ref is. */
  object = dfly_oci_ref_object_url (ref, digest);
  again = dfly_oci_ref_parse (object, insecure, &error);
  g_assert_no_error (error);
  g_assert (strcmp (again->registry, ref->registry) == 0 && strcmp (again->repo, ref->repo) == 0);
  g_assert (strcmp (again->scheme, ref->scheme) == 0 && strcmp (again->digest, digest) == 0);
}

static void
check_platform (const char *text)
{
  g_auto (DflyOciPlatform) platform = { NULL };
  g_autoptr (GError) error = NULL;

  if (!dfly_oci_platform_parse (&platform, text, &error)) {
    g_assert (error != NULL && error->code == DFLY_ERROR_INVALID_ARGUMENT);
    return;
  }
  g_assert (platform.os[0] != '\0' && platform.architecture[0] != '\0');
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  /* The first line, cut at a NUL as a header value or a URL would be. */
  g_autofree char *line = g_strndup ((const char *) data, size);

  line[strcspn (line, "\r\n")] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++)
    check_manifest (bytes, content_types[i]);
  check_token (bytes);
  check_error_body (bytes);
  check_challenge (line);
  check_ref (line);
  check_platform (line);
  return 0;
}
