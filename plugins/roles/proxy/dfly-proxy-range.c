/* dfly-proxy-range.c — a client's Range header (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-proxy-range.h"

/* Decimal digits only (no sign, no space), within guint64. */
static gboolean
parse_position (const char *start, const char *end, guint64 *out)
{
  guint64 value = 0;

  if (start == end || end - start > 20)
    return FALSE;
  for (const char *c = start; c < end; c++) {
    if (!g_ascii_isdigit (*c) || value > (G_MAXUINT64 - (guint64) (*c - '0')) / 10)
      return FALSE;
    value = value * 10 + (guint64) (*c - '0');
  }
  *out = value;
  return TRUE;
}

void
dfly_proxy_range_parse (const char *value, DflyProxyRange *range)
{
  const char *spec, *dash, *end;
  guint64     first, last;

  memset (range, 0, sizeof *range);
  if (value == NULL || g_ascii_strncasecmp (value, "bytes=", 6) != 0)
    return;
  spec = value + 6;
  while (*spec == ' ')
    spec++;
  end = spec + strlen (spec);
  while (end > spec && end[-1] == ' ')
    end--;
  dash = memchr (spec, '-', (gsize) (end - spec));
  if (dash == NULL || memchr (spec, ',', (gsize) (end - spec)) != NULL)
    return;
  if (dash == spec) {
    if (parse_position (dash + 1, end, &last) && last > 0) {
      range->kind = DFLY_PROXY_RANGE_SUFFIX;
      range->length = last;
    }
    return;
  }
  if (!parse_position (spec, dash, &first))
    return;
  if (dash + 1 == end) {
    range->kind = DFLY_PROXY_RANGE_FROM;
    range->offset = first;
    return;
  }
  if (!parse_position (dash + 1, end, &last) || last < first || last == G_MAXUINT64)
    return;
  range->kind = DFLY_PROXY_RANGE_SPAN;
  range->offset = first;
  range->length = last - first + 1;
}
