/* test-piece-digest.c — CRC-32C and XXH3 piece digests against known values */
#include "config.h"

#include <string.h>
#include <xxhash.h>

#include <dfly/dfly.h>

/* Published CRC-32C check values (RFC 3720 B.4 and the "123456789" check). */
static void
test_crc32c_vectors (void)
{
  guint8 zeros[32] = { 0 };
  guint8 ones[32];
  guint8 ascending[32];

  memset (ones, 0xff, sizeof ones);
  for (guint i = 0; i < sizeof ascending; i++)
    ascending[i] = i;
  for (int hw = 0; hw < 2; hw++) {
    guint32 (*crc) (guint32, const void *, gsize) = hw ? dfly_crc32c : dfly_crc32c_portable;

    g_assert_cmphex (crc (0, "123456789", 9), ==, 0xe3069283);
    g_assert_cmphex (crc (0, zeros, sizeof zeros), ==, 0x8a9136aa);
    g_assert_cmphex (crc (0, ones, sizeof ones), ==, 0x62a8ab43);
    g_assert_cmphex (crc (0, ascending, sizeof ascending), ==, 0x46dd794e);
    g_assert_cmphex (crc (0, "", 0), ==, 0);
  }
}

/* The accelerated path agrees with the table at every length and alignment,
 * and continuing a CRC over pieces equals one pass. */
static void
test_crc32c_paths_agree (void)
{
  g_autofree guint8 *buffer = g_malloc (4096 + 8);
  GRand             *rand = g_rand_new_with_seed (42);

  for (guint i = 0; i < 4096 + 8; i++)
    buffer[i] = g_rand_int (rand);
  g_rand_free (rand);
  g_test_message ("CRC-32C accelerated: %s", dfly_crc32c_is_accelerated () ? "yes" : "no");
  for (guint offset = 0; offset < 8; offset++) {
    for (guint length = 0; length <= 4096; length += (length < 64 ? 1 : 61)) {
      guint32 whole = dfly_crc32c_portable (0, buffer + offset, length);
      guint32 split = dfly_crc32c (0, buffer + offset, length / 3);

      split = dfly_crc32c (split, buffer + offset + length / 3, length - length / 3);
      g_assert_cmphex (dfly_crc32c (0, buffer + offset, length), ==, whole);
      g_assert_cmphex (split, ==, whole);
    }
  }
}

static void
test_digest_strings (void)
{
  g_autoptr (DflyPieceDigest) crc = dfly_piece_digest_new (DFLY_PIECE_DIGEST_CRC32C);
  g_autoptr (DflyPieceDigest) xxh = dfly_piece_digest_new (DFLY_PIECE_DIGEST_XXH3);
  g_autoptr (DflyPieceDigest) empty = dfly_piece_digest_new (DFLY_PIECE_DIGEST_XXH3);
  g_autofree char *crc_hex = NULL;
  g_autofree char *xxh_hex = NULL;
  g_autofree char *empty_hex = NULL;
  g_autofree char *expected = NULL;

  /* Fed in uneven chunks, as a stream through a buffer would. */
  dfly_piece_digest_update (crc, "1234", 4);
  dfly_piece_digest_update (crc, "56789", 5);
  crc_hex = dfly_piece_digest_finish (crc);
  g_assert_cmpstr (crc_hex, ==, "crc32c:e3069283");

  dfly_piece_digest_update (xxh, "1234", 4);
  dfly_piece_digest_update (xxh, "56789", 5);
  xxh_hex = dfly_piece_digest_finish (xxh);
  expected =
    g_strdup_printf ("xxh3:%016" G_GINT64_MODIFIER "x", (guint64) XXH3_64bits ("123456789", 9));
  g_assert_cmpstr (xxh_hex, ==, expected);

  /* XXH3-64 of no bytes, as published by xxHash. */
  empty_hex = dfly_piece_digest_finish (empty);
  g_assert_cmpstr (empty_hex, ==, "xxh3:2d06800538d394c2");
}

static void
test_algo_names (void)
{
  DflyPieceDigestAlgo algo = DFLY_PIECE_DIGEST_XXH3;

  g_assert_true (dfly_piece_digest_algo_from_string ("crc32c", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_CRC32C);
  g_assert_true (dfly_piece_digest_algo_from_string ("xxh3", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_XXH3);
  g_assert_false (dfly_piece_digest_algo_from_string ("md5", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string ("", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string (NULL, &algo));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/piece-digest/crc32c-vectors", test_crc32c_vectors);
  g_test_add_func ("/piece-digest/crc32c-paths-agree", test_crc32c_paths_agree);
  g_test_add_func ("/piece-digest/digest-strings", test_digest_strings);
  g_test_add_func ("/piece-digest/algo-names", test_algo_names);
  return g_test_run ();
}
