/* fuzz-scheduler.c — libFuzzer target: sequences of what peers tell a
 * scheduler, run through the real DflySchedule
 *
 * The input is a program of steps, read byte by byte (missing bytes read
 * as 0). Each step is one of: an AnnouncePeerRequest (register, started,
 * back-to-source started and finished with any lengths, piece reports,
 * failures, reschedule, an empty one) from one of four announce streams,
 * naming one of a few tasks, peers and hosts; a stream that closes; a host
 * that leaves or announces itself again; time passing. Requests go through
 * the wire as the service's would (packed, then unpacked), to
 * dfly_schedule_handle. Streams are real SoupWebsocketConnections on
 * socket pairs: what the scheduler answers is read and checked, and a
 * stream closes when the fuzzer hangs up its end. Two of them carry a
 * certificate's identity.
 *
 * After every step the main context runs a bounded number of iterations.
 * "Time passing" makes every pending timeout due (their ready time is
 * public), so retries, pushes and the seed's refused order run without
 * waiting. Checked throughout: no crash, no leak, no GLib warning, tasks
 * and peers within the caps the fuzzer sets, the heap within a bound,
 * every answer a valid frame that offers no child itself as a parent; and
 * at the end, once every stream has closed, no task and no peer left.
 */
#include "config.h"

#include <sys/socket.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include <dfly/dfly-identity.h>
#include <dfly/dfly.h>

#include "plugins/roles/scheduler/dfly-schedule.h"
#include "plugins/roles/scheduler/dfly-scheduler-settings.h"
#include "plugins/schedulers/default/dfly-parent-score.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The default algorithm's plugin, compiled in (run.sh and local.mk). */
const DflyPluginDescriptor *dfly_plugin_query (void);

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
/* ASan's runtime has it under gcc as under clang; only clang ships the
 * header (sanitizer/allocator_interface.h) that declares it. */
size_t __sanitizer_get_current_allocated_bytes (void);
#else
#include <malloc.h>
#endif

#define N_STREAMS       4
#define MAX_STEPS       256
#define ITERATIONS      32 /* main context iterations after a step */
#define CLOSE_ROUNDS    64 /* rounds of iterations for the streams to close */
#define MAX_TASKS       2  /* the caps the fuzzer sets, small to be reached */
#define MAX_PEERS       4
#define MAX_ON_STREAM   3
#define MAX_PIECES      65536
#define MAX_HEAP_GROWTH (64 * 1024 * 1024)

static const char *const task_ids[] = {
  "a11ce00000000000000000000000000000000000000000000000000000000000",
  "b0b0000000000000000000000000000000000000000000000000000000000000",
  "c0ffee0000000000000000000000000000000000000000000000000000000000",
  "not-a-task-id",
};
static const char *const peer_ids[] = { "peer-a", "peer-b", "peer-c", "peer-d",
                                        "peer-e", "peer-f", "" };
/* seed is a seed host whose upload port refuses connections; unknown
 * never announces itself. */
static const char *const host_ids[] = { "seed", "host-a", "host-b", "unknown" };
static const char *const digests[] = {
  "",
  "crc32c:0a0b0c0d",
  "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "sha256:0000000000000000000000000000000000000000000000000000000000000000",
  "not a digest at all, and rather longer than any digest has reason to be: "
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};
static const char *const urls[] = {
  "http://origin.invalid/file",
  "oci://registry.invalid/library/alpine@sha256:"
  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "http://169.254.169.254/latest/meta-data/",
};

/* ---- reading the program ---- */

typedef struct {
  const guint8 *data;
  gsize         left;
} Reader;

static guint8
take_byte (Reader *r)
{
  if (r->left == 0)
    return 0;
  r->left--;
  return *r->data++;
}

/* Small numbers, MiB multiples and powers of two are common; any 64-bit
 * value may come. */
static guint64
take_number (Reader *r)
{
  guint8  mode = take_byte (r);
  guint64 value = 0;

  if (mode < 0x80)
    return mode;
  if (mode < 0xc0)
    return (guint64) (mode & 0x3f) << 20;
  if (mode < 0xf0)
    return G_GUINT64_CONSTANT (1) << (mode - 0xc0);
  for (guint i = 0; i < 8; i++)
    value = value << 8 | take_byte (r);
  return value;
}

