/* hostile-lengths.c — a source peer claiming 2^40 bytes in 1-byte pieces
 *
 *   dfly-hostile hostile-lengths SCHEDULER URL SECONDS
 *
 * Registers first for URL's task without asking for the source, so that a
 * scheduler with no seed chooses it as the task's reference, then reports
 * 2^40 bytes in pieces of one byte (a piece table of 2^40 entries, were it
 * believed), pieces with huge numbers and digests of zeros. The scheduler
 * and the real peers must neither abort nor believe it: the real download
 * completes from the origin's bytes. Prints "response=", then
 * "stat_content_length=" (what the scheduler believes at the end).
 */
#include "config.h"

#include "dfly-hostile.h"
#include "hostile-announce.h"

int
hostile_lengths (int argc, char **argv)
{
  return hostile_lie_as_source (argc, argv, "hostile-lengths", FALSE, G_GINT64_CONSTANT (1) << 40,
                                1);
}
