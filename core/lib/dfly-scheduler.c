/* dfly-scheduler.c — DflyScheduler, the base of scheduling algorithms */
#include "config.h"

#include "dfly/dfly-scheduler.h"

G_DEFINE_ABSTRACT_TYPE (DflyScheduler, dfly_scheduler, DFLY_TYPE_COMPONENT)

static void
dfly_scheduler_class_init (DflySchedulerClass *klass)
{
}

static void
dfly_scheduler_init (DflyScheduler *self)
{
}

GPtrArray *
dfly_scheduler_rank_parents (DflyScheduler *self, const DflyPeerInfo *child,
                             const DflyHostInfo *child_host, GPtrArray *candidates, guint limit)
{
  g_return_val_if_fail (DFLY_IS_SCHEDULER (self) && candidates != NULL, NULL);
  g_return_val_if_fail (DFLY_SCHEDULER_GET_CLASS (self)->rank_parents != NULL, NULL);
  return DFLY_SCHEDULER_GET_CLASS (self)->rank_parents (self, child, child_host, candidates, limit);
}
