/* dfly-task-id.c — task ids, filtered URLs and piece lengths */
#include "config.h"

#include <string.h>

#include "dfly/dfly-error.h"
#include "dfly/dfly-task-id.h"

#define URL_SHOWN_BYTES 200 /* of a refused URL, in its error */

static gboolean
key_is_filtered (const char *param, gsize key_length, const char *const *filtered_keys)
{
  for (guint i = 0; filtered_keys != NULL && filtered_keys[i] != NULL; i++) {
    const char *filter = filtered_keys[i];
    gsize       filter_length = strlen (filter);

    if (filter_length > 0 && filter[filter_length - 1] == '*') {
      if (key_length >= filter_length - 1 && strncmp (param, filter, filter_length - 1) == 0)
        return TRUE;
    } else if (key_length == filter_length && strncmp (param, filter, key_length) == 0) {
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
has_space_or_control (const char *url)
{
  for (const char *c = url; *c != '\0'; c++) {
    if (*c == ' ' || g_ascii_iscntrl (*c))
      return TRUE;
  }
  return FALSE;
}

/* A refused URL as an error shows it: its head, valid UTF-8, quoted, with
 * control bytes escaped (the text comes from a client and ends up in logs
 * and on terminals). */
static char *
quote_url (const char *url)
{
  char             high_bytes[129];
  g_autofree char *valid = g_utf8_make_valid (url, MIN (strlen (url), URL_SHOWN_BYTES));
  g_autofree char *escaped = NULL;

  for (guint i = 0; i < 128; i++)
    high_bytes[i] = (char) (0x80 + i);
  high_bytes[128] = '\0';
  escaped = g_strescape (valid, high_bytes);
  return g_strdup_printf ("\"%s\"%s", escaped, strlen (url) > URL_SHOWN_BYTES ? "..." : "");
}

char *
dfly_url_filter_query (const char *url, const char *const *filtered_keys, GError **error)
{
  g_autoptr (GString) out = NULL;
  const char *query, *fragment, *end;
  gboolean    first = TRUE;

  g_return_val_if_fail (url != NULL, NULL);
  /* Parsed only to refuse what is not a URL; the text is kept byte for byte
   * (GUri would re-encode it, and the id must match other peers'). GUri
   * lets control bytes through; no URL holds them raw (RFC 3986). */
  if (!g_uri_is_valid (url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_PARSE_RELAXED, NULL) ||
      has_space_or_control (url)) {
    g_autofree char *shown = quote_url (url);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s is not an absolute URL",
                 shown);
    return NULL;
  }

  fragment = strchr (url, '#');
  end = fragment != NULL ? fragment : url + strlen (url);
  query = memchr (url, '?', end - url);
  if (query == NULL)
    return g_strdup (url);

  out = g_string_new_len (url, query - url);
  for (const char *param = query + 1; param < end;) {
    const char *amp = memchr (param, '&', end - param);
    const char *param_end = amp != NULL ? amp : end;
    const char *equals = memchr (param, '=', param_end - param);
    gsize       key_length = (equals != NULL ? equals : param_end) - param;

    if (param_end > param && !key_is_filtered (param, key_length, filtered_keys)) {
      g_string_append_c (out, first ? '?' : '&');
      g_string_append_len (out, param, param_end - param);
      first = FALSE;
    }
    param = param_end + 1;
  }
  if (fragment != NULL)
    g_string_append (out, fragment);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dfly_task_id_new (const char *url, const char *tag, const char *application, guint64 piece_length,
                  const char *const *filtered_keys, GError **error)
{
  g_autofree char *filtered = dfly_url_filter_query (url, filtered_keys, error);
  g_autoptr (GChecksum) sha = NULL;

  if (filtered == NULL)
    return NULL;
  sha = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sha, (const guchar *) filtered, -1);
  if (tag != NULL)
    g_checksum_update (sha, (const guchar *) tag, -1);
  if (application != NULL)
    g_checksum_update (sha, (const guchar *) application, -1);
  if (piece_length != 0) {
    char text[24];

    g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, piece_length);
    g_checksum_update (sha, (const guchar *) text, -1);
  }
  return g_strdup (g_checksum_get_string (sha));
}

gboolean
dfly_task_id_is_valid (const char *task_id)
{
  if (task_id == NULL || strlen (task_id) != DFLY_TASK_ID_LENGTH)
    return FALSE;
  for (const char *c = task_id; *c != '\0'; c++) {
    if (!g_ascii_isdigit (*c) && !(*c >= 'a' && *c <= 'f'))
      return FALSE;
  }
  return TRUE;
}

guint64
dfly_piece_length_for (gint64 content_length)
{
  guint64 wanted, length = DFLY_PIECE_LENGTH_MIN;

  if (content_length <= 0)
    return DFLY_PIECE_LENGTH_MIN;
  /* Rounded up, so that no length up to 500 x 16 MiB needs a 501st piece. */
  wanted = (guint64) content_length / 500 + ((guint64) content_length % 500 != 0);
  while (length < wanted && length < DFLY_PIECE_LENGTH_MAX)
    length <<= 1;
  return length;
}

guint32
dfly_piece_count (guint64 content_length, guint64 piece_length)
{
  guint64 count;

  g_return_val_if_fail (piece_length > 0, 0);
  /* Not (length + piece_length - 1) / piece_length: that wraps near 2^64. */
  count = content_length / piece_length + (content_length % piece_length != 0);
  return (guint32) MIN (count, G_MAXUINT32);
}
