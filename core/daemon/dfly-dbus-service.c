/* dfly-dbus-service.c — DflyDbusService: the control interface of dflyd
 *
 * Methods dispatch from one table; handlers are thin and call into the
 * engine. DFLY_ERROR codes travel as org.dfly.Error.* names (registered by
 * dfly_error_quark), so dflyctl gets the same code back.
 */
#include "config.h"

#include <unistd.h>

#include "dfly-dbus-callers.h"
#include "dfly-dbus-interface.h"
#include "dfly-dbus-service.h"

struct _DflyDbusService {
  GObject          parent_instance;
  DflyEngine      *engine;
  GDBusConnection *connection;
  guint            registration_id;
  guint            owner_id;
  gulong           bus_handlers[9]; /* one per bus signal heard (dfly_dbus_service_new) */
  /* What GetStatus tells of this daemon's life, from the bus. */
  guint64          tasks_started;
  guint64          tasks_succeeded;
  guint64          tasks_failed;
  DflyHostInfo    *host;    /* last announced; NULL before or after */
  DflyDbusCallers *callers; /* whom each download's signals go to */
};

G_DEFINE_FINAL_TYPE (DflyDbusService, dfly_dbus_service, G_TYPE_OBJECT)

enum { SIGNAL_NAME_LOST, N_SIGNALS };
static guint signals[N_SIGNALS];

/* D-Bus strings must be UTF-8; file names, dlerror() text and what plugins
 * say need not be. Every "s" we send goes through here (freed with the
 * reply's builder pool below). */
static const char *
valid_utf8 (GPtrArray *pool, const char *text)
{
  if (text == NULL)
    return "";
  if (g_utf8_validate (text, -1, NULL))
    return text;
  g_ptr_array_add (pool, g_utf8_make_valid (text, -1));
  return g_ptr_array_index (pool, pool->len - 1);
}

typedef GVariant *(*MethodHandler) (DflyDbusService *self, GVariant *parameters, GError **error);

static GVariant *
handle_get_status (DflyDbusService *self, GVariant *parameters, GError **error)
{
  DflyContext *context = dfly_engine_get_context (self->engine);
  gint64       uptime =
    (g_get_monotonic_time () - dfly_context_get_start_time (context)) / G_USEC_PER_SEC;
  const char *config_path = dfly_engine_get_config_path (self->engine);
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "version", "s", PACKAGE_VERSION);
  g_variant_dict_insert (&dict, "pid", "u", (guint32) getpid ());
  g_variant_dict_insert (&dict, "uptime-seconds", "t", (guint64) uptime);
  g_variant_dict_insert (&dict, "config-path", "s", valid_utf8 (pool, config_path));
  g_variant_dict_insert_value (&dict, "roles", dfly_engine_describe_roles (self->engine));
  g_variant_dict_insert (&dict, "tasks-started", "t", self->tasks_started);
  g_variant_dict_insert (&dict, "tasks-succeeded", "t", self->tasks_succeeded);
  g_variant_dict_insert (&dict, "tasks-failed", "t", self->tasks_failed);
  if (self->host != NULL) {
    g_variant_dict_insert (&dict, "host-id", "s", valid_utf8 (pool, self->host->id));
    g_variant_dict_insert (&dict, "host-type", "s", dfly_host_type_to_string (self->host->type));
  }
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&dict));
}

static GVariant *
handle_list_plugins (DflyDbusService *self, GVariant *parameters, GError **error)
{
  GPtrArray *records = dfly_plugin_loader_get_records (dfly_engine_get_loader (self->engine));
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssssss)"));
  for (guint i = 0; i < records->len; i++) {
    const DflyPluginRecord *record = g_ptr_array_index (records, i);

    g_variant_builder_add (&builder, "(ssssss)", valid_utf8 (pool, record->name),
                           record->kind != 0 ? dfly_plugin_kind_to_string (record->kind) : "",
                           valid_utf8 (pool, record->version), valid_utf8 (pool, record->path),
                           record->loaded ? "loaded" : "refused",
                           valid_utf8 (pool, record->reason));
  }
  return g_variant_new ("(@a(ssssss))", g_variant_builder_end (&builder));
}

