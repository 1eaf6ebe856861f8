/* dflyctl.c — the command-line client of dflyd's D-Bus interface */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "dfly/dfly-error.h"
#include "dflyctl-output.h"

#define DFLYD_BUS_NAME    "org.dfly.Daemon1"
#define DFLYD_OBJECT_PATH "/org/dfly/Daemon1"
#define DFLYD_INTERFACE   "org.dfly.Daemon1"
#define CALL_TIMEOUT_MS   (30 * 1000)

/* Failures that are dflyctl's own, not dflyd's. */
#define DFLYCTL_ERROR (dflyctl_error_quark ())
typedef enum {
  DFLYCTL_ERROR_UNREACHABLE, /* no connection to the bus at all */
} DflyctlError;
static GQuark dflyctl_error_quark (void);
G_DEFINE_QUARK (dflyctl-error-quark, dflyctl_error)

typedef struct {
  DflyctlFormat    format;
  GBusType         bus_type;   /* ignored when address is set */
  char            *address;
  GDBusConnection *connection; /* opened by the first call */
  GOptionContext  *options;    /* kept for "help" */
  char           **args;       /* what follows the command name */
} Dflyctl;

static void
dflyctl_clear (Dflyctl *self)
{
  g_clear_pointer (&self->address, g_free);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->options, g_option_context_free);
  g_clear_pointer (&self->args, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Dflyctl, dflyctl_clear)

static gboolean
dflyctl_connect (Dflyctl *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (self->connection != NULL)
    return TRUE;

  if (self->address != NULL) {
    self->connection = g_dbus_connection_new_for_address_sync (
        self->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &local_error);
  } else {
    self->connection = g_bus_get_sync (self->bus_type, NULL, &local_error);
  }
  if (self->connection == NULL) {
    /* The user gets the one-line hint; the cause is for G_MESSAGES_DEBUG. */
    g_debug ("cannot connect to the bus: %s", local_error->message);
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_UNREACHABLE, local_error->message);
    return FALSE;
  }
  /* A shared bus connection would raise SIGTERM when it closes; report instead. */
  g_dbus_connection_set_exit_on_close (self->connection, FALSE);
  return TRUE;
}

/* Calls METHOD with no arguments and returns the single value of its reply,
 * checked against @reply_type (a one-element tuple). */
