/* dfly-oci-manifest.h — OCI and Docker v2 manifests and indexes, and choosing a platform
 *
 * Parsing only: bytes in (at most oci.max_manifest_size, read by the
 * source), descriptors out, each with a checked sha256 digest and size.
 */
#pragma once

#include <json-glib/json-glib.h>

#include <dfly/dfly-error.h>

G_BEGIN_DECLS

#define DFLY_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define DFLY_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define DFLY_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DFLY_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
/* The Accept of a manifest request: every type parsed here. */
#define DFLY_OCI_MANIFEST_ACCEPT \
  DFLY_OCI_MANIFEST ", " DFLY_OCI_INDEX ", " DFLY_DOCKER_MANIFEST ", " DFLY_DOCKER_LIST

typedef struct {
  char  *media_type;
  char  *digest;
  gint64 size;
  char  *os; /* index entries only, or NULL */
  char  *architecture;
  char  *variant;
} DflyOciDescriptor;

typedef struct {
  GBytes            *bytes;
  char              *media_type;
  char              *digest; /* "sha256:<hex>" of bytes */
  gboolean           is_index;
  DflyOciDescriptor *config;      /* manifests only */
  GPtrArray         *descriptors; /* layers, or an index's manifests */
} DflyOciManifest;

void dfly_oci_manifest_free (DflyOciManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyOciManifest, dfly_oci_manifest_free)

/* Parses bytes as content_type says (or, without a usable one, as the
 * manifest's own mediaType says); url is named in errors. */
DflyOciManifest *dfly_oci_manifest_parse (GBytes *bytes, const char *content_type, const char *url,
                                          GError **error);
gboolean         dfly_oci_is_index_type (const char *type);
/* Loads bytes (a manifest, an error body, a token answer) into parser. */
gboolean dfly_oci_parse_json (GBytes *bytes, JsonParser *parser, GError **error);
/* A member that is a string (or an integer), else NULL (or fallback):
 * json-glib's own getters complain of objects and arrays, which a registry
 * may send anywhere. */
const char *dfly_oci_json_string (JsonObject *object, const char *member);
gint64      dfly_oci_json_int (JsonObject *object, const char *member, gint64 fallback);
/* ", CODE (message)" from a registry's JSON error body, escaped and cut
 * short, setting *code for the codes that say not found or denied; NULL
 * when the body names no error. */
char *dfly_oci_parse_error_body (GBytes *bytes, DflyError *code);

typedef struct {
  char *os, *architecture, *variant; /* variant may be NULL: any */
} DflyOciPlatform;

void dfly_oci_platform_clear (DflyOciPlatform *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DflyOciPlatform, dfly_oci_platform_clear)

/* This host's platform, in Go's GOARCH names. */
void dfly_oci_platform_init_host (DflyOciPlatform *p);
/* "os/architecture[/variant]"; DFLY_ERROR_INVALID_ARGUMENT otherwise. */
gboolean dfly_oci_platform_parse (DflyOciPlatform *p, const char *text, GError **error);
/* The index's first manifest (not a nested index) for p, or NULL. */
const DflyOciDescriptor *dfly_oci_manifest_select_platform (const DflyOciManifest *index,
                                                            const DflyOciPlatform *p);

G_END_DECLS
