/* dfly-scheduler-settings.h — the scheduler role's keys of the "scheduler" section
 *
 * The section's port is the daemon's (DflyConfig.scheduler.port), since
 * this dflyd's peer finds its local scheduler there; the rest is the role's.
 */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

typedef struct {
  guint candidate_parents;    /* parents offered to a child at once */
  guint back_to_source_limit; /* normal peers of a task sent to the origin */
  guint max_hosts;            /* cap on hosts the scheduler tracks */
  guint max_tasks;            /* cap on tasks */
  guint max_peers_per_task;   /* cap on one task's peers */
  guint max_peers_per_stream; /* cap on the peers one announce stream registers */
  guint max_pieces;           /* cap on one task's pieces (bitmaps, digests) */
  char *algorithm;            /* scheduler plugin that ranks parents */
} DflySchedulerSettings;

extern const DflyConfigSection dfly_scheduler_settings;

/* The settings in force in context, borrowed as dfly_context_get_config()
 * is: for the role's parts that hold the context, not the component. */
const DflySchedulerSettings *dfly_scheduler_settings_get (DflyContext *context);

G_END_DECLS
