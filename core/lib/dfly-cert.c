/* dfly-cert.c — the cluster CA and host certificates, with GnuTLS's x509 API
 *
 * The readers face whatever a peer presents at a handshake: every size is
 * capped before GnuTLS parses, every string is checked byte by byte (no NUL,
 * no control characters), and the alternative names are decoded once, so a
 * certificate with thousands of them costs about linear time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "dfly/dfly-cert.h"
#include "dfly/dfly-error.h"

/* PEM is base64 (4/3) with line breaks, and may have text around it. */
#define CERT_PEM_MAX        (2 * DFLY_CERT_DER_MAX)
#define CA_NAME_MAX         64 /* X.520's bound on a common name */
#define DNS_NAME_MAX        253
#define SERIAL_BYTES        16
#define SKEW_ALLOWANCE_SECS (60 * 60) /* not-before is set back by this */
#define OID_SUBJECT_ALT     "2.5.29.17"
#define PEM_CERT_BEGIN      "-----BEGIN CERTIFICATE-----"
#define LEAF_LONG_NAME_CN   "dfly interception"

/* Wiped first: a datum may hold a key. */
static void
datum_clear (gnutls_datum_t *datum)
{
  if (datum->data != NULL)
    gnutls_memset (datum->data, 0, datum->size);
  gnutls_free (datum->data);
  datum->data = NULL;
  datum->size = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (gnutls_datum_t, datum_clear)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_subject_alt_names_t, gnutls_subject_alt_names_deinit, NULL)

/* FALSE with "@what: GnuTLS's reason" when @rc is a GnuTLS error. */
static gboolean
check_gnutls (int rc, const char *what, GError **error)
{
  if (rc >= 0)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_FAILED, "%s: %s", what, gnutls_strerror (rc));
  return FALSE;
}

static char *
datum_steal_string (gnutls_datum_t *datum)
{
  char *text = g_strndup ((const char *) datum->data, datum->size);

  datum_clear (datum);
  return text;
}

/* A host id is what dfly makes of an address and a host name: letters,
 * digits, '.', '-', '_' and ':' (IPv6). Nothing a log line or a shell would
 * read differently. */
gboolean
dfly_cert_check_host_id (const char *host_id, gsize length, GError **error)
{
  if (length == 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "the host id is empty");
    return FALSE;
  }
  if (length > DFLY_CERT_HOST_ID_MAX) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the host id is %" G_GSIZE_FORMAT " bytes long, more than %d", length,
                 DFLY_CERT_HOST_ID_MAX);
    return FALSE;
  }
  for (gsize i = 0; i < length; i++) {
    guchar c = host_id[i];

    /* memchr, not strchr: strchr finds a NUL, the string's own end. */
    if (!g_ascii_isalnum (c) && memchr ("._-:", c, 4) == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "the host id has the byte 0x%02x at %" G_GSIZE_FORMAT
                   "; only letters, digits and . _ - : may be used",
                   c, i);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_days (guint days, GError **error)
{
  if (days >= 1 && days <= DFLY_CERT_DAYS_MAX)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
               "a certificate's validity must be 1 to %d days, not %u", DFLY_CERT_DAYS_MAX, days);
  return FALSE;
}

static gnutls_x509_privkey_t
generate_key (GError **error)
{
  g_auto (gnutls_x509_privkey_t) key = NULL;

  if (!check_gnutls (gnutls_x509_privkey_init (&key), "making a key", error) ||
      !check_gnutls (
        gnutls_x509_privkey_generate2 (
          key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0),
        "making an ECDSA P-256 key", error))
    return NULL;
  return g_steal_pointer (&key);
}

/* The fields every certificate of ours has: version 3, a random positive
 * serial, the validity, the subject's common name (unless NULL) and key,
 * and the key's id. */
