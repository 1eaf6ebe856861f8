/* dfly-manager-api.c — the manager's REST API (see the header) */
#include "config.h"

#include <string.h>

#include "dfly-json-safe.h"
#include "dfly-manager-api.h"

struct _DflyManagerApi {
  DflyManagerStore *store;
};

typedef enum {
  CALL_LIST,
  CALL_GET,
  CALL_CREATE,
  CALL_REGISTER,
  CALL_UPDATE,
  CALL_REMOVE,
  CALL_KEEPALIVE,
} CallKind;

/* One store call, made in a worker thread for a paused message. */
typedef struct {
  DflyManagerApi         *api; /* a reference */
  SoupServerMessage      *msg;
  CallKind                kind;
  const DflyManagerTable *table;
  gint64                  id;
  const char             *filter; /* a field name of table, static */
  JsonObject             *record; /* what the client sent */
  /* The outcome. */
  JsonNode *answer;
  char     *field;
  GError   *error;
} Call;

static void
api_release (DflyManagerApi *self)
{
  dfly_manager_store_free (self->store);
}

DflyManagerApi *
dfly_manager_api_new (DflyManagerStore *store)
{
  DflyManagerApi *self = g_atomic_rc_box_new0 (DflyManagerApi);

  self->store = store;
  return self;
}

void
dfly_manager_api_free (DflyManagerApi *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, (GDestroyNotify) api_release);
}

static void
call_free (Call *call)
{
  dfly_manager_api_free (call->api);
  g_object_unref (call->msg);
  g_clear_pointer (&call->record, json_object_unref);
  g_clear_pointer (&call->answer, json_node_unref);
  g_free (call->field);
  g_clear_error (&call->error);
  g_free (call);
}

static void
answer_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  char *text = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

void
dfly_manager_api_answer_error (SoupServerMessage *msg, guint status, const char *field,
                               const char *message)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "message", message);
  if (field != NULL)
    json_object_set_string_member (object, "field", field);
  else
    json_object_set_null_member (object, "field");
  json_node_set_object (node, object);
  answer_json (msg, status, node);
}

/* The HTTP status of a store error. */
static guint
status_of (const GError *error, const char *field, CallKind kind)
{
  if (error->domain != DFLY_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch (error->code) {
  case DFLY_ERROR_NOT_FOUND:
    return SOUP_STATUS_NOT_FOUND;
  case DFLY_ERROR_INVALID_ARGUMENT:
    /* A reference to no record is the client's mistake; a unique field
     * taken, or a record still in use, a conflict with the store. */
    if (kind == CALL_REMOVE || (field != NULL && !g_str_has_suffix (field, "_id")))
      return SOUP_STATUS_CONFLICT;
    return SOUP_STATUS_BAD_REQUEST;
  case DFLY_ERROR_BUSY:
    return SOUP_STATUS_INSUFFICIENT_STORAGE;
  default:
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  }
}

static JsonNode *
object_node (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

static void run_store_call (Call *call);

/* The outcome stays in the Call; the task only says it ran. */
static void
run_call (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  run_store_call (data);
  g_task_return_boolean (task, TRUE);
}

static void
run_store_call (Call *call)
{
  DflyManagerStore *store = call->api->store;
  JsonObject       *object = NULL;
  JsonArray        *array;

  switch (call->kind) {
  case CALL_LIST:
    array = dfly_manager_store_list (store, call->table, call->filter, call->id, &call->error);
    if (array != NULL) {
      call->answer = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (call->answer, array);
    }
    return;
  case CALL_GET:
    object = dfly_manager_store_get (store, call->table, call->id, &call->error);
    break;
  case CALL_CREATE:
    object =
      dfly_manager_store_create (store, call->table, call->record, &call->field, &call->error);
    break;
  case CALL_REGISTER:
    object = dfly_manager_store_register_host (store, call->table, call->record, &call->field,
                                               &call->error);
    break;
  case CALL_UPDATE:
    object = dfly_manager_store_update (store, call->table, call->id, call->record, &call->field,
                                        &call->error);
    break;
  case CALL_REMOVE:
    dfly_manager_store_remove (store, call->table, call->id, &call->error);
    return;
  case CALL_KEEPALIVE:
    dfly_manager_store_keepalive (store, call->table, call->id, &call->error);
    return;
  }
  if (object != NULL)
    call->answer = object_node (object);
}

static void
call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = g_task_get_task_data (G_TASK (result));

  if (call->error != NULL) {
    guint status = status_of (call->error, call->field, call->kind);

    /* The store's own failure names files and servers: the log has it,
     * an unauthenticated client gets less. */
    if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR) {
      g_message ("manager store: %s", call->error->message);
      dfly_manager_api_answer_error (call->msg, status, NULL,
                                     "the manager's store failed; its log says why");
    } else {
      dfly_manager_api_answer_error (call->msg, status, call->field, call->error->message);
    }
  } else if (call->answer != NULL) {
    answer_json (call->msg, call->kind == CALL_CREATE ? SOUP_STATUS_CREATED : SOUP_STATUS_OK,
                 call->answer);
  } else {
    soup_server_message_set_status (call->msg, SOUP_STATUS_NO_CONTENT, NULL);
  }
  soup_server_message_unpause (call->msg);
}

static void
start_call (DflyManagerApi *self, SoupServerMessage *msg, Call *call)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, call_done, NULL);

  call->api = g_atomic_rc_box_acquire (self);
  call->msg = g_object_ref (msg);
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  soup_server_message_pause (msg);
  g_task_run_in_thread (task, run_call);
}

