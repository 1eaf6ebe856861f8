/* test-origin.h — a real nginx on loopback, for tests that need an HTTP origin
 *
 * test_origin_start() writes an nginx.conf into a new temporary directory,
 * runs /usr/sbin/nginx in the foreground (daemon off, no master process) on
 * a free 127.0.0.1 port and returns once it accepts connections;
 * test_origin_stop() kills it by pid and removes the directory. nginx is
 * also killed if the test process dies first (PR_SET_PDEATHSIG), so a
 * failed test leaves no server behind.
 *
 * The access log has one line per request:
 *   METHOD URI STATUS BODY_BYTES "RANGE" "USER_AGENT"
 * e.g. `GET /big.bin 206 100 "bytes=0-99" "dfly/0.1"`;
 * test_origin_count_requests() counts the lines matching a glob.
 *
 * Header-only, like the other test helpers; failures are test assertions.
 */
#pragma once

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <gio/gio.h>
#include <glib/gstdio.h>

#define TEST_ORIGIN_NGINX "/usr/sbin/nginx"

typedef struct {
  const char *root;     /* document root (required) */
  const char *server;   /* extra directives inside server { }, e.g. locations */
  const char *tls_cert; /* PEM certificate and key files: serve https */
  const char *tls_key;
} TestOriginOptions;

typedef struct {
  GPid    pid;
  char   *dir; /* temporary: nginx.conf, logs, pid file, temp paths */
  char   *access_log;
  char   *url; /* http[s]://127.0.0.1:PORT, no trailing slash */
  guint16 port;
} TestOrigin;

