/* fuzz-http-range.c — libFuzzer target: the Content-Length and Content-Range
 * an origin answers with (dfly_http_content_length, dfly_http_parse_content_range)
 *
 * The input is up to three lines: a Content-Range value, a Content-Length
 * value and a Transfer-Encoding value (a missing line is an absent header).
 * Each line is also tried as the other headers.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dfly/dfly-http-range.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* At most 18 digits, as the parser promises: every accepted value fits. */
#define MAX_VALUE G_GINT64_CONSTANT (999999999999999999)

static void
check_content_range (const char *value)
{
  gint64           first = -2, last = -2, total = -2;
  gint64           first_again = -2, last_again = -2, total_again = -2;
  g_autofree char *canonical = NULL;

  if (!dfly_http_parse_content_range (value, &first, &last, &total))
    return;
  g_assert (g_ascii_strncasecmp (value, "bytes ", 6) == 0);
  g_assert (first >= -1 && first <= MAX_VALUE && last >= -1 && last <= MAX_VALUE);
  g_assert (total >= -1 && total <= MAX_VALUE);
  if (first == -1) {
    /* "bytes * /TOTAL": an unsatisfied range says its total. */
    g_assert (last == -1 && total >= 0);
    canonical = g_strdup_printf ("bytes */%" G_GINT64_FORMAT, total);
  } else {
    g_assert (first <= last && (total == -1 || last < total));
    if (total == -1)
      canonical =
        g_strdup_printf ("bytes %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "/*", first, last);
    else
      canonical = g_strdup_printf (
        "bytes %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, first, last, total);
  }
  /* What was read is what the header said: written back, it reads the same. */
  g_assert (dfly_http_parse_content_range (canonical, &first_again, &last_again, &total_again));
  g_assert (first_again == first && last_again == last && total_again == total);
  g_assert (strspn (value + 6, "0123456789-/*") == strlen (value + 6));
}

static void
check_content_length (const char *value, const char *transfer_encoding)
{
  gint64 length = dfly_http_content_length (value, transfer_encoding);

  if (length == -1)
    return;
  g_assert (value != NULL && transfer_encoding == NULL);
  g_assert (length >= 0 && length <= MAX_VALUE);
  g_assert (*value != '\0' && strspn (value, "0123456789") == strlen (value));
  g_assert (g_ascii_strtoll (value, NULL, 10) == length);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Cut at the first NUL, as a header value reaches the parsers. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto (GStrv) lines = g_strsplit (text, "\n", 3);
  guint n = g_strv_length (lines);

  for (guint i = 0; i < n; i++) {
    check_content_range (lines[i]);
    check_content_length (lines[i], NULL);
    check_content_length (lines[i], "chunked");
  }
  check_content_range (NULL);
  check_content_length (n > 1 ? lines[1] : NULL, n > 2 ? lines[2] : NULL);
  return 0;
}
