/* dfly-s3-source.c — the "s3" source: s3://bucket/key, signed with SigV4
 *
 * How a URL becomes a signed request is dfly-s3-call.c's; requests go
 * through the daemon's DflyHttpClient (its session, trust, timeouts,
 * retries and counting bodies). S3 does not redirect a correct request, so
 * a redirect is an error (PermanentRedirect: another region).
 *
 * Errors name S3's code from the XML error body: "S3 NoSuchKey (HTTP 404):
 * s3://b/k". A HEAD answer has no body, so a failed HEAD is asked again as
 * a GET of the first byte, whose error body says which.
 */
#include "config.h"

#include <string.h>

#include "dfly-s3-call.h"
#include "dfly-s3-settings.h"
#include "dfly-s3-signer.h"
#include "dfly-s3-xml.h"

/* A ListObjectsV2 page longer than this is refused: 1000 keys of 1 KiB
 * with their metadata stay well below. */
#define MAX_LIST_PAGE_BYTES (16 * 1024 * 1024)
/* Objects one list() returns at most; a larger prefix is refused. */
#define MAX_LIST_OBJECTS 100000

G_DECLARE_FINAL_TYPE (DflyS3Source, dfly_s3_source, DFLY, S3_SOURCE, DflySource)

struct _DflyS3Source {
  DflySource parent_instance;
};

G_DEFINE_FINAL_TYPE (DflyS3Source, dfly_s3_source, DFLY_TYPE_SOURCE)

static const char *const *
dfly_s3_source_get_schemes (DflySource *source)
{
  static const char *const schemes[] = { "s3", NULL };

  return schemes;
}

static gboolean
set_s3_error (GError **error, DflyS3Call *call, DflyHttpBody *body)
{
  g_propagate_error (error, dfly_s3_call_error_new (call, body));
  return FALSE;
}

/* ---- stat ---- */

static DflySourceStat *
stat_new (DflyHttpBody *body, gint64 content_length)
{
  SoupMessageHeaders *headers =
    soup_message_get_response_headers (dfly_http_body_get_message (body));
  DflySourceStat *stat = g_new0 (DflySourceStat, 1);

  stat->content_length = content_length;
  stat->accepts_ranges = TRUE;
  stat->etag = g_strdup (soup_message_headers_get_one (headers, "ETag"));
  stat->last_modified = g_strdup (soup_message_headers_get_one (headers, "Last-Modified"));
  return stat;
}

/* HEAD failed: a GET of the first byte says why in its body (or succeeds,
 * when only HEAD was refused). */
static DflySourceStat *
stat_by_get (DflyS3Call *call, GCancellable *cancellable, GError **error)
{
  g_autoptr (DflyHttpBody) body = NULL;
  gint64      first, last, total;
  const char *content_range;

  body = dfly_s3_call_send (call, "GET", call->key, dfly_s3_call_object_query (call), "bytes=0-0",
                            cancellable, error);
  if (body == NULL)
    return NULL;
  content_range = soup_message_headers_get_one (
    soup_message_get_response_headers (dfly_http_body_get_message (body)), "Content-Range");
  switch (dfly_http_body_get_status (body)) {
  case SOUP_STATUS_PARTIAL_CONTENT:
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    /* Only the total counts here: some servers (s3rver) send more than
     * the byte asked for, and the body is not read. */
    if (!dfly_http_parse_content_range (content_range, &first, &last, &total) || first != 0 ||
        total < 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "answered bytes=0-0 with Content-Range \"%s\": %s",
                   content_range != NULL ? content_range : "", call->url);
      return NULL;
    }
    return stat_new (body, total);
  case SOUP_STATUS_OK:
    g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
    return stat_new (body, dfly_http_body_get_content_length (body));
  default:
    set_s3_error (error, call, body);
    return NULL;
  }
}

static DflySourceStat *
dfly_s3_source_stat (DflySource *source, const char *url, GHashTable *headers,
                     GCancellable *cancellable, GError **error)
{
  g_auto (DflyS3Call) call = { 0 };
  g_autoptr (DflyHttpBody) body = NULL;

  if (!dfly_s3_call_init (&call, source, url, headers, error) ||
      !dfly_s3_call_check_object (&call, error))
    return NULL;
  body = dfly_s3_call_send (&call, "HEAD", call.key, dfly_s3_call_object_query (&call), NULL,
                            cancellable, error);
  if (body == NULL)
    return NULL;
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (dfly_http_body_get_status (body) == SOUP_STATUS_OK)
    return stat_new (body, dfly_http_body_get_content_length (body));
  g_debug ("HEAD %s: HTTP %u; asking for its first byte to learn why", call.url,
           dfly_http_body_get_status (body));
  return stat_by_get (&call, cancellable, error);
}

/* ---- open_range ---- */

