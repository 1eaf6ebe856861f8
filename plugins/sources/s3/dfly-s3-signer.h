/* dfly-s3-signer.h — AWS Signature Version 4, as a pure function
 *
 * No I/O, no clock, no environment: everything that goes into a signature
 * is an argument, so fixed inputs give fixed outputs (and the tests compare
 * them with the AWS test suite and with botocore). Only GLib: GHmac and
 * GChecksum with SHA-256.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token; /* NULL or "": none */
} DflyS3Credentials;

typedef struct {
  const char        *method;
  const char        *path;         /* decoded ("/bucket/a b"); encoded here, '/' kept */
  const char *const *query;        /* decoded name, value, …, NULL; NULL: none */
  const char *const *headers;      /* name, value, …, NULL: all headers to sign, Host too */
  const char        *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
  gint64             time;         /* seconds since the epoch */
  const char        *region;
  const char        *service; /* "s3" */
} DflyS3SignInput;

typedef struct {
  char *authorization;     /* the Authorization header's value */
  char *amz_date;          /* the X-Amz-Date header's value, 20150830T123600Z */
  char *canonical_request; /* for tests and debugging */
  char *string_to_sign;
} DflyS3Signature;

void dfly_s3_signature_free (DflyS3Signature *signature);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyS3Signature, dfly_s3_signature_free)

/* Signs input; x-amz-date (and x-amz-security-token with a session token)
 * are added to the signed headers here: the caller sends them too. */
DflyS3Signature *dfly_s3_sign (const DflyS3SignInput *input, const DflyS3Credentials *credentials);

/* RFC 3986 percent-encoding as SigV4 wants it: every byte but A-Z a-z
 * 0-9 - . _ ~ (and '/' unless encode_slash) as %XX, upper-case hex. */
char *dfly_s3_uri_encode (const char *text, gboolean encode_slash);
/* The canonical query string of decoded name, value pairs (NULL-terminated,
 * may be NULL): encoded, sorted by name then value, joined with '&'. It is
 * also a valid query to send. */
char *dfly_s3_canonical_query (const char *const *query);

G_END_DECLS
