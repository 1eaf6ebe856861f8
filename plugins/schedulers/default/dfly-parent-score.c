/* dfly-parent-score.c — Dragonfly v2.2's scoring terms for one parent, and the ranking
 *
 * The terms follow Dragonfly v2.2's evaluator (scheduler/scheduling/evaluator,
 * evaluator_base.go), with two differences where our inputs differ:
 *  - finished pieces: with the task's piece count unknown, v2.2 uses the
 *    parent's count minus the child's, an unbounded number. We have no child
 *    count, and an unbounded term would swamp the others, so we divide by
 *    the best candidate's count instead: still 0..1, and the leader scores 1.
 *  - upload success: v2.2 derives it from upload and failure counts (a host
 *    that never uploaded scores 1); the role hands us the rate itself.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "dfly-parent-score.h"

void
dfly_parent_weights_load (DflyScheduler *scheduler, DflyParentWeights *weights)
{
  /* A reference: ranking may run off the main thread while a reload swaps. */
  g_autoptr (DflySettings) settings = dfly_component_dup_settings (DFLY_COMPONENT (scheduler));

  *weights = (DflyParentWeights){ 0 };
  g_return_if_fail (settings != NULL);
  *weights = *(const DflyParentWeights *) dfly_settings_get_values (settings);
}

double
dfly_parent_piece_score (const DflyCandidate *candidate, guint32 most_finished)
{
  guint32 total = candidate->total_pieces;

  if (total > 0)
    return (double) MIN (candidate->finished_pieces, total) / total;
  if (most_finished > 0)
    return (double) MIN (candidate->finished_pieces, most_finished) / most_finished;
  return 0.0;
}

double
dfly_parent_upload_success_score (const DflyCandidate *candidate)
{
  double rate = candidate->upload_success_rate;

  if (isnan (rate))
    return 0.0;
  return CLAMP (rate, 0.0, 1.0);
}

static gboolean
is_seed (const DflyHostInfo *host)
{
  return host != NULL && host->type != DFLY_HOST_TYPE_NORMAL;
}

double
dfly_parent_free_upload_score (const DflyCandidate *candidate)
{
  guint limit =
    is_seed (candidate->host) ? DFLY_PARENT_SEED_UPLOAD_SLOTS : DFLY_PARENT_UPLOAD_SLOTS;

  return (double) MIN (candidate->free_upload_slots, limit) / limit;
}

/* v2.2 sends a task's first downloads to seed peers (which fetch from the
 * origin while they serve) and later ones to normal peers: a seed peer that
 * is no longer receiving or running is the last choice. */
double
dfly_parent_host_type_score (const DflyCandidate *candidate)
{
  if (!is_seed (candidate->host))
    return 0.5;
  if (candidate->peer != NULL && (candidate->peer->state == DFLY_PEER_STATE_RECEIVED ||
                                  candidate->peer->state == DFLY_PEER_STATE_RUNNING))
    return 1.0;
  return 0.0;
}

static gboolean
is_known (const char *text)
{
  return text != NULL && text[0] != '\0';
}

double
dfly_parent_idc_score (const DflyHostInfo *parent, const DflyHostInfo *child)
{
  if (parent == NULL || child == NULL || !is_known (parent->idc) || !is_known (child->idc))
    return 0.0;
  return g_ascii_strcasecmp (parent->idc, child->idc) == 0 ? 1.0 : 0.0;
}

double
dfly_parent_location_score (const DflyHostInfo *parent, const DflyHostInfo *child)
{
  g_auto (GStrv) a = NULL;
  g_auto (GStrv) b = NULL;
  guint matched = 0;

  if (parent == NULL || child == NULL || !is_known (parent->location) ||
      !is_known (child->location))
    return 0.0;
  if (g_ascii_strcasecmp (parent->location, child->location) == 0)
    return 1.0;

  /* One more token than we compare: the last holds the rest, unsplit. */
  a = g_strsplit (parent->location, "|", DFLY_PARENT_LOCATION_ELEMENTS + 1);
  b = g_strsplit (child->location, "|", DFLY_PARENT_LOCATION_ELEMENTS + 1);
  while (matched < DFLY_PARENT_LOCATION_ELEMENTS && a[matched] != NULL && b[matched] != NULL &&
         g_ascii_strcasecmp (a[matched], b[matched]) == 0)
    matched++;
  return (double) matched / DFLY_PARENT_LOCATION_ELEMENTS;
}

static const char *
peer_id (const DflyParentScore *s)
{
  return s->candidate->peer != NULL ? s->candidate->peer->id : NULL;
}

static int
compare_scores (gconstpointer pa, gconstpointer pb)
{
  const DflyParentScore *a = pa;
  const DflyParentScore *b = pb;
  const char            *id_a = peer_id (a);
  const char            *id_b = peer_id (b);

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  if (a->tie_break != b->tie_break)
    return a->tie_break > b->tie_break ? -1 : 1;
  if ((id_a == NULL) != (id_b == NULL))
    return id_a == NULL ? 1 : -1;
  if (id_a != NULL && strcmp (id_a, id_b) != 0)
    return strcmp (id_a, id_b);
  return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
}

GPtrArray *
dfly_parent_scores_rank (GArray *scores, guint limit)
{
  guint      n = MIN (scores->len, limit);
  GPtrArray *ranked = g_ptr_array_sized_new (n);

  g_array_sort (scores, compare_scores);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ranked, g_array_index (scores, DflyParentScore, i).candidate);
  return ranked;
}
