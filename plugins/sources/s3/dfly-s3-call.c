/* dfly-s3-call.c — one S3 call: URL, endpoint, credentials, SigV4 on every message */
#include "config.h"

#include <string.h>

#include "dfly-s3-call.h"
#include "dfly-s3-settings.h"
#include "dfly-s3-signer.h"
#include "dfly-s3-xml.h"

/* An error body longer than this is cut (its code comes first anyway). */
#define MAX_ERROR_BODY (64 * 1024)
/* SHA-256 of nothing: every request here has an empty body. */
#define EMPTY_SHA256             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CREDENTIAL_HEADER_PREFIX "X-Dfly-S3-"

/* Caller headers the s3 source sets itself, beyond the client's. */
static const char *const reserved_headers[] = {
  "Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token", NULL,
};

void
dfly_s3_call_clear (DflyS3Call *call)
{
  g_clear_pointer (&call->settings, dfly_settings_unref);
  g_clear_pointer (&call->url, g_free);
  g_clear_pointer (&call->bucket, g_free);
  g_clear_pointer (&call->key, g_free);
  g_clear_pointer (&call->url_query, g_ptr_array_unref);
  g_clear_pointer (&call->scheme, g_free);
  g_clear_pointer (&call->host, g_free);
  g_clear_pointer (&call->region, g_free);
  g_clear_pointer (&call->access_key_id, g_free);
  g_clear_pointer (&call->secret_access_key, g_free);
  g_clear_pointer (&call->session_token, g_free);
}

static gboolean
is_credential_header (const char *name)
{
  return g_ascii_strncasecmp (name, CREDENTIAL_HEADER_PREFIX, strlen (CREDENTIAL_HEADER_PREFIX)) ==
         0;
}

static const char *
lookup_header (GHashTable *headers, const char *wanted)
{
  GHashTableIter iter;
  gpointer       name, value;

  if (headers == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, headers);
  while (g_hash_table_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, wanted) == 0)
      return value;
  return NULL;
}

/* A bucket name as S3 allows (and a little more: upper case and '_' of
 * old us-east-1 buckets, which then take path style). */
static gboolean
is_bucket_name (const char *name)
{
  gsize length = strlen (name);

  return length >= 1 && length <= 255 &&
         strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
           length;
}

/* Usable as a DNS label under the endpoint's host (and, over https, under
 * its wildcard certificate: no dots). */
static gboolean
is_virtual_host_bucket (const char *name, gboolean https)
{
  gsize length = strlen (name);

  return length >= 3 && length <= 63 &&
         strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-.") == length && name[0] != '-' &&
         name[length - 1] != '-' && !(https && strchr (name, '.') != NULL);
}

static const char *
first_set (const char *a, const char *b)
{
  return a != NULL && a[0] != '\0' ? a : b;
}

static gboolean
dfly_s3_call_parse_url (DflyS3Call *call, const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *query;
  const char *path;

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &local_error);
  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad URL: %s",
                 local_error->message);
    return FALSE;
  }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "s3") != 0 || g_uri_get_host (uri) == NULL ||
      !is_bucket_name (g_uri_get_host (uri)) || g_uri_get_port (uri) != -1 ||
      g_uri_get_userinfo (uri) != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "not an s3://BUCKET/KEY URL with a valid bucket name: %s", url);
    return FALSE;
  }
  call->url = g_strdup (url);
  call->bucket = g_strdup (g_uri_get_host (uri));
  path = g_uri_get_path (uri);
  call->key = g_uri_unescape_string (path[0] == '/' ? path + 1 : path, NULL);
  if (call->key == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "the key is not validly percent-encoded: %s", url);
    return FALSE;
  }
  call->url_query = g_ptr_array_new_with_free_func (g_free);
  query = g_uri_get_query (uri);
  if (query != NULL) {
    g_auto (GStrv) params = g_strsplit (query, "&", -1);

    for (guint i = 0; params[i] != NULL; i++) {
      char *equals = strchr (params[i], '=');
      char *name, *value;

      if (params[i][0] == '\0')
        continue;
      if (equals != NULL)
        *equals = '\0';
      name = g_uri_unescape_string (params[i], NULL);
      value = g_uri_unescape_string (equals != NULL ? equals + 1 : "", NULL);
      if (name == NULL || value == NULL) {
        g_free (name);
        g_free (value);
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "bad query parameter in %s",
                     url);
        return FALSE;
      }
      /* A presigned URL's signature: we sign ourselves. */
      if (g_ascii_strncasecmp (name, "X-Amz-", 6) == 0) {
        g_free (name);
        g_free (value);
        continue;
      }
      g_ptr_array_add (call->url_query, name);
      g_ptr_array_add (call->url_query, value);
    }
  }
  g_ptr_array_add (call->url_query, NULL);
  return TRUE;
}

/* Credentials and region: the request's headers, the settings, the
 * environment, in that order. */
