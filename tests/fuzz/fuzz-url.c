/* fuzz-url.c — libFuzzer target: URL query filtering, task ids, piece lengths
 *
 * The input is a URL, optionally followed by a newline and a comma-separated
 * list of filtered keys (without one, the defaults of
 * download.filtered_query_keys). Its first eight bytes also serve as a
 * content length for the piece length rule.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dfly/dfly-error.h"
#include "dfly/dfly-task-id.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const default_keys[] = {
  "X-Amz-*", "X-Goog-*", "OSSAccessKeyId", "Expires", "Signature", "SecurityToken", "q-sign-*",
  "ns",      NULL,
};

static void
check_pieces (const uint8_t *data, size_t size)
{
  gint64  content_length = 0;
  guint64 piece_length;
  guint32 count;

  memcpy (&content_length, data, MIN (size, sizeof content_length));
  piece_length = dfly_piece_length_for (content_length);
  g_assert (piece_length >= DFLY_PIECE_LENGTH_MIN && piece_length <= DFLY_PIECE_LENGTH_MAX);
  g_assert ((piece_length & (piece_length - 1)) == 0);
  if (content_length <= 0)
    return;
  count = dfly_piece_count ((guint64) content_length, piece_length);
  g_assert (count >= 1);
  if (count < G_MAXUINT32) {
    g_assert ((guint64) count * piece_length >= (guint64) content_length);
    g_assert ((guint64) (count - 1) * piece_length < (guint64) content_length);
  }
  if ((guint64) content_length <= 500 * DFLY_PIECE_LENGTH_MAX)
    g_assert (count <= 500);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Cut at the first NUL, as a C caller would see it. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto (GStrv) custom_keys = NULL;
  const char *const *keys = default_keys;
  g_autoptr (GError) error = NULL;
  g_autofree char *filtered = NULL;
  g_autofree char *id = NULL;
  char            *newline;

  check_pieces (data, size);
  (void) dfly_task_id_is_valid (text);

  newline = strchr (text, '\n');
  if (newline != NULL) {
    *newline = '\0';
    custom_keys = g_strsplit (newline + 1, ",", 64);
    keys = (const char *const *) custom_keys;
  }

  filtered = dfly_url_filter_query (text, keys, &error);
  /* Exactly one of the two, always. */
  g_assert ((filtered == NULL) != (error == NULL));
  if (filtered == NULL) {
    g_assert (error->domain == DFLY_ERROR && error->code == DFLY_ERROR_INVALID_ARGUMENT);
    g_assert (g_utf8_validate (error->message, -1, NULL));
    g_assert (strlen (error->message) < 2048);
    for (const char *c = error->message; *c != '\0'; c++)
      g_assert (!g_ascii_iscntrl (*c));
    return 0;
  }

  /* Filtering only removes, and a filtered URL filters to itself. */
  g_assert (strlen (filtered) <= strlen (text));
  {
    g_autofree char *again = dfly_url_filter_query (filtered, keys, &error);

    g_assert (again != NULL && error == NULL);
    g_assert (strcmp (again, filtered) == 0);
  }

  /* The id is the SHA-256 of the filtered URL, tag, application, piece length. */
  id = dfly_task_id_new (text, "tag", "app", 4194304, keys, &error);
  g_assert (id != NULL && error == NULL);
  g_assert (dfly_task_id_is_valid (id));
  {
    g_autofree char *joined = g_strconcat (filtered, "tag", "app", "4194304", NULL);
    g_autofree char *expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, joined, -1);

    g_assert (strcmp (id, expected) == 0);
  }
  return 0;
}
