/* dfly-oci-ref.c — DflyOciRef: registry, repository, tag or digest of a URL */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>

#include "dfly-oci-ref.h"

#define MAX_NAME_LENGTH 255

void
dfly_oci_ref_free (DflyOciRef *ref)
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

gboolean
dfly_oci_is_sha256_digest (const char *digest)
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
    gsize       n = strlen (p);

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

DflyOciRef *
dfly_oci_ref_parse_blob_url (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (DflyOciRef) ref = NULL;
  g_autofree char *host = NULL;
  const char      *path, *blobs;
  const char      *scheme;

  /* "http:///v2/…" parses with an empty host: no registry to go back to. */
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      g_uri_get_userinfo (uri) != NULL)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return NULL;
  path = g_uri_get_path (uri);
  if (!g_str_has_prefix (path, "/v2/"))
    return NULL;
  blobs = g_strrstr (path, "/blobs/");
  if (blobs == NULL || blobs < path + 4 || !dfly_oci_is_sha256_digest (blobs + 7))
    return NULL;
  ref = g_new0 (DflyOciRef, 1);
  ref->repo = g_strndup (path + 4, (gsize) (blobs - path - 4));
  if (!is_repo_name (ref->repo))
    return NULL;
  ref->digest = g_strdup (blobs + 7);
  ref->scheme = g_ascii_strdown (scheme, -1);
  /* The registry goes back into URLs: an IPv6 literal keeps its brackets. */
  host = strchr (g_uri_get_host (uri), ':') != NULL ? g_strdup_printf ("[%s]", g_uri_get_host (uri))
                                                    : g_strdup (g_uri_get_host (uri));
  if (g_uri_get_port (uri) > 0)
    ref->registry = g_strdup_printf ("%s:%d", host, g_uri_get_port (uri));
  else
    ref->registry = g_steal_pointer (&host);
  ref->blob = TRUE;
  return g_steal_pointer (&ref);
}

DflyOciRef *
dfly_oci_ref_parse (const char *url, char **insecure_registries, GError **error)
{
  g_autoptr (DflyOciRef) ref = NULL;
  g_autofree char *shown = g_strescape (url, NULL);
  const char      *rest, *slash, *at;

  if (g_ascii_strncasecmp (url, "oci://", 6) != 0) {
    ref = dfly_oci_ref_parse_blob_url (url);
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
  ref = g_new0 (DflyOciRef, 1);
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
  if (ref->digest != NULL && !dfly_oci_is_sha256_digest (ref->digest)) {
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

char *
dfly_oci_ref_object_url (const DflyOciRef *ref, const char *digest)
{
  if (ref->blob)
    return g_strdup_printf ("%s://%s/v2/%s/blobs/%s", ref->scheme, ref->registry, ref->repo,
                            digest);
  return g_strdup_printf ("oci://%s/%s@%s", ref->registry, ref->repo, digest);
}
