/* test-http-source.c — the http source against a real nginx on loopback
 *
 * Most tests talk to nginx (tests/test-origin.h) and count what reached it
 * in its access log. What nginx cannot be made to do on cue — close a body
 * short, answer a scripted series of statuses, never answer at all — comes
 * from a tiny canned server in a thread, or a socket that listens and never
 * accepts.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "../../../tests/test-origin.h"
#include "../../../tests/test-soup-server.h"

/* From dfly-http-source.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_http_source_get_type (void);

#define BIG_SIZE (1024 * 1024 + 4321)

/* The nginx locations the tests use; every folder holds the same files. */
static const char origin_locations[] =
  "location /nohead/ { if ($request_method = HEAD) { return 405; } }\n"
  "location /noranges/ { max_ranges 0; }\n"
  "location /nohead-noranges/ { max_ranges 0; if ($request_method = HEAD) { return 405; } }\n"
  "location /chunked/ { sub_filter_types *; sub_filter 'x-never-x' 'y'; sub_filter_once off; }\n"
  "location /fail/ { return 500; }\n"
  "location /headers/ { if ($http_x_dfly_test != \"yes\") { return 403; } }\n"
  "location = /redirect { return 302 /big.bin; }\n"
  "location = /loop { return 302 /loop; }\n"
  "location = /redirect-ftp { return 302 ftp://127.0.0.1/big.bin; }\n"
  "location = /same-origin { return 307 /needauth/one.bin; }\n"
  "location = /cross-origin { return 302 http://localhost:$server_port/noauth/one.bin; }\n"
  "location /needauth/ { if ($http_authorization != \"Bearer t\") { return 401; } }\n"
  "location /noauth/ {\n"
  "  if ($http_authorization != \"\") { return 400; }\n"
  "  if ($http_cookie != \"\") { return 400; }\n"
  "  if ($http_x_dfly_test != \"yes\") { return 403; }\n"
  "}\n"
  "location /digest/ { add_header Digest \"sha-256=%s\"; }\n";

static const char *const origin_folders[] = {
  "",        "nohead", "noranges", "nohead-noranges", "chunked",
  "headers", "digest", "needauth", "noauth",          NULL,
};

typedef struct {
  char        *root;
  TestOrigin  *origin;
  DflyContext *context;
  DflySource  *source;
  GBytes      *big; /* big.bin's bytes */
} Fixture;

static DflyConfig *
fixture_config (Fixture *f)
{
  return dfly_context_get_config (f->context);
}

static char *
fixture_url (Fixture *f, const char *path)
{
  return g_strconcat (test_origin_get_url (f->origin), path, NULL);
}

static void
write_file (const char *dir, const char *name, const void *data, gsize size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
}

static GBytes *
big_contents (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  guint8 *data = g_malloc (BIG_SIZE);

  for (gsize i = 0; i < BIG_SIZE; i++)
    data[i] = (guint8) g_rand_int_range (rand, 0, 256);
  return g_bytes_new_take (data, BIG_SIZE);
}

static char *
sha256_base64 (GBytes *bytes)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize  length = sizeof digest;

  g_checksum_update (checksum, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_checksum_get_digest (checksum, digest, &length);
  return g_base64_encode (digest, length);
}

static DflySource *
source_new (DflyContext *context)
{
  return g_object_new (dfly_http_source_get_type (), "context", context, "name", "http", NULL);
}

/* A root with empty.bin, one.bin and big.bin in every folder, and nginx on it. */
static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autofree char *digest = NULL;
  g_autofree char *locations = NULL;

  f->root = g_dir_make_tmp ("dfly-http-root-XXXXXX", &error);
  g_assert_no_error (error);
  f->big = big_contents ();
  for (guint i = 0; origin_folders[i] != NULL; i++) {
    g_autofree char *folder = g_build_filename (f->root, origin_folders[i], NULL);

    g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
    write_file (folder, "empty.bin", "", 0);
    write_file (folder, "one.bin", "x", 1);
    write_file (folder, "big.bin", g_bytes_get_data (f->big, NULL), BIG_SIZE);
  }
  digest = sha256_base64 (f->big);
  locations = g_strdup_printf (origin_locations, digest);
  f->origin = test_origin_start (f->root, locations);

  /* Quick retries and bounded waits; tests tune them further. */
  config->http.retries = 2;
  config->http.retry_backoff_ms = 10;
  config->http.connect_timeout = 5;
  config->http.read_timeout = 5;
  f->context = dfly_context_new (config);
  f->source = source_new (f->context);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->source);
  g_assert_finalize_object (f->context);
  test_origin_stop (f->origin);
  test_origin_remove_tree (f->root);
  g_free (f->root);
  g_bytes_unref (f->big);
}

#define FIXTURE_TEST(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

/* Reads a stream to its end through a fixed buffer; NULL on a read error. */
static GBytes *
read_all (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;) {
    gssize n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    g_byte_array_append (bytes, buffer, (guint) n);
  }
  g_assert_true (g_input_stream_close (stream, NULL, NULL));
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/* open_range, read to the end, and compare with big.bin's bytes. */
static void
assert_range (Fixture *f, const char *path, guint64 offset, gint64 length)
{
  g_autofree char *url = fixture_url (f, path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) got = NULL;
  gsize         expected = length >= 0 ? (gsize) length : BIG_SIZE - offset;
  const guint8 *big = g_bytes_get_data (f->big, NULL);

  stream = dfly_source_open_range (f->source, url, NULL, offset, length, NULL, &error);
  g_assert_no_error (error);
  got = read_all (stream, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), big + offset, expected);
}