static GVariant *
dflyctl_call (Dflyctl *self, const char *method, const GVariantType *reply_type,
              GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  if (!dflyctl_connect (self, error))
    return NULL;
  reply = g_dbus_connection_call_sync (self->connection, DFLYD_BUS_NAME, DFLYD_OBJECT_PATH,
                                       DFLYD_INTERFACE, method, NULL, reply_type,
                                       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return NULL;
  return g_variant_get_child_value (reply, 0);
}

/* Takes @text. JSON goes out as the UTF-8 it is; text for people goes
 * through g_print, which converts to the terminal's charset. */
static void
dflyctl_print (Dflyctl *self, char *text)
{
  g_autofree char *owned = text;

  if (self->format == DFLYCTL_FORMAT_JSON)
    fputs (owned, stdout);
  else
    g_print ("%s", owned);
}

static gboolean
cmd_status (Dflyctl *self, GError **error)
{
  g_autoptr (GVariant) status = dflyctl_call (self, "GetStatus", G_VARIANT_TYPE ("(a{sv})"), error);

  if (status == NULL)
    return FALSE;
  dflyctl_print (self, dflyctl_output_status (self->format, status));
  return TRUE;
}

static gboolean
cmd_plugins (Dflyctl *self, GError **error)
{
  g_autoptr (GVariant) plugins = dflyctl_call (self, "ListPlugins", G_VARIANT_TYPE ("(a(ssssss))"), error);

  if (plugins == NULL)
    return FALSE;
  dflyctl_print (self, dflyctl_output_plugins (self->format, plugins));
  return TRUE;
}

static gboolean
cmd_reload (Dflyctl *self, GError **error)
{
  g_autoptr (GVariant) changes = dflyctl_call (self, "Reload", G_VARIANT_TYPE ("(as)"), error);

  if (changes == NULL)
    return FALSE;
  dflyctl_print (self, dflyctl_output_changes (self->format, changes));
  return TRUE;
}

/* The client's version always prints; the daemon's only if it answers. */
static gboolean
cmd_version (Dflyctl *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autofree char *daemon_version = NULL;

  status = dflyctl_call (self, "GetStatus", G_VARIANT_TYPE ("(a{sv})"), &local_error);
  if (status == NULL)
    g_debug ("asking dflyd for its version: %s", local_error->message);
  else if (!g_variant_lookup (status, "version", "s", &daemon_version))
    daemon_version = g_strdup ("?");
  dflyctl_print (self, dflyctl_output_version (self->format, PACKAGE_VERSION, daemon_version));
  return TRUE;
}

static gboolean
cmd_help (Dflyctl *self, GError **error)
{
  g_autofree char *help = g_option_context_get_help (self->options, TRUE, NULL);

  g_print ("%s", help);
  return TRUE;
}

typedef struct {
  const char *name;
  const char *summary;   /* N_(): translated when shown */
  gboolean    takes_args;
  gboolean  (*run) (Dflyctl *self, GError **error);
} DflyctlCommand;

static const DflyctlCommand commands[] = {
  { "status", N_("Show dflyd's version, uptime and the state of each role"), FALSE, cmd_status },
  { "plugins", N_("List the plugins found and whether each was loaded"), FALSE, cmd_plugins },
  { "reload", N_("Re-read the configuration file, as SIGHUP does"), FALSE, cmd_reload },
  { "version", N_("Show the versions of dflyctl and dflyd"), FALSE, cmd_version },
  { "help", N_("Show this help"), TRUE, cmd_help },
};

/* --version: the client alone, without asking any bus. */
static gboolean
cmd_client_version (Dflyctl *self, GError **error)
{
  g_print ("dflyctl %s\n", PACKAGE_VERSION);
  return TRUE;
}

static const DflyctlCommand client_version_command = { "--version", NULL, FALSE, cmd_client_version };

static const DflyctlCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  }
  return NULL;
}

static char *
commands_description (void)
{
  g_autoptr (GString) text = g_string_new (_("Commands:"));
  gsize width = 0;

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    width = MAX (width, strlen (commands[i].name));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "\n  %-*s  %s", (int) width, commands[i].name, _(commands[i].summary));
  g_string_append_printf (text, "\n\n%s\n",
                          _("Exit status: 0 success, 1 failure, 2 bad arguments or configuration,\n"
                            "3 dflyd not running, 7 no answer in time, 9 refused by the bus policy."));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The one line that tells a user how to get a daemon onto that bus. */
static char *
unreachable_message (Dflyctl *self)
{
  g_autofree char *quoted = NULL;

  if (self->address != NULL) {
    /* Only quote what a shell would split or expand. */
    quoted = strspn (self->address, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_-=,:/.%@+") == strlen (self->address)
      ? g_strdup (self->address) : g_shell_quote (self->address);
    return g_strdup_printf (_("dflyd is not running on the bus at %s; start it with: dflyd --bus-address=%s"),
                            self->address, quoted);
  }
  if (self->bus_type == G_BUS_TYPE_SESSION)
    return g_strdup (_("dflyd is not running on the session bus; start it with: dflyd --session"));
  return g_strdup (_("dflyd is not running on the system bus; start it with: systemctl start dflyd"));
}

static gboolean
error_is_unreachable (const GError *error)
{
  return g_error_matches (error, DFLYCTL_ERROR, DFLYCTL_ERROR_UNREACHABLE) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

static gboolean
error_is_timeout (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY);
}

static void
print_usage_hint (void)
{
  g_printerr ("%s\n", _("Usage: dflyctl [--json] [--system|--session|--address=ADDRESS] COMMAND; "
                        "see 'dflyctl help'"));
}

/* One line on stderr, and the exit status that says what kind of failure. */
static int
report_error (Dflyctl *self, GError *error)
{
  g_dbus_error_strip_remote_error (error);

  if (error->domain == G_OPTION_ERROR) {
    g_printerr ("dflyctl: %s\n", error->message);
    print_usage_hint ();
    return DFLY_EXIT_USAGE;
  }
  if (error_is_unreachable (error)) {
    g_autofree char *message = unreachable_message (self);

    g_printerr ("dflyctl: %s\n", message);
    return DFLY_EXIT_UNREACHABLE;
  }
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)) {
    g_debug ("access denied: %s", error->message);
    g_printerr ("dflyctl: %s\n", _("the D-Bus policy refused the call; "
                                   "only root and members of group dfly may control dflyd"));
    return DFLY_EXIT_PERMISSION;
  }
  if (error_is_timeout (error)) {
    g_printerr ("dflyctl: %s: %s\n", _("dflyd did not answer"), error->message);
    return DFLY_EXIT_TIMEOUT;
  }
  g_printerr ("dflyctl: %s\n", error->message);
  if (error->domain == DFLY_ERROR)
    return dfly_error_to_exit_status (error->code);
  return DFLY_EXIT_FAILED;
}

