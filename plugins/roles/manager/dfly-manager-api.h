/* dfly-manager-api.h — the manager's REST API under /api/v1/
 *
 * For each table of the model (dfly-manager-model.h), at /api/v1/TABLE:
 *   GET    /api/v1/TABLE[?REF_FIELD=ID]   the records (a JSON array), those of one cluster
 *   POST   /api/v1/TABLE                  a cluster created (201); a host registered: the
 *                                         record with its unique fields updated, else created,
 *                                         and kept alive (200)
 *   GET    /api/v1/TABLE/ID               one record
 *   PATCH  /api/v1/TABLE/ID               the fields sent changed
 *   DELETE /api/v1/TABLE/ID               removed (204); a cluster still in use is not (409)
 *   POST   /api/v1/TABLE/ID/keepalive     a host kept alive (204)
 * Bodies are JSON objects of at most DFLY_MANAGER_API_MAX_BODY bytes. An
 * error is a JSON object {"message": …, "field": …} ("field" names the
 * field at fault, or is null) with 400 (malformed, a bad field), 404, 405,
 * 409 (a unique field taken, a record in use), 413, 507 (a table at its
 * cap) or 500 (the store failed).
 *
 * Store calls run in worker threads (they block on the database); the
 * message waits paused meanwhile.
 */
#pragma once

#include <libsoup/soup.h>

#include "dfly-manager-store.h"

G_BEGIN_DECLS

#define DFLY_MANAGER_API_PREFIX   "/api/v1/"
#define DFLY_MANAGER_API_MAX_BODY (64 * 1024)

typedef struct _DflyManagerApi DflyManagerApi;

/* Takes store. Calls in flight keep the API and its store until they end;
 * free drops the caller's reference (their answers are still given). */
DflyManagerApi *dfly_manager_api_new (DflyManagerStore *store);
void            dfly_manager_api_free (DflyManagerApi *self);
/* Answers msg if path is under DFLY_MANAGER_API_PREFIX (TRUE), else FALSE. */
gboolean dfly_manager_api_handle (DflyManagerApi *self, SoupServerMessage *msg, const char *path,
                                  GHashTable *query);
/* Sets a JSON error answer on msg. */
void dfly_manager_api_answer_error (SoupServerMessage *msg, guint status, const char *field,
                                    const char *message);

G_END_DECLS
