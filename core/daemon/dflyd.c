/* dflyd.c — the dfly daemon: config, plugins, roles, D-Bus control */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include "dfly-dbus-service.h"
#include "dfly-engine.h"
#include "dfly-log.h"
#include "dfly/dfly-tls.h"

typedef struct {
  GMainLoop       *loop;
  DflyEngine      *engine;
  DflyDbusService *service;
  int              exit_status;
  gboolean         stopping;
} Daemon;

typedef struct {
  char    *config_path;
  char   **plugin_dirs;
  gboolean system_bus;
  gboolean session_bus;
  char    *bus_address;
  char    *check_config;
  gboolean version;
} Options;

static void
options_clear (Options *options)
{
  g_free (options->config_path);
  g_strfreev (options->plugin_dirs);
  g_free (options->bus_address);
  g_free (options->check_config);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static void
engine_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *daemon = user_data;

  dfly_engine_stop_finish (DFLY_ENGINE (source), result, NULL);
  g_main_loop_quit (daemon->loop);
}

static void
daemon_stop (Daemon *daemon, int exit_status)
{
  if (daemon->stopping)
    return;
  daemon->stopping = TRUE;
  daemon->exit_status = exit_status;
  dfly_engine_stop_async (daemon->engine, engine_stopped, daemon);
}

static gboolean
on_terminate (gpointer user_data)
{
  g_info ("stopping on signal");
  daemon_stop (user_data, DFLY_EXIT_OK);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hangup (gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = NULL;

  g_info ("reloading config on SIGHUP");
  changes = dfly_engine_reload (daemon->engine, &error);
  if (changes == NULL)
    g_warning ("reload failed, keeping the running config: %s", error->message);
  return G_SOURCE_CONTINUE;
}

static void
on_name_lost (DflyDbusService *service, gpointer user_data)
{
  g_printerr (_ ("dflyd: cannot own the D-Bus name org.dfly.Daemon1 (is another dflyd running, "
                 "or does the bus policy forbid it?)\n"));
  daemon_stop (user_data, DFLY_EXIT_FAILED);
}

static GDBusConnection *
connect_bus (const Options *options, GError **error)
{
  if (options->bus_address != NULL)
    return g_dbus_connection_new_for_address_sync (options->bus_address,
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, error);
  return g_bus_get_sync (options->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL,
                         error);
}

/* --plugin-dir replaces the config's list, which replaces the built-in dir. */
static const char *const *
plugin_dirs (const Options *options, const DflyConfig *config)
{
  static const char *const builtin[] = { PLUGINDIR, NULL };

  if (options->plugin_dirs != NULL)
    return (const char *const *) options->plugin_dirs;
  if (config->daemon.plugin_dirs != NULL && config->daemon.plugin_dirs[0] != NULL)
    return (const char *const *) config->daemon.plugin_dirs;
  return builtin;
}

static gboolean
parse_options (int *argc, char ***argv, Options *options, GError **error)
{
  /* Built at run time: a translated format cannot contain a macro. */
  g_autofree char *config_help =
    g_strdup_printf (_ ("Configuration file (default %s)"), SYSCONFDIR "/dfly/dflyd.yaml");
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config_path, config_help, N_ ("FILE") },
    { "plugin-dir", 'p', 0, G_OPTION_ARG_FILENAME_ARRAY, &options->plugin_dirs,
      N_ ("Load plugins from DIR instead of the configured directories (repeatable)"), N_ ("DIR") },
    { "system", 0, 0, G_OPTION_ARG_NONE, &options->system_bus,
      N_ ("Serve on the system bus (default)"), NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &options->session_bus, N_ ("Serve on the session bus"),
      NULL },
    { "bus-address", 0, 0, G_OPTION_ARG_STRING, &options->bus_address,
      N_ ("Serve on the bus at ADDRESS"), N_ ("ADDRESS") },
    { "check-config", 0, 0, G_OPTION_ARG_FILENAME, &options->check_config,
      N_ ("Check a configuration file and exit"), N_ ("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version, N_ ("Print the version and exit"),
      NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context, _ ("The dfly peer-to-peer distribution daemon."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("unexpected argument “%s”"),
                 (*argv)[1]);
    return FALSE;
  }
  if (options->system_bus + options->session_bus + (options->bus_address != NULL) > 1) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                         _ ("--system, --session and --bus-address exclude each other"));
    return FALSE;
  }
  return TRUE;
}

/* The explicit file, else the default one if it exists, else built-in defaults. */
static DflyConfig *
load_config (Options *options, GError **error)
{
  const char *default_path = SYSCONFDIR "/dfly/dflyd.yaml";

  if (options->config_path == NULL && g_file_test (default_path, G_FILE_TEST_EXISTS))
    options->config_path = g_strdup (default_path);
  if (options->config_path == NULL)
    return dfly_config_new_default ();
  return dfly_config_load_file (options->config_path, error);
}

/* Loads the tls section into context; FALSE with an error when it is
 * incomplete or does not load. */