static GVariant *
handle_reload (DflyDbusService *self, GVariant *parameters, GError **error)
{
  g_autoptr (GPtrArray) changes = dfly_engine_reload (self->engine, error);

  if (changes == NULL)
    return NULL;
  g_ptr_array_add (changes, NULL);
  return g_variant_new ("(^as)", (char **) changes->pdata);
}

static DflyContext *
service_context (DflyDbusService *self)
{
  return dfly_engine_get_context (self->engine);
}

static DflyStorage *
require_storage (DflyDbusService *self, GError **error)
{
  DflyStorage *storage = dfly_context_get_storage (service_context (self));

  if (storage == NULL)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "no storage is loaded");
  return storage;
}

static gboolean
check_task_id (const char *task_id, GError **error)
{
  if (dfly_task_id_is_valid (task_id))
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
               "\"%s\" is not a task id (64 lowercase hex digits)", task_id);
  return FALSE;
}

/* One Download option, type-checked; FALSE for an unknown key or wrong type. */
static gboolean
take_option (DflyDownloadRequest *request, const char *key, GVariant *value, GError **error)
{
  static const struct {
    const char *key;
    const char *type;
  } options[] = {
    { "digest", "s" },       { "tag", "s" },     { "application", "s" }, { "headers", "a{ss}" },
    { "piece-length", "t" }, { "timeout", "u" }, { "hardlink", "b" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (options); i++) {
    if (g_str_equal (key, options[i].key))
      break;
  }
  if (i == G_N_ELEMENTS (options)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "unknown option \"%s\"", key);
    return FALSE;
  }
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE (options[i].type))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "option %s must be of type %s, not %s", key, options[i].type,
                 g_variant_get_type_string (value));
    return FALSE;
  }
  if (g_str_equal (key, "digest"))
    request->digest = g_variant_dup_string (value, NULL);
  else if (g_str_equal (key, "tag"))
    request->tag = g_variant_dup_string (value, NULL);
  else if (g_str_equal (key, "application"))
    request->application = g_variant_dup_string (value, NULL);
  else if (g_str_equal (key, "piece-length"))
    request->piece_length = g_variant_get_uint64 (value);
  else if (g_str_equal (key, "timeout"))
    request->timeout = g_variant_get_uint32 (value);
  else if (g_str_equal (key, "hardlink"))
    request->hardlink = g_variant_get_boolean (value);
  else {
    GVariantIter iter;
    const char  *name, *text;

    g_variant_iter_init (&iter, value);
    while (g_variant_iter_next (&iter, "{&s&s}", &name, &text))
      g_hash_table_insert (request->headers, g_strdup (name), g_strdup (text));
  }
  return TRUE;
}

typedef struct {
  DflyDbusService       *service;
  DflyDownloadRequest   *request;
  GDBusMethodInvocation *invocation;
} DownloadCall;

static void
download_accepted (GObject *downloader, GAsyncResult *result, gpointer user_data)
{
  DownloadCall    *call = user_data;
  GError          *error = NULL;
  g_autofree char *task_id =
    dfly_downloader_download_finish (DFLY_DOWNLOADER (downloader), result, &error);
  g_autofree char *caller = NULL;

  if (task_id == NULL) {
    dfly_dbus_callers_remove (call->service->callers, call->request, &caller);
    g_dbus_method_invocation_take_error (call->invocation, error);
  } else {
    g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(s)", task_id));
  }
  g_object_unref (call->service);
  dfly_download_request_unref (call->request);
  g_free (call);
}

/* The downloader checks the output off the main loop, then answers. */
static void
handle_download (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  DflyDownloader *downloader = dfly_context_get_downloader (service_context (self));
  g_autoptr (DflyDownloadRequest) request = NULL;
  g_autoptr (GVariant) options = NULL;
  const char   *url, *output, *key;
  GVariantIter  iter;
  GVariant     *value;
  GError       *error = NULL;
  DownloadCall *call;

  g_variant_get (parameters, "(&s&s@a{sv})", &url, &output, &options);
  if (downloader == NULL) {
    g_dbus_method_invocation_return_error (invocation, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                                           "no peer or seed role is running to download");
    return;
  }
  request = dfly_download_request_new (url, output);
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value)) {
    gboolean ok = take_option (request, key, value, &error);

    g_variant_unref (value);
    if (!ok) {
      g_dbus_method_invocation_take_error (invocation, error);
      return;
    }
  }
  call = g_new0 (DownloadCall, 1);
  call->service = g_object_ref (self);
  call->request = dfly_download_request_ref (request);
  call->invocation = invocation;
  /* Noted first: a task already held may finish before the reply. */
  dfly_dbus_callers_add (self->callers, request, g_dbus_method_invocation_get_sender (invocation));
  dfly_downloader_download_async (downloader, request, NULL, download_accepted, call);
}

