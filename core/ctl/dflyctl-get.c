/* dflyctl-get.c — "dflyctl get": one download through dflyd, waited for
 *
 * The arguments are checked here first, so a typo costs no bus traffic. Then
 * dflyctl subscribes to dflyd's task signals, from dflyd's unique name, before
 * it calls Download on that same name: a fast TaskFinished cannot be missed
 * and a dflyd restarted meanwhile cannot answer for another. It waits for the
 * TaskFinished or TaskFailed of its task id and output; dflyd leaving the bus,
 * SIGINT/SIGTERM and the client-side --timeout end the wait too.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "dfly/dfly-error.h"
#include "dfly/dfly-source.h"
#include "dfly/dfly-task-id.h"
#include "dflyctl.h"
#include "dflyctl-parse.h"
#include "dflyctl-progress.h"

#define PIECE_LENGTH_MIN \
  (G_GUINT64_CONSTANT (4) << 10) /* dflyd's lowest download.min_piece_length */
#define PIECE_LENGTH_MAX    (G_GUINT64_CONSTANT (1) << 30) /* and its highest download.piece_length */
#define CANCEL_WAIT_SECONDS 5 /* for dflyd's TaskFailed after CancelTask */
#define TIMEOUT_GRACE       5 /* seconds dflyd has to report its own timeout first */
#define TICK_INTERVAL_MS    200

/* What was asked: checked, and ready for Download. */
typedef struct {
  char     *url;
  char     *output;  /* absolute, UTF-8 */
  GVariant *options; /* a{sv}, only the options given */
  guint32   timeout; /* seconds, 0: none */
  gboolean  quiet;
  gboolean  directory;    /* -O names a directory: List, then one Download per entry */
  GVariant *list_options; /* a{sv} for List: headers, platform, all-platforms */
} GetRequest;

static void
get_request_clear (GetRequest *request)
{
  g_clear_pointer (&request->url, g_free);
  g_clear_pointer (&request->output, g_free);
  g_clear_pointer (&request->options, g_variant_unref);
  g_clear_pointer (&request->list_options, g_variant_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GetRequest, get_request_clear)

static const char get_summary[] =
  N_ ("Download URL through dflyd to the file PATH and wait until it is there.");
static const char get_description[] =
  N_ ("dflyd fetches the file from its peers or from the origin and writes it\n"
      "to PATH atomically. Progress goes to standard error; --json prints one\n"
      "object at the end. Ctrl-C cancels the download.\n\n"
      "Exit status: 0 the file is there, 1 failure, 2 bad arguments, 3 dflyd not\n"
      "running or gone, 4 no such object, 5 the origin failed, 6 digest mismatch,\n"
      "7 timeout, 8 cancelled, 9 refused by the bus policy, 10 the origin refused\n"
      "the credentials.\n\n"
      "With --recursive (and for an oci:// URL without @sha256: unless --single),\n"
      "URL names several files (an S3 prefix, an OCI image): dflyd lists them and\n"
      "each is downloaded under the directory PATH, four at a time.");

static gboolean
add_headers (GVariantBuilder *options, char **headers, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GVariantBuilder dict;

  g_variant_builder_init (&dict, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; headers[i] != NULL; i++) {
    g_autofree char *name = NULL;
    g_autofree char *value = NULL;

    if (!dflyctl_parse_header (headers[i], &name, &value, error)) {
      g_variant_builder_clear (&dict);
      return FALSE;
    }
    /* a{ss} holds a name once; HTTP names ignore case. */
    if (!g_hash_table_add (seen, g_ascii_strdown (name, -1))) {
      g_autofree char *quoted = dflyctl_quote_arg (name);

      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("--header: “%s” is given twice"),
                   quoted);
      g_variant_builder_clear (&dict);
      return FALSE;
    }
    g_variant_builder_add (&dict, "{ss}", name, value);
  }
  g_variant_builder_add (options, "{sv}", "headers", g_variant_builder_end (&dict));
  return TRUE;
}

