/* test-schedule.c — DflySchedule behind a real DflySchedulerService
 *
 * The service listens on 127.0.0.1; the test speaks to it as peers would,
 * over real WebSocket streams and POSTs, with a hosts table of its own, and
 * checks the frames that come back. The trust tests stand in for the TLS
 * listener: they attach to each request, as it starts, the identity its
 * certificate would have proved.
 */
#include "config.h"

#include <string.h>

#include <dfly/dfly-identity.h>

#include "../dfly-role-test.h"
#include "dfly-scheduler-service.h"
#include "dfly-scheduler-settings.h"

/* The default scheduling algorithm, compiled in with its one exported
 * symbol renamed, as test-scheduler.c does. */
#define dfly_plugin_query default_plugin_query
#include "../../schedulers/default/dfly-parent-score.c"
#include "../../schedulers/default/dfly-parent-weights.c"
#include "../../schedulers/default/dfly-default-scheduler.c"
#undef dfly_plugin_query

#define WAIT_MS  10000 /* the bound on what must happen; generous for valgrind */
#define QUIET_MS 400   /* how long to watch for what must not happen */
#define MIB      (G_GUINT64_CONSTANT (1) << 20)

/* ---- the fixture: a context, a hosts table, the schedule and its service ---- */

typedef struct {
  RoleTest              base;  /* the context, and what its bus carried */
  GHashTable           *hosts; /* host id → DflyHostInfo */
  DflyScheduler        *algorithm;
  DflySchedule         *schedule;
  DflySchedulerService *service;
  SoupSession          *session;
  char                 *base_url;
  GPtrArray            *clients;  /* Client *, closed at teardown */
  DflyIdentity         *identity; /* what the next requests prove; NULL: plaintext */
} Fixture;

static DflyHostInfo *
hosts_lookup (const char *host_id, gpointer user_data)
{
  Fixture *f = user_data;

  return g_hash_table_lookup (f->hosts, host_id);
}

static GPtrArray *
hosts_list_seeds (gpointer user_data)
{
  Fixture       *f = user_data;
  GPtrArray     *seeds = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer       value;

  g_hash_table_iter_init (&iter, f->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    if (((DflyHostInfo *) value)->type != DFLY_HOST_TYPE_NORMAL)
      g_ptr_array_add (seeds, value);
  }
  return seeds;
}

static void
add_host (Fixture *f, const char *id, const char *ip, guint16 port, DflyHostType type)
{
  DflyHostInfo *host = dfly_host_info_new (id);

  host->ip = g_strdup (ip);
  host->port = port;
  host->type = type;
  host->hostname = g_strdup (id);
  g_hash_table_replace (f->hosts, host->id, host);
}

static DflyConfig *
config (Fixture *f)
{
  return dfly_context_get_config (f->base.context);
}

/* The role's settings, writable: the fixture's config is not shared. */
static DflySchedulerSettings *
scheduler_settings (Fixture *f)
{
  return (DflySchedulerSettings *) dfly_scheduler_settings_get (f->base.context);
}

static void client_free (gpointer data);

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  Fixture *f = data;

  if (f->identity != NULL)
    dfly_identity_attach_to_message (msg, f->identity);
}

/* The identity the next connections and POSTs prove, as the TLS listener
 * would attach it (host_id NULL: plaintext). */
static void
set_identity (Fixture *f, const char *host_id, DflyRoleFlags roles)
{
  g_clear_pointer (&f->identity, dfly_identity_unref);
  if (host_id != NULL)
    f->identity = dfly_identity_new (host_id, roles);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  DflyScheduleHosts hosts = { hosts_lookup, hosts_list_seeds, f };
  g_autoptr (GError) error = NULL;

  role_test_setup (&f->base, NULL);
  /* The role's and the algorithm's sections, as the loader binds them. */
  dfly_config_add_plugin (config (f), "scheduler", &dfly_scheduler_settings, &error);
  g_assert_no_error (error);
  dfly_config_add_plugin (config (f), "default", &dfly_default_settings, &error);
  g_assert_no_error (error);
  f->hosts =
    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dfly_host_info_unref);
  f->algorithm = g_object_new (default_plugin_query ()->get_type (), "context", f->base.context,
                               "name", "default", NULL);
  f->schedule = dfly_schedule_new (f->base.context, f->algorithm, &hosts);
  f->service = dfly_scheduler_service_new (f->base.context, f->schedule, &error);
  g_assert_no_error (error);
  /* Hosts announced over the protocol come out of the service. */
  g_signal_connect (f->service, "host-announced", G_CALLBACK (role_test_on_host_announced),
                    &f->base);
  g_signal_connect (f->service, "host-left", G_CALLBACK (role_test_on_host_left), &f->base);
  g_signal_connect (dfly_scheduler_service_get_server (f->service), "request-started",
                    G_CALLBACK (on_request_started), f);
  g_assert_cmpuint (dfly_scheduler_service_get_port (f->service), >, 0);
  f->base_url =
    dfly_wire_base_url ("127.0.0.1", dfly_scheduler_service_get_port (f->service), FALSE);
  f->session = soup_session_new_with_options ("timeout", 10, NULL);
  f->clients = g_ptr_array_new_with_free_func (client_free);
}

static gboolean
no_peers_left (gpointer data)
{
  return dfly_schedule_get_n_peers (((Fixture *) data)->schedule) == 0;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  /* Clients close their streams; the service sees every peer leave. */
  g_clear_pointer (&f->clients, g_ptr_array_unref);
  g_assert_true (role_test_wait (no_peers_left, f, WAIT_MS));
  g_assert_cmpuint (dfly_schedule_get_n_tasks (f->schedule), ==, 0);
  soup_session_abort (f->session);
  g_clear_object (&f->session);
  g_assert_finalize_object (f->service);
  g_assert_finalize_object (f->schedule);
  g_assert_finalize_object (f->algorithm);
  g_hash_table_unref (f->hosts);
  g_free (f->base_url);
  g_clear_pointer (&f->identity, dfly_identity_unref);
  /* Whatever closing left to dispatch. */
  role_test_wait (NULL, NULL, 50);
  role_test_teardown (&f->base, NULL);
}

#define FIXTURE_ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

/* ---- clients: announce streams as a peer's host opens them ---- */

typedef struct {
  SoupWebsocketConnection *ws;
  GPtrArray               *responses; /* every AnnouncePeerResponse received */
  gboolean                 closed;
} Client;

static void
on_client_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  Client *client = data;
  g_autoptr (GError) error = NULL;
  ProtobufCMessage *response;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_BINARY);
  response = dfly_wire_unpack (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                               4 * MIB, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (client->responses, response);
}

static void
on_client_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ((Client *) data)->closed = TRUE;
}

static gboolean
client_is_closed (gpointer data)
{
  return ((Client *) data)->closed;
}

static void
response_free (gpointer data)
{
  protobuf_c_message_free_unpacked (data, NULL);
}

static Client *
client_connect (Fixture *f)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/v1/announce-peer",
                                          dfly_scheduler_service_get_port (f->service));
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  char *protocols[] = { (char *) DFLY_WIRE_WS_PROTOCOL, NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  Client *client = g_new0 (Client, 1);

  soup_session_websocket_connect_async (f->session, msg, NULL, protocols, G_PRIORITY_DEFAULT, NULL,
                                        role_test_on_result, &result);
  g_assert_true (role_test_wait (role_test_result_ready, &result, WAIT_MS));
  client->ws = soup_session_websocket_connect_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (client->ws), ==, DFLY_WIRE_WS_PROTOCOL);
  client->responses = g_ptr_array_new_with_free_func (response_free);
  g_signal_connect (client->ws, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (client->ws, "closed", G_CALLBACK (on_client_closed), client);
  g_ptr_array_add (f->clients, client);
  return client;
}

/* Closes the stream from the client's side and waits for it to be closed. */
static void
client_close (Client *client)
{
  if (soup_websocket_connection_get_state (client->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (role_test_wait (client_is_closed, client, WAIT_MS));
}

static void
client_free (gpointer data)
{
  Client *client = data;

  client_close (client);
  g_signal_handlers_disconnect_by_data (client->ws, client);
  g_object_unref (client->ws);
  g_ptr_array_unref (client->responses);
  g_free (client);
}

/* ---- peers: who says what on which stream ---- */

typedef struct {
  Client     *client;
  const char *host_id;
  const char *task_id;
  const char *peer_id;
} TestPeer;

/* A valid task id (64 lowercase hex) made from a name. */
static char *
task_id_new (const char *name)
{
  char *id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, -1);

  g_assert_true (dfly_task_id_is_valid (id));
  return id;
}

static void
announce (TestPeer *peer, Dfly__V1__AnnouncePeerRequest *request)
{
  request->host_id = (char *) peer->host_id;
  request->task_id = (char *) peer->task_id;
  request->peer_id = (char *) peer->peer_id;
  dfly_wire_ws_send (peer->client->ws, DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request->base);
}

static void
peer_register (TestPeer *peer, gboolean need_back_to_source)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest reg = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download            download = DFLY__V1__DOWNLOAD__INIT;

  download.url = "http://origin.test/file.bin";
  download.tag = "tag";
  download.need_back_to_source = need_back_to_source;
  reg.download = &download;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
  request.register_peer = &reg;
  announce (peer, &request);
}

static void
peer_started (TestPeer *peer)
{
  Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerStartedRequest started = DFLY__V1__DOWNLOAD_PEER_STARTED_REQUEST__INIT;

  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_STARTED;
  request.download_peer_started = &started;
  announce (peer, &request);
}

static void
peer_b2s_started (TestPeer *peer, gint64 content_length, guint64 piece_length)
{
  Dfly__V1__AnnouncePeerRequest                    request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceStartedRequest started =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED_REQUEST__INIT;

  started.content_length = content_length;
  started.piece_length = piece_length;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED;
  request.download_peer_back_to_source_started = &started;
  announce (peer, &request);
}

static void
peer_b2s_failed (TestPeer *peer)
{
  Dfly__V1__AnnouncePeerRequest                   request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFailedRequest failed =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED_REQUEST__INIT;

  failed.description = "origin said 500";
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED;
  request.download_peer_back_to_source_failed = &failed;
  announce (peer, &request);
}

static void
peer_b2s_finished (TestPeer *peer, guint64 content_length)
{
  Dfly__V1__AnnouncePeerRequest                     request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFinishedRequest finished =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;

  finished.content_length = content_length;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED;
  request.download_peer_back_to_source_finished = &finished;
  announce (peer, &request);
}

static void
fill_piece (Dfly__V1__Piece *piece, guint32 number, const char *parent_id, const char *digest)
{
  piece->number = number;
  piece->parent_id = (char *) parent_id;
  piece->offset = number * 4 * MIB;
  piece->length = 4 * MIB;
  piece->digest = (char *) digest;
  piece->cost_us = 1000;
}

