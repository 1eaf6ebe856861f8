/* dfly-http-range.c — strict parsing of Content-Length and Content-Range */
#include "config.h"

#include "dfly/dfly-http-range.h"

/* At most 18 decimal digits: always fits a gint64. */
static gboolean
parse_digits (const char **text, gint64 *value)
{
  const char *p = *text;
  gint64      n = 0;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++) {
    if (p - *text >= 18)
      return FALSE;
    n = n * 10 + (*p - '0');
  }
  *text = p;
  *value = n;
  return TRUE;
}

gint64
dfly_http_content_length (const char *content_length, const char *transfer_encoding)
{
  gint64 length;

  if (content_length == NULL || transfer_encoding != NULL)
    return -1;
  if (!parse_digits (&content_length, &length) || *content_length != '\0')
    return -1;
  return length;
}

gboolean
dfly_http_parse_content_range (const char *value, gint64 *first, gint64 *last, gint64 *total)
{
  const char *p = value;

  if (p == NULL || g_ascii_strncasecmp (p, "bytes ", 6) != 0)
    return FALSE;
  p += 6;
  if (*p == '*') {
    *first = *last = -1;
    p++;
  } else {
    if (!parse_digits (&p, first) || *p++ != '-' || !parse_digits (&p, last) || *last < *first)
      return FALSE;
  }
  if (*p++ != '/')
    return FALSE;
  if (*p == '*' && *first >= 0) {
    *total = -1;
    p++;
  } else if (!parse_digits (&p, total) || (*last >= 0 && *last >= *total)) {
    return FALSE;
  }
  return *p == '\0';
}
