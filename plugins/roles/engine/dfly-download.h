/* dfly-download.h — one task being fetched from its source into storage
 *
 * A DflyDownload owns a task while it runs: a coordinator thread stats the
 * source, works out which pieces storage still lacks, and runs a few worker
 * threads that stream those pieces through fixed buffers, digest them,
 * write them and commit them. Requests (callers wanting the file somewhere)
 * join at any time; once the content is complete each gets its output
 * placed. It lives on the main thread; only the threads it starts block.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-worker-pool.h"

G_BEGIN_DECLS

#include "dfly-piece-board.h"

typedef struct _DflyPeerServices DflyPeerServices; /* dfly-swarm.h */

#define DFLY_TYPE_DOWNLOAD (dfly_download_get_type ())
G_DECLARE_FINAL_TYPE (DflyDownload, dfly_download, DFLY, DOWNLOAD, GObject)

/* task: id, url, tag, application and piece length (0: by the rule).
 * The piece workers run on workers, shared with the engine's other downloads. */
DflyDownload *dfly_download_new (DflyContext *context, DflyStorage *storage, DflySource *source,
                                 DflyWorkerPool *workers, const DflyTaskInfo *task,
                                 GHashTable *headers);
/* Before start: go through the swarm (the download takes a reference to
 * services); need_back_to_source is a scheduler's order. */
void dfly_download_use_swarm (DflyDownload *self, DflyPeerServices *services,
                              gboolean need_back_to_source);
/* The task's pieces: range readers wait on it (and take a reference). */
DflyPieceBoard *dfly_download_get_board (DflyDownload *self);
const char     *dfly_download_get_task_id (DflyDownload *self);
/* Lazy: fetch only the pieces range readers want, and stop (cancelled)
 * once no reader and no request has wanted anything for 2 s, leaving the
 * pieces held in storage. A request added makes it eager again. */
void dfly_download_set_lazy (DflyDownload *self, gboolean lazy);
/* The request gets download-finished or download-failed on the bus. */
void dfly_download_add_request (DflyDownload *self, DflyDownloadRequest *request);
void dfly_download_start (DflyDownload *self);
/* The highest priority of its requests (DflyDownloadRequest.priority):
 * the engine starts waiting downloads in that order. */
guint dfly_download_get_priority (DflyDownload *self);
void  dfly_download_raise_priority (DflyDownload *self, guint priority);
/* Stops the transfer; every request still waiting fails as cancelled. */
void     dfly_download_cancel (DflyDownload *self, const GError *reason);
gboolean dfly_download_is_cancelled (DflyDownload *self);
/* It ended without the content (main thread): a new request starts afresh,
 * with its own headers, rather than inherit the failure. */
gboolean dfly_download_has_failed (DflyDownload *self);
/* It ended with every piece held (main thread). */
gboolean dfly_download_has_content (DflyDownload *self);
/* Blocks until the threads it started have ended, or until deadline
 * (monotonic µs); TRUE if they ended (or never started). Cancel first. */
gboolean dfly_download_wait_threads (DflyDownload *self, gint64 deadline);
/* Emitted ("done") once every request is answered and every thread ended. */

G_END_DECLS