static gnutls_x509_crt_t
new_certificate (const char *common_name, gnutls_x509_privkey_t key, guint days, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = NULL;
  guint8 serial[SERIAL_BYTES];
  guint8 key_id[64];
  size_t key_id_size = sizeof key_id;
  time_t now = time (NULL);

  if (!check_gnutls (gnutls_x509_crt_init (&crt), "making a certificate", error) ||
      !check_gnutls (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "making a serial",
                     error))
    return NULL;
  /* Positive, and no leading zero byte to drop. */
  serial[0] = (serial[0] & 0x7f) | 0x40;
  if (!check_gnutls (gnutls_x509_crt_set_version (crt, 3), "setting the version", error) ||
      !check_gnutls (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "setting the serial",
                     error) ||
      !check_gnutls (gnutls_x509_crt_set_activation_time (crt, now - SKEW_ALLOWANCE_SECS),
                     "setting the start of validity", error) ||
      !check_gnutls (gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 86400),
                     "setting the end of validity", error) ||
      (common_name != NULL &&
       !check_gnutls (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                     common_name, strlen (common_name)),
                      "setting the common name", error)) ||
      !check_gnutls (gnutls_x509_crt_set_key (crt, key), "setting the key", error) ||
      !check_gnutls (gnutls_x509_crt_get_key_id (crt, 0, key_id, &key_id_size),
                     "reading the key id", error) ||
      !check_gnutls (gnutls_x509_crt_set_subject_key_id (crt, key_id, key_id_size),
                     "setting the subject key id", error))
    return NULL;
  return g_steal_pointer (&crt);
}

/* The PEM of a signed certificate and of its key (PKCS#8, unencrypted). */
static gboolean
export_pem (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, char **cert_pem, char **key_pem,
            GError **error)
{
  g_auto (gnutls_datum_t) cert_out = { NULL, 0 };
  g_auto (gnutls_datum_t) key_out = { NULL, 0 };

  if (!check_gnutls (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &cert_out),
                     "writing the certificate", error) ||
      !check_gnutls (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                        GNUTLS_PKCS_PLAIN, &key_out),
                     "writing the key", error))
    return FALSE;
  *cert_pem = datum_steal_string (&cert_out);
  *key_pem = datum_steal_string (&key_out);
  return TRUE;
}

gboolean
dfly_cert_make_ca (const char *name, guint days, char **cert_pem, char **key_pem, GError **error)
{
  g_auto (gnutls_x509_privkey_t) key = NULL;
  g_auto (gnutls_x509_crt_t) crt = NULL;
  gsize length = name != NULL ? strlen (name) : 0;

  if (length == 0 || length > CA_NAME_MAX || !g_utf8_validate (name, length, NULL)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "a CA name must be 1 to %d bytes of UTF-8", CA_NAME_MAX);
    return FALSE;
  }
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p)) {
    if (g_unichar_iscntrl (g_utf8_get_char (p))) {
      g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                           "a CA name may not hold control characters");
      return FALSE;
    }
  }
  if (!check_days (days, error))
    return FALSE;
  key = generate_key (error);
  if (key == NULL)
    return FALSE;
  crt = new_certificate (name, key, days, error);
  /* Path length 0: it signs host certificates, never another CA. */
  if (crt == NULL ||
      !check_gnutls (gnutls_x509_crt_set_basic_constraints (crt, 1, 0), "setting CA:TRUE", error) ||
      !check_gnutls (
        gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
        "setting the key usage", error) ||
      !check_gnutls (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0),
                     "signing the CA certificate", error))
    return FALSE;
  return export_pem (crt, key, cert_pem, key_pem, error);
}

static gboolean
check_length (gsize length, gsize max, const char *what, GError **error)
{
  if (length > 0 && length <= max)
    return TRUE;
  if (length == 0)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s is empty", what);
  else
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "%s is %" G_GSIZE_FORMAT " bytes long, more than %" G_GSIZE_FORMAT, what, length,
                 max);
  return FALSE;
}

static gnutls_x509_crt_t
import_certificate (const void *data, gsize length, gnutls_x509_crt_fmt_t format, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = NULL;
  const char    *what = format == GNUTLS_X509_FMT_PEM ? "the PEM certificate" : "the certificate";
  gnutls_datum_t datum = { (unsigned char *) data, length };
  int            rc;

  if (!check_length (length, format == GNUTLS_X509_FMT_PEM ? CERT_PEM_MAX : DFLY_CERT_DER_MAX, what,
                     error) ||
      !check_gnutls (gnutls_x509_crt_init (&crt), "reading a certificate", error))
    return NULL;
  if (format == GNUTLS_X509_FMT_PEM &&
      g_strstr_len ((const char *) data, length, PEM_CERT_BEGIN) == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the PEM text holds no certificate (no " PEM_CERT_BEGIN " line)");
    return NULL;
  }
  rc = gnutls_x509_crt_import (crt, &datum, format);
  if (rc < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s is not valid X.509: %s", what,
                 gnutls_strerror (rc));
    return NULL;
  }
  return g_steal_pointer (&crt);
}

