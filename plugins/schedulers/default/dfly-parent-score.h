/* dfly-parent-score.h — Dragonfly v2.2's scoring terms for one parent, and the ranking
 *
 * Shared by the scheduler plugins: "default" sums the weighted terms, and
 * "bandwidth" (which compiles this file in too) uses the locality terms to
 * break ties. Each term is 0..1, larger is better.
 */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

/* Upload slots of a host (v2.2's defaults, docs/dragonfly.md): what its free
 * slots are a share of. */
#define DFLY_PARENT_UPLOAD_SLOTS      200
#define DFLY_PARENT_SEED_UPLOAD_SLOTS 2000

/* At most this many leading location elements count (v2.2's maxElementLen). */
#define DFLY_PARENT_LOCATION_ELEMENTS 5

/* The weights of the terms: the settings struct of both algorithms
 * (dfly-parent-weights.c). bandwidth's leaves the first three at 0. */
typedef struct {
  double finished_piece;
  double upload_success;
  double free_upload;
  double host_type;
  double idc_affinity;
  double location_affinity;
} DflyParentWeights;

extern const DflyConfigSection dfly_default_settings;
extern const DflyConfigSection dfly_bandwidth_settings;

/* The weights in force in the scheduler's own section. */
void dfly_parent_weights_load (DflyScheduler *scheduler, DflyParentWeights *weights);

/* finished / total pieces of the task when the total is known; otherwise
 * relative to the candidate with the most finished pieces (most_finished). */
double dfly_parent_piece_score (const DflyCandidate *candidate, guint32 most_finished);
double dfly_parent_upload_success_score (const DflyCandidate *candidate);
/* Free upload slots as a share of the host's slot limit (200, or 2000 for a
 * seed host). */
double dfly_parent_free_upload_score (const DflyCandidate *candidate);
/* A seed peer that is receiving or running: 1; a seed peer in any other
 * state: 0; a normal peer (or an unknown host): 0.5. */
double dfly_parent_host_type_score (const DflyCandidate *candidate);
/* 1 when both IDCs are known and equal, ignoring ASCII case; else 0. */
double dfly_parent_idc_score (const DflyHostInfo *parent, const DflyHostInfo *child);
/* 1 when both locations are known and equal, ignoring ASCII case; else the
 * number of equal leading '|'-separated elements, at most 5, divided by 5. */
double dfly_parent_location_score (const DflyHostInfo *parent, const DflyHostInfo *child);

/* One candidate's place in a ranking. */
typedef struct {
  DflyCandidate *candidate;
  double         score;     /* higher first */
  double         tie_break; /* higher first, among equal scores */
  guint          index;     /* place in the input: the last resort */
} DflyParentScore;

/* Sorts scores (DflyParentScore) by score, then tie_break, then peer id
 * (ascending; a missing id last), then index, and returns the first limit
 * candidates as a new array of borrowed pointers. */
GPtrArray *dfly_parent_scores_rank (GArray *scores, guint limit);

G_END_DECLS
