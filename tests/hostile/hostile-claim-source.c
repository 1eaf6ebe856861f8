/* hostile-claim-source.c — a peer that asks for the source and lies about what it found
 *
 *   dfly-hostile claim-source SCHEDULER URL SECONDS
 *
 * Registers first for URL's task asking to go back to source (as a peer
 * that fell back to the origin does), then reports a length of 12 MiB + 1
 * in 4 MiB pieces and piece digests of zeros. A peer that asked is not the
 * scheduler's choice: its word must not reach the real peers, whose
 * outputs stay byte-identical to the origin. Prints "response=", then
 * "stat_content_length=".
 */
#include "config.h"

#include "dfly-hostile.h"
#include "hostile-announce.h"

int
hostile_claim_source (int argc, char **argv)
{
  return hostile_lie_as_source (argc, argv, "claim-source", TRUE,
                                (G_GINT64_CONSTANT (12) << 20) + 1, G_GUINT64_CONSTANT (4) << 20);
}
