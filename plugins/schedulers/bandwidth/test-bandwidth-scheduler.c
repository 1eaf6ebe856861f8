/* test-bandwidth-scheduler.c — the "bandwidth" scheduler: useful throughput, then locality */
#include "config.h"

#include "dfly/dfly.h"

#include "../default/test-scheduler-fixture.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

#define assert_rank(f, limit, expected)                   \
  G_STMT_START                                            \
  {                                                       \
    g_autofree char *got_ = rank ((f), (limit));          \
    g_autofree char *rev_ = rank_reversed ((f), (limit)); \
    g_assert_cmpstr (got_, ==, (expected));               \
    g_assert_cmpstr (rev_, ==, (expected));               \
  }                                                       \
  G_STMT_END

static DflyCandidate *
add_parent (Fixture *f, const char *id, guint64 bandwidth, guint32 lacks)
{
  DflyCandidate *c = add_candidate (f, id);

  c->free_upload_bandwidth = bandwidth;
  c->pieces_child_lacks = lacks;
  c->piece_length = 4 * MiB;
  return c;
}

static void
test_descriptor (void)
{
  test_descriptor_is ("bandwidth");
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  assert_rank (f, 4, "");
}

/* min (bandwidth, lacking bytes / 10 s): a sends 40 MiB/s (its 100 pieces
 * cap it), b 10 MiB/s (its link caps it), c 2 MiB/s (5 pieces). */
static void
test_useful_throughput_wins (Fixture *f, gconstpointer data)
{
  add_parent (f, "c", 100 * MiB, 5);
  add_parent (f, "b", 10 * MiB, 100);
  add_parent (f, "a", 50 * MiB, 100);
  assert_rank (f, 4, "a,b,c");

  /* more useful pieces on the fast link: c overtakes a (80 MiB/s) */
  ((DflyCandidate *) g_ptr_array_index (f->candidates, 0))->pieces_child_lacks = 200;
  assert_rank (f, 4, "c,a,b");
}

static void
test_piece_length (Fixture *f, gconstpointer data)
{
  DflyCandidate *a = add_parent (f, "a", 100 * MiB, 100); /* 40 MiB/s */
  DflyCandidate *b = add_parent (f, "b", 100 * MiB, 50);  /* 20 MiB/s */

  assert_rank (f, 4, "a,b");
  b->piece_length = 16 * MiB; /* 80 MiB/s */
  assert_rank (f, 4, "b,a");
  /* unknown: 4 MiB, Dragonfly's smallest piece */
  a->piece_length = 0;
  b->piece_length = 0;
  assert_rank (f, 4, "a,b");
  /* a product past 64 bits saturates: the link is the cap */
  b->piece_length = G_MAXUINT64;
  b->pieces_child_lacks = 3;
  assert_rank (f, 4, "b,a");
}

static void
test_zero_useful_excluded (Fixture *f, gconstpointer data)
{
  add_parent (f, "a", 1000 * MiB, 0)->host->type = DFLY_HOST_TYPE_SUPER;
  add_parent (f, "b", 1 * MiB, 3);
  add_parent (f, "c", 0, 3); /* no free bandwidth: kept, last */
  assert_rank (f, 4, "b,c");
  ((DflyCandidate *) g_ptr_array_index (f->candidates, 1))->pieces_child_lacks = 0;
  ((DflyCandidate *) g_ptr_array_index (f->candidates, 2))->pieces_child_lacks = 0;
  assert_rank (f, 4, "");
}