static gboolean
get_parse (Dflyctl *ctl, GetRequest *request, GError **error)
{
  g_autofree char *output = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *application = NULL;
  g_autofree char *piece_length = NULL;
  g_autofree char *timeout = NULL;
  g_auto (GStrv) headers = NULL;
  g_auto (GStrv) positional = NULL;
  gboolean           hardlink = FALSE;
  gboolean           recursive = FALSE;
  gboolean           single = FALSE;
  gboolean           all_platforms = FALSE;
  g_autofree char   *platform = NULL;
  const GOptionEntry entries[] = {
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
      N_ ("URL names several files (an S3 prefix): download each under the directory PATH"), NULL },
    { "single", 0, 0, G_OPTION_ARG_NONE, &single,
      N_ ("URL names one file, even an oci:// one by tag: PATH is that file"), NULL },
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform,
      N_ ("The image of this platform from an OCI index"), N_ ("OS/ARCH[/VARIANT]") },
    { "all-platforms", 0, 0, G_OPTION_ARG_NONE, &all_platforms, N_ ("Every image of an OCI index"),
      NULL },
    { "output", 'O', 0, G_OPTION_ARG_FILENAME, &output, N_ ("Write the file to PATH (required)"),
      N_ ("PATH") },
    { "digest", 0, 0, G_OPTION_ARG_STRING, &digest,
      N_ ("Check the whole content against DIGEST: sha256:HEX or sha512:HEX"), N_ ("DIGEST") },
    { "tag", 0, 0, G_OPTION_ARG_STRING, &tag,
      N_ ("Tell apart tasks of the same URL (part of the task id)"), N_ ("TAG") },
    { "application", 0, 0, G_OPTION_ARG_STRING, &application,
      N_ ("The application asking (part of the task id)"), N_ ("NAME") },
    { "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &headers,
      N_ ("Send this request header to the origin; may be repeated"), N_ ("'NAME: VALUE'") },
    { "piece-length", 0, 0, G_OPTION_ARG_STRING, &piece_length,
      N_ ("Pieces of SIZE bytes (or 4MiB, 16MiB, …) instead of dflyd's choice"), N_ ("SIZE") },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout,
      N_ ("Give up after SECONDS (or 30s, 5m, 1h) for the whole download"), N_ ("SECONDS") },
    { "hardlink", 0, 0, G_OPTION_ARG_NONE, &hardlink,
      N_ ("Link PATH to dflyd's cache instead of copying the file"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &request->quiet, N_ ("Show no progress"), NULL },
    { NULL }
  };
  GVariantBuilder options;

  positional = dflyctl_parse_command_args (ctl, entries, _ ("URL -O PATH"), _ (get_summary),
                                           _ (get_description), error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("get: no URL given"));
    return FALSE;
  }
  if (positional[1] != NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[1]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("get: takes one URL, got also “%s”"),
                 quoted);
    return FALSE;
  }
  if (!dflyctl_check_url (positional[0], error)) {
    g_prefix_error (error, "get: ");
    return FALSE;
  }
  request->url = g_strdup (positional[0]);
  if (output == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("get: -O PATH is required: where should the file go?"));
    return FALSE;
  }
  request->output = dflyctl_parse_output (output, error);
  if (request->output == NULL) {
    g_prefix_error (error, "get: ");
    return FALSE;
  }

  if (recursive && single) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("get: --recursive and --single contradict each other"));
    return FALSE;
  }
  /* An oci:// URL by tag names an image (or an index of them): several
   * files, which the OCI source lists. One by digest names one blob. */
  request->directory = recursive || (g_ascii_strncasecmp (request->url, "oci://", 6) == 0 &&
                                     strstr (request->url, "@sha256:") == NULL && !single);
  if (!request->directory && (platform != NULL || all_platforms)) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("get: --platform and --all-platforms need a directory download "
                            "(--recursive or an oci:// URL)"));
    return FALSE;
  }
  if (request->directory && digest != NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("get: --digest names one file's content; it cannot check a directory"));
    return FALSE;
  }
  if (platform != NULL &&
      (strchr (platform, '/') == NULL || !g_utf8_validate (platform, -1, NULL))) {
    g_autofree char *quoted = dflyctl_quote_arg (platform);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("get: --platform “%s” is not OS/ARCH[/VARIANT]"), quoted);
    return FALSE;
  }

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (digest != NULL) {
    g_autofree char *normalized = dflyctl_parse_digest (digest, error);

    if (normalized == NULL) {
      g_variant_builder_clear (&options);
      g_prefix_error (error, "get: ");
      return FALSE;
    }
    g_variant_builder_add (&options, "{sv}", "digest", g_variant_new_string (normalized));
  }
  if (tag != NULL)
    g_variant_builder_add (&options, "{sv}", "tag", g_variant_new_string (tag));
  if (application != NULL)
    g_variant_builder_add (&options, "{sv}", "application", g_variant_new_string (application));
  if (headers != NULL && !add_headers (&options, headers, error)) {
    g_variant_builder_clear (&options);
    g_prefix_error (error, "get: ");
    return FALSE;
  }
  if (piece_length != NULL) {
    guint64 bytes;

    if (!dflyctl_parse_size ("--piece-length", piece_length, PIECE_LENGTH_MIN, PIECE_LENGTH_MAX,
                             &bytes, error)) {
      g_variant_builder_clear (&options);
      g_prefix_error (error, "get: ");
      return FALSE;
    }
    g_variant_builder_add (&options, "{sv}", "piece-length", g_variant_new_uint64 (bytes));
  }
  if (timeout != NULL) {
    if (!dflyctl_parse_duration ("--timeout", timeout, 1, G_MAXUINT32 - TIMEOUT_GRACE,
                                 &request->timeout, error)) {
      g_variant_builder_clear (&options);
      g_prefix_error (error, "get: ");
      return FALSE;
    }
    g_variant_builder_add (&options, "{sv}", "timeout", g_variant_new_uint32 (request->timeout));
  }
  if (hardlink)
    g_variant_builder_add (&options, "{sv}", "hardlink", g_variant_new_boolean (TRUE));
  request->options = g_variant_ref_sink (g_variant_builder_end (&options));

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (headers != NULL && !add_headers (&options, headers, error)) {
    g_variant_builder_clear (&options);
    return FALSE;
  }
  if (platform != NULL)
    g_variant_builder_add (&options, "{sv}", "platform", g_variant_new_string (platform));
  if (all_platforms)
    g_variant_builder_add (&options, "{sv}", "all-platforms", g_variant_new_boolean (TRUE));
  request->list_options = g_variant_ref_sink (g_variant_builder_end (&options));
  return TRUE;
}