static gnutls_x509_privkey_t
import_key (const char *pem, GError **error)
{
  g_auto (gnutls_x509_privkey_t) key = NULL;
  gsize          length = strlen (pem);
  gnutls_datum_t datum = { (unsigned char *) pem, length };
  int            rc;

  if (!check_length (length, CERT_PEM_MAX, "the CA key", error) ||
      !check_gnutls (gnutls_x509_privkey_init (&key), "reading the CA key", error))
    return NULL;
  rc = gnutls_x509_privkey_import2 (key, &datum, GNUTLS_X509_FMT_PEM, NULL, 0);
  if (rc < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the CA key is not a PEM private key: %s", gnutls_strerror (rc));
    return NULL;
  }
  return g_steal_pointer (&key);
}

/* The CA certificate must be a CA and its key must be the CA's. */
static gboolean
check_ca_pair (gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key, GError **error)
{
  guint8 crt_id[64], key_id[64];
  size_t crt_id_size = sizeof crt_id, key_id_size = sizeof key_id;

  if (gnutls_x509_crt_get_ca_status (ca, NULL) <= 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the CA certificate is not a CA (no basicConstraints CA:TRUE)");
    return FALSE;
  }
  if (!check_gnutls (gnutls_x509_crt_get_key_id (ca, 0, crt_id, &crt_id_size),
                     "reading the CA certificate's key id", error) ||
      !check_gnutls (gnutls_x509_privkey_get_key_id (ca_key, 0, key_id, &key_id_size),
                     "reading the CA key's id", error))
    return FALSE;
  if (crt_id_size != key_id_size || memcmp (crt_id, key_id, crt_id_size) != 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the CA key does not belong to the CA certificate");
    return FALSE;
  }
  return TRUE;
}

/* A CA certificate and its key, checked to be a CA and its key. */
static gboolean
import_ca (const char *ca_cert_pem, const char *ca_key_pem, gnutls_x509_crt_t *ca,
           gnutls_x509_privkey_t *ca_key, GError **error)
{
  *ca = import_certificate (ca_cert_pem, strlen (ca_cert_pem), GNUTLS_X509_FMT_PEM, error);
  if (*ca == NULL) {
    g_prefix_error (error, "CA: ");
    return FALSE;
  }
  *ca_key = import_key (ca_key_pem, error);
  return *ca_key != NULL && check_ca_pair (*ca, *ca_key, error);
}

/* A host certificate valid for days may not outlive its CA. */
static gboolean
check_within_ca (gnutls_x509_crt_t ca, guint days, GError **error)
{
  time_t expires = gnutls_x509_crt_get_expiration_time (ca);

  if (expires != (time_t) -1 && time (NULL) + (time_t) days * 86400 > expires) {
    g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (expires);
    g_autofree char *text = when != NULL ? g_date_time_format_iso8601 (when) : g_strdup ("?");

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "a certificate valid for %u days would outlive its CA, which expires %s", days,
                 text);
    return FALSE;
  }
  return TRUE;
}

static gboolean
add_ip (gnutls_x509_crt_t crt, const char *text, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (text);

  if (address == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "“%s” is not an IP address", text);
    return FALSE;
  }
  return check_gnutls (gnutls_x509_crt_set_subject_alt_name (
                         crt, GNUTLS_SAN_IPADDRESS, g_inet_address_to_bytes (address),
                         g_inet_address_get_native_size (address), GNUTLS_FSAN_APPEND),
                       "adding an IP address", error);
}

/* Letters, digits, '-' and '.': what a TLS client compares. */
static gboolean
add_dns_name (gnutls_x509_crt_t crt, const char *name, GError **error)
{
  gsize length = strlen (name);

  if (length == 0 || length > DNS_NAME_MAX || name[0] == '.' || name[0] == '-' ||
      strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "“%s” is not a DNS name (letters, digits, '-' and '.', at most %d)", name,
                 DNS_NAME_MAX);
    return FALSE;
  }
  return check_gnutls (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, name, length,
                                                             GNUTLS_FSAN_APPEND),
                       "adding a DNS name", error);
}