/* A port nothing listens on right now (the kernel's pick for port 0). */
static inline guint16
test_origin_free_port (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket =
    g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Removes a directory tree (the origin's, or a test's document root). */
static inline void
test_origin_remove_tree (const char *path)
{
  GDir       *dir;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

      test_origin_remove_tree (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

static inline void
test_origin_child_setup (gpointer data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

/* Whether something accepts connections on 127.0.0.1:port. */
static inline gboolean
test_origin_accepts (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

/* Waits up to timeout_ms for pid to exit; returns whether it did (and reaps it). */
static inline gboolean
test_origin_reap (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  do {
    pid_t done = waitpid (pid, NULL, WNOHANG);

    if (done == pid || (done < 0 && errno == ECHILD))
      return TRUE;
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  } while (g_get_monotonic_time () < deadline);
  return FALSE;
}

static inline char *
test_origin_config (const TestOriginOptions *options, const char *dir, guint16 port)
{
  g_autofree char *tls = NULL;

  if (options->tls_cert != NULL)
    tls = g_strdup_printf ("ssl_certificate %s;\n    ssl_certificate_key %s;", options->tls_cert,
                           options->tls_key);
  return g_strdup_printf ("daemon off;\n"
                          "master_process off;\n"
                          "worker_processes 1;\n"
                          "pid %1$s/nginx.pid;\n"
                          "error_log %1$s/error.log warn;\n"
                          "events { worker_connections 256; }\n"
                          "http {\n"
                          "  default_type application/octet-stream;\n"
                          "  log_format dfly_test '$request_method $uri $status $body_bytes_sent "
                          "\"$http_range\" \"$http_user_agent\"';\n"
                          "  access_log %1$s/access.log dfly_test;\n"
                          "  client_body_temp_path %1$s/client_body;\n"
                          "  proxy_temp_path %1$s/proxy;\n"
                          "  fastcgi_temp_path %1$s/fastcgi;\n"
                          "  uwsgi_temp_path %1$s/uwsgi;\n"
                          "  scgi_temp_path %1$s/scgi;\n"
                          "  server {\n"
                          "    listen 127.0.0.1:%2$u%3$s;\n"
                          "    server_name localhost;\n"
                          "    root %4$s;\n"
                          "    %5$s\n"
                          "    %6$s\n"
                          "  }\n"
                          "}\n",
                          dir, (guint) port, tls != NULL ? " ssl" : "", options->root,
                          tls != NULL ? tls : "", options->server != NULL ? options->server : "");
}

/* Starts nginx once on a fresh port; NULL if it exited (e.g. the port was
 * taken in between), its error log then in *log. */
static inline TestOrigin *
test_origin_try_start (const TestOriginOptions *options, char **log)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("dfly-origin-XXXXXX", &error);
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *error_log = NULL;
  guint16          port = test_origin_free_port ();
  gint64           deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  TestOrigin      *origin;
  GPid             pid;

  g_assert_no_error (error);
  conf_path = g_build_filename (dir, "nginx.conf", NULL);
  error_log = g_build_filename (dir, "error.log", NULL);
  conf = test_origin_config (options, dir, port);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, &error));
  g_assert_no_error (error);
  {
    const char *argv[] = { TEST_ORIGIN_NGINX, "-p", dir, "-c", conf_path, "-e", error_log, NULL };

    g_assert_true (g_spawn_async (dir, (char **) argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                  test_origin_child_setup, NULL, &pid, &error));
    g_assert_no_error (error);
  }

  while (!test_origin_accepts (port)) {
    gboolean exited = waitpid (pid, NULL, WNOHANG) == pid;

    if (exited || g_get_monotonic_time () > deadline) {
      if (!exited) {
        kill (pid, SIGKILL);
        test_origin_reap (pid, 5000);
      }
      g_spawn_close_pid (pid);
      g_file_get_contents (error_log, log, NULL, NULL);
      test_origin_remove_tree (dir);
      return NULL;
    }
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  }

  origin = g_new0 (TestOrigin, 1);
  origin->pid = pid;
  origin->port = port;
  origin->access_log = g_build_filename (dir, "access.log", NULL);
  origin->url =
    g_strdup_printf ("%s://127.0.0.1:%u", options->tls_cert != NULL ? "https" : "http", port);
  origin->dir = g_steal_pointer (&dir);
  return origin;
}

static inline TestOrigin *
test_origin_start_full (const TestOriginOptions *options)
{
  g_autofree char *log = NULL;

  g_assert_nonnull (options->root);
  g_assert_true ((options->tls_cert == NULL) == (options->tls_key == NULL));
  for (int attempt = 0; attempt < 5; attempt++) {
    TestOrigin *origin;

    g_clear_pointer (&log, g_free);
    origin = test_origin_try_start (options, &log);
    if (origin != NULL)
      return origin;
    /* Only a lost race for the port is worth another try. */
    if (log == NULL || strstr (log, "Address already in use") == NULL)
      break;
  }
  g_error ("nginx did not start: %s", log != NULL ? log : "(no error log)");
  return NULL;
}

/* An http origin serving root, with extra server directives (may be NULL). */
static inline TestOrigin *
test_origin_start (const char *root, const char *server)
{
  TestOriginOptions options = { .root = root, .server = server };

  return test_origin_start_full (&options);
}

static inline guint16
test_origin_get_port (TestOrigin *origin)
{
  return origin->port;
}

/* "http://127.0.0.1:PORT" (or https), without a trailing slash. */
static inline const char *
test_origin_get_url (TestOrigin *origin)
{
  return origin->url;
}

static inline const char *
test_origin_get_access_log (TestOrigin *origin)
{
  return origin->access_log;
}

/* Access log lines matching glob (g_pattern_match_simple), e.g. "GET /x *". */
static inline guint
test_origin_count_requests (TestOrigin *origin, const char *glob)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (origin->access_log, &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && g_pattern_match_simple (glob, lines[i]))
      n++;
  return n;
}

/* nginx logs a request after answering it: waits up to timeout_ms for at
 * least n matching lines, then a little longer for any extra one, and
 * returns the count. */
static inline guint
test_origin_wait_requests (TestOrigin *origin, const char *glob, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (test_origin_count_requests (origin, glob) < n && g_get_monotonic_time () < deadline)
    g_usleep (5 * G_TIME_SPAN_MILLISECOND);
  g_usleep (50 * G_TIME_SPAN_MILLISECOND);
  return test_origin_count_requests (origin, glob);
}

/* Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
static inline void
test_origin_stop (TestOrigin *origin)
{
  if (origin == NULL)
    return;
  kill (origin->pid, SIGTERM);
  if (!test_origin_reap (origin->pid, 5000)) {
    kill (origin->pid, SIGKILL);
    g_assert_true (test_origin_reap (origin->pid, 5000));
  }
  g_spawn_close_pid (origin->pid);
  test_origin_remove_tree (origin->dir);
  g_free (origin->dir);
  g_free (origin->access_log);
  g_free (origin->url);
  g_free (origin);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestOrigin, test_origin_stop)
