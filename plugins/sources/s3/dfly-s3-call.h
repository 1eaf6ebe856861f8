/* dfly-s3-call.h — one S3 call: the s3:// URL taken apart, where it goes, how it is signed
 *
 * A URL names a bucket (its host) and a key (its path, percent-decoded):
 * s3://bucket/dir/a%20b is the key "dir/a b". Query parameters named
 * X-Amz-* (a presigned URL's) are dropped, since every request is signed
 * here; others (versionId) are passed on and signed.
 *
 * Where requests go: s3.endpoint (the source's settings,
 * dfly-s3-settings.h), else AWS_ENDPOINT_URL, else
 * https://s3.REGION.amazonaws.com. Buckets are virtual hosts
 * (bucket.endpoint) unless s3.path_style is 1, the endpoint is an IP
 * address or localhost, or the bucket is no DNS name: then endpoint/bucket.
 *
 * Credentials, first found wins: the request's X-Dfly-S3-Access-Key-Id,
 * X-Dfly-S3-Secret-Access-Key (and X-Dfly-S3-Session-Token) headers, which
 * are never sent on; s3.access_key_id and s3.secret_access_key; the
 * environment's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
 * Without any, requests go unsigned (public buckets).
 */
#pragma once

#include <dfly/dfly.h>
#include <dfly/dfly-http-client.h>

G_BEGIN_DECLS

typedef struct {
  DflyHttpClient *client;   /* borrowed from the context */
  DflySettings   *settings; /* the source's, as when the call began */
  char           *url;      /* as asked for, for messages */
  char           *bucket;
  char           *key;       /* decoded; "" for the bucket itself */
  GPtrArray      *url_query; /* decoded name, value pairs passed on (not X-Amz-*), NULL */
  GHashTable     *headers;   /* the caller's, borrowed */
  char           *scheme;    /* of the endpoint */
  char           *host;      /* as sent in Host: the bucket's virtual host or the endpoint's */
  int             port;
  gboolean        path_style;
  char           *region;
  char           *access_key_id;
  char           *secret_access_key;
  char           *session_token;
} DflyS3Call;

void dfly_s3_call_clear (DflyS3Call *call);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DflyS3Call, dfly_s3_call_clear)

/* Takes url apart and resolves endpoint and credentials from the caller's
 * headers (borrowed for the call's life), source's settings and the
 * environment. Safe in a worker thread. */
gboolean dfly_s3_call_init (DflyS3Call *call, DflySource *source, const char *url,
                            GHashTable *headers, GError **error);
/* FALSE (DFLY_ERROR_INVALID_ARGUMENT) when the URL names a bucket or a prefix. */
gboolean dfly_s3_call_check_object (DflyS3Call *call, GError **error);
/* The URL's own query parameters, NULL-terminated name, value pairs. */
const char *const *dfly_s3_call_object_query (DflyS3Call *call);

/* Sends method for key (NULL: the bucket) with query (NULL-terminated
 * name, value pairs) and a Range unless NULL, signed anew per attempt. S3
 * does not redirect a correct request: a 3xx is the answer. */
DflyHttpBody *dfly_s3_call_send (DflyS3Call *call, const char *method, const char *key,
                                 const char *const *query, const char *range,
                                 GCancellable *cancellable, GError **error);

/* "S3 NoSuchKey (HTTP 404): s3://b/k" from an error answer (its body, if
 * any, read for S3's code and closed), with the DFLY_ERROR code it maps to. */
GError *dfly_s3_call_error_new (DflyS3Call *call, DflyHttpBody *body);

G_END_DECLS
