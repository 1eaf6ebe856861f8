/* dfly-peer-engine.h — this host's downloads and uploads, for the peer and seed roles
 *
 * A DflyPeerEngine is what a role that downloads runs: the context's
 * DflyDownloader (each request becomes, or joins, a DflyDownload keyed by
 * task id), the upload server that serves what this host holds, the
 * scheduler client and the parent links the swarm needs. The role that
 * owns it announces the host and decides what kind of host it is: the peer
 * role runs one as a normal host, the seed role as a seed that takes the
 * schedulers' orders (dfly_peer_engine_set_order_func) and super-seeds
 * (dfly_peer_engine_set_upload_policy). One daemon runs one
 * engine: beside a seed role, the peer role leaves the downloads to it.
 * It lives on the main thread; see dfly-download.h for the threads.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-upload-server.h"

G_BEGIN_DECLS

#define DFLY_TYPE_PEER_ENGINE (dfly_peer_engine_get_type ())
G_DECLARE_FINAL_TYPE (DflyPeerEngine, dfly_peer_engine, DFLY, PEER_ENGINE, GObject)

DflyPeerEngine *dfly_peer_engine_new (DflyContext *context, DflyHostType host_type);
/* Before start: the schedulers' orders to fetch a task (POST
 * /v1/download-task) go to order; without one they are refused. */
void dfly_peer_engine_set_order_func (DflyPeerEngine *self, DflyUploadTriggerFunc order,
                                      gpointer data);
/* Before start: how the upload server shares (dfly-upload-policy.h); the
 * default tells every child of each piece at once and sends every range. */
void dfly_peer_engine_set_upload_policy (DflyPeerEngine *self, DflyUploadPolicy *policy);
/* Starts the upload server and the swarm's machinery, announces the host
 * and becomes the context's downloader. */
gboolean dfly_peer_engine_start (DflyPeerEngine *self, GError **error);
/* Stops announcing, cancels every download and returns TRUE on task (a
 * role's stop, taken over) once each has ended; at once when self is NULL. */
void dfly_peer_engine_stop (DflyPeerEngine *self, GTask *task);
/* A role's dispose: drops *engine, letting its downloads end without
 * calling back (a stop abandoned at the shutdown deadline). */
void dfly_peer_engine_abandon (DflyPeerEngine **engine);
/* The upload server's port; 0 when leeching (no upload server). */
guint16 dfly_peer_engine_get_upload_port (DflyPeerEngine *self);
/* "host ID, announcing every Ns, N downloads[, uploads on port P (…)]". */
char *dfly_peer_engine_describe (DflyPeerEngine *self);

/* Dragonfly's task id for request (or, for a URL naming its content's
 * digest, that digest, which the request then checks the content against). */
char *dfly_peer_engine_task_id_for (DflySource *source, DflyDownloadRequest *request,
                                    DflyConfig *config, GError **error);
/* Fetches task (id, url, tag, application, digest, piece length) from its
 * source for the swarm alone, going back to source as a scheduler ordered;
 * TRUE at once when that task is running already. */
gboolean dfly_peer_engine_fetch_for_swarm (DflyPeerEngine *self, const DflyTaskInfo *task,
                                           GHashTable *headers, GError **error);

G_END_DECLS
