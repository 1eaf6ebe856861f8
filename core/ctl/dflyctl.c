/* dflyctl.c — the command-line client of dflyd's D-Bus interface */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "dfly/dfly-error.h"
#include "dflyctl.h"

G_DEFINE_QUARK (dflyctl - error - quark, dflyctl_error)

static void
dflyctl_clear (Dflyctl *self)
{
  g_clear_pointer (&self->address, g_free);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->options, g_option_context_free);
  g_clear_pointer (&self->args, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Dflyctl, dflyctl_clear)

/* The options that may come before or after the command name. */
typedef struct {
  gboolean json;
  gboolean system_bus;
  gboolean session_bus;
  char    *address;
} DflyctlGlobals;

static void
dflyctl_globals_clear (DflyctlGlobals *globals)
{
  g_clear_pointer (&globals->address, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DflyctlGlobals, dflyctl_globals_clear)

/* Fills @entries (5 of them) for @globals; after a command the bus options
 * work but are left out of its --help. */
static void
dflyctl_globals_entries (DflyctlGlobals *globals, GOptionEntry *entries, gboolean after_command)
{
  const int bus_flags = after_command ? G_OPTION_FLAG_HIDDEN : 0;
  const GOptionEntry template[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &globals->json, N_ ("Print JSON instead of text"), NULL },
    { "system", 0, bus_flags, G_OPTION_ARG_NONE, &globals->system_bus,
      N_ ("Talk to dflyd on the system bus (default)"), NULL },
    { "session", 0, bus_flags, G_OPTION_ARG_NONE, &globals->session_bus,
      N_ ("Talk to dflyd on the session bus"), NULL },
    { "address", 0, bus_flags, G_OPTION_ARG_STRING, &globals->address,
      N_ ("Talk to dflyd on the bus at ADDRESS"), N_ ("ADDRESS") },
    { NULL }
  };

  memcpy (entries, template, sizeof template);
}

/* Errors are G_OPTION_ERROR. A bus chosen before the command may not be
 * contradicted after it. */
static gboolean
dflyctl_apply_globals (Dflyctl *self, DflyctlGlobals *globals, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *choice = NULL;
  guint       choices = 0;

  if (globals->system_bus) {
    choice = "--system";
    choices++;
  }
  if (globals->session_bus) {
    choice = "--session";
    choices++;
  }
  if (globals->address != NULL) {
    choice = "--address";
    choices++;
  }
  if (choices > 1 ||
      (choice != NULL && self->bus_option != NULL && !g_str_equal (choice, self->bus_option))) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         _ ("--system, --session and --address exclude each other"));
    return FALSE;
  }
  if (globals->address != NULL && !g_dbus_is_supported_address (globals->address, &local_error)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _ ("bad --address “%s”: %s"),
                 globals->address, local_error->message);
    return FALSE;
  }
  if (globals->json)
    self->format = DFLYCTL_FORMAT_JSON;
  if (choice != NULL) {
    self->bus_option = choice;
    self->bus_type = globals->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;
    if (globals->address != NULL) {
      g_free (self->address);
      self->address = g_steal_pointer (&globals->address);
    }
  }
  return TRUE;
}

char **
dflyctl_parse_command_args (Dflyctl *self, const GOptionEntry *entries,
                            const char *parameter_string, const char *summary,
                            const char *description, GError **error)
{
  g_auto (DflyctlGlobals) globals = { 0 };
  GOptionEntry global_entries[5];
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *prgname = g_strdup_printf ("dflyctl %s", self->command->name);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) args = NULL;
  gboolean parsed;

  dflyctl_globals_entries (&globals, global_entries, TRUE);
  context = g_option_context_new (parameter_string);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, global_entries, GETTEXT_PACKAGE);

  g_strv_builder_add (builder, prgname);
  if (self->args != NULL)
    g_strv_builder_addv (builder, (const char **) self->args);
  args = g_strv_builder_end (builder);
  /* --help says "dflyctl get [OPTION…] URL". */
  g_set_prgname (prgname);
  parsed = g_option_context_parse_strv (context, &args, &local_error) &&
           dflyctl_apply_globals (self, &globals, &local_error);
  g_set_prgname ("dflyctl");
  if (!parsed) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, "%s: %s", self->command->name,
                 local_error->message);
    return NULL;
  }
  return g_strdupv (args + 1);
}