/* Fills @self from the command line and returns the command to run. */
static const DflyctlCommand *
dflyctl_parse_args (Dflyctl *self, char **argv, GError **error)
{
  gboolean json = FALSE, system_bus = FALSE, session_bus = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of text"), NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system_bus, N_("Talk to dflyd on the system bus (default)"), NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &session_bus, N_("Talk to dflyd on the session bus"), NULL },
    { "address", 0, 0, G_OPTION_ARG_STRING, &self->address, N_("Talk to dflyd on the bus at ADDRESS"),
      N_("ADDRESS") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version of dflyctl and exit"), NULL },
    { NULL }
  };
  g_autofree char *description = commands_description ();
  g_auto (GStrv) args = g_strdupv (argv);
  g_autoptr (GError) local_error = NULL;
  const DflyctlCommand *command;

  self->options = g_option_context_new (_("COMMAND"));
  g_option_context_set_translation_domain (self->options, GETTEXT_PACKAGE);
  g_option_context_set_summary (self->options, _("Look at and control dflyd, the dfly daemon."));
  g_option_context_set_description (self->options, description);
  g_option_context_add_main_entries (self->options, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse_strv (self->options, &args, error))
    return NULL;

  if (version)
    return &client_version_command;
  if ((system_bus ? 1 : 0) + (session_bus ? 1 : 0) + (self->address != NULL ? 1 : 0) > 1) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         _("--system, --session and --address exclude each other"));
    return NULL;
  }
  if (self->address != NULL && !g_dbus_is_supported_address (self->address, &local_error)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("bad --address “%s”: %s"),
                 self->address, local_error->message);
    return NULL;
  }
  self->format = json ? DFLYCTL_FORMAT_JSON : DFLYCTL_FORMAT_HUMAN;
  self->bus_type = session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;

  if (args[1] == NULL) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("no command given"));
    return NULL;
  }
  command = find_command (args[1]);
  if (command == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("unknown command “%s”"), args[1]);
    return NULL;
  }
  if (!command->takes_args && args[2] != NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 _("“%s” takes no arguments, got “%s”"), command->name, args[2]);
    return NULL;
  }
  self->args = g_strdupv (args + 2);
  return command;
}

int
main (int argc, char **argv)
{
  g_auto (Dflyctl) self = { 0 };
  g_autoptr (GError) error = NULL;
  const DflyctlCommand *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Registers org.dfly.Error.* so dflyd's errors arrive as DFLY_ERROR. */
  (void) dfly_error_quark ();

  command = dflyctl_parse_args (&self, argv, &error);
  if (command == NULL || !command->run (&self, &error))
    return report_error (&self, error);
  /* A full disk or a closed pipe must not look like success to a script. */
  if (fflush (stdout) != 0 || ferror (stdout)) {
    g_printerr ("dflyctl: %s: %s\n", _("cannot write the output"), g_strerror (errno));
    return DFLY_EXIT_FAILED;
  }
  return DFLY_EXIT_OK;
}