/* One download being waited for. */
typedef struct {
  Dflyctl         *ctl;
  GetRequest      *request;
  GDBusConnection *connection;
  char            *owner;       /* dflyd's unique name */
  GCancellable    *cancellable; /* of the calls still out at the end */
  guint            pending_calls;
  guint            owner_subscription;
  guint            task_subscription;
  gulong           closed_handler;
  guint            sigint_source;
  guint            sigterm_source;
  guint            timeout_source;
  guint            tick_source;
  guint            cancel_wait_source;
  gint64           started; /* monotonic */
  char            *task_id; /* NULL until Download returns */
  GPtrArray       *early;   /* our output's results that came before the id */
  DflyctlProgress *progress;
  guint64          completed;
  gint64           total;
  gboolean         interrupted;
  gboolean         done;
  const char      *result;     /* succeeded, failed, cancelled, timeout */
  GError          *error;      /* why, unless it succeeded */
  char            *error_name; /* dflyd's, for --json */
  char            *error_message;
} GetRun;

static void
get_run_finish (GetRun *self, const char *result, GError *error)
{
  if (self->done) {
    g_clear_error (&error);
    return;
  }
  self->done = TRUE;
  self->result = result;
  self->error = error;
}

static void get_run_fail (GetRun *self, const char *result, GQuark domain, int code,
                          const char *format, ...) G_GNUC_PRINTF (5, 6);

static void
get_run_fail (GetRun *self, const char *result, GQuark domain, int code, const char *format, ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);
  get_run_finish (self, result, error);
}

static char *
get_run_short_id (GetRun *self)
{
  return dflyctl_short_task_id (self->task_id != NULL ? self->task_id : "?");
}