gboolean
dflyctl_connect (Dflyctl *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (self->connection != NULL)
    return TRUE;

  if (self->address != NULL) {
    self->connection =
      g_dbus_connection_new_for_address_sync (self->address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
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

GVariant *
dflyctl_call_full (Dflyctl *self, const char *method, GVariant *parameters,
                   const GVariantType *reply_type, GError **error)
{
  g_autoptr (GVariant) owned = parameters != NULL ? g_variant_ref_sink (parameters) : NULL;

  if (!dflyctl_connect (self, error))
    return NULL;
  return g_dbus_connection_call_sync (self->connection, DFLYD_BUS_NAME, DFLYD_OBJECT_PATH,
                                      DFLYD_INTERFACE, method, owned, reply_type,
                                      G_DBUS_CALL_FLAGS_NONE, DFLYCTL_CALL_TIMEOUT_MS, NULL, error);
}

GVariant *
dflyctl_call (Dflyctl *self, const char *method, GVariant *parameters,
              const GVariantType *reply_type, GError **error)
{
  g_autoptr (GVariant) reply = dflyctl_call_full (self, method, parameters, reply_type, error);

  if (reply == NULL)
    return NULL;
  return g_variant_get_child_value (reply, 0);
}

/* JSON goes out as the UTF-8 it is; text for people goes through g_print,
 * which converts to the terminal's charset. */
void
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
  g_autoptr (GVariant) status =
    dflyctl_call (self, "GetStatus", NULL, G_VARIANT_TYPE ("(a{sv})"), error);

  if (status == NULL)
    return FALSE;
  dflyctl_print (self, dflyctl_output_status (self->format, status));
  return TRUE;
}

static gboolean
cmd_plugins (Dflyctl *self, GError **error)
{
  g_autoptr (GVariant) plugins =
    dflyctl_call (self, "ListPlugins", NULL, G_VARIANT_TYPE ("(a(ssssss))"), error);

  if (plugins == NULL)
    return FALSE;
  dflyctl_print (self, dflyctl_output_plugins (self->format, plugins));
  return TRUE;
}

static gboolean
cmd_reload (Dflyctl *self, GError **error)
{
  g_autoptr (GVariant) changes =
    dflyctl_call (self, "Reload", NULL, G_VARIANT_TYPE ("(as)"), error);

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

  status = dflyctl_call (self, "GetStatus", NULL, G_VARIANT_TYPE ("(a{sv})"), &local_error);
  if (status == NULL)
    g_debug ("asking dflyd for its version: %s", local_error->message);
  else if (!g_variant_lookup (status, "version", "s", &daemon_version))
    daemon_version = g_strdup ("?");
  dflyctl_print (self, dflyctl_output_version (self->format, PACKAGE_VERSION, daemon_version));
  return TRUE;
}

static const DflyctlCommand *find_command (const char *name);
static gboolean dflyctl_run_command (Dflyctl *self, const DflyctlCommand *command, GError **error);

/* "help" alone is --help; "help COMMAND" is COMMAND --help. */
static gboolean
cmd_help (Dflyctl *self, GError **error)
{
  g_auto (GStrv) positional = NULL;
  g_autofree char      *help = NULL;
  const DflyctlCommand *command;

  positional = dflyctl_parse_command_args (
    self, NULL, _ ("[COMMAND]"), _ ("Show the help of dflyctl or of one command."), NULL, error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL) {
    help = g_option_context_get_help (self->options, TRUE, NULL);
    g_print ("%s", help);
    return TRUE;
  }
  if (positional[1] != NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("help: takes at most one command, got “%s”"), positional[1]);
    return FALSE;
  }
  command = find_command (positional[0]);
  if (command == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("help: unknown command “%s”"),
                 positional[0]);
    return FALSE;
  }
  g_strfreev (self->args);
  self->args = g_strdupv ((char *[]){ (char *) "--help", NULL });
  return dflyctl_run_command (self, command, error);
}

