/* dflyctl-manager.c — "dflyctl cluster|scheduler|seed": the manager's records
 *
 * These commands talk HTTP to the manager's REST API (/api/v1/), not D-Bus to
 * dflyd: --manager URL, else $DFLY_MANAGER, else http://127.0.0.1:8080 (the
 * manager's default listen address and port). --json prints the API's
 * answer as it came, pretty; text is a table for a list, "key: value" lines
 * for one record. Arguments are checked before the manager is asked.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "dflyctl.h"
#include "dflyctl-manager-client.h"
#include "dflyctl-parse.h"

/* A collection of the API and how dflyctl shows it. */
typedef enum {
  CELL_VALUE,   /* the field as text */
  CELL_ADDRESS, /* ip:port, [ip]:port for IPv6 */
} CellKind;

typedef struct {
  const char *header; /* N_() */
  const char *field;
  CellKind    kind;
} Column;

#define MAX_COLUMNS 6

typedef struct {
  const char *table;  /* the API's name: /api/v1/TABLE */
  const char *noun;   /* N_(): "scheduler cluster", in messages */
  const char *none;   /* N_(): what an empty list prints */
  const char *filter; /* the field --cluster filters a list on, or NULL */
  Column      columns[MAX_COLUMNS];
} Collection;

enum {
  SCHEDULER_CLUSTERS,
  SEED_PEER_CLUSTERS,
  SCHEDULERS,
  SEED_PEERS,
};

static const Collection collections[] = {
  [SCHEDULER_CLUSTERS] = { "scheduler-clusters",
                           N_ ("scheduler cluster"),
                           N_ ("no scheduler clusters"),
                           NULL,
                           { { N_ ("ID"), "id", CELL_VALUE },
                             { N_ ("NAME"), "name", CELL_VALUE },
                             { N_ ("DEFAULT"), "is_default", CELL_VALUE },
                             { N_ ("UPDATED"), "updated_at", CELL_VALUE } } },
  [SEED_PEER_CLUSTERS] = { "seed-peer-clusters",
                           N_ ("seed peer cluster"),
                           N_ ("no seed peer clusters"),
                           NULL,
                           { { N_ ("ID"), "id", CELL_VALUE },
                             { N_ ("NAME"), "name", CELL_VALUE },
                             { N_ ("SCHEDULER CLUSTER"), "scheduler_cluster_id", CELL_VALUE },
                             { N_ ("UPDATED"), "updated_at", CELL_VALUE } } },
  [SCHEDULERS] = { "schedulers",
                   N_ ("scheduler"),
                   N_ ("no schedulers"),
                   "scheduler_cluster_id",
                   { { N_ ("ID"), "id", CELL_VALUE },
                     { N_ ("HOSTNAME"), "hostname", CELL_VALUE },
                     { N_ ("ADDRESS"), "ip", CELL_ADDRESS },
                     { N_ ("CLUSTER"), "scheduler_cluster_id", CELL_VALUE },
                     { N_ ("STATE"), "state", CELL_VALUE },
                     { N_ ("UPDATED"), "updated_at", CELL_VALUE } } },
  [SEED_PEERS] = { "seed-peers",
                   N_ ("seed peer"),
                   N_ ("no seed peers"),
                   "seed_peer_cluster_id",
                   { { N_ ("ID"), "id", CELL_VALUE },
                     { N_ ("HOSTNAME"), "hostname", CELL_VALUE },
                     { N_ ("ADDRESS"), "ip", CELL_ADDRESS },
                     { N_ ("CLUSTER"), "seed_peer_cluster_id", CELL_VALUE },
                     { N_ ("STATE"), "state", CELL_VALUE },
                     { N_ ("UPDATED"), "updated_at", CELL_VALUE } } },
};

/* Every option of the three commands; each command offers its own. */
typedef struct {
  char    *manager;
  char    *ca; /* --ca, --cert, --key: mutual TLS with the manager */
  char    *cert;
  char    *key;
  char    *cluster; /* scheduler|seed list --cluster */
  gboolean seed;    /* cluster --seed */
  char    *name;    /* cluster update --name */
  char    *bio;
  char    *scopes;
  char    *config;
  char    *client_config;
  char    *scheduler_cluster;
  gboolean is_default;
  gboolean not_default;
} ManagerOptions;

