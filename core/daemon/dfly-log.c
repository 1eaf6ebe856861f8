/* dfly-log.c — dflyd's log writer
 *
 * GLib's default writer hides info and debug unless G_MESSAGES_DEBUG is set;
 * operators set daemon.log_level instead, so the threshold is ours. Output
 * goes to the journal when stderr is connected to it, else to stderr.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dfly-log.h"

/* The one piece of process-wide state: a log threshold is process-wide. */
static DflyLogLevel log_threshold = DFLY_LOG_LEVEL_INFO;

static DflyLogLevel
level_of (GLogLevelFlags flags)
{
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return DFLY_LOG_LEVEL_ERROR;
  if (flags & G_LOG_LEVEL_WARNING)
    return DFLY_LOG_LEVEL_WARNING;
  if (flags & G_LOG_LEVEL_MESSAGE)
    return DFLY_LOG_LEVEL_MESSAGE;
  if (flags & G_LOG_LEVEL_INFO)
    return DFLY_LOG_LEVEL_INFO;
  return DFLY_LOG_LEVEL_DEBUG;
}

static gboolean
domain_forced (const GLogField *fields, gsize n_fields)
{
  const char *debug = g_getenv ("G_MESSAGES_DEBUG");

  if (debug == NULL)
    return FALSE;
  if (strcmp (debug, "all") == 0)
    return TRUE;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      return strstr (debug, fields[i].value) != NULL;
  }
  return FALSE;
}

static GLogWriterOutput
dfly_log_writer (GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  g_autofree char *line = NULL;

  if (level_of (flags) > (DflyLogLevel) g_atomic_int_get ((int *) &log_threshold) &&
      !domain_forced (fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  if (g_log_writer_is_journald (fileno (stderr)) &&
      g_log_writer_journald (flags, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  line = g_log_writer_format_fields (flags, fields, n_fields, FALSE);
  fprintf (stderr, "%s\n", line);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
dfly_log_install (DflyLogLevel level)
{
  dfly_log_set_level (level);
  g_log_set_writer_func (dfly_log_writer, NULL, NULL);
}

void
dfly_log_set_level (DflyLogLevel level)
{
  g_atomic_int_set ((int *) &log_threshold, level);
}
