/* dfly-error.h — the one error domain of dfly */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DFLY_ERROR (dfly_error_quark ())

/**
 * DflyError:
 *
 * Every failure dfly reports. Each code has a D-Bus error name
 * (org.dfly.Error.<Name>) and a dflyctl exit status; keep the three in step
 * through the table in dfly-error.c. Append only: the values are ABI.
 */
typedef enum {
  DFLY_ERROR_FAILED,           /* anything not listed below */
  DFLY_ERROR_INVALID_ARGUMENT, /* a caller passed something malformed */
  DFLY_ERROR_INVALID_CONFIG,   /* the configuration file is wrong */
  DFLY_ERROR_NOT_FOUND,        /* no such task, plugin, role, key */
  DFLY_ERROR_NOT_SUPPORTED,    /* the plugin does not implement this */
  DFLY_ERROR_PLUGIN_REFUSED,   /* the loader refused a plugin */
  DFLY_ERROR_PROTOCOL,         /* a peer sent a bad or oversized message */
  DFLY_ERROR_IO,               /* local storage failed */
  DFLY_ERROR_SOURCE,           /* the origin failed */
  DFLY_ERROR_DIGEST_MISMATCH,  /* bytes do not match their digest */
  DFLY_ERROR_TIMEOUT,          /* a deadline passed */
  DFLY_ERROR_CANCELLED,        /* the user cancelled */
  DFLY_ERROR_BUSY,             /* a limit was reached; try later */
  DFLY_ERROR_ACCESS_DENIED,    /* the origin refused our credentials */
  DFLY_ERROR_SOURCE_DENIED,    /* source.allow / source.deny refuse the origin */
  DFLY_ERROR_LAST
} DflyError;

GQuark      dfly_error_quark (void);
const char *dfly_error_to_dbus_name (DflyError code);
int         dfly_error_to_exit_status (DflyError code);

/* Exit statuses shared by dflyd and dflyctl. */
enum {
  DFLY_EXIT_OK = 0,
  DFLY_EXIT_FAILED = 1,
  DFLY_EXIT_USAGE = 2,       /* bad arguments or bad configuration */
  DFLY_EXIT_UNREACHABLE = 3, /* the daemon is not running on that bus */
  DFLY_EXIT_NOT_FOUND = 4,
  DFLY_EXIT_SOURCE = 5,
  DFLY_EXIT_DIGEST = 6,
  DFLY_EXIT_TIMEOUT = 7,
  DFLY_EXIT_CANCELLED = 8,
  DFLY_EXIT_PERMISSION = 9,     /* a policy refused: the bus's, or source.allow / deny */
  DFLY_EXIT_ACCESS_DENIED = 10, /* the origin refused the credentials */
};

G_END_DECLS
