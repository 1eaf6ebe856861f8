/* dfly-proxy-p2p.c — answering a GET from the swarm (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-proxy-p2p.h"
#include "dfly-proxy-prefetch.h"
#include "dfly-proxy-pump.h"
#include "dfly-proxy-range.h"
#include "dfly-proxy-relay.h"

typedef struct {
  DflyProxy           *proxy;
  SoupServerMessage   *msg;
  DflyDownloader      *downloader;
  DflyDownloadRequest *request;
  char                *url;
  DflyProxyRange       range;
  guint64              offset;         /* what the reader reads */
  guint64              length;         /* or DFLY_DOWNLOAD_TO_END */
  gboolean             probing;        /* a suffix range: the reader only learns the length */
  gboolean             clamped;        /* a span past the end was cut to it once */
  char                *cache_key;      /* a small span: read whole, then kept */
  gboolean             paced_prefetch; /* the rest of the task follows at a rate */
  gboolean             retried;        /* a denied task was tried again with our headers */
  GInputStream        *reader;
  GCancellable        *cancellable;
  gulong               finished_id;
} Exchange;

/* What the first read brings back from its thread. */
typedef struct {
  GBytes  *first;
  gboolean complete; /* the task was whole in storage */
} FirstRead;

static void
first_read_free (FirstRead *read)
{
  g_clear_pointer (&read->first, g_bytes_unref);
  g_free (read);
}

static void
exchange_free (Exchange *exchange)
{
  if (exchange->finished_id != 0)
    g_signal_handler_disconnect (exchange->msg, exchange->finished_id);
  g_object_unref (exchange->msg);
  g_object_unref (exchange->downloader);
  dfly_download_request_unref (exchange->request);
  g_free (exchange->url);
  g_free (exchange->cache_key);
  g_clear_object (&exchange->reader);
  g_object_unref (exchange->cancellable);
  g_free (exchange);
}

/* The client left before the answer started: stop our reader (only). */
static void
on_finished_early (SoupServerMessage *msg, gpointer user_data)
{
  Exchange *exchange = user_data;

  g_cancellable_cancel (exchange->cancellable);
}

static void
read_first_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Exchange          *exchange = task_data;
  FirstRead         *read = g_new0 (FirstRead, 1);
  g_autofree guint8 *buffer = g_malloc (DFLY_PROXY_PUMP_CHUNK);
  GError            *error = NULL;
  DflyStorage       *storage = dfly_context_get_storage (exchange->proxy->context);
  g_autoptr (DflyTaskInfo) task_info = NULL;
  gssize n;

  /* Known before the read, so a task that is there already says so. */
  if (storage != NULL)
    task_info = dfly_storage_lookup_task (storage, exchange->request->task_id, NULL);
  read->complete = task_info != NULL && task_info->state == DFLY_TASK_STATE_SUCCEEDED;
  if (exchange->cache_key != NULL && !exchange->probing) {
    /* A small span is read whole (at most DFLY_PROXY_CACHE_MAX_ENTRY). */
    gsize read_bytes = 0;

    g_free (buffer);
    buffer = g_malloc (exchange->length);
    n = g_input_stream_read_all (exchange->reader, buffer, exchange->length, &read_bytes,
                                 cancellable, &error)
          ? (gssize) read_bytes
          : -1;
  } else {
    n = g_input_stream_read (exchange->reader, buffer,
                             exchange->probing ? 1 : DFLY_PROXY_PUMP_CHUNK, cancellable, &error);
  }
  if (n < 0) {
    first_read_free (read);
    g_task_return_error (task, error);
    return;
  }
  read->first = g_bytes_new (buffer, (gsize) n);
  g_task_return_pointer (task, read, (GDestroyNotify) first_read_free);
}

static void open_and_read (Exchange *exchange);

static gboolean
has_credentials (DflyDownloadRequest *request)
{
  GHashTableIter iter;
  gpointer       name;

  g_hash_table_iter_init (&iter, request->headers);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (dfly_http_is_credential_header (name))
      return TRUE;
  return FALSE;
}

static void
answer_range_not_satisfiable (Exchange *exchange, guint64 content_length)
{
  g_autofree char    *range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, content_length);
  SoupMessageHeaders *answer = soup_server_message_get_response_headers (exchange->msg);

  soup_message_headers_replace (answer, "Content-Range", range);
  soup_message_headers_replace (answer, "X-Dragonfly-Task-ID", exchange->request->task_id);
  soup_server_message_set_status (exchange->msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
  soup_server_message_unpause (exchange->msg);
}

