/* dfly-manager-model.c — the manager's tables (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-manager-model.h"

#define NAME_MAX_BYTES   256
#define TEXT_MAX_BYTES   1024
#define OBJECT_MAX_BYTES 16384
#define MAX_CLUSTERS     1024  /* of each kind */
#define MAX_HOSTS        65536 /* schedulers, seed peers */

/* Defaults as Dragonfly's: 4 candidate parents out of 15 filtered, and a
 * client's upload load limit of 50. */
static const DflyManagerField scheduler_cluster_fields[] = {
  { "name", DFLY_MANAGER_FIELD_TEXT, TRUE, 1, NAME_MAX_BYTES, NULL, 0 },
  { "bio", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, TEXT_MAX_BYTES, "\"\"", 0 },
  { "config", DFLY_MANAGER_FIELD_OBJECT, FALSE, 0, OBJECT_MAX_BYTES,
    "{\"candidate_parent_limit\":4,\"filter_parent_limit\":15}", 0 },
  { "client_config", DFLY_MANAGER_FIELD_OBJECT, FALSE, 0, OBJECT_MAX_BYTES, "{\"load_limit\":50}",
    0 },
  { "scopes", DFLY_MANAGER_FIELD_OBJECT, FALSE, 0, OBJECT_MAX_BYTES, "{}", 0 },
  { "is_default", DFLY_MANAGER_FIELD_BOOLEAN, FALSE, 0, 0, "false", 0 },
};

static const DflyManagerField seed_peer_cluster_fields[] = {
  { "name", DFLY_MANAGER_FIELD_TEXT, TRUE, 1, NAME_MAX_BYTES, NULL, 0 },
  { "bio", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, TEXT_MAX_BYTES, "\"\"", 0 },
  { "config", DFLY_MANAGER_FIELD_OBJECT, FALSE, 0, OBJECT_MAX_BYTES, "{\"load_limit\":300}", 0 },
  { "scheduler_cluster_id", DFLY_MANAGER_FIELD_REF, FALSE, 1, G_MAXINT64, NULL,
    DFLY_MANAGER_SCHEDULER_CLUSTERS },
};

static const DflyManagerField scheduler_fields[] = {
  { "hostname", DFLY_MANAGER_FIELD_TEXT, TRUE, 1, NAME_MAX_BYTES, NULL, 0 },
  { "ip", DFLY_MANAGER_FIELD_IP, TRUE, 0, 0, NULL, 0 },
  { "port", DFLY_MANAGER_FIELD_INTEGER, TRUE, 1, G_MAXUINT16, NULL, 0 },
  { "idc", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, NAME_MAX_BYTES, "\"\"", 0 },
  { "location", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, NAME_MAX_BYTES, "\"\"", 0 },
  { "scheduler_cluster_id", DFLY_MANAGER_FIELD_REF, TRUE, 1, G_MAXINT64, NULL,
    DFLY_MANAGER_SCHEDULER_CLUSTERS },
};

static const DflyManagerField seed_peer_fields[] = {
  { "hostname", DFLY_MANAGER_FIELD_TEXT, TRUE, 1, NAME_MAX_BYTES, NULL, 0 },
  { "ip", DFLY_MANAGER_FIELD_IP, TRUE, 0, 0, NULL, 0 },
  { "port", DFLY_MANAGER_FIELD_INTEGER, TRUE, 1, G_MAXUINT16, NULL, 0 },
  { "download_port", DFLY_MANAGER_FIELD_INTEGER, FALSE, 0, G_MAXUINT16, "0", 0 },
  { "type", DFLY_MANAGER_FIELD_TEXT, FALSE, 1, 16, "\"super\"", 0 },
  { "idc", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, NAME_MAX_BYTES, "\"\"", 0 },
  { "location", DFLY_MANAGER_FIELD_TEXT, FALSE, 0, NAME_MAX_BYTES, "\"\"", 0 },
  { "seed_peer_cluster_id", DFLY_MANAGER_FIELD_REF, TRUE, 1, G_MAXINT64, NULL,
    DFLY_MANAGER_SEED_PEER_CLUSTERS },
};

static const char *const cluster_unique[] = { "name", NULL };
static const char *const scheduler_unique[] = { "hostname", "ip", "scheduler_cluster_id", NULL };
static const char *const seed_peer_unique[] = { "hostname", "ip", "seed_peer_cluster_id", NULL };

static const DflyManagerTable tables[DFLY_MANAGER_N_TABLES] = {
  { DFLY_MANAGER_SCHEDULER_CLUSTERS, "scheduler-clusters", scheduler_cluster_fields,
    G_N_ELEMENTS (scheduler_cluster_fields), cluster_unique, FALSE, MAX_CLUSTERS },
  { DFLY_MANAGER_SEED_PEER_CLUSTERS, "seed-peer-clusters", seed_peer_cluster_fields,
    G_N_ELEMENTS (seed_peer_cluster_fields), cluster_unique, FALSE, MAX_CLUSTERS },
  { DFLY_MANAGER_SCHEDULERS, "schedulers", scheduler_fields, G_N_ELEMENTS (scheduler_fields),
    scheduler_unique, TRUE, MAX_HOSTS },
  { DFLY_MANAGER_SEED_PEERS, "seed-peers", seed_peer_fields, G_N_ELEMENTS (seed_peer_fields),
    seed_peer_unique, TRUE, MAX_HOSTS },
};