static const char *
take_choice (Reader *r, const char *const *choices, gsize n)
{
  return choices[take_byte (r) % n];
}

#define TAKE(r, table) take_choice ((r), (table), G_N_ELEMENTS (table))

/* ---- the world: a context, hosts, streams ---- */

typedef struct {
  SoupWebsocketConnection *ws;
  int                      writer;   /* the peer's end of the socket pair; -1 once hung up */
  GByteArray              *received; /* what came, not yet a whole frame */
} Stream;

typedef struct {
  DflyContext   *context;
  GHashTable    *hosts; /* host id → DflyHostInfo */
  DflyScheduler *algorithm;
  DflySchedule  *schedule;
  Stream         streams[N_STREAMS];
  guint          first_source; /* sources below this id predate the input */
} World;

static DflyHostInfo *
hosts_lookup (const char *host_id, gpointer user_data)
{
  return g_hash_table_lookup (((World *) user_data)->hosts, host_id);
}

static GPtrArray *
hosts_list_seeds (gpointer user_data)
{
  GPtrArray     *seeds = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer       value;

  g_hash_table_iter_init (&iter, ((World *) user_data)->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((DflyHostInfo *) value)->type != DFLY_HOST_TYPE_NORMAL)
      g_ptr_array_add (seeds, value);
  return seeds;
}

static void
announce_host (World *w, const char *id, DflyHostType type)
{
  DflyHostInfo *host = dfly_host_info_new (id);

  host->ip = g_strdup ("127.0.0.1");
  /* Port 1: nothing listens, so a seed order fails at once. */
  host->port = 1;
  host->type = type;
  host->hostname = g_strdup (id);
  g_hash_table_replace (w->hosts, host->id, host);
}

/* Keeps GLib's debug and info lines out of the fuzzer's way; warnings and
 * criticals still go out, and G_DEBUG=fatal-warnings makes them fatal. */
static GLogWriterOutput
quiet_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* The context lives for the whole run: it is what a scheduler's dflyd
 * would hold across everything its peers say. */
static DflyContext *
shared_context (void)
{
  static DflyContext *context;
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  DflySchedulerSettings *settings;

  if (context != NULL)
    return context;
  /* A seed order is a real POST: no proxy settings to look up for it. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* DFLY_FUZZ_VERBOSE=1 G_MESSAGES_DEBUG=all shows what an input does. */
  if (g_getenv ("DFLY_FUZZ_VERBOSE") == NULL)
    g_log_set_writer_func (quiet_writer, NULL, NULL);
  config = dfly_config_new_default ();
  g_free (config->daemon.cache_dir);
  config->daemon.cache_dir = g_strdup ("/nonexistent/dfly-fuzz");
  g_strfreev (config->daemon.roles);
  config->daemon.roles = g_new0 (char *, 1);
  dfly_config_add_plugin (config, "scheduler", &dfly_scheduler_settings, &error);
  g_assert_no_error (error);
  dfly_config_add_plugin (config, "default", &dfly_default_settings, &error);
  g_assert_no_error (error);
  context = dfly_context_new (config);
  /* Caps small enough for a short program to reach. */
  settings = (DflySchedulerSettings *) dfly_scheduler_settings_get (context);
  settings->max_tasks = MAX_TASKS;
  settings->max_peers_per_task = MAX_PEERS;
  settings->max_peers_per_stream = MAX_ON_STREAM;
  settings->max_pieces = MAX_PIECES;
  return context;
}

static void
on_stream_closed (SoupWebsocketConnection *ws, gpointer user_data)
{
  World *w = user_data;

  g_signal_handlers_disconnect_by_data (ws, w);
  dfly_schedule_stream_closed (w->schedule, ws);
}

/* A server end of an announce stream on one end of a socket pair; the
 * fuzzer holds the other, reads what the scheduler answers and throws it
 * away. Streams 2 and 3 are mutual TLS ones: a normal peer's host and a
 * seed's. */