static void
manager_options_clear (ManagerOptions *options)
{
  g_free (options->manager);
  g_free (options->ca);
  g_free (options->cert);
  g_free (options->key);
  g_free (options->cluster);
  g_free (options->name);
  g_free (options->bio);
  g_free (options->scopes);
  g_free (options->config);
  g_free (options->client_config);
  g_free (options->scheduler_cluster);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ManagerOptions, manager_options_clear)

/* One run of a subcommand. */
typedef struct {
  Dflyctl              *ctl;
  const char           *what; /* "cluster show", for messages */
  const Collection     *collection;
  ManagerOptions       *options;
  gint64                id;   /* show, update, delete */
  const char           *name; /* create */
  DflyctlManagerClient *client;
} ManagerRun;

/* --- output ---------------------------------------------------------- */

/* @text safe for a terminal: valid UTF-8, control characters as \xNN (the
 * manager's records are whatever hosts registered). */
static char *
printable (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autoptr (GString) out = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c))
      g_string_append_printf (out, "\\x%02x", (guint) c);
    else
      g_string_append_unichar (out, c);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A field as text: strings as they are, yes/no, numbers, objects as compact
 * JSON, "-" for null or missing. */
static char *
value_text (JsonNode *node)
{
  g_autofree char *json = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("-");
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType type = json_node_get_value_type (node);

    if (type == G_TYPE_STRING)
      return *json_node_get_string (node) != '\0' ? printable (json_node_get_string (node))
                                                  : g_strdup ("-");
    if (type == G_TYPE_BOOLEAN)
      return g_strdup (json_node_get_boolean (node) ? _ ("yes") : _ ("no"));
    if (type == G_TYPE_INT64)
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  }
  json = json_to_string (node, FALSE);
  return printable (json);
}

static char *
cell_text (JsonObject *record, const Column *column)
{
  g_autofree char *ip = NULL;
  g_autofree char *port = NULL;

  if (column->kind == CELL_VALUE)
    return value_text (json_object_get_member (record, column->field));
  ip = value_text (json_object_get_member (record, column->field));
  port = value_text (json_object_get_member (record, "port"));
  if (strchr (ip, ':') != NULL)
    return g_strdup_printf ("[%s]:%s", ip, port);
  return g_strdup_printf ("%s:%s", ip, port);
}

static char *
records_to_text (const Collection *collection, JsonArray *records)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  const char *headers[MAX_COLUMNS];
  guint       n_columns = 0;

  while (n_columns < MAX_COLUMNS && collection->columns[n_columns].header != NULL) {
    headers[n_columns] = _ (collection->columns[n_columns].header);
    n_columns++;
  }
  if (json_array_get_length (records) == 0)
    return g_strdup_printf ("%s\n", _ (collection->none));
  for (guint r = 0; r < json_array_get_length (records); r++) {
    JsonNode *node = json_array_get_element (records, r);
    char    **cells = g_new0 (char *, n_columns + 1);

    for (guint i = 0; i < n_columns; i++)
      cells[i] = JSON_NODE_HOLDS_OBJECT (node)
                   ? cell_text (json_node_get_object (node), &collection->columns[i])
                   : g_strdup ("?");
    g_ptr_array_add (rows, cells);
  }
  return dflyctl_format_table (headers, n_columns, rows);
}

/* Every member, in the order the manager sent them. */
static char *
record_to_text (JsonObject *record)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  JsonObjectIter iter;
  const char    *name;
  JsonNode      *node;

  json_object_iter_init_ordered (&iter, record);
  while (json_object_iter_next_ordered (&iter, &name, &node)) {
    g_autofree char *safe_name = printable (name);

    g_ptr_array_add (labels, g_strconcat (safe_name, ":", NULL));
    g_ptr_array_add (values, value_text (node));
  }
  return dflyctl_format_fields ((const char *const *) labels->pdata,
                                (const char *const *) values->pdata, labels->len);
}

static void
print_answer (ManagerRun *run, JsonNode *answer)
{
  if (run->ctl->format == DFLYCTL_FORMAT_JSON)
    dflyctl_print (run->ctl, dflyctl_json_to_text (answer));
  else if (JSON_NODE_HOLDS_ARRAY (answer))
    dflyctl_print (run->ctl, records_to_text (run->collection, json_node_get_array (answer)));
  else
    dflyctl_print (run->ctl, record_to_text (json_node_get_object (answer)));
}

/* --- the subcommands ------------------------------------------------- */

static char *
record_path (ManagerRun *run)
{
  return g_strdup_printf ("%s/%" G_GINT64_FORMAT, run->collection->table, run->id);
}

