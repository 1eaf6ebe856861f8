/* dfly-oci-auth.h — registry credentials and the tokens they earn
 *
 * A 401 with "WWW-Authenticate: Bearer realm=…" sends us to the realm for a
 * token (with Basic credentials from oci.auth_file when it has some for the
 * registry); a Basic challenge is answered with the credentials. What
 * worked is cached per (registry, repository) — a token until its expiry —
 * so later requests send it at once. Thread-safe: sources call from
 * worker threads.
 */
#pragma once

#include <dfly/dfly.h>
#include <dfly/dfly-http-client.h>

#include "dfly-oci-ref.h"

G_BEGIN_DECLS

#define DFLY_TYPE_OCI_AUTH (dfly_oci_auth_get_type ())
G_DECLARE_FINAL_TYPE (DflyOciAuth, dfly_oci_auth, DFLY, OCI_AUTH, GObject)

DflyOciAuth *dfly_oci_auth_new (void);
/* Reads auth_file (a docker config.json; "" for none) when it is not the
 * one read last, forgetting what the old credentials earned. FALSE with
 * DFLY_ERROR_INVALID_CONFIG while it cannot be read. */
gboolean dfly_oci_auth_use_file (DflyOciAuth *self, const char *auth_file, GError **error);
/* The Authorization that worked for ref before, or NULL. */
char *dfly_oci_auth_lookup (DflyOciAuth *self, const DflyOciRef *ref);
/* Answers a 401's challenge for ref (tried: the Authorization refused,
 * or NULL): the Authorization to try next, NULL when there is nothing new
 * to try, or NULL with error when the token service failed. */
char *dfly_oci_auth_answer (DflyOciAuth *self, DflyHttpClient *client, const DflyOciRef *ref,
                            const char *challenge, const char *tried, const char *url,
                            GCancellable *cancellable, GError **error);

/* What a registry says, parsed (the fuzz targets call these too): the
 * token service URL a "Bearer …" challenge names for ref (NULL: none with
 * an http(s) realm), and the token in that service's JSON answer with its
 * lifetime in seconds (60 when unsaid or beyond a day; NULL: no usable one). */
GUri *dfly_oci_auth_token_uri (const char *challenge, const DflyOciRef *ref);
char *dfly_oci_auth_parse_token (GBytes *answer, gint64 *lifetime);

G_END_DECLS
