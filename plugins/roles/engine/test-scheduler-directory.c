/* test-scheduler-directory.c — reading a manager's list of schedulers, and the cached one */
#include "config.h"

#include <string.h>

#include "dfly-scheduler-list.h"

static char *
parse_joined (const char *text, GError **error)
{
  g_auto (GStrv) addresses = dfly_scheduler_list_parse (text, strlen (text), error);

  return addresses != NULL ? g_strjoinv (",", addresses) : NULL;
}

/* Only active schedulers with an IP literal and a port are taken, once
 * each; anything else in a record or the list is passed over. */
static void
test_records (void)
{
  const struct {
    const char *json;
    const char *addresses; /* NULL: refused */
  } cases[] = {
    { "[]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":8002,\"state\":\"active\"}]", "10.0.0.1:8002" },
    { "[{\"ip\":\"::1\",\"port\":8002,\"state\":\"active\"}]", "[::1]:8002" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":8002,\"state\":\"inactive\"}]", "" },
    { "[{\"ip\":\"host.example\",\"port\":8002,\"state\":\"active\"}]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":0,\"state\":\"active\"}]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":65536,\"state\":\"active\"}]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":\"8002\",\"state\":\"active\"}]", "" },
    { "[{\"ip\":10,\"port\":8002,\"state\":\"active\"}]", "" },
    { "[{\"ip\":\"fe80::1%eth0\",\"port\":8002,\"state\":\"active\"}]", "" },
    { "[{\"ip\":{},\"port\":[],\"state\":{\"a\":1}}]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":{\"n\":8002},\"state\":\"active\"}]", "" },
    { "[\"[fe80::1%eth0]:8002\"]", "" },
    { "[{\"port\":8002,\"state\":\"active\"}]", "" },
    { "[{\"ip\":\"10.0.0.1\",\"port\":8002,\"state\":\"active\"},"
      " {\"ip\":\"10.0.0.1\",\"port\":8002,\"state\":\"active\"},"
      " {\"ip\":\"10.0.0.2\",\"port\":8002,\"state\":\"active\"}, 7, null, [1]]",
      "10.0.0.1:8002,10.0.0.2:8002" },
    { "[\"10.0.0.1:8002\", \"[::1]:9\", \"nohost\", \"a b:1\", \"h:0\", \"h:1/x\", 3]",
      "10.0.0.1:8002,[::1]:9" },
    { "{\"ip\":\"10.0.0.1\"}", NULL },
    { "", NULL },
    { "[", NULL },
    { "null", NULL },
    { "\"10.0.0.1:8002\"", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *got = parse_joined (cases[i].json, &error);

    g_test_message ("%s", cases[i].json);
    g_assert_cmpstr (got, ==, cases[i].addresses);
    if (got == NULL)
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  }
}

/* At most 64 are taken from a long list; an oversized text is refused
 * before it is parsed. */
static void
test_bounds (void)
{
  g_autoptr (GString) json = g_string_new ("[");
  g_auto (GStrv) addresses = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *huge = NULL;

  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (json, "%s{\"ip\":\"10.0.%u.%u\",\"port\":8002,\"state\":\"active\"}",
                            i > 0 ? "," : "", i / 256, i % 256);
  g_string_append (json, "]");
  addresses = dfly_scheduler_list_parse (json->str, json->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (addresses), ==, 64);

  /* Nesting that would exhaust json-glib's recursion is refused unparsed
   * (80,000 levels crashed it on an 8 MiB stack); 32 levels are allowed. */
  {
    g_autofree char *deep = g_strnfill (100000, '[');
    g_autoptr (GString) ok_depth = g_string_new (NULL);
    g_auto (GStrv) shallow = NULL;

    g_assert_null (dfly_scheduler_list_parse (deep, strlen (deep), &error));
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
    g_clear_error (&error);
    for (guint i = 0; i < 32; i++)
      g_string_append_c (ok_depth, '[');
    for (guint i = 0; i < 32; i++)
      g_string_append_c (ok_depth, ']');
    shallow = dfly_scheduler_list_parse (ok_depth->str, ok_depth->len, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (shallow), ==, 0);
    /* Brackets inside strings do not count. */
    g_clear_pointer (&shallow, g_strfreev);
    g_string_assign (ok_depth, "[\"");
    for (guint i = 0; i < 100; i++)
      g_string_append (ok_depth, "[{");
    g_string_append (ok_depth, "\\\"\"]");
    shallow = dfly_scheduler_list_parse (ok_depth->str, ok_depth->len, &error);
    g_assert_no_error (error);
  }
  huge = g_strnfill (DFLY_SCHEDULER_LIST_MAX_TEXT + 1, ' ');
  g_assert_null (dfly_scheduler_list_parse (huge, strlen (huge), &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler-directory/records", test_records);
  g_test_add_func ("/scheduler-directory/bounds", test_bounds);
  return g_test_run ();
}