static gboolean
parse_id (const char *what, const char *option, const char *text, gint64 *id, GError **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL)) {
    g_autofree char *quoted = dflyctl_quote_arg (text);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: bad %s “%s”: ids are whole numbers from 1"), what, option, quoted);
    return FALSE;
  }
  *id = (gint64) value;
  return TRUE;
}

static gboolean
run_list (ManagerRun *run, GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (JsonNode) answer = NULL;
  gint64 cluster;

  if (run->options->cluster != NULL) {
    if (!parse_id (run->what, "--cluster", run->options->cluster, &cluster, error))
      return FALSE;
    path = g_strdup_printf ("%s?%s=%" G_GINT64_FORMAT, run->collection->table,
                            run->collection->filter, cluster);
  } else {
    path = g_strdup (run->collection->table);
  }
  answer = dflyctl_manager_client_request (run->client, "GET", path, NULL, JSON_NODE_ARRAY, error);
  if (answer == NULL)
    return FALSE;
  print_answer (run, answer);
  return TRUE;
}

static gboolean
run_show (ManagerRun *run, GError **error)
{
  g_autofree char *path = record_path (run);
  g_autoptr (JsonNode) answer =
    dflyctl_manager_client_request (run->client, "GET", path, NULL, JSON_NODE_OBJECT, error);

  if (answer == NULL)
    return FALSE;
  print_answer (run, answer);
  return TRUE;
}

static gboolean
run_delete (ManagerRun *run, GError **error)
{
  g_autofree char *path = record_path (run);
  g_autoptr (JsonNode) answer =
    dflyctl_manager_client_request (run->client, "DELETE", path, NULL, JSON_NODE_NULL, error);

  if (answer == NULL)
    return FALSE;
  if (run->ctl->format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "id");
    json_builder_add_int_value (builder, run->id);
    json_builder_set_member_name (builder, "result");
    json_builder_add_string_value (builder, "deleted");
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    dflyctl_print (run->ctl, dflyctl_json_to_text (root));
  } else {
    /* TRANSLATORS: "scheduler cluster 3 deleted" */
    dflyctl_print (run->ctl, g_strdup_printf (_ ("%s %" G_GINT64_FORMAT " deleted\n"),
                                              _ (run->collection->noun), run->id));
  }
  return TRUE;
}

/* A JSON option: an object, as the API's fields are. */
static gboolean
add_json_option (JsonObject *body, const char *field, const char *option, const char *text,
                 const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (text == NULL)
    return TRUE;
  if (!json_parser_load_from_data (parser, text, -1, &local_error)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: %s is not JSON: %s"), what,
                 option, local_error->message);
    return FALSE;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: %s is not a JSON object such as {\"key\": 1}"), what, option);
    return FALSE;
  }
  json_object_set_member (body, field, json_node_copy (root));
  return TRUE;
}

/* The body of a create or an update from the options; NULL on a bad one. */
static JsonNode *
cluster_body (ManagerRun *run, GError **error)
{
  ManagerOptions *options = run->options;
  g_autoptr (JsonObject) body = json_object_new ();
  JsonNode *node;
  gint64    id;

  if (run->name != NULL)
    json_object_set_string_member (body, "name", run->name);
  if (options->name != NULL)
    json_object_set_string_member (body, "name", options->name);
  if (options->bio != NULL)
    json_object_set_string_member (body, "bio", options->bio);
  if (!add_json_option (body, "config", "--config", options->config, run->what, error) ||
      !add_json_option (body, "scopes", "--scopes", options->scopes, run->what, error) ||
      !add_json_option (body, "client_config", "--client-config", options->client_config, run->what,
                        error))
    return NULL;
  if (options->is_default || options->not_default)
    json_object_set_boolean_member (body, "is_default", options->is_default);
  if (options->scheduler_cluster != NULL) {
    if (!parse_id (run->what, "--scheduler-cluster", options->scheduler_cluster, &id, error))
      return NULL;
    json_object_set_int_member (body, "scheduler_cluster_id", id);
  }
  if (json_object_get_size (body) == 0) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: nothing to change; give --name, --bio, --config or another option"),
                 run->what);
    return NULL;
  }
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, body);
  return node;
}

static gboolean
run_write (ManagerRun *run, const char *method, const char *path, GError **error)
{
  g_autoptr (JsonNode) body = cluster_body (run, error);
  g_autoptr (JsonNode) answer = NULL;

  if (body == NULL)
    return FALSE;
  answer =
    dflyctl_manager_client_request (run->client, method, path, body, JSON_NODE_OBJECT, error);
  if (answer == NULL)
    return FALSE;
  print_answer (run, answer);
  return TRUE;
}