static gboolean
add_roles (gnutls_x509_crt_t crt, DflyRoleFlags roles, GError **error)
{
  if (roles == 0 || (roles & ~DFLY_ROLE_FLAGS_ALL) != 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "a host certificate needs one or more of the roles peer, seed, "
                         "scheduler and manager");
    return FALSE;
  }
  for (DflyRoleFlags flag = 1; flag <= DFLY_ROLE_FLAG_MANAGER; flag <<= 1) {
    g_autofree char *uri = NULL;

    if ((roles & flag) == 0)
      continue;
    uri = g_strconcat (DFLY_CERT_ROLE_URI_PREFIX, dfly_role_flag_to_string (flag), NULL);
    if (!check_gnutls (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_URI, uri, strlen (uri),
                                                             GNUTLS_FSAN_APPEND),
                       "adding a role", error))
      return FALSE;
  }
  return TRUE;
}

/* What a certificate the CA signs for a host or a leaf has: CA:FALSE,
 * digitalSignature, serverAuth (and clientAuth if client), the CA's key id. */
static gboolean
add_end_entity_fields (gnutls_x509_crt_t crt, gnutls_x509_crt_t ca, gboolean client, GError **error)
{
  guint8 ca_key_id[64];
  size_t ca_key_id_size = sizeof ca_key_id;

  return check_gnutls (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "setting CA:FALSE",
                       error) &&
         check_gnutls (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
                       "setting the key usage", error) &&
         check_gnutls (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                       "setting serverAuth", error) &&
         (!client ||
          check_gnutls (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
                        "setting clientAuth", error)) &&
         check_gnutls (gnutls_x509_crt_get_subject_key_id (ca, ca_key_id, &ca_key_id_size, NULL),
                       "reading the CA's key id", error) &&
         check_gnutls (gnutls_x509_crt_set_authority_key_id (crt, ca_key_id, ca_key_id_size),
                       "setting the authority key id", error);
}

static gboolean
add_host_fields (gnutls_x509_crt_t crt, gnutls_x509_crt_t ca, const DflyCertRequest *request,
                 GError **error)
{
  if (!add_roles (crt, request->roles, error))
    return FALSE;
  for (guint i = 0; request->ips != NULL && request->ips[i] != NULL; i++) {
    if (!add_ip (crt, request->ips[i], error))
      return FALSE;
  }
  for (guint i = 0; request->dns_names != NULL && request->dns_names[i] != NULL; i++) {
    if (!add_dns_name (crt, request->dns_names[i], error))
      return FALSE;
  }
  /* Every component is both a server and a client. */
  return add_end_entity_fields (crt, ca, TRUE, error);
}

gboolean
dfly_cert_issue (const char *ca_cert_pem, const char *ca_key_pem, const DflyCertRequest *request,
                 char **cert_pem, char **key_pem, GError **error)
{
  g_auto (gnutls_x509_crt_t) ca = NULL;
  g_auto (gnutls_x509_privkey_t) ca_key = NULL;
  g_auto (gnutls_x509_privkey_t) key = NULL;
  g_auto (gnutls_x509_crt_t) crt = NULL;

  g_return_val_if_fail (ca_cert_pem != NULL && ca_key_pem != NULL && request != NULL, FALSE);
  if (request->host_id == NULL ||
      !dfly_cert_check_host_id (request->host_id, strlen (request->host_id), error) ||
      !check_days (request->days, error))
    return FALSE;
  if (!import_ca (ca_cert_pem, ca_key_pem, &ca, &ca_key, error) ||
      !check_within_ca (ca, request->days, error))
    return FALSE;
  key = generate_key (error);
  if (key == NULL)
    return FALSE;
  crt = new_certificate (request->host_id, key, request->days, error);
  if (crt == NULL || !add_host_fields (crt, ca, request, error) ||
      !check_gnutls (gnutls_x509_crt_sign2 (crt, ca, ca_key, GNUTLS_DIG_SHA256, 0),
                     "signing the host certificate", error))
    return FALSE;
  return export_pem (crt, key, cert_pem, key_pem, error);
}

/* A leaf's name: an address literal (the SAN IP) or a DNS name (the SAN
 * DNS name); the common name is the host when it fits X.520's 64 bytes,
 * else LEAF_LONG_NAME_CN (an empty subject would need the SAN critical). */