static void
on_cancel_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GetRun *self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  self->pending_calls--;
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  /* NotFound: it ended on its own meanwhile; its signal says how. */
  if (reply == NULL)
    g_debug ("CancelTask: %s", error->message);
}

static void
get_run_send_cancel (GetRun *self)
{
  g_debug ("cancelling task %s", self->task_id);
  self->pending_calls++;
  g_dbus_connection_call (self->connection, self->owner, DFLYD_OBJECT_PATH, DFLYD_INTERFACE,
                          "CancelTask", g_variant_new ("(s)", self->task_id), G_VARIANT_TYPE ("()"),
                          G_DBUS_CALL_FLAGS_NONE, DFLYCTL_CALL_TIMEOUT_MS, self->cancellable,
                          on_cancel_reply, self);
}

static void
get_run_succeeded (GetRun *self)
{
  GStatBuf st;
  guint64  bytes = self->completed;

  /* The file is on this machine: its size is the truth, also when dflyd had
   * it all cached and sent no progress. */
  if (g_stat (self->request->output, &st) == 0)
    bytes = (guint64) st.st_size;
  self->completed = bytes;
  if (self->progress != NULL)
    dflyctl_progress_update (self->progress, g_get_monotonic_time (), bytes,
                             self->total >= 0 ? self->total : (gint64) bytes);
  get_run_finish (self, "succeeded", NULL);
}

static void
get_run_failed (GetRun *self, const char *error_name, const char *message)
{
  GError     *error = g_dbus_error_new_for_dbus_error (error_name, message);
  const char *result = "failed";

  g_dbus_error_strip_remote_error (error);
  if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_CANCELLED))
    result = "cancelled";
  else if (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT))
    result = "timeout";
  self->error_name = g_strdup (error_name);
  self->error_message = g_strdup (message);
  get_run_finish (self, result, error);
}

/* TaskFinished (ss) or TaskFailed (ssss) of our task and output. */
static void
get_run_result (GetRun *self, GVariant *parameters)
{
  if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)"))) {
    get_run_succeeded (self);
  } else {
    const char *error_name, *message;

    g_variant_get (parameters, "(&s&s&s&s)", NULL, NULL, &error_name, &message);
    get_run_failed (self, error_name, message);
  }
}

static void
on_task_signal (GDBusConnection *connection, const char *sender, const char *object_path,
                const char *interface_name, const char *signal_name, GVariant *parameters,
                gpointer user_data)
{
  GetRun     *self = user_data;
  const char *task_id, *output;

  if (self->done)
    return;
  if (g_str_equal (signal_name, "TaskProgress") &&
      g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(stx)"))) {
    guint64 completed;
    gint64  total;

    g_variant_get (parameters, "(&stx)", &task_id, &completed, &total);
    if (self->task_id == NULL || !g_str_equal (task_id, self->task_id))
      return;
    self->completed = completed;
    self->total = total;
    if (self->progress != NULL)
      dflyctl_progress_update (self->progress, g_get_monotonic_time (), completed, total);
    return;
  }
  if (!(g_str_equal (signal_name, "TaskFinished") &&
        g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)"))) &&
      !(g_str_equal (signal_name, "TaskFailed") &&
        g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssss)"))))
    return;

  g_variant_get_child (parameters, 0, "&s", &task_id);
  g_variant_get_child (parameters, 1, "&s", &output);
  if (!g_str_equal (output, self->request->output))
    return;
  if (self->task_id == NULL) {
    /* dflyd may be done before its reply to Download reaches us. */
    g_ptr_array_add (self->early, g_variant_ref (parameters));
    return;
  }
  if (g_str_equal (task_id, self->task_id))
    get_run_result (self, parameters);
}

static void
get_run_vanished (GetRun *self)
{
  get_run_fail (self, "failed", DFLYCTL_ERROR, DFLYCTL_ERROR_VANISHED,
                _ ("dflyd left the bus before the download to %s finished"), self->request->output);
}

static gboolean
name_has_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, DFLYCTL_CALL_TIMEOUT_MS, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

static void
on_owner_changed (GDBusConnection *connection, const char *sender, const char *object_path,
                  const char *interface_name, const char *signal_name, GVariant *parameters,
                  gpointer user_data)
{
  GetRun     *self = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (self->owner != NULL && g_str_equal (old_owner, self->owner))
    get_run_vanished (self);
}

static void
on_connection_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                      gpointer user_data)
{
  GetRun *self = user_data;

  get_run_fail (self, "failed", DFLYCTL_ERROR, DFLYCTL_ERROR_VANISHED,
                _ ("lost the connection to the bus before the download finished"));
}

