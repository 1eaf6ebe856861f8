/* dfly-parent-weights.c — the weights of the scoring terms: the settings of both algorithms
 *
 * "default" weighs all six terms (its section, "default:"); "bandwidth"
 * breaks ties with the three locality terms and has its own weights for
 * them ("bandwidth:"), so tuning one algorithm never changes the other.
 */
#include "config.h"

#include <stddef.h>

#include "dfly-parent-score.h"

#define WEIGHT(name_, member, default_, doc_)                                          \
  {                                                                                    \
    name_, DFLY_CONFIG_RATIO, offsetof (DflyParentWeights, member), default_, 0, 1000, \
      DFLY_CONFIG_LIVE, doc_                                                           \
  }

/* Dragonfly v2.2's evaluator's weights. */
static const DflyConfigKey keys[] = {
  WEIGHT ("finished_piece_weight", finished_piece, "0.2", "weight of the finished share"),
  WEIGHT ("upload_success_weight", upload_success, "0.2", "weight of the upload success rate"),
  WEIGHT ("free_upload_weight", free_upload, "0.15", "weight of the free upload slots"),
  WEIGHT ("host_type_weight", host_type, "0.15", "weight of the host type"),
  WEIGHT ("idc_affinity_weight", idc_affinity, "0.15", "weight of the same IDC"),
  WEIGHT ("location_affinity_weight", location_affinity, "0.15",
          "weight of the shared location levels"),
};

const DflyConfigSection dfly_default_settings = {
  .size = sizeof (DflyParentWeights),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
};

/* bandwidth's tie-breaks: the locality terms, with their own weights. */
static const DflyConfigKey tie_break_keys[] = {
  WEIGHT ("host_type_weight", host_type, "0.15", "weight of the host type in a tie"),
  WEIGHT ("idc_affinity_weight", idc_affinity, "0.15", "weight of the same IDC in a tie"),
  WEIGHT ("location_affinity_weight", location_affinity, "0.15",
          "weight of the shared location levels in a tie"),
};

const DflyConfigSection dfly_bandwidth_settings = {
  .size = sizeof (DflyParentWeights),
  .keys = tie_break_keys,
  .n_keys = G_N_ELEMENTS (tie_break_keys),
};
