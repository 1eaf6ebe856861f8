/* dfly-scheduler-role.c — the "scheduler" role: the swarm's hosts, tasks and peers
 *
 * It keeps the table of hosts heard on the bus (host-announced, host-left:
 * from this dflyd's own roles, and from remote hosts through the service)
 * and drops a host silent for more than twice its announce interval, as
 * Dragonfly's scheduler does. The table holds at most scheduler.max_hosts:
 * when it is full a newcomer takes the place of the host silent the
 * longest, so hosts announced once in a flood (whatever interval they
 * claimed) cannot lock out real ones, which announce again and again (and
 * a real host evicted comes back at its next announce). Tasks, peers and
 * the choice of parents live in DflySchedule; peers reach it through
 * DflySchedulerService.
 */
#include "config.h"

#include "dfly/dfly.h"
#include "dfly-json-safe.h"
#include "dfly-manager-link.h"
#include "dfly-scheduler-service.h"
#include "dfly-scheduler-settings.h"

/* How often silent hosts are looked for: expiry is late by at most this. */
#define EXPIRY_CHECK_SECONDS 1

typedef struct {
  DflyHostInfo *info;
  gint64        last_seen; /* monotonic time of its last announce */
  GList         link;      /* in the role's by_age queue; data is the entry */
} HostEntry;

static void
host_entry_free (gpointer data)
{
  HostEntry *entry = data;

  dfly_host_info_unref (entry->info);
  g_free (entry);
}

G_DECLARE_FINAL_TYPE (DflySchedulerRole, dfly_scheduler_role, DFLY, SCHEDULER_ROLE, DflyRole)

struct _DflySchedulerRole {
  DflyRole              parent_instance;
  GHashTable           *hosts;        /* host id → HostEntry */
  GQueue                by_age;       /* HostEntry, the least recently announced first */
  GMainContext         *main_context; /* the engine's, where the expiry check runs */
  GSource              *expiry;       /* only while the table is not empty */
  gulong                announced_id;
  gulong                left_id;
  gboolean              warned_full; /* warn once each time the table fills, not per announce */
  DflySchedule         *schedule;    /* while running */
  DflySchedulerService *service;
  DflyManagerLink      *manager;         /* while running with manager.addr set */
  guint                 candidate_limit; /* the cluster's, from the manager; 0: none */
};

G_DEFINE_FINAL_TYPE (DflySchedulerRole, dfly_scheduler_role, DFLY_TYPE_ROLE)

static gint64
expiry_after_us (const DflyHostInfo *info)
{
  /* An interval of 0 is nonsense from the sender; count it as 1 s. */
  return 2 * (gint64) MAX (info->announce_interval, 1) * G_USEC_PER_SEC;
}

