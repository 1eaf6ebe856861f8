/* dflyctl-progress.h — how far a download got, on stderr
 *
 * On a terminal one line redrawn in place at most ten times a second:
 * percent, bar, bytes done/total, a smoothed rate and the time left. Into a
 * pipe or a file, a plain line at most once a second and a last one at the
 * end. Without a total (dflyd does not know it yet), bytes and rate only.
 * Times are monotonic microseconds (g_get_monotonic_time), passed in.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DFLYCTL_PROGRESS_NONE,  /* --quiet: nothing */
  DFLYCTL_PROGRESS_BAR,   /* stderr is a terminal */
  DFLYCTL_PROGRESS_LINES, /* stderr is a pipe or a file */
} DflyctlProgressStyle;

typedef struct _DflyctlProgress DflyctlProgress;

/* @label starts each plain line, e.g. "task 3f2a9c1e0b7d". */
DflyctlProgress *dflyctl_progress_new (DflyctlProgressStyle style, const char *label, gint64 now);
void             dflyctl_progress_free (DflyctlProgress *self);

/* A TaskProgress: @total is -1 while unknown. Draws when one is due. */
void dflyctl_progress_update (DflyctlProgress *self, gint64 now, guint64 completed, gint64 total);
/* Called a few times a second: keeps the rate and time left honest when no
 * progress comes (a stalled download slows down to 0 B/s). */
void dflyctl_progress_tick (DflyctlProgress *self, gint64 now);
/* The last state drawn whatever the time, and the line ended: call it before
 * anything else goes to stderr. Further updates are ignored. */
void dflyctl_progress_end (DflyctlProgress *self, gint64 now);

/* The text of the bar for a terminal @columns wide, or of a plain line. */
char  *dflyctl_progress_render (DflyctlProgress *self, gint64 now, guint columns);
double dflyctl_progress_get_rate (const DflyctlProgress *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyctlProgress, dflyctl_progress_free)

G_END_DECLS