const DflyManagerTable *
dfly_manager_table (DflyManagerTableId id)
{
  g_return_val_if_fail (id < DFLY_MANAGER_N_TABLES, NULL);
  return &tables[id];
}

const DflyManagerTable *
dfly_manager_table_by_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++) {
    if (g_strcmp0 (tables[i].name, name) == 0)
      return &tables[i];
  }
  return NULL;
}

const DflyManagerField *
dfly_manager_table_field (const DflyManagerTable *table, const char *name)
{
  for (guint i = 0; i < table->n_fields; i++) {
    if (strcmp (table->fields[i].name, name) == 0)
      return &table->fields[i];
  }
  return NULL;
}

static gboolean fail (char **field, const char *name, GError **error, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
fail (char **field, const char *name, GError **error, const char *format, ...)
{
  va_list          args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  *field = g_strdup (name);
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s: %s", name, message);
  return FALSE;
}

/* JSON numbers arrive as integers or doubles; only a whole one in range is taken. */
static gboolean
check_integer (JsonNode *node, const DflyManagerField *spec, char **field, GError **error)
{
  gint64 value;

  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (field, spec->name, error, "not an integer");
  value = json_node_get_int (node);
  if (value < spec->min || value > spec->max)
    return fail (field, spec->name, error,
                 "%" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                 ")",
                 value, spec->min, spec->max);
  return TRUE;
}

static gboolean
check_field (const DflyManagerField *spec, JsonNode *node, char **field, GError **error)
{
  const char *text;

  switch (spec->type) {
  case DFLY_MANAGER_FIELD_TEXT:
  case DFLY_MANAGER_FIELD_IP:
    if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
        json_node_get_value_type (node) != G_TYPE_STRING)
      return fail (field, spec->name, error, "not a string");
    text = json_node_get_string (node);
    if (spec->type == DFLY_MANAGER_FIELD_IP) {
      /* An IPv6 zone ("fe80::1%eth0") means nothing to another host. */
      if (!g_hostname_is_ip_address (text) || strchr (text, '%') != NULL)
        return fail (field, spec->name, error, "not an IP address");
      return TRUE;
    }
    if (strlen (text) < (gsize) spec->min || strlen (text) > (gsize) spec->max)
      return fail (
        field, spec->name, error, "%s (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " bytes)",
        strlen (text) < (gsize) spec->min ? "too short" : "too long", spec->min, spec->max);
    if (!g_utf8_validate (text, -1, NULL))
      return fail (field, spec->name, error, "not UTF-8");
    return TRUE;
  case DFLY_MANAGER_FIELD_INTEGER:
  case DFLY_MANAGER_FIELD_REF:
    return check_integer (node, spec, field, error);
  case DFLY_MANAGER_FIELD_BOOLEAN:
    if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
        json_node_get_value_type (node) != G_TYPE_BOOLEAN)
      return fail (field, spec->name, error, "not true or false");
    return TRUE;
  case DFLY_MANAGER_FIELD_OBJECT: {
    g_autofree char *text_form = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      return fail (field, spec->name, error, "not an object");
    text_form = json_to_string (node, FALSE);
    if (strlen (text_form) > (gsize) spec->max)
      return fail (field, spec->name, error, "over %" G_GINT64_FORMAT " bytes", spec->max);
    return TRUE;
  }
  }
  g_assert_not_reached ();
}

gboolean
dfly_manager_check_record (const DflyManagerTable *table, JsonObject *record, gboolean creating,
                           char **field, GError **error)
{
  JsonObjectIter iter;
  const char    *name;
  JsonNode      *node;

  *field = NULL;
  json_object_iter_init (&iter, record);
  while (json_object_iter_next (&iter, &name, &node)) {
    const DflyManagerField *spec = dfly_manager_table_field (table, name);

    if (spec == NULL)
      return fail (field, name, error, "no such field in %s", table->name);
    /* null: no value (stored as NULL; a default applies only to a field
     * not sent at all). */
    if (JSON_NODE_HOLDS_NULL (node)) {
      if (spec->required)
        return fail (field, name, error, "required");
      continue;
    }
    if (!check_field (spec, node, field, error))
      return FALSE;
  }
  for (guint i = 0; creating && i < table->n_fields; i++) {
    if (table->fields[i].required && !json_object_has_member (record, table->fields[i].name))
      return fail (field, table->fields[i].name, error, "required");
  }
  return TRUE;
}
