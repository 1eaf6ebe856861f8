/* test-piece-digest.c — SHA-256, CRC-32C and XXH3 piece digests against known values */
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

static char *
sha256_of (const char *data, gsize length, gsize chunk)
{
  g_autoptr (DflyPieceDigest) digest = dfly_piece_digest_new (DFLY_PIECE_DIGEST_SHA256);

  for (gsize offset = 0; offset < length; offset += chunk)
    dfly_piece_digest_update (digest, data + offset, MIN (chunk, length - offset));
  return dfly_piece_digest_finish (digest);
}

/* FIPS 180-2's SHA-256 examples (and the empty string), fed whole and in uneven chunks. */
static void
test_sha256_vectors (void)
{
  static const struct {
    const char *data;
    const char *hex;
  } vectors[] = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  };
  g_autofree char *million = g_malloc (1000000);
  g_autofree char *million_hex = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++) {
    g_autofree char *expected = g_strconcat ("sha256:", vectors[i].hex, NULL);
    g_autofree char *whole = sha256_of (vectors[i].data, strlen (vectors[i].data), 64);
    g_autofree char *split = sha256_of (vectors[i].data, strlen (vectors[i].data), 7);

    g_assert_cmpstr (whole, ==, expected);
    g_assert_cmpstr (split, ==, expected);
  }
  /* One million 'a', in chunks that straddle the 64-byte block. */
  memset (million, 'a', 1000000);
  million_hex = sha256_of (million, 1000000, 4099);
  g_assert_cmpstr (million_hex, ==,
                   "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void
test_algo_names (void)
{
  DflyPieceDigestAlgo algo = DFLY_PIECE_DIGEST_XXH3;

  g_assert_true (dfly_piece_digest_algo_from_string ("sha256", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_SHA256);
  g_assert_true (dfly_piece_digest_algo_from_string ("crc32c", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_CRC32C);
  g_assert_true (dfly_piece_digest_algo_from_string ("xxh3", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_XXH3);
  g_assert_false (dfly_piece_digest_algo_from_string ("md5", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string ("SHA256", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string ("sha-256", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string ("", &algo));
  g_assert_false (dfly_piece_digest_algo_from_string (NULL, &algo));
}

/* A child checks a parent's piece against the back-to-source peer's digest, with
 * that digest's algorithm: any known one under crc32c or xxh3, only SHA-256
 * under sha256 (a forgeable reference would let a parent forge). */
static void
test_may_check (void)
{
  static const char *const sha =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  DflyPieceDigestAlgo algo = DFLY_PIECE_DIGEST_CRC32C;

  g_assert_true (dfly_piece_digest_algo_of (sha, &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_SHA256);
  g_assert_true (dfly_piece_digest_algo_of ("xxh3:2d06800538d394c2", &algo));
  g_assert_cmpint (algo, ==, DFLY_PIECE_DIGEST_XXH3);
  g_assert_false (dfly_piece_digest_algo_of ("sha256", &algo));
  g_assert_false (dfly_piece_digest_algo_of ("md5:d41d8cd98f00b204e9800998ecf8427e", &algo));
  g_assert_false (dfly_piece_digest_algo_of (":", &algo));
  g_assert_false (dfly_piece_digest_algo_of ("", &algo));
  g_assert_false (dfly_piece_digest_algo_of (NULL, &algo));

  g_assert_true (dfly_piece_digest_algo_is_cryptographic (DFLY_PIECE_DIGEST_SHA256));
  g_assert_false (dfly_piece_digest_algo_is_cryptographic (DFLY_PIECE_DIGEST_CRC32C));
  g_assert_false (dfly_piece_digest_algo_is_cryptographic (DFLY_PIECE_DIGEST_XXH3));

  g_assert_true (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_SHA256, sha));
  g_assert_false (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_SHA256, "crc32c:e3069283"));
  g_assert_false (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_SHA256, "xxh3:2d06800538d394c2"));
  g_assert_true (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_CRC32C, "crc32c:e3069283"));
  g_assert_true (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_CRC32C, "xxh3:2d06800538d394c2"));
  g_assert_true (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_XXH3, sha));
  g_assert_false (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_CRC32C, "md5:00"));
  g_assert_false (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_CRC32C, "e3069283"));
  g_assert_false (dfly_piece_digest_may_check (DFLY_PIECE_DIGEST_SHA256, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/piece-digest/crc32c-vectors", test_crc32c_vectors);
  g_test_add_func ("/piece-digest/crc32c-paths-agree", test_crc32c_paths_agree);
  g_test_add_func ("/piece-digest/digest-strings", test_digest_strings);
  g_test_add_func ("/piece-digest/sha256-vectors", test_sha256_vectors);
  g_test_add_func ("/piece-digest/algo-names", test_algo_names);
  g_test_add_func ("/piece-digest/may-check", test_may_check);
  return g_test_run ();
}
