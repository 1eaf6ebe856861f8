/* dfly-default-scheduler.c — the "default" scheduling algorithm: Dragonfly v2.2's evaluator
 *
 * Each candidate parent scores the weighted sum of six terms, each 0..1
 * (dfly-parent-score.c has the formulas and where they differ from v2.2):
 *
 *   finished pieces    default.finished_piece_weight     0.2
 *   upload success     default.upload_success_weight     0.2
 *   free upload slots  default.free_upload_weight        0.15
 *   host type          default.host_type_weight          0.15
 *   same IDC           default.idc_affinity_weight       0.15
 *   location prefix    default.location_affinity_weight  0.15
 *
 * The best `limit` come back, best first; equal scores go by peer id, so the
 * order never depends on the order of the input.
 */
#include "config.h"

#include "dfly/dfly.h"

#include "dfly-parent-score.h"

G_DECLARE_FINAL_TYPE (DflyDefaultScheduler, dfly_default_scheduler, DFLY, DEFAULT_SCHEDULER,
                      DflyScheduler)

struct _DflyDefaultScheduler {
  DflyScheduler parent_instance;
};

G_DEFINE_FINAL_TYPE (DflyDefaultScheduler, dfly_default_scheduler, DFLY_TYPE_SCHEDULER)

static GPtrArray *
dfly_default_scheduler_rank_parents (DflyScheduler *scheduler, const DflyPeerInfo *child,
                                     const DflyHostInfo *child_host, GPtrArray *candidates,
                                     guint limit)
{
  DflyParentWeights w;
  g_autoptr (GArray) scores =
    g_array_sized_new (FALSE, FALSE, sizeof (DflyParentScore), candidates->len);
  guint32 most_finished = 0;

  dfly_parent_weights_load (scheduler, &w);
  for (guint i = 0; i < candidates->len; i++) {
    const DflyCandidate *c = g_ptr_array_index (candidates, i);

    if (c != NULL)
      most_finished = MAX (most_finished, c->finished_pieces);
  }

  for (guint i = 0; i < candidates->len; i++) {
    DflyCandidate  *c = g_ptr_array_index (candidates, i);
    DflyParentScore s = { .candidate = c, .index = i };

    if (c == NULL)
      continue;
    s.score = w.finished_piece * dfly_parent_piece_score (c, most_finished) +
              w.upload_success * dfly_parent_upload_success_score (c) +
              w.free_upload * dfly_parent_free_upload_score (c) +
              w.host_type * dfly_parent_host_type_score (c) +
              w.idc_affinity * dfly_parent_idc_score (c->host, child_host) +
              w.location_affinity * dfly_parent_location_score (c->host, child_host);
    g_array_append_val (scores, s);
  }
  return dfly_parent_scores_rank (scores, limit);
}

static void
dfly_default_scheduler_class_init (DflyDefaultSchedulerClass *klass)
{
  DFLY_SCHEDULER_CLASS (klass)->rank_parents = dfly_default_scheduler_rank_parents;
}

static void
dfly_default_scheduler_init (DflyDefaultScheduler *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("default", DFLY_PLUGIN_KIND_SCHEDULER, PACKAGE_VERSION,
                                  "Apache-2.0",
                                  "Default: Dragonfly v2.2's weighted evaluator of parents",
                                  dfly_default_scheduler_get_type, &dfly_default_settings)