static const DflyctlCommand commands[] = {
  { "status", "", N_ ("Show dflyd's version, uptime and the state of each role"), FALSE,
    cmd_status },
  { "plugins", "", N_ ("List the plugins found and whether each was loaded"), FALSE, cmd_plugins },
  { "reload", "", N_ ("Re-read the configuration file, as SIGHUP does"), FALSE, cmd_reload },
  { "get", N_ ("URL -O PATH"), N_ ("Download URL through dflyd to the file PATH"), TRUE,
    dflyctl_cmd_get },
  { "tasks", "", N_ ("List the tasks dflyd holds or runs"), TRUE, dflyctl_cmd_tasks },
  { "task", N_ ("show|rm|cancel ID"), N_ ("Show, delete or cancel one task"), TRUE,
    dflyctl_cmd_task },
  { "cache", "gc", N_ ("Collect the cache now and show its usage"), TRUE, dflyctl_cmd_cache },
  { "cert", N_ ("ca|issue|show …"), N_ ("Make the cluster CA and host certificates (no dflyd)"),
    TRUE, dflyctl_cmd_cert },
  { "runtime", N_ ("RUNTIME"), N_ ("Point containerd, crio, podman or docker at dfly's proxy"),
    TRUE, dflyctl_cmd_runtime },
  { "cluster", N_ ("list|show|create|…"), N_ ("The manager's scheduler and seed peer clusters"),
    TRUE, dflyctl_cmd_cluster },
  { "scheduler", N_ ("list|show|delete"), N_ ("The schedulers registered with the manager"), TRUE,
    dflyctl_cmd_scheduler },
  { "seed", N_ ("list|show|delete"), N_ ("The seed peers registered with the manager"), TRUE,
    dflyctl_cmd_seed },
  { "version", "", N_ ("Show the versions of dflyctl and dflyd"), FALSE, cmd_version },
  { "help", "", N_ ("Show this help"), TRUE, cmd_help },
};

/* --version: the client alone, without asking any bus. */
static gboolean
cmd_client_version (Dflyctl *self, GError **error)
{
  g_print ("dflyctl %s\n", PACKAGE_VERSION);
  return TRUE;
}

static const DflyctlCommand client_version_command = { "--version", "", NULL, TRUE,
                                                       cmd_client_version };

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
  g_autoptr (GString) text = g_string_new (_ ("Commands:"));
  g_autoptr (GPtrArray) usages = g_ptr_array_new_with_free_func (g_free);
  gsize width = 0;

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    /* gettext ("") would be the catalogue's header. */
    const char *synopsis = *commands[i].synopsis != '\0' ? _ (commands[i].synopsis) : NULL;
    /* Without a synopsis, g_strjoin stops at the NULL: the name alone. */
    char *usage = g_strjoin (" ", commands[i].name, synopsis, NULL);

    width = MAX (width, (gsize) g_utf8_strlen (usage, -1));
    g_ptr_array_add (usages, usage);
  }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    const char *usage = g_ptr_array_index (usages, i);

    g_string_append_printf (text, "\n  %s", usage);
    for (gsize pad = g_utf8_strlen (usage, -1); pad < width + 2; pad++)
      g_string_append_c (text, ' ');
    g_string_append (text, _ (commands[i].summary));
  }
  g_string_append_printf (
    text, "\n\n%s\n%s\n",
    _ ("dflyctl COMMAND --help, or dflyctl help COMMAND, shows the options of one command."),
    _ ("Exit status: 0 success, 1 failure, 2 bad arguments or configuration,\n"
       "3 dflyd not running or the manager unreachable, 4 no such task or record,\n"
       "5 the origin failed, 6 digest mismatch, 7 no answer or download in time,\n"
       "8 cancelled, 9 refused by the bus policy."));
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
               ? g_strdup (self->address)
               : g_shell_quote (self->address);
    return g_strdup_printf (
      _ ("dflyd is not running on the bus at %s; start it with: dflyd --bus-address=%s"),
      self->address, quoted);
  }
  if (self->bus_type == G_BUS_TYPE_SESSION)
    return g_strdup (_ ("dflyd is not running on the session bus; start it with: dflyd --session"));
  return g_strdup (
    _ ("dflyd is not running on the system bus; start it with: systemctl start dflyd"));
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
  g_printerr ("%s\n", _ ("Usage: dflyctl [--json] [--system|--session|--address=ADDRESS] COMMAND; "
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
  if (g_error_matches (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE)) {
    g_printerr ("dflyctl: %s\n", error->message);
    return DFLY_EXIT_USAGE;
  }
  if (g_error_matches (error, DFLYCTL_ERROR, DFLYCTL_ERROR_VANISHED) ||
      g_error_matches (error, DFLYCTL_ERROR, DFLYCTL_ERROR_REMOTE_UNREACHABLE)) {
    g_printerr ("dflyctl: %s\n", error->message);
    return DFLY_EXIT_UNREACHABLE;
  }
  if (error_is_unreachable (error)) {
    g_autofree char *message = unreachable_message (self);

    g_debug ("unreachable: %s", error->message);
    g_printerr ("dflyctl: %s\n", message);
    return DFLY_EXIT_UNREACHABLE;
  }
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)) {
    g_debug ("access denied: %s", error->message);
    g_printerr ("dflyctl: %s\n", _ ("the D-Bus policy refused the call; "
                                    "only root and members of group dfly may control dflyd"));
    return DFLY_EXIT_PERMISSION;
  }
  if (error_is_timeout (error)) {
    g_printerr ("dflyctl: %s: %s\n", _ ("dflyd did not answer"), error->message);
    return DFLY_EXIT_TIMEOUT;
  }
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)) {
    g_printerr ("dflyctl: %s: %s\n",
                _ ("this dflyd does not implement the command (is it older than dflyctl?)"),
                error->message);
    return DFLY_EXIT_FAILED;
  }
  g_printerr ("dflyctl: %s\n", error->message);
  if (error->domain == DFLY_ERROR)
    return dfly_error_to_exit_status (error->code);
  return DFLY_EXIT_FAILED;
}