static GVariant *
describe_task (DflyDbusService *self, const DflyTaskInfo *task, GPtrArray *pool)
{
  DflyDownloader *downloader = dfly_context_get_downloader (service_context (self));
  GVariantDict    dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "id", "s", task->id);
  g_variant_dict_insert (&dict, "url", "s", valid_utf8 (pool, task->url));
  g_variant_dict_insert (&dict, "state", "s", dfly_task_state_to_string (task->state));
  g_variant_dict_insert (&dict, "content-length", "x", task->content_length);
  g_variant_dict_insert (&dict, "completed-length", "t", task->completed_length);
  g_variant_dict_insert (&dict, "from-parents", "t", task->from_parents);
  g_variant_dict_insert (&dict, "piece-length", "t", task->piece_length);
  g_variant_dict_insert (&dict, "total-pieces", "u", task->total_pieces);
  g_variant_dict_insert (&dict, "last-used", "x", task->last_used);
  g_variant_dict_insert (&dict, "running", "b",
                         downloader != NULL && dfly_downloader_is_running (downloader, task->id));
  return g_variant_dict_end (&dict);
}

/* ---- methods that read or change storage: SQLite and unlink() run in a
 * worker thread, the reply is built back on the main context (where the
 * downloader, which says whether a task is running, lives) ---- */

typedef gpointer (*StorageCall) (DflyStorage *storage, const char *task_id, GError **error);
typedef GVariant *(*StorageReply) (DflyDbusService *self, gpointer result);

typedef struct {
  DflyStorage           *storage;
  char                  *task_id; /* NULL for ListTasks */
  StorageCall            call;
  StorageReply           reply;
  GDBusMethodInvocation *invocation;
} StorageJob;

static void
storage_job_free (StorageJob *job)
{
  g_object_unref (job->storage);
  g_free (job->task_id);
  g_free (job);
}

static void
storage_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  StorageJob *job = task_data;
  GError     *error = NULL;
  gpointer    result = job->call (job->storage, job->task_id, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, NULL);
}

static void
storage_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StorageJob *job = g_task_get_task_data (G_TASK (result));
  GError     *error = NULL;
  gpointer    value = g_task_propagate_pointer (G_TASK (result), &error);

  if (value == NULL)
    g_dbus_method_invocation_take_error (job->invocation, error);
  else
    g_dbus_method_invocation_return_value (job->invocation,
                                           job->reply (DFLY_DBUS_SERVICE (source), value));
}

/* Runs call (storage, task_id) off the main loop and replies with
 * reply (self, its result), which takes the result. */
static void
run_storage_job (DflyDbusService *self, GDBusMethodInvocation *invocation, DflyStorage *storage,
                 const char *task_id, StorageCall call, StorageReply reply)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, storage_done, NULL);
  StorageJob *job = g_new0 (StorageJob, 1);

  job->storage = g_object_ref (storage);
  job->task_id = g_strdup (task_id);
  job->call = call;
  job->reply = reply;
  job->invocation = invocation;
  g_task_set_task_data (task, job, (GDestroyNotify) storage_job_free);
  g_task_run_in_thread (task, storage_thread);
}

static gpointer
list_tasks_call (DflyStorage *storage, const char *task_id, GError **error)
{
  return dfly_storage_list_tasks (storage, error);
}

static GVariant *
list_tasks_reply (DflyDbusService *self, gpointer result)
{
  g_autoptr (GPtrArray) tasks = result;
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < tasks->len; i++)
    g_variant_builder_add_value (&builder,
                                 describe_task (self, g_ptr_array_index (tasks, i), pool));
  return g_variant_new ("(@aa{sv})", g_variant_builder_end (&builder));
}

