/* dfly-upload-server.h — the peer service: what this host serves to others
 *
 *   GET  /v1/tasks/<task id>  piece bytes, as a plain HTTP range read of the
 *                             task's content (one range, held pieces only),
 *                             so curl can fetch a piece for debugging; a
 *                             connection that starts with one goes to the
 *                             piece sender (dfly-piece-sender.h)
 *   GET  /v1/sync-pieces      WebSocket: SyncPiecesRequest frames in (one per
 *                             task), SyncPiecesResponse frames out: the
 *                             pieces held now, then each new one
 *   POST /v1/download-piece   DownloadPieceRequest → DownloadPieceResponse
 *                             (404 for a piece not held), answered once the
 *                             task's pieces are listed off the main loop
 *   POST /v1/download-task    seed peers only: the scheduler's order to
 *                             fetch a task from its source (202)
 *
 * Uploads share one rate limiter; at most upload.slots (upload.seed_slots
 * on a seed host) run at once, further ones get 503. Who hears of a new
 * piece when, and which ranges are deferred (429), is the policy's call
 * (dfly-upload-policy.h).
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-piece-http.h"
#include "dfly-rate-limiter.h"
#include "dfly-upload-policy.h"
#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct _DflyUploadServer DflyUploadServer;

/* The scheduler's order to fetch a task; FALSE with error to refuse it. */
typedef gboolean (*DflyUploadTriggerFunc) (const char *task_id, const Dfly__V1__Download *download,
                                           gpointer user_data, GError **error);

/* host_type picks the upload slots' key; trigger is NULL except on a seed
 * peer. */
DflyUploadServer *dfly_upload_server_new (DflyContext *context, DflyStorage *storage,
                                          DflyRateLimiter *limiter, DflyHostType host_type,
                                          DflyUploadPolicy *policy, DflyUploadTriggerFunc trigger,
                                          gpointer trigger_data, GError **error);
void              dfly_upload_server_free (DflyUploadServer *self);
guint16           dfly_upload_server_get_port (DflyUploadServer *self);
guint             dfly_upload_server_get_slots (DflyUploadServer *self);
guint             dfly_upload_server_get_active (DflyUploadServer *self);
/* Bytes of piece content sent so far. */
guint64 dfly_upload_server_get_bytes_sent (DflyUploadServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyUploadServer, dfly_upload_server_free)

G_END_DECLS
