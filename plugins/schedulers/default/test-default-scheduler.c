/* test-default-scheduler.c — the "default" scheduler: v2.2's terms, weights and order */
#include "config.h"

#include <math.h>

#include "dfly/dfly.h"

#include "dfly-parent-score.h"
#include "test-scheduler-fixture.h"

#define assert_rank(f, limit, expected)                   \
  G_STMT_START                                            \
  {                                                       \
    g_autofree char *got_ = rank ((f), (limit));          \
    g_autofree char *rev_ = rank_reversed ((f), (limit)); \
    g_assert_cmpstr (got_, ==, (expected));               \
    g_assert_cmpstr (rev_, ==, (expected));               \
  }                                                       \
  G_STMT_END

static void
test_descriptor (void)
{
  test_descriptor_is ("default");
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  assert_rank (f, 4, "");
}

static void
test_same_idc_wins (Fixture *f, gconstpointer data)
{
  set_idc (add_candidate (f, "a"), "idc-b");
  add_candidate (f, "b");
  assert_rank (f, 4, "b,a");

  /* IDCs compare without ASCII case */
  set_idc (g_ptr_array_index (f->candidates, 0), "IDC-A");
  assert_rank (f, 4, "a,b");
}

static void
test_seed_wins (Fixture *f, gconstpointer data)
{
  DflyCandidate *seed;

  add_candidate (f, "a");
  seed = add_candidate (f, "b");
  seed->host->type = DFLY_HOST_TYPE_SUPER;
  assert_rank (f, 4, "b,a");
  seed->host->type = DFLY_HOST_TYPE_WEAK;
  seed->peer->state = DFLY_PEER_STATE_RECEIVED;
  assert_rank (f, 4, "b,a");
  /* as in v2.2: a seed peer that is done is the last choice, behind a
   * normal peer, so later downloads go to normal peers */
  seed->peer->state = DFLY_PEER_STATE_SUCCEEDED;
  assert_rank (f, 4, "a,b");
}

