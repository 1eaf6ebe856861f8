/* test-http-range.c — Content-Length and Content-Range, good and hostile */
#include "config.h"

#include <dfly/dfly.h>

static void
test_content_length (void)
{
  g_assert_cmpint (dfly_http_content_length ("0", NULL), ==, 0);
  g_assert_cmpint (dfly_http_content_length ("1073741824", NULL), ==, 1073741824);
  g_assert_cmpint (dfly_http_content_length ("999999999999999999", NULL), ==,
                   G_GINT64_CONSTANT (999999999999999999));
  /* Framed otherwise, absent, or not a plain decimal number. */
  g_assert_cmpint (dfly_http_content_length ("10", "chunked"), ==, -1);
  g_assert_cmpint (dfly_http_content_length (NULL, NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("-1", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("+5", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("5 ", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("5,5", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("0x10", NULL), ==, -1);
  g_assert_cmpint (dfly_http_content_length ("9999999999999999999", NULL), ==, -1);
}

static void
test_content_range (void)
{
  static const struct {
    const char *value;
    gint64      first, last, total;
  } good[] = {
    { "bytes 0-0/1", 0, 0, 1 },
    { "bytes 0-4095/8193", 0, 4095, 8193 },
    { "BYTES 10-19/*", 10, 19, -1 },
    { "bytes */1000", -1, -1, 1000 },
  };
  static const char *const bad[] = {
    NULL,
    "",
    "bytes",
    "bytes ",
    "items 0-1/2",
    "bytes 1-0/5",
    "bytes 0-5/5",
    "bytes 0-1",
    "bytes 0-1/2 ",
    "bytes -1-2/3",
    "bytes 0--1/2",
    "bytes */*",
    "bytes 0-1/x",
    "bytes 0-9999999999999999999/10000000000000000000",
    "bytes 0-1/2\r\nX: y",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    gint64 first = 7, last = 7, total = 7;

    g_assert_true (dfly_http_parse_content_range (good[i].value, &first, &last, &total));
    g_assert_cmpint (first, ==, good[i].first);
    g_assert_cmpint (last, ==, good[i].last);
    g_assert_cmpint (total, ==, good[i].total);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    gint64 first, last, total;

    g_assert_false (dfly_http_parse_content_range (bad[i], &first, &last, &total));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http-range/content-length", test_content_length);
  g_test_add_func ("/http-range/content-range", test_content_range);
  return g_test_run ();
}