static void
peer_b2s_piece (TestPeer *peer, guint32 number, const char *digest)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceBackToSourceFinishedRequest finished =
    DFLY__V1__DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__Piece piece = DFLY__V1__PIECE__INIT;

  fill_piece (&piece, number, "", digest);
  finished.piece = &piece;
  request.request_case =
    DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED;
  request.download_piece_back_to_source_finished = &finished;
  announce (peer, &request);
}

static void
peer_piece (TestPeer *peer, guint32 number, const char *parent_id, const char *digest)
{
  Dfly__V1__AnnouncePeerRequest          request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceFinishedRequest finished = DFLY__V1__DOWNLOAD_PIECE_FINISHED_REQUEST__INIT;
  Dfly__V1__Piece                        piece = DFLY__V1__PIECE__INIT;

  fill_piece (&piece, number, parent_id, digest);
  finished.piece = &piece;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FINISHED;
  request.download_piece_finished = &finished;
  announce (peer, &request);
}

static void
peer_piece_failed (TestPeer *peer, guint32 number, const char *parent_id, gboolean mismatch)
{
  Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__DownloadPieceFailedRequest failed = DFLY__V1__DOWNLOAD_PIECE_FAILED_REQUEST__INIT;

  failed.piece_number = number;
  failed.parent_id = (char *) parent_id;
  failed.digest_mismatch = mismatch;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED;
  request.download_piece_failed = &failed;
  announce (peer, &request);
}

/* Asks for parents again, naming n that failed. */
static void
peer_reschedule_without (TestPeer *peer, char **failed_parent_ids, gsize n)
{
  Dfly__V1__AnnouncePeerRequest   request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__ReschedulePeerRequest reschedule = DFLY__V1__RESCHEDULE_PEER_REQUEST__INIT;

  reschedule.description = "want more parents";
  reschedule.failed_parent_ids = failed_parent_ids;
  reschedule.n_failed_parent_ids = n;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_RESCHEDULE_PEER;
  request.reschedule_peer = &reschedule;
  announce (peer, &request);
}

static void
peer_reschedule (TestPeer *peer)
{
  peer_reschedule_without (peer, NULL, 0);
}

/* ---- what peers were told ---- */

/* The responses for peer, in order, borrowed. */
static GPtrArray *
responses_of (TestPeer *peer)
{
  GPtrArray *mine = g_ptr_array_new ();

  for (guint i = 0; i < peer->client->responses->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (peer->client->responses, i);

    if (g_strcmp0 (response->peer_id, peer->peer_id) == 0)
      g_ptr_array_add (mine, response);
  }
  return mine;
}

static guint
n_responses (TestPeer *peer)
{
  g_autoptr (GPtrArray) mine = responses_of (peer);

  return mine->len;
}

static Dfly__V1__AnnouncePeerResponse *
last_response (TestPeer *peer)
{
  g_autoptr (GPtrArray) mine = responses_of (peer);

  g_assert_cmpuint (mine->len, >, 0);
  return g_ptr_array_index (mine, mine->len - 1);
}

typedef struct {
  TestPeer *peer;
  guint     n;
} Count;

static gboolean
has_responses (gpointer data)
{
  Count *count = data;

  return n_responses (count->peer) >= count->n;
}

/* Waits until peer has been told n things in all, and returns the last. */
static Dfly__V1__AnnouncePeerResponse *
wait_response (TestPeer *peer, guint n)
{
  Count count = { peer, n };

  g_assert_true (role_test_wait (has_responses, &count, WAIT_MS));
  g_assert_cmpuint (n_responses (peer), ==, n);
  return last_response (peer);
}

/* Watches for a while: peer is told nothing more than the n it had. */
static void
assert_quiet (TestPeer *peer, guint n)
{
  role_test_wait (NULL, NULL, QUIET_MS);
  g_assert_cmpuint (n_responses (peer), ==, n);
}

static void
assert_ids (Dfly__V1__AnnouncePeerResponse *response, TestPeer *peer)
{
  g_assert_cmpstr (response->task_id, ==, peer->task_id);
  g_assert_cmpstr (response->peer_id, ==, peer->peer_id);
}

static void
assert_back_to_source (Dfly__V1__AnnouncePeerResponse *response, TestPeer *peer)
{
  assert_ids (response, peer);
  g_assert_cmpint (response->response_case, ==,
                   DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NEED_BACK_TO_SOURCE);
  g_assert_nonnull (response->need_back_to_source->description);
}

static Dfly__V1__NormalTaskResponse *
assert_normal (Dfly__V1__AnnouncePeerResponse *response, TestPeer *peer)
{
  assert_ids (response, peer);
  g_assert_cmpint (response->response_case, ==,
                   DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK);
  return response->normal_task;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The candidates' peer ids, sorted, joined by spaces. */
static char *
candidates_of (Dfly__V1__NormalTaskResponse *normal)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();

  for (gsize i = 0; i < normal->n_candidate_parents; i++)
    g_ptr_array_add (ids, normal->candidate_parents[i]->peer_id);
  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);
  return g_strjoinv (" ", (char **) ids->pdata);
}

static Dfly__V1__CandidateParent *
find_candidate (Dfly__V1__NormalTaskResponse *normal, const char *peer_id)
{
  for (gsize i = 0; i < normal->n_candidate_parents; i++) {
    if (g_strcmp0 (normal->candidate_parents[i]->peer_id, peer_id) == 0)
      return normal->candidate_parents[i];
  }
  return NULL;
}

static gint
compare_numbers (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* Every digest peer was sent over all its normal responses, as
 * "n=digest …" by number; fails if one was sent twice. */
static char *
digests_of (TestPeer *peer)
{
  g_autoptr (GPtrArray) mine = responses_of (peer);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < mine->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (mine, i);

    if (response->response_case != DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK)
      continue;
    for (gsize j = 0; j < response->normal_task->n_piece_digests; j++) {
      Dfly__V1__PieceDigest *digest = response->normal_task->piece_digests[j];

      if (!g_hash_table_insert (seen, GUINT_TO_POINTER (digest->number), digest->digest))
        g_error ("digest of piece %u sent twice to %s", digest->number, peer->peer_id);
      g_array_append_val (numbers, digest->number);
    }
  }
  g_array_sort (numbers, compare_numbers);
  for (guint i = 0; i < numbers->len; i++) {
    guint32 number = g_array_index (numbers, guint32, i);

    g_string_append_printf (text, "%s%u=%s", i > 0 ? " " : "", number,
                            (char *) g_hash_table_lookup (seen, GUINT_TO_POINTER (number)));
  }
  return g_strdup (text->str);
}

typedef struct {
  TestPeer   *peer;
  const char *expected;
} DigestsAre;

static gboolean
digests_are (gpointer data)
{
  DigestsAre      *wanted = data;
  g_autofree char *digests = digests_of (wanted->peer);

  return strcmp (digests, wanted->expected) == 0;
}

static void
wait_digests (TestPeer *peer, const char *expected)
{
  DigestsAre       wanted = { peer, expected };
  g_autofree char *digests = NULL;

  role_test_wait (digests_are, &wanted, WAIT_MS);
  digests = digests_of (peer);
  g_assert_cmpstr (digests, ==, expected);
}

typedef struct {
  TestPeer   *peer;
  const char *candidate;
} Offered;

static gboolean
was_offered (gpointer data)
{
  Offered *offered = data;
  g_autoptr (GPtrArray) mine = responses_of (offered->peer);

  for (guint i = 0; i < mine->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (mine, i);

    if (response->response_case == DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK &&
        find_candidate (response->normal_task, offered->candidate) != NULL)
      return TRUE;
  }
  return FALSE;
}

typedef struct {
  Fixture *f;
  guint    peers;
  guint    tasks;
} Sizes;

static gboolean
sizes_are (gpointer data)
{
  Sizes *sizes = data;

  return dfly_schedule_get_n_peers (sizes->f->schedule) == sizes->peers &&
         dfly_schedule_get_n_tasks (sizes->f->schedule) == sizes->tasks;
}

static void
wait_sizes (Fixture *f, guint peers, guint tasks)
{
  Sizes sizes = { f, peers, tasks };

  role_test_wait (sizes_are, &sizes, WAIT_MS);
  g_assert_cmpuint (dfly_schedule_get_n_peers (f->schedule), ==, peers);
  g_assert_cmpuint (dfly_schedule_get_n_tasks (f->schedule), ==, tasks);
}

/* ---- (a) seed hosts ---- */

/* A peer on a seed host goes to the source at once, and is not counted
 * against back_to_source_limit; normal peers are. */
static void
test_seed_back_to_source (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("seed");
  Client          *seed_client = client_connect (f);
  Client          *client = client_connect (f);
  TestPeer         seed = { seed_client, "127.0.0.5-seed", task, "127.0.0.5-seed-1" };
  TestPeer         asks = { client, "127.0.0.6-n", task, "127.0.0.6-n-1" };
  TestPeer         later = { client, "127.0.0.7-m", task, "127.0.0.7-m-1" };

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, seed.host_id, "127.0.0.5", 4005, DFLY_HOST_TYPE_SUPER);
  add_host (f, asks.host_id, "127.0.0.6", 4006, DFLY_HOST_TYPE_NORMAL);
  add_host (f, later.host_id, "127.0.0.7", 4007, DFLY_HOST_TYPE_NORMAL);

  peer_register (&seed, FALSE);
  assert_back_to_source (wait_response (&seed, 1), &seed);
  g_assert_cmpstr (last_response (&seed)->need_back_to_source->description, ==, "seed peer");
  wait_sizes (f, 1, 1);

  /* The seed took no place: a normal peer asking for the source gets it … */
  peer_register (&asks, TRUE);
  assert_back_to_source (wait_response (&asks, 1), &asks);
  /* … and with that the limit of one is reached. */
  peer_register (&later, TRUE);
  assert_quiet (&later, 0);
  assert_quiet (&seed, 1);
  wait_sizes (f, 3, 1);
}

/* ---- (b) back to source, digests and pushes ---- */

/* The scheduler cluster's candidate_parent_limit (set from the manager)
 * caps the parents a child is offered; 0 gives the settings' number back. */
static void
test_candidate_limit (Fixture *f, gconstpointer data)
{
  g_autofree char              *task = task_id_new ("limit");
  Client                       *client_a = client_connect (f);
  Client                       *client_b = client_connect (f);
  Client                       *client_c = client_connect (f);
  TestPeer                      a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer                      b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  TestPeer                      c = { client_c, "127.0.0.4-c", task, "127.0.0.4-c-1" };
  Dfly__V1__NormalTaskResponse *normal;
  guint                         n;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);
  dfly_schedule_set_candidate_limit (f->schedule, 1);

  /* a fetches from the source, b holds a piece from a: two possible parents. */
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&b, FALSE);
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 0, "crc32c:0000000a");
  peer_b2s_piece (&a, 1, "crc32c:0000000b");
  wait_digests (&b, "0=crc32c:0000000a 1=crc32c:0000000b");
  peer_started (&b);
  peer_piece (&b, 0, a.peer_id, "crc32c:0000000a");
  peer_register (&c, FALSE);
  normal = assert_normal (wait_response (&c, 1), &c);
  g_assert_cmpuint (normal->n_candidate_parents, ==, 1);

  /* Without the cluster's limit, the settings' 8: both parents. */
  dfly_schedule_set_candidate_limit (f->schedule, 0);
  n = n_responses (&c);
  peer_b2s_piece (&a, 2, "crc32c:0000000c");
  normal = assert_normal (wait_response (&c, n + 1), &c);
  g_assert_cmpuint (normal->n_candidate_parents, ==, 2);
}

