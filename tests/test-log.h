/* test-log.h — capture the warnings a test provokes, and check them all
 *
 * g_test_expect_message() in GLib 2.74 fails on any unexpected message of
 * info level or above, so it cannot watch code that also logs progress.
 * Instead the warnings of one domain are captured (and made non-fatal),
 * and the test asserts the exact list.
 */
#pragma once

#include <glib.h>

typedef struct {
  const char *domain;
  GPtrArray  *warnings;
  guint       handler_id;
} TestLog;

static gboolean
test_log_not_fatal (const char *domain, GLogLevelFlags level, const char *message,
                    gpointer user_data)
{
  TestLog *log = user_data;

  return !(g_strcmp0 (domain, log->domain) == 0 && (level & G_LOG_LEVEL_WARNING));
}

static void
test_log_capture (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  TestLog *log = user_data;

  g_ptr_array_add (log->warnings, g_strdup (message));
}

static inline void
test_log_start (TestLog *log, const char *domain)
{
  log->domain = domain;
  log->warnings = g_ptr_array_new_with_free_func (g_free);
  log->handler_id =
    g_log_set_handler (domain, G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, test_log_capture, log);
  g_test_log_set_fatal_handler (test_log_not_fatal, log);
}

/* Asserts the captured warnings match the globs, in order, and no more. */
static inline void
test_log_assert (TestLog *log, const char *const *globs)
{
  guint n = globs != NULL ? g_strv_length ((char **) globs) : 0;

  for (guint i = 0; i < log->warnings->len; i++) {
    const char *message = g_ptr_array_index (log->warnings, i);

    if (i >= n)
      g_error ("unexpected warning: %s", message);
    if (!g_pattern_match_simple (globs[i], message))
      g_error ("warning %u is \"%s\", expected \"%s\"", i, message, globs[i]);
  }
  if (log->warnings->len < n)
    g_error ("expected warning \"%s\" was not logged", globs[log->warnings->len]);
  g_ptr_array_set_size (log->warnings, 0);
}

static inline void
test_log_stop (TestLog *log)
{
  test_log_assert (log, NULL);
  g_log_remove_handler (log->domain, log->handler_id);
  g_test_log_set_fatal_handler (NULL, NULL);
  g_clear_pointer (&log->warnings, g_ptr_array_unref);
}
