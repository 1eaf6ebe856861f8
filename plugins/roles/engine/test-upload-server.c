/* test-upload-server.c — the upload server alone, on the real disk storage
 *
 * A task with some pieces committed; children are sync streams and
 * SoupSessions on loopback. The server runs with the engine's default
 * policy (every stream told at once, every range sent, again and again),
 * or with a test policy that tells the first stream alone, reveals to the
 * others later and defers one range (429); and answers the one-shot
 * /v1/download-piece. Every wait is bounded.
 */
#include "config.h"

#include <string.h>

#include "../dfly-role-test.h"
#include "dfly-upload-server.h"

/* Compiled into this binary, from the disk plugin (see local.mk). */
GType dfly_disk_storage_get_type (void);

#define TASK_ID  "5eed000000000000000000000000000000000000000000000000000000000000"
#define OTHER_ID "0ddba11000000000000000000000000000000000000000000000000000000000"
#define PIECE    1024
#define PIECES   4
#define WAIT_MS  5000
#define LATER_US (300 * 1000) /* the test policy's reveal delay */

/* ---- a policy that tells the first stream alone, and defers piece 3 ---- */

G_DECLARE_FINAL_TYPE (TestPolicy, test_policy, TEST, POLICY, DflyUploadPolicy)

struct _TestPolicy {
  DflyUploadPolicy parent_instance;
};

G_DEFINE_FINAL_TYPE (TestPolicy, test_policy, DFLY_TYPE_UPLOAD_POLICY)

static GPtrArray *
test_policy_announce (DflyUploadPolicy *policy, const DflyPieceInfo *piece, GPtrArray *streams,
                      gint64 *reveal_after)
{
  GPtrArray *now = g_ptr_array_new ();

  g_ptr_array_add (now, g_ptr_array_index (streams, 0));
  *reveal_after = LATER_US;
  return now;
}

static gboolean
test_policy_admit (DflyUploadPolicy *policy, const char *task_id, goffset start, goffset end)
{
  return start != 3 * PIECE;
}

static void
test_policy_init (TestPolicy *self)
{
}

static void
test_policy_class_init (TestPolicyClass *klass)
{
  DFLY_UPLOAD_POLICY_CLASS (klass)->announce = test_policy_announce;
  DFLY_UPLOAD_POLICY_CLASS (klass)->admit = test_policy_admit;
}

/* ---- the fixture ---- */

typedef struct {
  char             *dir;
  DflyContext      *context;
  DflyContext      *services; /* the storage's: see test-download.c */
  DflyStorage      *storage;
  DflyRateLimiter  *limiter;
  DflyUploadServer *server;
  SoupSession      *session;
  GBytes           *content;
  char             *base_url;
  guint             orders; /* a seed's: taken, of at most ORDERS_TAKEN */
} UploadTest;

/* A sync stream: the piece numbers it was told of, in order. */
typedef struct {
  SoupWebsocketConnection *connection;
  GArray                  *told;
  gint64                   last_at; /* when the last one came */
} Child;

static void
child_free (Child *child)
{
  if (child->connection != NULL) {
    g_signal_handlers_disconnect_by_data (child->connection, child);
    if (soup_websocket_connection_get_state (child->connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (child->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (child->connection);
  }
  g_array_unref (child->told);
  g_free (child);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Child, child_free)

static char *
digest_of (UploadTest *t, guint32 number)
{
  const guint8 *bytes = g_bytes_get_data (t->content, NULL);

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes + number * PIECE, PIECE);
}

static void
commit (UploadTest *t, guint32 number)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, number);
  g_autoptr (GError) error = NULL;
  const guint8 *bytes = g_bytes_get_data (t->content, NULL);

  piece->offset = number * PIECE;
  piece->length = PIECE;
  piece->digest = digest_of (t, number);
  g_assert_true (
    dfly_storage_write (t->storage, TASK_ID, piece->offset, bytes + piece->offset, PIECE, &error));
  g_assert_true (dfly_storage_commit_piece (t->storage, piece, &error));
  g_assert_no_error (error);
}

/* Committed, and told on the bus as a download does. */
static void
finish (UploadTest *t, guint32 number)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, number);

  commit (t, number);
  piece->offset = number * PIECE;
  piece->length = PIECE;
  dfly_bus_emit_piece_finished (dfly_context_get_bus (t->context), piece);
}

/* A seed's order queue: its first ORDERS_TAKEN orders are taken, then it
 * is busy, as the engine is with download.max_waiting downloads waiting. */