static void
test_back_to_source_digests (Fixture *f, gconstpointer data)
{
  g_autofree char   *task = task_id_new ("digests");
  Client            *client_a = client_connect (f);
  Client            *client_b = client_connect (f);
  TestPeer           a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer           b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  static const char *digests[] = { "crc32c:0000000a", "crc32c:0000000b", "crc32c:0000000c",
                                   "crc32c:0000000d" };
  Dfly__V1__NormalTaskResponse *normal;
  Dfly__V1__CandidateParent    *parent;
  guint                         n;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);

  /* No seed host: the first peer goes to the source, the second waits. */
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&b, FALSE);
  assert_quiet (&b, 0);

  /* The source peer says what the origin said, and its first pieces. */
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  for (guint32 i = 0; i < 3; i++)
    peer_b2s_piece (&a, i, digests[i]);
  wait_digests (&b, "0=crc32c:0000000a 1=crc32c:0000000b 2=crc32c:0000000c");
  normal = assert_normal (last_response (&b), &b);
  g_assert_cmpuint (normal->n_candidate_parents, ==, 1);
  parent = normal->candidate_parents[0];
  g_assert_cmpstr (parent->peer_id, ==, a.peer_id);
  g_assert_nonnull (parent->host);
  g_assert_cmpstr (parent->host->id, ==, a.host_id);
  g_assert_cmpstr (parent->host->ip, ==, "127.0.0.2");
  g_assert_cmpuint (parent->host->port, ==, 4002);
  g_assert_cmpint (parent->host->type, ==, DFLY__V1__HOST_TYPE__HOST_TYPE_NORMAL);
  g_assert_cmpmem (parent->piece_bitmap.data, parent->piece_bitmap.len, "\x07", 1);
  g_assert_cmpuint (normal->content_length, ==, 16 * MIB);
  g_assert_cmpuint (normal->piece_length, ==, 4 * MIB);
  g_assert_cmpuint (normal->piece_count, ==, 4);
  n = n_responses (&b);

  /* A later piece is pushed with only its own digest. */
  peer_b2s_piece (&a, 3, digests[3]);
  normal = assert_normal (wait_response (&b, n + 1), &b);
  g_assert_cmpuint (normal->n_piece_digests, ==, 1);
  g_assert_cmpuint (normal->piece_digests[0]->number, ==, 3);
  g_assert_cmpstr (normal->piece_digests[0]->digest, ==, digests[3]);
  parent = find_candidate (normal, a.peer_id);
  g_assert_nonnull (parent);
  g_assert_cmpmem (parent->piece_bitmap.data, parent->piece_bitmap.len, "\x0f", 1);

  /* Nothing more is said: not to the child, and never to the source peer. */
  assert_quiet (&b, n + 1);
  assert_quiet (&a, 1);
}

/* ---- (c) empty content ---- */

static void
test_empty (Fixture *f, gconstpointer data)
{
  g_autofree char                *task = task_id_new ("empty");
  Client                         *client_a = client_connect (f);
  Client                         *client_b = client_connect (f);
  TestPeer                        a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer                        b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  TestPeer                        c = { client_b, "127.0.0.4-c", task, "127.0.0.4-c-1" };
  Dfly__V1__AnnouncePeerResponse *response;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);

  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&b, FALSE);
  assert_quiet (&b, 0);

  /* The origin has nothing: the waiting child is told so, and so is the next. */
  peer_b2s_started (&a, 0, 4 * MIB);
  response = wait_response (&b, 1);
  assert_ids (response, &b);
  g_assert_cmpint (response->response_case, ==,
                   DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_EMPTY_TASK);
  peer_register (&c, FALSE);
  response = wait_response (&c, 1);
  assert_ids (response, &c);
  g_assert_cmpint (response->response_case, ==,
                   DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_EMPTY_TASK);
  assert_quiet (&b, 1);
}

/* ---- (d) a parent that served bad bytes ---- */

static gboolean
offers (TestPeer *peer, guint from, const char *candidate)
{
  g_autoptr (GPtrArray) mine = responses_of (peer);

  for (guint i = from; i < mine->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (mine, i);

    if (response->response_case == DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK &&
        find_candidate (response->normal_task, candidate) != NULL)
      return TRUE;
  }
  return FALSE;
}

static void
test_digest_mismatch (Fixture *f, gconstpointer data)
{
  g_autofree char              *task = task_id_new ("mismatch");
  Client                       *client_a = client_connect (f);
  Client                       *client_p = client_connect (f);
  Client                       *client_c = client_connect (f);
  TestPeer                      a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer                      p = { client_p, "127.0.0.3-p", task, "127.0.0.3-p-1" };
  TestPeer                      c = { client_c, "127.0.0.4-c", task, "127.0.0.4-c-1" };
  TestPeer                      d = { client_c, "127.0.0.5-d", task, "127.0.0.5-d-1" };
  TestPeer                      e = { client_c, "127.0.0.6-e", task, "127.0.0.6-e-1" };
  TestPeer                      g = { client_c, "127.0.0.7-g", task, "127.0.0.7-g-1" };
  Offered                       c_offered_p = { &c, p.peer_id };
  Offered                       d_offered_p = { &d, p.peer_id };
  Dfly__V1__NormalTaskResponse *normal;
  g_autofree char              *candidates = NULL;
  guint                         n, n_d;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, p.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);
  add_host (f, d.host_id, "127.0.0.5", 4005, DFLY_HOST_TYPE_NORMAL);
  add_host (f, e.host_id, "127.0.0.6", 4006, DFLY_HOST_TYPE_NORMAL);
  add_host (f, g.host_id, "127.0.0.7", 4007, DFLY_HOST_TYPE_NORMAL);

  /* a fetches from the source; p takes a piece from a and so is a parent too. */
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 0, "crc32c:0000000a");
  peer_register (&p, FALSE);
  normal = assert_normal (wait_response (&p, 1), &p);
  candidates = candidates_of (normal);
  g_assert_cmpstr (candidates, ==, a.peer_id);
  g_clear_pointer (&candidates, g_free);
  peer_started (&p);
  peer_piece (&p, 0, a.peer_id, "crc32c:0000000a");

  /* c is offered both. */
  peer_register (&c, FALSE);
  g_assert_true (role_test_wait (was_offered, &c_offered_p, WAIT_MS));
  g_assert_true (offers (&c, 0, a.peer_id));

  /* p served c bad bytes: c's next parents leave p out. One child alone
   * cannot ban a parent for all: d, new, is still offered p. */
  n = n_responses (&c);
  peer_piece_failed (&c, 0, p.peer_id, TRUE);
  peer_reschedule (&c);
  normal = assert_normal (wait_response (&c, n + 1), &c);
  candidates = candidates_of (normal);
  g_assert_cmpstr (candidates, ==, a.peer_id);
  g_clear_pointer (&candidates, g_free);
  peer_register (&d, FALSE);
  g_assert_true (role_test_wait (was_offered, &d_offered_p, WAIT_MS));

  /* d catches p lying too: a second child, so p is offered to no one. */
  n_d = n_responses (&d);
  peer_piece_failed (&d, 0, p.peer_id, TRUE);
  peer_reschedule (&d);
  normal = assert_normal (wait_response (&d, n_d + 1), &d);
  candidates = candidates_of (normal);
  g_assert_cmpstr (candidates, ==, a.peer_id);
  g_clear_pointer (&candidates, g_free);
  peer_register (&e, FALSE);
  normal = assert_normal (wait_response (&e, 1), &e);
  candidates = candidates_of (normal);
  g_assert_cmpstr (candidates, ==, a.peer_id);

  /* Later news (a new piece, p's progress, another reschedule) still never offer p. */
  peer_piece (&p, 1, a.peer_id, "crc32c:0000000b");
  peer_b2s_piece (&a, 1, "crc32c:0000000b");
  wait_digests (&c, "0=crc32c:0000000a 1=crc32c:0000000b");
  wait_digests (&e, "0=crc32c:0000000a 1=crc32c:0000000b");
  peer_reschedule (&c);
  wait_response (&c, n_responses (&c) + 1);
  assert_quiet (&c, n_responses (&c));
  g_assert_false (offers (&c, n, p.peer_id));
  g_assert_false (offers (&d, n_d, p.peer_id));
  g_assert_false (offers (&e, 0, p.peer_id));

  /* The source peer's digests are the reference: children accusing it
   * ban it for themselves only; a new child is still offered it. */
  peer_piece_failed (&c, 1, a.peer_id, TRUE);
  peer_piece_failed (&d, 1, a.peer_id, TRUE);
  peer_piece_failed (&e, 1, a.peer_id, TRUE);
  peer_register (&g, FALSE);
  normal = assert_normal (wait_response (&g, 1), &g);
  g_assert_nonnull (find_candidate (normal, a.peer_id));
}

/* The checks of a piece peer (an accused parent) was asked for, with the
 * reference digest it was sent. */
static guint
n_checks (TestPeer *peer, guint32 number, const char *digest)
{
  g_autoptr (GPtrArray) mine = responses_of (peer);
  guint count = 0;

  for (guint i = 0; i < mine->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (mine, i);

    if (response->response_case == DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_CHECK_PIECE &&
        response->check_piece->piece_number == number &&
        g_strcmp0 (response->check_piece->digest, digest) == 0)
      count++;
  }
  return count;
}

typedef struct {
  TestPeer   *peer;
  guint32     number;
  const char *digest;
} CheckAsked;

static gboolean
was_asked_to_check (gpointer data)
{
  CheckAsked *asked = data;

  return n_checks (asked->peer, asked->number, asked->digest) > 0;
}

static void
peer_piece_checked (TestPeer *peer, guint32 number, gboolean intact)
{
  Dfly__V1__AnnouncePeerRequest request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__PieceCheckedRequest checked = DFLY__V1__PIECE_CHECKED_REQUEST__INIT;

  checked.piece_number = number;
  checked.intact = intact;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_PIECE_CHECKED;
  request.piece_checked = &checked;
  announce (peer, &request);
}

