/* dfly-scheduler-directory.c — DflySchedulerDirectory (see the header) */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "dfly-manager-link.h"
#include "dfly-scheduler-directory.h"
#include "dfly-scheduler-list.h"

struct _DflySchedulerDirectory {
  DflyContext         *context;
  DflySchedulerClient *client;
  SoupSession         *session;
  GCancellable        *cancellable; /* the request in flight */
  char                *url;         /* the manager's list for our cluster */
  char                *cache_path;
  guint                timer_id;
  gboolean             too_large; /* the answer in flight was refused unread */
  gboolean             failing;   /* said once until the manager answers */
};

/* Gives client the list; says it when it changes. */
static void
use (DflySchedulerDirectory *self, char **addresses, const char *from)
{
  g_auto (GStrv) before = dfly_scheduler_client_dup_addresses (self->client);
  g_auto (GStrv) after = NULL;
  g_autofree char *shown = NULL;

  dfly_scheduler_client_set_addresses (self->client, (const char *const *) addresses);
  after = dfly_scheduler_client_dup_addresses (self->client);
  shown = g_strjoinv (", ", after);
  if (!g_strv_equal ((const char *const *) before, (const char *const *) after))
    g_info ("schedulers from %s: %s", from, shown);
}

static void
save (DflySchedulerDirectory *self, char **addresses)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; addresses[i] != NULL; i++)
    json_builder_add_string_value (builder, addresses[i]);
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  if (!g_file_set_contents_full (self->cache_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640,
                                 &error))
    g_message ("schedulers from the manager not kept on disk: %s", error->message);
}

static void schedule_next (DflySchedulerDirectory *self);
static void ask (DflySchedulerDirectory *self);

static void
failed (DflySchedulerDirectory *self, const char *why)
{
  if (!self->failing)
    g_message ("manager: no list of schedulers from %s: %s; keeping the last one", self->url, why);
  self->failing = TRUE;
}

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_auto (GStrv) addresses = NULL;
  DflySchedulerDirectory *self;
  SoupMessage            *msg;

  /* Freed meanwhile: nothing of self may be touched. */
  if (g_object_get_data (G_OBJECT (source), "dfly-scheduler-directory") != user_data)
    return;
  self = user_data;
  g_clear_object (&self->cancellable);
  msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  if (body == NULL) {
    failed (self, self->too_large ? "its answer has no length or is over 4 MiB" : error->message);
  } else if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg))) {
    g_autofree char *why = g_strdup_printf ("HTTP %u", soup_message_get_status (msg));

    failed (self, why);
  } else if ((addresses = dfly_scheduler_list_parse (g_bytes_get_data (body, NULL),
                                                     g_bytes_get_size (body), &error)) == NULL) {
    failed (self, error->message);
  } else if (addresses[0] == NULL) {
    failed (self, "it lists no active scheduler of this cluster");
  } else {
    self->failing = FALSE;
    use (self, addresses, "the manager");
    save (self, addresses);
  }
  schedule_next (self);
}

static void
on_got_headers (SoupMessage *msg, gpointer user_data)
{
  DflySchedulerDirectory *self = user_data;

  if (dfly_manager_answer_unreadable (msg, DFLY_SCHEDULER_LIST_MAX_TEXT)) {
    self->too_large = TRUE;
    g_cancellable_cancel (self->cancellable);
  }
}

static void
ask (DflySchedulerDirectory *self)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, self->url);

  self->cancellable = g_cancellable_new ();
  self->too_large = FALSE;
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), self);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, self->cancellable,
                                    on_answer, self);
}

static gboolean
on_timer (gpointer user_data)
{
  DflySchedulerDirectory *self = user_data;

  self->timer_id = 0;
  ask (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_next (DflySchedulerDirectory *self)
{
  DflyConfig *config = dfly_context_get_config (self->context);

  self->timer_id =
    g_timeout_add_seconds (MAX (config->manager.refresh_interval, 1), on_timer, self);
}

/* The cached list, if there is a usable one. */
static void
load_cache (DflySchedulerDirectory *self)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) addresses = NULL;
  gsize length;

  if (!g_file_get_contents (self->cache_path, &text, &length, NULL))
    return;
  addresses = dfly_scheduler_list_parse (text, length, &error);
  if (addresses == NULL || addresses[0] == NULL) {
    g_message ("%s: ignored: %s", self->cache_path,
               error != NULL ? error->message : "no scheduler in it");
    return;
  }
  use (self, addresses, self->cache_path);
}

DflySchedulerDirectory *
dfly_scheduler_directory_new (DflyContext *context, DflySchedulerClient *client, GError **error)
{
  DflyConfig      *config = dfly_context_get_config (context);
  g_autofree char *base = dfly_manager_link_base_url (
    config->manager.addr, dfly_context_get_tls (context) != NULL, error);
  DflySchedulerDirectory *self;

  if (base == NULL)
    return NULL;
  self = g_new0 (DflySchedulerDirectory, 1);
  self->context = g_object_ref (context);
  self->client = client;
  self->session = dfly_wire_session_new (context, DFLY_ROLE_FLAG_MANAGER, 10, 60);
  soup_session_set_proxy_resolver (self->session, NULL);
  g_object_set_data (G_OBJECT (self->session), "dfly-scheduler-directory", self);
  self->url = g_strdup_printf ("%s/api/v1/schedulers?scheduler_cluster_id=%u", base,
                               config->manager.scheduler_cluster_id);
  self->cache_path =
    g_build_filename (config->daemon.state_dir, DFLY_SCHEDULER_DIRECTORY_CACHE, NULL);
  load_cache (self);
  ask (self);
  return self;
}

void
dfly_scheduler_directory_free (DflySchedulerDirectory *self)
{
  if (self == NULL)
    return;
  g_object_set_data (G_OBJECT (self->session), "dfly-scheduler-directory", NULL);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  soup_session_abort (self->session);
  g_object_unref (self->session);
  g_object_unref (self->context);
  g_free (self->url);
  g_free (self->cache_path);
  g_free (self);
}