static gboolean
on_expiry_check (gpointer user_data)
{
  DflySchedulerRole *self = user_data;
  gint64             now = g_get_monotonic_time ();
  GHashTableIter     iter;
  gpointer           value;

  g_hash_table_iter_init (&iter, self->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HostEntry *entry = value;

    if (now - entry->last_seen <= expiry_after_us (entry->info))
      continue;
    g_info ("host %s expired: silent for more than %" G_GINT64_FORMAT " s", entry->info->id,
            expiry_after_us (entry->info) / G_USEC_PER_SEC);
    /* Its peers stay while their streams live: an announce late by a
     * moment must not cost a download its place (a dead host's streams
     * close, or their keepalive fails, and take its peers with them). */
    g_queue_unlink (&self->by_age, &entry->link);
    g_hash_table_iter_remove (&iter);
    self->warned_full = FALSE;
  }
  if (g_hash_table_size (self->hosts) > 0)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&self->expiry, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
clear_expiry (DflySchedulerRole *self)
{
  if (self->expiry == NULL)
    return;
  g_source_destroy (self->expiry);
  g_clear_pointer (&self->expiry, g_source_unref);
}

static void
remove_host (DflySchedulerRole *self, HostEntry *entry)
{
  g_queue_unlink (&self->by_age, &entry->link);
  g_hash_table_remove (self->hosts, entry->info->id);
}

/* Makes room for a newcomer: the host silent the longest goes (a host
 * still announcing comes back at its next announce, taking the place of
 * the next one silent the longest). The cap is read per announce, so a
 * reload lowering it evicts down to it at the next newcomer. */
static void
make_room (DflySchedulerRole *self, const char *newcomer, guint max_hosts)
{
  while (g_hash_table_size (self->hosts) >= max_hosts) {
    HostEntry *oldest = self->by_age.head->data;
    gint64     silent = (g_get_monotonic_time () - oldest->last_seen) / G_USEC_PER_SEC;

    /* A message, not a warning: anyone can fill the table. */
    if (!self->warned_full)
      g_message ("host table full (%u hosts): the hosts silent the longest make room for "
                 "newcomers",
                 g_hash_table_size (self->hosts));
    self->warned_full = TRUE;
    g_info ("host %s, silent for %" G_GINT64_FORMAT " s, makes room for %s", oldest->info->id,
            silent, newcomer);
    /* Its peers stay while their streams live, as on expiry. */
    remove_host (self, oldest);
  }
}

static void
on_host_announced (DflySchedulerService *service, DflyHostInfo *host, gpointer user_data)
{
  DflySchedulerRole           *self = user_data;
  const DflySchedulerSettings *settings = dfly_component_get_settings (DFLY_COMPONENT (self));
  HostEntry                   *entry;

  if (host->id == NULL || host->id[0] == '\0') {
    g_warning ("host announce without an id, ignoring");
    return;
  }
  entry = g_hash_table_lookup (self->hosts, host->id);
  if (entry != NULL) {
    g_clear_pointer (&entry->info, dfly_host_info_unref);
    entry->info = dfly_host_info_ref (host);
    entry->last_seen = g_get_monotonic_time ();
    g_queue_unlink (&self->by_age, &entry->link);
    g_queue_push_tail_link (&self->by_age, &entry->link);
    return;
  }
  make_room (self, host->id, settings->max_hosts);
  entry = g_new0 (HostEntry, 1);
  entry->info = dfly_host_info_ref (host);
  entry->last_seen = g_get_monotonic_time ();
  entry->link.data = entry;
  g_hash_table_insert (self->hosts, g_strdup (host->id), entry);
  g_queue_push_tail_link (&self->by_age, &entry->link);
  g_info ("host %s joined (%s, %s)", host->id, dfly_host_type_to_string (host->type),
          host->ip != NULL ? host->ip : "no address");
  if (self->expiry == NULL) {
    self->expiry = g_timeout_source_new_seconds (EXPIRY_CHECK_SECONDS);
    g_source_set_callback (self->expiry, on_expiry_check, self, NULL);
    g_source_set_static_name (self->expiry, "dfly host expiry");
    g_source_attach (self->expiry, self->main_context);
  }
}

static void
on_host_left (DflySchedulerService *service, DflyHostInfo *host, gpointer user_data)
{
  DflySchedulerRole *self = user_data;
  HostEntry         *entry = host->id != NULL ? g_hash_table_lookup (self->hosts, host->id) : NULL;

  if (entry == NULL) {
    g_debug ("unknown host %s left", host->id);
    return;
  }
  remove_host (self, entry);
  if (self->schedule != NULL)
    dfly_schedule_host_left (self->schedule, host->id);
  g_info ("host %s left", host->id);
  self->warned_full = FALSE;
}

/* Undoes start(); also what dispose needs when the engine drops a running role. */
static void
disconnect (DflySchedulerRole *self)
{
  if (self->service != NULL) {
    g_clear_signal_handler (&self->announced_id, self->service);
    g_clear_signal_handler (&self->left_id, self->service);
  }
  clear_expiry (self);
  g_clear_pointer (&self->manager, dfly_manager_link_free);
  self->candidate_limit = 0;
  g_clear_object (&self->service);
  g_clear_object (&self->schedule);
  g_hash_table_remove_all (self->hosts);
  g_queue_init (&self->by_age); /* its links were in the entries */
  g_clear_pointer (&self->main_context, g_main_context_unref);
  self->warned_full = FALSE;
}

static DflyHostInfo *
lookup_host (const char *host_id, gpointer user_data)
{
  DflySchedulerRole *self = user_data;
  HostEntry         *entry = g_hash_table_lookup (self->hosts, host_id);

  return entry != NULL ? entry->info : NULL;
}

static GPtrArray *
list_seeds (gpointer user_data)
{
  DflySchedulerRole *self = user_data;
  GPtrArray         *seeds = g_ptr_array_new ();
  GHashTableIter     iter;
  gpointer           value;

  g_hash_table_iter_init (&iter, self->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HostEntry *entry = value;

    if (entry->info->type != DFLY_HOST_TYPE_NORMAL)
      g_ptr_array_add (seeds, entry->info);
  }
  return seeds;
}

/* What the manager keeps of this scheduler: where peers reach it, and
 * the cluster it serves. */
static JsonObject *
scheduler_record (DflySchedulerRole *self)
{
  DflyContext *context = dfly_component_get_context (DFLY_COMPONENT (self));
  DflyConfig  *config = dfly_context_get_config (context);
  g_autoptr (DflyHostInfo) host = dfly_host_info_new_local (
    config, DFLY_HOST_TYPE_NORMAL, dfly_scheduler_service_get_port (self->service));
  JsonObject *record = json_object_new ();

  json_object_set_string_member (record, "hostname", host->hostname);
  json_object_set_string_member (record, "ip", host->ip);
  json_object_set_int_member (record, "port", host->port);
  json_object_set_string_member (record, "idc", host->idc);
  json_object_set_string_member (record, "location", host->location);
  json_object_set_int_member (record, "scheduler_cluster_id", config->manager.scheduler_cluster_id);
  return record;
}

/* The scheduler cluster's record at the manager: its config's
 * candidate_parent_limit (1 to 20, as the key) decides how many parents a
 * child is offered. */
static void
on_cluster (JsonObject *cluster, gpointer user_data)
{
  DflySchedulerRole *self = user_data;
  JsonNode          *config = json_object_get_member (cluster, "config");
  gint64             id = dfly_json_int_member (cluster, "id");
  gint64             limit = 0;

  if (config != NULL && JSON_NODE_HOLDS_OBJECT (config))
    limit = dfly_json_int_member (json_node_get_object (config), "candidate_parent_limit");
  if (limit < 1 || limit > 20)
    limit = 0;
  if ((guint) limit != self->candidate_limit && limit > 0)
    g_info ("scheduler cluster %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " candidate parents", id,
            limit);
  else if ((guint) limit != self->candidate_limit)
    g_info ("scheduler cluster %" G_GINT64_FORMAT
            ": no candidate_parent_limit of 1 to 20, scheduler.candidate_parents applies",
            id);
  self->candidate_limit = (guint) limit;
  if (self->schedule != NULL)
    dfly_schedule_set_candidate_limit (self->schedule, self->candidate_limit);
}

static gboolean
dfly_scheduler_role_start (DflyRole *role, GError **error)
{
  DflySchedulerRole           *self = DFLY_SCHEDULER_ROLE (role);
  DflyContext                 *context = dfly_component_get_context (DFLY_COMPONENT (self));
  const DflySchedulerSettings *settings = dfly_component_get_settings (DFLY_COMPONENT (self));
  GType                        algorithm_type =
    dfly_context_lookup_plugin_type (context, DFLY_PLUGIN_KIND_SCHEDULER, settings->algorithm);
  g_autoptr (DflyScheduler) algorithm = NULL;
  DflyScheduleHosts hosts = { lookup_host, list_seeds, self };

  if (algorithm_type == G_TYPE_INVALID) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND,
                 "scheduler.algorithm: no scheduling plugin named \"%s\" is loaded",
                 settings->algorithm);
    return FALSE;
  }
  algorithm = g_object_new (algorithm_type, "context", context, "name", settings->algorithm, NULL);
  self->schedule = dfly_schedule_new (context, algorithm, &hosts);
  self->service = dfly_scheduler_service_new (context, self->schedule, error);
  if (self->service == NULL) {
    g_clear_object (&self->schedule);
    return FALSE;
  }
  self->main_context = g_main_context_ref_thread_default ();
  self->announced_id =
    g_signal_connect (self->service, "host-announced", G_CALLBACK (on_host_announced), self);
  self->left_id = g_signal_connect (self->service, "host-left", G_CALLBACK (on_host_left), self);
  if (*dfly_context_get_config (context)->manager.addr != '\0') {
    g_autofree char *cluster = NULL;

    self->manager = dfly_manager_link_new (context, "schedulers", scheduler_record (self), error);
    if (self->manager == NULL) {
      disconnect (self);
      return FALSE;
    }
    cluster = g_strdup_printf ("/api/v1/scheduler-clusters/%u",
                               dfly_context_get_config (context)->manager.scheduler_cluster_id);
    dfly_manager_link_watch (self->manager, cluster, on_cluster, self);
  }
  return TRUE;
}

