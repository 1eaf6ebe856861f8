/* test-manager-store.c — the manager's store alone: SQLite on real files,
 * or, with DFLY_TEST_POSTGRES set to a conninfo, the same cases on that
 * PostgreSQL database (emptied before each; tests/system/
 * test-manager-postgres.sh starts a server and runs this so). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "dfly-manager-store.h"

typedef struct {
  char             *dir;
  char             *path;
  const char       *conninfo; /* PostgreSQL's, or NULL for SQLite */
  DflyManagerStore *store;
} Fixture;

/* Runs SQL of the test's own on the PostgreSQL database, or the SQLite file. */
static void
run_sql (Fixture *f, const char *sql)
{
  sqlite3 *db = NULL;
  PGconn  *conn;

  if (f->conninfo == NULL) {
    g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
    return;
  }
  conn = PQconnectdb (f->conninfo);
  g_assert_cmpint (PQstatus (conn), ==, CONNECTION_OK);
  PQclear (PQexec (conn, "SET client_min_messages = warning"));
  {
    PGresult *res = PQexec (conn, sql);

    if (PQresultStatus (res) != PGRES_COMMAND_OK)
      g_error ("%s: %s", sql, PQresultErrorMessage (res));
    PQclear (res);
  }
  PQfinish (conn);
}

