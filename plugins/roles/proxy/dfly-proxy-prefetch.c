/* dfly-proxy-prefetch.c — background reads at a rate (see the header) */
#include "config.h"

#include "dfly-proxy-prefetch.h"

struct _DflyProxyPrefetches {
  DflyProxy    *proxy;
  GHashTable   *running; /* task id → Prefetch * (owned) */
  GCancellable *cancellable;
};

typedef struct {
  DflyProxyPrefetches *owner;
  DflyDownloadRequest *request;
  guint64              content_length;
  guint64              offset; /* of the next read */
  gint64               started;
  GInputStream        *reader;
  guint8              *buffer;
  guint                timer;
  gboolean             reading;  /* a read is in flight: it owns buffer */
  gboolean             orphaned; /* the table let go: the read's end frees it */
} Prefetch;

static void
prefetch_free (Prefetch *prefetch)
{
  g_clear_handle_id (&prefetch->timer, g_source_remove);
  if (prefetch->reader != NULL)
    g_input_stream_close (prefetch->reader, NULL, NULL);
  g_clear_object (&prefetch->reader);
  dfly_download_request_unref (prefetch->request);
  g_free (prefetch->buffer);
  g_free (prefetch);
}

/* Removes prefetch from its table, which frees it. */
static void
prefetch_end (Prefetch *prefetch, const char *why)
{
  g_autofree char *task_id = g_strdup (prefetch->request->task_id);

  g_info ("proxy: prefetch of task %s %s after %" G_GUINT64_FORMAT " bytes", task_id, why,
          prefetch->offset);
  g_hash_table_remove (prefetch->owner->running, task_id);
}

static void read_chunk (Prefetch *prefetch);

static gboolean
on_timer (gpointer user_data)
{
  Prefetch *prefetch = user_data;

  prefetch->timer = 0;
  read_chunk (prefetch);
  return G_SOURCE_REMOVE;
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Prefetch *prefetch;
  gsize     n = 0;
  g_autoptr (GError) error = NULL;
  guint64 rate;
  gint64  due;

  prefetch = user_data;
  prefetch->reading = FALSE;
  g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &n, &error);
  if (prefetch->orphaned) {
    prefetch_free (prefetch); /* the role stopped */
    return;
  }
  if (error != NULL) {
    g_autofree char *why = g_strconcat ("stopped: ", error->message, NULL);

    prefetch_end (prefetch, why);
    return;
  }
  g_input_stream_close (prefetch->reader, NULL, NULL);
  g_clear_object (&prefetch->reader);
  prefetch->offset += n;
  if (prefetch->offset >= prefetch->content_length) {
    prefetch_end (prefetch, "done");
    return;
  }
  /* The next read when the limit allows it. */
  rate = MAX (prefetch->owner->proxy->settings->prefetch_rate_limit, 1);
  due = prefetch->started + (gint64) (prefetch->offset * G_USEC_PER_SEC / rate);
  prefetch->timer =
    g_timeout_add ((guint) MAX (0, (due - g_get_monotonic_time ()) / 1000), on_timer, prefetch);
}

static void
read_chunk (Prefetch *prefetch)
{
  DflyDownloader *downloader = dfly_context_get_downloader (prefetch->owner->proxy->context);
  guint64         length =
    MIN ((guint64) DFLY_PROXY_PREFETCH_CHUNK, prefetch->content_length - prefetch->offset);
  g_autoptr (GError) error = NULL;

  if (downloader == NULL) {
    prefetch_end (prefetch, "stopped: no peer role");
    return;
  }
  prefetch->reader = dfly_downloader_open_range (downloader, prefetch->request, prefetch->offset,
                                                 length, prefetch->owner->cancellable, &error);
  if (prefetch->reader == NULL) {
    g_autofree char *why = g_strconcat ("stopped: ", error->message, NULL);

    prefetch_end (prefetch, why);
    return;
  }
  prefetch->reading = TRUE;
  g_input_stream_read_all_async (prefetch->reader, prefetch->buffer, (gsize) length, G_PRIORITY_LOW,
                                 prefetch->owner->cancellable, on_read, prefetch);
}

DflyProxyPrefetches *
dfly_proxy_prefetches_new (DflyProxy *proxy)
{
  DflyProxyPrefetches *prefetches = g_new0 (DflyProxyPrefetches, 1);

  prefetches->proxy = proxy;
  prefetches->cancellable = g_cancellable_new ();
  prefetches->running =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) prefetch_free);
  return prefetches;
}

void
dfly_proxy_prefetches_free (DflyProxyPrefetches *prefetches)
{
  GHashTableIter iter;
  gpointer       key, value;

  if (prefetches == NULL)
    return;
  /* A read in flight writes into its buffer until it ends: it frees its
   * prefetch then. */
  g_hash_table_iter_init (&iter, prefetches->running);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    Prefetch *prefetch = value;

    if (prefetch->reading) {
      prefetch->orphaned = TRUE;
      g_hash_table_iter_steal (&iter);
      g_free (key);
    }
  }
  g_cancellable_cancel (prefetches->cancellable);
  g_hash_table_unref (prefetches->running);
  g_object_unref (prefetches->cancellable);
  g_free (prefetches);
}

void
dfly_proxy_prefetches_start (DflyProxyPrefetches *prefetches, const DflyDownloadRequest *request,
                             guint64 content_length)
{
  Prefetch      *prefetch;
  GHashTableIter iter;
  gpointer       name, value;

  if (request->task_id == NULL || content_length == 0 ||
      g_hash_table_contains (prefetches->running, request->task_id))
    return;
  if (g_hash_table_size (prefetches->running) >= DFLY_PROXY_PREFETCH_MAX) {
    g_info ("proxy: %u prefetches run already; task %s is not prefetched", DFLY_PROXY_PREFETCH_MAX,
            request->task_id);
    return;
  }
  prefetch = g_new0 (Prefetch, 1);
  prefetch->owner = prefetches;
  prefetch->request = dfly_download_request_new (request->url, NULL);
  prefetch->request->tag = g_strdup (request->tag);
  prefetch->request->application = g_strdup (request->application);
  prefetch->request->piece_length = request->piece_length;
  prefetch->request->filtered_query_keys = g_strdupv (request->filtered_query_keys);
  prefetch->request->task_id = g_strdup (request->task_id);
  g_hash_table_iter_init (&iter, request->headers);
  while (g_hash_table_iter_next (&iter, &name, &value))
    g_hash_table_replace (prefetch->request->headers, g_strdup (name), g_strdup (value));
  prefetch->content_length = content_length;
  prefetch->started = g_get_monotonic_time ();
  prefetch->buffer = g_malloc (DFLY_PROXY_PREFETCH_CHUNK);
  g_hash_table_insert (prefetches->running, g_strdup (request->task_id), prefetch);
  g_info ("proxy: prefetching task %s at %" G_GUINT64_FORMAT " bytes/s", request->task_id,
          prefetches->proxy->settings->prefetch_rate_limit);
  read_chunk (prefetch);
}

guint
dfly_proxy_prefetches_count (DflyProxyPrefetches *prefetches)
{
  return g_hash_table_size (prefetches->running);
}