static void
dfly_scheduler_role_stop (DflyRole *role)
{
  disconnect (DFLY_SCHEDULER_ROLE (role));
}

static char *
dfly_scheduler_role_describe (DflyRole *role)
{
  DflySchedulerRole *self = DFLY_SCHEDULER_ROLE (role);
  guint              n_hosts = g_hash_table_size (self->hosts);
  g_autofree char   *hosts = g_strdup_printf (n_hosts == 1 ? "%u host" : "%u hosts", n_hosts);

  if (self->schedule == NULL || dfly_schedule_get_n_tasks (self->schedule) == 0)
    return g_steal_pointer (&hosts);
  return g_strdup_printf ("%s, %u tasks, %u peers", hosts,
                          dfly_schedule_get_n_tasks (self->schedule),
                          dfly_schedule_get_n_peers (self->schedule));
}

static void
dfly_scheduler_role_dispose (GObject *object)
{
  disconnect (DFLY_SCHEDULER_ROLE (object));
  G_OBJECT_CLASS (dfly_scheduler_role_parent_class)->dispose (object);
}

static void
dfly_scheduler_role_finalize (GObject *object)
{
  g_hash_table_unref (DFLY_SCHEDULER_ROLE (object)->hosts);
  G_OBJECT_CLASS (dfly_scheduler_role_parent_class)->finalize (object);
}

static void
dfly_scheduler_role_class_init (DflySchedulerRoleClass *klass)
{
  GObjectClass  *object_class = G_OBJECT_CLASS (klass);
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  object_class->dispose = dfly_scheduler_role_dispose;
  object_class->finalize = dfly_scheduler_role_finalize;
  role_class->start = dfly_scheduler_role_start;
  role_class->stop = dfly_scheduler_role_stop;
  role_class->describe = dfly_scheduler_role_describe;
}

static void
dfly_scheduler_role_init (DflySchedulerRole *self)
{
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, host_entry_free);
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("scheduler", DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                                  "Scheduler: the swarm's hosts, tasks and peers; chooses each "
                                  "child's parents",
                                  dfly_scheduler_role_get_type, &dfly_scheduler_settings)
