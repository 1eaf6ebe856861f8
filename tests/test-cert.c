/* test-cert.c — the cluster CA, host certificates and the identities read
 * back from them, checked by GnuTLS and by GLib's TLS backend, and the
 * reader fed what a hostile peer could present */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include <dfly/dfly-cert.h>
#include <dfly/dfly-error.h>

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)

typedef struct {
  char *cert;
  char *key;
} Pem;

static void
pem_clear (Pem *pem)
{
  g_clear_pointer (&pem->cert, g_free);
  g_clear_pointer (&pem->key, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Pem, pem_clear)

static void
make_ca (Pem *ca, const char *name)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dfly_cert_make_ca (name, 30, &ca->cert, &ca->key, &error));
  g_assert_no_error (error);
}

static void
issue (Pem *host, const Pem *ca, const char *host_id, DflyRoleFlags roles)
{
  const char     *ips[] = { "127.0.0.1", "::1", NULL };
  const char     *dns[] = { "localhost", NULL };
  DflyCertRequest request = { host_id, roles, ips, dns, 7 };
  g_autoptr (GError) error = NULL;

  g_assert_true (dfly_cert_issue (ca->cert, ca->key, &request, &host->cert, &host->key, &error));
  g_assert_no_error (error);
}

static gnutls_x509_crt_t
import_pem (const char *pem)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t    datum = { (unsigned char *) pem, strlen (pem) };

  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM), ==, 0);
  return crt;
}

static GBytes *
export_der (gnutls_x509_crt_t crt)
{
  gnutls_datum_t der = { NULL, 0 };
  GBytes        *bytes;

  g_assert_cmpint (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der), ==, 0);
  bytes = g_bytes_new (der.data, der.size);
  gnutls_free (der.data);
  return bytes;
}

static GBytes *
der_of_pem (const char *pem)
{
  g_auto (gnutls_x509_crt_t) crt = import_pem (pem);

  return export_der (crt);
}

static DflyIdentity *
identity_of_bytes (GBytes *der, GError **error)
{
  gsize         length;
  const guint8 *data = g_bytes_get_data (der, &length);

  return dfly_cert_identity_from_der (data, length, error);
}

/* A CA, a host certificate with three roles, and both read back. */
static void
test_round_trip (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) host = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyIdentity) from_pem = NULL;
  g_autoptr (DflyIdentity) from_der = NULL;
  g_autoptr (GBytes) der = NULL;
  g_autoptr (DflyCertInfo) info = NULL;
  g_autoptr (DflyCertInfo) ca_info = NULL;
  DflyRoleFlags roles = DFLY_ROLE_FLAG_SCHEDULER | DFLY_ROLE_FLAG_SEED | DFLY_ROLE_FLAG_PEER;
  gint64        days;

  make_ca (&ca, "dfly test CA");
  issue (&host, &ca, "10.0.0.1-node-a", roles);
  g_assert_true (g_str_has_prefix (host.key, "-----BEGIN PRIVATE KEY-----"));

  from_pem = dfly_cert_identity_from_pem (host.cert, strlen (host.cert), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dfly_identity_get_host_id (from_pem), ==, "10.0.0.1-node-a");
  g_assert_cmphex (dfly_identity_get_roles (from_pem), ==, roles);
  g_assert_false (dfly_identity_has_role (from_pem, DFLY_ROLE_FLAG_MANAGER));

  der = der_of_pem (host.cert);
  from_der = identity_of_bytes (der, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dfly_identity_get_host_id (from_der), ==, "10.0.0.1-node-a");
  g_assert_cmphex (dfly_identity_get_roles (from_der), ==, roles);

  info = dfly_cert_info_from_pem (host.cert, strlen (host.cert), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->host_id, ==, "10.0.0.1-node-a");
  g_assert_cmpstr (info->subject, ==, "CN=10.0.0.1-node-a");
  g_assert_cmpstr (info->issuer, ==, "CN=dfly test CA");
  g_assert_cmphex (info->roles, ==, roles);
  g_assert_false (info->is_ca);
  g_assert_cmpuint (strlen (info->serial), ==, 32);
  g_assert_cmpstrv (info->ips, ((const char *[]){ "127.0.0.1", "::1", NULL }));
  g_assert_cmpstrv (info->dns_names, ((const char *[]){ "localhost", NULL }));
  days = g_date_time_difference (info->not_after, info->not_before) / G_TIME_SPAN_DAY;
  g_assert_cmpint (days, ==, 7); /* 7 days and the hour allowed for clock skew */

  ca_info = dfly_cert_info_from_pem (ca.cert, strlen (ca.cert), &error);
  g_assert_no_error (error);
  g_assert_true (ca_info->is_ca);
  g_assert_cmphex (ca_info->roles, ==, 0);
  g_assert_cmpstr (ca_info->subject, ==, ca_info->issuer);
}

