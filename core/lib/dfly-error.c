/* dfly-error.c — DFLY_ERROR, its D-Bus names and exit statuses */
#include "config.h"

#include <gio/gio.h>

#include "dfly/dfly-error.h"

typedef struct {
  DflyError   code;
  const char *dbus_name;
  int         exit_status;
} DflyErrorEntry;

/* Indexed by code: one row per DflyError value, in order. */
static const DflyErrorEntry error_table[] = {
  { DFLY_ERROR_FAILED, "org.dfly.Error.Failed", DFLY_EXIT_FAILED },
  { DFLY_ERROR_INVALID_ARGUMENT, "org.dfly.Error.InvalidArgument", DFLY_EXIT_USAGE },
  { DFLY_ERROR_INVALID_CONFIG, "org.dfly.Error.InvalidConfig", DFLY_EXIT_USAGE },
  { DFLY_ERROR_NOT_FOUND, "org.dfly.Error.NotFound", DFLY_EXIT_NOT_FOUND },
  { DFLY_ERROR_NOT_SUPPORTED, "org.dfly.Error.NotSupported", DFLY_EXIT_FAILED },
  { DFLY_ERROR_PLUGIN_REFUSED, "org.dfly.Error.PluginRefused", DFLY_EXIT_FAILED },
  { DFLY_ERROR_PROTOCOL, "org.dfly.Error.Protocol", DFLY_EXIT_FAILED },
  { DFLY_ERROR_IO, "org.dfly.Error.IO", DFLY_EXIT_FAILED },
  { DFLY_ERROR_SOURCE, "org.dfly.Error.Source", DFLY_EXIT_SOURCE },
  { DFLY_ERROR_DIGEST_MISMATCH, "org.dfly.Error.DigestMismatch", DFLY_EXIT_DIGEST },
  { DFLY_ERROR_TIMEOUT, "org.dfly.Error.Timeout", DFLY_EXIT_TIMEOUT },
  { DFLY_ERROR_CANCELLED, "org.dfly.Error.Cancelled", DFLY_EXIT_CANCELLED },
  { DFLY_ERROR_BUSY, "org.dfly.Error.Busy", DFLY_EXIT_FAILED },
  { DFLY_ERROR_ACCESS_DENIED, "org.dfly.Error.AccessDenied", DFLY_EXIT_ACCESS_DENIED },
  { DFLY_ERROR_SOURCE_DENIED, "org.dfly.Error.SourceDenied", DFLY_EXIT_PERMISSION },
};
G_STATIC_ASSERT (G_N_ELEMENTS (error_table) == DFLY_ERROR_LAST);

GQuark
dfly_error_quark (void)
{
  static gsize quark = 0;

  if (g_once_init_enter (&quark)) {
    GQuark domain = g_quark_from_static_string ("dfly-error-quark");

    for (guint i = 0; i < G_N_ELEMENTS (error_table); i++) {
      g_assert (error_table[i].code == (DflyError) i);
      g_dbus_error_register_error (domain, error_table[i].code, error_table[i].dbus_name);
    }
    g_once_init_leave (&quark, domain);
  }
  return (GQuark) quark;
}

const char *
dfly_error_to_dbus_name (DflyError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_table))
    code = DFLY_ERROR_FAILED;
  return error_table[code].dbus_name;
}

int
dfly_error_to_exit_status (DflyError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_table))
    code = DFLY_ERROR_FAILED;
  return error_table[code].exit_status;
}