static gboolean
dfly_s3_call_resolve_credentials (DflyS3Call *call, GError **error)
{
  const DflyS3Settings *settings = dfly_settings_get_values (call->settings);
  const char *id = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Access-Key-Id");
  const char *secret = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Secret-Access-Key");
  const char *token = lookup_header (call->headers, CREDENTIAL_HEADER_PREFIX "Session-Token");

  if ((id == NULL) != (secret == NULL)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "headers " CREDENTIAL_HEADER_PREFIX "Access-Key-Id and " CREDENTIAL_HEADER_PREFIX
                 "Secret-Access-Key go together: %s",
                 call->url);
    return FALSE;
  }
  if (id == NULL && settings->access_key_id[0] != '\0') {
    id = settings->access_key_id;
    secret = settings->secret_access_key;
    token = NULL;
  } else if (id == NULL && g_getenv ("AWS_ACCESS_KEY_ID") != NULL &&
             g_getenv ("AWS_SECRET_ACCESS_KEY") != NULL) {
    id = g_getenv ("AWS_ACCESS_KEY_ID");
    secret = g_getenv ("AWS_SECRET_ACCESS_KEY");
    token = g_getenv ("AWS_SESSION_TOKEN");
  }
  call->access_key_id = g_strdup (id);
  call->secret_access_key = g_strdup (secret);
  call->session_token = g_strdup (token != NULL && token[0] != '\0' ? token : NULL);
  call->region = g_strdup (first_set (
    settings->region,
    first_set (g_getenv ("AWS_REGION"), first_set (g_getenv ("AWS_DEFAULT_REGION"), "us-east-1"))));
  return TRUE;
}

static gboolean
is_ip_or_localhost (const char *host)
{
  return g_hostname_is_ip_address (host) || g_ascii_strcasecmp (host, "localhost") == 0;
}

static gboolean
dfly_s3_call_resolve_endpoint (DflyS3Call *call, GError **error)
{
  const DflyS3Settings *settings = dfly_settings_get_values (call->settings);
  const char           *endpoint = first_set (settings->endpoint, g_getenv ("AWS_ENDPOINT_URL"));
  g_autofree char      *aws = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *host;
  gboolean    https;

  if (endpoint == NULL || endpoint[0] == '\0')
    endpoint = aws = g_strdup_printf ("https://s3.%s.amazonaws.com", call->region);
  uri = g_uri_parse (endpoint, SOUP_HTTP_URI_FLAGS, &local_error);
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0 &&
       g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "the S3 endpoint \"%s\" is not an http or https URL", endpoint);
    return FALSE;
  }
  host = g_uri_get_host (uri);
  https = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0;
  call->scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  call->port = g_uri_get_port (uri);
  call->path_style = settings->path_style != 0 || is_ip_or_localhost (host) ||
                     !is_virtual_host_bucket (call->bucket, https);
  call->host = call->path_style ? g_strdup (host) : g_strdup_printf ("%s.%s", call->bucket, host);
  return TRUE;
}

gboolean
dfly_s3_call_init (DflyS3Call *call, DflySource *source, const char *url, GHashTable *headers,
                   GError **error)
{
  DflyComponent *component = DFLY_COMPONENT (source);

  if (!dfly_s3_call_parse_url (call, url, error) ||
      !dfly_http_check_headers (headers, reserved_headers, "the s3 source", error))
    return FALSE;
  call->headers = headers;
  /* A reference: a reload may swap the settings while the call runs. */
  call->settings = dfly_component_dup_settings (component);
  if (call->settings == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_FAILED,
                         "the s3 source's settings are not bound to the config");
    return FALSE;
  }
  call->client = dfly_context_get_http_client (dfly_component_get_context (component));
  return dfly_s3_call_resolve_credentials (call, error) &&
         dfly_s3_call_resolve_endpoint (call, error);
}

/* The Host header libsoup sends for the URI: the port only when it is not
 * the scheme's. */
static char *
host_header (const DflyS3Call *call)
{
  gboolean default_port = call->port == -1 ||
                          (strcmp (call->scheme, "http") == 0 && call->port == 80) ||
                          (strcmp (call->scheme, "https") == 0 && call->port == 443);
  g_autofree char *host =
    strchr (call->host, ':') != NULL ? g_strdup_printf ("[%s]", call->host) : g_strdup (call->host);

  return default_port ? g_steal_pointer (&host) : g_strdup_printf ("%s:%d", host, call->port);
}

gboolean
dfly_s3_call_check_object (DflyS3Call *call, GError **error)
{
  if (call->key[0] == '\0' || g_str_has_suffix (call->key, "/")) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "names no object (a bucket or a prefix; dflyctl get --recursive fetches "
                 "those): %s",
                 call->url);
    return FALSE;
  }
  return TRUE;
}

const char *const *
dfly_s3_call_object_query (DflyS3Call *call)
{
  return (const char *const *) call->url_query->pdata;
}

