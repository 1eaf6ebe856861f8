/* standalone-main.c — replays fuzz inputs without libFuzzer, speaking TAP
 *
 * Usage: fuzz-TARGET-replay FILE-OR-DIR...; every regular file (a directory
 * is read one level deep, sorted) goes once through LLVMFuzzerTestOneInput.
 * A crash kills the run, which the TAP driver reports as a failure.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
collect_inputs (const char *path, GPtrArray *files, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_ptr_array_add (files, g_strdup (path));
    return TRUE;
  }
  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (names, g_steal_pointer (&child));
  }
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (files, g_strdup (g_ptr_array_index (names, i)));
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  int status = 0;

  for (int i = 1; i < argc; i++) {
    g_autoptr (GError) error = NULL;

    if (!collect_inputs (argv[i], files, &error)) {
      printf ("Bail out! %s\n", error->message);
      return 1;
    }
  }

  if (files->len == 0) {
    printf ("1..0 # SKIP no inputs given\n");
    return 0;
  }
  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++) {
    const char      *file = g_ptr_array_index (files, i);
    g_autofree char *data = NULL;
    g_autoptr (GError) error = NULL;
    gsize length = 0;

    fflush (stdout);
    if (!g_file_get_contents (file, &data, &length, &error)) {
      printf ("not ok %u - %s # %s\n", i + 1, file, error->message);
      status = 1;
      continue;
    }
    LLVMFuzzerTestOneInput ((const uint8_t *) data, length);
    printf ("ok %u - %s\n", i + 1, file);
  }
  return status;
}