/* Requests nginx logged matching glob, after waiting for n of them. */
static guint
wait_requests (Fixture *f, const char *glob, guint n)
{
  return test_origin_wait_requests (f->origin, glob, n, 2000);
}

static guint
count_requests (Fixture *f, const char *glob)
{
  return test_origin_count_requests (f->origin, glob);
}

static gint64
elapsed_ms (gint64 start)
{
  return (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
}

/* ---- A canned server: one scripted answer per connection ---- */

typedef struct {
  GSocket      *socket;
  GThread      *thread;
  GCancellable *cancellable;
  GPtrArray    *answers;     /* GBytes per connection, the last repeats; empty: hang up */
  gint          connections; /* accepted so far (atomic) */
  gint          hold;        /* atomic: keep connections open after answering */
  char         *url;         /* http://127.0.0.1:PORT */
} CannedServer;

static GSocket *
listening_socket (int backlog)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket =
    g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  g_assert_no_error (error);
  g_socket_set_listen_backlog (socket, backlog);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  g_assert_true (g_socket_listen (socket, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

static char *
socket_url (GSocket *socket)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (socket, NULL);

  return g_strdup_printf ("http://127.0.0.1:%u",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

static gpointer
canned_server_run (gpointer data)
{
  CannedServer *server = data;

  for (guint i = 0;; i++) {
    g_autoptr (GSocket) peer = g_socket_accept (server->socket, server->cancellable, NULL);
    g_autoptr (GString) request = g_string_new (NULL);
    GBytes *answer;
    gsize   sent = 0;

    if (peer == NULL)
      return NULL;
    g_atomic_int_inc (&server->connections);
    g_socket_set_timeout (peer, 5);
    while (strstr (request->str, "\r\n\r\n") == NULL && request->len < 65536) {
      char   buffer[4096];
      gssize n = g_socket_receive (peer, buffer, sizeof buffer, server->cancellable, NULL);

      if (n <= 0)
        break;
      g_string_append_len (request, buffer, n);
    }
    answer = g_ptr_array_index (server->answers, MIN (i, server->answers->len - 1));
    while (sent < g_bytes_get_size (answer)) {
      gssize n = g_socket_send (peer, (const char *) g_bytes_get_data (answer, NULL) + sent,
                                g_bytes_get_size (answer) - sent, server->cancellable, NULL);

      if (n <= 0)
        break;
      sent += n;
    }
    if (g_atomic_int_get (&server->hold))
      g_socket_condition_wait (peer, G_IO_HUP, server->cancellable, NULL);
    g_socket_shutdown (peer, FALSE, TRUE, NULL);
    g_socket_close (peer, NULL);
  }
}

/* Answers are NULL-terminated strings; a body with NUL bytes is not needed. */
static CannedServer *
canned_server_new (const char *first, ...)
{
  CannedServer *server = g_new0 (CannedServer, 1);
  va_list       args;

  server->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  va_start (args, first);
  for (const char *answer = first; answer != NULL; answer = va_arg (args, const char *))
    g_ptr_array_add (server->answers, g_bytes_new (answer, strlen (answer)));
  va_end (args);
  server->socket = listening_socket (16);
  server->url = socket_url (server->socket);
  server->cancellable = g_cancellable_new ();
  server->thread = g_thread_new ("canned-server", canned_server_run, server);
  return server;
}

static void
canned_server_free (CannedServer *server)
{
  g_cancellable_cancel (server->cancellable);
  g_thread_join (server->thread);
  g_object_unref (server->cancellable);
  g_object_unref (server->socket);
  g_ptr_array_unref (server->answers);
  g_free (server->url);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CannedServer, canned_server_free)

static char *
canned_url (CannedServer *server, const char *path)
{
  return g_strconcat (server->url, path, NULL);
}

/* ---- Cancelling from another thread after a delay ---- */

typedef struct {
  GCancellable *cancellable;
  guint         delay_ms;
} CancelLater;

static gpointer
cancel_later_run (gpointer data)
{
  CancelLater *later = data;

  g_usleep (later->delay_ms * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (later->cancellable);
  return NULL;
}

/* ---- Tests ---- */

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "http");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_SOURCE);
  g_assert_cmpstr (descriptor->version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_SOURCE));
}

static void
test_schemes (Fixture *f, gconstpointer data)
{
  g_assert_true (dfly_source_handles_url (f->source, "http://example.com/x"));
  g_assert_true (dfly_source_handles_url (f->source, "https://example.com/x"));
  g_assert_false (dfly_source_handles_url (f->source, "ftp://example.com/x"));
  g_assert_false (dfly_source_handles_url (f->source, "not a url"));
}

static void
assert_stat (Fixture *f, const char *path, gint64 length, gboolean accepts_ranges)
{
  g_autofree char *url = fixture_url (f, path);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = dfly_source_stat (f->source, url, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stat);
  g_assert_cmpint (stat->content_length, ==, length);
  g_assert_cmpint (stat->accepts_ranges, ==, accepts_ranges);
  g_assert_nonnull (stat->etag);
  g_assert_true (g_str_has_prefix (stat->etag, "\"") || g_str_has_prefix (stat->etag, "W/\""));
  g_assert_nonnull (stat->last_modified);
  g_assert_true (g_str_has_suffix (stat->last_modified, " GMT"));
}

/* HEAD gives length, validators and range support; one request each. */
static void
test_stat_sizes (Fixture *f, gconstpointer data)
{
  assert_stat (f, "/empty.bin", 0, TRUE);
  assert_stat (f, "/one.bin", 1, TRUE);
  assert_stat (f, "/big.bin", BIG_SIZE, TRUE);
  g_assert_cmpuint (wait_requests (f, "HEAD /*.bin 200 0 *", 3), ==, 3);
  g_assert_cmpuint (count_requests (f, "*"), ==, 3);
  /* Who asked, in the User-Agent. */
  g_assert_cmpuint (count_requests (f, "* \"dfly/" PACKAGE_VERSION "\""), ==, 3);
}

/* HEAD answered 405: the first byte by GET tells the length. */
static void
test_stat_head_refused (Fixture *f, gconstpointer data)
{
  assert_stat (f, "/nohead/big.bin", BIG_SIZE, TRUE);
  assert_stat (f, "/nohead/one.bin", 1, TRUE);
  /* nginx ignores ranges of an empty file: a 200, so no ranges to speak of. */
  assert_stat (f, "/nohead/empty.bin", 0, FALSE);
  g_assert_cmpuint (wait_requests (f, "GET /nohead/*", 3), ==, 3);
  g_assert_cmpuint (count_requests (f, "HEAD /nohead/* 405 *"), ==, 3);
  g_assert_cmpuint (count_requests (f, "GET /nohead/big.bin 206 1 \"bytes=0-0\" *"), ==, 1);
  g_assert_cmpuint (count_requests (f, "GET /nohead/empty.bin 200 0 *"), ==, 1);
}

/* Others answer the first byte of an empty file with 416 "bytes * /0". */
static void
test_stat_head_refused_empty (void)
{
  g_autoptr (CannedServer) server = canned_server_new (
    "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\nETag: \"e\"\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n",
    NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = dfly_context_new (config);
  g_autoptr (DflySource) source = source_new (context);
  g_autofree char *url = canned_url (server, "/empty");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;

  stat = dfly_source_stat (source, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, 0);
  g_assert_true (stat->accepts_ranges);
  g_assert_cmpstr (stat->etag, ==, "\"e\"");
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 2);
}

/* HEAD refused and no ranges: the GET's 200 gives the length, its body unread. */
static void
test_stat_head_refused_no_ranges (Fixture *f, gconstpointer data)
{
  assert_stat (f, "/nohead-noranges/big.bin", BIG_SIZE, FALSE);
  g_assert_cmpuint (wait_requests (f, "GET /nohead-noranges/big.bin 200 *", 1), ==, 1);
}

static void
test_stat_no_ranges (Fixture *f, gconstpointer data)
{
  assert_stat (f, "/noranges/big.bin", BIG_SIZE, FALSE);
}

/* Every range is exactly the file's bytes, asked for exactly. */
static void
test_ranges_exact (Fixture *f, gconstpointer data)
{
  g_autofree char *empty_url = fixture_url (f, "/big.bin");
  g_autoptr (GInputStream) empty = NULL;
  g_autoptr (GBytes) none = NULL;
  g_autoptr (GError) error = NULL;

  assert_range (f, "/big.bin", 0, 1);
  assert_range (f, "/big.bin", 0, -1);
  assert_range (f, "/big.bin", 1000, 5000);
  assert_range (f, "/big.bin", BIG_SIZE - 1, 1);
  assert_range (f, "/big.bin", BIG_SIZE - 100, -1);
  assert_range (f, "/big.bin", 4096, BIG_SIZE - 4096);
  g_assert_cmpuint (wait_requests (f, "GET /big.bin 206 5000 \"bytes=1000-5999\" *", 1), ==, 1);
  g_assert_cmpuint (count_requests (f, "GET /big.bin 206 100 \"bytes=1052797-\" *"), ==, 1);
  /* The whole file is a plain GET. */
  g_assert_cmpuint (count_requests (f, "GET /big.bin 200 * \"-\" *"), ==, 1);

  /* Nothing asked, nothing sent. */
  empty = dfly_source_open_range (f->source, empty_url, NULL, 10, 0, NULL, &error);
  g_assert_no_error (error);
  none = read_all (empty, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (none), ==, 0);
}

/* A range past the end is the origin's 416; one cut short by the end is refused. */
static void
test_ranges_beyond_end (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/big.bin");
  g_autofree char *expected = g_strdup_printf ("HTTP 416 Requested Range Not Satisfiable: %s", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;

  stream = dfly_source_open_range (f->source, url, NULL, BIG_SIZE, 10, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_null (stream);
  g_clear_error (&error);

  /* nginx answers bytes=N-10..N+9 with the 10 it has: not what was asked. */
  stream = dfly_source_open_range (f->source, url, NULL, BIG_SIZE - 10, 20, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_nonnull (strstr (error->message, "Content-Range"));
  g_assert_null (stream);
  g_clear_error (&error);

  g_assert_null (dfly_source_open_range (f->source, url, NULL, 0, -2, NULL, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
}

/* Without range support: the start works (limited), anything else is NOT_SUPPORTED. */
static void
test_ranges_unsupported (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/noranges/big.bin");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;

  assert_range (f, "/noranges/big.bin", 0, 100);
  assert_range (f, "/noranges/big.bin", 0, -1);

  stream = dfly_source_open_range (f->source, url, NULL, 10, 100, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_null (stream);
  /* Not an origin failure: asked once. */
  g_assert_cmpuint (wait_requests (f, "GET /noranges/big.bin 200 * \"bytes=10-109\" *", 1), ==, 1);
}

/* One raw HTTP/1.1 exchange; returns the response's head. */
static char *
raw_response_head (TestOrigin *origin, const char *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *request =
    g_strdup_printf ("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
  GInputStream *input;
  GString      *head = g_string_new (NULL);

  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", test_origin_get_port (origin),
                                                NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), request,
                             strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);
  input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  while (strstr (head->str, "\r\n\r\n") == NULL) {
    char c;

    g_assert_cmpint (g_input_stream_read (input, &c, 1, NULL, &error), ==, 1);
    g_string_append_c (head, c);
  }
  return g_string_free (head, FALSE);
}

/* No Content-Length (chunked): length -1, and the body reads whole. */
static void
test_chunked (Fixture *f, gconstpointer data)
{
  g_autofree char *head = raw_response_head (f->origin, "/chunked/big.bin");
  g_autofree char *url = fixture_url (f, "/chunked/big.bin");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;

  g_assert_null (strstr (head, "Content-Length"));
  g_assert_nonnull (strstr (head, "Transfer-Encoding: chunked"));

  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, -1);
  assert_range (f, "/chunked/big.bin", 0, -1);
  assert_range (f, "/chunked/big.bin", 0, 1000);
}

/* 404: "HTTP 404 Not Found: URL", asked exactly once. */
static void
test_not_found (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/missing");
  g_autofree char *expected = g_strdup_printf ("HTTP 404 Not Found: %s", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  g_autoptr (GInputStream) stream = NULL;

  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_null (stat);
  g_assert_cmpuint (wait_requests (f, "HEAD /missing 404 *", 1), ==, 1);
  g_clear_error (&error);

  stream = dfly_source_open_range (f->source, url, NULL, 0, 100, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_null (stream);
  g_assert_cmpuint (wait_requests (f, "GET /missing 404 *", 1), ==, 1);
  g_assert_cmpuint (count_requests (f, "*"), ==, 2);
}

/* 500: asked 1 + http.retries times, then "HTTP 500 …". */
static void
test_server_error_retried (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/fail/x");
  g_autofree char *expected = g_strdup_printf ("HTTP 500 Internal Server Error: %s", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  g_autoptr (GInputStream) stream = NULL;
  gint64 start = g_get_monotonic_time ();

  fixture_config (f)->http.retries = 3;
  fixture_config (f)->http.retry_backoff_ms = 50;
  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  /* Backoffs of 50, 100 and 200 ms. */
  g_assert_cmpint (elapsed_ms (start), >=, 350);
  g_assert_cmpuint (wait_requests (f, "HEAD /fail/x 500 *", 4), ==, 4);
  g_clear_error (&error);

  fixture_config (f)->http.retries = 1;
  stream = dfly_source_open_range (f->source, url, NULL, 0, 10, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (wait_requests (f, "GET /fail/x 500 *", 2), ==, 2);
}

#define ANSWER_500 \
  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define ANSWER_503 \
  "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define ANSWER_OK "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"

/* Two failures, then the origin recovers within the retries. */
static void
test_server_error_recovers (void)
{
  g_autoptr (CannedServer) server = canned_server_new (ANSWER_500, ANSWER_503, ANSWER_OK, NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflySource) source = NULL;
  g_autofree char *url = canned_url (server, "/flaky");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;

  config->http.retries = 3;
  config->http.retry_backoff_ms = 10;
  context = dfly_context_new (config);
  source = source_new (context);
  stream = dfly_source_open_range (source, url, NULL, 0, -1, NULL, &error);
  g_assert_no_error (error);
  body = read_all (stream, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "hello", 5);
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 3);
}

/* Not enough retries for the recovery: the last status is the error. */
static void
test_server_error_too_few_retries (void)
{
  g_autoptr (CannedServer) server = canned_server_new (ANSWER_500, ANSWER_503, ANSWER_OK, NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflySource) source = NULL;
  g_autofree char *url = canned_url (server, "/flaky");
  g_autofree char *expected = g_strdup_printf ("HTTP 503 Service Unavailable: %s", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;

  config->http.retries = 1;
  config->http.retry_backoff_ms = 10;
  context = dfly_context_new (config);
  source = source_new (context);
  stat = dfly_source_stat (source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 2);
}

/* A connection closed before any answer is retried like a 5xx. */
static void
test_hang_up_retried (void)
{
  g_autoptr (CannedServer) server = canned_server_new ("", "", ANSWER_OK, NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflySource) source = NULL;
  g_autofree char *url = canned_url (server, "/x");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;

  config->http.retries = 2;
  config->http.retry_backoff_ms = 10;
  context = dfly_context_new (config);
  source = source_new (context);
  stream = dfly_source_open_range (source, url, NULL, 0, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (stream);
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 3);
}

/* Nobody listens: retried with backoff, then an error naming the URL. */
static void
test_connection_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/x", test_origin_free_port ());
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  gint64 start = g_get_monotonic_time ();

  fixture_config (f)->http.retries = 2;
  fixture_config (f)->http.retry_backoff_ms = 100;
  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "refused"));
  g_assert_null (stat);
  /* Backoffs of 100 and 200 ms, and no more. */
  g_assert_cmpint (elapsed_ms (start), >=, 300);
  g_assert_cmpint (elapsed_ms (start), <, 3000);
}

/* An origin that accepts and never answers: DFLY_ERROR_TIMEOUT after
 * read_timeout per attempt. */
static void
test_read_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) stalled = listening_socket (16);
  g_autofree char *base = socket_url (stalled);
  g_autofree char *url = g_strconcat (base, "/stalled", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  gint64 start = g_get_monotonic_time ();

  fixture_config (f)->http.read_timeout = 1;
  fixture_config (f)->http.retries = 1;
  stream = dfly_source_open_range (f->source, url, NULL, 0, 10, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT);
  g_test_message ("stalled: %s", error->message);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_null (stream);
  g_assert_cmpint (elapsed_ms (start), >=, 1900);
  g_assert_cmpint (elapsed_ms (start), <, 6000);
}

/* Whether a connect to socket stays pending (its accept queue is full). */
static gboolean
connect_stalls (GSocket *listener, GPtrArray *fillers)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (listener, NULL);

  /* Fill the queue (backlog 0 holds one), then see whether one more waits. */
  for (guint i = 0; i < 3; i++) {
    GSocket *filler =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr (GError) error = NULL;

    g_socket_set_blocking (filler, FALSE);
    g_ptr_array_add (fillers, filler);
    if (!g_socket_connect (filler, address, NULL, &error) &&
        !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
      return FALSE;
    if (i == 2 && error != NULL) {
      g_usleep (300 * G_TIME_SPAN_MILLISECOND);
      return !g_socket_condition_check (filler, G_IO_OUT);
    }
  }
  return FALSE;
}

/* A connect that never completes: DFLY_ERROR_TIMEOUT after connect_timeout,
 * however long read_timeout is. */
static void
test_connect_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) full = listening_socket (0);
  g_autoptr (GPtrArray) fillers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *base = socket_url (full);
  g_autofree char *url = g_strconcat (base, "/full", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  gint64 start;

  if (!connect_stalls (full, fillers)) {
    g_test_skip ("connects to a full accept queue do not stall here");
    return;
  }
  fixture_config (f)->http.connect_timeout = 1;
  fixture_config (f)->http.read_timeout = 30;
  fixture_config (f)->http.retries = 0;
  start = g_get_monotonic_time ();
  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT);
  g_test_message ("connect stalled: %s", error->message);
  g_assert_nonnull (strstr (error->message, "connecting to"));
  g_assert_nonnull (strstr (error->message, url));
  g_assert_cmpint (elapsed_ms (start), >=, 900);
  g_assert_cmpint (elapsed_ms (start), <, 5000);
}

/* Reads the stream expecting a failure; the error must not be success. */
static void
assert_body_fails (DflySource *source, const char *url, guint64 offset, gint64 length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;

  stream = dfly_source_open_range (source, url, NULL, offset, length, NULL, &error);
  g_assert_no_error (error);
  body = read_all (stream, NULL, &error);
  g_assert_null (body);
  g_assert_nonnull (error);
  g_test_message ("truncated body: %s", error->message);
  g_assert_true (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_SOURCE) ||
                 error->domain == G_IO_ERROR);
}

/* The origin closes before the body it announced is complete. */
static void
test_truncated_body (void)
{
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflySource) source = NULL;
  g_autofree char *half = g_strnfill (500, 'a');
  g_autofree char *short_200 = g_strconcat (
    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n", half, NULL);
  g_autofree char *short_206 =
    g_strconcat ("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-999/5000\r\n"
                 "Content-Length: 1000\r\nConnection: close\r\n\r\n",
                 half, NULL);
  g_autofree char *short_chunked = g_strconcat (
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3e8\r\n", half,
    NULL);

  config->http.retries = 0;
  context = dfly_context_new (config);
  source = source_new (context);
  {
    g_autoptr (CannedServer) server = canned_server_new (short_200, NULL);
    g_autofree char *url = canned_url (server, "/x");

    assert_body_fails (source, url, 0, -1);
    assert_body_fails (source, url, 0, 800);
  }
  {
    g_autoptr (CannedServer) server = canned_server_new (short_206, NULL);
    g_autofree char *url = canned_url (server, "/x");

    assert_body_fails (source, url, 0, 1000);
  }
  {
    g_autoptr (CannedServer) server = canned_server_new (short_chunked, NULL);
    g_autofree char *url = canned_url (server, "/x");

    assert_body_fails (source, url, 0, -1);
  }
}

/* An origin that stops sending half way: the read fails after read_timeout. */
static void
test_body_stalls (void)
{
  g_autofree char *part = g_strnfill (100, 'a');
  g_autofree char *answer = g_strconcat (
    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n", part, NULL);
  g_autoptr (CannedServer) server = canned_server_new (answer, NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = NULL;
  g_autoptr (DflySource) source = NULL;
  g_autofree char *url = canned_url (server, "/x");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;
  gint64 start;

  g_atomic_int_set (&server->hold, TRUE);
  config->http.read_timeout = 1;
  context = dfly_context_new (config);
  source = source_new (context);
  stream = dfly_source_open_range (source, url, NULL, 0, -1, NULL, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  body = read_all (stream, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_null (body);
  g_assert_cmpint (elapsed_ms (start), >=, 900);
  g_assert_cmpint (elapsed_ms (start), <, 4000);
}

/* A 200 shorter than the range asked for is refused before reading. */
static void
test_short_whole_body (void)
{
  g_autoptr (CannedServer) server = canned_server_new (ANSWER_OK, NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = dfly_context_new (config);
  g_autoptr (DflySource) source = source_new (context);
  g_autofree char *url = canned_url (server, "/x");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;

  stream = dfly_source_open_range (source, url, NULL, 0, 100, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_null (stream);
}

/* A 206 for other bytes than asked is refused. */
static void
test_wrong_content_range (void)
{
  g_autoptr (CannedServer) server = canned_server_new (
    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-14/100\r\nContent-Length: 10\r\n"
    "Connection: close\r\n\r\n0123456789",
    NULL);
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  g_autoptr (DflyContext) context = dfly_context_new (config);
  g_autoptr (DflySource) source = source_new (context);
  g_autofree char *url = canned_url (server, "/x");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;

  stream = dfly_source_open_range (source, url, NULL, 0, 10, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_nonnull (strstr (error->message, "bytes 5-14/100"));
  g_assert_null (stream);
  /* Not an outage: no retry. */
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 1);
}

/* Header names and values that could split or smuggle a request are refused
 * before anything is sent. */
static void
test_hostile_headers (Fixture *f, gconstpointer data)
{
  static const char *const hostile[][2] = {
    { "X-Evil", "a\r\nInjected: 1" },
    { "X-Evil", "a\nb" },
    { "X-Evil", "a\rb" },
    { "X-Evil", "bell\a" },
    { "X-Evil\r\nInjected", "1" },
    { "X Evil", "1" },
    { "X-Evil:", "1" },
    { "", "1" },
    { "Range", "bytes=0-" },
    { "host", "elsewhere" },
    { "Transfer-Encoding", "chunked" },
  };
  g_autofree char *url = fixture_url (f, "/big.bin");

  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++) {
    g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflySourceStat) stat = NULL;
    g_autoptr (GInputStream) stream = NULL;

    g_hash_table_insert (headers, (char *) hostile[i][0], (char *) hostile[i][1]);
    stat = dfly_source_stat (f->source, url, headers, NULL, &error);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_null (stat);
    g_assert_null (strchr (error->message, '\n'));
    g_clear_error (&error);
    stream = dfly_source_open_range (f->source, url, headers, 0, 10, NULL, &error);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_null (stream);
  }
  g_assert_cmpuint (test_origin_wait_requests (f->origin, "*", 1, 300), ==, 0);
}

/* Well-formed caller headers reach the origin. */
static void
test_headers_passed (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/headers/one.bin");
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) refused = NULL;
  g_autoptr (DflySourceStat) stat = NULL;

  refused = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_true (g_str_has_prefix (error->message, "HTTP 403 Forbidden: "));
  g_clear_error (&error);

  g_hash_table_insert (headers, "X-Dfly-Test", "yes");
  g_hash_table_insert (headers, "Authorization", "Bearer tab\tseparated");
  stat = dfly_source_stat (f->source, url, headers, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, 1);
  assert_range (f, "/big.bin", 0, 10);
}

static void
test_redirect (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/redirect");
  g_autofree char *loop = fixture_url (f, "/loop");
  g_autofree char *expected_loop = g_strdup_printf ("more than 10 redirects: %s", loop);
  g_autofree char *to_ftp = fixture_url (f, "/redirect-ftp");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  g_autoptr (DflySourceStat) looped = NULL;
  g_autoptr (GInputStream) ftp = NULL;

  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, BIG_SIZE);
  assert_range (f, "/redirect", 100, 1000);
  g_assert_cmpuint (wait_requests (f, "GET /big.bin 206 1000 \"bytes=100-1099\" *", 1), ==, 1);

  /* Redirects are capped: a loop ends in an error, not a hang, and is not
   * retried. */
  looped = dfly_source_stat (f->source, loop, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpstr (error->message, ==, expected_loop);
  g_assert_cmpuint (wait_requests (f, "HEAD /loop 302 *", 11), ==, 11);
  g_clear_error (&error);

  /* Only to http and https. */
  ftp = dfly_source_open_range (f->source, to_ftp, NULL, 0, -1, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_test_message ("redirect to ftp: %s", error->message);
  g_assert_nonnull (strstr (error->message, "ftp://127.0.0.1/big.bin"));
  g_assert_null (ftp);
}

/* Credentials follow a redirect on the same origin, not to another one;
 * other headers go on. */
static void
test_redirect_credentials (Fixture *f, gconstpointer data)
{
  g_autofree char *same = fixture_url (f, "/same-origin");
  g_autofree char *cross = fixture_url (f, "/cross-origin");
  g_autofree char *direct = fixture_url (f, "/noauth/one.bin");
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) same_stat = NULL;
  g_autoptr (DflySourceStat) cross_stat = NULL;
  g_autoptr (DflySourceStat) direct_stat = NULL;

  g_hash_table_insert (headers, "Authorization", "Bearer t");
  g_hash_table_insert (headers, "cookie", "session=s");
  g_hash_table_insert (headers, "X-Dfly-Test", "yes");
  same_stat = dfly_source_stat (f->source, same, headers, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (same_stat->content_length, ==, 1);
  cross_stat = dfly_source_stat (f->source, cross, headers, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cross_stat->content_length, ==, 1);
  /* The origin does check. */
  direct_stat = dfly_source_stat (f->source, direct, headers, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_true (g_str_has_prefix (error->message, "HTTP 400 Bad Request: "));
}

static void
test_cancel_before (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/big.bin");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  g_autoptr (GInputStream) stream = NULL;

  g_cancellable_cancel (cancellable);
  stat = dfly_source_stat (f->source, url, NULL, cancellable, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED);
  g_clear_error (&error);
  stream = dfly_source_open_range (f->source, url, NULL, 0, 10, cancellable, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED);
  g_assert_cmpuint (test_origin_wait_requests (f->origin, "*", 1, 300), ==, 0);
}

/* Cancelled while the origin says nothing: back at once, not after read_timeout. */
static void
test_cancel_stalled (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) stalled = listening_socket (16);
  g_autofree char *base = socket_url (stalled);
  g_autofree char *url = g_strconcat (base, "/stalled", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CancelLater later = { cancellable, 200 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  gint64   start = g_get_monotonic_time ();
  GThread *thread;

  fixture_config (f)->http.read_timeout = 30;
  thread = g_thread_new ("cancel", cancel_later_run, &later);
  stream = dfly_source_open_range (f->source, url, NULL, 0, 10, cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED);
  g_assert_cmpint (elapsed_ms (start), <, 3000);
}

/* Cancelled during a backoff: no further attempt. */
static void
test_cancel_backoff (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/fail/x");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CancelLater later = { cancellable, 300 };
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  gint64   start = g_get_monotonic_time ();
  GThread *thread;

  fixture_config (f)->http.retries = 3;
  fixture_config (f)->http.retry_backoff_ms = 10000;
  thread = g_thread_new ("cancel", cancel_later_run, &later);
  stat = dfly_source_stat (f->source, url, NULL, cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_CANCELLED);
  g_assert_cmpint (elapsed_ms (start), <, 3000);
  g_assert_cmpuint (wait_requests (f, "HEAD /fail/x 500 *", 1), ==, 1);
}

/* Cancelled half way through a body: the next read says so. */
static void
test_cancel_body (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/big.bin");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  guint8 buffer[1024];
  gssize n;

  stream = dfly_source_open_range (f->source, url, NULL, 0, -1, cancellable, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_input_stream_read (stream, buffer, sizeof buffer, cancellable, &error), >, 0);
  g_cancellable_cancel (cancellable);
  n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_true (g_error_matches (error, DFLY_ERROR, DFLY_ERROR_CANCELLED) ||
                 g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
}

/* An origin's SHA-256 (Digest: sha-256=…) comes back as "sha256:HEX". */
static void
test_digest (Fixture *f, gconstpointer data)
{
  g_autofree char *url = fixture_url (f, "/digest/big.bin");
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, f->big);
  g_autofree char *expected = g_strconcat ("sha256:", hex, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  g_autoptr (DflySourceStat) plain = NULL;

  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stat->digest, ==, expected);
  g_free (url);
  url = fixture_url (f, "/big.bin");
  plain = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (plain->digest);
}

typedef struct {
  Fixture *f;
  guint    index;
} Worker;

static gpointer
worker_run (gpointer data)
{
  Worker          *worker = data;
  g_autofree char *url = fixture_url (worker->f, "/big.bin");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = dfly_source_stat (worker->f->source, url, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (stat->content_length, ==, BIG_SIZE);
  for (guint i = 0; i < 4; i++) {
    guint64 offset = (worker->index * 4 + i) * 30000;

    assert_range (worker->f, "/big.bin", offset, 30000);
  }
  return NULL;
}

/* Several threads at once share the source (and its session). */
static void
test_threads (Fixture *f, gconstpointer data)
{
  Worker   workers[8];
  GThread *threads[G_N_ELEMENTS (workers)];

  for (guint i = 0; i < G_N_ELEMENTS (workers); i++) {
    workers[i] = (Worker){ f, i };
    threads[i] = g_thread_new ("worker", worker_run, &workers[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (wait_requests (f, "GET /big.bin 206 30000 *", 32), ==, 32);
}

/* A reload takes effect on the next call (the session is rebuilt). */
static void
test_reload (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) stalled = listening_socket (16);
  g_autofree char *base = socket_url (stalled);
  g_autofree char *url = g_strconcat (base, "/stalled", NULL);
  g_autoptr (DflyConfig) reloaded = dfly_config_new_default ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) stat = NULL;
  gint64 start;

  assert_stat (f, "/big.bin", BIG_SIZE, TRUE); /* a session with read_timeout 5 */
  reloaded->http.read_timeout = 1;
  reloaded->http.retries = 0;
  dfly_context_set_config (f->context, reloaded);
  start = g_get_monotonic_time ();
  stat = dfly_source_stat (f->source, url, NULL, NULL, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed_ms (start), <, 3000);
}

/* ---- TLS ---- */

typedef struct {
  char        *dir;
  char        *cert;
  char        *key;
  char        *root;
  TestOrigin  *origin;
  DflyContext *context;
  DflySource  *source;
} TlsFixture;

static void
tls_setup (TlsFixture *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = dfly_config_new_default ();
  TestOriginOptions options = { 0 };

  t->dir = g_dir_make_tmp ("dfly-http-tls-XXXXXX", &error);
  g_assert_no_error (error);
  t->key = g_build_filename (t->dir, "key.pem", NULL);
  t->root = g_build_filename (t->dir, "root", NULL);
  g_assert_cmpint (g_mkdir (t->root, 0755), ==, 0);
  write_file (t->root, "one.bin", "x", 1);
  t->cert = test_make_certificate (t->dir);
  if (t->cert == NULL)
    return; /* the test skips */
  options.root = t->root;
  options.tls_cert = t->cert;
  options.tls_key = t->key;
  t->origin = test_origin_start_full (&options);
  config->http.retries = 2;
  config->http.retry_backoff_ms = 10;
  t->context = dfly_context_new (config);
  t->source = source_new (t->context);
}

static void
tls_teardown (TlsFixture *t, gconstpointer data)
{
  if (t->source != NULL)
    g_assert_finalize_object (t->source);
  if (t->context != NULL)
    g_assert_finalize_object (t->context);
  test_origin_stop (t->origin);
  test_origin_remove_tree (t->dir);
  g_free (t->dir);
  g_free (t->cert);
  g_free (t->key);
  g_free (t->root);
}

static DflySourceStat *
tls_stat (TlsFixture *t, GError **error)
{
  g_autofree char *url = g_strconcat (test_origin_get_url (t->origin), "/one.bin", NULL);

  return dfly_source_stat (t->source, url, NULL, NULL, error);
}

static void
set_insecure_hosts (DflyConfig *config, const char *host)
{
  g_strfreev (config->http.insecure_hosts);
  config->http.insecure_hosts = g_new0 (char *, 2);
  config->http.insecure_hosts[0] = g_strdup (host);
}

static void
set_ca_file (DflyConfig *config, const char *path)
{
  g_free (config->http.ca_file);
  config->http.ca_file = g_strdup (path);
}

static void
test_tls (TlsFixture *t, gconstpointer data)
{
  DflyConfig *config;
  g_autoptr (GError) error = NULL;
  g_autoptr (DflySourceStat) refused = NULL;
  g_autoptr (DflySourceStat) wrong_host = NULL;
  g_autoptr (DflySourceStat) no_file = NULL;
  g_autoptr (DflySourceStat) trusted = NULL;
  g_autoptr (DflySourceStat) insecure = NULL;
  g_autofree char *missing = NULL;

  if (t->origin == NULL) {
    g_test_skip ("openssl could not make a certificate");
    return;
  }
  config = dfly_context_get_config (t->context);

  /* Self-signed, unknown to the system CAs: refused, and not retried. */
  refused = tls_stat (t, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_test_message ("untrusted: %s", error->message);
  g_assert_nonnull (strstr (error->message, "TLS certificate not trusted"));
  g_assert_nonnull (strstr (error->message, test_origin_get_url (t->origin)));
  g_clear_error (&error);

  /* insecure_hosts matches host names exactly. */
  set_insecure_hosts (config, "localhost");
  wrong_host = tls_stat (t, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_clear_error (&error);
  set_insecure_hosts (config, "127.0.0.1");
  insecure = tls_stat (t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (insecure->content_length, ==, 1);
  set_insecure_hosts (config, NULL);

  /* An unreadable ca_file is a config error, not a silent fallback. */
  missing = g_build_filename (t->dir, "missing.pem", NULL);
  set_ca_file (config, missing);
  no_file = tls_stat (t, &error);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "http.ca_file"));
  g_clear_error (&error);

  /* The certificate as an extra CA: trusted. */
  set_ca_file (config, t->cert);
  trusted = tls_stat (t, &error);
  g_assert_no_error (error);
  g_assert_cmpint (trusted->content_length, ==, 1);

  g_assert_cmpuint (test_origin_wait_requests (t->origin, "HEAD /one.bin 200 *", 2, 2000), ==, 2);
  g_assert_cmpuint (test_origin_count_requests (t->origin, "*"), ==, 2);
}

int
main (int argc, char **argv)
{
  /* Loopback only: no proxy from the environment. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/http-source/descriptor", test_descriptor);
  FIXTURE_TEST ("/http-source/schemes", test_schemes);
  FIXTURE_TEST ("/http-source/stat/sizes", test_stat_sizes);
  FIXTURE_TEST ("/http-source/stat/head-refused", test_stat_head_refused);
  g_test_add_func ("/http-source/stat/head-refused-empty", test_stat_head_refused_empty);
  FIXTURE_TEST ("/http-source/stat/head-refused-no-ranges", test_stat_head_refused_no_ranges);
  FIXTURE_TEST ("/http-source/stat/no-ranges", test_stat_no_ranges);
  FIXTURE_TEST ("/http-source/stat/digest", test_digest);
  FIXTURE_TEST ("/http-source/ranges/exact", test_ranges_exact);
  FIXTURE_TEST ("/http-source/ranges/beyond-end", test_ranges_beyond_end);
  FIXTURE_TEST ("/http-source/ranges/unsupported", test_ranges_unsupported);
  FIXTURE_TEST ("/http-source/ranges/chunked", test_chunked);
  g_test_add_func ("/http-source/ranges/wrong-content-range", test_wrong_content_range);
  g_test_add_func ("/http-source/ranges/short-whole-body", test_short_whole_body);
  g_test_add_func ("/http-source/ranges/truncated-body", test_truncated_body);
  FIXTURE_TEST ("/http-source/errors/not-found", test_not_found);
  FIXTURE_TEST ("/http-source/errors/server-error-retried", test_server_error_retried);
  g_test_add_func ("/http-source/errors/server-error-recovers", test_server_error_recovers);
  g_test_add_func ("/http-source/errors/server-error-too-few-retries",
                   test_server_error_too_few_retries);
  g_test_add_func ("/http-source/errors/hang-up-retried", test_hang_up_retried);
  FIXTURE_TEST ("/http-source/errors/connection-refused", test_connection_refused);
  FIXTURE_TEST ("/http-source/timeout/read", test_read_timeout);
  FIXTURE_TEST ("/http-source/timeout/connect", test_connect_timeout);
  g_test_add_func ("/http-source/timeout/body", test_body_stalls);
  FIXTURE_TEST ("/http-source/headers/hostile", test_hostile_headers);
  FIXTURE_TEST ("/http-source/headers/passed", test_headers_passed);
  FIXTURE_TEST ("/http-source/redirect/followed", test_redirect);
  FIXTURE_TEST ("/http-source/redirect/credentials", test_redirect_credentials);
  FIXTURE_TEST ("/http-source/cancel/before", test_cancel_before);
  FIXTURE_TEST ("/http-source/cancel/stalled", test_cancel_stalled);
  FIXTURE_TEST ("/http-source/cancel/backoff", test_cancel_backoff);
  FIXTURE_TEST ("/http-source/cancel/body", test_cancel_body);
  FIXTURE_TEST ("/http-source/threads", test_threads);
  FIXTURE_TEST ("/http-source/reload", test_reload);
  g_test_add ("/http-source/tls", TlsFixture, NULL, tls_setup, test_tls, tls_teardown);
  return g_test_run ();
}