/* Commands without arguments of their own still take the global options
 * (dflyctl status --json) and --help. */
static gboolean
dflyctl_run_command (Dflyctl *self, const DflyctlCommand *command, GError **error)
{
  self->command = command;
  if (!command->own_args) {
    g_auto (GStrv) positional =
      dflyctl_parse_command_args (self, NULL, NULL, _ (command->summary), NULL, error);

    if (positional == NULL)
      return FALSE;
    if (positional[0] != NULL) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("“%s” takes no arguments, got “%s”"), command->name, positional[0]);
      return FALSE;
    }
  }
  return command->run (self, error);
}

/* Fills @self from the command line up to the command name and returns the
 * command to run; what follows the name is the command's to parse. */
static const DflyctlCommand *
dflyctl_parse_args (Dflyctl *self, char **argv, GError **error)
{
  g_auto (DflyctlGlobals) globals = { 0 };
  gboolean           version = FALSE;
  GOptionEntry       global_entries[5];
  const GOptionEntry entries[] = { { "version", 0, 0, G_OPTION_ARG_NONE, &version,
                                     N_ ("Show the version of dflyctl and exit"), NULL },
                                   { NULL } };
  g_autofree char   *description = commands_description ();
  g_auto (GStrv) args = g_strdupv (argv);
  const DflyctlCommand *command;

  dflyctl_globals_entries (&globals, global_entries, FALSE);
  self->options = g_option_context_new (_ ("COMMAND"));
  g_option_context_set_translation_domain (self->options, GETTEXT_PACKAGE);
  g_option_context_set_summary (self->options, _ ("Look at and control dflyd, the dfly daemon."));
  g_option_context_set_description (self->options, description);
  g_option_context_add_main_entries (self->options, global_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (self->options, entries, GETTEXT_PACKAGE);
  /* Stop at the command name: the options after it are the command's. */
  g_option_context_set_strict_posix (self->options, TRUE);
  if (!g_option_context_parse_strv (self->options, &args, error))
    return NULL;

  if (version)
    return &client_version_command;
  if (!dflyctl_apply_globals (self, &globals, error))
    return NULL;

  if (args[1] == NULL) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("no command given"));
    return NULL;
  }
  command = find_command (args[1]);
  if (command == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("unknown command “%s”"), args[1]);
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
  /* Not lt-dflyctl when run from the build tree. */
  g_set_prgname ("dflyctl");

  /* Registers org.dfly.Error.* so dflyd's errors arrive as DFLY_ERROR. */
  (void) dfly_error_quark ();

  self.bus_type = G_BUS_TYPE_SYSTEM;
  command = dflyctl_parse_args (&self, argv, &error);
  if (command == NULL || !dflyctl_run_command (&self, command, &error))
    return report_error (&self, error);
  /* A full disk or a closed pipe must not look like success to a script. */
  if (fflush (stdout) != 0 || ferror (stdout)) {
    g_printerr ("dflyctl: %s: %s\n", _ ("cannot write the output"), g_strerror (errno));
    return DFLY_EXIT_FAILED;
  }
  return DFLY_EXIT_OK;
}
