/* dfly-piece-digest.h — the digest every piece carries, written "algo:hex"
 *
 * SHA-256 by default (GnuTLS, which uses the CPU's SHA extensions): a parent
 * cannot forge a piece that keeps it. CRC-32C as Dragonfly v2.2 uses it (the
 * SSE4.2 instruction when the CPU has it, a table otherwise) and XXH3-64 are
 * faster but catch accidents only, not a hostile peer: trusted networks only.
 * Fed incrementally, so a piece is verified while it streams through a fixed
 * buffer.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DFLY_PIECE_DIGEST_CRC32C,
  DFLY_PIECE_DIGEST_XXH3,
  DFLY_PIECE_DIGEST_SHA256,
} DflyPieceDigestAlgo;

typedef struct _DflyPieceDigest DflyPieceDigest;

DflyPieceDigest *dfly_piece_digest_new (DflyPieceDigestAlgo algo);
void             dfly_piece_digest_update (DflyPieceDigest *self, const void *data, gsize length);
/* "sha256:<64 hex>", "crc32c:e3069283" or "xxh3:2d06800538d394c2"; the digest may not be
 * updated after. */
char *dfly_piece_digest_finish (DflyPieceDigest *self);
void  dfly_piece_digest_free (DflyPieceDigest *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceDigest, dfly_piece_digest_free)

/* Parses "sha256" / "crc32c" / "xxh3"; FALSE for anything else. */
gboolean dfly_piece_digest_algo_from_string (const char *name, DflyPieceDigestAlgo *algo);
/* The algorithm of a digest written "algo:hex"; FALSE for an unknown one. */
gboolean dfly_piece_digest_algo_of (const char *digest, DflyPieceDigestAlgo *algo);
/* Whether a parent cannot forge bytes that keep a digest of algo (SHA-256 only). */
gboolean dfly_piece_digest_algo_is_cryptographic (DflyPieceDigestAlgo algo);
/* Whether a child configured for configured may check a parent's piece against
 * reference (a digest the back-to-source peer reported): a known algorithm, and a
 * cryptographic one when configured is. */
gboolean dfly_piece_digest_may_check (DflyPieceDigestAlgo configured, const char *reference);

/* Raw CRC-32C (Castagnoli), continuing from crc (start with 0). */
guint32 dfly_crc32c (guint32 crc, const void *data, gsize length);
/* The portable table version, for tests and CPUs without SSE4.2. */
guint32  dfly_crc32c_portable (guint32 crc, const void *data, gsize length);
gboolean dfly_crc32c_is_accelerated (void);

G_END_DECLS