static void
handle_list_tasks (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  GError      *error = NULL;
  DflyStorage *storage = require_storage (self, &error);

  if (storage == NULL) {
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  run_storage_job (self, invocation, storage, NULL, list_tasks_call, list_tasks_reply);
}

/* StatTask's answer: the task, and the bytes each parent peer gave it. */
typedef struct {
  DflyTaskInfo *task;
  GHashTable   *parents; /* peer id → guint64 * bytes */
} TaskStat;

static void
task_stat_free (TaskStat *stat)
{
  dfly_task_info_unref (stat->task);
  g_hash_table_unref (stat->parents);
  g_free (stat);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TaskStat, task_stat_free)

static gpointer
stat_task_call (DflyStorage *storage, const char *task_id, GError **error)
{
  g_autoptr (DflyTaskInfo) task = dfly_storage_lookup_task (storage, task_id, error);
  g_autoptr (GPtrArray) pieces = NULL;
  TaskStat *stat;

  if (task == NULL || (pieces = dfly_storage_list_pieces (storage, task_id, error)) == NULL)
    return NULL;
  stat = g_new0 (TaskStat, 1);
  stat->task = g_steal_pointer (&task);
  stat->parents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < pieces->len; i++) {
    const DflyPieceInfo *piece = g_ptr_array_index (pieces, i);
    guint64             *bytes;

    if (piece->parent_id == NULL)
      continue;
    bytes = g_hash_table_lookup (stat->parents, piece->parent_id);
    if (bytes == NULL) {
      bytes = g_new0 (guint64, 1);
      g_hash_table_insert (stat->parents, g_strdup (piece->parent_id), bytes);
    }
    *bytes += piece->length;
  }
  return stat;
}

static GVariant *
stat_task_reply (DflyDbusService *self, gpointer result)
{
  g_autoptr (TaskStat) stat = result;
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GVariant) described = g_variant_ref_sink (describe_task (self, stat->task, pool));
  GVariantDict    dict;
  GVariantBuilder parents;
  GHashTableIter  iter;
  gpointer        id, bytes;

  g_variant_builder_init (&parents, G_VARIANT_TYPE ("a{st}"));
  g_hash_table_iter_init (&iter, stat->parents);
  while (g_hash_table_iter_next (&iter, &id, &bytes))
    g_variant_builder_add (&parents, "{st}", valid_utf8 (pool, id), *(guint64 *) bytes);
  g_variant_dict_init (&dict, described);
  g_variant_dict_insert_value (&dict, "parents", g_variant_builder_end (&parents));
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&dict));
}

/* The storage and the checked task id of a StatTask or DeleteTask, or NULL
 * with the invocation answered. */
static DflyStorage *
task_method_storage (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation,
                     const char **task_id)
{
  GError      *error = NULL;
  DflyStorage *storage = require_storage (self, &error);

  g_variant_get (parameters, "(&s)", task_id);
  if (storage == NULL || !check_task_id (*task_id, &error)) {
    g_dbus_method_invocation_take_error (invocation, error);
    return NULL;
  }
  return storage;
}

static void
handle_stat_task (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  const char  *task_id;
  DflyStorage *storage = task_method_storage (self, parameters, invocation, &task_id);

  if (storage != NULL)
    run_storage_job (self, invocation, storage, task_id, stat_task_call, stat_task_reply);
}

/* Storage refuses to delete a task a download holds (pinned), so a
 * download starting while this runs cannot lose its file. */
static gpointer
delete_task_call (DflyStorage *storage, const char *task_id, GError **error)
{
  if (!dfly_storage_delete_task (storage, task_id, error))
    return NULL;
  g_info ("task %s deleted", task_id);
  return GINT_TO_POINTER (TRUE);
}

static GVariant *
delete_task_reply (DflyDbusService *self, gpointer result)
{
  return g_variant_new ("()");
}

static void
handle_delete_task (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  DflyDownloader *downloader = dfly_context_get_downloader (service_context (self));
  const char     *task_id;
  DflyStorage    *storage = task_method_storage (self, parameters, invocation, &task_id);

  if (storage == NULL)
    return;
  if (downloader != NULL && dfly_downloader_is_running (downloader, task_id)) {
    g_dbus_method_invocation_return_error (invocation, DFLY_ERROR, DFLY_ERROR_BUSY,
                                           "task %s is running; cancel it first", task_id);
    return;
  }
  run_storage_job (self, invocation, storage, task_id, delete_task_call, delete_task_reply);
}