/* GnuTLS verifies the chain, with the key usages TLS asks for; a
 * certificate from another CA does not verify. */
static void
test_gnutls_verifies (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) other_ca = { 0 };
  g_auto (Pem) host = { 0 };
  g_auto (Pem) stranger = { 0 };
  g_auto (gnutls_x509_crt_t) ca_crt = NULL;
  g_auto (gnutls_x509_crt_t) host_crt = NULL;
  g_auto (gnutls_x509_crt_t) stranger_crt = NULL;
  unsigned int status = 0;
  unsigned int key_usage = 0;

  make_ca (&ca, "cluster");
  make_ca (&other_ca, "cluster"); /* the same name, another key */
  issue (&host, &ca, "host-a", DFLY_ROLE_FLAG_PEER);
  issue (&stranger, &other_ca, "host-a", DFLY_ROLE_FLAG_PEER);
  ca_crt = import_pem (ca.cert);
  host_crt = import_pem (host.cert);
  stranger_crt = import_pem (stranger.cert);

  g_assert_cmpint (gnutls_x509_crt_verify (host_crt, &ca_crt, 1, 0, &status), ==, 0);
  g_assert_cmphex (status, ==, 0);
  g_assert_cmpint (gnutls_x509_crt_verify (stranger_crt, &ca_crt, 1, 0, &status), ==, 0);
  g_assert_cmphex (status & GNUTLS_CERT_INVALID, !=, 0);

  for (guint i = 0; i < 2; i++) {
    const char *purpose = i == 0 ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT;
    char        oid[64];
    gboolean    found = FALSE;

    for (guint seq = 0;; seq++) {
      size_t size = sizeof oid;

      if (gnutls_x509_crt_get_key_purpose_oid (host_crt, seq, oid, &size, NULL) < 0)
        break;
      found = found || g_str_equal (oid, purpose);
    }
    g_assert_true (found);
  }
  g_assert_cmpint (gnutls_x509_crt_get_key_usage (host_crt, &key_usage, NULL), >=, 0);
  g_assert_cmphex (key_usage & GNUTLS_KEY_DIGITAL_SIGNATURE, !=, 0);
  g_assert_cmpint (gnutls_x509_crt_get_ca_status (ca_crt, NULL), ==, 1);
  g_assert_cmpint (gnutls_x509_crt_get_key_usage (ca_crt, &key_usage, NULL), >=, 0);
  g_assert_cmphex (key_usage & GNUTLS_KEY_KEY_CERT_SIGN, !=, 0);
}

static GTlsCertificate *
tls_certificate (const char *cert_pem, const char *key_pem)
{
  g_autofree char *both = g_strconcat (cert_pem, key_pem, NULL);
  g_autoptr (GError) error = NULL;
  GTlsCertificate *certificate = g_tls_certificate_new_from_pem (both, -1, &error);

  g_assert_no_error (error);
  return certificate;
}

/* What the TLS transport loads: GLib takes the PEM files and verifies
 * the host against the CA. */
static void
test_glib_verifies (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) other_ca = { 0 };
  g_auto (Pem) host = { 0 };
  g_auto (Pem) stranger = { 0 };
  g_autoptr (GTlsCertificate) ca_certificate = NULL;
  g_autoptr (GTlsCertificate) host_certificate = NULL;
  g_autoptr (GTlsCertificate) stranger_certificate = NULL;
  g_autoptr (DflyIdentity) identity = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key_pem = NULL;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_test_skip ("no GIO TLS backend (glib-networking)");
    return;
  }
  make_ca (&ca, "cluster");
  make_ca (&other_ca, "cluster");
  issue (&host, &ca, "10.0.0.2-node-b", DFLY_ROLE_FLAG_SEED);
  issue (&stranger, &other_ca, "10.0.0.2-node-b", DFLY_ROLE_FLAG_SEED);

  ca_certificate = g_tls_certificate_new_from_pem (ca.cert, -1, &error);
  g_assert_no_error (error);
  host_certificate = tls_certificate (host.cert, host.key);
  stranger_certificate = tls_certificate (stranger.cert, stranger.key);
  g_object_get (host_certificate, "private-key-pem", &key_pem, NULL);
  g_assert_nonnull (key_pem);

  g_assert_cmphex (g_tls_certificate_verify (host_certificate, NULL, ca_certificate), ==, 0);
  g_assert_cmphex (g_tls_certificate_verify (stranger_certificate, NULL, ca_certificate), ==,
                   G_TLS_CERTIFICATE_UNKNOWN_CA);

  identity = dfly_cert_identity_from_tls_certificate (host_certificate, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dfly_identity_get_host_id (identity), ==, "10.0.0.2-node-b");
  g_assert_cmphex (dfly_identity_get_roles (identity), ==, DFLY_ROLE_FLAG_SEED);
}