/* Headers of a 200 or 206 from the swarm. */
static void
set_answer_headers (Exchange *exchange, guint64 content_length, guint64 range_length,
                    gboolean complete)
{
  SoupServerMessage  *msg = exchange->msg;
  SoupMessageHeaders *answer = soup_server_message_get_response_headers (msg);

  if (exchange->range.kind != DFLY_PROXY_RANGE_NONE) {
    soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
    soup_message_headers_set_content_range (answer, (goffset) exchange->offset,
                                            (goffset) (exchange->offset + range_length - 1),
                                            (goffset) content_length);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  }
  soup_message_headers_set_content_length (answer, (goffset) range_length);
  soup_message_headers_replace (answer, "Content-Type", "application/octet-stream");
  soup_message_headers_replace (answer, "Accept-Ranges", "bytes");
  soup_message_headers_replace (answer, "X-Dragonfly-Task-ID", exchange->request->task_id);
  soup_message_headers_replace (answer, "X-Dragonfly-Task-Download-Finished",
                                complete ? "true" : "false");
  /* What a registry says of a blob: the content is checked against it. */
  if (exchange->request->digest != NULL)
    soup_message_headers_replace (answer, "Docker-Content-Digest", exchange->request->digest);
}

static void
pumped (guint64 sent, const GError *error, gpointer user_data)
{
  Exchange        *exchange = user_data;
  g_autofree char *shown = dfly_http_public_url (exchange->url);

  if (error != NULL)
    g_info ("proxy: %s: stopped after %" G_GUINT64_FORMAT " bytes: %s", shown, sent,
            error->message);
  else
    g_debug ("proxy: %s: %" G_GUINT64_FORMAT " bytes from task %s", shown, sent,
             exchange->request->task_id);
  exchange_free (exchange);
}

/* The swarm could not start the answer: the upstream's own goes out. */
static void
pass_through (Exchange *exchange, const GError *why)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (exchange->msg);

  dfly_proxy_relay (exchange->proxy, exchange->msg, exchange->url,
                    dfly_proxy_headers_for_upstream (headers, FALSE), why);
  /* The relay paused msg again; our pause is balanced by its unpause. */
  exchange_free (exchange);
}

static void
on_first_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Exchange *exchange = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  FirstRead *read = g_task_propagate_pointer (G_TASK (result), &error);
  guint64    content_length = 0, range_length = 0;
  gboolean   known;

  /* The client left (only that cancels exchange->cancellable): nothing
   * more to answer, whatever the read brought. */
  if (g_cancellable_is_cancelled (exchange->cancellable)) {
    g_clear_pointer (&read, first_read_free);
    exchange_free (exchange);
    return;
  }
  known = dfly_downloader_get_range_length (exchange->downloader, exchange->reader, &content_length,
                                            &range_length);
  if (read == NULL) {
    if (known && g_error_matches (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT)) {
      /* A span running past the end is cut at the end (RFC 9110 14.1.2). */
      if (exchange->range.kind == DFLY_PROXY_RANGE_SPAN && !exchange->clamped &&
          exchange->offset < content_length) {
        exchange->clamped = TRUE;
        exchange->length = content_length - exchange->offset;
        open_and_read (exchange);
        return;
      }
      answer_range_not_satisfiable (exchange, content_length);
      exchange_free (exchange);
      return;
    }
    /* A task begun without credentials (a seed order: they never leave the
     * requester) is refused by the origin; ours may open it: once more, as
     * a task of our own. */
    if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED) && !exchange->retried &&
        has_credentials (exchange->request)) {
      exchange->retried = TRUE;
      open_and_read (exchange);
      return;
    }
    pass_through (exchange, error);
    return;
  }
  if (exchange->probing) {
    guint64 suffix = MIN (exchange->range.length, content_length);

    g_input_stream_close (exchange->reader, NULL, NULL);
    first_read_free (read);
    if (suffix == 0) {
      answer_range_not_satisfiable (exchange, content_length);
      exchange_free (exchange);
      return;
    }
    exchange->probing = FALSE;
    exchange->offset = content_length - suffix;
    exchange->length = suffix;
    open_and_read (exchange);
    return;
  }
  g_signal_handler_disconnect (exchange->msg, exchange->finished_id);
  exchange->finished_id = 0;
  set_answer_headers (exchange, content_length, range_length, read->complete);
  if (exchange->paced_prefetch)
    dfly_proxy_prefetches_start (exchange->proxy->prefetches, exchange->request, content_length);
  if (exchange->cache_key != NULL && g_bytes_get_size (read->first) == range_length)
    dfly_proxy_cache_insert (exchange->proxy->cache, exchange->cache_key, read->first,
                             content_length, exchange->request->task_id);
  if (range_length == 0) {
    soup_message_body_complete (soup_server_message_get_response_body (exchange->msg));
    soup_server_message_unpause (exchange->msg);
    first_read_free (read);
    exchange_free (exchange);
    return;
  }
  dfly_proxy_pump_start (exchange->msg, exchange->reader, read->first, pumped, exchange);
  first_read_free (read);
}