static gboolean
add_leaf_fields (gnutls_x509_crt_t crt, gnutls_x509_crt_t ca, const char *host, GError **error)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (host);
  const char *common_name = strlen (host) <= CA_NAME_MAX ? host : LEAF_LONG_NAME_CN;

  /* The name first: add_dns_name checks it. */
  if (address != NULL ? !add_ip (crt, host, error) : !add_dns_name (crt, host, error))
    return FALSE;
  return check_gnutls (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                      common_name, strlen (common_name)),
                       "setting the common name", error) &&
         add_end_entity_fields (crt, ca, FALSE, error);
}

gboolean
dfly_cert_issue_leaf (const char *ca_cert_pem, const char *ca_key_pem, const char *host, guint days,
                      char **cert_pem, char **key_pem, GError **error)
{
  g_auto (gnutls_x509_crt_t) ca = NULL;
  g_auto (gnutls_x509_privkey_t) ca_key = NULL;
  g_auto (gnutls_x509_privkey_t) key = NULL;
  g_auto (gnutls_x509_crt_t) crt = NULL;
  time_t now = time (NULL);
  time_t ca_expires;

  g_return_val_if_fail (ca_cert_pem != NULL && ca_key_pem != NULL && host != NULL, FALSE);
  if (!check_days (days, error))
    return FALSE;
  if (!import_ca (ca_cert_pem, ca_key_pem, &ca, &ca_key, error))
    return FALSE;
  ca_expires = gnutls_x509_crt_get_expiration_time (ca);
  if (ca_expires != (time_t) -1 && ca_expires <= now) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "the CA has expired");
    return FALSE;
  }
  key = generate_key (error);
  if (key == NULL)
    return FALSE;
  crt = new_certificate (NULL, key, days, error);
  /* Never past the CA's own end: clients would refuse the chain. */
  if (crt == NULL ||
      (ca_expires != (time_t) -1 && now + (time_t) days * 86400 > ca_expires &&
       !check_gnutls (gnutls_x509_crt_set_expiration_time (crt, ca_expires),
                      "setting the end of validity", error)) ||
      !add_leaf_fields (crt, ca, host, error) ||
      !check_gnutls (gnutls_x509_crt_sign2 (crt, ca, ca_key, GNUTLS_DIG_SHA256, 0),
                     "signing the certificate", error))
    return FALSE;
  return export_pem (crt, key, cert_pem, key_pem, error);
}

/* The one common name, as a host id; NULL with a reason otherwise. */
static char *
read_host_id (gnutls_x509_crt_t crt, GError **error)
{
  char   name[DFLY_CERT_HOST_ID_MAX + 1];
  char   other[1];
  size_t size = sizeof name;
  size_t other_size = sizeof other;
  int    rc = gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &size);

  if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the certificate's subject has no common name (the host id)");
    return NULL;
  }
  if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the certificate's common name is longer than %d bytes", DFLY_CERT_HOST_ID_MAX);
    return NULL;
  }
  if (rc < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the certificate's common name cannot be read: %s", gnutls_strerror (rc));
    return NULL;
  }
  rc = gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, other, &other_size);
  if (rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the certificate's subject has more than one common name");
    return NULL;
  }
  if (!dfly_cert_check_host_id (name, MIN (size, sizeof name - 1), error)) {
    g_prefix_error (error, "the certificate's common name: ");
    return NULL;
  }
  return g_strndup (name, size);
}

/* The URI names that are dfly roles; other URIs are ignored. Exact bytes:
 * a name with a NUL after "urn:dfly:role:seed" is not the seed role. */
static DflyRoleFlags
role_of_uri (const gnutls_datum_t *uri)
{
  gsize       prefix = strlen (DFLY_CERT_ROLE_URI_PREFIX);
  const char *data = (const char *) uri->data;

  if (uri->size <= prefix || memcmp (data, DFLY_CERT_ROLE_URI_PREFIX, prefix) != 0)
    return 0;
  for (DflyRoleFlags flag = 1; flag <= DFLY_ROLE_FLAG_MANAGER; flag <<= 1) {
    const char *name = dfly_role_flag_to_string (flag);

    if (uri->size - prefix == strlen (name) && memcmp (data + prefix, name, strlen (name)) == 0)
      return flag;
  }
  return 0;
}

