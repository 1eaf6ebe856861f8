/* dfly-downloader.c — DflyDownloader and DflyDownloadRequest */
#include "config.h"

#include "dfly/dfly-downloader.h"

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

char *
dfly_downloader_download (DflyDownloader *self, DflyDownloadRequest *request, GError **error)
{
  g_return_val_if_fail (DFLY_IS_DOWNLOADER (self) && request != NULL, NULL);
  return DFLY_DOWNLOADER_GET_IFACE (self)->download (self, request, error);
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
