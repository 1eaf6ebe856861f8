/* dflyctl-progress.c — a download's progress as a bar or as plain lines */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "dflyctl-output.h"
#include "dflyctl-progress.h"

#define BAR_INTERVAL  (G_USEC_PER_SEC / 10) /* at most 10 redraws a second */
#define LINE_INTERVAL G_USEC_PER_SEC        /* at most one plain line a second */
#define RATE_WINDOW   (5 * G_USEC_PER_SEC)  /* the rate is the average over this long */
#define RATE_MIN_SPAN (G_USEC_PER_SEC / 2)  /* shorter spans are too noisy to rate */
#define BAR_WIDTH_MIN 10
#define BAR_WIDTH_MAX 50

typedef struct {
  gint64  time;
  guint64 bytes;
} Sample;

struct _DflyctlProgress {
  DflyctlProgressStyle style;
  char                *label;
  gboolean             have_progress;
  gboolean             ended;
  guint64              completed;
  gint64               total;
  /* The rate: bytes over the last RATE_WINDOW, from the progress samples in
   * it and the last one before it. dflyd reports whole pieces, so progress
   * comes in steps; an average over seconds smooths them, and a stall
   * drains it to 0. */
  GArray  *samples; /* of Sample, oldest first */
  double   rate;
  gboolean have_rate;
  gboolean dirty;       /* progress came since the last draw */
  gint64   drawn_time;  /* -1: nothing drawn yet */
  gsize    drawn_width; /* of the bar line on the terminal now */
  char    *drawn_line;  /* the last plain line */
};

DflyctlProgress *
dflyctl_progress_new (DflyctlProgressStyle style, const char *label, gint64 now)
{
  DflyctlProgress *self = g_new0 (DflyctlProgress, 1);

  self->style = style;
  self->label = g_strdup (label);
  self->total = -1;
  self->samples = g_array_new (FALSE, FALSE, sizeof (Sample));
  self->drawn_time = -1;
  return self;
}

void
dflyctl_progress_free (DflyctlProgress *self)
{
  if (self == NULL)
    return;
  g_free (self->label);
  g_free (self->drawn_line);
  g_array_unref (self->samples);
  g_free (self);
}

double
dflyctl_progress_get_rate (const DflyctlProgress *self)
{
  return self->have_rate ? self->rate : 0.0;
}

/* The first sample is the baseline, not a rate: it may count bytes cached
 * before this run. So is a count that went backwards (a restart). */
static void
add_sample (DflyctlProgress *self, gint64 now, guint64 completed)
{
  Sample sample = { now, completed };

  if (self->samples->len > 0 &&
      completed < g_array_index (self->samples, Sample, self->samples->len - 1).bytes) {
    g_array_set_size (self->samples, 0);
    self->have_rate = FALSE;
  }
  g_array_append_val (self->samples, sample);
}

static void
update_rate (DflyctlProgress *self, gint64 now)
{
  const Sample *first;
  const Sample *last;

  /* Keep one sample at or before the start of the window. */
  while (self->samples->len > 1 &&
         g_array_index (self->samples, Sample, 1).time <= now - RATE_WINDOW)
    g_array_remove_index (self->samples, 0);
  if (self->samples->len == 0)
    return;
  first = &g_array_index (self->samples, Sample, 0);
  last = &g_array_index (self->samples, Sample, self->samples->len - 1);
  /* No rate before anything moved since the baseline. */
  if (!self->have_rate && (self->samples->len < 2 || last->bytes == first->bytes))
    return;
  if (now - first->time < RATE_MIN_SPAN)
    return;
  self->rate =
    (double) (last->bytes - first->bytes) * G_USEC_PER_SEC / (double) (now - first->time);
  self->have_rate = TRUE;
}

static guint
terminal_columns (void)
{
  struct winsize size;
  const char    *columns;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  columns = g_getenv ("COLUMNS");
  if (columns != NULL && atoi (columns) > 0)
    return (guint) atoi (columns);
  return 80;
}

static char *
format_time_left (double seconds)
{
  guint64 s;

  /* Over 100 days is no estimate at all. */
  if (seconds < 0 || seconds > 100.0 * 86400)
    return g_strdup ("--:--");
  s = (guint64) (seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", (guint) (s / 3600), (guint) (s / 60 % 60),
                            (guint) (s % 60));
  return g_strdup_printf ("%u:%02u", (guint) (s / 60), (guint) (s % 60));
}

static guint
percent (const DflyctlProgress *self)
{
  if (self->total <= 0)
    return 100;
  return (guint) MIN (100, self->completed * 100 / (guint64) self->total);
}