static GVariant *
handle_cancel_task (DflyDbusService *self, GVariant *parameters, GError **error)
{
  DflyDownloader *downloader = dfly_context_get_downloader (service_context (self));
  const char     *task_id;

  g_variant_get (parameters, "(&s)", &task_id);
  if (!check_task_id (task_id, error))
    return NULL;
  if (downloader == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, "task %s is not running", task_id);
    return NULL;
  }
  if (!dfly_downloader_cancel (downloader, task_id, error))
    return NULL;
  return g_variant_new ("()");
}

/* GC may walk and unlink many files, and the usage it reports may stat the
 * file system: both off the main loop, replied when done. */
typedef struct {
  guint64          freed;
  DflyStorageUsage usage;
} CollectResult;

static void
collect_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DflyStorage              *storage = task_data;
  GError                   *error = NULL;
  g_autofree CollectResult *result = g_new0 (CollectResult, 1);

  result->freed = dfly_storage_collect (storage, &error);
  if (error != NULL) {
    g_task_return_error (task, error);
    return;
  }
  dfly_storage_get_usage (storage, &result->usage);
  g_task_return_pointer (task, g_steal_pointer (&result), g_free);
}

static void
collect_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation    *invocation = user_data;
  g_autofree CollectResult *collected = NULL;
  GError                   *error = NULL;
  GVariantDict              dict;

  collected = g_task_propagate_pointer (G_TASK (result), &error);
  if (collected == NULL) {
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "freed-bytes", "t", collected->freed);
  g_variant_dict_insert (&dict, "tasks", "u", collected->usage.tasks);
  g_variant_dict_insert (&dict, "bytes", "t", collected->usage.bytes);
  g_variant_dict_insert (&dict, "quota", "t", collected->usage.quota);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(@a{sv})", g_variant_dict_end (&dict)));
}

static void
handle_collect_cache (DflyDbusService *self, GVariant *parameters,
                      GDBusMethodInvocation *invocation)
{
  GError      *error = NULL;
  DflyStorage *storage = require_storage (self, &error);
  g_autoptr (GTask) task = NULL;

  if (storage == NULL) {
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  task = g_task_new (NULL, NULL, collect_done, invocation);
  g_task_set_task_data (task, g_object_ref (storage), g_object_unref);
  g_task_run_in_thread (task, collect_thread);
}

/* ---- List: a source's entries, from a worker thread ---- */

/* Entries one List returns at most: the reply must fit a D-Bus message. */
#define MAX_LIST_ENTRIES 100000

typedef struct {
  DflySource *source;
  char       *url;
  GHashTable *headers; /* name → value */
  GHashTable *options; /* "platform", "all-platforms" → text */
} ListJob;

static void
list_job_free (ListJob *job)
{
  g_object_unref (job->source);
  g_free (job->url);
  g_hash_table_unref (job->headers);
  g_hash_table_unref (job->options);
  g_free (job);
}

/* What a source lists must be safe to join under the client's directory
 * and travel as D-Bus strings: refused otherwise, never altered. */
static gboolean
check_entries (GPtrArray *entries, const char *url, GError **error)
{
  if (entries->len > MAX_LIST_ENTRIES) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s lists more than %u entries", url,
                 MAX_LIST_ENTRIES);
    return FALSE;
  }
  for (guint i = 0; i < entries->len; i++) {
    const DflySourceEntry *entry = g_ptr_array_index (entries, i);
    g_autofree char       *shown = NULL;

    if (entry->url != NULL && entry->path != NULL && g_utf8_validate (entry->url, -1, NULL) &&
        g_utf8_validate (entry->path, -1, NULL) && dfly_source_entry_path_is_safe (entry->path))
      continue;
    shown = g_strescape (entry->path != NULL ? entry->path : "", NULL);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "%s lists an entry at \"%s\", not a safe relative path", url, shown);
    return FALSE;
  }
  return TRUE;
}