/* Within one 1 MiB/s step, locality decides: same IDC, then a running seed. */
static void
test_locality_breaks_ties (Fixture *f, gconstpointer data)
{
  DflyCandidate *a = add_parent (f, "a", 10 * MiB + 100, 100);
  DflyCandidate *b = add_parent (f, "b", 10 * MiB + 900 * 1024, 100);

  set_idc (b, "idc-b");
  assert_rank (f, 4, "a,b");
  set_idc (b, "idc-a");
  set_location (b, "eu|de|berlin|mitte"); /* 3 of 5 levels: 0.15·0.6 */
  assert_rank (f, 4, "a,b");
  /* a running seed: +0.15·0.5, more than the location's −0.15·0.4 */
  b->host->type = DFLY_HOST_TYPE_STRONG;
  assert_rank (f, 4, "b,a");
  /* a whole step more bandwidth beats any locality */
  a->free_upload_bandwidth = 12 * MiB;
  set_idc (a, "elsewhere");
  assert_rank (f, 4, "a,b");
}

static void
test_limit (Fixture *f, gconstpointer data)
{
  const char *const ids[] = { "f", "e", "d", "c", "b", "a" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    add_parent (f, ids[i], (i + 1) * MiB, 1000);
  assert_rank (f, 4, "a,b,c,d");
  assert_rank (f, 1, "a");
  assert_rank (f, 0, "");
}

static void
test_ties_deterministic (Fixture *f, gconstpointer data)
{
  add_parent (f, "c", 5 * MiB, 10);
  add_parent (f, "a", 5 * MiB, 10);
  add_parent (f, "b", 5 * MiB, 10);
  assert_rank (f, 4, "a,b,c");
}

static void
test_missing_fields (Fixture *f, gconstpointer data)
{
  DflyCandidate *no_host = add_parent (f, "b", 5 * MiB, 10);
  DflyCandidate *no_peer = add_parent (f, "ignored", 5 * MiB, 10);
  DflyCandidate *bare = add_parent (f, "a", 5 * MiB, 10);

  g_clear_pointer (&no_host->host, dfly_host_info_unref);
  g_clear_pointer (&no_peer->peer, dfly_peer_info_unref);
  g_clear_pointer (&bare->host->idc, g_free);
  g_clear_pointer (&bare->host->location, g_free);
  g_ptr_array_add (f->candidates, NULL);
  assert_rank (f, 4, "-,a,b");
  g_clear_pointer (&f->child_host, dfly_host_info_unref);
  g_clear_pointer (&f->child, dfly_peer_info_unref);
  assert_rank (f, 4, "a,b,-");
}

/* The tie-break weights come from the config. */
static void
test_config_weights (void)
{
  g_autoptr (DflyConfig) no_locality = config_with ("  host_type_weight: 0\n"
                                                    "  idc_affinity_weight: 0\n"
                                                    "  location_affinity_weight: 0\n");
  g_autoptr (DflyConfig) idc_only = config_with ("  host_type_weight: 0\n"
                                                 "  idc_affinity_weight: 1\n"
                                                 "  location_affinity_weight: 0\n");
  Fixture        f = { 0 };
  DflyCandidate *a;

  fixture_set_up (&f, NULL);
  a = add_parent (&f, "a", 5 * MiB, 10);
  set_idc (a, "idc-b");
  add_parent (&f, "b", 5 * MiB, 10);
  assert_rank (&f, 4, "b,a");
  dfly_context_set_config (f.context, no_locality);
  assert_rank (&f, 4, "a,b");
  /* IDC alone outweighs a running seed now */
  a->host->type = DFLY_HOST_TYPE_SUPER;
  dfly_context_set_config (f.context, idc_only);
  assert_rank (&f, 4, "b,a");
  fixture_tear_down (&f, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scheduler/bandwidth/descriptor", test_descriptor);
  g_test_add_func ("/scheduler/bandwidth/config-weights", test_config_weights);
#define ADD(path, func) \
  g_test_add ("/scheduler/bandwidth/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("empty", test_empty);
  ADD ("useful-throughput-wins", test_useful_throughput_wins);
  ADD ("piece-length", test_piece_length);
  ADD ("zero-useful-excluded", test_zero_useful_excluded);
  ADD ("locality-breaks-ties", test_locality_breaks_ties);
  ADD ("limit", test_limit);
  ADD ("ties-deterministic", test_ties_deterministic);
  ADD ("missing-fields", test_missing_fields);
#undef ADD

  return g_test_run ();
}
