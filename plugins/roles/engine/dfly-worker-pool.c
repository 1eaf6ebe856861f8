/* dfly-worker-pool.c — DflyWorkerPool and DflyWorkerGroup (see the header) */
#include "config.h"

#include "dfly-worker-pool.h"

struct _DflyWorkerPool {
  GThreadPool *threads;
  guint        max_threads;
};

struct _DflyWorkerGroup {
  DflyWorkerPool *pool;
  GMutex          lock;
  GCond           cond;
  guint           pending; /* pushed and not returned */
};

typedef struct {
  DflyWorkerGroup *group;
  GThreadFunc      func;
  gpointer         data;
} Job;

static void
run_job (gpointer job_data, gpointer pool_data)
{
  Job             *job = job_data;
  DflyWorkerGroup *group = job->group;

  job->func (job->data);
  g_free (job);
  g_mutex_lock (&group->lock);
  if (--group->pending == 0)
    g_cond_broadcast (&group->cond);
  g_mutex_unlock (&group->lock);
}

DflyWorkerPool *
dfly_worker_pool_new (guint max_threads)
{
  DflyWorkerPool *self = g_atomic_rc_box_new0 (DflyWorkerPool);

  self->max_threads = MAX (max_threads, 1);
  /* Not exclusive: threads are made on demand, up to the cap. */
  self->threads = g_thread_pool_new (run_job, NULL, (gint) self->max_threads, FALSE, NULL);
  return self;
}

DflyWorkerPool *
dfly_worker_pool_ref (DflyWorkerPool *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
worker_pool_clear (gpointer data)
{
  DflyWorkerPool *self = data;

  g_thread_pool_free (self->threads, FALSE, TRUE);
}

void
dfly_worker_pool_unref (DflyWorkerPool *self)
{
  g_atomic_rc_box_release_full (self, worker_pool_clear);
}

guint
dfly_worker_pool_get_max_threads (DflyWorkerPool *self)
{
  return self->max_threads;
}

DflyWorkerGroup *
dfly_worker_group_new (DflyWorkerPool *pool)
{
  DflyWorkerGroup *self = g_new0 (DflyWorkerGroup, 1);

  self->pool = dfly_worker_pool_ref (pool);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

void
dfly_worker_group_push (DflyWorkerGroup *self, GThreadFunc func, gpointer data)
{
  Job *job = g_new0 (Job, 1);

  job->group = self;
  job->func = func;
  job->data = data;
  g_mutex_lock (&self->lock);
  self->pending++;
  g_mutex_unlock (&self->lock);
  g_thread_pool_push (self->pool->threads, job, NULL);
}

void
dfly_worker_group_wait (DflyWorkerGroup *self)
{
  g_mutex_lock (&self->lock);
  while (self->pending > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
dfly_worker_group_free (DflyWorkerGroup *self)
{
  g_return_if_fail (self->pending == 0);

  dfly_worker_pool_unref (self->pool);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}