static GInputStream *
dfly_s3_source_open_range (DflySource *source, const char *url, GHashTable *headers, guint64 offset,
                           gint64 length, GCancellable *cancellable, GError **error)
{
  g_auto (DflyS3Call) call = { 0 };
  g_autoptr (DflyHttpBody) body = NULL;
  g_autofree char *range = NULL;
  guint            status;

  if (!dfly_http_format_range (offset, length, &range, error))
    return NULL;
  if (!dfly_s3_call_init (&call, source, url, headers, error) ||
      !dfly_s3_call_check_object (&call, error))
    return NULL;
  if (length == 0)
    return g_memory_input_stream_new ();
  body = dfly_s3_call_send (&call, "GET", call.key, dfly_s3_call_object_query (&call), range,
                            cancellable, error);
  if (body == NULL)
    return NULL;
  status = dfly_http_body_get_status (body);
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    return dfly_http_body_open_range (body, offset, length, error);
  set_s3_error (error, &call, body);
  return NULL;
}

/* ---- list ---- */

/* One ListObjectsV2 page of prefix, after token (NULL: the first). */
static DflyS3ListPage *
list_page (DflyS3Call *call, const char *prefix, const char *token, GCancellable *cancellable,
           GError **error)
{
  const char *query[] = {
    "list-type", "2", "prefix", prefix, token != NULL ? "continuation-token" : NULL, token, NULL
  };
  g_autoptr (DflyHttpBody) body = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local_error = NULL;
  DflyS3ListPage *page;

  body = dfly_s3_call_send (call, "GET", NULL, query, NULL, cancellable, error);
  if (body == NULL)
    return NULL;
  if (dfly_http_body_get_status (body) != SOUP_STATUS_OK) {
    set_s3_error (error, call, body);
    return NULL;
  }
  bytes = dfly_http_body_read_all (body, MAX_LIST_PAGE_BYTES, cancellable, &local_error);
  g_input_stream_close (G_INPUT_STREAM (body), NULL, NULL);
  if (bytes == NULL) {
    g_set_error (error, DFLY_ERROR, local_error->code, "listing %s: %s", call->url,
                 local_error->message);
    return NULL;
  }
  page = dfly_s3_parse_list_page (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
  if (page == NULL)
    g_prefix_error (error, "listing %s: ", call->url);
  return page;
}

static GPtrArray *
dfly_s3_source_list (DflySource *source, const char *url, GHashTable *headers, GHashTable *options,
                     GCancellable *cancellable, GError **error)
{
  g_auto (DflyS3Call) call = { 0 };
  g_autoptr (GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) dfly_source_entry_free);
  g_autofree char *prefix = NULL;
  g_autofree char *token = NULL;

  if (!dfly_s3_call_init (&call, source, url, headers, error))
    return NULL;
  /* s3://b/dir and s3://b/dir/ both name the keys under "dir/". */
  prefix = call.key[0] == '\0' || g_str_has_suffix (call.key, "/")
             ? g_strdup (call.key)
             : g_strconcat (call.key, "/", NULL);

  do {
    g_autoptr (DflyS3ListPage) page = list_page (&call, prefix, token, cancellable, error);

    if (page == NULL)
      return NULL;
    for (guint i = 0; i < page->objects->len; i++) {
      const DflyS3Object *object = g_ptr_array_index (page->objects, i);
      const char         *path;
      g_autofree char    *encoded = NULL;
      g_autofree char    *entry_url = NULL;

      if (!g_str_has_prefix (object->key, prefix)) {
        g_autofree char *shown = g_strescape (object->key, NULL);

        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                     "listed key \"%s\" is not under the prefix: %s", shown, call.url);
        return NULL;
      }
      path = object->key + strlen (prefix);
      /* "dir/" markers of consoles hold no bytes of their own. */
      if (path[0] == '\0' || (g_str_has_suffix (path, "/") && object->size == 0))
        continue;
      if (!dfly_source_entry_path_is_safe (path)) {
        g_autofree char *shown = g_strescape (object->key, NULL);

        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                     "refusing key \"%s\": not a safe relative path: %s", shown, call.url);
        return NULL;
      }
      if (entries->len >= MAX_LIST_OBJECTS) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "more than %u objects under %s",
                     MAX_LIST_OBJECTS, call.url);
        return NULL;
      }
      encoded = dfly_s3_uri_encode (object->key, FALSE);
      entry_url = g_strdup_printf ("s3://%s/%s", call.bucket, encoded);
      g_ptr_array_add (entries, dfly_source_entry_new (entry_url, path, object->size));
    }
    if (page->is_truncated && g_strcmp0 (token, page->continuation_token) == 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                   "listing %s: the same continuation token twice", call.url);
      return NULL;
    }
    g_free (token);
    token = page->is_truncated ? g_strdup (page->continuation_token) : NULL;
  } while (token != NULL);
  return g_steal_pointer (&entries);
}

static void
dfly_s3_source_class_init (DflyS3SourceClass *klass)
{
  DflySourceClass *source_class = DFLY_SOURCE_CLASS (klass);

  source_class->get_schemes = dfly_s3_source_get_schemes;
  source_class->stat = dfly_s3_source_stat;
  source_class->open_range = dfly_s3_source_open_range;
  source_class->list = dfly_s3_source_list;
}

static void
dfly_s3_source_init (DflyS3Source *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("s3", DFLY_PLUGIN_KIND_SOURCE, PACKAGE_VERSION, "Apache-2.0",
                                  "S3 and S3-compatible object stores: SigV4, ranges, listings, "
                                  "retries",
                                  dfly_s3_source_get_type, &dfly_s3_settings)