static void
list_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ListJob *job = task_data;
  GError  *error = NULL;
  g_autoptr (GPtrArray) entries =
    dfly_source_list (job->source, job->url, job->headers, job->options, cancellable, &error);

  if (entries == NULL || !check_entries (entries, job->url, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&entries), (GDestroyNotify) g_ptr_array_unref);
}

static void
list_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr (GPtrArray) entries = NULL;
  GError         *error = NULL;
  GVariantBuilder builder;

  entries = g_task_propagate_pointer (G_TASK (result), &error);
  if (entries == NULL) {
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssx)"));
  for (guint i = 0; i < entries->len; i++) {
    const DflySourceEntry *entry = g_ptr_array_index (entries, i);

    g_variant_builder_add (&builder, "(ssx)", entry->url, entry->path, entry->length);
  }
  g_dbus_method_invocation_return_value (
    invocation, g_variant_new ("(@a(ssx))", g_variant_builder_end (&builder)));
}

/* The options of List, type-checked, into job. */
static gboolean
take_list_options (ListJob *job, GVariant *options, GError **error)
{
  GVariantIter iter;
  const char  *key;
  GVariant    *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value)) {
    g_autoptr (GVariant) owned = value;
    const char *type = g_str_equal (key, "headers")         ? "a{ss}"
                       : g_str_equal (key, "platform")      ? "s"
                       : g_str_equal (key, "all-platforms") ? "b"
                                                            : NULL;

    if (type == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "unknown option \"%s\"", key);
      return FALSE;
    }
    if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type))) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                   "option %s must be of type %s, not %s", key, type,
                   g_variant_get_type_string (value));
      return FALSE;
    }
    if (g_str_equal (key, "headers")) {
      GVariantIter headers;
      const char  *name, *text;

      g_variant_iter_init (&headers, value);
      while (g_variant_iter_next (&headers, "{&s&s}", &name, &text))
        g_hash_table_insert (job->headers, g_strdup (name), g_strdup (text));
    } else if (g_str_equal (key, "platform")) {
      g_hash_table_insert (job->options, g_strdup ("platform"), g_variant_dup_string (value, NULL));
    } else if (g_variant_get_boolean (value)) {
      g_hash_table_insert (job->options, g_strdup ("all-platforms"), g_strdup ("true"));
    }
  }
  return TRUE;
}

static void
handle_list (DflyDbusService *self, GVariant *parameters, GDBusMethodInvocation *invocation)
{
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GTask) task = NULL;
  GError     *error = NULL;
  DflySource *source;
  const char *url;
  ListJob    *job;

  g_variant_get (parameters, "(&s@a{sv})", &url, &options);
  source = dfly_context_lookup_source (service_context (self), url, &error);
  if (source == NULL) {
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  job = g_new0 (ListJob, 1);
  job->source = g_object_ref (source);
  job->url = g_strdup (url);
  job->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  job->options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!take_list_options (job, options, &error)) {
    list_job_free (job);
    g_dbus_method_invocation_take_error (invocation, error);
    return;
  }
  task = g_task_new (NULL, NULL, list_done, invocation);
  g_task_set_task_data (task, job, (GDestroyNotify) list_job_free);
  g_task_run_in_thread (task, list_thread);
}

typedef void (*AsyncMethodHandler) (DflyDbusService *self, GVariant *parameters,
                                    GDBusMethodInvocation *invocation);

static const struct {
  const char        *name;
  MethodHandler      handler;
  AsyncMethodHandler async_handler; /* replies on its own, later */
} method_table[] = {
  { "GetStatus", handle_get_status, NULL },
  { "ListPlugins", handle_list_plugins, NULL },
  { "Reload", handle_reload, NULL },
  { "Download", NULL, handle_download },
  { "ListTasks", NULL, handle_list_tasks },
  { "StatTask", NULL, handle_stat_task },
  { "DeleteTask", NULL, handle_delete_task },
  { "CancelTask", handle_cancel_task, NULL },
  { "CollectCache", NULL, handle_collect_cache },
  { "List", NULL, handle_list },
};

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  DflyDbusService *self = user_data;

  for (guint i = 0; i < G_N_ELEMENTS (method_table); i++) {
    g_autoptr (GError) error = NULL;
    GVariant *reply;

    if (strcmp (method_table[i].name, method_name) != 0)
      continue;
    g_debug ("%s called %s", sender, method_name);
    if (method_table[i].async_handler != NULL) {
      method_table[i].async_handler (self, parameters, invocation);
      return;
    }
    reply = method_table[i].handler (self, parameters, &error);
    if (reply == NULL)
      g_dbus_method_invocation_return_gerror (invocation, error);
    else
      g_dbus_method_invocation_return_value (invocation, reply);
    return;
  }
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                         "no method %s", method_name);
}

