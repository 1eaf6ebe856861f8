/* dfly-cert.h — the cluster CA and host certificates that carry identities
 *
 * A cluster has one CA: a self-signed ECDSA P-256 certificate. Every host
 * gets a certificate from it naming its host id (the subject's common name)
 * and the roles it may play, one URI subject-alternative name per role:
 * "urn:dfly:role:peer", "urn:dfly:role:seed", "urn:dfly:role:scheduler",
 * "urn:dfly:role:manager". Host certificates are for both ends of a link
 * (extended key usage serverAuth and clientAuth). Certificates and keys
 * travel as PEM strings; keys as unencrypted PKCS#8, which GLib's TLS
 * backend loads. Errors are DFLY_ERROR_INVALID_ARGUMENT for bad input and
 * DFLY_ERROR_IO for files, with messages that say what is wrong.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-identity.h"

G_BEGIN_DECLS

#define DFLY_CERT_ROLE_URI_PREFIX "urn:dfly:role:"
/* Host ids in certificates: 1 to this many printable ASCII characters. */
#define DFLY_CERT_HOST_ID_MAX 255
#define DFLY_CERT_DAYS_MAX    (100 * 366)
/* The largest certificate read, in DER. Ours are under 1 KiB; the cap
 * bounds what a peer's certificate costs to decode: at most some 5,000
 * names, a few tens of milliseconds (the names are decoded in about linear
 * time). */
#define DFLY_CERT_DER_MAX (16 * 1024)

/* A new CA named @name (its common name) valid for @days from now. */
gboolean dfly_cert_make_ca (const char *name, guint days, char **cert_pem, char **key_pem,
                            GError **error);

typedef struct {
  const char   *host_id;
  DflyRoleFlags roles; /* at least one */
  const char  **ips;   /* NULL-terminated IP addresses as text, or NULL */
  const char  **dns_names;
  guint         days;
} DflyCertRequest;

/* A host certificate and its new key, signed by the CA in @ca_cert_pem
 * and @ca_key_pem, with a random serial. */
gboolean dfly_cert_issue (const char *ca_cert_pem, const char *ca_key_pem,
                          const DflyCertRequest *request, char **cert_pem, char **key_pem,
                          GError **error);

/* A TLS server certificate for @host and its new key, signed by the CA in
 * @ca_cert_pem and @ca_key_pem: what an intercepting proxy shows a client
 * for the host it asked to reach. @host is a DNS name (the subject
 * alternative name DNS) or an IP address as text (the SAN IP); the common
 * name is @host too when it fits X.520's 64 bytes. serverAuth only, no
 * dfly role, a random serial; valid for @days, but never past the CA's own
 * expiry. The CA must be a CA (basicConstraints CA:TRUE, as "dflyctl cert
 * ca" makes). */
gboolean dfly_cert_issue_leaf (const char *ca_cert_pem, const char *ca_key_pem, const char *host,
                               guint days, char **cert_pem, char **key_pem, GError **error);

/* The identity a host certificate names. These only read: the chain must
 * have been verified already (the TLS handshake does it). A certificate
 * without exactly one common name that is a valid host id, or without any
 * dfly role, is an error; role URIs dfly does not know are ignored. */
DflyIdentity *dfly_cert_identity_from_der (const guint8 *der, gsize length, GError **error);
DflyIdentity *dfly_cert_identity_from_pem (const char *pem, gsize length, GError **error);
DflyIdentity *dfly_cert_identity_from_tls_certificate (GTlsCertificate *certificate,
                                                       GError         **error);

/* What "dflyctl cert show" prints: any certificate, dfly's or not. */
typedef struct {
  char         *subject; /* RFC 4514 strings */
  char         *issuer;
  char         *serial;  /* hex */
  char         *host_id; /* NULL without a usable common name */
  DflyRoleFlags roles;
  gboolean      is_ca;
  GDateTime    *not_before;
  GDateTime    *not_after;
  GStrv         ips;
  GStrv         dns_names;
} DflyCertInfo;

DflyCertInfo *dfly_cert_info_from_pem (const char *pem, gsize length, GError **error);
void          dfly_cert_info_free (DflyCertInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyCertInfo, dfly_cert_info_free)

/* TRUE if @host_id may be a certificate's host id; else says why. */
gboolean dfly_cert_check_host_id (const char *host_id, gsize length, GError **error);

/* Writes @pem to @path: mode 0600 if @secret (a key), else 0644. An existing
 * file is an error unless @overwrite. */
gboolean dfly_cert_write_pem (const char *path, const char *pem, gboolean secret,
                              gboolean overwrite, GError **error);

G_END_DECLS
