/* fuzz-cert.c — libFuzzer target: the identity a peer's certificate names
 *
 * The input is a certificate as a handshake delivers it (DER) and, read
 * again as text, as a PEM file "dflyctl cert show" or the config loads. The
 * reader must answer an identity or an error, never both; an identity has a
 * valid host id and at least one role; everything it prints is printable.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dfly/dfly-cert.h"
#include "dfly/dfly-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_error (const GError *error)
{
  g_assert (error != NULL);
  g_assert (error->domain == DFLY_ERROR && error->code == DFLY_ERROR_INVALID_ARGUMENT);
  g_assert (g_utf8_validate (error->message, -1, NULL));
  g_assert (strlen (error->message) < 1024);
}

static void
check_identity (DflyIdentity *identity, const GError *error)
{
  const char *host_id;

  if (identity == NULL) {
    check_error (error);
    return;
  }
  g_assert (error == NULL);
  host_id = dfly_identity_get_host_id (identity);
  g_assert (dfly_cert_check_host_id (host_id, strlen (host_id), NULL));
  g_assert (dfly_identity_get_roles (identity) != 0);
  g_assert ((dfly_identity_get_roles (identity) & ~DFLY_ROLE_FLAGS_ALL) == 0);
}

static void
check_printable (const char *text)
{
  g_assert (g_utf8_validate (text, -1, NULL));
  for (const char *c = text; *c != '\0'; c++)
    g_assert ((guchar) *c >= 0x20 && *c != 0x7f);
}

static void
check_info (DflyCertInfo *info, const GError *error)
{
  if (info == NULL) {
    check_error (error);
    return;
  }
  g_assert (error == NULL);
  check_printable (info->subject);
  check_printable (info->issuer);
  check_printable (info->serial);
  if (info->host_id != NULL)
    g_assert (dfly_cert_check_host_id (info->host_id, strlen (info->host_id), NULL));
  for (guint i = 0; info->ips[i] != NULL; i++) {
    g_autoptr (GInetAddress) address = g_inet_address_new_from_string (info->ips[i]);

    g_assert (address != NULL);
  }
  for (guint i = 0; info->dns_names[i] != NULL; i++)
    check_printable (info->dns_names[i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) der_error = NULL;
  g_autoptr (GError) pem_error = NULL;
  g_autoptr (GError) info_error = NULL;
  g_autoptr (DflyIdentity) from_der = dfly_cert_identity_from_der (data, size, &der_error);
  g_autoptr (DflyIdentity) from_pem = dfly_cert_identity_from_pem (text, strlen (text), &pem_error);
  g_autoptr (DflyCertInfo) info = dfly_cert_info_from_pem (text, strlen (text), &info_error);

  check_identity (from_der, der_error);
  check_identity (from_pem, pem_error);
  check_info (info, info_error);
  /* What show prints agrees with what a handshake would be granted. */
  if (from_pem != NULL) {
    g_assert (info != NULL);
    g_assert (strcmp (info->host_id, dfly_identity_get_host_id (from_pem)) == 0);
    g_assert (info->roles == dfly_identity_get_roles (from_pem));
  }
  return 0;
}