static void
test_more_finished_pieces_win (Fixture *f, gconstpointer data)
{
  DflyCandidate *a = add_candidate (f, "a");
  DflyCandidate *b = add_candidate (f, "b");
  DflyCandidate *c = add_candidate (f, "c");

  a->finished_pieces = 3;
  b->finished_pieces = 7;
  c->finished_pieces = 5;
  assert_rank (f, 4, "b,c,a");
  a->total_pieces = b->total_pieces = c->total_pieces = 10;
  assert_rank (f, 4, "b,c,a");

  /* total known: a share of the task; unknown: a share of the leader's */
  g_assert_cmpfloat_with_epsilon (dfly_parent_piece_score (b, 7), 0.7, 1e-9);
  a->total_pieces = b->total_pieces = c->total_pieces = 0;
  g_assert_cmpfloat_with_epsilon (dfly_parent_piece_score (b, 7), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (dfly_parent_piece_score (c, 7), 5.0 / 7, 1e-9);
  g_assert_cmpfloat (dfly_parent_piece_score (a, 0), ==, 0.0);
  a->total_pieces = 2; /* more finished than the total: capped */
  g_assert_cmpfloat (dfly_parent_piece_score (a, 0), ==, 1.0);
}

static void
test_upload_terms (Fixture *f, gconstpointer data)
{
  DflyCandidate *a = add_candidate (f, "a");
  DflyCandidate *b = add_candidate (f, "b");

  a->upload_success_rate = 0.5;
  b->upload_success_rate = 0.9;
  assert_rank (f, 4, "b,a");
  a->upload_success_rate = 1.0;
  assert_rank (f, 4, "a,b");

  b->upload_success_rate = 1.0;
  a->free_upload_slots = 50;
  b->free_upload_slots = 100;
  assert_rank (f, 4, "b,a");
  g_assert_cmpfloat_with_epsilon (dfly_parent_free_upload_score (b), 0.5, 1e-9);
  b->free_upload_slots = 5000;
  g_assert_cmpfloat (dfly_parent_free_upload_score (b), ==, 1.0);
  /* a seed host's slots are a share of 2000 */
  b->host->type = DFLY_HOST_TYPE_STRONG;
  b->free_upload_slots = 200;
  g_assert_cmpfloat_with_epsilon (dfly_parent_free_upload_score (b), 0.1, 1e-9);

  a->upload_success_rate = 7.0;
  g_assert_cmpfloat (dfly_parent_upload_success_score (a), ==, 1.0);
  a->upload_success_rate = -1.0;
  g_assert_cmpfloat (dfly_parent_upload_success_score (a), ==, 0.0);
  a->upload_success_rate = NAN;
  g_assert_cmpfloat (dfly_parent_upload_success_score (a), ==, 0.0);
}

static void
test_location_prefix (Fixture *f, gconstpointer data)
{
  set_location (add_candidate (f, "a"), "eu|fr|paris");
  set_location (add_candidate (f, "b"), "eu|de|munich");
  set_location (add_candidate (f, "c"), "EU|DE|Berlin");
  set_location (add_candidate (f, "d"), "asia");
  assert_rank (f, 4, "c,b,a,d");
}

static void
test_location_score (void)
{
  const struct {
    const char *parent;
    const char *child;
    double      score;
  } cases[] = {
    { "a|b|c", "a|b|c", 1.0 },
    { "a|b|c", "A|B|C", 1.0 },
    { "a|b|c", "a|b|d", 0.4 },
    { "a|b", "a|b|c", 0.4 },
    { "a|b|c|d|e|f", "a|b|c|d|e|g", 1.0 }, /* at most 5 elements count */
    { "a|b|c|d|e|f|g", "a|b|c|d|e", 1.0 },
    { "a|b|c|d|x", "a|b|c|d|e|f", 0.8 },
    { "x|b", "a|b", 0.0 },
    { "", "a", 0.0 },
    { "a", "", 0.0 },
    { "", "", 0.0 },
    { NULL, "a", 0.0 },
    { "|", "|", 1.0 },
    { "|x", "|y", 0.2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (DflyHostInfo) parent = dfly_host_info_new ("p");
    g_autoptr (DflyHostInfo) child = dfly_host_info_new ("c");

    parent->location = g_strdup (cases[i].parent);
    child->location = g_strdup (cases[i].child);
    g_test_message ("%s vs %s", cases[i].parent, cases[i].child);
    g_assert_cmpfloat_with_epsilon (dfly_parent_location_score (parent, child), cases[i].score,
                                    1e-9);
  }
  g_assert_cmpfloat (dfly_parent_location_score (NULL, NULL), ==, 0.0);
}

static void
test_limit (Fixture *f, gconstpointer data)
{
  const char *const ids[] = { "f", "e", "d", "c", "b", "a" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    add_candidate (f, ids[i])->finished_pieces = i; /* a has the most */
  assert_rank (f, 4, "a,b,c,d");
  assert_rank (f, 1, "a");
  assert_rank (f, 0, "");
  assert_rank (f, 100, "a,b,c,d,e,f");
}

static void
test_ties_deterministic (Fixture *f, gconstpointer data)
{
  add_candidate (f, "c");
  add_candidate (f, "a");
  add_candidate (f, "b");
  assert_rank (f, 4, "a,b,c");
}

/* Nothing the role may leave out makes the ranking crash or change its
 * mind: missing hosts, peers, IDCs, locations, the child's host, and NULL
 * slots in the array. */
static void
test_missing_fields (Fixture *f, gconstpointer data)
{
  DflyCandidate *no_host = add_candidate (f, "b");
  DflyCandidate *no_peer = add_candidate (f, "ignored");
  DflyCandidate *bare = add_candidate (f, "a");

  g_clear_pointer (&no_host->host, dfly_host_info_unref);
  g_clear_pointer (&no_peer->peer, dfly_peer_info_unref);
  g_clear_pointer (&bare->host->idc, g_free);
  g_clear_pointer (&bare->host->location, g_free);
  g_ptr_array_add (f->candidates, NULL);

  /* only the peerless one still shares the child's IDC and location; a and
   * b tie (a missing host counts as a normal one) and go by id */
  assert_rank (f, 4, "-,a,b");
  /* without the child's host no one matches IDC or location: all equal but
   * for the host type, which a missing host leaves normal */
  g_clear_pointer (&f->child_host, dfly_host_info_unref);
  g_clear_pointer (&f->child, dfly_peer_info_unref);
  assert_rank (f, 4, "a,b,-");
  no_peer->host->type = DFLY_HOST_TYPE_SUPER; /* a seed with no peer: not running */
  assert_rank (f, 4, "a,b,-");
}

/* The weights come from the config in force. */
static void
test_config_weights (void)
{
  g_autoptr (DflyConfig) idc_only = config_with ("  finished_piece_weight: 0\n"
                                                 "  upload_success_weight: 0\n"
                                                 "  free_upload_weight: 0\n"
                                                 "  host_type_weight: 0\n"
                                                 "  idc_affinity_weight: 1\n"
                                                 "  location_affinity_weight: 0\n");
  Fixture        f = { 0 };
  DflyCandidate *rich;

  fixture_set_up (&f, NULL);
  rich = add_candidate (&f, "a");
  set_idc (rich, "idc-b");
  rich->finished_pieces = 100;
  rich->free_upload_slots = 200;
  rich->host->type = DFLY_HOST_TYPE_SUPER;
  add_candidate (&f, "b")->upload_success_rate = 0.1;
  assert_rank (&f, 4, "a,b");

  /* a reload swaps the config; the next ranking uses it */
  dfly_context_set_config (f.context, idc_only);
  assert_rank (&f, 4, "b,a");
  fixture_tear_down (&f, NULL);

  fixture_set_up_with (&f, idc_only);
  set_idc (add_candidate (&f, "a"), "other");
  add_candidate (&f, "b")->finished_pieces = 0;
  assert_rank (&f, 4, "b,a");
  fixture_tear_down (&f, NULL);
}

/* The defaults are v2.2's, summed as it does. */
static void
test_default_weights (Fixture *f, gconstpointer data)
{
  DflyCandidate *a = add_candidate (f, "a");
  DflyCandidate *b = add_candidate (f, "b");

  /* a: half the pieces, all slots free, other IDC, 2 of 3 location levels:
   *    0.2·0.5 + 0.2·1 + 0.15·1 + 0.15·0.5 + 0 + 0.15·0.4 = 0.585
   * b: all pieces, 60 of 200 slots, same IDC and location, 0.5 success:
   *    0.2·1 + 0.2·0.5 + 0.15·0.3 + 0.15·0.5 + 0.15 + 0.15 = 0.72 */
  a->total_pieces = b->total_pieces = 8;
  a->finished_pieces = 4;
  a->free_upload_slots = 200;
  set_idc (a, "idc-b");
  set_location (a, "eu|de|munich");
  b->finished_pieces = 8;
  b->free_upload_slots = 60;
  b->upload_success_rate = 0.5;
  assert_rank (f, 4, "b,a");
  /* b's rate down to 0: 0.62 > 0.585; slots down to 0 as well: 0.575 */
  b->upload_success_rate = 0.0;
  assert_rank (f, 4, "b,a");
  b->free_upload_slots = 0;
  assert_rank (f, 4, "a,b");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scheduler/default/descriptor", test_descriptor);
  g_test_add_func ("/scheduler/default/location-score", test_location_score);
  g_test_add_func ("/scheduler/default/config-weights", test_config_weights);
#define ADD(path, func) \
  g_test_add ("/scheduler/default/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("empty", test_empty);
  ADD ("same-idc-wins", test_same_idc_wins);
  ADD ("seed-wins", test_seed_wins);
  ADD ("more-finished-pieces-win", test_more_finished_pieces_win);
  ADD ("upload-terms", test_upload_terms);
  ADD ("location-prefix", test_location_prefix);
  ADD ("limit", test_limit);
  ADD ("ties-deterministic", test_ties_deterministic);
  ADD ("missing-fields", test_missing_fields);
  ADD ("default-weights", test_default_weights);
#undef ADD

  return g_test_run ();
}