static void
on_download_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GetRun *self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char     *label = NULL;
  g_autofree char     *id = NULL;
  DflyctlProgressStyle style;

  self->pending_calls--;
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    /* The bus answers NoReply for a dflyd that exited before it replied. */
    if ((g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)) &&
        !name_has_owner (self->connection, self->owner)) {
      g_debug ("Download: %s", error->message);
      get_run_vanished (self);
      return;
    }
    get_run_finish (self, "failed", g_steal_pointer (&error));
    return;
  }
  if (self->done)
    return;
  g_variant_get (reply, "(s)", &self->task_id);
  if (!dfly_task_id_is_valid (self->task_id)) {
    g_autofree char *quoted = dflyctl_quote_arg (self->task_id);

    g_clear_pointer (&self->task_id, g_free);
    get_run_fail (self, "failed", DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                  _ ("dflyd answered Download with “%s”, which is not a task id"), quoted);
    return;
  }
  g_debug ("task %s", self->task_id);

  if (self->request->quiet)
    style = DFLYCTL_PROGRESS_NONE;
  else if (isatty (STDERR_FILENO))
    style = DFLYCTL_PROGRESS_BAR;
  else
    style = DFLYCTL_PROGRESS_LINES;
  id = get_run_short_id (self);
  /* TRANSLATORS: starts each progress line: "task 3f2a9c1e0b7d: 52% …" */
  label = g_strdup_printf (_ ("task %s"), id);
  self->progress = dflyctl_progress_new (style, label, self->started);

  for (guint i = 0; i < self->early->len && !self->done; i++) {
    GVariant   *parameters = g_ptr_array_index (self->early, i);
    const char *task_id;

    g_variant_get_child (parameters, 0, "&s", &task_id);
    if (g_str_equal (task_id, self->task_id))
      get_run_result (self, parameters);
  }
  if (self->interrupted && !self->done)
    get_run_send_cancel (self);
}

static gboolean
on_cancel_wait_over (gpointer user_data)
{
  GetRun *self = user_data;

  self->cancel_wait_source = 0;
  if (self->task_id == NULL)
    get_run_fail (self, "cancelled", DFLY_ERROR, DFLY_ERROR_CANCELLED,
                  _ ("interrupted before dflyd answered Download"));
  else
    get_run_fail (self, "cancelled", DFLY_ERROR, DFLY_ERROR_CANCELLED,
                  _ ("interrupted; dflyd did not confirm the cancel within %u s"),
                  (guint) CANCEL_WAIT_SECONDS);
  return G_SOURCE_REMOVE;
}

static gboolean
on_unix_signal (gpointer user_data)
{
  GetRun *self = user_data;

  if (self->interrupted) {
    get_run_fail (self, "cancelled", DFLY_ERROR, DFLY_ERROR_CANCELLED,
                  _ ("interrupted again; not waiting for dflyd to confirm the cancel"));
    return G_SOURCE_CONTINUE;
  }
  self->interrupted = TRUE;
  if (self->progress != NULL)
    dflyctl_progress_end (self->progress, g_get_monotonic_time ());
  if (!self->request->quiet)
    g_printerr ("%s\n", _ ("cancelling the download…"));
  /* Without a task id yet, the cancel goes out with the reply to Download. */
  if (self->task_id != NULL)
    get_run_send_cancel (self);
  self->cancel_wait_source = g_timeout_add_seconds (CANCEL_WAIT_SECONDS, on_cancel_wait_over, self);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  GetRun *self = user_data;

  self->timeout_source = 0;
  if (self->task_id != NULL)
    get_run_send_cancel (self);
  get_run_fail (self, "timeout", DFLY_ERROR, DFLY_ERROR_TIMEOUT,
                _ ("no result from dflyd within %u s (--timeout)"), (guint) self->request->timeout);
  return G_SOURCE_REMOVE;
}

