/* bench-digest.c — piece digest throughput: CRC-32C, XXH3, SHA-256 (GnuTLS) and GChecksum
 *
 *   tests/bench/bench-digest [MIB]     (default 1024)
 *
 * Digests MIB mebibytes of random bytes per algorithm, in 4 MiB pieces fed
 * through a 512 KiB buffer as a piece worker does, and prints, for each, GB/s
 * (wall time) and CPU seconds per GiB, with the ratio to GLib's GChecksum
 * SHA-256 (a software implementation) as the baseline, all in the same run.
 * Figures, not a test: it fails only if it cannot run.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dfly/dfly.h>

#define PIECE  (4 * 1024 * 1024)
#define BUFFER (512 * 1024)

typedef struct {
  const char         *name;
  gboolean            gchecksum; /* GLib's SHA-256, else a DflyPieceDigest */
  DflyPieceDigestAlgo algo;
} Candidate;

static double
cpu_seconds (void)
{
  struct timespec now;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

/* Digests total bytes of data (one piece, repeated); returns the wall and CPU
 * seconds it took. The digests are summed into *sink so none is optimised away. */
static void
run (const Candidate *candidate, const guint8 *data, guint64 total, double *wall, double *cpu,
     volatile gsize *sink)
{
  gint64 started = g_get_monotonic_time ();
  double cpu_started = cpu_seconds ();

  for (guint64 done = 0; done < total; done += PIECE) {
    g_autofree char *hex = NULL;

    if (candidate->gchecksum) {
      g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

      for (gsize offset = 0; offset < PIECE; offset += BUFFER)
        g_checksum_update (checksum, data + offset, BUFFER);
      hex = g_strdup (g_checksum_get_string (checksum));
    } else {
      g_autoptr (DflyPieceDigest) digest = dfly_piece_digest_new (candidate->algo);

      for (gsize offset = 0; offset < PIECE; offset += BUFFER)
        dfly_piece_digest_update (digest, data + offset, BUFFER);
      hex = dfly_piece_digest_finish (digest);
    }
    *sink += hex[strlen (hex) - 1];
  }
  *wall = (g_get_monotonic_time () - started) / 1e6;
  *cpu = cpu_seconds () - cpu_started;
}

int
main (int argc, char **argv)
{
  static const Candidate candidates[] = {
    { "crc32c", FALSE, DFLY_PIECE_DIGEST_CRC32C },
    { "xxh3", FALSE, DFLY_PIECE_DIGEST_XXH3 },
    { "sha256", FALSE, DFLY_PIECE_DIGEST_SHA256 },
    { "gchecksum-sha256", TRUE, DFLY_PIECE_DIGEST_SHA256 },
  };
  guint64            mib = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1024;
  guint64            total;
  g_autofree guint8 *data = g_malloc (PIECE);
  double             wall[G_N_ELEMENTS (candidates)], cpu[G_N_ELEMENTS (candidates)];
  double             gib;
  volatile gsize     sink = 0;
  const gsize        baseline = G_N_ELEMENTS (candidates) - 1;

  if (mib < 4) {
    fprintf (stderr, "usage: %s [MIB, at least 4]\n", argv[0]);
    return 2;
  }
  total = mib / 4 * PIECE;
  gib = total / (double) (1024 * 1024 * 1024);
  for (gsize i = 0; i < PIECE / sizeof (guint32); i++)
    ((guint32 *) data)[i] = g_random_int ();
  printf ("# %.2f GiB per algorithm, 4 MiB pieces through a 512 KiB buffer; CRC-32C %s\n", gib,
          dfly_crc32c_is_accelerated () ? "with SSE4.2" : "by table");
  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    run (&candidates[i], data, total, &wall[i], &cpu[i], &sink);
  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    printf ("bench digest: %-18s %6.2f GB/s %8.3f CPU-s/GiB %8.2f x GChecksum\n",
            candidates[i].name, total / MAX (wall[i], 1e-9) / 1e9, cpu[i] / gib,
            wall[baseline] / MAX (wall[i], 1e-9));
  return 0;
}
