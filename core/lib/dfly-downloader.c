/* dfly-downloader.c — DflyDownloader and DflyDownloadRequest */
#include "config.h"

#include "dfly/dfly-downloader.h"
#include "dfly/dfly-error.h"

G_DEFINE_BOXED_TYPE (DflyDownloadRequest, dfly_download_request, dfly_download_request_ref,
                     dfly_download_request_unref)

DflyDownloadRequest *
dfly_download_request_new (const char *url, const char *output)
{
  DflyDownloadRequest *request = g_atomic_rc_box_new0 (DflyDownloadRequest);

  request->url = g_strdup (url);
  request->output = g_strdup (output);
  request->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return request;
}

DflyDownloadRequest *
dfly_download_request_ref (DflyDownloadRequest *request)
{
  return g_atomic_rc_box_acquire (request);
}

static void
download_request_clear (gpointer data)
{
  DflyDownloadRequest *request = data;

  g_free (request->url);
  g_free (request->output);
  g_free (request->digest);
  g_free (request->tag);
  g_free (request->application);
  g_clear_pointer (&request->headers, g_hash_table_unref);
  g_free (request->task_id);
  g_strfreev (request->filtered_query_keys);
}

void
dfly_download_request_unref (DflyDownloadRequest *request)
{
  g_atomic_rc_box_release_full (request, download_request_clear);
}

G_DEFINE_INTERFACE (DflyDownloader, dfly_downloader, G_TYPE_OBJECT)

static void
dfly_downloader_default_init (DflyDownloaderInterface *iface)
{
}

void
dfly_downloader_download_async (DflyDownloader *self, DflyDownloadRequest *request,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (DFLY_IS_DOWNLOADER (self) && request != NULL);
  DFLY_DOWNLOADER_GET_IFACE (self)->download_async (self, request, cancellable, callback,
                                                    user_data);
}

char *
dfly_downloader_download_finish (DflyDownloader *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self), NULL);
  return DFLY_DOWNLOADER_GET_IFACE (self)->download_finish (self, result, error);
}

gboolean
dfly_downloader_cancel (DflyDownloader *self, const char *task_id, GError **error)
{
  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self) && task_id != NULL, FALSE);
  return DFLY_DOWNLOADER_GET_IFACE (self)->cancel (self, task_id, error);
}

gboolean
dfly_downloader_is_running (DflyDownloader *self, const char *task_id)
{
  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self) && task_id != NULL, FALSE);
  return DFLY_DOWNLOADER_GET_IFACE (self)->is_running (self, task_id);
}

GInputStream *
dfly_downloader_open_range (DflyDownloader *self, DflyDownloadRequest *request, guint64 offset,
                            guint64 length, GCancellable *cancellable, GError **error)
{
  DflyDownloaderInterface *iface;

  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self) && request != NULL, NULL);
  iface = DFLY_DOWNLOADER_GET_IFACE (self);
  if (iface->open_range == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "%s reads no ranges",
                 G_OBJECT_TYPE_NAME (self));
    return NULL;
  }
  return iface->open_range (self, request, offset, length, cancellable, error);
}

gboolean
dfly_downloader_get_range_length (DflyDownloader *self, GInputStream *reader,
                                  guint64 *content_length, guint64 *range_length)
{
  DflyDownloaderInterface *iface;

  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self) && G_IS_INPUT_STREAM (reader), FALSE);
  iface = DFLY_DOWNLOADER_GET_IFACE (self);
  return iface->get_range_length != NULL &&
         iface->get_range_length (self, reader, content_length, range_length);
}