/* The request's body as a checked record of table; NULL with the error answered. */
static JsonObject *
read_record (SoupServerMessage *msg, const DflyManagerTable *table, gboolean creating)
{
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) error = NULL;
  g_autofree char *field = NULL;
  JsonNode        *root;

  if (!dfly_json_depth_ok (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                           DFLY_JSON_MAX_DEPTH)) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_BAD_REQUEST, NULL,
                                   "malformed JSON: not one array or object of at most 32 levels");
    return NULL;
  }
  if (g_bytes_get_size (body) > DFLY_MANAGER_API_MAX_BODY) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL,
                                   "the body is too large");
    return NULL;
  }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                   (gssize) g_bytes_get_size (body), &error)) {
    g_autofree char *message = g_strdup_printf ("malformed JSON: %s", error->message);

    dfly_manager_api_answer_error (msg, SOUP_STATUS_BAD_REQUEST, NULL, message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_BAD_REQUEST, NULL, "not a JSON object");
    return NULL;
  }
  if (!dfly_manager_check_record (table, json_node_get_object (root), creating, &field, &error)) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_BAD_REQUEST, field, error->message);
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

static gboolean
parse_id (const char *text, gint64 *id)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    return FALSE;
  *id = (gint64) value;
  return TRUE;
}

static void
method_not_allowed (SoupServerMessage *msg, const char *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  dfly_manager_api_answer_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL,
                                 "method not allowed here");
}

/* GET /api/v1/TABLE: a query may name one REF field. */
static void
handle_collection (DflyManagerApi *self, SoupServerMessage *msg, const DflyManagerTable *table,
                   GHashTable *query)
{
  const char *method = soup_server_message_get_method (msg);
  Call       *call;

  if (strcmp (method, SOUP_METHOD_GET) == 0) {
    call = g_new0 (Call, 1);
    call->kind = CALL_LIST;
    call->table = table;
    if (query != NULL && g_hash_table_size (query) > 0) {
      GHashTableIter          iter;
      gpointer                key, value;
      const DflyManagerField *spec;

      g_hash_table_iter_init (&iter, query);
      g_hash_table_iter_next (&iter, &key, &value);
      spec = dfly_manager_table_field (table, key);
      if (g_hash_table_size (query) > 1 || spec == NULL || spec->type != DFLY_MANAGER_FIELD_REF ||
          !parse_id (value, &call->id)) {
        g_free (call);
        dfly_manager_api_answer_error (msg, SOUP_STATUS_BAD_REQUEST, key,
                                       "a list filters on one cluster id field at most");
        return;
      }
      call->filter = spec->name;
    }
    start_call (self, msg, call);
    return;
  }
  if (strcmp (method, SOUP_METHOD_POST) == 0) {
    JsonObject *record = read_record (msg, table, TRUE);

    if (record == NULL)
      return;
    call = g_new0 (Call, 1);
    call->kind = table->host ? CALL_REGISTER : CALL_CREATE;
    call->table = table;
    call->record = record;
    start_call (self, msg, call);
    return;
  }
  method_not_allowed (msg, "GET, POST");
}

static void
handle_record (DflyManagerApi *self, SoupServerMessage *msg, const DflyManagerTable *table,
               gint64 id)
{
  const char *method = soup_server_message_get_method (msg);
  Call       *call = g_new0 (Call, 1);

  call->table = table;
  call->id = id;
  if (strcmp (method, SOUP_METHOD_GET) == 0) {
    call->kind = CALL_GET;
  } else if (strcmp (method, "PATCH") == 0) {
    call->kind = CALL_UPDATE;
    call->record = read_record (msg, table, FALSE);
  } else if (strcmp (method, SOUP_METHOD_DELETE) == 0) {
    call->kind = CALL_REMOVE;
  } else {
    g_free (call);
    method_not_allowed (msg, "GET, PATCH, DELETE");
    return;
  }
  if (call->kind == CALL_UPDATE && call->record == NULL) {
    g_free (call);
    return;
  }
  start_call (self, msg, call);
}

gboolean
dfly_manager_api_handle (DflyManagerApi *self, SoupServerMessage *msg, const char *path,
                         GHashTable *query)
{
  g_auto (GStrv) parts = NULL;
  const DflyManagerTable *table;
  guint                   n;
  gint64                  id;

  if (!g_str_has_prefix (path, DFLY_MANAGER_API_PREFIX))
    return FALSE;
  parts = g_strsplit (path + strlen (DFLY_MANAGER_API_PREFIX), "/", 4);
  n = g_strv_length (parts);
  table = n > 0 ? dfly_manager_table_by_name (parts[0]) : NULL;
  if (table == NULL) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_NOT_FOUND, NULL, "no such collection");
    return TRUE;
  }
  if (n == 1) {
    handle_collection (self, msg, table, query);
    return TRUE;
  }
  if (!parse_id (parts[1], &id) || n > 3 ||
      (n == 3 && (!table->host || strcmp (parts[2], "keepalive") != 0))) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_NOT_FOUND, NULL, "no such record or action");
    return TRUE;
  }
  if (n == 2) {
    handle_record (self, msg, table, id);
    return TRUE;
  }
  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_POST) != 0) {
    method_not_allowed (msg, "POST");
    return TRUE;
  }
  {
    Call *call = g_new0 (Call, 1);

    call->kind = CALL_KEEPALIVE;
    call->table = table;
    call->id = id;
    start_call (self, msg, call);
  }
  return TRUE;
}