static char *
ip_to_string (const gnutls_datum_t *raw)
{
  GSocketFamily family = raw->size == 4    ? G_SOCKET_FAMILY_IPV4
                         : raw->size == 16 ? G_SOCKET_FAMILY_IPV6
                                           : G_SOCKET_FAMILY_INVALID;
  g_autoptr (GInetAddress) address = NULL;

  if (family == G_SOCKET_FAMILY_INVALID)
    return NULL;
  address = g_inet_address_new_from_bytes (raw->data, family);
  return g_inet_address_to_string (address);
}

/* Printable ASCII DNS names only; anything else is left out. */
static char *
dns_to_string (const gnutls_datum_t *raw)
{
  for (guint i = 0; i < raw->size; i++) {
    if (raw->data[i] <= 0x20 || raw->data[i] >= 0x7f)
      return NULL;
  }
  return g_strndup ((const char *) raw->data, raw->size);
}

/* The roles, and when asked the IP addresses and DNS names, of the
 * subject-alternative-name extension (none: no roles). */
static gboolean
read_alt_names (gnutls_x509_crt_t crt, DflyRoleFlags *roles, GPtrArray *ips, GPtrArray *dns_names,
                GError **error)
{
  g_auto (gnutls_datum_t) extension = { NULL, 0 };
  g_auto (gnutls_subject_alt_names_t) sans = NULL;
  int rc = gnutls_x509_crt_get_extension_by_oid2 (crt, OID_SUBJECT_ALT, 0, &extension, NULL);

  *roles = 0;
  if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
    return TRUE;
  if (!check_gnutls (gnutls_subject_alt_names_init (&sans), "reading the alternative names", error))
    return FALSE;
  if (rc >= 0)
    rc = gnutls_x509_ext_import_subject_alt_names (&extension, sans, 0);
  if (rc < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the certificate's alternative names cannot be read: %s", gnutls_strerror (rc));
    return FALSE;
  }
  for (guint seq = 0;; seq++) {
    unsigned int   type;
    gnutls_datum_t name; /* borrowed from sans */
    char          *text;

    rc = gnutls_subject_alt_names_get (sans, seq, &type, &name, NULL);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
      return TRUE;
    if (rc < 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "the certificate's alternative name %u cannot be read: %s", seq,
                   gnutls_strerror (rc));
      return FALSE;
    }
    if (type == GNUTLS_SAN_URI)
      *roles |= role_of_uri (&name);
    else if (type == GNUTLS_SAN_IPADDRESS && ips != NULL && (text = ip_to_string (&name)) != NULL)
      g_ptr_array_add (ips, text);
    else if (type == GNUTLS_SAN_DNSNAME && dns_names != NULL &&
             (text = dns_to_string (&name)) != NULL)
      g_ptr_array_add (dns_names, text);
  }
}

static DflyIdentity *
identity_of (gnutls_x509_crt_t crt, GError **error)
{
  g_autofree char *host_id = NULL;
  DflyRoleFlags    roles = 0;

  if (gnutls_x509_crt_get_ca_status (crt, NULL) > 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the certificate is a CA's, not a host's");
    return NULL;
  }
  host_id = read_host_id (crt, error);
  if (host_id == NULL || !read_alt_names (crt, &roles, NULL, NULL, error))
    return NULL;
  if (roles == 0) {
    g_set_error (
      error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
      "the certificate of “%s” grants no dfly role (no URI name " DFLY_CERT_ROLE_URI_PREFIX
      "peer, seed, scheduler or manager)",
      host_id);
    return NULL;
  }
  return dfly_identity_new (host_id, roles);
}

DflyIdentity *
dfly_cert_identity_from_der (const guint8 *der, gsize length, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = import_certificate (der, length, GNUTLS_X509_FMT_DER, error);

  return crt != NULL ? identity_of (crt, error) : NULL;
}

DflyIdentity *
dfly_cert_identity_from_pem (const char *pem, gsize length, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = import_certificate (pem, length, GNUTLS_X509_FMT_PEM, error);

  return crt != NULL ? identity_of (crt, error) : NULL;
}

DflyIdentity *
dfly_cert_identity_from_tls_certificate (GTlsCertificate *certificate, GError **error)
{
  g_autoptr (GByteArray) der = NULL;

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                         "the TLS certificate has no DER form");
    return NULL;
  }
  return dfly_cert_identity_from_der (der->data, der->len, error);
}