static gboolean
set_up_tls (DflyContext *context, const DflyConfig *config, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (DflyTls) tls = dfly_tls_new_from_config (config, &local);

  if (local != NULL) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  dfly_context_set_tls (context, tls);
  return TRUE;
}

/* Without TLS, links are plaintext: said once, loudly, when this host
 * listens beyond loopback. */
static void
tell_tls (DflyContext *context, const DflyConfig *config)
{
  DflyTls *tls = dfly_context_get_tls (context);
  g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (config->host.ip);

  if (tls != NULL)
    g_info ("tls: this host is %s", dfly_identity_get_host_id (dfly_tls_get_identity (tls)));
  else if (ip != NULL && !g_inet_address_get_is_loopback (ip))
    g_warning ("no tls section: every link on %s is plaintext and unauthenticated; "
               "any host on the network can join the swarm",
               config->host.ip);
}

/* Reads the file as dflyd would start with it: its plugins are loaded so
 * that their sections are checked too, but no role starts. */
static int
check_config (const Options *options)
{
  const char *path = options->check_config;
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = dfly_config_load_file (path, &error);
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflyPluginLoader) loader = NULL;

  if (config == NULL) {
    g_printerr ("%s\n", error->message);
    return DFLY_EXIT_USAGE;
  }
  context = dfly_context_new (config);
  loader = dfly_plugin_loader_new (context);
  dfly_plugin_loader_load_dirs (loader, plugin_dirs (options, config));
  if (!dfly_plugin_loader_bind_config (loader, config, &error) ||
      !set_up_tls (context, config, &error)) {
    g_printerr ("%s\n", error->message);
    g_object_run_dispose (G_OBJECT (context));
    return DFLY_EXIT_USAGE;
  }
  g_object_run_dispose (G_OBJECT (context));
  g_print (_ ("%s: OK\n"), path);
  return DFLY_EXIT_OK;
}

/* Every connection a server keeps is a descriptor (protocol.max_connections
 * each): the soft limit goes up to the hard one, which the unit sets. */
static void
raise_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= limit.rlim_max)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) < 0)
    g_message ("cannot raise the open-file limit to %lu: %s", (unsigned long) limit.rlim_max,
               g_strerror (errno));
}

int
main (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflyPluginLoader) loader = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  Daemon daemon = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (!parse_options (&argc, &argv, &options, &error)) {
    g_printerr ("dflyd: %s\n", error->message);
    return DFLY_EXIT_USAGE;
  }
  if (options.version) {
    g_print ("dflyd %s\n", PACKAGE_VERSION);
    return DFLY_EXIT_OK;
  }
  if (options.check_config != NULL)
    return check_config (&options);

  config = load_config (&options, &error);
  if (config == NULL) {
    g_printerr ("dflyd: %s\n", error->message);
    return DFLY_EXIT_USAGE;
  }
  dfly_log_install (config->daemon.log_level);
  raise_file_limit ();
  g_info ("dflyd %s starting, config %s", PACKAGE_VERSION,
          options.config_path != NULL ? options.config_path : "(built-in defaults)");

  connection = connect_bus (&options, &error);
  if (connection == NULL) {
    g_printerr (_ ("dflyd: cannot connect to the D-Bus bus: %s\n"), error->message);
    return DFLY_EXIT_FAILED;
  }

  /* The plugin directories come from the config: its plugins' sections
   * are checked once they are loaded, before anything uses the config. */
  context = dfly_context_new (config);
  loader = dfly_plugin_loader_new (context);
  dfly_plugin_loader_load_dirs (loader, plugin_dirs (&options, config));
  if (!dfly_plugin_loader_bind_config (loader, config, &error) ||
      !set_up_tls (context, config, &error)) {
    g_printerr ("dflyd: %s\n", error->message);
    g_object_run_dispose (G_OBJECT (context));
    return DFLY_EXIT_USAGE;
  }

  tell_tls (context, config);
  daemon.loop = g_main_loop_new (NULL, FALSE);
  daemon.engine = dfly_engine_new (context, loader, options.config_path);
  daemon.service = dfly_dbus_service_new (daemon.engine);
  g_signal_connect (daemon.service, "name-lost", G_CALLBACK (on_name_lost), &daemon);
  g_unix_signal_add (SIGTERM, on_terminate, &daemon);
  g_unix_signal_add (SIGINT, on_terminate, &daemon);
  g_unix_signal_add (SIGHUP, on_hangup, &daemon);

  /* Roles first, then the name: when dflyctl can see us, the roles are up. */
  dfly_engine_start (daemon.engine);
  if (!dfly_dbus_service_export (daemon.service, connection, &error)) {
    g_printerr (_ ("dflyd: cannot export the control interface: %s\n"), error->message);
    daemon_stop (&daemon, DFLY_EXIT_FAILED);
  }
  g_main_loop_run (daemon.loop);

  g_info ("dflyd stopped");
  g_clear_object (&daemon.service);
  g_clear_object (&daemon.engine);
  /* The context's services hold it: dispose breaks the cycle. */
  g_object_run_dispose (G_OBJECT (context));
  g_main_loop_unref (daemon.loop);
  return daemon.exit_status;
}
