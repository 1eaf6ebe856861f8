/* dfly-s3-signer.c — AWS Signature Version 4 with GHmac and GChecksum
 *
 * The steps of the AWS spec ("Create a signed AWS API request"):
 *   canonical request = method \n canonical URI \n canonical query \n
 *                       canonical headers \n signed headers \n payload hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n scope \n
 *                       hex(SHA-256(canonical request))
 *   signing key       = HMAC chain "AWS4"+secret → date → region → service
 *                       → "aws4_request"
 *   signature         = hex(HMAC(signing key, string to sign))
 * S3 signs the path as it stands: encoded once, never normalized (no
 * removal of "." / ".." / "//"), which is what this does for every service.
 */
#include "config.h"

#include <string.h>

#include "dfly-s3-signer.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

void
dfly_s3_signature_free (DflyS3Signature *signature)
{
  if (signature == NULL)
    return;
  g_free (signature->authorization);
  g_free (signature->amz_date);
  g_free (signature->canonical_request);
  g_free (signature->string_to_sign);
  g_free (signature);
}

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
dfly_s3_uri_encode (const char *text, gboolean encode_slash)
{
  GString *out = g_string_sized_new (strlen (text) + 8);

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++) {
    if (is_unreserved (*p) || (*p == '/' && !encode_slash))
      g_string_append_c (out, (char) *p);
    else
      g_string_append_printf (out, "%%%02X", *p);
  }
  return g_string_free (out, FALSE);
}

typedef struct {
  char *name; /* encoded, or lower-cased for headers */
  char *value;
  guint order; /* position given, so equal names keep their order */
} Pair;

static void
pairs_clear (GArray *pairs)
{
  for (guint i = 0; i < pairs->len; i++) {
    Pair *pair = &g_array_index (pairs, Pair, i);

    g_free (pair->name);
    g_free (pair->value);
  }
}

static gint
compare_query_pairs (gconstpointer a, gconstpointer b)
{
  const Pair *x = a, *y = b;
  int         by_name = strcmp (x->name, y->name);

  return by_name != 0 ? by_name : strcmp (x->value, y->value);
}

char *
dfly_s3_canonical_query (const char *const *query)
{
  g_autoptr (GArray) pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  GString *out = g_string_new (NULL);

  for (guint i = 0; query != NULL && query[i] != NULL && query[i + 1] != NULL; i += 2) {
    Pair pair = { dfly_s3_uri_encode (query[i], TRUE), dfly_s3_uri_encode (query[i + 1], TRUE),
                  i / 2 };

    g_array_append_val (pairs, pair);
  }
  g_array_sort (pairs, compare_query_pairs);
  for (guint i = 0; i < pairs->len; i++) {
    const Pair *pair = &g_array_index (pairs, Pair, i);

    g_string_append_printf (out, "%s%s=%s", i > 0 ? "&" : "", pair->name, pair->value);
  }
  pairs_clear (pairs);
  return g_string_free (out, FALSE);
}

/* Leading and trailing blanks dropped, inner runs of spaces made one. */
static char *
trim_header_value (const char *value)
{
  GString *out = g_string_new (NULL);
  gboolean in_blank = FALSE;

  while (*value == ' ' || *value == '\t')
    value++;
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == ' ' || *p == '\t') {
      in_blank = TRUE;
      continue;
    }
    if (in_blank)
      g_string_append_c (out, ' ');
    in_blank = FALSE;
    g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

static gint
compare_header_pairs (gconstpointer a, gconstpointer b)
{
  const Pair *x = a, *y = b;
  int         by_name = strcmp (x->name, y->name);

  if (by_name != 0)
    return by_name;
  return x->order < y->order ? -1 : x->order > y->order;
}

static void
add_header (GArray *headers, const char *name, const char *value)
{
  Pair pair = { g_ascii_strdown (name, -1), trim_header_value (value), headers->len };

  g_array_append_val (headers, pair);
}

static char *
sha256_hex (const char *data, gsize length)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, length);
}

/* HMAC-SHA256(key, data) into out (32 bytes). */
static void
hmac_sha256 (const guint8 *key, gsize key_length, const char *data, guint8 out[32])
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_length);
  gsize length = 32;

  g_hmac_update (hmac, (const guchar *) data, (gssize) strlen (data));
  g_hmac_get_digest (hmac, out, &length);
}