/* Waits for peer's first answer, and returns it. */
static Dfly__V1__AnnouncePeerResponse *
first_answer (TestPeer *peer)
{
  Count count = { peer, 1 };
  g_autoptr (GPtrArray) mine = NULL;

  g_assert_true (role_test_wait (has_responses, &count, WAIT_MS));
  mine = responses_of (peer);
  return g_ptr_array_index (mine, 0);
}

/* A new child on its own host: whether it is offered parent at first, and
 * with which of pieces 0 and 1 ("01", "0-", ...). */
static char *
new_child_sees (Fixture *f, TestPeer *child, const char *ip, guint port, TestPeer *parent)
{
  Dfly__V1__NormalTaskResponse *normal;
  Dfly__V1__CandidateParent    *candidate;
  GByteArray                    bits = { 0 };

  add_host (f, child->host_id, ip, port, DFLY_HOST_TYPE_NORMAL);
  peer_register (child, FALSE);
  normal = assert_normal (first_answer (child), child);
  candidate = find_candidate (normal, parent->peer_id);
  if (candidate == NULL)
    return g_strdup ("not offered");
  bits.data = candidate->piece_bitmap.data;
  bits.len = candidate->piece_bitmap.len;
  return g_strdup_printf ("%c%c", dfly_wire_bitmap_get (&bits, 0) ? '0' : '-',
                          dfly_wire_bitmap_get (&bits, 1) ? '1' : '-');
}

/* Accusations: one per host; the accused parent is asked to read the piece
 * back with the reference digest; its answer "intact" clears it (and later
 * accusations of that piece), "bad" takes the piece off what it is offered
 * for; while two hosts' accusations stand unanswered it is offered to no one. */
static void
test_accusations (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("accusations");
  Client          *client_a = client_connect (f);
  Client          *client_p = client_connect (f);
  Client          *client_x = client_connect (f);
  TestPeer         a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         p = { client_p, "127.0.0.3-p", task, "127.0.0.3-p-1" };
  TestPeer         c = { client_x, "127.0.0.4-c", task, "127.0.0.4-c-1" };
  TestPeer         d = { client_x, "127.0.0.5-d", task, "127.0.0.5-d-1" };
  TestPeer         e = { client_x, "127.0.0.6-e", task, "127.0.0.6-e-1" };
  TestPeer         g = { client_x, "127.0.0.7-g", task, "127.0.0.7-g-1" };
  TestPeer         h = { client_x, "127.0.0.8-h", task, "127.0.0.8-h-1" };
  TestPeer         i1 = { client_x, "127.0.0.9-i", task, "127.0.0.9-i-1" };
  TestPeer         i2 = { client_x, "127.0.0.9-i", task, "127.0.0.9-i-2" };
  TestPeer         j = { client_x, "127.0.0.10-j", task, "127.0.0.10-j-1" };
  TestPeer         k = { client_x, "127.0.0.11-k", task, "127.0.0.11-k-1" };
  CheckAsked       check_0 = { &p, 0, "crc32c:0000000a" };
  CheckAsked       check_1 = { &p, 1, "crc32c:0000000b" };
  Offered          e_offered_p = { &e, p.peer_id };
  g_autofree char *seen_e = NULL, *seen_h = NULL, *seen_j = NULL, *seen_k = NULL;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, p.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);
  add_host (f, d.host_id, "127.0.0.5", 4005, DFLY_HOST_TYPE_NORMAL);
  add_host (f, g.host_id, "127.0.0.7", 4007, DFLY_HOST_TYPE_NORMAL);
  add_host (f, i1.host_id, "127.0.0.9", 4009, DFLY_HOST_TYPE_NORMAL);

  /* a fetches from the source; p takes pieces 0 and 1 from a. */
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 0, "crc32c:0000000a");
  peer_b2s_piece (&a, 1, "crc32c:0000000b");
  peer_register (&p, FALSE);
  assert_normal (wait_response (&p, 1), &p);
  peer_started (&p);
  peer_piece (&p, 0, a.peer_id, "crc32c:0000000a");
  peer_piece (&p, 1, a.peer_id, "crc32c:0000000b");

  /* Two hosts accuse p of piece 0: it is asked once to read it back, with
   * the reference digest, and is offered to no one until it answers. */
  peer_register (&c, FALSE);
  peer_register (&d, FALSE);
  first_answer (&c);
  first_answer (&d);
  peer_piece_failed (&c, 0, p.peer_id, TRUE);
  peer_piece_failed (&d, 0, p.peer_id, TRUE);
  g_assert_true (role_test_wait (was_asked_to_check, &check_0, WAIT_MS));
  seen_e = new_child_sees (f, &e, "127.0.0.6", 4006, &p);
  g_assert_cmpstr (seen_e, ==, "not offered");
  g_assert_cmpuint (n_checks (&p, 0, "crc32c:0000000a"), ==, 1);

  /* It read piece 0 back intact: the accusations go, it is offered again. */
  peer_piece_checked (&p, 0, TRUE);
  peer_reschedule (&e);
  g_assert_true (role_test_wait (was_offered, &e_offered_p, WAIT_MS));

  /* A later accusation of the same piece is dismissed without a check. */
  peer_register (&g, FALSE);
  first_answer (&g);
  peer_piece_failed (&g, 0, p.peer_id, TRUE);
  seen_h = new_child_sees (f, &h, "127.0.0.8", 4008, &p);
  g_assert_cmpstr (seen_h, ==, "01");
  g_assert_cmpuint (n_checks (&p, 0, "crc32c:0000000a"), ==, 1);

  /* Two peers of one host are one accuser: p is still offered. */
  peer_register (&i1, FALSE);
  peer_register (&i2, FALSE);
  first_answer (&i1);
  first_answer (&i2);
  peer_piece_failed (&i1, 1, p.peer_id, TRUE);
  peer_piece_failed (&i2, 1, p.peer_id, TRUE);
  g_assert_true (role_test_wait (was_asked_to_check, &check_1, WAIT_MS));
  seen_j = new_child_sees (f, &j, "127.0.0.10", 4010, &p);
  g_assert_cmpstr (seen_j, ==, "01");

  /* Piece 1 read back bad (bit rot): p dropped it and is offered without it. */
  peer_piece_checked (&p, 1, FALSE);
  /* An answer nobody asked for changes nothing. */
  peer_piece_checked (&p, 0, FALSE);
  role_test_wait (NULL, NULL, QUIET_MS);
  seen_k = new_child_sees (f, &k, "127.0.0.11", 4011, &p);
  g_assert_cmpstr (seen_k, ==, "0-");
}

/* ---- (e) back-to-source reports from a peer not sent there ---- */

static void
test_unasked_source (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("unasked");
  Client          *client_a = client_connect (f);
  Client          *client_b = client_connect (f);
  TestPeer         a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  TestPeer         c = { client_b, "127.0.0.4-c", task, "127.0.0.4-c-1" };
  Dfly__V1__Task  *stat;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);

  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&b, FALSE);
  peer_register (&c, FALSE);

  /* b was told to wait, yet claims the source and reports a piece: its
   * length and digest are not believed. */
  peer_b2s_started (&b, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&b, 0, "crc32c:baaaaaad");
  peer_b2s_piece (&b, 2, "crc32c:baaaaaad");
  assert_quiet (&b, 0);
  assert_quiet (&c, 0);
  stat = dfly_schedule_stat_task (f->schedule, task);
  g_assert_cmpint (stat->content_length, ==, -1);
  dfly_schedule_free_task_message (stat);

  /* The real source peer's reports are. */
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 1, "crc32c:00000001");
  wait_digests (&c, "1=crc32c:00000001");
  wait_digests (&b, "1=crc32c:00000001");
  peer_b2s_piece (&a, 0, "crc32c:00000000");
  wait_digests (&c, "0=crc32c:00000000 1=crc32c:00000001");
  wait_digests (&b, "0=crc32c:00000000 1=crc32c:00000001");
  /* b's claim of piece 2 brings no digest for it. */
  peer_b2s_piece (&b, 2, "crc32c:baaaaaad");
  role_test_wait (NULL, NULL, QUIET_MS);
  wait_digests (&c, "0=crc32c:00000000 1=crc32c:00000001");
}

/* ---- (f) hostile frames ---- */

static void
assert_closed_with (Client *client, gushort code)
{
  g_assert_true (role_test_wait (client_is_closed, client, WAIT_MS));
  g_assert_cmpuint (soup_websocket_connection_get_close_code (client->ws), ==, code);
}

/* Messages that end the stream they came on, each on a stream of its own. */
static void
send_junk (Client *client, const char *task_id)
{
  static const guint8 junk[] = { 0, 0, 0, 3, 0xff, 0xff, 0xff };

  soup_websocket_connection_send_binary (client->ws, junk, sizeof junk);
}

static void
send_text (Client *client, const char *task_id)
{
  soup_websocket_connection_send_text (client->ws, "{\"register\": true}");
}

/* A frame of a type a peer does not send. */
static void
send_wrong_type (Client *client, const char *task_id)
{
  Dfly__V1__AnnouncePeerResponse response = DFLY__V1__ANNOUNCE_PEER_RESPONSE__INIT;
  g_autoptr (GBytes) frame = NULL;

  response.task_id = (char *) task_id;
  response.peer_id = "whoever";
  frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, &response.base);
  soup_websocket_connection_send_message (client->ws, SOUP_WEBSOCKET_DATA_BINARY, frame);
}

static const struct {
  const char *what;
  void (*send) (Client *client, const char *task_id);
  gushort close_code;
} closing_messages[] = {
  { "bytes that are no frame", send_junk, SOUP_WEBSOCKET_CLOSE_BAD_DATA },
  { "a text message", send_text, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA },
  { "a response frame", send_wrong_type, SOUP_WEBSOCKET_CLOSE_BAD_DATA },
};