static void
open_and_read (Exchange *exchange)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;

  g_clear_object (&exchange->reader);
  exchange->reader = dfly_downloader_open_range (
    exchange->downloader, exchange->request, exchange->probing ? 0 : exchange->offset,
    exchange->probing ? 0 : exchange->length, exchange->cancellable, &error);
  if (exchange->reader == NULL) {
    /* Refused before any byte: the request itself is at fault, or the peer. */
    if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT))
      dfly_proxy_answer_error (exchange->msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
    else
      dfly_proxy_answer_error (exchange->msg, dfly_proxy_status_for_error (error), "%s",
                               error->message);
    soup_server_message_unpause (exchange->msg);
    exchange_free (exchange);
    return;
  }
  task = g_task_new (NULL, exchange->cancellable, on_first_read, NULL);
  g_task_set_task_data (task, exchange, NULL);
  g_task_run_in_thread (task, read_first_in_thread);
}

/* A small span read before: answered from memory. */
static gboolean
answer_from_cache (DflyProxy *proxy, SoupServerMessage *msg, const char *key, guint64 offset)
{
  SoupMessageHeaders *answer = soup_server_message_get_response_headers (msg);
  DflyProxyCacheHit   hit;
  gsize               size;

  if (!dfly_proxy_cache_lookup (proxy->cache, key, &hit))
    return FALSE;
  size = g_bytes_get_size (hit.bytes);
  soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  soup_message_headers_set_content_range (answer, (goffset) offset, (goffset) (offset + size - 1),
                                          (goffset) hit.content_length);
  soup_message_headers_replace (answer, "Accept-Ranges", "bytes");
  soup_message_headers_replace (answer, "X-Dragonfly-Task-ID", hit.task_id);
  soup_message_headers_replace (answer, "X-Dragonfly-Task-Download-Finished", "true");
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (hit.bytes, NULL), size);
  return TRUE;
}

void
dfly_proxy_p2p_serve (DflyProxy *proxy, SoupServerMessage *msg, const char *url,
                      const DflyProxyAsk *ask)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  DflyDownloader     *downloader = dfly_context_get_downloader (proxy->context);
  Exchange           *exchange;
  g_autoptr (GHashTable) upstream = NULL;
  GHashTableIter   iter;
  gpointer         name, value;
  DflyProxyRange   range;
  g_autofree char *cache_key = NULL;

  dfly_proxy_range_parse (soup_message_headers_get_one (headers, "Range"), &range);
  if (range.kind == DFLY_PROXY_RANGE_SPAN && range.length <= DFLY_PROXY_CACHE_MAX_ENTRY &&
      proxy->settings->cache_capacity > 0) {
    cache_key = dfly_proxy_cache_key (url, ask->tag, ask->application, ask->piece_length,
                                      range.offset, range.length);
    if (answer_from_cache (proxy, msg, cache_key, range.offset))
      return;
  }
  if (downloader == NULL) {
    dfly_proxy_answer_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                             "no peer role runs here to fetch through the swarm");
    return;
  }
  exchange = g_new0 (Exchange, 1);
  exchange->proxy = proxy;
  exchange->msg = g_object_ref (msg);
  exchange->downloader = g_object_ref (downloader);
  exchange->url = g_strdup (url);
  exchange->cancellable = g_cancellable_new ();
  exchange->request = dfly_download_request_new (url, NULL);
  exchange->request->tag = g_strdup (ask->tag);
  exchange->request->application = g_strdup (ask->application);
  exchange->request->piece_length = ask->piece_length;
  exchange->request->priority = ask->priority;
  exchange->request->filtered_query_keys = g_strdupv (ask->filtered_query);
  upstream = dfly_proxy_headers_for_upstream (headers, TRUE);
  g_hash_table_iter_init (&iter, upstream);
  while (g_hash_table_iter_next (&iter, &name, &value))
    g_hash_table_replace (exchange->request->headers, g_strdup (name), g_strdup (value));

  exchange->range = range;
  exchange->cache_key = g_steal_pointer (&cache_key);
  exchange->offset = exchange->range.offset;
  exchange->length =
    exchange->range.kind == DFLY_PROXY_RANGE_SPAN ? exchange->range.length : DFLY_DOWNLOAD_TO_END;
  exchange->probing = exchange->range.kind == DFLY_PROXY_RANGE_SUFFIX;
  /* A range read fetches only its pieces, unless the rest is asked for. */
  if (range.kind != DFLY_PROXY_RANGE_NONE && (ask->prefetch || proxy->settings->prefetch)) {
    if (proxy->settings->prefetch_rate_limit == 0)
      exchange->request->prefetch = TRUE;
    else
      exchange->paced_prefetch = TRUE;
  }
  exchange->finished_id =
    g_signal_connect (msg, "finished", G_CALLBACK (on_finished_early), exchange);
  soup_server_message_pause (msg);
  open_and_read (exchange);
}