static void
stream_open (World *w, guint i)
{
  Stream *s = &w->streams[i];
  int     fds[2];
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GUri) uri = g_uri_parse ("ws://127.0.0.1/v1/announce-peer", G_URI_FLAGS_NONE, NULL);

  g_assert (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  g_assert (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert (socket != NULL);
  connection = g_socket_connection_factory_create_connection (socket);
  s->ws = soup_websocket_connection_new (G_IO_STREAM (connection), uri,
                                         SOUP_WEBSOCKET_CONNECTION_SERVER, NULL, "dfly.v1", NULL);
  s->writer = fds[1];
  s->received = g_byte_array_new ();
  dfly_wire_ws_setup (s->ws, dfly_context_get_config (w->context)->protocol.max_message_size);
  if (i == 2 || i == 3) {
    g_autoptr (DflyIdentity) identity =
      dfly_identity_new (i == 2 ? "host-a" : "seed",
                         i == 2 ? DFLY_ROLE_FLAG_PEER : DFLY_ROLE_FLAG_SEED | DFLY_ROLE_FLAG_PEER);

    dfly_identity_attach_to_websocket (s->ws, identity);
  }
  g_signal_connect (s->ws, "closed", G_CALLBACK (on_stream_closed), w);
}

/* What every answer must be: a valid frame, to a peer by a valid id, that
 * never offers the child itself as a parent, and counts within the caps. */
static void
check_response (const guint8 *data, gsize length)
{
  g_autoptr (GError) error = NULL;
  Dfly__V1__AnnouncePeerResponse *response = (Dfly__V1__AnnouncePeerResponse *) dfly_wire_unpack (
    data, length, G_MAXSIZE, DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE, NULL, &error);
  const Dfly__V1__NormalTaskResponse *normal;

  g_assert_no_error (error);
  g_assert (response->response_case != DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE__NOT_SET);
  g_assert (dfly_task_id_is_valid (response->task_id) && response->peer_id[0] != '\0');
  if (response->response_case == DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK) {
    normal = response->normal_task;
    g_assert (normal->piece_count <= MAX_PIECES);
    for (gsize i = 0; i < normal->n_candidate_parents; i++) {
      g_assert (strcmp (normal->candidate_parents[i]->peer_id, response->peer_id) != 0);
      g_assert (normal->candidate_parents[i]->piece_bitmap.len <= MAX_PIECES / 8 + 1);
    }
    for (gsize i = 0; i < normal->n_piece_digests; i++)
      g_assert (normal->piece_digests[i]->number < MAX_PIECES &&
                normal->piece_digests[i]->digest[0] != '\0');
  }
  protobuf_c_message_free_unpacked (&response->base, NULL);
}

/* Takes the complete WebSocket frames (a server's: never masked) off the
 * front of what the scheduler sent, checking each binary one. */
static void
stream_take_frames (Stream *s)
{
  GByteArray *in = s->received;

  for (;;) {
    guint64 length, header = 2;

    if (in->len < 2)
      return;
    length = in->data[1] & 0x7f;
    if (length == 126) {
      header = 4;
      if (in->len < header)
        return;
      length = (guint64) in->data[2] << 8 | in->data[3];
    } else if (length == 127) {
      header = 10;
      if (in->len < header)
        return;
      length = 0;
      for (guint i = 2; i < 10; i++)
        length = length << 8 | in->data[i];
    }
    g_assert ((in->data[1] & 0x80) == 0 && length < G_MAXUINT32);
    if (in->len < header + length)
      return;
    /* Binary messages only, each in one frame; pings and a close pass. */
    if ((in->data[0] & 0x0f) == 0x2) {
      g_assert (in->data[0] & 0x80);
      check_response (in->data + header, length);
    }
    g_byte_array_remove_range (in, 0, header + length);
  }
}

/* What the scheduler sent on a stream is read and checked. */
static void
stream_drain (Stream *s)
{
  guint8  buffer[16384];
  ssize_t n;

  while (s->writer >= 0 && (n = read (s->writer, buffer, sizeof buffer)) > 0) {
    g_byte_array_append (s->received, buffer, (guint) n);
    stream_take_frames (s);
  }
}

/* The peer hangs up: the server end reads EOF and closes. */
static void
stream_hang_up (Stream *s)
{
  stream_drain (s);
  if (s->writer >= 0)
    close (s->writer);
  s->writer = -1;
}

static gboolean
stream_is_closed (const Stream *s)
{
  return soup_websocket_connection_get_state (s->ws) == SOUP_WEBSOCKET_STATE_CLOSED;
}

static void
run_iterations (World *w, guint n)
{
  for (guint i = 0; i < n; i++) {
    for (guint j = 0; w != NULL && j < N_STREAMS; j++)
      stream_drain (&w->streams[j]);
    if (!g_main_context_iteration (NULL, FALSE))
      break;
  }
}

static gboolean
noop (gpointer user_data)
{
  return G_SOURCE_REMOVE;
}

/* Time passes: every timeout made during this input is due now. */
static void
fast_forward (World *w)
{
  guint last = g_idle_add (noop, NULL);

  g_source_remove (last);
  for (guint id = w->first_source; id < last; id++) {
    GSource *source = g_main_context_find_source_by_id (NULL, id);

    if (source != NULL && source->source_funcs == &g_timeout_funcs)
      g_source_set_ready_time (source, 0);
  }
}

static gsize
heap_in_use (void)
{
#ifdef FUZZ_ASAN
  return __sanitizer_get_current_allocated_bytes ();
#else
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
#endif
}

/* ---- steps ---- */

typedef enum {
  STEP_REGISTER,
  STEP_STARTED,
  STEP_SOURCE_STARTED,
  STEP_FINISHED,
  STEP_SOURCE_FINISHED,
  STEP_PIECE,
  STEP_SOURCE_PIECE,
  STEP_PIECE_FAILED,
  STEP_SOURCE_PIECE_FAILED,
  STEP_FAILED,
  STEP_SOURCE_FAILED,
  STEP_RESCHEDULE,
  STEP_EMPTY,
  STEP_HANG_UP,
  STEP_HOST_LEFT,
  STEP_HOST_ANNOUNCED,
  STEP_TIME_PASSES,
  N_STEPS
} StepKind;

/* What the service does with a frame: unpack it, refuse a host id that is
 * not the stream's certificate's (the stream closes), hand it over. */
static void
deliver (World *w, Stream *s, const Dfly__V1__AnnouncePeerRequest *request)
{
  g_autoptr (GBytes) frame = dfly_wire_pack (DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, &request->base);
  g_autoptr (GError) error = NULL;
  const DflyIdentity            *identity = dfly_identity_of_websocket (s->ws);
  Dfly__V1__AnnouncePeerRequest *decoded;

  if (stream_is_closed (s))
    return;
  decoded = (Dfly__V1__AnnouncePeerRequest *) dfly_wire_unpack (
    g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
    dfly_context_get_config (w->context)->protocol.max_message_size,
    DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST, NULL, &error);
  g_assert_no_error (error);
  if (identity != NULL && g_strcmp0 (dfly_identity_get_host_id (identity), decoded->host_id) != 0)
    stream_hang_up (s);
  else
    dfly_schedule_handle (w->schedule, s->ws, decoded);
  protobuf_c_message_free_unpacked (&decoded->base, NULL);
}

static void
step_announce (World *w, StepKind kind, Reader *r)
{
  Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
  Dfly__V1__RegisterPeerRequest        reg = DFLY__V1__REGISTER_PEER_REQUEST__INIT;
  Dfly__V1__Download                   download = DFLY__V1__DOWNLOAD__INIT;
  Dfly__V1__DownloadPeerStartedRequest started = DFLY__V1__DOWNLOAD_PEER_STARTED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceStartedRequest source_started =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED_REQUEST__INIT;
  Dfly__V1__DownloadPeerFinishedRequest finished = DFLY__V1__DOWNLOAD_PEER_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFinishedRequest source_finished =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPieceFinishedRequest piece_finished =
    DFLY__V1__DOWNLOAD_PIECE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPieceBackToSourceFinishedRequest source_piece =
    DFLY__V1__DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED_REQUEST__INIT;
  Dfly__V1__DownloadPieceFailedRequest piece_failed = DFLY__V1__DOWNLOAD_PIECE_FAILED_REQUEST__INIT;
  Dfly__V1__DownloadPieceBackToSourceFailedRequest source_piece_failed =
    DFLY__V1__DOWNLOAD_PIECE_BACK_TO_SOURCE_FAILED_REQUEST__INIT;
  Dfly__V1__DownloadPeerFailedRequest failed = DFLY__V1__DOWNLOAD_PEER_FAILED_REQUEST__INIT;
  Dfly__V1__DownloadPeerBackToSourceFailedRequest source_failed =
    DFLY__V1__DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED_REQUEST__INIT;
  Dfly__V1__ReschedulePeerRequest reschedule = DFLY__V1__RESCHEDULE_PEER_REQUEST__INIT;
  Dfly__V1__Piece                 piece = DFLY__V1__PIECE__INIT;
  char                           *failed_parents[3];
  Stream                         *s = &w->streams[take_byte (r) % N_STREAMS];
  guint8                          flags;

  request.task_id = (char *) TAKE (r, task_ids);
  request.peer_id = (char *) TAKE (r, peer_ids);
  request.host_id = (char *) TAKE (r, host_ids);
  switch (kind) {
  case STEP_REGISTER:
    flags = take_byte (r);
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_REGISTER_PEER;
    request.register_peer = &reg;
    reg.holds_content = (flags & 1) != 0;
    if (flags & 2) {
      download.url = (char *) TAKE (r, urls);
      download.piece_length = take_number (r);
      download.need_back_to_source = (flags & 4) != 0;
      download.digest = (char *) TAKE (r, digests);
      reg.download = &download;
    }
    break;
  case STEP_STARTED:
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_STARTED;
    request.download_peer_started = &started;
    break;
  case STEP_SOURCE_STARTED:
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_STARTED;
    request.download_peer_back_to_source_started = &source_started;
    source_started.content_length = (gint64) take_number (r);
    source_started.piece_length = take_number (r);
    break;
  case STEP_FINISHED:
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FINISHED;
    request.download_peer_finished = &finished;
    finished.content_length = take_number (r);
    finished.piece_count = (guint32) take_number (r);
    break;
  case STEP_SOURCE_FINISHED:
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FINISHED;
    request.download_peer_back_to_source_finished = &source_finished;
    source_finished.content_length = take_number (r);
    source_finished.piece_count = (guint32) take_number (r);
    break;
  case STEP_PIECE:
  case STEP_SOURCE_PIECE:
    piece.number = (guint32) take_number (r);
    piece.offset = take_number (r);
    piece.length = take_number (r);
    piece.digest = (char *) TAKE (r, digests);
    piece.parent_id = (char *) TAKE (r, peer_ids);
    if (kind == STEP_PIECE) {
      request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FINISHED;
      request.download_piece_finished = &piece_finished;
      piece_finished.piece = &piece;
    } else {
      request.request_case =
        DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FINISHED;
      request.download_piece_back_to_source_finished = &source_piece;
      source_piece.piece = &piece;
    }
    break;
  case STEP_PIECE_FAILED:
    flags = take_byte (r);
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED;
    request.download_piece_failed = &piece_failed;
    piece_failed.piece_number = (guint32) take_number (r);
    piece_failed.parent_id = (char *) TAKE (r, peer_ids);
    piece_failed.temporary = (flags & 1) != 0;
    piece_failed.digest_mismatch = (flags & 2) != 0;
    break;
  case STEP_SOURCE_PIECE_FAILED:
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_BACK_TO_SOURCE_FAILED;
    request.download_piece_back_to_source_failed = &source_piece_failed;
    source_piece_failed.piece_number = (guint32) take_number (r);
    break;
  case STEP_FAILED:
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_FAILED;
    request.download_peer_failed = &failed;
    break;
  case STEP_SOURCE_FAILED:
    request.request_case =
      DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PEER_BACK_TO_SOURCE_FAILED;
    request.download_peer_back_to_source_failed = &source_failed;
    break;
  case STEP_RESCHEDULE:
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_RESCHEDULE_PEER;
    request.reschedule_peer = &reschedule;
    reschedule.n_failed_parent_ids = take_byte (r) % (G_N_ELEMENTS (failed_parents) + 1);
    for (gsize i = 0; i < reschedule.n_failed_parent_ids; i++)
      failed_parents[i] = (char *) TAKE (r, peer_ids);
    reschedule.failed_parent_ids = failed_parents;
    break;
  default: /* STEP_EMPTY: no request set */
    break;
  }
  deliver (w, s, &request);
}

static void
step (World *w, Reader *r)
{
  StepKind kind = take_byte (r) % N_STEPS;

  switch (kind) {
  case STEP_HANG_UP:
    stream_hang_up (&w->streams[take_byte (r) % N_STREAMS]);
    break;
  case STEP_HOST_LEFT: {
    const char *host = TAKE (r, host_ids);

    g_hash_table_remove (w->hosts, host);
    dfly_schedule_host_left (w->schedule, host);
    break;
  }
  case STEP_HOST_ANNOUNCED:
    announce_host (w, TAKE (r, host_ids), take_byte (r) % (DFLY_HOST_TYPE_WEAK + 1));
    break;
  case STEP_TIME_PASSES: {
    Dfly__V1__Task *task = dfly_schedule_stat_task (w->schedule, TAKE (r, task_ids));

    fast_forward (w);
    if (task != NULL)
      g_assert (task->peer_count <= MAX_PEERS);
    dfly_schedule_free_task_message (task);
    break;
  }
  default:
    step_announce (w, kind, r);
    break;
  }
  run_iterations (w, ITERATIONS);
}

/* ---- the run ---- */

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DflyScheduleHosts hosts = { hosts_lookup, hosts_list_seeds, NULL };
  Reader            reader = { data, size };
  World             w = { shared_context () };
  gsize             heap_before = heap_in_use ();
  guint             open;

  /* Whatever an earlier input left to dispatch, before counting. */
  run_iterations (NULL, ITERATIONS);
  w.first_source = g_idle_add (noop, NULL);
  g_source_remove (w.first_source);
  w.hosts =
    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dfly_host_info_unref);
  announce_host (&w, "seed", DFLY_HOST_TYPE_SUPER);
  announce_host (&w, "host-a", DFLY_HOST_TYPE_NORMAL);
  announce_host (&w, "host-b", DFLY_HOST_TYPE_NORMAL);
  hosts.user_data = &w;
  w.algorithm =
    g_object_new (dfly_plugin_query ()->get_type (), "context", w.context, "name", "default", NULL);
  w.schedule = dfly_schedule_new (w.context, w.algorithm, &hosts);
  for (guint i = 0; i < N_STREAMS; i++)
    stream_open (&w, i);

  for (guint n = 0; n < MAX_STEPS && reader.left > 0; n++) {
    step (&w, &reader);
    g_assert (dfly_schedule_get_n_tasks (w.schedule) <= MAX_TASKS);
    g_assert (dfly_schedule_get_n_peers (w.schedule) <= MAX_TASKS * MAX_PEERS);
    g_assert (heap_in_use () < heap_before + MAX_HEAP_GROWTH);
  }

  /* Every peer hangs up: every peer leaves, and with them every task. */
  for (guint i = 0; i < N_STREAMS; i++)
    stream_hang_up (&w.streams[i]);
  for (guint round = 0; round < CLOSE_ROUNDS; round++) {
    open = 0;
    for (guint i = 0; i < N_STREAMS; i++)
      open += !stream_is_closed (&w.streams[i]);
    if (open == 0)
      break;
    fast_forward (&w);
    run_iterations (&w, ITERATIONS);
  }
  g_assert (open == 0);
  g_assert (dfly_schedule_get_n_peers (w.schedule) == 0);
  g_assert (dfly_schedule_get_n_tasks (w.schedule) == 0);

  for (guint i = 0; i < N_STREAMS; i++) {
    g_object_unref (w.streams[i].ws);
    g_byte_array_unref (w.streams[i].received);
  }
  g_object_unref (w.schedule);
  g_object_unref (w.algorithm);
  /* The seed orders the session cancelled finish now. */
  fast_forward (&w);
  run_iterations (NULL, CLOSE_ROUNDS);
  g_hash_table_unref (w.hosts);
  return 0;
}