#define ORDERS_TAKEN 2

static gboolean
take_order (const char *task_id, const Dfly__V1__Download *download, gpointer user_data,
            GError **error)
{
  UploadTest *t = user_data;

  if (t->orders >= ORDERS_TAKEN) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "%u downloads wait already", t->orders);
    return FALSE;
  }
  t->orders++;
  return TRUE;
}

static void
setup_with (UploadTest *t, DflyUploadPolicy *policy, DflyUploadTriggerFunc trigger)
{
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new (TASK_ID, "http://origin.invalid/file");
  g_autoptr (DflyTaskInfo) held = NULL;
  g_autoptr (GError) error = NULL;
  guint8 *bytes = g_malloc (PIECE * PIECES);

  for (gsize i = 0; i < PIECE * PIECES; i++)
    bytes[i] = (guint8) (i * 7 + i / PIECE);
  t->content = g_bytes_new_take (bytes, PIECE * PIECES);
  t->dir = role_test_dir_new ();
  config = role_test_config_new (t->dir);
  g_free (config->daemon.state_dir);
  config->daemon.state_dir = g_strdup (t->dir);
  t->context = dfly_context_new (config);
  t->services = dfly_context_new (config);
  t->storage =
    g_object_new (dfly_disk_storage_get_type (), "context", t->services, "name", "disk", NULL);
  g_assert_true (dfly_storage_load (t->storage, &error));
  g_assert_no_error (error);
  task->piece_length = PIECE;
  task->content_length = PIECE * PIECES;
  task->total_pieces = PIECES;
  task->state = DFLY_TASK_STATE_RUNNING;
  held = dfly_storage_open_task (t->storage, task, &error);
  g_assert_no_error (error);
  commit (t, 0);

  t->limiter = dfly_rate_limiter_new (0);
  t->server = dfly_upload_server_new (t->context, t->storage, t->limiter, DFLY_HOST_TYPE_NORMAL,
                                      policy, trigger, t, &error);
  g_assert_no_error (error);
  t->base_url = dfly_wire_base_url ("127.0.0.1", dfly_upload_server_get_port (t->server), FALSE);
  t->session = soup_session_new ();
}

static void
setup (UploadTest *t, DflyUploadPolicy *policy)
{
  setup_with (t, policy, NULL);
}

static void
setup_seed (UploadTest *t, gconstpointer data)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_upload_policy_new ();

  setup_with (t, policy, take_order);
}

static void
setup_default (UploadTest *t, gconstpointer data)
{
  g_autoptr (DflyUploadPolicy) policy = dfly_upload_policy_new ();

  setup (t, policy);
}

static void
setup_later (UploadTest *t, gconstpointer data)
{
  g_autoptr (DflyUploadPolicy) policy = g_object_new (test_policy_get_type (), NULL);

  setup (t, policy);
}

static void
teardown (UploadTest *t, gconstpointer data)
{
  g_clear_object (&t->session);
  g_clear_pointer (&t->server, dfly_upload_server_free);
  /* Listings still in flight end with the server's cancellable. */
  role_test_wait (NULL, NULL, 100);
  g_clear_pointer (&t->limiter, dfly_rate_limiter_free);
  g_assert_finalize_object (t->context);
  g_object_unref (t->storage);
  g_assert_finalize_object (t->services);
  g_bytes_unref (t->content);
  g_free (t->base_url);
  g_assert_true (g_spawn_sync (NULL, (char *[]){ "rm", "-rf", t->dir, NULL }, NULL,
                               G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL));
  g_free (t->dir);
}

/* ---- children ---- */

