/* test-error.c — DFLY_ERROR survives a trip over D-Bus, and maps to exit codes */
#include "config.h"

#include <gio/gio.h>

#include <dfly/dfly.h>

static void
test_dbus_round_trip (void)
{
  for (int code = 0; code < DFLY_ERROR_LAST; code++) {
    g_autoptr (GError) error = g_error_new (DFLY_ERROR, code, "code %d", code);
    g_autofree char *name = g_dbus_error_encode_gerror (error);
    g_autoptr (GError) back = g_dbus_error_new_for_dbus_error (name, "code");

    g_assert_cmpstr (name, ==, dfly_error_to_dbus_name (code));
    g_assert_true (g_str_has_prefix (name, "org.dfly.Error."));
    g_assert_error (back, DFLY_ERROR, code);
  }
}

static void
test_exit_statuses (void)
{
  g_assert_cmpint (dfly_error_to_exit_status (DFLY_ERROR_INVALID_CONFIG), ==, DFLY_EXIT_USAGE);
  g_assert_cmpint (dfly_error_to_exit_status (DFLY_ERROR_NOT_FOUND), ==, DFLY_EXIT_NOT_FOUND);
  g_assert_cmpint (dfly_error_to_exit_status (DFLY_ERROR_DIGEST_MISMATCH), ==, DFLY_EXIT_DIGEST);
  g_assert_cmpint (dfly_error_to_exit_status (DFLY_ERROR_TIMEOUT), ==, DFLY_EXIT_TIMEOUT);
  g_assert_cmpint (dfly_error_to_exit_status (DFLY_ERROR_ACCESS_DENIED), ==,
                   DFLY_EXIT_ACCESS_DENIED);
  g_assert_cmpint (DFLY_EXIT_ACCESS_DENIED, ==, 10);
  g_assert_cmpstr (dfly_error_to_dbus_name (DFLY_ERROR_ACCESS_DENIED), ==,
                   "org.dfly.Error.AccessDenied");
  /* Out of range falls back to the generic failure, never past the table. */
  g_assert_cmpint (dfly_error_to_exit_status (1000), ==, DFLY_EXIT_FAILED);
  g_assert_cmpstr (dfly_error_to_dbus_name (1000), ==, "org.dfly.Error.Failed");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/error/dbus-round-trip", test_dbus_round_trip);
  g_test_add_func ("/error/exit-statuses", test_exit_statuses);
  return g_test_run ();
}