static gboolean
on_tick (gpointer user_data)
{
  GetRun *self = user_data;

  if (self->progress != NULL)
    dflyctl_progress_tick (self->progress, g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

static void
clear_source (guint *id)
{
  if (*id != 0)
    g_source_remove (*id);
  *id = 0;
}

/* Until every callback that could still see @self has run. */
static void
get_run_clear (GetRun *self)
{
  clear_source (&self->sigint_source);
  clear_source (&self->sigterm_source);
  clear_source (&self->timeout_source);
  clear_source (&self->tick_source);
  clear_source (&self->cancel_wait_source);
  if (self->connection != NULL) {
    g_cancellable_cancel (self->cancellable);
    while (self->pending_calls > 0)
      g_main_context_iteration (NULL, TRUE);
    if (self->owner_subscription != 0)
      g_dbus_connection_signal_unsubscribe (self->connection, self->owner_subscription);
    if (self->task_subscription != 0)
      g_dbus_connection_signal_unsubscribe (self->connection, self->task_subscription);
    g_clear_signal_handler (&self->closed_handler, self->connection);
    /* A CancelTask must leave before dflyctl exits. */
    g_dbus_connection_flush_sync (self->connection, NULL, NULL);
  }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->owner, g_free);
  g_clear_pointer (&self->task_id, g_free);
  g_clear_pointer (&self->early, g_ptr_array_unref);
  g_clear_pointer (&self->progress, dflyctl_progress_free);
  g_clear_error (&self->error);
  g_clear_pointer (&self->error_name, g_free);
  g_clear_pointer (&self->error_message, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GetRun, get_run_clear)

static char *
get_owner (GDBusConnection *connection, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  char *owner = NULL;

  reply = g_dbus_connection_call_sync (
    connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
    "GetNameOwner", g_variant_new ("(s)", DFLYD_BUS_NAME), G_VARIANT_TYPE ("(s)"),
    G_DBUS_CALL_FLAGS_NONE, DFLYCTL_CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

static void
get_print_result (GetRun *self)
{
  /* Milliseconds are plenty. */
  double          seconds = (double) ((g_get_monotonic_time () - self->started) / 1000) / 1000.0;
  DflyctlDownload download = {
    .task_id = self->task_id,
    .url = self->request->url,
    .output = self->request->output,
    .result = self->result,
    .bytes = self->completed,
    .seconds = seconds,
  };

  if (self->error != NULL && self->error_name != NULL) {
    download.error_name = self->error_name;
    download.error_message = self->error_message;
  } else if (self->error != NULL) {
    /* dflyctl's own verdict: the timeout, an interrupt, dflyd gone. */
    download.error_name = self->error->domain == DFLY_ERROR
                            ? dfly_error_to_dbus_name (self->error->code)
                            : dfly_error_to_dbus_name (DFLY_ERROR_FAILED);
    download.error_message = self->error->message;
  }
  if (self->ctl->format == DFLYCTL_FORMAT_JSON) {
    /* Only about a task dflyd took on; before that, an error is all there is. */
    if (self->task_id != NULL)
      dflyctl_print (self->ctl, dflyctl_output_download (DFLYCTL_FORMAT_JSON, &download));
  } else if (self->error == NULL && !self->request->quiet) {
    g_autofree char *summary = dflyctl_output_download (DFLYCTL_FORMAT_HUMAN, &download);

    g_printerr ("%s", summary);
  }
}

/* Subscribes and calls Download; the run then goes on in the main loop
 * until self->done. */
static gboolean
get_run_start (GetRun *self, Dflyctl *ctl, GetRequest *request, GError **error)
{
  self->ctl = ctl;
  self->request = request;
  self->connection = ctl->connection;
  self->cancellable = g_cancellable_new ();
  self->early = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  self->total = -1;

  /* First the watch, then the owner: a dflyd that leaves in between is seen. */
  self->owner_subscription = g_dbus_connection_signal_subscribe (
    self->connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
    "/org/freedesktop/DBus", DFLYD_BUS_NAME, G_DBUS_SIGNAL_FLAGS_NONE, on_owner_changed, self,
    NULL);
  self->owner = get_owner (self->connection, error);
  if (self->owner == NULL)
    return FALSE;
  /* The match rule goes out before the call on the same connection, so the
   * bus routes every signal dflyd sends after Download to us. */
  self->task_subscription = g_dbus_connection_signal_subscribe (
    self->connection, self->owner, DFLYD_INTERFACE, NULL, DFLYD_OBJECT_PATH, NULL,
    G_DBUS_SIGNAL_FLAGS_NONE, on_task_signal, self, NULL);
  self->closed_handler =
    g_signal_connect (self->connection, "closed", G_CALLBACK (on_connection_closed), self);
  self->sigint_source = g_unix_signal_add (SIGINT, on_unix_signal, self);
  self->sigterm_source = g_unix_signal_add (SIGTERM, on_unix_signal, self);
  if (request->timeout > 0)
    self->timeout_source =
      g_timeout_add_seconds (request->timeout + TIMEOUT_GRACE, on_timeout, self);
  if (!request->quiet && isatty (STDERR_FILENO))
    self->tick_source = g_timeout_add (TICK_INTERVAL_MS, on_tick, self);

  self->started = g_get_monotonic_time ();
  self->pending_calls++;
  g_dbus_connection_call (
    self->connection, self->owner, DFLYD_OBJECT_PATH, DFLYD_INTERFACE, "Download",
    g_variant_new ("(ss@a{sv})", request->url, request->output, request->options),
    G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, DFLYCTL_CALL_TIMEOUT_MS, self->cancellable,
    on_download_reply, self);
  return TRUE;
}

static gboolean
get_one (Dflyctl *ctl, GetRequest *request, GError **error)
{
  g_auto (GetRun) self = { 0 };

  if (!get_run_start (&self, ctl, request, error))
    return FALSE;
  while (!self.done)
    g_main_context_iteration (NULL, TRUE);

  if (self.progress != NULL)
    dflyctl_progress_end (self.progress, g_get_monotonic_time ());
  get_print_result (&self);
  if (self.error != NULL) {
    g_propagate_error (error, g_steal_pointer (&self.error));
    return FALSE;
  }
  return TRUE;
}

/* ---- a directory: List, then one Download per entry ---- */

/* Downloads running at once in a directory download. */
#define DIRECTORY_CONCURRENCY 4
/* List may read many pages from the origin. */
#define LIST_CALL_TIMEOUT_MS (10 * 60 * 1000)

typedef struct {
  GetRequest request;
  GetRun     run;
  char      *path; /* relative, as listed */
  gboolean   active;
} DirectorySlot;

static void
directory_slot_clear (DirectorySlot *slot)
{
  get_run_clear (&slot->run);
  memset (&slot->run, 0, sizeof slot->run);
  get_request_clear (&slot->request);
  g_clear_pointer (&slot->path, g_free);
  slot->active = FALSE;
}

/* The entry's output under the directory, its parents made; entries were
 * checked by dflyd, and are checked again here. */
static char *
directory_output (const char *directory, const char *path, GError **error)
{
  g_autofree char *output = NULL;
  g_autofree char *parent = NULL;

  if (!dfly_source_entry_path_is_safe (path)) {
    g_autofree char *quoted = dflyctl_quote_arg (path);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 _ ("refusing to write “%s”: not a safe relative path"), quoted);
    return NULL;
  }
  output = g_build_filename (directory, path, NULL);
  parent = g_path_get_dirname (output);
  if (g_mkdir_with_parents (parent, 0755) != 0) {
    int saved_errno = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, _ ("cannot create directory %s: %s"), parent,
                 g_strerror (saved_errno));
    return NULL;
  }
  return g_steal_pointer (&output);
}

static gboolean
get_directory (Dflyctl *ctl, GetRequest *request, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) entries = NULL;
  g_autoptr (GError) first_error = NULL;
  g_autofree char *owner = NULL;
  DirectorySlot    slots[DIRECTORY_CONCURRENCY] = { 0 };
  gboolean         terminal = isatty (STDERR_FILENO) && !request->quiet;
  gsize            total, next = 0, finished = 0, failed = 0;

  owner = get_owner (ctl->connection, error);
  if (owner == NULL)
    return FALSE;
  reply = g_dbus_connection_call_sync (
    ctl->connection, owner, DFLYD_OBJECT_PATH, DFLYD_INTERFACE, "List",
    g_variant_new ("(s@a{sv})", request->url, request->list_options), G_VARIANT_TYPE ("(a(ssx))"),
    G_DBUS_CALL_FLAGS_NONE, LIST_CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return FALSE;
  entries = g_variant_get_child_value (reply, 0);
  total = g_variant_n_children (entries);
  if (g_mkdir_with_parents (request->output, 0755) != 0) {
    int saved_errno = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, _ ("cannot create directory %s: %s"),
                 request->output, g_strerror (saved_errno));
    return FALSE;
  }

  while (finished < total) {
    /* Fill the free slots, unless a failure or an interrupt says stop. */
    for (guint i = 0; i < DIRECTORY_CONCURRENCY && next < total; i++) {
      DirectorySlot *slot = &slots[i];
      g_autoptr (GError) local_error = NULL;
      const char *url, *path;
      gint64      length;

      if (slot->active)
        continue;
      if (first_error != NULL && g_error_matches (first_error, DFLY_ERROR, DFLY_ERROR_CANCELLED)) {
        finished += total - next;
        next = total;
        break;
      }
      g_variant_get_child (entries, next++, "(&s&sx)", &url, &path, &length);
      slot->path = g_strdup (path);
      slot->request.url = g_strdup (url);
      slot->request.options = g_variant_ref (request->options);
      slot->request.timeout = request->timeout;
      slot->request.quiet = TRUE;
      slot->request.output = directory_output (request->output, path, &local_error);
      if (slot->request.output == NULL ||
          !get_run_start (&slot->run, ctl, &slot->request, &local_error)) {
        g_printerr ("%s: %s\n", path, local_error->message);
        if (first_error == NULL)
          first_error = g_steal_pointer (&local_error);
        failed++;
        finished++;
        directory_slot_clear (slot);
        continue;
      }
      slot->active = TRUE;
    }
    g_main_context_iteration (NULL, TRUE);
    for (guint i = 0; i < DIRECTORY_CONCURRENCY; i++) {
      DirectorySlot *slot = &slots[i];

      if (!slot->active || !slot->run.done)
        continue;
      finished++;
      if (slot->run.error != NULL) {
        failed++;
        g_printerr ("%s%s: %s\n", terminal ? "\r\033[K" : "", slot->path, slot->run.error->message);
        if (first_error == NULL)
          first_error = g_steal_pointer (&slot->run.error);
      } else if (!terminal && !request->quiet) {
        g_printerr (_ ("%s: done (%zu/%zu files)\n"), slot->path, finished, total);
      }
      if (ctl->format == DFLYCTL_FORMAT_JSON)
        get_print_result (&slot->run);
      directory_slot_clear (slot);
    }
    if (terminal) {
      g_autofree char *done = g_strdup_printf (_ ("%zu/%zu files"), finished, total);

      g_printerr ("\r\033[K%s", done);
    }
  }
  for (guint i = 0; i < DIRECTORY_CONCURRENCY; i++)
    directory_slot_clear (&slots[i]);
  if (terminal)
    g_printerr ("\n");
  if (first_error != NULL) {
    g_prefix_error (&first_error, _ ("%zu of %zu files failed; the first: "), failed, total);
    g_propagate_error (error, g_steal_pointer (&first_error));
    return FALSE;
  }
  if (!request->quiet && ctl->format != DFLYCTL_FORMAT_JSON)
    g_printerr (_ ("%zu files in %s\n"), total, request->output);
  return TRUE;
}

gboolean
dflyctl_cmd_get (Dflyctl *ctl, GError **error)
{
  g_auto (GetRequest) request = { 0 };

  if (!get_parse (ctl, &request, error))
    return FALSE;
  if (!dflyctl_connect (ctl, error))
    return FALSE;
  return request.directory ? get_directory (ctl, &request, error) : get_one (ctl, &request, error);
}
