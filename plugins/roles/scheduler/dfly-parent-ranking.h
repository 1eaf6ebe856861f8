/* dfly-parent-ranking.h — which of a task's peers a child may use, best first */
#pragma once

#include "dfly-schedule-peer.h"

G_BEGIN_DECLS

/* The peers of child's task it may use as parents, ranked by algorithm,
 * at most limit (borrowed SchedulePeer pointers). */
GPtrArray *dfly_parent_ranking_rank (DflyScheduler *algorithm, const DflyScheduleHosts *hosts,
                                     SchedulePeer *child, guint limit);

G_END_DECLS