static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autofree char   *task_x = task_id_new ("hostile-x");
  g_autofree char   *task_z = task_id_new ("hostile-z");
  Client            *good = client_connect (f);
  Client            *garbage = client_connect (f);
  Client            *too_big = NULL;
  Client            *bad_ids = client_connect (f);
  TestPeer           z = { good, "127.0.0.2-z", task_z, "127.0.0.2-z-1" };
  TestPeer           z2 = { good, "127.0.0.2-z", task_x, "127.0.0.2-z-2" };
  TestPeer           x = { garbage, "127.0.0.3-x", task_x, "127.0.0.3-x-1" };
  TestPeer           bad_task = { bad_ids, "127.0.0.4-y", "ABC", "127.0.0.4-y-1" };
  TestPeer           no_peer = { bad_ids, "127.0.0.4-y", task_z, "" };
  TestPeer           y = { bad_ids, "127.0.0.4-y", task_z, "127.0.0.4-y-1" };
  g_autofree guint8 *big = g_malloc0 (4096);

  add_host (f, z.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, x.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, y.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);

  peer_register (&z, FALSE);
  assert_back_to_source (wait_response (&z, 1), &z);
  peer_register (&x, FALSE);
  assert_back_to_source (wait_response (&x, 1), &x);
  wait_sizes (f, 2, 2);

  /* Each closes its stream; on the one x registered on, x is gone too. */
  for (guint i = 0; i < G_N_ELEMENTS (closing_messages); i++) {
    Client *client = i == 0 ? garbage : client_connect (f);

    g_test_message ("%s", closing_messages[i].what);
    closing_messages[i].send (client, task_z);
    assert_closed_with (client, closing_messages[i].close_code);
    wait_sizes (f, 1, 1);
  }

  /* A message over protocol.max_message_size (live: for streams opened from now on). */
  config (f)->protocol.max_message_size = 1024;
  too_big = client_connect (f);
  soup_websocket_connection_send_binary (too_big->ws, big, 4096);
  /* libsoup 3.2 drops the connection without a close frame. */
  g_assert_true (role_test_wait (client_is_closed, too_big, WAIT_MS));
  config (f)->protocol.max_message_size = 4 * MIB;

  /* Announces without a valid task id or a peer id are ignored, the
   * stream kept: the same stream registers properly next. */
  peer_register (&bad_task, FALSE);
  peer_register (&no_peer, FALSE);
  assert_quiet (&bad_task, 0);
  g_assert_cmpuint (bad_ids->responses->len, ==, 0);
  g_assert_false (bad_ids->closed);
  peer_register (&y, TRUE);
  assert_back_to_source (wait_response (&y, 1), &y);

  /* The good stream was never disturbed and still serves. */
  g_assert_false (good->closed);
  peer_register (&z2, FALSE);
  assert_back_to_source (wait_response (&z2, 1), &z2);
  wait_sizes (f, 3, 2);
}

/* ---- (g) streams closing ---- */

static void
test_stream_closed (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("closed");
  g_autofree char *other = task_id_new ("closed-other");
  Client          *client_a = client_connect (f);
  Client          *client_b = client_connect (f);
  TestPeer         a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         a2 = { client_a, "127.0.0.2-a", other, "127.0.0.2-a-2" };
  TestPeer         b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  Dfly__V1__Task  *stat;

  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);

  peer_register (&a, FALSE);
  peer_register (&a2, FALSE);
  wait_response (&a, 1);
  wait_response (&a2, 1);
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 0, "crc32c:0000000a");
  peer_register (&b, FALSE);
  g_assert_nonnull (find_candidate (assert_normal (wait_response (&b, 1), &b), a.peer_id));
  wait_sizes (f, 3, 2);

  /* a's stream closes: both its peers leave; the task only it had is forgotten. */
  client_close (client_a);
  wait_sizes (f, 1, 1);
  g_assert_null (dfly_schedule_stat_task (f->schedule, other));
  stat = dfly_schedule_stat_task (f->schedule, task);
  g_assert_nonnull (stat);
  g_assert_cmpuint (stat->peer_count, ==, 1);
  dfly_schedule_free_task_message (stat);

  /* b, the last peer, leaves: the task goes too. */
  client_close (client_b);
  wait_sizes (f, 0, 0);
  g_assert_null (dfly_schedule_stat_task (f->schedule, task));
}

/* Once a bug (fixed, kept as a regression test): back_to_source_count (dfly-schedule.c, send_back_to_source) only
 * ever grows: a back-to-source peer that fails (or leaves) keeps its place
 * against scheduler.back_to_source_limit, so with the limit reached and no
 * seed, the peers waiting on it are never sent to the source nor given a
 * parent — schedule_peer retries them every 500 ms forever (the
 * ROUNDS_WAITING_SEED escape also requires may_go_back_to_source).
 * Dragonfly v2.2 frees the place (BackToSourcePeers.Delete on failure). */
static void
test_source_failed (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("source-failed");
  Client          *client_a = client_connect (f);
  Client          *client_b = client_connect (f);
  TestPeer         a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&b, FALSE);
  assert_quiet (&b, 0);

  /* The only source peer fails: the waiting peer must take its place. */
  peer_b2s_failed (&a);
  assert_back_to_source (wait_response (&b, 1), &b);
}

/* Once a bug (fixed, kept as a regression test): record_piece (dfly-schedule.c) takes any piece number a peer
 * reports, whatever the task's piece count: bit_set grows the peer's
 * bitmap to number / 8 + 1 bytes (a report of piece 0xfffffff0 makes the
 * scheduler allocate 512 MiB, and each child's NormalTaskResponse carry
 * it), and a source peer's digest for such a piece is stored (growing
 * task->digests to number + 1 pointers, up to 16 GiB, which aborts) and
 * sent to children. Numbers at or past piece_count, once known, should be
 * refused (a cap on what a peer controls: HACKING.md, "Style"). */
static void
test_piece_number_bounds (Fixture *f, gconstpointer data)
{
  g_autofree char              *task = task_id_new ("bounds");
  Client                       *client_a = client_connect (f);
  Client                       *client_b = client_connect (f);
  TestPeer                      a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer                      b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  Dfly__V1__NormalTaskResponse *normal;
  Dfly__V1__CandidateParent    *parent;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  /* Four pieces; then a report of piece 100000. */
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&a, 0, "crc32c:00000000");
  peer_b2s_piece (&a, 100000, "crc32c:ffffffff");
  peer_register (&b, FALSE);
  normal = assert_normal (wait_response (&b, 1), &b);
  parent = find_candidate (normal, a.peer_id);
  g_assert_nonnull (parent);
  g_assert_cmpuint (parent->piece_bitmap.len, <=, 1);
  for (gsize i = 0; i < normal->n_piece_digests; i++)
    g_assert_cmpuint (normal->piece_digests[i]->number, <, normal->piece_count);
}

/* ---- (h) one-shot calls ---- */

typedef struct {
  guint   status;
  GBytes *body;
} Reply;

/* POSTs bytes (a frame, or not) to path on the service. */
static void
post_raw (Fixture *f, const char *method, const char *path, GBytes *body, Reply *reply)
{
  g_autofree char *url = g_strconcat (f->base_url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/x-dfly-frame", body);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, role_test_on_result,
                                    &result);
  g_assert_true (role_test_wait (role_test_result_ready, &result, WAIT_MS));
  reply->body = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);
  reply->status = soup_message_get_status (msg);
}

static void
post_message (Fixture *f, const char *path, DflyMessageType type, const ProtobufCMessage *message,
              Reply *reply)
{
  g_autoptr (GBytes) frame = dfly_wire_pack (type, message);

  post_raw (f, SOUP_METHOD_POST, path, frame, reply);
}

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->body, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

