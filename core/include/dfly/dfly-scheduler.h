/* dfly-scheduler.h — a scheduling algorithm: which parents a child should use
 *
 * The scheduler role filters candidates (blocklists, cycles, bad nodes) and
 * asks the configured algorithm to rank what is left.
 */
#pragma once

#include <glib-object.h>

#include "dfly-component.h"
#include "dfly-types.h"

G_BEGIN_DECLS

/* What the role knows of one candidate parent when it asks for a ranking. */
typedef struct {
  DflyPeerInfo *peer;
  DflyHostInfo *host;
  guint32       finished_pieces;
  guint32       pieces_child_lacks;
  guint         free_upload_slots;
  guint64       free_upload_bandwidth; /* bytes/s */
  double        upload_success_rate;   /* 0..1; 1 for a host that has not uploaded yet */
  /* Of the task, the same in every candidate: what an algorithm needs to turn
   * piece counts into a share of the task or into bytes. */
  guint32 total_pieces; /* 0 while the length is unknown */
  guint64 piece_length; /* bytes; 0 if unknown */
} DflyCandidate;

#define DFLY_TYPE_SCHEDULER (dfly_scheduler_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyScheduler, dfly_scheduler, DFLY, SCHEDULER, DflyComponent)

struct _DflySchedulerClass {
  DflyComponentClass parent_class;

  /* Returns the best candidates for child, best first, at most limit of
   * them, as a new array of borrowed DflyCandidate pointers. */
  GPtrArray *(*rank_parents) (DflyScheduler *self, const DflyPeerInfo *child,
                              const DflyHostInfo *child_host, GPtrArray *candidates, guint limit);

  gpointer padding[12];
};

GPtrArray *dfly_scheduler_rank_parents (DflyScheduler *self, const DflyPeerInfo *child,
                                        const DflyHostInfo *child_host, GPtrArray *candidates,
                                        guint limit);

G_END_DECLS