static void
on_told (SoupWebsocketConnection *connection, gint type, GBytes *message, gpointer user_data)
{
  Child *child = user_data;
  g_autoptr (GError) error = NULL;
  Dfly__V1__SyncPiecesResponse *response;

  response = (Dfly__V1__SyncPiecesResponse *) dfly_wire_unpack (
    g_bytes_get_data (message, NULL), g_bytes_get_size (message), 1 << 20,
    DFLY_MESSAGE_SYNC_PIECES_RESPONSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (response->task_id, ==, TASK_ID);
  g_assert_nonnull (response->piece);
  g_array_append_val (child->told, response->piece->number);
  child->last_at = g_get_monotonic_time ();
  protobuf_c_message_free_unpacked (&response->base, NULL);
}

static gboolean
child_connected (gpointer data)
{
  return ((Child *) data)->connection != NULL;
}

static void
on_connected (GObject *session, GAsyncResult *result, gpointer user_data)
{
  Child *child = user_data;
  g_autoptr (GError) error = NULL;

  child->connection =
    soup_session_websocket_connect_finish (SOUP_SESSION (session), result, &error);
  g_assert_no_error (error);
}

typedef struct {
  Child *child;
  guint  n;
} Told;

/* Condition: the child was told of n pieces. */
static gboolean
told_of (gpointer data)
{
  Told *told = data;

  return told->child->told->len >= told->n;
}

/* A child subscribed to the task, once told of what is held (piece 0). */
static Child *
child_new (UploadTest *t)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char            *url = g_strconcat (t->base_url, "/v1/sync-pieces", NULL);
  char                       *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  Dfly__V1__SyncPiecesRequest request = DFLY__V1__SYNC_PIECES_REQUEST__INIT;
  Child                      *child = g_new0 (Child, 1);
  Told                        held = { child, 1 };

  child->told = g_array_new (FALSE, FALSE, sizeof (guint32));
  msg = soup_message_new ("GET", url);
  soup_session_websocket_connect_async (t->session, msg, NULL, protocols, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, child);
  g_assert_true (role_test_wait (child_connected, child, WAIT_MS));
  dfly_wire_ws_setup (child->connection, 1 << 20);
  g_signal_connect (child->connection, "message", G_CALLBACK (on_told), child);
  request.task_id = TASK_ID;
  dfly_wire_ws_send (child->connection, DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
  g_assert_true (role_test_wait (told_of, &held, WAIT_MS));
  g_assert_cmpuint (g_array_index (child->told, guint32, 0), ==, 0);
  return child;
}

/* ---- requests ---- */

typedef struct {
  GBytes  *body;
  guint    status;
  GError  *error;
  gboolean done;
} Answer;

static gboolean
answered (gpointer data)
{
  return ((Answer *) data)->done;
}

static void
on_answer (GObject *session, GAsyncResult *result, gpointer user_data)
{
  Answer *answer = user_data;

  answer->body = soup_session_send_and_read_finish (SOUP_SESSION (session), result, &answer->error);
  answer->status = soup_message_get_status (
    soup_session_get_async_result_message (SOUP_SESSION (session), result));
  answer->done = TRUE;
}

/* msg sent on session; its status, and its body in *body if wanted. */
static guint
send (SoupSession *session, SoupMessage *msg, GBytes **body)
{
  Answer answer = { 0 };

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_answer, &answer);
  g_assert_true (role_test_wait (answered, &answer, WAIT_MS));
  g_assert_no_error (answer.error);
  if (body != NULL)
    *body = g_steal_pointer (&answer.body);
  g_clear_pointer (&answer.body, g_bytes_unref);
  return answer.status;
}

/* GET of piece n's bytes, as a child asks for them; checks the bytes of a 206. */
static guint
get_piece (UploadTest *t, SoupSession *session, const char *task_id, guint32 n)
{
  g_autofree char *url = g_strdup_printf ("%s/v1/tasks/%s", t->base_url, task_id);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) expected = g_bytes_new_from_bytes (t->content, n * PIECE, PIECE);
  guint status;

  soup_message_headers_set_range (soup_message_get_request_headers (msg), n * PIECE,
                                  (n + 1) * PIECE - 1);
  status = send (session, msg, &body);
  if (status == SOUP_STATUS_PARTIAL_CONTENT)
    g_assert_true (g_bytes_equal (body, expected));
  return status;
}

/* POST /v1/download-piece for piece n of task_id; checks the piece told
 * back with a 200. */