static gboolean
run_create (ManagerRun *run, GError **error)
{
  return run_write (run, "POST", run->collection->table, error);
}

static gboolean
run_update (ManagerRun *run, GError **error)
{
  g_autofree char *path = record_path (run);

  return run_write (run, "PATCH", path, error);
}

typedef enum {
  TAKES_NOTHING,
  TAKES_ID,
  TAKES_NAME,
} Argument;

typedef struct {
  const char *name;
  Argument    argument;
  gboolean    writes; /* takes the record's options */
  gboolean (*run) (ManagerRun *run, GError **error);
} Subcommand;

static const Subcommand cluster_subcommands[] = {
  { "list", TAKES_NOTHING, FALSE, run_list }, { "show", TAKES_ID, FALSE, run_show },
  { "create", TAKES_NAME, TRUE, run_create }, { "update", TAKES_ID, TRUE, run_update },
  { "delete", TAKES_ID, FALSE, run_delete },
};

static const Subcommand host_subcommands[] = {
  { "list", TAKES_NOTHING, FALSE, run_list },
  { "show", TAKES_ID, FALSE, run_show },
  { "delete", TAKES_ID, FALSE, run_delete },
};

/* --- the commands ---------------------------------------------------- */

/* The options that only some subcommands or kinds take, and who takes them. */
static gboolean
check_options (ManagerRun *run, const Subcommand *subcommand, GError **error)
{
  ManagerOptions *o = run->options;
  const struct {
    gboolean    given;
    const char *option;
    gboolean    allowed;
    const char *why; /* N_() */
  } rules[] = {
    { o->name != NULL, "--name", g_str_equal (subcommand->name, "update"),
      N_ ("it goes with update (create takes the name as its argument)") },
    { o->bio != NULL, "--bio", subcommand->writes, N_ ("it goes with create and update") },
    { o->config != NULL, "--config", subcommand->writes, N_ ("it goes with create and update") },
    { o->scopes != NULL, "--scopes", subcommand->writes && !o->seed,
      N_ ("it goes with create and update of a scheduler cluster (not --seed)") },
    { o->client_config != NULL, "--client-config", subcommand->writes && !o->seed,
      N_ ("it goes with create and update of a scheduler cluster (not --seed)") },
    { o->is_default, "--default", subcommand->writes && !o->seed && !o->not_default,
      N_ ("it goes with create and update of a scheduler cluster (not --seed or --no-default)") },
    { o->not_default, "--no-default", subcommand->writes && !o->seed,
      N_ ("it goes with create and update of a scheduler cluster (not --seed)") },
    { o->scheduler_cluster != NULL, "--scheduler-cluster", subcommand->writes && o->seed,
      N_ ("it goes with create and update of a seed peer cluster (--seed)") },
    { o->cluster != NULL, "--cluster", g_str_equal (subcommand->name, "list"),
      N_ ("it goes with list") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++) {
    if (rules[i].given && !rules[i].allowed) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: %s does not fit here: %s"),
                   run->what, rules[i].option, _ (rules[i].why));
      return FALSE;
    }
  }
  return TRUE;
}

/* --manager, else $DFLY_MANAGER, else the manager's default address; with
 * --ca, --cert and --key, over the cluster's mutual TLS. */
static DflyctlManagerClient *
open_client (ManagerOptions *options, GError **error)
{
  const char *env = g_getenv (DFLYCTL_MANAGER_ENV);
  g_autoptr (DflyTls) tls = NULL;

  if (options->ca != NULL || options->cert != NULL || options->key != NULL) {
    if (options->ca == NULL || options->cert == NULL || options->key == NULL) {
      g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                           _ ("--ca, --cert and --key go together"));
      return NULL;
    }
    tls = dfly_tls_new (options->ca, options->cert, options->key, error);
    if (tls == NULL) {
      g_prefix_error (error, "--ca, --cert, --key: ");
      return NULL;
    }
  }
  if (options->manager != NULL)
    return dflyctl_manager_client_new (options->manager, "--manager", tls, error);
  if (env != NULL && *env != '\0')
    return dflyctl_manager_client_new (env, DFLYCTL_MANAGER_ENV, tls, error);
  return dflyctl_manager_client_new (DFLYCTL_MANAGER_DEFAULT_URL, "default", tls, error);
}