/* "512.0 MiB/1.0 GiB  410 MiB/s  ETA 0:01", or "512.0 MiB  410 MiB/s". */
static char *
render_numbers (const DflyctlProgress *self, gboolean with_time_left)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *done = dflyctl_format_bytes (self->completed);

  g_string_append (out, done);
  if (self->total >= 0) {
    g_autofree char *size = dflyctl_format_bytes ((guint64) self->total);

    g_string_append_printf (out, "/%s", size);
  }
  if (self->have_rate) {
    g_autofree char *rate = dflyctl_format_rate (self->rate);

    g_string_append_printf (out, "  %s", rate);
    if (with_time_left && self->total >= 0 && self->completed < (guint64) self->total) {
      double left =
        self->rate >= 1.0 ? (double) ((guint64) self->total - self->completed) / self->rate : -1;
      g_autofree char *time_left = format_time_left (left);

      /* TRANSLATORS: estimated time left, as in "ETA 1:05" */
      g_string_append (out, "  ");
      g_string_append_printf (out, _ ("ETA %s"), time_left);
    }
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static glong
numbers_reserve (void)
{
  g_autofree char *time_left = g_strdup_printf (_ ("ETA %s"), "00:00:00");

  return (glong) strlen ("1023.9 MiB/1023.9 MiB  1023 MiB/s  ") + g_utf8_strlen (time_left, -1);
}

static char *
render_bar (const DflyctlProgress *self, guint columns)
{
  g_autofree char *numbers = render_numbers (self, TRUE);
  g_autoptr (GString) out = g_string_new (NULL);
  glong numbers_width = g_utf8_strlen (numbers, -1);
  glong bar_width;

  if (self->total < 0)
    g_string_append (out, numbers);
  else {
    guint pct = percent (self);

    g_string_append_printf (out, "%3u%% ", pct);
    /* "100% " + "[" + bar + "] " + numbers, with room for the widest
     * numbers so that the bar keeps its width as they change. */
    bar_width =
      MIN ((glong) columns - 5 - 3 - MAX (numbers_width, numbers_reserve ()), BAR_WIDTH_MAX);
    if (bar_width >= BAR_WIDTH_MIN) {
      glong filled =
        (glong) (bar_width *
                 (self->total == 0 ? 1.0 : (double) self->completed / (double) self->total));

      filled = CLAMP (filled, 0, bar_width);
      g_string_append_c (out, '[');
      for (glong i = 0; i < bar_width; i++)
        g_string_append_c (out, i < filled ? '=' : (i == filled ? '>' : ' '));
      g_string_append (out, "] ");
    }
    g_string_append (out, numbers);
  }
  /* Too narrow a terminal: cut, never wrap. */
  if (g_utf8_strlen (out->str, -1) > (glong) columns) {
    g_autofree char *cut = g_utf8_substring (out->str, 0, columns);

    return g_steal_pointer (&cut);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "task 3f2a9c1e0b7d: 52% 512.0 MiB/1.0 GiB 410 MiB/s". */
static char *
render_line (const DflyctlProgress *self)
{
  g_autofree char *done = dflyctl_format_bytes (self->completed);
  g_autofree char *rate = self->have_rate ? dflyctl_format_rate (self->rate) : NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (self->label != NULL)
    g_string_append_printf (out, "%s: ", self->label);
  if (self->total >= 0) {
    g_autofree char *size = dflyctl_format_bytes ((guint64) self->total);

    g_string_append_printf (out, "%u%% %s/%s", percent (self), done, size);
  } else {
    g_string_append (out, done);
  }
  if (rate != NULL)
    g_string_append_printf (out, " %s", rate);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_progress_render (DflyctlProgress *self, gint64 now, guint columns)
{
  if (self->style == DFLYCTL_PROGRESS_BAR)
    return render_bar (self, columns);
  return render_line (self);
}

static void
draw (DflyctlProgress *self, gint64 now, gboolean force)
{
  g_autofree char *text = NULL;

  if (self->style == DFLYCTL_PROGRESS_NONE || !self->have_progress)
    return;

  if (self->style == DFLYCTL_PROGRESS_BAR) {
    g_autoptr (GString) line = g_string_new ("\r");
    gsize width;

    if (!force && self->drawn_time >= 0 && now - self->drawn_time < BAR_INTERVAL)
      return;
    if (force && !self->dirty)
      return;
    /* One column short of the edge: some terminals wrap on the last one. */
    text = render_bar (self, MAX (terminal_columns (), 2) - 1);
    width = (gsize) g_utf8_strlen (text, -1);
    g_string_append (line, text);
    /* Blank out what a longer previous line left, without escape codes. */
    for (gsize i = width; i < self->drawn_width; i++)
      g_string_append_c (line, ' ');
    g_printerr ("%s", line->str);
    self->drawn_width = width;
    self->drawn_time = now;
    self->dirty = FALSE;
    return;
  }

  if (!force && self->drawn_time >= 0 && now - self->drawn_time < LINE_INTERVAL)
    return;
  text = render_line (self);
  /* The final line only when it says something new. */
  if (force && g_strcmp0 (text, self->drawn_line) == 0)
    return;
  g_printerr ("%s\n", text);
  g_free (self->drawn_line);
  self->drawn_line = g_steal_pointer (&text);
  self->drawn_time = now;
  self->dirty = FALSE;
}

void
dflyctl_progress_update (DflyctlProgress *self, gint64 now, guint64 completed, gint64 total)
{
  if (self->ended)
    return;
  add_sample (self, now, completed);
  update_rate (self, now);
  self->have_progress = TRUE;
  self->dirty = TRUE;
  self->completed = completed;
  self->total = total < 0 ? -1 : total;
  draw (self, now, FALSE);
}

void
dflyctl_progress_tick (DflyctlProgress *self, gint64 now)
{
  if (self->ended || !self->have_progress)
    return;
  update_rate (self, now);
  /* Plain lines come with progress only: a log gains nothing from repeats. */
  if (self->style == DFLYCTL_PROGRESS_BAR)
    draw (self, now, FALSE);
}

void
dflyctl_progress_end (DflyctlProgress *self, gint64 now)
{
  if (self->ended)
    return;
  draw (self, now, TRUE);
  if (self->style == DFLYCTL_PROGRESS_BAR && self->drawn_time >= 0)
    g_printerr ("\n");
  self->ended = TRUE;
}
