/* dfly-parent-ranking.c — which of a task's peers a child may use, best first
 *
 * The scheduler role filters a task's peers down to the parents a child may
 * use (not itself, not its own host, not blocked, not bad, holding something,
 * with a free upload slot) and hands them to the scheduling algorithm plugin
 * to rank.
 */
#include "config.h"

#include "dfly-accusations.h"
#include "dfly-parent-ranking.h"

#define BAD_PARENT_FAILURES 3 /* failed uploads before a parent is avoided */
#define LIAR_ACCUSERS       2 /* hosts caught it lying, unanswered: offered to no one */

typedef struct {
  DflyCandidate candidate;
  SchedulePeer *peer;
} Ranked;

static void
ranked_free (gpointer data)
{
  Ranked *ranked = data;

  dfly_peer_info_unref (ranked->candidate.peer);
  g_free (ranked);
}

/* A parent several hosts caught lying (and its own look at the piece did
 * not clear: dfly-accusations.h), or one failing most uploads.
 * The peer this scheduler sent to the source is exempt: its digests are
 * the reference, so its bytes match them, and no child can ban it. */
static gboolean
is_bad_parent (const SchedulePeer *parent)
{
  if (parent->sent_to_source)
    return FALSE;
  return dfly_accusations_count (parent) >= LIAR_ACCUSERS ||
         (parent->uploads_failed >= BAD_PARENT_FAILURES &&
          parent->uploads_failed > parent->uploads_ok);
}

static guint32
pieces_lacked (const SchedulePeer *child, const SchedulePeer *parent)
{
  guint32 count = 0;

  for (guint i = 0; i < parent->bitmap->len; i++) {
    guint8 lacked =
      parent->bitmap->data[i] & ~(i < child->bitmap->len ? child->bitmap->data[i] : 0);

    count += __builtin_popcount (lacked);
  }
  return count;
}

GPtrArray *
dfly_parent_ranking_rank (DflyScheduler *algorithm, const DflyScheduleHosts *hosts,
                          SchedulePeer *child, guint limit)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (ranked_free);
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr (GPtrArray) best = NULL;
  g_autoptr (DflyPeerInfo) child_info =
    dfly_peer_info_new (child->id, child->task->id, child->host_id);
  DflyHostInfo *child_host = hosts->lookup (child->host_id, hosts->user_data);
  g_autoptr (DflyHostInfo) unknown_host = NULL;
  GPtrArray     *result = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer       value;

  g_hash_table_iter_init (&iter, child->task->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SchedulePeer *parent = value;
    DflyHostInfo *host;
    Ranked       *ranked;

    if (parent == child || g_strcmp0 (parent->host_id, child->host_id) == 0 ||
        g_hash_table_contains (child->blocklist, parent->id) || is_bad_parent (parent))
      continue;
    if (parent->state != DFLY_PEER_STATE_RUNNING && parent->state != DFLY_PEER_STATE_SUCCEEDED &&
        parent->state != DFLY_PEER_STATE_BACK_TO_SOURCE)
      continue;
    /* A normal peer that holds nothing yet has nothing to give. */
    if (parent->finished == 0 && !parent->back_to_source)
      continue;
    host = hosts->lookup (parent->host_id, hosts->user_data);
    if (host == NULL || host->disable_shared || host->port == 0)
      continue;
    if (host->upload_slots > 0 && host->upload_slots_used >= host->upload_slots)
      continue;
    ranked = g_new0 (Ranked, 1);
    ranked->peer = parent;
    ranked->candidate.peer = dfly_peer_info_new (parent->id, parent->task->id, parent->host_id);
    ranked->candidate.peer->state = parent->state;
    ranked->candidate.host = host;
    ranked->candidate.finished_pieces = parent->finished;
    ranked->candidate.pieces_child_lacks = pieces_lacked (child, parent);
    ranked->candidate.free_upload_slots = host->upload_slots > host->upload_slots_used
                                            ? host->upload_slots - host->upload_slots_used
                                            : 0;
    ranked->candidate.free_upload_bandwidth = host->upload_rate_free;
    ranked->candidate.upload_success_rate =
      parent->uploads_ok + parent->uploads_failed == 0
        ? 1.0
        : (double) parent->uploads_ok / (parent->uploads_ok + parent->uploads_failed);
    ranked->candidate.total_pieces = child->task->piece_count;
    ranked->candidate.piece_length = child->task->piece_length;
    g_ptr_array_add (all, ranked);
    g_ptr_array_add (candidates, &ranked->candidate);
  }
  if (candidates->len == 0)
    return result;
  if (child_host == NULL)
    child_host = unknown_host = dfly_host_info_new (child->host_id);
  best = dfly_scheduler_rank_parents (algorithm, child_info, child_host, candidates, limit);
  /* Each DflyCandidate is the first member of its Ranked. */
  for (guint i = 0; i < best->len; i++)
    g_ptr_array_add (result, ((Ranked *) g_ptr_array_index (best, i))->peer);
  return result;
}