static gboolean
run_command (Dflyctl *ctl, const char *command, const GOptionEntry *entries,
             const Subcommand *subcommands, guint n_subcommands, const Collection *collection,
             const Collection *seed_collection, ManagerOptions *options,
             const char *parameter_string, const char *summary, const char *description,
             GError **error)
{
  g_auto (GStrv) positional = NULL;
  g_autofree char *what = NULL;
  g_autoptr (DflyctlManagerClient) client = NULL;
  g_autoptr (GString) names = g_string_new (NULL);
  const Subcommand *subcommand = NULL;
  ManagerRun        run = { ctl, NULL, collection, options, 0, NULL, NULL };
  guint             wanted;

  positional =
    dflyctl_parse_command_args (ctl, entries, parameter_string, summary, description, error);
  if (positional == NULL)
    return FALSE;
  /* GOption leaves a "--" behind; what follows it is an argument
   * ("scheduler show -- -1"). */
  for (guint i = 0; positional[i] != NULL; i++) {
    if (g_str_equal (positional[i], "--")) {
      g_free (positional[i]);
      memmove (&positional[i], &positional[i + 1],
               (g_strv_length (positional + i + 1) + 1) * sizeof (char *));
      break;
    }
  }
  /* Options come in any order: only now is --seed known. */
  if (options->seed)
    run.collection = seed_collection;
  for (guint i = 0; i < n_subcommands; i++) {
    g_string_append_printf (names, "%s%s", i == 0 ? "" : ", ", subcommands[i].name);
    if (positional[0] != NULL && g_str_equal (positional[0], subcommands[i].name))
      subcommand = &subcommands[i];
  }
  if (positional[0] == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: no subcommand given; use %s"),
                 command, names->str);
    return FALSE;
  }
  if (subcommand == NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: unknown subcommand “%s”; use %s"), command, quoted, names->str);
    return FALSE;
  }
  what = g_strdup_printf ("%s %s", command, subcommand->name);
  run.what = what;
  wanted = subcommand->argument == TAKES_NOTHING ? 0 : 1;
  if (g_strv_length (positional) - 1 < wanted) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: no %s given"), what,
                 subcommand->argument == TAKES_ID ? _ ("id") : _ ("name"));
    return FALSE;
  }
  if (g_strv_length (positional) - 1 > wanted) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[wanted + 1]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: too many arguments: “%s”"),
                 what, quoted);
    return FALSE;
  }
  if (subcommand->argument == TAKES_ID && !parse_id (what, _ ("id"), positional[1], &run.id, error))
    return FALSE;
  if (subcommand->argument == TAKES_NAME)
    run.name = positional[1];
  if (!check_options (&run, subcommand, error))
    return FALSE;
  client = open_client (options, error);
  if (client == NULL)
    return FALSE;
  run.client = client;
  return subcommand->run (&run, error);
}

/* The connection's entries of each command, into its local "options". */
#define MANAGER_ENTRIES                                                                         \
  { "manager",                                                                                  \
    'm',                                                                                        \
    0,                                                                                          \
    G_OPTION_ARG_STRING,                                                                        \
    &options.manager,                                                                           \
    N_ ("The manager's URL (default: $DFLY_MANAGER, else http://127.0.0.1:8080)"),              \
    N_ ("URL") },                                                                               \
    { "ca",        0,                                                                           \
      0,           G_OPTION_ARG_FILENAME,                                                       \
      &options.ca, N_ ("The cluster CA (PEM) an https:// manager's certificate must chain to"), \
      N_ ("FILE") },                                                                            \
    { "cert",                                                                                   \
      0,                                                                                        \
      0,                                                                                        \
      G_OPTION_ARG_FILENAME,                                                                    \
      &options.cert,                                                                            \
      N_ ("This client's certificate of the cluster CA (PEM)"),                                 \
      N_ ("FILE") },                                                                            \
  {                                                                                             \
    "key", 0, 0, G_OPTION_ARG_FILENAME, &options.key, N_ ("Its private key (PEM)"), N_ ("FILE") \
  }

static const char cluster_description[] =
  N_ ("Subcommands:\n"
      "  list               The clusters\n"
      "  show ID            One cluster\n"
      "  create NAME        A new cluster; with --bio, --config, --scopes,\n"
      "                     --client-config, --default (--scheduler-cluster with --seed)\n"
      "  update ID          Change the fields given (--name and the options of create)\n"
      "  delete ID          Remove a cluster no host or seed peer cluster is in\n\n"
      "Scheduler clusters, or seed peer clusters with --seed. JSON options are\n"
      "objects, such as --config '{\"candidate_parent_limit\": 4}'.\n"
      "Exit status: 2 a bad argument or a field the manager refused, 3 the\n"
      "manager cannot be reached, 4 no such cluster, 1 another failure.");