static DflyManagerStore *
open_store (Fixture *f, GError **error)
{
  if (f->conninfo != NULL)
    return dfly_manager_store_open_postgres (f->conninfo, 30, error);
  return dfly_manager_store_open_sqlite (f->path, 30, error);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("dfly-manager-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "manager.db", NULL);
  f->conninfo = g_getenv ("DFLY_TEST_POSTGRES");
  if (f->conninfo != NULL)
    run_sql (f, "DROP TABLE IF EXISTS seed_peers, schedulers, seed_peer_clusters, "
                "scheduler_clusters, dfly_schema_version");
  f->store = open_store (f, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&f->store, dfly_manager_store_free);
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *file = g_build_filename (f->dir, name, NULL);

    g_unlink (file);
  }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

#define STORE_TEST_ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

static JsonObject *
parse (const char *json)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static const DflyManagerTable *
table (DflyManagerTableId id)
{
  return dfly_manager_table (id);
}

/* A record created comes back with its id, times and defaults; it is
 * listed, read, changed field by field and removed. */
static void
test_clusters (Fixture *f, gconstpointer data)
{
  const DflyManagerTable *clusters = table (DFLY_MANAGER_SCHEDULER_CLUSTERS);
  g_autoptr (JsonObject) sent = parse ("{\"name\": \"east\", \"scopes\": {\"idc\": \"e1\"}}");
  g_autoptr (JsonObject) change = parse ("{\"bio\": \"the east\"}");
  g_autoptr (JsonObject) created = NULL;
  g_autoptr (JsonObject) changed = NULL;
  g_autoptr (JsonObject) again = NULL;
  g_autoptr (JsonArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  JsonObject      *config;

  created = dfly_manager_store_create (f->store, clusters, sent, &field, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (created, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (created, "name"), ==, "east");
  g_assert_cmpstr (json_object_get_string_member (created, "bio"), ==, "");
  config = json_object_get_object_member (created, "config");
  g_assert_cmpint (json_object_get_int_member (config, "candidate_parent_limit"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (config, "filter_parent_limit"), ==, 15);
  g_assert_cmpstr (
    json_object_get_string_member (json_object_get_object_member (created, "scopes"), "idc"), ==,
    "e1");
  g_assert_false (json_object_get_boolean_member (created, "is_default"));
  g_assert_true (g_str_has_suffix (json_object_get_string_member (created, "created_at"), "Z"));

  changed = dfly_manager_store_update (f->store, clusters, 1, change, &field, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (changed, "bio"), ==, "the east");
  g_assert_cmpstr (json_object_get_string_member (changed, "name"), ==, "east");

  listed = dfly_manager_store_list (f->store, clusters, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (listed), ==, 1);

  g_assert_true (dfly_manager_store_remove (f->store, clusters, 1, &error));
  g_assert_no_error (error);
  again = dfly_manager_store_get (f->store, clusters, 1, &error);
  g_assert_null (again);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dfly_manager_store_remove (f->store, clusters, 1, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
}

/* A name taken, a reference to no cluster, a cluster still in use: each
 * refused with the field at fault, and nothing written. */
static void
test_conflicts (Fixture *f, gconstpointer data)
{
  const DflyManagerTable *clusters = table (DFLY_MANAGER_SCHEDULER_CLUSTERS);
  const DflyManagerTable *schedulers = table (DFLY_MANAGER_SCHEDULERS);
  g_autoptr (JsonObject) east = parse ("{\"name\": \"east\"}");
  g_autoptr (JsonObject) orphan = parse (
    "{\"hostname\": \"s1\", \"ip\": \"10.0.0.1\", \"port\": 8002, \"scheduler_cluster_id\": 7}");
  g_autoptr (JsonObject) member = parse (
    "{\"hostname\": \"s1\", \"ip\": \"10.0.0.1\", \"port\": 8002, \"scheduler_cluster_id\": 1}");
  g_autoptr (JsonObject) created = NULL;
  g_autoptr (JsonObject) twice = NULL;
  g_autoptr (JsonObject) lost = NULL;
  g_autoptr (JsonObject) host = NULL;
  g_autoptr (JsonArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  char *field = NULL;

  created = dfly_manager_store_create (f->store, clusters, east, &field, &error);
  g_assert_no_error (error);
  twice = dfly_manager_store_create (f->store, clusters, east, &field, &error);
  g_assert_null (twice);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (field, ==, "name");
  g_clear_pointer (&field, g_free);
  g_clear_error (&error);

  lost = dfly_manager_store_register_host (f->store, schedulers, orphan, &field, &error);
  g_assert_null (lost);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (field, ==, "scheduler_cluster_id");
  g_clear_pointer (&field, g_free);
  g_clear_error (&error);
  listed = dfly_manager_store_list (f->store, schedulers, NULL, 0, &error);
  g_assert_cmpuint (json_array_get_length (listed), ==, 0);

  host = dfly_manager_store_register_host (f->store, schedulers, member, &field, &error);
  g_assert_no_error (error);
  g_assert_false (dfly_manager_store_remove (f->store, clusters, 1, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "still referenced"));
}

/* Sets a host's last keepalive to seconds ago, as time would. */
static void
age_host (Fixture *f, const char *sql_table, gint64 id, gint64 seconds)
{
  g_autofree char *sql =
    g_strdup_printf ("UPDATE %s SET last_keepalive_at = last_keepalive_at - %" G_GINT64_FORMAT
                     " WHERE id = %" G_GINT64_FORMAT,
                     sql_table, seconds, id);

  run_sql (f, sql);
}

/* A host registering again with the same hostname, IP and cluster is the
 * same record, updated; silent past the timeout it reads inactive, and a
 * keepalive makes it active again. The list filters by cluster. */
static void
test_hosts (Fixture *f, gconstpointer data)
{
  const DflyManagerTable *clusters = table (DFLY_MANAGER_SCHEDULER_CLUSTERS);
  const DflyManagerTable *schedulers = table (DFLY_MANAGER_SCHEDULERS);
  g_autoptr (JsonObject) east = parse ("{\"name\": \"east\"}");
  g_autoptr (JsonObject) west = parse ("{\"name\": \"west\"}");
  g_autoptr (JsonObject) first = parse (
    "{\"hostname\": \"s1\", \"ip\": \"10.0.0.1\", \"port\": 8002, \"scheduler_cluster_id\": 1}");
  g_autoptr (JsonObject) moved = parse (
    "{\"hostname\": \"s1\", \"ip\": \"10.0.0.1\", \"port\": 9002, \"scheduler_cluster_id\": 1}");
  g_autoptr (JsonObject) other = parse (
    "{\"hostname\": \"s2\", \"ip\": \"10.0.0.2\", \"port\": 8002, \"scheduler_cluster_id\": 2}");
  g_autoptr (JsonObject) record = NULL;
  g_autoptr (JsonArray) in_east = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;

  g_clear_pointer (&record, json_object_unref);
  record = dfly_manager_store_create (f->store, clusters, east, &field, &error);
  g_clear_pointer (&record, json_object_unref);
  record = dfly_manager_store_create (f->store, clusters, west, &field, &error);
  g_assert_no_error (error);
  g_clear_pointer (&record, json_object_unref);

  record = dfly_manager_store_register_host (f->store, schedulers, first, &field, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (record, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (record, "state"), ==, "active");
  g_clear_pointer (&record, json_object_unref);
  record = dfly_manager_store_register_host (f->store, schedulers, moved, &field, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (record, "id"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (record, "port"), ==, 9002);
  g_clear_pointer (&record, json_object_unref);
  record = dfly_manager_store_register_host (f->store, schedulers, other, &field, &error);
  g_assert_cmpint (json_object_get_int_member (record, "id"), ==, 2);
  g_clear_pointer (&record, json_object_unref);

  age_host (f, "schedulers", 1, 31);
  record = dfly_manager_store_get (f->store, schedulers, 1, &error);
  g_assert_cmpstr (json_object_get_string_member (record, "state"), ==, "inactive");
  g_clear_pointer (&record, json_object_unref);
  g_assert_true (dfly_manager_store_keepalive (f->store, schedulers, 1, &error));
  record = dfly_manager_store_get (f->store, schedulers, 1, &error);
  g_assert_cmpstr (json_object_get_string_member (record, "state"), ==, "active");
  g_assert_false (dfly_manager_store_keepalive (f->store, schedulers, 99, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_clear_error (&error);

  in_east = dfly_manager_store_list (f->store, schedulers, "scheduler_cluster_id", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (in_east), ==, 1);
  g_assert_cmpstr (
    json_object_get_string_member (json_array_get_object_element (in_east, 0), "hostname"), ==,
    "s1");
}

/* Records survive the store being closed and opened again; a file of a
 * newer schema is refused, saying so, and left as it is. */
static void
test_reopen (Fixture *f, gconstpointer data)
{
  const DflyManagerTable *clusters = table (DFLY_MANAGER_SEED_PEER_CLUSTERS);
  g_autoptr (JsonObject) sent = parse ("{\"name\": \"seeds\"}");
  g_autoptr (JsonObject) record = NULL;
  g_autoptr (JsonArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char  *field = NULL;
  DflyManagerStore *newer;

  record = dfly_manager_store_create (f->store, clusters, sent, &field, &error);
  g_assert_no_error (error);
  dfly_manager_store_free (f->store);
  f->store = open_store (f, &error);
  g_assert_no_error (error);
  listed = dfly_manager_store_list (f->store, clusters, NULL, 0, &error);
  g_assert_cmpuint (json_array_get_length (listed), ==, 1);
  g_clear_pointer (&f->store, dfly_manager_store_free);

  run_sql (f, f->conninfo != NULL ? "UPDATE dfly_schema_version SET version = 99"
                                  : "PRAGMA user_version = 99");
  newer = open_store (f, &error);
  g_assert_null (newer);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "schema version 99 is newer"));
}

/* Not a database at all: a clear error, nothing overwritten. */
static void
test_not_a_database (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "garbage.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char  *kept = NULL;
  DflyManagerStore *store;

  if (f->conninfo != NULL) {
    g_test_skip ("an SQLite file");
    return;
  }
  g_assert_true (
    g_file_set_contents (path, "this is not SQLite, it is text that goes on", -1, NULL));
  store = dfly_manager_store_open_sqlite (path, 30, &error);
  g_assert_null (store);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (g_file_get_contents (path, &kept, NULL, NULL));
  g_assert_cmpstr (kept, ==, "this is not SQLite, it is text that goes on");
}

/* Text that would break SQL pasted together goes in and comes back as it
 * was: every value is a parameter. */
static void
test_hostile_text (Fixture *f, gconstpointer data)
{
  const DflyManagerTable *clusters = table (DFLY_MANAGER_SCHEDULER_CLUSTERS);
  g_autoptr (JsonObject) sent = parse (
    "{\"name\": \"x'); DROP TABLE scheduler_clusters; --\", \"bio\": \"\\\\ $1 \\u00e9 \\\"q\\\"\","
    " \"scopes\": {\"it's\": \"$$\"}}");
  g_autoptr (JsonObject) created = NULL;
  g_autoptr (JsonObject) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;

  created = dfly_manager_store_create (f->store, clusters, sent, &field, &error);
  g_assert_no_error (error);
  again =
    dfly_manager_store_get (f->store, clusters, json_object_get_int_member (created, "id"), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (again, "name"), ==,
                   "x'); DROP TABLE scheduler_clusters; --");
  g_assert_cmpstr (json_object_get_string_member (again, "bio"), ==, "\\ $1 \u00e9 \"q\"");
  g_assert_cmpstr (
    json_object_get_string_member (json_object_get_object_member (again, "scopes"), "it's"), ==,
    "$$");
}

/* An unreachable server: a clear error naming it, never its password;
 * a conninfo libpq cannot parse is refused without being quoted. */
static void
test_postgres_unreachable (void)
{
  const char *bad[] = { "postgresql://dfly:s3cret@127.0.0.1:1/dfly",
                        "postgres://dfly:s3cret@127.0.0.1:1/dfly?connect_timeout=2" };
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    DflyManagerStore *store = dfly_manager_store_open_postgres (bad[i], 30, &error);

    g_assert_null (store);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_IO);
    g_test_message ("%s", error->message);
    g_assert_true (g_str_has_prefix (error->message, "postgresql://dfly@127.0.0.1:1/dfly: "));
    g_assert_null (strstr (error->message, "s3cret"));
    g_clear_error (&error);
  }
  g_assert_null (dfly_manager_store_open_postgres ("postgresql://dfly:s3cret@%zz/db", 30, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_null (strstr (error->message, "s3cret"));
}

typedef struct {
  const char *conninfo;
  guint       rounds;
  GError     *error;
} Registrar;

static gpointer
register_often (gpointer data)
{
  Registrar *registrar = data;
  g_autoptr (DflyManagerStore) store =
    dfly_manager_store_open_postgres (registrar->conninfo, 30, &registrar->error);
  g_autoptr (JsonObject) host = parse (
    "{\"hostname\": \"s1\", \"ip\": \"10.0.0.1\", \"port\": 8002, \"scheduler_cluster_id\": 1}");

  for (guint i = 0; store != NULL && i < registrar->rounds && registrar->error == NULL; i++) {
    g_autoptr (JsonObject) record = NULL;
    g_autofree char *field = NULL;

    record = dfly_manager_store_register_host (store, table (DFLY_MANAGER_SCHEDULERS), host, &field,
                                               &registrar->error);
  }
  return NULL;
}

/* Managers on one database: two stores (two connections) registering the
 * same host at once end with one record, and neither fails. */
static void
test_two_stores (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) east = parse ("{\"name\": \"east\"}");
  g_autoptr (JsonObject) record = NULL;
  g_autoptr (JsonArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  Registrar        registrars[2] = { { f->conninfo, 50, NULL }, { f->conninfo, 50, NULL } };
  GThread         *threads[2];

  if (f->conninfo == NULL) {
    g_test_skip ("PostgreSQL only: an SQLite file has one manager");
    return;
  }
  record = dfly_manager_store_create (f->store, table (DFLY_MANAGER_SCHEDULER_CLUSTERS), east,
                                      &field, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("registrar", register_often, &registrars[i]);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++) {
    g_thread_join (threads[i]);
    g_assert_no_error (registrars[i].error);
  }
  listed = dfly_manager_store_list (f->store, table (DFLY_MANAGER_SCHEDULERS), NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (listed), ==, 1);
}

/* What a client sends is checked against the model, the field at fault
 * named: unknown fields, wrong types, bounds, a required one missing. */
static void
test_check_record (void)
{
  const DflyManagerTable *schedulers = table (DFLY_MANAGER_SCHEDULERS);
  const struct {
    const char *json;
    gboolean    creating;
    const char *field; /* NULL: accepted */
  } cases[] = {
    { "{\"hostname\":\"s\",\"ip\":\"::1\",\"port\":1,\"scheduler_cluster_id\":1}", TRUE, NULL },
    { "{\"hostname\":\"s\",\"ip\":\"::1\",\"port\":1}", TRUE, "scheduler_cluster_id" },
    { "{\"port\":2}", FALSE, NULL },
    { "{\"port\":0}", FALSE, "port" },
    { "{\"port\":65536}", FALSE, "port" },
    { "{\"port\":1.5}", FALSE, "port" },
    { "{\"port\":\"80\"}", FALSE, "port" },
    { "{\"ip\":\"host.example\"}", FALSE, "ip" },
    { "{\"ip\":\"fe80::1%eth0\"}", FALSE, "ip" },
    { "{\"hostname\":\"\"}", FALSE, "hostname" },
    { "{\"hostname\":null}", FALSE, "hostname" },
    { "{\"idc\":null}", FALSE, NULL },
    { "{\"shell\":\"rm -rf /\"}", FALSE, "shell" },
    { "{\"scheduler_cluster_id\":-1}", FALSE, "scheduler_cluster_id" },
    { "{\"location\":[1]}", FALSE, "location" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonObject) record = parse (cases[i].json);
    g_autoptr (GError) error = NULL;
    g_autofree char *field = NULL;
    gboolean ok = dfly_manager_check_record (schedulers, record, cases[i].creating, &field, &error);

    g_test_message ("%s", cases[i].json);
    g_assert_cmpint (ok, ==, cases[i].field == NULL);
    g_assert_cmpstr (field, ==, cases[i].field);
    if (!ok)
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autofree char *huge = g_strnfill (300, 'h');
    g_autofree char *json = g_strdup_printf ("{\"hostname\":\"%s\"}", huge);
    g_autoptr (JsonObject) record = parse (json);
    g_autoptr (GError) error = NULL;
    g_autofree char *field = NULL;

    g_assert_false (dfly_manager_check_record (schedulers, record, FALSE, &field, &error));
    g_assert_cmpstr (field, ==, "hostname");
    g_assert_nonnull (strstr (error->message, "too long"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/manager-store/check-record", test_check_record);
  STORE_TEST_ADD ("/manager-store/clusters", test_clusters);
  STORE_TEST_ADD ("/manager-store/conflicts", test_conflicts);
  STORE_TEST_ADD ("/manager-store/hosts", test_hosts);
  STORE_TEST_ADD ("/manager-store/reopen", test_reopen);
  STORE_TEST_ADD ("/manager-store/not-a-database", test_not_a_database);
  STORE_TEST_ADD ("/manager-store/hostile-text", test_hostile_text);
  STORE_TEST_ADD ("/manager-store/two-stores", test_two_stores);
  g_test_add_func ("/manager-store/postgres-unreachable", test_postgres_unreachable);
  return g_test_run ();
}