GError *
dfly_s3_call_error_new (DflyS3Call *call, DflyHttpBody *body)
{
  guint status = dfly_http_body_get_status (body);
  g_autoptr (GBytes) bytes = dfly_http_body_read_all (body, MAX_ERROR_BODY, NULL, NULL);
  g_autofree char *code = NULL;
  g_autofree char *shown = NULL;

  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (bytes != NULL)
    code = dfly_s3_parse_error_code (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (code == NULL)
    return g_error_new (DFLY_ERROR, dfly_s3_error_code_to_dfly (NULL, status), "S3 HTTP %u %s: %s",
                        status, soup_status_get_phrase (status), call->url);
  shown = g_strescape (code, NULL);
  return g_error_new (DFLY_ERROR, dfly_s3_error_code_to_dfly (code, status), "S3 %s (HTTP %u): %s",
                      shown, status, call->url);
}

/* The path signed (decoded) for key (NULL: the bucket). */
static char *
request_path (const DflyS3Call *call, const char *key)
{
  if (call->path_style)
    return key != NULL ? g_strdup_printf ("/%s/%s", call->bucket, key)
                       : g_strdup_printf ("/%s", call->bucket);
  return g_strdup_printf ("/%s", key != NULL ? key : "");
}

typedef struct {
  DflyS3Call        *call;
  const char        *method;
  const char        *path;
  const char *const *query;
  const char        *host; /* the Host header libsoup sends */
  const char        *range;
} Signing;

/* Sets the caller's headers and signs every header sent, per attempt: the
 * signature holds the time. */
static gboolean
sign_message (SoupMessage *msg, gboolean cross_origin, gpointer data, GError **error)
{
  const Signing      *signing = data;
  DflyS3Call         *call = signing->call;
  SoupMessageHeaders *request_headers = soup_message_get_request_headers (msg);
  g_autoptr (GPtrArray) signed_headers = g_ptr_array_new ();

  g_ptr_array_add (signed_headers, (gpointer) "host");
  g_ptr_array_add (signed_headers, (gpointer) signing->host);
  g_ptr_array_add (signed_headers, (gpointer) "x-amz-content-sha256");
  g_ptr_array_add (signed_headers, (gpointer) EMPTY_SHA256);
  soup_message_headers_replace (request_headers, "x-amz-content-sha256", EMPTY_SHA256);
  if (signing->range != NULL) {
    g_ptr_array_add (signed_headers, (gpointer) "range");
    g_ptr_array_add (signed_headers, (gpointer) signing->range);
  }
  if (call->headers != NULL) {
    GHashTableIter iter;
    gpointer       name, value;

    g_hash_table_iter_init (&iter, call->headers);
    while (g_hash_table_iter_next (&iter, &name, &value)) {
      if (is_credential_header (name))
        continue;
      g_ptr_array_add (signed_headers, name);
      g_ptr_array_add (signed_headers, value);
      soup_message_headers_replace (request_headers, name, value);
    }
  }
  g_ptr_array_add (signed_headers, NULL);

  if (call->access_key_id != NULL) {
    DflyS3Credentials credentials = { call->access_key_id, call->secret_access_key,
                                      call->session_token };
    DflyS3SignInput   input = { signing->method, signing->path,
                                signing->query,  (const char *const *) signed_headers->pdata,
                                EMPTY_SHA256,    g_get_real_time () / G_USEC_PER_SEC,
                                call->region,    "s3" };
    g_autoptr (DflyS3Signature) signature = dfly_s3_sign (&input, &credentials);

    soup_message_headers_replace (request_headers, "Authorization", signature->authorization);
    soup_message_headers_replace (request_headers, "x-amz-date", signature->amz_date);
    if (call->session_token != NULL)
      soup_message_headers_replace (request_headers, "x-amz-security-token", call->session_token);
  }
  return TRUE;
}

DflyHttpBody *
dfly_s3_call_send (DflyS3Call *call, const char *method, const char *key, const char *const *query,
                   const char *range, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = request_path (call, key);
  g_autofree char *encoded_path = dfly_s3_uri_encode (path, FALSE);
  g_autofree char *query_string = dfly_s3_canonical_query (query);
  g_autofree char *host = host_header (call);
  g_autofree char *target = g_strdup_printf ("%s://%s%s%s%s", call->scheme, host, encoded_path,
                                             query_string[0] != '\0' ? "?" : "", query_string);
  g_autoptr (GUri) uri = g_uri_parse (target, SOUP_HTTP_URI_FLAGS, NULL);
  Signing         signing = { call, method, path, query, host, range };
  DflyHttpRequest request = { .method = method,
                              .uri = uri,
                              .url = call->url,
                              .range = range,
                              .flags = DFLY_HTTP_REQUEST_NO_REDIRECT,
                              .prepare = sign_message,
                              .prepare_data = &signing };

  if (uri == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "cannot make a request for %s",
                 call->url);
    return NULL;
  }
  return dfly_http_client_send (call->client, &request, cancellable, error);
}
