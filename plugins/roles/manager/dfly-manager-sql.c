/* dfly-manager-sql.c — the SQL both store backends build (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-manager-sql.h"

char *
dfly_manager_sql_table_name (const DflyManagerTable *table)
{
  return g_strdelimit (g_strdup (table->name), "-", '_');
}

char *
dfly_manager_sql_columns (const DflyManagerTable *table)
{
  GString *sql = g_string_new ("id");

  for (guint i = 0; i < table->n_fields; i++)
    g_string_append_printf (sql, ", %s", table->fields[i].name);
  g_string_append (sql, ", created_at, updated_at");
  if (table->host)
    g_string_append (sql, ", last_keepalive_at");
  return g_string_free (sql, FALSE);
}

guint
dfly_manager_sql_n_columns (const DflyManagerTable *table)
{
  return 1 + table->n_fields + 2 + (table->host ? 1 : 0);
}

char *
dfly_manager_sql_create_table (const DflyManagerTable *table, const DflyManagerSqlDialect *dialect)
{
  g_autofree char *name = dfly_manager_sql_table_name (table);
  GString         *sql = g_string_new (NULL);

  g_string_append_printf (sql, "CREATE TABLE %s (id %s", name, dialect->id);
  for (guint i = 0; i < table->n_fields; i++) {
    const DflyManagerField *field = &table->fields[i];

    g_string_append_printf (sql, ", %s %s", field->name, dialect->types[field->type]);
    if (field->type == DFLY_MANAGER_FIELD_REF) {
      g_autofree char *ref = dfly_manager_sql_table_name (dfly_manager_table (field->ref));

      g_string_append_printf (sql, " REFERENCES %s (id) ON DELETE RESTRICT", ref);
    }
  }
  g_string_append_printf (sql, ", created_at %s NOT NULL, updated_at %s NOT NULL", dialect->time,
                          dialect->time);
  if (table->host)
    g_string_append_printf (sql, ", last_keepalive_at %s NOT NULL DEFAULT 0", dialect->time);
  g_string_append (sql, ", UNIQUE (");
  for (guint i = 0; table->unique[i] != NULL; i++)
    g_string_append_printf (sql, "%s%s", i > 0 ? ", " : "", table->unique[i]);
  g_string_append (sql, "))");
  return g_string_free (sql, FALSE);
}

static gint64
integer (const char *text)
{
  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

static void
set_time_member (JsonObject *record, const char *name, gint64 seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (seconds);
  g_autofree char *text = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : NULL;

  json_object_set_string_member (record, name, text != NULL ? text : "");
}

/* A field's column as JSON. */
static JsonNode *
field_node (const DflyManagerField *field, const char *text)
{
  JsonNode *node;

  if (text == NULL)
    return json_node_new (JSON_NODE_NULL);
  switch (field->type) {
  case DFLY_MANAGER_FIELD_TEXT:
  case DFLY_MANAGER_FIELD_IP:
    return json_node_init_string (json_node_alloc (), text);
  case DFLY_MANAGER_FIELD_INTEGER:
  case DFLY_MANAGER_FIELD_REF:
    return json_node_init_int (json_node_alloc (), integer (text));
  case DFLY_MANAGER_FIELD_BOOLEAN:
    /* SQLite says 1 or 0, PostgreSQL t or f. */
    return json_node_init_boolean (json_node_alloc (),
                                   strcmp (text, "1") == 0 || strcmp (text, "t") == 0);
  case DFLY_MANAGER_FIELD_OBJECT:
    node = json_from_string (text, NULL);
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
      g_clear_pointer (&node, json_node_unref);
      node = json_node_init_object (json_node_alloc (), json_object_new ());
    }
    return node;
  }
  g_assert_not_reached ();
}

JsonObject *
dfly_manager_sql_record (const DflyManagerTable *table, const char *const *values,
                         gint64 keepalive_timeout)
{
  JsonObject *record = json_object_new ();
  guint       column = 0;
  gint64      keepalive;

  json_object_set_int_member (record, "id", integer (values[column++]));
  for (guint i = 0; i < table->n_fields; i++)
    json_object_set_member (record, table->fields[i].name,
                            field_node (&table->fields[i], values[column++]));
  set_time_member (record, "created_at", integer (values[column++]));
  set_time_member (record, "updated_at", integer (values[column++]));
  if (table->host) {
    keepalive = integer (values[column++]);
    set_time_member (record, "last_keepalive_at", keepalive);
    json_object_set_string_member (
      record, "state",
      g_get_real_time () / G_USEC_PER_SEC - keepalive <= keepalive_timeout ? "active" : "inactive");
  }
  return record;
}