static void
expect_issue_error (const Pem *ca, const DflyCertRequest *request, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_auto (Pem) host = { 0 };

  g_assert_false (dfly_cert_issue (ca->cert, ca->key, request, &host.cert, &host.key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, message));
  g_assert_null (host.cert);
  g_assert_null (host.key);
}

static void
test_issue_refuses (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) other_ca = { 0 };
  g_auto (Pem) host = { 0 };
  g_autofree char    *long_id = g_strnfill (DFLY_CERT_HOST_ID_MAX + 1, 'a');
  const char         *bad_ip[] = { "10.0.0.300", NULL };
  const char         *bad_dns[] = { "a b", NULL };
  const DflyRoleFlags peer = DFLY_ROLE_FLAG_PEER;
  g_autoptr (GError) error = NULL;
  char *cert = NULL, *key = NULL;

  make_ca (&ca, "cluster");
  make_ca (&other_ca, "other");
  issue (&host, &ca, "host", peer);

  g_assert_false (dfly_cert_check_host_id ("host\0x", 6, NULL));
  g_assert_false (dfly_cert_check_host_id ("host\xff", 5, NULL));
  g_assert_true (dfly_cert_check_host_id ("fe80::1-node_a.b", 16, NULL));
  expect_issue_error (&ca, &(DflyCertRequest){ "", peer, NULL, NULL, 1 }, "empty");
  expect_issue_error (&ca, &(DflyCertRequest){ long_id, peer, NULL, NULL, 1 }, "more than 255");
  expect_issue_error (&ca, &(DflyCertRequest){ "a b", peer, NULL, NULL, 1 }, "0x20 at 1");
  expect_issue_error (&ca, &(DflyCertRequest){ "a,CN=b", peer, NULL, NULL, 1 }, "0x2c at 1");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", 0, NULL, NULL, 1 }, "roles");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", 1 << 7, NULL, NULL, 1 }, "roles");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", peer, bad_ip, NULL, 1 },
                      "“10.0.0.300” is not an IP address");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", peer, NULL, bad_dns, 1 },
                      "“a b” is not a DNS name");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", peer, NULL, NULL, 0 }, "1 to");
  expect_issue_error (&ca, &(DflyCertRequest){ "host", peer, NULL, NULL, 31 }, "outlive its CA");

  /* A CA certificate with another CA's key; a host certificate as CA. */
  g_assert_false (dfly_cert_issue (
    ca.cert, other_ca.key, &(DflyCertRequest){ "host", peer, NULL, NULL, 1 }, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "the CA key does not belong to the CA certificate");
  g_clear_error (&error);
  g_assert_false (dfly_cert_issue (
    host.cert, host.key, &(DflyCertRequest){ "host", peer, NULL, NULL, 1 }, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not a CA"));
  g_clear_error (&error);
  g_assert_false (dfly_cert_issue (
    "garbage", ca.key, &(DflyCertRequest){ "host", peer, NULL, NULL, 1 }, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "CA: the PEM text holds no certificate"));
  g_clear_error (&error);
  g_assert_false (dfly_cert_issue (
    ca.cert, "garbage", &(DflyCertRequest){ "host", peer, NULL, NULL, 1 }, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "the CA key is not a PEM private key"));
  g_clear_error (&error);

  g_assert_false (dfly_cert_make_ca ("", 1, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (dfly_cert_make_ca ("a\nb", 1, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (dfly_cert_make_ca ("ca", DFLY_CERT_DAYS_MAX + 1, &cert, &key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_null (cert);
  g_assert_null (key);
}

static void
issue_leaf (Pem *leaf, const Pem *ca, const char *host, guint days)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (
    dfly_cert_issue_leaf (ca->cert, ca->key, host, days, &leaf->cert, &leaf->key, &error));
  g_assert_no_error (error);
}

/* A leaf for an intercepting proxy, from the CA "dflyctl cert ca" makes:
 * it names its host (DNS or IP) and verifies against that CA, under GnuTLS
 * and GLib, for that host alone; a server certificate only. */
static void
test_leaf_verifies (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) leaf = { 0 };
  g_auto (Pem) ip_leaf = { 0 };
  g_auto (gnutls_x509_crt_t) ca_crt = NULL;
  g_auto (gnutls_x509_crt_t) leaf_crt = NULL;
  g_auto (gnutls_x509_crt_t) ip_crt = NULL;
  unsigned int status = 0;
  unsigned int key_usage = 0;
  char         oid[64];
  size_t       oid_size = sizeof oid;

  make_ca (&ca, "dfly proxy CA");
  issue_leaf (&leaf, &ca, "registry.example", 7);
  issue_leaf (&ip_leaf, &ca, "192.0.2.7", 7);
  ca_crt = import_pem (ca.cert);
  leaf_crt = import_pem (leaf.cert);
  ip_crt = import_pem (ip_leaf.cert);

  g_assert_cmpint (gnutls_x509_crt_verify (leaf_crt, &ca_crt, 1, 0, &status), ==, 0);
  g_assert_cmphex (status, ==, 0);
  g_assert_cmpint (gnutls_x509_crt_verify (ip_crt, &ca_crt, 1, 0, &status), ==, 0);
  g_assert_cmphex (status, ==, 0);
  g_assert_true (gnutls_x509_crt_check_hostname (leaf_crt, "registry.example"));
  g_assert_true (gnutls_x509_crt_check_hostname (leaf_crt, "REGISTRY.example"));
  g_assert_false (gnutls_x509_crt_check_hostname (leaf_crt, "other.example"));
  g_assert_true (gnutls_x509_crt_check_hostname (ip_crt, "192.0.2.7"));
  g_assert_false (gnutls_x509_crt_check_hostname (ip_crt, "192.0.2.8"));
  g_assert_cmpint (gnutls_x509_crt_get_key_purpose_oid (leaf_crt, 0, oid, &oid_size, NULL), ==, 0);
  g_assert_cmpstr (oid, ==, GNUTLS_KP_TLS_WWW_SERVER);
  oid_size = sizeof oid;
  g_assert_cmpint (gnutls_x509_crt_get_key_purpose_oid (leaf_crt, 1, oid, &oid_size, NULL), <, 0);
  g_assert_cmpint (gnutls_x509_crt_get_key_usage (leaf_crt, &key_usage, NULL), >=, 0);
  g_assert_cmphex (key_usage, ==, GNUTLS_KEY_DIGITAL_SIGNATURE);
  g_assert_cmpint (gnutls_x509_crt_get_ca_status (leaf_crt, NULL), ==, 0);

  if (g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_autoptr (GTlsCertificate) ca_certificate = g_tls_certificate_new_from_pem (ca.cert, -1, NULL);
    g_autoptr (GTlsCertificate) leaf_certificate = tls_certificate (leaf.cert, leaf.key);
    g_autoptr (GTlsCertificate) ip_certificate = tls_certificate (ip_leaf.cert, ip_leaf.key);
    g_autoptr (GSocketConnectable) name = g_network_address_new ("registry.example", 443);
    g_autoptr (GSocketConnectable) other = g_network_address_new ("other.example", 443);
    g_autoptr (GSocketConnectable) ip = g_network_address_new ("192.0.2.7", 443);

    g_assert_cmphex (g_tls_certificate_verify (leaf_certificate, name, ca_certificate), ==, 0);
    g_assert_cmphex (g_tls_certificate_verify (leaf_certificate, other, ca_certificate), ==,
                     G_TLS_CERTIFICATE_BAD_IDENTITY);
    g_assert_cmphex (g_tls_certificate_verify (ip_certificate, ip, ca_certificate), ==, 0);
  }
}

/* What dflyctl cert show reads of a leaf: its subject, issuer, names and
 * validity, which never passes the CA's. */
static void
test_leaf_fields (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) short_ca = { 0 };
  g_auto (Pem) leaf = { 0 };
  g_auto (Pem) long_leaf = { 0 };
  g_auto (Pem) short_leaf = { 0 };
  g_autofree char *long_name =
    g_strjoin (".", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "example", NULL);
  g_autoptr (DflyCertInfo) info = NULL;
  g_autoptr (DflyCertInfo) long_info = NULL;
  g_autoptr (DflyCertInfo) short_info = NULL;
  g_autoptr (DflyCertInfo) short_ca_info = NULL;

  make_ca (&ca, "dfly proxy CA");
  issue_leaf (&leaf, &ca, "registry.example", 7);
  info = dfly_cert_info_from_pem (leaf.cert, strlen (leaf.cert), NULL);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->subject, ==, "CN=registry.example");
  g_assert_cmpstr (info->issuer, ==, "CN=dfly proxy CA");
  g_assert_false (info->is_ca);
  g_assert_cmphex (info->roles, ==, 0);
  g_assert_cmpstrv (info->dns_names, ((const char *[]){ "registry.example", NULL }));
  g_assert_cmpint (g_date_time_difference (info->not_after, info->not_before) / G_TIME_SPAN_DAY, ==,
                   7);

  /* A name longer than a common name may be: in the SAN only. */
  g_assert_cmpuint (strlen (long_name), >, 64);
  issue_leaf (&long_leaf, &ca, long_name, 1);
  long_info = dfly_cert_info_from_pem (long_leaf.cert, strlen (long_leaf.cert), NULL);
  g_assert_nonnull (long_info);
  g_assert_cmpstr (long_info->subject, ==, "CN=dfly interception");
  g_assert_cmpstr (long_info->dns_names[0], ==, long_name);

  /* A CA with 2 days left: a 7-day leaf ends with it. */
  g_assert_true (dfly_cert_make_ca ("short", 2, &short_ca.cert, &short_ca.key, NULL));
  issue_leaf (&short_leaf, &short_ca, "registry.example", 7);
  short_info = dfly_cert_info_from_pem (short_leaf.cert, strlen (short_leaf.cert), NULL);
  short_ca_info = dfly_cert_info_from_pem (short_ca.cert, strlen (short_ca.cert), NULL);
  g_assert_nonnull (short_info);
  g_assert_nonnull (short_ca_info);
  g_assert_true (g_date_time_equal (short_info->not_after, short_ca_info->not_after));
}

static void
expect_leaf_error (const char *ca_cert, const char *ca_key, const char *host, guint days,
                   const char *message)
{
  g_autoptr (GError) error = NULL;
  g_auto (Pem) leaf = { 0 };

  g_assert_false (
    dfly_cert_issue_leaf (ca_cert, ca_key, host, days, &leaf.cert, &leaf.key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s: %s", host, error->message);
  g_assert_nonnull (strstr (error->message, message));
  g_assert_null (leaf.cert);
  g_assert_null (leaf.key);
}

/* Not a host, no days, a host certificate as CA, another CA's key. */
static void
test_leaf_refuses (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) other_ca = { 0 };
  g_auto (Pem) host = { 0 };

  make_ca (&ca, "dfly proxy CA");
  make_ca (&other_ca, "other");
  issue (&host, &ca, "host", DFLY_ROLE_FLAG_PEER);
  expect_leaf_error (ca.cert, ca.key, "a b", 7, "is not a DNS name");
  expect_leaf_error (ca.cert, ca.key, "", 7, "is not a DNS name");
  expect_leaf_error (ca.cert, ca.key, "-a.example", 7, "is not a DNS name");
  expect_leaf_error (ca.cert, ca.key, "registry.example", 0, "1 to");
  expect_leaf_error (host.cert, host.key, "registry.example", 1, "not a CA");
  expect_leaf_error (ca.cert, other_ca.key, "registry.example", 1,
                     "the CA key does not belong to the CA certificate");
  expect_leaf_error ("garbage", ca.key, "registry.example", 1,
                     "CA: the PEM text holds no certificate");
}

/* What a hostile peer could present, built with GnuTLS directly: a signed,
 * well-formed certificate with whatever subject and names it likes. */
typedef struct {
  gnutls_x509_privkey_t key;
  gnutls_x509_crt_t     crt;
} Forge;

static void
forge_init (Forge *forge)
{
  static const guint8 serial[] = { 0x42 };

  g_assert_cmpint (gnutls_x509_privkey_init (&forge->key), ==, 0);
  g_assert_cmpint (gnutls_x509_privkey_generate (forge->key, GNUTLS_PK_ECDSA,
                                                 GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                                 0),
                   ==, 0);
  g_assert_cmpint (gnutls_x509_crt_init (&forge->crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_version (forge->crt, 3), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_serial (forge->crt, serial, sizeof serial), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_activation_time (forge->crt, time (NULL)), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_expiration_time (forge->crt, time (NULL) + 3600), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_key (forge->crt, forge->key), ==, 0);
}

static void
forge_clear (Forge *forge)
{
  g_clear_pointer (&forge->crt, gnutls_x509_crt_deinit);
  g_clear_pointer (&forge->key, gnutls_x509_privkey_deinit);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Forge, forge_clear)

static void
forge_cn (Forge *forge, const char *cn, gsize length)
{
  g_assert_cmpint (
    gnutls_x509_crt_set_dn_by_oid (forge->crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, length), ==, 0);
}

static void
forge_uri (Forge *forge, const char *uri, gsize length)
{
  g_assert_cmpint (gnutls_x509_crt_set_subject_alt_name (forge->crt, GNUTLS_SAN_URI, uri, length,
                                                         GNUTLS_FSAN_APPEND),
                   ==, 0);
}

static GBytes *
forge_sign (Forge *forge)
{
  g_assert_cmpint (gnutls_x509_crt_sign2 (forge->crt, forge->crt, forge->key, GNUTLS_DIG_SHA256, 0),
                   ==, 0);
  return export_der (forge->crt);
}

/* The reader refuses @der with a message holding @message. */
static void
expect_refused (GBytes *der, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyIdentity) identity = identity_of_bytes (der, &error);

  g_assert_null (identity);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in “%s”", message, error->message);
}

static void
expect_identity (GBytes *der, const char *host_id, DflyRoleFlags roles)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyIdentity) identity = identity_of_bytes (der, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (dfly_identity_get_host_id (identity), ==, host_id);
  g_assert_cmphex (dfly_identity_get_roles (identity), ==, roles);
}

static const char seed_uri[] = DFLY_CERT_ROLE_URI_PREFIX "seed";

/* A certificate granting the seed role to the common names @cn and @cn2
 * (either may be NULL); NULL if GnuTLS will not write such a name. */
static GBytes *
forge_seed (const char *cn, gsize length, const char *cn2, gboolean is_ca)
{
  g_auto (Forge) forge = { 0 };

  forge_init (&forge);
  if (cn != NULL &&
      gnutls_x509_crt_set_dn_by_oid (forge.crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, length) < 0)
    return NULL;
  if (cn2 != NULL)
    forge_cn (&forge, cn2, strlen (cn2));
  forge_uri (&forge, seed_uri, strlen (seed_uri));
  if (is_ca)
    g_assert_cmpint (gnutls_x509_crt_set_basic_constraints (forge.crt, 1, -1), ==, 0);
  return forge_sign (&forge);
}

static void
test_hostile_subject (void)
{
  g_autofree char *huge = g_strnfill (DFLY_CERT_HOST_ID_MAX + 1, 'h');
  g_autofree char *longest = g_strnfill (DFLY_CERT_HOST_ID_MAX, 'h');
  const struct {
    const char *cn;
    gsize       length;
    const char *cn2;
    gboolean    is_ca;
    const char *message; /* NULL: accepted */
  } cases[] = {
    /* GnuTLS gives a name with a NUL as "#" and its DER in hex. */
    { "host\0seed", 9, NULL, FALSE,
      "the certificate's common name: the host id has the byte 0x23 at 0" },
    { "host\nx", 6, NULL, FALSE, "the byte 0x0a at 4" },
    { "h\xc3\xa9", 3, NULL, FALSE, "the byte 0xc3 at 1" },
    { "a b", 3, NULL, FALSE, "the byte 0x20 at 1" },
    { "", 0, NULL, FALSE, "" }, /* GnuTLS may refuse to write it, or dfly to read it */
    { NULL, 0, NULL, FALSE, "has no common name" },
    { huge, strlen (huge), NULL, FALSE, "longer than 255 bytes" },
    { longest, strlen (longest), NULL, FALSE, NULL },
    /* Two common names: which would be the host id? Neither. */
    { "host-a", 6, "host-b", FALSE, "more than one common name" },
    /* A CA's certificate is nobody's host certificate, whatever it names. */
    { "host", 4, NULL, TRUE, "a CA's, not a host's" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GBytes) der =
      forge_seed (cases[i].cn, cases[i].length, cases[i].cn2, cases[i].is_ca);

    if (der == NULL)
      g_test_message ("GnuTLS does not write the name of case %u", i);
    else if (cases[i].message == NULL)
      expect_identity (der, cases[i].cn, DFLY_ROLE_FLAG_SEED);
    else
      expect_refused (der, cases[i].message);
  }
}

/* One GeneralName of @tag (0x86 a URI, 0x82 a DNS name), short form. */
static void
append_alt_name (GByteArray *names, guint8 tag, const char *value, gsize length)
{
  guint8 header[2] = { tag, length };

  g_assert_cmpuint (length, <, 128);
  g_byte_array_append (names, header, sizeof header);
  g_byte_array_append (names, (const guint8 *) value, length);
}

static void
test_hostile_names (void)
{
  static const struct {
    const char *uri;
    gsize       length;
  } not_roles[] = {
    { "urn:dfly:role:seed\0", 19 },
    { "urn:dfly:role:seedx", 19 },
    { "urn:dfly:role:SEED", 18 },
    { "URN:DFLY:ROLE:seed", 18 },
    { "urn:dfly:role:", 14 },
    { "urn:dfly:role:seed/peer", 23 },
    { "https://example.com/urn:dfly:role:seed", 38 },
    { "urn:dfly:role:admin", 19 },
  };

  {
    g_auto (Forge) forge = { 0 };
    g_autoptr (GBytes) der = NULL;

    forge_init (&forge);
    forge_cn (&forge, "host", 4);
    der = forge_sign (&forge);
    expect_refused (der, "grants no dfly role");
  }
  {
    /* Written by hand: GnuTLS would not write a NUL in a URI. */
    g_auto (Forge) forge = { 0 };
    g_autoptr (GBytes) der = NULL;
    g_autoptr (GByteArray) names = g_byte_array_new ();
    guint8 header[4] = { 0x30, 0x82 };

    forge_init (&forge);
    forge_cn (&forge, "host", 4);
    for (guint i = 0; i < G_N_ELEMENTS (not_roles); i++)
      append_alt_name (names, 0x86, not_roles[i].uri, not_roles[i].length);
    append_alt_name (names, 0x82, seed_uri, strlen (seed_uri)); /* a DNS name, not a URI */
    header[2] = names->len >> 8;
    header[3] = names->len & 0xff;
    g_byte_array_prepend (names, header, sizeof header);
    g_assert_cmpint (
      gnutls_x509_crt_set_extension_by_oid (forge.crt, "2.5.29.17", names->data, names->len, 0), ==,
      0);
    der = forge_sign (&forge);
    expect_refused (der, "grants no dfly role");
  }
  {
    /* Many names: read in linear time; the unknown ones are ignored. */
    g_auto (Forge) forge = { 0 };
    g_autoptr (GBytes) der = NULL;
    gint64 start;

    gnutls_subject_alt_names_t sans = NULL;
    gnutls_datum_t             extension = { NULL, 0 };

    /* Encoded once: appending to the certificate re-encodes every name. */
    g_assert_cmpint (gnutls_subject_alt_names_init (&sans), ==, 0);
    for (guint i = 0; i < 1002; i++) {
      g_autofree char *uri =
        i < 1000 ? g_strdup_printf ("urn:x:%u", i) : g_strdup (seed_uri); /* the seed twice */
      gnutls_datum_t name = { (unsigned char *) uri, strlen (uri) };

      g_assert_cmpint (gnutls_subject_alt_names_set (sans, GNUTLS_SAN_URI, &name, NULL), ==, 0);
    }
    g_assert_cmpint (gnutls_x509_ext_export_subject_alt_names (sans, &extension), ==, 0);
    gnutls_subject_alt_names_deinit (sans);
    forge_init (&forge);
    forge_cn (&forge, "host", 4);
    g_assert_cmpint (gnutls_x509_crt_set_extension_by_oid (forge.crt, "2.5.29.17", extension.data,
                                                           extension.size, 0),
                     ==, 0);
    gnutls_free (extension.data);
    der = forge_sign (&forge);
    g_test_message ("a certificate with 1002 names: %" G_GSIZE_FORMAT " bytes",
                    g_bytes_get_size (der));
    start = g_get_monotonic_time ();
    expect_identity (der, "host", DFLY_ROLE_FLAG_SEED);
    g_test_message ("read in %" G_GINT64_FORMAT " µs", g_get_monotonic_time () - start);
  }
}

/* Whatever bytes arrive, the reader answers an error or an identity whose
 * host id is valid; it never crashes or reads past the end. */
static void
check_reader_survives (const guint8 *data, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyIdentity) identity = dfly_cert_identity_from_der (data, length, &error);

  if (identity == NULL) {
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    return;
  }
  g_assert_no_error (error);
  g_assert_true (dfly_cert_check_host_id (dfly_identity_get_host_id (identity),
                                          strlen (dfly_identity_get_host_id (identity)), NULL));
  g_assert_cmphex (dfly_identity_get_roles (identity), !=, 0);
}

static void
test_hostile_bytes (void)
{
  g_auto (Pem) ca = { 0 };
  g_auto (Pem) host = { 0 };
  g_autoptr (GBytes) der = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  g_autofree guint8 *big = g_malloc0 (DFLY_CERT_DER_MAX + 1);
  const guint8      *data;
  gsize              length;
  GRand             *rand = g_rand_new_with_seed (13);

  make_ca (&ca, "cluster");
  issue (&host, &ca, "host", DFLY_ROLE_FLAG_PEER);
  der = der_of_pem (host.cert);
  data = g_bytes_get_data (der, &length);

  /* Every truncation is refused. */
  for (gsize cut = 0; cut < length; cut++) {
    g_autoptr (DflyIdentity) identity = dfly_cert_identity_from_der (data, cut, &error);

    g_assert_null (identity);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  /* Every byte changed, one at a time. */
  copy = g_memdup2 (data, length);
  for (gsize i = 0; i < length; i++) {
    guint8 saved = copy[i];

    copy[i] ^= 1 << g_rand_int_range (rand, 0, 8);
    check_reader_survives (copy, length);
    copy[i] = saved;
  }
  /* Noise. */
  for (guint round = 0; round < 200; round++) {
    gsize              noise_length = g_rand_int_range (rand, 1, 2048);
    g_autofree guint8 *noise = g_malloc (noise_length);

    for (gsize i = 0; i < noise_length; i++)
      noise[i] = g_rand_int (rand);
    if (round % 2 == 0) /* a plausible start: SEQUENCE, long length */
      memcpy (noise, "\x30\x82\x01\x00", MIN (noise_length, 4));
    check_reader_survives (noise, noise_length);
  }
  g_rand_free (rand);

  /* Too big to be parsed at all. */
  g_assert_null (dfly_cert_identity_from_der (big, DFLY_CERT_DER_MAX + 1, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "more than 16384"));
  g_clear_error (&error);
  g_assert_null (dfly_cert_identity_from_der (NULL, 0, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "the certificate is empty");
  g_clear_error (&error);

  /* PEM: garbage, a truncated body, a key instead of a certificate. */
  g_assert_null (dfly_cert_identity_from_pem ("garbage", 7, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (dfly_cert_identity_from_pem (host.cert, strlen (host.cert) / 2, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (dfly_cert_identity_from_pem (host.key, strlen (host.key), &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (dfly_cert_info_from_pem ("", 0, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
}

/* Keys are written 0600 and certificates 0644; an existing file stays
 * unless overwriting was asked for, and then the new file has the mode. */
static void
test_write_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("dfly-test-cert-XXXXXX", &error);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *contents = NULL;
  struct stat      st;
  mode_t           old_umask = umask (022);

  g_assert_no_error (error);
  g_assert_true (dfly_cert_write_pem (key, "KEY\n", TRUE, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (dfly_cert_write_pem (cert, "CERT\n", FALSE, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (cert, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  g_assert_false (dfly_cert_write_pem (key, "OTHER\n", TRUE, FALSE, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "exists"));
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (key, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "KEY\n");
  g_clear_pointer (&contents, g_free);

  /* A key file someone left readable is replaced by a private one. */
  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  g_assert_true (dfly_cert_write_pem (key, "NEW\n", TRUE, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (key, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "NEW\n");

  umask (old_umask);
  g_assert_cmpint (g_unlink (key), ==, 0);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cert/round-trip", test_round_trip);
  g_test_add_func ("/cert/gnutls-verifies", test_gnutls_verifies);
  g_test_add_func ("/cert/glib-verifies", test_glib_verifies);
  g_test_add_func ("/cert/issue-refuses", test_issue_refuses);
  g_test_add_func ("/cert/leaf/verifies", test_leaf_verifies);
  g_test_add_func ("/cert/leaf/fields", test_leaf_fields);
  g_test_add_func ("/cert/leaf/refuses", test_leaf_refuses);
  g_test_add_func ("/cert/hostile/subject", test_hostile_subject);
  g_test_add_func ("/cert/hostile/names", test_hostile_names);
  g_test_add_func ("/cert/hostile/bytes", test_hostile_bytes);
  g_test_add_func ("/cert/write-files", test_write_files);
  return g_test_run ();
}
