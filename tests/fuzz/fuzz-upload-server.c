/* fuzz-upload-server.c — libFuzzer target: what a peer sends the upload
 * server, on a real connection to a real DflyUploadServer
 *
 * The server runs in this process on 127.0.0.1, over the real disk storage
 * holding one task with two of its four pieces. The input's first byte
 * picks a normal peer's server or a seed's (which takes the scheduler's
 * /v1/download-task orders); the rest is sent as it is on one new
 * connection, which is then half-closed: piece GETs (the piece sender),
 * /v1/download-piece and /v1/download-task POSTs, the /v1/sync-pieces
 * WebSocket upgrade and its frames, or anything else. What the server
 * answers is read and dropped until it closes the connection or goes
 * quiet, within a bound; then the peer hangs up. Checked: no crash, no
 * leak, no GLib warning, and every upload slot free again afterwards.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <dfly/dfly.h>

#include "plugins/roles/engine/dfly-upload-server.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The disk storage plugin, compiled into libtest-disk (run.sh, local.mk). */
GType dfly_disk_storage_get_type (void);

#define TASK_ID "5eed000000000000000000000000000000000000000000000000000000000000"
#define PIECE   1024
#define PIECES  4
#define WAIT_US (2 * G_USEC_PER_SEC) /* the bound on an exchange */
/* The bound on the slots coming back once the peer is gone: generous (a
 * loaded machine), and with an exchange's below libFuzzer's -timeout=10. */
#define SLOTS_WAIT_US  (7 * G_USEC_PER_SEC)
#define TICK_MS        5
#define QUIET_ROUNDS   10 /* looks at a quiet connection before leaving it */
#define QUIET_SLEEP_US 200
#define MAX_ORDERS     8 /* orders the fuzzer's seed takes, then refuses as busy */

typedef struct {
  char             *dir;
  DflyContext      *context;
  DflyContext      *services; /* the storage's own, as the engine's tests do */
  DflyStorage      *storage;
  DflyRateLimiter  *limiter;
  DflyUploadPolicy *policy;
  DflyUploadServer *peer; /* a normal peer's server */
  DflyUploadServer *seed; /* a seed's, which takes orders */
  guint             orders;
} World;

static World world;

/* The seed's side of an order: the checks a seed makes before it would
 * fetch; a few are taken, the rest refused as busy. */
static gboolean
on_order (const char *task_id, const Dfly__V1__Download *download, gpointer user_data,
          GError **error)
{
  World *w = user_data;

  g_assert (dfly_task_id_is_valid (task_id) && download != NULL && download->url != NULL);
  if (w->orders >= MAX_ORDERS) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "busy");
    return FALSE;
  }
  w->orders++;
  return TRUE;
}

static GLogWriterOutput
quiet_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
commit_piece (World *w, guint32 number)
{
  g_autoptr (DflyPieceInfo) piece = dfly_piece_info_new (TASK_ID, number);
  g_autoptr (GError) error = NULL;
  guint8 bytes[PIECE];

  memset (bytes, 'a' + number, sizeof bytes);
  piece->offset = number * PIECE;
  piece->length = PIECE;
  piece->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, PIECE);
  g_assert (dfly_storage_write (w->storage, TASK_ID, piece->offset, bytes, PIECE, &error));
  g_assert (dfly_storage_commit_piece (w->storage, piece, &error));
}