/* ---- the bus's download signals, relayed as D-Bus signals ---- */

/* To destination (a unique name) alone; NULL: to every client of the bus. */
static void
emit_dbus_signal_to (DflyDbusService *self, const char *destination, const char *name,
                     GVariant *parameters)
{
  g_autoptr (GError) error = NULL;

  g_variant_ref_sink (parameters);
  if (self->connection != NULL &&
      !g_dbus_connection_emit_signal (self->connection, destination, DFLY_DBUS_PATH,
                                      DFLY_DBUS_INTERFACE, name, parameters, &error))
    g_warning ("cannot emit %s: %s", name, error->message);
  g_variant_unref (parameters);
}

static void
emit_dbus_signal (DflyDbusService *self, const char *name, GVariant *parameters)
{
  emit_dbus_signal_to (self, NULL, name, parameters);
}

/* A download's signals name its output, task and errors: only the clients
 * that asked for it hear them. */
static void
on_download_progress (DflyBus *bus, DflyTaskInfo *task, gpointer user_data)
{
  DflyDbusService *self = user_data;
  g_autoptr (GPtrArray) callers = NULL;
  g_autoptr (GVariant) parameters = g_variant_ref_sink (
    g_variant_new ("(stx)", task->id, task->completed_length, task->content_length));

  if (!dfly_dbus_callers_of_task (self->callers, task->id, &callers))
    return;
  for (guint i = 0; i < callers->len; i++)
    emit_dbus_signal_to (self, g_ptr_array_index (callers, i), "TaskProgress", parameters);
}

static void
on_download_finished (DflyBus *bus, DflyDownloadRequest *request, gpointer user_data)
{
  DflyDbusService *self = user_data;
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *caller = NULL;

  if (!dfly_dbus_callers_remove (self->callers, request, &caller))
    return;
  emit_dbus_signal_to (
    self, caller, "TaskFinished",
    g_variant_new ("(ss)", request->task_id, valid_utf8 (pool, request->output)));
}

static void
on_download_failed (DflyBus *bus, DflyDownloadRequest *request, const GError *error,
                    gpointer user_data)
{
  DflyDbusService *self = user_data;
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
  DflyError        code = error->domain == DFLY_ERROR ? error->code : DFLY_ERROR_FAILED;
  g_autofree char *caller = NULL;

  if (!dfly_dbus_callers_remove (self->callers, request, &caller))
    return;
  emit_dbus_signal_to (
    self, caller, "TaskFailed",
    g_variant_new ("(ssss)", request->task_id, valid_utf8 (pool, request->output),
                   dfly_error_to_dbus_name (code), valid_utf8 (pool, error->message)));
}

static void
on_role_state_changed (DflyBus *bus, const char *role, DflyRoleState state, gpointer user_data)
{
  g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);

  emit_dbus_signal (
    user_data, "RoleStateChanged",
    g_variant_new ("(ss)", valid_utf8 (pool, role), dfly_role_state_to_string (state)));
}

static void
on_task_registered (DflyBus *bus, DflyTaskInfo *task, gpointer user_data)
{
  DFLY_DBUS_SERVICE (user_data)->tasks_started++;
}

static void
on_task_finished (DflyBus *bus, DflyTaskInfo *task, gpointer user_data)
{
  DFLY_DBUS_SERVICE (user_data)->tasks_succeeded++;
}

static void
on_task_failed (DflyBus *bus, DflyTaskInfo *task, const GError *error, gpointer user_data)
{
  DFLY_DBUS_SERVICE (user_data)->tasks_failed++;
}

static void
on_host_announced (DflyBus *bus, DflyHostInfo *host, gpointer user_data)
{
  DflyDbusService *self = user_data;

  g_clear_pointer (&self->host, dfly_host_info_unref);
  self->host = dfly_host_info_ref (host);
}