DflyS3Signature *
dfly_s3_sign (const DflyS3SignInput *input, const DflyS3Credentials *credentials)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (input->time);
  g_autoptr (GArray) headers = g_array_new (FALSE, FALSE, sizeof (Pair));
  g_autoptr (GString) canonical_headers = g_string_new (NULL);
  g_autoptr (GString) signed_headers = g_string_new (NULL);
  g_autofree char *date = g_date_time_format (time, "%Y%m%d");
  g_autofree char *uri = dfly_s3_uri_encode (input->path, FALSE);
  g_autofree char *query = dfly_s3_canonical_query (input->query);
  g_autofree char *scope = NULL;
  g_autofree char *request_hash = NULL;
  g_autofree char *secret_key = NULL;
  g_autofree char *signature_hex = NULL;
  DflyS3Signature *signature = g_new0 (DflyS3Signature, 1);
  gboolean has_token = credentials->session_token != NULL && credentials->session_token[0] != '\0';
  guint8   key[32];
  guint8   mac[32];

  signature->amz_date = g_date_time_format (time, "%Y%m%dT%H%M%SZ");
  for (guint i = 0;
       input->headers != NULL && input->headers[i] != NULL && input->headers[i + 1] != NULL;
       i += 2) {
    /* Ours win: a caller's x-amz-date would be signed twice. */
    if (g_ascii_strcasecmp (input->headers[i], "x-amz-date") == 0 ||
        (has_token && g_ascii_strcasecmp (input->headers[i], "x-amz-security-token") == 0))
      continue;
    add_header (headers, input->headers[i], input->headers[i + 1]);
  }
  add_header (headers, "x-amz-date", signature->amz_date);
  if (has_token)
    add_header (headers, "x-amz-security-token", credentials->session_token);
  g_array_sort (headers, compare_header_pairs);

  /* One line per name; the values of a repeated name joined by commas. */
  for (guint i = 0; i < headers->len; i++) {
    const Pair *pair = &g_array_index (headers, Pair, i);
    gboolean    same_as_previous =
      i > 0 && strcmp (g_array_index (headers, Pair, i - 1).name, pair->name) == 0;

    if (same_as_previous) {
      g_string_append_printf (canonical_headers, ",%s", pair->value);
      continue;
    }
    if (i > 0)
      g_string_append_c (canonical_headers, '\n');
    g_string_append_printf (canonical_headers, "%s:%s", pair->name, pair->value);
    g_string_append_printf (signed_headers, "%s%s", signed_headers->len > 0 ? ";" : "", pair->name);
  }
  pairs_clear (headers);

  signature->canonical_request =
    g_strdup_printf ("%s\n%s\n%s\n%s\n\n%s\n%s", input->method, uri, query, canonical_headers->str,
                     signed_headers->str, input->payload_hash);
  scope = g_strdup_printf ("%s/%s/%s/aws4_request", date, input->region, input->service);
  request_hash = sha256_hex (signature->canonical_request, strlen (signature->canonical_request));
  signature->string_to_sign =
    g_strdup_printf ("%s\n%s\n%s\n%s", ALGORITHM, signature->amz_date, scope, request_hash);

  secret_key = g_strconcat ("AWS4", credentials->secret_access_key, NULL);
  hmac_sha256 ((const guint8 *) secret_key, strlen (secret_key), date, key);
  hmac_sha256 (key, sizeof key, input->region, key);
  hmac_sha256 (key, sizeof key, input->service, key);
  hmac_sha256 (key, sizeof key, "aws4_request", key);
  hmac_sha256 (key, sizeof key, signature->string_to_sign, mac);
  signature_hex = g_malloc (sizeof mac * 2 + 1);
  for (gsize i = 0; i < sizeof mac; i++)
    g_snprintf (signature_hex + i * 2, 3, "%02x", mac[i]);
  memset (key, 0, sizeof key);
  memset (secret_key, 0, strlen (secret_key));

  signature->authorization =
    g_strdup_printf ("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", ALGORITHM,
                     credentials->access_key_id, scope, signed_headers->str, signature_hex);
  return signature;
}
