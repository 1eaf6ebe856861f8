/* dfly-worker-pool.h — the piece worker threads every download shares
 *
 * One DflyWorkerPool per engine caps the piece workers of all its downloads
 * together (download.workers); a download's workers are a DflyWorkerGroup
 * on it, which the download's coordinator waits for as it would join its
 * own threads. A worker that cannot get a thread waits in the pool's queue.
 * Both are thread-safe; the pool is reference-counted, and each group holds
 * a reference, so a download ending after its engine is gone still has it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _DflyWorkerPool  DflyWorkerPool;
typedef struct _DflyWorkerGroup DflyWorkerGroup;

DflyWorkerPool *dfly_worker_pool_new (guint max_threads);
DflyWorkerPool *dfly_worker_pool_ref (DflyWorkerPool *self);
/* The last reference waits for the pool's threads: never drop it on one. */
void  dfly_worker_pool_unref (DflyWorkerPool *self);
guint dfly_worker_pool_get_max_threads (DflyWorkerPool *self);

DflyWorkerGroup *dfly_worker_group_new (DflyWorkerPool *pool);
/* Runs func (data) on a pool thread, as soon as one is free. */
void dfly_worker_group_push (DflyWorkerGroup *self, GThreadFunc func, gpointer data);
/* Returns once every function pushed has returned. */
void dfly_worker_group_wait (DflyWorkerGroup *self);
/* After dfly_worker_group_wait. */
void dfly_worker_group_free (DflyWorkerGroup *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWorkerPool, dfly_worker_pool_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWorkerGroup, dfly_worker_group_free)

G_END_DECLS
