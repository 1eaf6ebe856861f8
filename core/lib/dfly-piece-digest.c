/* dfly-piece-digest.c — SHA-256 (GnuTLS), CRC-32C (hardware or table) and XXH3 piece digests */
#include "config.h"

#include <gnutls/crypto.h>
#include <string.h>
#include <xxhash.h>

#include "dfly/dfly-piece-digest.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82f63b78u /* Castagnoli, reflected */

struct _DflyPieceDigest {
  DflyPieceDigestAlgo algo;
  guint32             crc;
  XXH3_state_t       *xxh3;
  gnutls_hash_hd_t    sha256;
};

/* The table is computed once; it is constant afterwards. */
static const guint32 *
crc32c_table (void)
{
  static guint32 table[256];
  static gsize   ready = 0;

  if (g_once_init_enter (&ready)) {
    for (guint32 i = 0; i < 256; i++) {
      guint32 crc = i;

      for (int bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (CRC32C_POLY & (0u - (crc & 1u)));
      table[i] = crc;
    }
    g_once_init_leave (&ready, 1);
  }
  return table;
}

guint32
dfly_crc32c_portable (guint32 crc, const void *data, gsize length)
{
  const guint32 *table = crc32c_table ();
  const guint8  *p = data;

  crc = ~crc;
  while (length-- > 0)
    crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
__attribute__ ((target ("sse4.2"))) static guint32
crc32c_sse42 (guint32 crc, const void *data, gsize length)
{
  const guint8 *p = data;
  guint64       c = ~crc;

  for (; length > 0 && ((guintptr) p & 7) != 0; length--)
    c = _mm_crc32_u8 ((guint32) c, *p++);
  for (; length >= 8; length -= 8, p += 8) {
    guint64 word;

    memcpy (&word, p, sizeof word);
    c = _mm_crc32_u64 (c, word);
  }
  for (; length > 0; length--)
    c = _mm_crc32_u8 ((guint32) c, *p++);
  return ~(guint32) c;
}
#endif

gboolean
dfly_crc32c_is_accelerated (void)
{
#if defined(__x86_64__)
  return __builtin_cpu_supports ("sse4.2");
#else
  return FALSE;
#endif
}

guint32
dfly_crc32c (guint32 crc, const void *data, gsize length)
{
#if defined(__x86_64__)
  if (dfly_crc32c_is_accelerated ())
    return crc32c_sse42 (crc, data, length);
#endif
  return dfly_crc32c_portable (crc, data, length);
}

DflyPieceDigest *
dfly_piece_digest_new (DflyPieceDigestAlgo algo)
{
  DflyPieceDigest *self = g_new0 (DflyPieceDigest, 1);

  self->algo = algo;
  if (algo == DFLY_PIECE_DIGEST_XXH3) {
    self->xxh3 = XXH3_createState ();
    g_assert (self->xxh3 != NULL);
    XXH3_64bits_reset (self->xxh3);
  } else if (algo == DFLY_PIECE_DIGEST_SHA256) {
    /* GnuTLS hands SHA-256 to nettle, which uses the CPU's SHA extensions where present;
     * it fails only when out of memory. */
    int rc = gnutls_hash_init (&self->sha256, GNUTLS_DIG_SHA256);

    g_assert (rc == 0);
  }
  return self;
}

void
dfly_piece_digest_update (DflyPieceDigest *self, const void *data, gsize length)
{
  g_return_if_fail (self != NULL);
  switch (self->algo) {
  case DFLY_PIECE_DIGEST_SHA256:
    gnutls_hash (self->sha256, data, length);
    break;
  case DFLY_PIECE_DIGEST_XXH3:
    XXH3_64bits_update (self->xxh3, data, length);
    break;
  case DFLY_PIECE_DIGEST_CRC32C:
    self->crc = dfly_crc32c (self->crc, data, length);
    break;
  }
}

static char *
sha256_finish (DflyPieceDigest *self)
{
  guint8   sum[32];
  GString *text = g_string_sized_new (sizeof "sha256:" + 2 * sizeof sum);

  gnutls_hash_output (self->sha256, sum);
  g_string_append (text, "sha256:");
  for (gsize i = 0; i < sizeof sum; i++)
    g_string_append_printf (text, "%02x", sum[i]);
  return g_string_free (text, FALSE);
}

char *
dfly_piece_digest_finish (DflyPieceDigest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  switch (self->algo) {
  case DFLY_PIECE_DIGEST_SHA256:
    return sha256_finish (self);
  case DFLY_PIECE_DIGEST_XXH3:
    return g_strdup_printf ("xxh3:%016" G_GINT64_MODIFIER "x",
                            (guint64) XXH3_64bits_digest (self->xxh3));
  case DFLY_PIECE_DIGEST_CRC32C:
    break;
  }
  return g_strdup_printf ("crc32c:%08x", self->crc);
}

void
dfly_piece_digest_free (DflyPieceDigest *self)
{
  if (self == NULL)
    return;
  if (self->xxh3 != NULL)
    XXH3_freeState (self->xxh3);
  if (self->sha256 != NULL)
    gnutls_hash_deinit (self->sha256, NULL);
  g_free (self);
}

gboolean
dfly_piece_digest_algo_from_string (const char *name, DflyPieceDigestAlgo *algo)
{
  if (g_strcmp0 (name, "sha256") == 0)
    *algo = DFLY_PIECE_DIGEST_SHA256;
  else if (g_strcmp0 (name, "crc32c") == 0)
    *algo = DFLY_PIECE_DIGEST_CRC32C;
  else if (g_strcmp0 (name, "xxh3") == 0)
    *algo = DFLY_PIECE_DIGEST_XXH3;
  else
    return FALSE;
  return TRUE;
}

gboolean
dfly_piece_digest_algo_of (const char *digest, DflyPieceDigestAlgo *algo)
{
  const char      *colon = digest != NULL ? strchr (digest, ':') : NULL;
  g_autofree char *name = NULL;

  if (colon == NULL)
    return FALSE;
  name = g_strndup (digest, colon - digest);
  return dfly_piece_digest_algo_from_string (name, algo);
}

gboolean
dfly_piece_digest_algo_is_cryptographic (DflyPieceDigestAlgo algo)
{
  return algo == DFLY_PIECE_DIGEST_SHA256;
}

gboolean
dfly_piece_digest_may_check (DflyPieceDigestAlgo configured, const char *reference)
{
  DflyPieceDigestAlgo algo;

  if (!dfly_piece_digest_algo_of (reference, &algo))
    return FALSE;
  return dfly_piece_digest_algo_is_cryptographic (algo) ||
         !dfly_piece_digest_algo_is_cryptographic (configured);
}