gboolean
dflyctl_cmd_cluster (Dflyctl *ctl, GError **error)
{
  g_auto (ManagerOptions) options = { 0 };
  const GOptionEntry entries[] = {
    MANAGER_ENTRIES,
    { "seed", 's', 0, G_OPTION_ARG_NONE, &options.seed,
      N_ ("Seed peer clusters instead of scheduler clusters"), NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &options.name, N_ ("A new name (update)"), N_ ("NAME") },
    { "bio", 0, 0, G_OPTION_ARG_STRING, &options.bio, N_ ("A description"), N_ ("TEXT") },
    { "config", 0, 0, G_OPTION_ARG_STRING, &options.config, N_ ("The cluster's config object"),
      N_ ("JSON") },
    { "scopes", 0, 0, G_OPTION_ARG_STRING, &options.scopes,
      N_ ("Which hosts the scheduler cluster serves"), N_ ("JSON") },
    { "client-config", 0, 0, G_OPTION_ARG_STRING, &options.client_config,
      N_ ("The config the scheduler cluster gives its peers"), N_ ("JSON") },
    { "default", 0, 0, G_OPTION_ARG_NONE, &options.is_default,
      N_ ("Make it the default scheduler cluster"), NULL },
    { "no-default", 0, 0, G_OPTION_ARG_NONE, &options.not_default,
      N_ ("Make it not the default scheduler cluster"), NULL },
    { "scheduler-cluster", 0, 0, G_OPTION_ARG_STRING, &options.scheduler_cluster,
      N_ ("The scheduler cluster a seed peer cluster serves"), N_ ("ID") },
    { NULL }
  };

  return run_command (
    ctl, "cluster", entries, cluster_subcommands, G_N_ELEMENTS (cluster_subcommands),
    &collections[SCHEDULER_CLUSTERS], &collections[SEED_PEER_CLUSTERS], &options,
    _ ("list|show|create|update|delete [ID|NAME]"),
    _ ("The manager's scheduler clusters, or seed peer clusters."), _ (cluster_description), error);
}

/* scheduler and seed: the same subcommands over their own collection. */
typedef struct {
  const char *command;
  guint       collection;
  const char *cluster_help; /* N_() */
  const char *summary;      /* N_() */
  const char *description;  /* N_() */
} HostCommand;

static const HostCommand host_commands[] = {
  { "scheduler", SCHEDULERS, N_ ("Only those of this scheduler cluster (list)"),
    N_ ("The schedulers registered with the manager."),
    N_ ("Subcommands:\n"
        "  list       The schedulers registered (--cluster ID: of one scheduler cluster)\n"
        "  show ID    One scheduler\n"
        "  delete ID  Remove a scheduler's record (one still running may register again)\n\n"
        "Exit status: 3 the manager cannot be reached, 4 no such scheduler.") },
  { "seed", SEED_PEERS, N_ ("Only those of this seed peer cluster (list)"),
    N_ ("The seed peers registered with the manager."),
    N_ ("Subcommands:\n"
        "  list       The seed peers registered (--cluster ID: of one seed peer cluster)\n"
        "  show ID    One seed peer\n"
        "  delete ID  Remove a seed peer's record (one still running may register again)\n\n"
        "Exit status: 3 the manager cannot be reached, 4 no such seed peer.") },
};

static gboolean
run_host_command (Dflyctl *ctl, const HostCommand *host, GError **error)
{
  g_auto (ManagerOptions) options = { 0 };
  const GOptionEntry entries[] = { MANAGER_ENTRIES,
                                   { "cluster", 'c', 0, G_OPTION_ARG_STRING, &options.cluster,
                                     host->cluster_help, N_ ("ID") },
                                   { NULL } };

  return run_command (ctl, host->command, entries, host_subcommands,
                      G_N_ELEMENTS (host_subcommands), &collections[host->collection], NULL,
                      &options, _ ("list|show|delete [ID]"), _ (host->summary),
                      _ (host->description), error);
}

gboolean
dflyctl_cmd_scheduler (Dflyctl *ctl, GError **error)
{
  return run_host_command (ctl, &host_commands[0], error);
}

gboolean
dflyctl_cmd_seed (Dflyctl *ctl, GError **error)
{
  return run_host_command (ctl, &host_commands[1], error);
}