static void
on_host_left (DflyBus *bus, DflyHostInfo *host, gpointer user_data)
{
  g_clear_pointer (&DFLY_DBUS_SERVICE (user_data)->host, dfly_host_info_unref);
}

static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };

static void
dfly_dbus_service_dispose (GObject *object)
{
  DflyDbusService *self = DFLY_DBUS_SERVICE (object);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->registration_id != 0) {
    g_dbus_connection_unregister_object (self->connection, self->registration_id);
    self->registration_id = 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS (self->bus_handlers); i++) {
    if (self->bus_handlers[i] != 0)
      g_signal_handler_disconnect (dfly_context_get_bus (service_context (self)),
                                   self->bus_handlers[i]);
    self->bus_handlers[i] = 0;
  }
  g_clear_object (&self->connection);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->host, dfly_host_info_unref);
  G_OBJECT_CLASS (dfly_dbus_service_parent_class)->dispose (object);
}

/* After the last Download call in flight let go of the service. */
static void
dfly_dbus_service_finalize (GObject *object)
{
  dfly_dbus_callers_free (DFLY_DBUS_SERVICE (object)->callers);
  G_OBJECT_CLASS (dfly_dbus_service_parent_class)->finalize (object);
}

static void
dfly_dbus_service_class_init (DflyDbusServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_dbus_service_dispose;
  G_OBJECT_CLASS (klass)->finalize = dfly_dbus_service_finalize;
  signals[SIGNAL_NAME_LOST] = g_signal_new ("name-lost", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
dfly_dbus_service_init (DflyDbusService *self)
{
  self->callers = dfly_dbus_callers_new ();
}

DflyDbusService *
dfly_dbus_service_new (DflyEngine *engine)
{
  DflyDbusService *self = g_object_new (DFLY_TYPE_DBUS_SERVICE, NULL);
  const struct {
    const char *signal;
    GCallback   handler;
  } heard[] = {
    { DFLY_BUS_DOWNLOAD_PROGRESS, G_CALLBACK (on_download_progress) },
    { DFLY_BUS_DOWNLOAD_FINISHED, G_CALLBACK (on_download_finished) },
    { DFLY_BUS_DOWNLOAD_FAILED, G_CALLBACK (on_download_failed) },
    { DFLY_BUS_ROLE_STATE_CHANGED, G_CALLBACK (on_role_state_changed) },
    { DFLY_BUS_TASK_REGISTERED, G_CALLBACK (on_task_registered) },
    { DFLY_BUS_TASK_FINISHED, G_CALLBACK (on_task_finished) },
    { DFLY_BUS_TASK_FAILED, G_CALLBACK (on_task_failed) },
    { DFLY_BUS_HOST_ANNOUNCED, G_CALLBACK (on_host_announced) },
    { DFLY_BUS_HOST_LEFT, G_CALLBACK (on_host_left) },
  };
  DflyBus *bus;

  G_STATIC_ASSERT (G_N_ELEMENTS (heard) == G_N_ELEMENTS (self->bus_handlers));
  self->engine = g_object_ref (engine);
  bus = dfly_context_get_bus (service_context (self));
  for (guint i = 0; i < G_N_ELEMENTS (heard); i++)
    self->bus_handlers[i] = g_signal_connect (bus, heard[i].signal, heard[i].handler, self);
  return self;
}

static void
name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("owning %s", name);
}

static void
name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_NAME_LOST], 0);
}

gboolean
dfly_dbus_service_export (DflyDbusService *self, GDBusConnection *connection, GError **error)
{
  g_return_val_if_fail (DFLY_IS_DBUS_SERVICE (self), FALSE);
  g_return_val_if_fail (self->connection == NULL, FALSE);

  /* Make sure the org.dfly.Error.* names are registered before any reply. */
  (void) DFLY_ERROR;
  self->connection = g_object_ref (connection);
  self->registration_id = g_dbus_connection_register_object (
    connection, DFLY_DBUS_PATH, (GDBusInterfaceInfo *) &dfly_daemon1_interface, &vtable, self, NULL,
    error);
  if (self->registration_id == 0)
    return FALSE;
  self->owner_id =
    g_bus_own_name_on_connection (connection, DFLY_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                  name_acquired, name_lost, self, NULL);
  return TRUE;
}