void
dfly_cert_info_free (DflyCertInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->subject);
  g_free (info->issuer);
  g_free (info->serial);
  g_free (info->host_id);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_strfreev (info->ips);
  g_strfreev (info->dns_names);
  g_free (info);
}

static char *
read_distinguished_name (gnutls_x509_crt_t crt, gboolean issuer)
{
  g_auto (gnutls_datum_t) dn = { NULL, 0 };
  int rc =
    issuer ? gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0) : gnutls_x509_crt_get_dn3 (crt, &dn, 0);
  g_autofree char *raw = NULL;
  char            *text;

  if (rc < 0)
    return g_strdup ("?");
  /* GnuTLS escapes what RFC 4514 says to; a terminal sees no control byte. */
  raw = datum_steal_string (&dn);
  text = g_utf8_make_valid (raw, -1);
  for (char *p = text; *p != '\0'; p++) {
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '?';
  }
  return text;
}

static char *
hex_of (const guint8 *bytes, gsize length)
{
  GString *text = g_string_sized_new (length * 2);

  for (gsize i = 0; i < length; i++)
    g_string_append_printf (text, "%02x", bytes[i]);
  return g_string_free (text, FALSE);
}

static GStrv
steal_strv (GPtrArray *array)
{
  g_ptr_array_add (array, NULL);
  return (GStrv) g_ptr_array_free (array, FALSE);
}

DflyCertInfo *
dfly_cert_info_from_pem (const char *pem, gsize length, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = import_certificate (pem, length, GNUTLS_X509_FMT_PEM, error);
  g_autoptr (DflyCertInfo) info = NULL;
  g_autoptr (GPtrArray) ips = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) dns_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) host_id_error = NULL;
  guint8 serial[64];
  size_t serial_size = sizeof serial;

  if (crt == NULL)
    return NULL;
  info = g_new0 (DflyCertInfo, 1);
  info->subject = read_distinguished_name (crt, FALSE);
  info->issuer = read_distinguished_name (crt, TRUE);
  info->serial = gnutls_x509_crt_get_serial (crt, serial, &serial_size) >= 0
                   ? hex_of (serial, serial_size)
                   : g_strdup ("?");
  info->host_id = read_host_id (crt, &host_id_error);
  if (info->host_id == NULL)
    g_debug ("no host id: %s", host_id_error->message);
  info->is_ca = gnutls_x509_crt_get_ca_status (crt, NULL) > 0;
  info->not_before = g_date_time_new_from_unix_utc (gnutls_x509_crt_get_activation_time (crt));
  info->not_after = g_date_time_new_from_unix_utc (gnutls_x509_crt_get_expiration_time (crt));
  if (!read_alt_names (crt, &info->roles, ips, dns_names, error))
    return NULL;
  info->ips = steal_strv (g_steal_pointer (&ips));
  info->dns_names = steal_strv (g_steal_pointer (&dns_names));
  return g_steal_pointer (&info);
}

/* fsync then close; on failure the half-written file goes. */
static gboolean
close_written (int fd, const char *path, GError **error)
{
  int saved = fsync (fd) == 0 ? 0 : errno;

  if (close (fd) != 0 && saved == 0)
    saved = errno;
  if (saved == 0)
    return TRUE;
  g_unlink (path);
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot write %s: %s", path, g_strerror (saved));
  return FALSE;
}

gboolean
dfly_cert_write_pem (const char *path, const char *pem, gboolean secret, gboolean overwrite,
                     GError **error)
{
  int   mode = secret ? 0600 : 0644;
  gsize length = strlen (pem);
  int   fd;

  if (overwrite) {
    g_autoptr (GError) local_error = NULL;

    /* A new file renamed over the old one: the old key's mode never applies. */
    if (g_file_set_contents_full (path, pem, length, G_FILE_SET_CONTENTS_CONSISTENT, mode,
                                  &local_error))
      return TRUE;
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "%s", local_error->message);
    return FALSE;
  }
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot create %s: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  for (gsize done = 0; done < length;) {
    gssize written = write (fd, pem + done, length - done);

    if (written < 0 && errno == EINTR)
      continue;
    if (written < 0) {
      int saved = errno;

      close (fd);
      g_unlink (path);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
    done += written;
  }
  return close_written (fd, path, error);
}
