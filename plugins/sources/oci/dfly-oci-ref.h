/* dfly-oci-ref.h — what an oci:// or registry blob URL names
 *
 *   oci://REGISTRY[:PORT]/REPO[/MORE]:TAG      an image by tag (list only)
 *   oci://REGISTRY[:PORT]/REPO@sha256:HEX      a blob, or a manifest by digest
 *   http(s)://REGISTRY/v2/REPO/blobs/sha256:HEX a blob, claimed from the http source
 *
 * oci:// registries are reached over https, or http when listed in
 * oci.insecure_registries.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char    *registry; /* host[:port] as written */
  char    *scheme;   /* http or https */
  char    *repo;
  char    *tag;    /* NULL when digest is set */
  char    *digest; /* "sha256:<hex>" or NULL */
  gboolean blob;   /* an http(s) …/blobs/ URL: never a manifest */
} DflyOciRef;

void dfly_oci_ref_free (DflyOciRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyOciRef, dfly_oci_ref_free)

/* Parses an oci:// URL (plain http for the registries listed in
 * insecure_registries, which may be NULL) or a registry blob URL;
 * DFLY_ERROR_INVALID_ARGUMENT for anything else. */
DflyOciRef *dfly_oci_ref_parse (const char *url, char **insecure_registries, GError **error);
/* A registry blob URL, or NULL (no error) when url is not one. */
DflyOciRef *dfly_oci_ref_parse_blob_url (const char *url);
/* "sha256:" and 64 lowercase hex digits. */
gboolean dfly_oci_is_sha256_digest (const char *digest);
/* The URL of another object (a layer, a manifest) in ref's repository, in
 * ref's own form (oci:// or a blob URL). */
char *dfly_oci_ref_object_url (const DflyOciRef *ref, const char *digest);

G_END_DECLS