static void
test_announce_host (Fixture *f, gconstpointer data)
{
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__LeaveHostRequest    leave = DFLY__V1__LEAVE_HOST_REQUEST__INIT;
  Dfly__V1__Host                host = DFLY__V1__HOST__INIT;
  g_auto (Reply) good = { 0 };
  g_auto (Reply) bad = { 0 };
  g_auto (Reply) left = { 0 };
  g_auto (Reply) get = { 0 };
  DflyHostInfo *announced;
  const char   *reason = "host 10.0.0.9-h: \"not-an-ip\" is not an IP address";

  host.id = "10.0.0.9-h";
  host.type = DFLY__V1__HOST_TYPE__HOST_TYPE_STRONG;
  host.hostname = "h";
  host.ip = "10.0.0.9";
  host.port = 4009;
  host.idc = "idc1";
  host.location = "a|b";
  host.concurrent_upload_limit = 200;
  host.upload_rate_free = 1000;
  host.announce_interval = 30;
  request.host = &host;
  post_message (f, "/v1/announce-host", DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base, &good);
  g_assert_cmpuint (good.status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (f->base.announced->len, ==, 1);
  announced = g_ptr_array_index (f->base.announced, 0);
  g_assert_cmpstr (announced->id, ==, "10.0.0.9-h");
  g_assert_cmpint (announced->type, ==, DFLY_HOST_TYPE_STRONG);
  g_assert_cmpstr (announced->ip, ==, "10.0.0.9");
  g_assert_cmpuint (announced->port, ==, 4009);
  g_assert_cmpstr (announced->idc, ==, "idc1");
  g_assert_cmpstr (announced->location, ==, "a|b");
  g_assert_cmpuint (announced->upload_slots, ==, 200);
  g_assert_cmpuint (announced->upload_rate_free, ==, 1000);
  g_assert_cmpuint (announced->announce_interval, ==, 30);

  /* Not an IP address: 400 with the reason, and nothing announced. */
  host.ip = "not-an-ip";
  post_message (f, "/v1/announce-host", DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base, &bad);
  g_assert_cmpuint (bad.status, ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpmem (g_bytes_get_data (bad.body, NULL), g_bytes_get_size (bad.body), reason,
                   strlen (reason));
  g_assert_cmpuint (f->base.announced->len, ==, 1);

  /* Leaving is on the bus too. */
  leave.id = "10.0.0.9-h";
  post_message (f, "/v1/leave-host", DFLY_MESSAGE_LEAVE_HOST_REQUEST, &leave.base, &left);
  g_assert_cmpuint (left.status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (f->base.left->len, ==, 1);
  g_assert_cmpstr (((DflyHostInfo *) g_ptr_array_index (f->base.left, 0))->id, ==, "10.0.0.9-h");

  /* Only POST. */
  post_raw (f, SOUP_METHOD_GET, "/v1/announce-host", NULL, &get);
  g_assert_cmpuint (get.status, ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
  g_assert_cmpuint (f->base.announced->len, ==, 1);
}

static void
test_stat_task (Fixture *f, gconstpointer data)
{
  g_autofree char              *task_id = task_id_new ("stat");
  g_autofree char              *unknown_id = task_id_new ("stat-unknown");
  Client                       *client = client_connect (f);
  TestPeer                      a = { client, "127.0.0.2-a", task_id, "127.0.0.2-a-1" };
  Dfly__V1__StatTaskRequest     request = DFLY__V1__STAT_TASK_REQUEST__INIT;
  Dfly__V1__AnnounceHostRequest wrong = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  g_auto (Reply) known = { 0 };
  g_auto (Reply) started = { 0 };
  g_auto (Reply) unknown = { 0 };
  g_auto (Reply) bad = { 0 };
  g_autoptr (GError) error = NULL;
  Dfly__V1__Task *task;

  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);

  request.task_id = task_id;
  post_message (f, "/v1/stat-task", DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base, &known);
  g_assert_cmpuint (known.status, ==, SOUP_STATUS_OK);
  task = (Dfly__V1__Task *) dfly_wire_unpack (g_bytes_get_data (known.body, NULL),
                                              g_bytes_get_size (known.body), 4 * MIB,
                                              DFLY_MESSAGE_TASK, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (task->id, ==, task_id);
  g_assert_cmpstr (task->url, ==, "http://origin.test/file.bin");
  g_assert_cmpstr (task->tag, ==, "tag");
  g_assert_cmpint (task->content_length, ==, -1);
  g_assert_cmpuint (task->peer_count, ==, 1);
  g_assert_cmpint (task->state, ==, DFLY__V1__TASK_STATE__TASK_STATE_RUNNING);
  g_assert_false (task->has_available_peer);
  protobuf_c_message_free_unpacked (&task->base, NULL);

  /* What the source peer said shows. */
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  role_test_wait (NULL, NULL, QUIET_MS);
  post_message (f, "/v1/stat-task", DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base, &started);
  task = (Dfly__V1__Task *) dfly_wire_unpack (g_bytes_get_data (started.body, NULL),
                                              g_bytes_get_size (started.body), 4 * MIB,
                                              DFLY_MESSAGE_TASK, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (task->content_length, ==, 16 * MIB);
  g_assert_cmpuint (task->piece_length, ==, 4 * MIB);
  g_assert_cmpuint (task->piece_count, ==, 4);
  protobuf_c_message_free_unpacked (&task->base, NULL);

  /* A task nobody registered: 404. */
  request.task_id = unknown_id;
  post_message (f, "/v1/stat-task", DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base, &unknown);
  g_assert_cmpuint (unknown.status, ==, SOUP_STATUS_NOT_FOUND);

  /* Another message than StatTaskRequest: 400. */
  post_message (f, "/v1/stat-task", DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &wrong.base, &bad);
  g_assert_cmpuint (bad.status, ==, SOUP_STATUS_BAD_REQUEST);

  /* Through dfly_wire_post_async, as a peer asks. */
  {
    g_autofree char *url = g_strconcat (f->base_url, "/v1/stat-task", NULL);
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) reply = NULL;

    dfly_wire_post_async (f->session, url, DFLY_MESSAGE_STAT_TASK_REQUEST, &request.base, NULL,
                          role_test_on_result, &result);
    g_assert_true (role_test_wait (role_test_result_ready, &result, WAIT_MS));
    reply = dfly_wire_post_finish (f->session, result, &error);
    g_assert_null (reply);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "404"));
  }
}

/* ---- (i) trust: who reports lengths and digests ---- */

static gint64
stat_length (Fixture *f, const char *task_id)
{
  Dfly__V1__Task *stat = dfly_schedule_stat_task (f->schedule, task_id);
  gint64          length;

  g_assert_nonnull (stat);
  length = stat->content_length;
  dfly_schedule_free_task_message (stat);
  return length;
}

static void
assert_sent_to_source (TestPeer *peer, guint n, const char *why)
{
  Dfly__V1__AnnouncePeerResponse *response = wait_response (peer, n);

  assert_back_to_source (response, peer);
  g_assert_cmpstr (response->need_back_to_source->description, ==, why);
}

/* A peer that asks to go to the source may, but its lengths and digests
 * are not the reference: the scheduler chooses one of its own, whose
 * place the asker does not take. */
static void
test_asked_not_reference (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("asked");
  Client          *client_x = client_connect (f);
  Client          *client_b = client_connect (f);
  Client          *client_c = client_connect (f);
  TestPeer         asker = { client_x, "127.0.0.2-x", task, "127.0.0.2-x-1" };
  TestPeer         b = { client_b, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  TestPeer         c = { client_c, "127.0.0.4-c", task, "127.0.0.4-c-1" };

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, asker.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, b.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.4", 4004, DFLY_HOST_TYPE_NORMAL);

  peer_register (&asker, TRUE);
  assert_sent_to_source (&asker, 1, "asked for");
  peer_b2s_started (&asker, G_GINT64_CONSTANT (1) << 40, 4 * MIB);
  peer_b2s_piece (&asker, 0, "crc32c:baaaaaad");
  role_test_wait (NULL, NULL, QUIET_MS);
  g_assert_cmpint (stat_length (f, task), ==, -1);

  /* No reference yet: the next peer is made one, within the limit of one. */
  peer_register (&b, FALSE);
  assert_sent_to_source (&b, 1, "no seed peer has the task");
  peer_b2s_started (&b, 16 * MIB, 4 * MIB);
  peer_b2s_piece (&b, 0, "crc32c:0000000a");
  peer_register (&c, FALSE);
  wait_digests (&c, "0=crc32c:0000000a");
  g_assert_cmpuint (assert_normal (last_response (&c), &c)->content_length, ==, 16 * MIB);

  /* The asker's later word changes nothing either. */
  peer_b2s_piece (&asker, 1, "crc32c:baaaaaad");
  peer_b2s_finished (&asker, G_GUINT64_CONSTANT (1) << 40);
  peer_b2s_piece (&b, 1, "crc32c:0000000b");
  wait_digests (&c, "0=crc32c:0000000a 1=crc32c:0000000b");
  g_assert_cmpint (stat_length (f, task), ==, 16 * MIB);
}

/* Under TLS a host is a seed only if its certificate says so, whatever
 * type it announced. */
static void
test_seed_needs_role (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("seed-role");
  g_autofree char *other_task = task_id_new ("seed-role-plain");
  Client          *fake_client, *seed_client, *plain_client;
  TestPeer         fake, seed, plain;

  /* No normal peer may go to the source: only a seed answers at once. */
  scheduler_settings (f)->back_to_source_limit = 0;
  add_host (f, "127.0.0.5-fake", "127.0.0.5", 0, DFLY_HOST_TYPE_SUPER);
  add_host (f, "127.0.0.6-seed", "127.0.0.6", 0, DFLY_HOST_TYPE_SUPER);
  add_host (f, "127.0.0.7-plain", "127.0.0.7", 0, DFLY_HOST_TYPE_SUPER);
  set_identity (f, "127.0.0.5-fake", DFLY_ROLE_FLAG_PEER);
  fake_client = client_connect (f);
  set_identity (f, "127.0.0.6-seed", DFLY_ROLE_FLAG_SEED);
  seed_client = client_connect (f);
  set_identity (f, NULL, 0);
  plain_client = client_connect (f);
  fake = (TestPeer){ fake_client, "127.0.0.5-fake", task, "127.0.0.5-fake-1" };
  seed = (TestPeer){ seed_client, "127.0.0.6-seed", task, "127.0.0.6-seed-1" };
  /* On a task of its own: a seed joining a task another seed already
   * fetches is that one's child. */
  plain = (TestPeer){ plain_client, "127.0.0.7-plain", other_task, "127.0.0.7-plain-1" };

  peer_register (&fake, TRUE);
  assert_quiet (&fake, 0);
  peer_register (&seed, FALSE);
  assert_sent_to_source (&seed, 1, "seed peer");
  /* On a plaintext link the announced type is believed, as before. */
  peer_register (&plain, FALSE);
  assert_sent_to_source (&plain, 1, "seed peer");
  assert_quiet (&fake, 0);
}

/* ---- (j) trust: a host speaks only for itself ---- */

static void
post_host (Fixture *f, const char *id, DflyHostType type, guint32 interval, guint status)
{
  g_autoptr (DflyHostInfo) info = dfly_host_info_new (id);
  Dfly__V1__AnnounceHostRequest request = DFLY__V1__ANNOUNCE_HOST_REQUEST__INIT;
  Dfly__V1__Host                host = DFLY__V1__HOST__INIT;
  g_auto (Reply) reply = { 0 };

  info->ip = g_strdup ("10.0.0.9");
  info->port = 4009;
  info->type = type;
  info->announce_interval = interval;
  dfly_wire_host_to_message (info, &host);
  request.host = &host;
  post_message (f, "/v1/announce-host", DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST, &request.base, &reply);
  g_assert_cmpuint (reply.status, ==, status);
}

static void
post_leave (Fixture *f, const char *id, guint status)
{
  Dfly__V1__LeaveHostRequest request = DFLY__V1__LEAVE_HOST_REQUEST__INIT;
  g_auto (Reply) reply = { 0 };

  request.id = (char *) id;
  post_message (f, "/v1/leave-host", DFLY_MESSAGE_LEAVE_HOST_REQUEST, &request.base, &reply);
  g_assert_cmpuint (reply.status, ==, status);
}

static void
test_host_speaks_for_itself (Fixture *f, gconstpointer data)
{
  const guint OK = SOUP_STATUS_OK, FORBIDDEN = SOUP_STATUS_FORBIDDEN;

  /* Its own id, normal: announced. Another's id, or a seed without the
   * role: 403, nothing announced. */
  set_identity (f, "10.0.0.9-h", DFLY_ROLE_FLAG_PEER);
  post_host (f, "10.0.0.9-h", DFLY_HOST_TYPE_NORMAL, 30, OK);
  post_host (f, "10.0.0.8-victim", DFLY_HOST_TYPE_NORMAL, 30, FORBIDDEN);
  post_host (f, "10.0.0.9-h", DFLY_HOST_TYPE_SUPER, 30, FORBIDDEN);
  post_host (f, "10.0.0.9-h", DFLY_HOST_TYPE_STRONG, 30, FORBIDDEN);
  g_assert_cmpuint (f->base.announced->len, ==, 1);
  set_identity (f, "10.0.0.9-h", DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED);
  post_host (f, "10.0.0.9-h", DFLY_HOST_TYPE_SUPER, 30, OK);
  g_assert_cmpuint (f->base.announced->len, ==, 2);

  /* It leaves for itself only. */
  post_leave (f, "10.0.0.8-victim", FORBIDDEN);
  g_assert_cmpuint (f->base.left->len, ==, 0);
  post_leave (f, "10.0.0.9-h", OK);
  g_assert_cmpuint (f->base.left->len, ==, 1);

  /* Announce intervals a dflyd may have (host.announce_interval's 1 s to
   * 1 h), TLS or not: a host announcing a day would hold its place for two. */
  set_identity (f, NULL, 0);
  post_host (f, "10.0.0.7-i", DFLY_HOST_TYPE_NORMAL, 0, SOUP_STATUS_BAD_REQUEST);
  post_host (f, "10.0.0.7-i", DFLY_HOST_TYPE_NORMAL, 3601, SOUP_STATUS_BAD_REQUEST);
  post_host (f, "10.0.0.7-i", DFLY_HOST_TYPE_NORMAL, G_MAXUINT32, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpuint (f->base.announced->len, ==, 2);
  post_host (f, "10.0.0.7-i", DFLY_HOST_TYPE_NORMAL, 3600, OK);
  post_host (f, "10.0.0.7-i", DFLY_HOST_TYPE_NORMAL, 1, OK);
  g_assert_cmpuint (f->base.announced->len, ==, 4);
}

/* An announce frame for another host ends the stream, and its peers. */
static void
test_stream_speaks_for_itself (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("stream-host");
  Client          *client;
  TestPeer         a, spoof;

  add_host (f, "127.0.0.2-a", "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, "127.0.0.3-b", "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  set_identity (f, "127.0.0.2-a", DFLY_ROLE_FLAG_PEER);
  client = client_connect (f);
  a = (TestPeer){ client, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  spoof = (TestPeer){ client, "127.0.0.3-b", task, "127.0.0.3-b-1" };
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  wait_sizes (f, 1, 1);
  peer_register (&spoof, FALSE);
  assert_closed_with (client, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  wait_sizes (f, 0, 0);
  g_assert_cmpuint (n_responses (&spoof), ==, 0);
}

/* A peer id belongs to the stream that registered it: another stream
 * cannot take it over, but under TLS its own host can (a reconnect). */
static void
test_peer_id_bound (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("peer-id");
  Client          *client_a = client_connect (f);
  Client          *client_t = client_connect (f);
  Client          *client_again, *client_other;
  TestPeer         a = { client_a, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         thief = { client_t, "127.0.0.9-t", task, "127.0.0.2-a-1" };
  TestPeer         again, other;

  scheduler_settings (f)->back_to_source_limit = 1;
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, thief.host_id, "127.0.0.9", 4009, DFLY_HOST_TYPE_NORMAL);
  peer_register (&a, FALSE);
  assert_sent_to_source (&a, 1, "no seed peer has the task");

  /* On plaintext: refused, and its word as that peer is not heard. */
  peer_register (&thief, TRUE);
  peer_b2s_started (&thief, G_GINT64_CONSTANT (1) << 40, 4 * MIB);
  assert_quiet (&thief, 0);
  wait_sizes (f, 1, 1);
  g_assert_cmpint (stat_length (f, task), ==, -1);
  peer_b2s_started (&a, 16 * MIB, 4 * MIB);
  role_test_wait (NULL, NULL, QUIET_MS);
  g_assert_cmpint (stat_length (f, task), ==, 16 * MIB);

  /* Under TLS, another host's stream cannot either. */
  set_identity (f, "127.0.0.8-o", DFLY_ROLE_FLAG_PEER);
  client_other = client_connect (f);
  other = (TestPeer){ client_other, "127.0.0.8-o", task, "127.0.0.2-a-1" };
  peer_register (&other, FALSE);
  assert_quiet (&other, 0);

  /* Its own host, proved by its certificate, starts over on a new stream. */
  set_identity (f, "127.0.0.2-a", DFLY_ROLE_FLAG_PEER);
  client_again = client_connect (f);
  again = (TestPeer){ client_again, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  peer_register (&again, TRUE);
  assert_sent_to_source (&again, 1, "asked for");
  wait_sizes (f, 1, 1);
  /* The old stream's word no longer counts: it is not that peer's. */
  peer_b2s_finished (&a, 16 * MIB);
  assert_quiet (&a, 1);
}

/* ---- (k) bounds ---- */

/* Lengths no dflyd sends are refused and cost the reference its standing:
 * the next peer is sent to the source in its place. */
static void
test_length_bounds (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("lengths");
  g_autofree char *stream_task = task_id_new ("lengths-streamed");
  static const struct {
    gint64  content_length;
    guint64 piece_length;
  } lies[] = {
    { G_GINT64_CONSTANT (1) << 40, 1 },         /* 2^40 pieces of one byte */
    { 16 * MIB, 0 },                            /* no piece length */
    { 16 * MIB, 4095 },                         /* below download.min_piece_length's range */
    { 16 * MIB, G_GUINT64_CONSTANT (2) << 30 }, /* above download.piece_length's */
    { G_MAXINT64, 16 * MIB },                   /* past max_pieces */
    { 4 * MIB * 1048576 + 1, 4 * MIB },         /* one piece past max_pieces */
  };
  Client *client = client_connect (f);
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  TestPeer                      peers[G_N_ELEMENTS (lies) + 4];
  TestPeer                     *honest = &peers[G_N_ELEMENTS (lies)];
  TestPeer                     *child = &peers[G_N_ELEMENTS (lies) + 1];
  TestPeer                     *streamer = &peers[G_N_ELEMENTS (lies) + 2];
  TestPeer                     *next = &peers[G_N_ELEMENTS (lies) + 3];
  Dfly__V1__NormalTaskResponse *normal;

  scheduler_settings (f)->back_to_source_limit = 1;
  for (guint i = 0; i < G_N_ELEMENTS (peers); i++) {
    char            *host_id = g_strdup_printf ("127.0.1.%u-l", i + 1);
    g_autofree char *ip = g_strdup_printf ("127.0.1.%u", i + 1);

    g_ptr_array_add (ids, host_id);
    g_ptr_array_add (ids, g_strconcat (host_id, "-1", NULL));
    peers[i] = (TestPeer){ client, host_id, task, g_ptr_array_index (ids, ids->len - 1) };
    add_host (f, host_id, ip, 4100 + i, DFLY_HOST_TYPE_NORMAL);
  }

  /* Each liar in turn is made the reference, refused and replaced. */
  for (guint i = 0; i < G_N_ELEMENTS (lies); i++) {
    g_test_message ("%" G_GINT64_FORMAT " bytes in pieces of %" G_GUINT64_FORMAT,
                    lies[i].content_length, lies[i].piece_length);
    peer_register (&peers[i], FALSE);
    assert_sent_to_source (&peers[i], 1, "no seed peer has the task");
    peer_b2s_started (&peers[i], lies[i].content_length, lies[i].piece_length);
    peer_b2s_piece (&peers[i], 0, "crc32c:baaaaaad");
    role_test_wait (NULL, NULL, QUIET_MS / 4);
    g_assert_cmpint (stat_length (f, task), ==, -1);
  }
  /* The next tells the truth, and its children hear it alone. */
  peer_register (honest, FALSE);
  assert_sent_to_source (honest, 1, "no seed peer has the task");
  peer_b2s_started (honest, 16 * MIB, 4 * MIB);
  peer_b2s_piece (honest, 0, "crc32c:0000000a");
  peer_register (child, FALSE);
  wait_digests (child, "0=crc32c:0000000a");
  normal = assert_normal (last_response (child), child);
  g_assert_cmpuint (normal->content_length, ==, 16 * MIB);
  g_assert_cmpuint (normal->piece_count, ==, 4);

  /* A streamed origin: piece numbers only up to max_pieces, and a final
   * length over it is refused like any other. */
  scheduler_settings (f)->max_pieces = 8;
  streamer->task_id = stream_task;
  next->task_id = stream_task;
  peer_register (streamer, FALSE);
  assert_sent_to_source (streamer, 1, "no seed peer has the task");
  peer_b2s_started (streamer, -1, 4 * MIB);
  peer_b2s_piece (streamer, G_MAXUINT32, "crc32c:ffffffff");
  peer_b2s_piece (streamer, 8, "crc32c:00000008");
  peer_b2s_piece (streamer, 7, "crc32c:00000007");
  peer_b2s_finished (streamer, 64 * MIB);
  role_test_wait (NULL, NULL, QUIET_MS / 4);
  g_assert_cmpint (stat_length (f, stream_task), ==, -1);
  peer_register (next, FALSE);
  assert_sent_to_source (next, 1, "no seed peer has the task");
  peer_b2s_started (next, 28 * MIB, 4 * MIB);
  role_test_wait (NULL, NULL, QUIET_MS / 4);
  g_assert_cmpint (stat_length (f, stream_task), ==, 28 * MIB);
}

typedef struct {
  Fixture *f;
  guint    n;
} Blocked;

static gboolean
blocked_is (gpointer data)
{
  Blocked *blocked = data;

  return dfly_schedule_get_n_blocked (blocked->f->schedule) == blocked->n;
}

static void
wait_blocked (Fixture *f, guint n)
{
  Blocked blocked = { f, n };

  role_test_wait (blocked_is, &blocked, WAIT_MS);
  g_assert_cmpuint (dfly_schedule_get_n_blocked (f->schedule), ==, n);
}

/* A child's blocklist holds peers of its task only: 10,000 made-up parent
 * ids, failed or rescheduled away, take no room; a real parent does. */
static void
test_blocklist_bounds (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("blocklist");
  Client          *client = client_connect (f);
  TestPeer         a = { client, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         c = { client, "127.0.0.3-c", task, "127.0.0.3-c-1" };
  g_autoptr (GPtrArray) made_up = g_ptr_array_new_with_free_func (g_free);

  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, c.host_id, "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);
  peer_register (&a, FALSE);
  assert_back_to_source (wait_response (&a, 1), &a);
  peer_register (&c, FALSE);
  for (guint i = 0; i < 10000; i++)
    g_ptr_array_add (made_up, g_strdup_printf ("10.9.%u.%u-made-up-1", i >> 8, i & 0xff));
  peer_reschedule_without (&c, (char **) made_up->pdata, made_up->len);
  for (guint i = 0; i < 100; i++) {
    peer_piece_failed (&c, i, g_ptr_array_index (made_up, i), TRUE);
    peer_piece_failed (&c, i, g_ptr_array_index (made_up, 100 + i), FALSE);
  }
  role_test_wait (NULL, NULL, QUIET_MS);
  g_assert_cmpuint (dfly_schedule_get_n_blocked (f->schedule), ==, 0);
  peer_piece_failed (&c, 0, a.peer_id, FALSE);
  wait_blocked (f, 1);
}

/* Tables keyed by what peers say have caps; a peer over one is told to go
 * to the source, untracked. */
static void
test_caps (Fixture *f, gconstpointer data)
{
  g_autofree char *t1 = task_id_new ("caps-1");
  g_autofree char *t2 = task_id_new ("caps-2");
  g_autofree char *t3 = task_id_new ("caps-3");
  Client          *one = client_connect (f);
  Client          *two = client_connect (f);
  TestPeer         a1 = { one, "127.0.0.2-a", t1, "127.0.0.2-a-1" };
  TestPeer         a2 = { one, "127.0.0.2-a", t2, "127.0.0.2-a-2" };
  TestPeer         a3 = { one, "127.0.0.2-a", t2, "127.0.0.2-a-3" };
  TestPeer         a4 = { one, "127.0.0.2-a", t1, "127.0.0.2-a-4" };
  TestPeer         b1 = { two, "127.0.0.3-b", t1, "127.0.0.3-b-1" };
  TestPeer         b2 = { two, "127.0.0.3-b", t3, "127.0.0.3-b-2" };
  TestPeer         b3 = { two, "127.0.0.3-b", t1, "127.0.0.3-b-3" };

  scheduler_settings (f)->max_tasks = 2;
  scheduler_settings (f)->max_peers_per_task = 2;
  scheduler_settings (f)->max_peers_per_stream = 3;
  add_host (f, "127.0.0.2-a", "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);
  add_host (f, "127.0.0.3-b", "127.0.0.3", 4003, DFLY_HOST_TYPE_NORMAL);

  peer_register (&a1, FALSE);
  peer_register (&a2, FALSE);
  assert_sent_to_source (&a1, 1, "no seed peer has the task");
  assert_sent_to_source (&a2, 1, "no seed peer has the task");
  peer_register (&a3, FALSE);
  peer_register (&b1, FALSE);
  wait_sizes (f, 4, 2);
  /* A third task. */
  peer_register (&b2, FALSE);
  assert_sent_to_source (&b2, 1, "the scheduler has scheduler.max_tasks tasks");
  /* A fourth peer on stream one. */
  peer_register (&a4, FALSE);
  assert_sent_to_source (&a4, 1, "its stream has scheduler.max_peers_per_stream peers");
  /* A third peer of t1. */
  peer_register (&b3, FALSE);
  assert_sent_to_source (&b3, 1, "the task has scheduler.max_peers_per_task peers");
  wait_sizes (f, 4, 2);
  assert_quiet (&a3, 0);
  assert_quiet (&b1, 0);
  /* Untracked, their reports change nothing. */
  peer_b2s_started (&b2, 16 * MIB, 4 * MIB);
  peer_b2s_started (&b3, 16 * MIB, 4 * MIB);
  role_test_wait (NULL, NULL, QUIET_MS / 4);
  g_assert_null (dfly_schedule_stat_task (f->schedule, t3));
  g_assert_cmpint (stat_length (f, t1), ==, -1);
}

/* ---- what the swarm may learn of a requester's credentials ---- */

typedef struct {
  SoupServer *server;
  GPtrArray  *orders; /* Dfly__V1__DownloadTaskRequest * a seed was sent */
} SeedOrders;

static void
on_seed_order (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  SeedOrders      *seed = data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) error = NULL;
  ProtobufCMessage *order =
    dfly_wire_unpack (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), 4 * MIB,
                      DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST, NULL, &error);

  g_assert_no_error (error);
  g_ptr_array_add (seed->orders, order);
  soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
}

static void
free_order (gpointer order)
{
  protobuf_c_message_free_unpacked (order, NULL);
}

static gboolean
has_order (gpointer data)
{
  return ((SeedOrders *) data)->orders->len > 0;
}

/* A requester's credential headers reach neither the scheduler's records
 * nor the seed it orders, a signed URL's query never shows in stat-task,
 * and a seed that cannot fetch the task (no credentials for its origin)
 * sends the requester to the source at once. */
static void
test_requester_credentials (Fixture *f, gconstpointer data)
{
  g_autofree char *task = task_id_new ("credentials");
  Client          *client = client_connect (f);
  Client          *seed_client = client_connect (f);
  TestPeer         a = { client, "127.0.0.2-a", task, "127.0.0.2-a-1" };
  TestPeer         seed = { seed_client, "127.0.0.1-seed", task, "127.0.0.1-seed-1" };
  SeedOrders orders = { soup_server_new (NULL, NULL), g_ptr_array_new_with_free_func (free_order) };
  static const char *const names[] = { "Authorization", "Cookie", "Proxy-Authorization",
                                       "X-Dfly-S3-Secret-Access-Key", "Accept" };
  Dfly__V1__Download__RequestHeadersEntry  entries[G_N_ELEMENTS (names)];
  Dfly__V1__Download__RequestHeadersEntry *pointers[G_N_ELEMENTS (names)];
  Dfly__V1__AnnouncePeerRequest            request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest            reg = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download                       download = DFLY__V1__DOWNLOAD__INIT;
  Dfly__V1__StatTaskRequest                stat = DFLY__V1__STAT_TASK_REQUEST__INIT;
  Dfly__V1__DownloadTaskRequest           *order;
  Dfly__V1__Task                          *shown;
  g_auto (Reply) reply = { 0 };
  g_autoptr (GError) error = NULL;
  DflyWireListener *listener;

  soup_server_add_handler (orders.server, "/v1/download-task", on_seed_order, &orders, NULL);
  /* Our listener, not libsoup's, which leaks every socket it accepts. */
  listener = dfly_wire_listen (orders.server, "127.0.0.1", 0, NULL, &error);
  g_assert_no_error (error);
  add_host (f, seed.host_id, "127.0.0.1", dfly_wire_listener_get_port (listener),
            DFLY_HOST_TYPE_SUPER);
  add_host (f, a.host_id, "127.0.0.2", 4002, DFLY_HOST_TYPE_NORMAL);

  /* A peer older or other than dfly's sends its credentials along. */
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    dfly__v1__download__request_headers_entry__init (&entries[i]);
    entries[i].key = (char *) names[i];
    entries[i].value = "secret";
    pointers[i] = &entries[i];
  }
  download.url = "https://bucket.s3.test/file.bin?X-Amz-Credential=AKIA&X-Amz-Signature=abc";
  download.n_request_headers = G_N_ELEMENTS (names);
  download.request_headers = pointers;
  reg.download = &download;
  request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
  request.register_peer = &reg;
  announce (&a, &request);

  g_assert_true (role_test_wait (has_order, &orders, WAIT_MS));
  order = g_ptr_array_index (orders.orders, 0);
  g_assert_cmpstr (order->task_id, ==, task);
  /* The seed needs the signed URL to fetch; it gets no credential. */
  g_assert_cmpstr (order->download->url, ==, download.url);
  g_assert_cmpuint (order->download->n_request_headers, ==, 1);
  g_assert_cmpstr (order->download->request_headers[0]->key, ==, "Accept");

  stat.task_id = task;
  post_message (f, "/v1/stat-task", DFLY_MESSAGE_STAT_TASK_REQUEST, &stat.base, &reply);
  g_assert_cmpuint (reply.status, ==, SOUP_STATUS_OK);
  shown = (Dfly__V1__Task *) dfly_wire_unpack (g_bytes_get_data (reply.body, NULL),
                                               g_bytes_get_size (reply.body), 4 * MIB,
                                               DFLY_MESSAGE_TASK, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (shown->url, ==, "https://bucket.s3.test/file.bin");
  protobuf_c_message_free_unpacked (&shown->base, NULL);

  /* The seed registers, goes to the source and fails there (a 401 from
   * an origin it has no credentials for): the requester goes itself, now
   * rather than after the minute a silent seed gets. */
  peer_register (&seed, FALSE);
  assert_back_to_source (wait_response (&seed, 1), &seed);
  assert_quiet (&a, 0);
  peer_b2s_failed (&seed);
  assert_back_to_source (wait_response (&a, 1), &a);

  dfly_wire_listener_free (listener);
  soup_server_disconnect (orders.server);
  g_object_unref (orders.server);
  g_ptr_array_unref (orders.orders);
}

/* Two bad frames in one packet: the stream is closed once (a second close
 * is a libsoup critical, fatal here), and nothing after the first is read. */
typedef struct {
  guint16  port;
  gboolean done;
  gboolean upgraded;
  gboolean closed_by_server; /* its first answer to the frames was a close */
} RawClient;

static gpointer
raw_client_thread (gpointer data)
{
  RawClient *raw = data;
  g_autoptr (GSocketClient) sockets = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  const char *upgrade =
    "GET /v1/announce-peer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " DFLY_WIRE_WS_PROTOCOL "\r\n\r\n";
  /* Two masked text frames of one byte each (the mask is zero). */
  const guint8  frames[] = { 0x81, 0x81, 0, 0, 0, 0, 'x', 0x81, 0x81, 0, 0, 0, 0, 'y' };
  GInputStream *in;
  char          head[4096] = { 0 };
  gsize         have = 0;
  char          rest[256];

  g_socket_client_set_timeout (sockets, 5);
  connection = g_socket_client_connect_to_host (sockets, "127.0.0.1", raw->port, NULL, NULL);
  if (connection != NULL) {
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

    in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
    g_output_stream_write_all (out, upgrade, strlen (upgrade), NULL, NULL, NULL);
    while (have < sizeof head - 1 && strstr (head, "\r\n\r\n") == NULL) {
      gssize n = g_input_stream_read (in, head + have, 1, NULL, NULL);

      if (n <= 0)
        break;
      have += n;
    }
    raw->upgraded = g_str_has_prefix (head, "HTTP/1.1 101");
    g_output_stream_write_all (out, frames, sizeof frames, NULL, NULL, NULL);
    /* The server's close frame (opcode 8), and nothing else. */
    {
      gssize n = g_input_stream_read (in, rest, sizeof rest, NULL, NULL);

      raw->closed_by_server = n >= 2 && (guint8) rest[0] == 0x88;
    }
  }
  g_atomic_int_set (&raw->done, TRUE);
  return NULL;
}

static gboolean
raw_client_done (gpointer data)
{
  return g_atomic_int_get (&((RawClient *) data)->done);
}

static void
test_bad_frames_close_once (Fixture *f, gconstpointer data)
{
  RawClient raw = { .port = dfly_scheduler_service_get_port (f->service) };
  GThread  *thread = g_thread_new ("raw-client", raw_client_thread, &raw);

  g_assert_true (role_test_wait (raw_client_done, &raw, 10000));
  g_thread_join (thread);
  g_assert_true (raw.upgraded);
  g_assert_true (raw.closed_by_server);
  g_assert_cmpuint (dfly_schedule_get_n_peers (f->schedule), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  FIXTURE_ADD ("/schedule/seed-back-to-source", test_seed_back_to_source);
  FIXTURE_ADD ("/schedule/candidate-limit", test_candidate_limit);
  FIXTURE_ADD ("/schedule/back-to-source-digests", test_back_to_source_digests);
  FIXTURE_ADD ("/schedule/empty", test_empty);
  FIXTURE_ADD ("/schedule/digest-mismatch", test_digest_mismatch);
  FIXTURE_ADD ("/schedule/accusations", test_accusations);
  FIXTURE_ADD ("/schedule/unasked-source", test_unasked_source);
  FIXTURE_ADD ("/schedule/hostile", test_hostile);
  FIXTURE_ADD ("/schedule/stream-closed", test_stream_closed);
  FIXTURE_ADD ("/schedule/source-failed", test_source_failed);
  FIXTURE_ADD ("/schedule/piece-number-bounds", test_piece_number_bounds);
  FIXTURE_ADD ("/schedule/announce-host", test_announce_host);
  FIXTURE_ADD ("/schedule/stat-task", test_stat_task);
  FIXTURE_ADD ("/schedule/source/requester-credentials", test_requester_credentials);
  FIXTURE_ADD ("/schedule/trust/asked-not-reference", test_asked_not_reference);
  FIXTURE_ADD ("/schedule/trust/seed-needs-role", test_seed_needs_role);
  FIXTURE_ADD ("/schedule/trust/host-speaks-for-itself", test_host_speaks_for_itself);
  FIXTURE_ADD ("/schedule/trust/stream-speaks-for-itself", test_stream_speaks_for_itself);
  FIXTURE_ADD ("/schedule/trust/peer-id-bound", test_peer_id_bound);
  FIXTURE_ADD ("/schedule/bounds/lengths", test_length_bounds);
  FIXTURE_ADD ("/schedule/bounds/caps", test_caps);
  FIXTURE_ADD ("/schedule/bounds/blocklist", test_blocklist_bounds);
  FIXTURE_ADD ("/schedule/bad-frames-close-once", test_bad_frames_close_once);
  return g_test_run ();
}