static void
remove_dir (void)
{
  g_autofree char *argv0 = g_strdup ("rm");

  if (world.dir != NULL)
    g_spawn_sync (NULL, (char *[]){ argv0, (char *) "-rf", world.dir, NULL }, NULL,
                  G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* libsoup 3.2 builds a request's body stream with the Content-Length as
 * sent, and GObject refuses a negative one for the stream's property with
 * a warning; the request is then answered 400 and the server goes on (a
 * dflyd logs the warning). That warning, and only it, is not a finding. */
static gboolean
fatal_unless_libsoup_length (const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
  return !(g_strcmp0 (domain, "GLib-GObject") == 0 && (level & G_LOG_LEVEL_WARNING) &&
           strstr (message, "of type 'gint64' is invalid or out of range for property "
                            "'content-length'") != NULL);
}

/* Made once: the servers, like a dflyd's, live across everything peers send. */
static World *
world_get (void)
{
  World *w = &world;
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflyTaskInfo) task = dfly_task_info_new (TASK_ID, "http://origin.invalid/file");
  g_autoptr (DflyTaskInfo) held = NULL;
  g_autoptr (GError) error = NULL;

  if (w->context != NULL)
    return w;
  g_test_log_set_fatal_handler (fatal_unless_libsoup_length, NULL);
  if (g_getenv ("DFLY_FUZZ_VERBOSE") == NULL)
    g_log_set_writer_func (quiet_writer, NULL, NULL);
  w->dir = g_dir_make_tmp ("dfly-fuzz-upload-XXXXXX", &error);
  g_assert_no_error (error);
  atexit (remove_dir);
  config = dfly_config_new_default ();
  g_free (config->daemon.cache_dir);
  config->daemon.cache_dir = g_strdup (w->dir);
  g_free (config->daemon.state_dir);
  config->daemon.state_dir = g_strdup (w->dir);
  g_free (config->host.ip);
  config->host.ip = g_strdup ("127.0.0.1");
  config->upload.port = 0;
  g_strfreev (config->daemon.roles);
  config->daemon.roles = g_new0 (char *, 1);
  w->context = dfly_context_new (config);
  w->services = dfly_context_new (config);
  w->storage =
    g_object_new (dfly_disk_storage_get_type (), "context", w->services, "name", "disk", NULL);
  g_assert (dfly_storage_load (w->storage, &error));
  task->piece_length = PIECE;
  task->content_length = PIECE * PIECES;
  task->total_pieces = PIECES;
  task->state = DFLY_TASK_STATE_RUNNING;
  held = dfly_storage_open_task (w->storage, task, &error);
  g_assert_no_error (error);
  commit_piece (w, 0);
  commit_piece (w, 2);
  w->limiter = dfly_rate_limiter_new (0);
  w->policy = dfly_upload_policy_new ();
  w->peer = dfly_upload_server_new (w->context, w->storage, w->limiter, DFLY_HOST_TYPE_NORMAL,
                                    w->policy, NULL, NULL, &error);
  g_assert_no_error (error);
  w->seed = dfly_upload_server_new (w->context, w->storage, w->limiter, DFLY_HOST_TYPE_SUPER,
                                    w->policy, on_order, w, &error);
  g_assert_no_error (error);
  return w;
}

static int
connect_to (guint16 port)
{
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = g_htons (port) };
  int                fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  address.sin_addr.s_addr = g_htonl (INADDR_LOOPBACK);
  g_assert (fd >= 0);
  g_assert (connect (fd, (struct sockaddr *) &address, sizeof address) == 0);
  g_assert (g_unix_set_fd_nonblocking (fd, TRUE, NULL));
  return fd;
}

/* Sends what it can (the rest would wait for a server that does not
 * read), reads what comes back and drops it; FALSE once the server has
 * closed. *active says whether anything moved. */
static gboolean
exchange (int fd, const guint8 **data, gsize *left, gboolean *active)
{
  char    buffer[16384];
  ssize_t n;

  if (*left > 0) {
    n = send (fd, *data, *left, MSG_NOSIGNAL);
    if (n > 0) {
      *data += n;
      *left -= (gsize) n;
      *active = TRUE;
    } else if (n < 0 && errno != EAGAIN) {
      *left = 0; /* the server closed first */
    }
    if (*left == 0)
      shutdown (fd, SHUT_WR);
  }
  while ((n = recv (fd, buffer, sizeof buffer, 0)) > 0)
    *active = TRUE;
  return n < 0 && errno == EAGAIN;
}

/* Piece connections each have a thread ("dfly-upload") until they end. */
static guint
count_upload_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  guint       n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = g_build_filename ("/proc/self/task", name, "comm", NULL);
    g_autofree char *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, "dfly-upload"))
      n++;
  }
  return n;
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  World            *w = world_get ();
  DflyUploadServer *server;
  const guint8     *rest = data + (size > 0);
  gsize             left = size > 0 ? size - 1 : 0;
  gint64            deadline = g_get_monotonic_time () + WAIT_US;
  gboolean          open = TRUE;
  guint             quiet = 0;
  guint             tick;
  int               fd;

  server = size > 0 && (data[0] & 1) ? w->seed : w->peer;
  w->orders = 0;
  fd = connect_to (dfly_upload_server_get_port (server));
  if (left == 0)
    shutdown (fd, SHUT_WR);
  /* The peer stays until the server closes or has gone quiet (it keeps
   * a connection alive for the next request), then goes. */
  while (open && quiet < QUIET_ROUNDS && g_get_monotonic_time () < deadline) {
    gboolean active = g_main_context_iteration (NULL, FALSE);

    open = exchange (fd, &rest, &left, &active);
    if (active || left > 0) {
      quiet = 0;
    } else {
      quiet++;
      g_usleep (QUIET_SLEEP_US);
    }
  }
  close (fd);
  /* Uploads on threads notice the peer is gone and give their slot back;
   * their threads end before LeakSanitizer looks at what this input left
   * (on a loaded machine one may take longer: it is not a finding). */
  deadline = g_get_monotonic_time () + SLOTS_WAIT_US;
  tick = g_timeout_add (TICK_MS, on_tick, NULL);
  while ((dfly_upload_server_get_active (w->peer) > 0 ||
          dfly_upload_server_get_active (w->seed) > 0 || count_upload_threads () > 0) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  for (guint i = 0; i < 16 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_assert (dfly_upload_server_get_active (w->peer) == 0);
  g_assert (dfly_upload_server_get_active (w->seed) == 0);
  return 0;
}
