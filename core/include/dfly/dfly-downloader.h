/* dfly-downloader.h — what a peer role offers the daemon: fetch a URL to a file
 *
 * The D-Bus service and the proxy role hand download requests to the
 * context's downloader, which a peer role provides. Progress and results
 * come back on the bus: download-progress, download-finished and
 * download-failed, each naming the request.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-types.h"

G_BEGIN_DECLS

/* One caller's request. The same task may serve several requests at once
 * (concurrent downloads of one URL are deduplicated into one task). */
typedef struct {
  char       *url;
  char       *output; /* absolute path the file appears at */
  char       *digest; /* "sha256:…" / "sha512:…" of the whole content, or NULL */
  char       *tag;
  char       *application;
  GHashTable *headers;             /* extra request headers for the origin, name → value */
  guint64     piece_length;        /* 0: by the config's rule */
  guint       timeout;             /* seconds for the whole download, 0: none */
  gboolean    hardlink;            /* link output to the cached content instead of copying */
  char       *task_id;             /* set once the request is accepted */
  char      **filtered_query_keys; /* NULL: download.filtered_query_keys; else these */
  /* 0..DFLY_DOWNLOAD_PRIORITY_MAX: a higher one starts first when downloads
   * wait for a slot (download.max_tasks). */
  guint priority;
  /* open_range: the rest of the task follows in the background (else only
   * what readers ask for is fetched). */
  gboolean prefetch;
} DflyDownloadRequest;

#define DFLY_DOWNLOAD_PRIORITY_MAX 6

/* open_range's length for every byte from offset to the end of the content. */
#define DFLY_DOWNLOAD_TO_END G_MAXUINT64

#define DFLY_TYPE_DOWNLOAD_REQUEST (dfly_download_request_get_type ())
GType                dfly_download_request_get_type (void);
DflyDownloadRequest *dfly_download_request_new (const char *url, const char *output);
DflyDownloadRequest *dfly_download_request_ref (DflyDownloadRequest *request);
void                 dfly_download_request_unref (DflyDownloadRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyDownloadRequest, dfly_download_request_unref)

#define DFLY_TYPE_DOWNLOADER (dfly_downloader_get_type ())
G_DECLARE_INTERFACE (DflyDownloader, dfly_downloader, DFLY, DOWNLOADER, GObject)

struct _DflyDownloaderInterface {
  GTypeInterface g_iface;

  /* Checks the request (its output in a worker thread: stat and realpath
   * block) and starts it, or joins the running task; the result is the task
   * id, or why the request was refused. Called on the main thread. */
  void (*download_async) (DflyDownloader *self, DflyDownloadRequest *request,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data);
  char *(*download_finish) (DflyDownloader *self, GAsyncResult *result, GError **error);
  /* Stops a running task; every request on it fails as cancelled. */
  gboolean (*cancel) (DflyDownloader *self, const char *task_id, GError **error);
  /* Whether a task is being downloaded now. */
  gboolean (*is_running) (DflyDownloader *self, const char *task_id);
  /* A stream of length bytes of the request's content from offset (its
   * output is not used), starting the task if it is not running. The task
   * fetches those pieces first; a read blocks until its piece is held (read
   * from a thread, or asynchronously). A range past the end fails the first
   * read with DFLY_ERROR_INVALID_ARGUMENT; cancellable (or closing) ends
   * this reader only. length DFLY_DOWNLOAD_TO_END reads through the end
   * (an offset past it fails likewise). Unless request->prefetch, a task
   * only readers ask for fetches just the pieces they want, and stops once
   * none does for a while. Called on the main thread. */
  GInputStream *(*open_range) (DflyDownloader *self, DflyDownloadRequest *request, guint64 offset,
                               guint64 length, GCancellable *cancellable, GError **error);
  /* The length of the content a reader from open_range reads from, and the
   * bytes that reader owes; FALSE until known (after its first read, which
   * waits for it). Any thread. */
  gboolean (*get_range_length) (DflyDownloader *self, GInputStream *reader, guint64 *content_length,
                                guint64 *range_length);
};

void  dfly_downloader_download_async (DflyDownloader *self, DflyDownloadRequest *request,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
char *dfly_downloader_download_finish (DflyDownloader *self, GAsyncResult *result, GError **error);
gboolean      dfly_downloader_cancel (DflyDownloader *self, const char *task_id, GError **error);
gboolean      dfly_downloader_is_running (DflyDownloader *self, const char *task_id);
GInputStream *dfly_downloader_open_range (DflyDownloader *self, DflyDownloadRequest *request,
                                          guint64 offset, guint64 length, GCancellable *cancellable,
                                          GError **error);
gboolean      dfly_downloader_get_range_length (DflyDownloader *self, GInputStream *reader,
                                                guint64 *content_length, guint64 *range_length);

G_END_DECLS
