/* dfly-bandwidth-scheduler.c — the "bandwidth" scheduling algorithm: expected useful throughput
 *
 * "default" asks how good a parent is in general; this asks how many useful
 * bytes per second a parent can send this child now. Two things cap that:
 *
 *   - what the parent can send: its free upload bandwidth, B (bytes/s);
 *   - what it has that the child still lacks: L pieces of P bytes. Looked at
 *     over a horizon of H seconds, those bytes are worth at most L × P / H
 *     bytes/s: a parent holding two pieces the child lacks cannot keep a fast
 *     link busy for long, however fast it is.
 *
 *   throughput = min (B, L × P / H)        H = 10 s; P = 4 MiB when unknown
 *
 * Parents are ranked by throughput in steps of 1 MiB/s, so that parents
 * alike to within a step are told apart by locality: v2.2's host type, same
 * IDC and location prefix terms with the weights of this plugin's section
 * (bandwidth.host_type_weight, .idc_affinity_weight,
 * .location_affinity_weight), then by peer id.
 *
 * A parent with no piece the child lacks (L = 0) can send nothing useful
 * and is never chosen. One with no free bandwidth is kept, last: a role that
 * cannot measure bandwidth reports 0, and a child needs some parent.
 */
#include "config.h"

#include "dfly/dfly.h"

#include "../default/dfly-parent-score.h"

#define HORIZON_SECONDS       10
#define FALLBACK_PIECE_LENGTH (G_GUINT64_CONSTANT (4) * 1024 * 1024) /* Dragonfly's smallest */
#define THROUGHPUT_STEP       (G_GUINT64_CONSTANT (1024) * 1024)     /* bytes/s */

G_DECLARE_FINAL_TYPE (DflyBandwidthScheduler, dfly_bandwidth_scheduler, DFLY, BANDWIDTH_SCHEDULER,
                      DflyScheduler)

struct _DflyBandwidthScheduler {
  DflyScheduler parent_instance;
};

G_DEFINE_FINAL_TYPE (DflyBandwidthScheduler, dfly_bandwidth_scheduler, DFLY_TYPE_SCHEDULER)

/* min (B, L × P / H), saturating rather than overflowing. */
static guint64
useful_throughput (const DflyCandidate *c)
{
  guint64 piece_length = c->piece_length != 0 ? c->piece_length : FALLBACK_PIECE_LENGTH;
  guint64 lacking_bytes = G_MAXUINT64;

  if (piece_length <= G_MAXUINT64 / c->pieces_child_lacks)
    lacking_bytes = piece_length * c->pieces_child_lacks;
  return MIN (c->free_upload_bandwidth, lacking_bytes / HORIZON_SECONDS);
}

static GPtrArray *
dfly_bandwidth_scheduler_rank_parents (DflyScheduler *scheduler, const DflyPeerInfo *child,
                                       const DflyHostInfo *child_host, GPtrArray *candidates,
                                       guint limit)
{
  DflyParentWeights w;
  g_autoptr (GArray) scores =
    g_array_sized_new (FALSE, FALSE, sizeof (DflyParentScore), candidates->len);

  dfly_parent_weights_load (scheduler, &w);
  for (guint i = 0; i < candidates->len; i++) {
    DflyCandidate  *c = g_ptr_array_index (candidates, i);
    DflyParentScore s = { .candidate = c, .index = i };

    if (c == NULL || c->pieces_child_lacks == 0)
      continue;
    s.score = (double) (useful_throughput (c) / THROUGHPUT_STEP);
    s.tie_break = w.host_type * dfly_parent_host_type_score (c) +
                  w.idc_affinity * dfly_parent_idc_score (c->host, child_host) +
                  w.location_affinity * dfly_parent_location_score (c->host, child_host);
    g_array_append_val (scores, s);
  }
  return dfly_parent_scores_rank (scores, limit);
}

static void
dfly_bandwidth_scheduler_class_init (DflyBandwidthSchedulerClass *klass)
{
  DFLY_SCHEDULER_CLASS (klass)->rank_parents = dfly_bandwidth_scheduler_rank_parents;
}

static void
dfly_bandwidth_scheduler_init (DflyBandwidthScheduler *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("bandwidth", DFLY_PLUGIN_KIND_SCHEDULER, PACKAGE_VERSION,
                                  "Apache-2.0",
                                  "Bandwidth: parents ranked by the useful bytes per second "
                                  "they can send",
                                  dfly_bandwidth_scheduler_get_type, &dfly_bandwidth_settings)