static guint
download_piece (UploadTest *t, const char *task_id, guint32 n)
{
  g_autofree char *url = g_strconcat (t->base_url, "/v1/download-piece", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  Dfly__V1__DownloadPieceRequest   request = DFLY__V1__DOWNLOAD_PIECE_REQUEST__INIT;
  Dfly__V1__DownloadPieceResponse *response;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = digest_of (t, n);
  guint            status;

  request.task_id = (char *) task_id;
  request.piece_number = n;
  frame = dfly_wire_pack (DFLY_MESSAGE_DOWNLOAD_PIECE_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  status = send (t->session, msg, &body);
  if (status != SOUP_STATUS_OK)
    return status;
  response = (Dfly__V1__DownloadPieceResponse *) dfly_wire_unpack (
    g_bytes_get_data (body, NULL), g_bytes_get_size (body), 1 << 20,
    DFLY_MESSAGE_DOWNLOAD_PIECE_RESPONSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response->piece);
  g_assert_cmpuint (response->piece->number, ==, n);
  g_assert_cmpuint (response->piece->offset, ==, n * PIECE);
  g_assert_cmpuint (response->piece->length, ==, PIECE);
  g_assert_cmpstr (response->piece->digest, ==, digest);
  protobuf_c_message_free_unpacked (&response->base, NULL);
  return status;
}

/* ---- the default policy ---- */

/* Every child hears of a new piece at once, and none of a piece before it
 * is committed. */
static void
test_default_announce (UploadTest *t, gconstpointer data)
{
  g_autoptr (Child) a = child_new (t);
  g_autoptr (Child) b = child_new (t);
  g_autoptr (Child) c = child_new (t);
  Told   told[] = { { a, 2 }, { b, 2 }, { c, 2 } };
  gint64 start = g_get_monotonic_time ();

  finish (t, 1);
  for (guint i = 0; i < G_N_ELEMENTS (told); i++) {
    g_assert_true (role_test_wait (told_of, &told[i], WAIT_MS));
    g_assert_cmpuint (g_array_index (told[i].child->told, guint32, 1), ==, 1);
  }
  /* None waited for a reveal. */
  g_assert_cmpint (MAX (a->last_at, MAX (b->last_at, c->last_at)) - start, <, LATER_US);
  role_test_wait (NULL, NULL, 100);
  g_assert_cmpuint (a->told->len + b->told->len + c->told->len, ==, 6);
}

/* Every range held is sent, as often as asked; others are 404. */
static void
test_default_ranges (UploadTest *t, gconstpointer data)
{
  g_autoptr (SoupSession) child = soup_session_new ();

  commit (t, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint (get_piece (t, child, TASK_ID, 0), ==, SOUP_STATUS_PARTIAL_CONTENT);
    g_assert_cmpuint (get_piece (t, child, TASK_ID, 3), ==, SOUP_STATUS_PARTIAL_CONTENT);
  }
  g_assert_cmpuint (get_piece (t, child, TASK_ID, 1), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (get_piece (t, child, OTHER_ID, 0), ==, SOUP_STATUS_NOT_FOUND);
}

/* ---- a policy of the role's ---- */

/* The first child hears of a piece at once, the others once the policy's
 * delay has passed, and the told one not twice; a deferred range is 429. */
static void
test_policy_reveal (UploadTest *t, gconstpointer data)
{
  g_autoptr (Child) first = child_new (t);
  g_autoptr (Child) second = child_new (t);
  g_autoptr (Child) third = child_new (t);
  g_autoptr (SoupSession) session = soup_session_new ();
  Told   now = { first, 2 };
  Told   later[] = { { second, 2 }, { third, 2 } };
  gint64 start = g_get_monotonic_time ();

  finish (t, 1);
  g_assert_true (role_test_wait (told_of, &now, WAIT_MS));
  g_assert_cmpuint (second->told->len + third->told->len, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (later); i++) {
    g_assert_true (role_test_wait (told_of, &later[i], WAIT_MS));
    g_assert_cmpint (later[i].child->last_at - start, >=, LATER_US);
  }
  role_test_wait (NULL, NULL, 200);
  g_assert_cmpuint (first->told->len, ==, 2);

  commit (t, 3);
  g_assert_cmpuint (get_piece (t, session, TASK_ID, 1), ==, SOUP_STATUS_PARTIAL_CONTENT);
  g_assert_cmpuint (get_piece (t, session, TASK_ID, 3), ==, 429);
  /* The slot the deferred range took is free again. */
  g_assert_cmpuint (dfly_upload_server_get_active (t->server), ==, 0);
}

/* A child gone before the reveal is not written to; the others still hear. */
static void
test_policy_gone (UploadTest *t, gconstpointer data)
{
  Child *first = child_new (t);
  g_autoptr (Child) second = child_new (t);
  Told later = { second, 2 };

  finish (t, 1);
  child_free (first);
  g_assert_true (role_test_wait (told_of, &later, WAIT_MS));
}

/* ---- the one-shot call ---- */

/* A held piece is told back; a piece not held, an unknown task and a path
 * that is no task id are 404. */
static void
test_download_piece (UploadTest *t, gconstpointer data)
{
  g_assert_cmpuint (download_piece (t, TASK_ID, 0), ==, SOUP_STATUS_OK);
  commit (t, 2);
  g_assert_cmpuint (download_piece (t, TASK_ID, 2), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (download_piece (t, TASK_ID, 1), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (download_piece (t, OTHER_ID, 0), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (download_piece (t, "../etc", 0), ==, SOUP_STATUS_NOT_FOUND);
}

/* POSTs an order for TASK_ID; the status, and Retry-After in *retry_after. */
static guint
order (UploadTest *t, char **retry_after)
{
  g_autofree char *url = g_strconcat (t->base_url, "/v1/download-task", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  Dfly__V1__DownloadTaskRequest request = DFLY__V1__DOWNLOAD_TASK_REQUEST__INIT;
  Dfly__V1__Download            download = DFLY__V1__DOWNLOAD__INIT;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) body = NULL;
  guint status;

  download.url = (char *) "http://origin.invalid/file";
  request.task_id = (char *) TASK_ID;
  request.download = &download;
  frame = dfly_wire_pack (DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST, &request.base);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", frame);
  status = send (t->session, msg, &body);
  *retry_after = g_strdup (
    soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After"));
  return status;
}

/* A seed whose order queue is full answers 503 (and says so once), not
 * 422: the scheduler may ask again later. */
static void
test_orders_busy (UploadTest *t, gconstpointer data)
{
  for (guint i = 0; i < ORDERS_TAKEN; i++) {
    g_autofree char *retry_after = NULL;

    g_assert_cmpuint (order (t, &retry_after), ==, SOUP_STATUS_ACCEPTED);
  }
  /* Each order is logged with its caller; the refusals once per 10 s. */
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_INFO, "order from 127.0.0.1: task *");
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_MESSAGE,
                         "refused 1 order(s) to fetch a task: 2 downloads wait already");
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_INFO, "order from 127.0.0.1: task *");
  g_test_expect_message ("dfly-engine", G_LOG_LEVEL_INFO, "order from 127.0.0.1: task *");
  for (guint i = 0; i < 3; i++) {
    g_autofree char *retry_after = NULL;

    g_assert_cmpuint (order (t, &retry_after), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
    g_assert_cmpstr (retry_after, ==, "1");
  }
  g_test_assert_expected_messages ();
  g_assert_cmpuint (t->orders, ==, ORDERS_TAKEN);
}

#define UPLOAD_TEST_ADD(path, setup, func) \
  g_test_add ((path), UploadTest, NULL, (setup), (func), teardown)

static gboolean
child_closed (gpointer data)
{
  return soup_websocket_connection_get_state (((Child *) data)->connection) ==
         SOUP_WEBSOCKET_STATE_CLOSED;
}

/* A child subscribes to the tasks it fetches here: one that asks for more
 * than 1024 (held or not, repeats counted once) has its stream closed. */
static void
test_subscription_cap (UploadTest *t, gconstpointer data)
{
  g_autoptr (Child) child = child_new (t);
  Dfly__V1__SyncPiecesRequest request = DFLY__V1__SYNC_PIECES_REQUEST__INIT;

  /* The same task again and again is one subscription. */
  request.task_id = TASK_ID;
  for (guint i = 0; i < 200; i++)
    dfly_wire_ws_send (child->connection, DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
  for (guint i = 1; i < 1024; i++) {
    g_autofree char *task_id = g_strdup_printf ("%064x", i);

    request.task_id = task_id;
    dfly_wire_ws_send (child->connection, DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
  }
  role_test_wait (NULL, NULL, 200);
  g_assert_false (child_closed (child));
  request.task_id = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
  dfly_wire_ws_send (child->connection, DFLY_MESSAGE_SYNC_PIECES_REQUEST, &request.base);
  g_assert_true (role_test_wait (child_closed, child, WAIT_MS));
  g_assert_cmpuint (soup_websocket_connection_get_close_code (child->connection), ==,
                    SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  UPLOAD_TEST_ADD ("/upload-server/default/announce", setup_default, test_default_announce);
  UPLOAD_TEST_ADD ("/upload-server/default/ranges", setup_default, test_default_ranges);
  UPLOAD_TEST_ADD ("/upload-server/policy/reveal", setup_later, test_policy_reveal);
  UPLOAD_TEST_ADD ("/upload-server/policy/gone", setup_later, test_policy_gone);
  UPLOAD_TEST_ADD ("/upload-server/orders-busy", setup_seed, test_orders_busy);
  UPLOAD_TEST_ADD ("/upload-server/download-piece", setup_default, test_download_piece);
  UPLOAD_TEST_ADD ("/upload-server/subscription-cap", setup_default, test_subscription_cap);
  return g_test_run ();
}
