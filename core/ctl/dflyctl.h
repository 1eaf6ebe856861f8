/* dflyctl.h — what every dflyctl command shares: the connection to dflyd,
 * the global options, its own errors, and the commands of the table */
#pragma once

#include <gio/gio.h>

#include "dflyctl-output.h"

G_BEGIN_DECLS

#define DFLYD_BUS_NAME          "org.dfly.Daemon1"
#define DFLYD_OBJECT_PATH       "/org/dfly/Daemon1"
#define DFLYD_INTERFACE         "org.dfly.Daemon1"
#define DFLYCTL_CALL_TIMEOUT_MS (30 * 1000)

/* Failures that are dflyctl's own, not dflyd's. */
#define DFLYCTL_ERROR (dflyctl_error_quark ())
typedef enum {
  DFLYCTL_ERROR_UNREACHABLE,        /* no connection to the bus at all */
  DFLYCTL_ERROR_USAGE,              /* a bad argument to a command: one line, exit 2 */
  DFLYCTL_ERROR_VANISHED,           /* dflyd left the bus while dflyctl waited for it */
  DFLYCTL_ERROR_REMOTE_UNREACHABLE, /* a server dflyctl talks to over HTTP (the manager): exit 3 */
} DflyctlError;
GQuark dflyctl_error_quark (void);

typedef struct _DflyctlCommand DflyctlCommand;

typedef struct {
  DflyctlFormat         format;
  GBusType              bus_type; /* ignored when address is set */
  char                 *address;
  const char           *bus_option; /* the option that chose the bus, or NULL */
  GDBusConnection      *connection; /* opened by the first call */
  GOptionContext       *options;    /* kept for "help" */
  const DflyctlCommand *command;    /* the command being run */
  char                **args;       /* what follows the command name */
} Dflyctl;

struct _DflyctlCommand {
  const char *name;
  const char *synopsis; /* N_(): its arguments, shown in "help"; or "" */
  const char *summary;  /* N_(): translated when shown */
  gboolean    own_args; /* FALSE: takes no arguments, only the global options */
  gboolean (*run) (Dflyctl *self, GError **error);
};

/* Parses self->args with @entries and the global options (--json and the bus
 * options may follow the command too). @parameter_string and @summary make
 * the command's --help. Returns the positional arguments; errors are
 * DFLYCTL_ERROR_USAGE. */
char   **dflyctl_parse_command_args (Dflyctl *self, const GOptionEntry *entries,
                                     const char *parameter_string, const char *summary,
                                     const char *description, GError **error);
gboolean dflyctl_connect (Dflyctl *self, GError **error);
/* Calls METHOD on dflyd with @parameters (floating refs are sunk, NULL for
 * none) and returns the whole reply, checked against @reply_type. */
GVariant *dflyctl_call_full (Dflyctl *self, const char *method, GVariant *parameters,
                             const GVariantType *reply_type, GError **error);
/* The same for a reply of one value: returns that value. */
GVariant *dflyctl_call (Dflyctl *self, const char *method, GVariant *parameters,
                        const GVariantType *reply_type, GError **error);
/* Takes @text and prints it on stdout. */
void dflyctl_print (Dflyctl *self, char *text);

/* The commands, one file each: dflyctl-get.c, dflyctl-task.c, dflyctl-cache.c,
 * dflyctl-cert.c and dflyctl-runtime.c (which need no dflyd), and
 * dflyctl-manager.c (cluster, scheduler, seed: the manager's REST API over
 * HTTP, no dflyd or bus). */
gboolean dflyctl_cmd_get (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_tasks (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_task (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_cache (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_cert (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_runtime (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_cluster (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_scheduler (Dflyctl *self, GError **error);
gboolean dflyctl_cmd_seed (Dflyctl *self, GError **error);

G_END_DECLS
