/* test-http-client.c — DflyHttpClient against real servers on loopback
 *
 * A SoupServer in a thread of its own plays the origin whose answers are
 * scripted (statuses, redirects) and records what reached it; a socket
 * answering canned bytes plays the hostile one (huge headers, bodies that
 * disagree with their Content-Length); nginx (tests/test-origin.h) serves
 * TLS with a certificate made by openssl.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly/dfly-http-client.h"
#include "test-origin.h"
#include "test-soup-server.h"

/* ---- A scripted origin: SoupServer in a thread ---- */

typedef struct {
  GMutex          lock;
  TestSoupServer *server;
  guint16         port;
  guint           fails;             /* /flaky answers 503 this many times first */
  GHashTable     *hits;              /* path → count, under lock */
  char           *end_authorization; /* what /end was sent, under lock */
  char           *end_cookie;
} Origin;

static guint
origin_hits (Origin *o, const char *path)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&o->lock);

  return GPOINTER_TO_UINT (g_hash_table_lookup (o->hits, path));
}

static void
redirect (SoupServerMessage *msg, const char *location)
{
  soup_server_message_set_status (msg, SOUP_STATUS_FOUND, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
                                location);
}

static void
origin_handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  Origin             *o = data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&o->lock);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (o->hits, path)) + 1;

  g_hash_table_replace (o->hits, g_strdup (path), GUINT_TO_POINTER (count));
  if (g_str_equal (path, "/flaky")) {
    soup_server_message_set_status (msg, count <= o->fails ? 503 : 200, NULL);
  } else if (g_str_equal (path, "/501") || g_str_equal (path, "/404") ||
             g_str_equal (path, "/401")) {
    soup_server_message_set_status (msg, (guint) g_ascii_strtoull (path + 1, NULL, 10), NULL);
  } else if (g_str_equal (path, "/cross")) {
    g_autofree char *location = g_strdup_printf ("http://localhost:%u/end", o->port);

    redirect (msg, location);
  } else if (g_str_equal (path, "/same")) {
    redirect (msg, "/end");
  } else if (g_str_equal (path, "/loop")) {
    redirect (msg, "/loop");
  } else if (g_str_equal (path, "/ftp")) {
    redirect (msg, "ftp://127.0.0.1/end");
  } else if (g_str_equal (path, "/metadata")) {
    redirect (msg, "http://169.254.169.254/latest/meta-data/");
  } else if (g_str_equal (path, "/mapped")) {
    redirect (msg, "http://[::ffff:a9fe:a9fe]/latest/meta-data/");
  } else if (g_str_equal (path, "/to-other")) {
    g_autofree char *location = g_strdup_printf ("http://127.0.0.3:%u/end", o->port);

    redirect (msg, location);
  } else if (g_str_equal (path, "/to-localhost")) {
    g_autofree char *location = g_strdup_printf ("http://localhost:%u/end", o->port);

    redirect (msg, location);
  } else if (g_str_equal (path, "/end")) {
    g_free (o->end_authorization);
    g_free (o->end_cookie);
    o->end_authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
    o->end_cookie = g_strdup (soup_message_headers_get_one (headers, "Cookie"));
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  } else if (g_str_equal (path, "/body")) {
    g_autofree char *body = g_strnfill (1000, 'b');

    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY, body,
                                      1000);
    return;
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  }
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "x", 1);
}

static Origin *
origin_new (void)
{
  Origin *o = g_new0 (Origin, 1);

  g_mutex_init (&o->lock);
  o->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  o->server = test_soup_server_start (origin_handle, o);
  o->port = o->server->port;
  return o;
}

static void
origin_free (Origin *o)
{
  test_soup_server_stop (o->server);
  g_hash_table_unref (o->hits);
  g_free (o->end_authorization);
  g_free (o->end_cookie);
  g_mutex_clear (&o->lock);
  g_free (o);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Origin, origin_free)

/* ---- A client and a request ---- */

typedef struct {
  DflyContext    *context;
  DflyHttpClient *client;
} Fixture;

static DflyConfig *
fixture_config (Fixture *f)
{
  return dfly_context_get_config (f->context);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (DflyConfig) config = dfly_config_new_default ();

  config->http.retries = 2;
  config->http.retry_backoff_ms = 10;
  config->http.connect_timeout = 5;
  config->http.read_timeout = 5;
  f->context = dfly_context_new (config);
  f->client = dfly_context_get_http_client (f->context);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->context);
}

/* GETs url with headers; the answer (NULL with error). */
static DflyHttpBody *
get (Fixture *f, const char *url, GHashTable *headers, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  DflyHttpRequest request = { .method = "GET", .uri = uri, .headers = headers };

  g_assert_nonnull (uri);
  return dfly_http_client_send (f->client, &request, NULL, error);
}

static char *
origin_url (Origin *o, const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", o->port, path);
}

/* ---- Retries ---- */

static void
test_retries (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();
  g_autofree char *url = origin_url (o, "/flaky");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyHttpBody) recovered = NULL;
  g_autoptr (DflyHttpBody) exhausted = NULL;
  gint64 start;

  /* Three 503s, three retries: the fourth attempt answers, after backoffs
   * of 50, 100 and 200 ms. */
  fixture_config (f)->http.retries = 3;
  fixture_config (f)->http.retry_backoff_ms = 50;
  o->fails = 3;
  start = g_get_monotonic_time ();
  recovered = get (f, url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dfly_http_body_get_status (recovered), ==, 200);
  g_assert_cmpuint (origin_hits (o, "/flaky"), ==, 4);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 350 * G_TIME_SPAN_MILLISECOND);

  /* Too few retries: the last 503 is the answer, not an error. */
  fixture_config (f)->http.retries = 1;
  fixture_config (f)->http.retry_backoff_ms = 10;
  o->fails = 100;
  exhausted = get (f, url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dfly_http_body_get_status (exhausted), ==, 503);
  g_assert_cmpuint (origin_hits (o, "/flaky"), ==, 6);
}

static void
test_final_statuses (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();
  const char *paths[] = { "/501", "/404", "/401" };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autofree char *url = origin_url (o, paths[i]);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (origin_hits (o, paths[i]), ==, 1);
  }
}

static void
test_connection_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/x", test_origin_free_port ());
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyHttpBody) body = NULL;
  gint64 start = g_get_monotonic_time ();

  fixture_config (f)->http.retry_backoff_ms = 40;
  body = get (f, url, NULL, &error);
  g_assert_null (body);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_nonnull (strstr (error->message, url));
  /* Retried twice: 40 + 80 ms of backoff. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 120 * G_TIME_SPAN_MILLISECOND);
}

/* ---- Redirects ---- */

static GHashTable *
credentials (void)
{
  GHashTable *headers = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (headers, (gpointer) "Authorization", (gpointer) "Bearer secret");
  g_hash_table_insert (headers, (gpointer) "Cookie", (gpointer) "session=secret");
  return headers;
}

static void
test_redirect_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();
  g_autoptr (GHashTable) headers = credentials ();

  {
    g_autofree char *url = origin_url (o, "/same");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, url, headers, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (dfly_http_body_get_status (body), ==, 200);
    g_assert_cmpstr (o->end_authorization, ==, "Bearer secret");
    g_assert_cmpstr (o->end_cookie, ==, "session=secret");
  }
  {
    /* 127.0.0.1 → localhost: the same server, another origin. */
    g_autofree char *url = origin_url (o, "/cross");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, url, headers, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (dfly_http_body_get_status (body), ==, 200);
    g_assert_cmpuint (origin_hits (o, "/end"), ==, 2);
    g_assert_null (o->end_authorization);
    g_assert_null (o->end_cookie);
  }
}

static void
test_redirect_limits (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();

  {
    g_autofree char *url = origin_url (o, "/loop");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);

    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, "more than 10 redirects"));
    /* The first request and 10 redirects; a redirect error is not retried. */
    g_assert_cmpuint (origin_hits (o, "/loop"), ==, DFLY_HTTP_MAX_REDIRECTS + 1);
  }
  {
    g_autofree char *url = origin_url (o, "/ftp");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);

    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, "not an http or https URL"));
  }
  {
    /* A caller that follows nothing gets the 302 itself. */
    g_autofree char *url = origin_url (o, "/same");
    g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
    DflyHttpRequest request = { .method = "GET",
                                .uri = uri,
                                .flags = DFLY_HTTP_REQUEST_NO_REDIRECT };
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = dfly_http_client_send (f->client, &request, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (dfly_http_body_get_status (body), ==, 302);
  }
}

/* ---- Statuses and errors ---- */

static void
test_status_mapping (void)
{
  static const struct {
    guint     status;
    DflyError code;
    gboolean  retryable;
  } cases[] = {
    { 200, DFLY_ERROR_SOURCE, FALSE },        { 400, DFLY_ERROR_SOURCE, FALSE },
    { 401, DFLY_ERROR_ACCESS_DENIED, FALSE }, { 403, DFLY_ERROR_ACCESS_DENIED, FALSE },
    { 404, DFLY_ERROR_NOT_FOUND, FALSE },     { 410, DFLY_ERROR_NOT_FOUND, FALSE },
    { 416, DFLY_ERROR_SOURCE, FALSE },        { 500, DFLY_ERROR_SOURCE, TRUE },
    { 501, DFLY_ERROR_SOURCE, FALSE },        { 502, DFLY_ERROR_SOURCE, TRUE },
    { 503, DFLY_ERROR_SOURCE, TRUE },         { 599, DFLY_ERROR_SOURCE, TRUE },
  };
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", "http://127.0.0.1/x");
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_cmpint (dfly_http_status_to_error (cases[i].status), ==, cases[i].code);
    g_assert_cmpint (dfly_http_status_is_retryable (cases[i].status), ==, cases[i].retryable);
  }
  error = dfly_http_status_error_new (DFLY_ERROR_NOT_FOUND, msg, ", detail", "http://x/y");
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_suffix (error->message, ", detail: http://x/y"));
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) headers = g_hash_table_new (g_str_hash, g_str_equal);
  const char *const reserved[] = { "X-Mine", NULL };
  g_autofree char  *range = NULL;
  g_autoptr (GError) error = NULL;

  g_hash_table_insert (headers, (gpointer) "X-Ok", (gpointer) "fine\tvalue");
  g_assert_true (dfly_http_check_headers (headers, reserved, "the test", &error));
  g_hash_table_insert (headers, (gpointer) "x-mine", (gpointer) "v");
  g_assert_false (dfly_http_check_headers (headers, reserved, "the test", &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_hash_table_remove (headers, "x-mine");
  g_hash_table_insert (headers, (gpointer) "Range", (gpointer) "bytes=0-");
  g_assert_false (dfly_http_check_headers (headers, NULL, "the test", &error));
  g_clear_error (&error);
  g_hash_table_remove (headers, "Range");
  g_hash_table_insert (headers, (gpointer) "X-Split", (gpointer) "a\r\nHost: evil");
  g_assert_false (dfly_http_check_headers (headers, NULL, "the test", &error));
  g_clear_error (&error);
  g_hash_table_remove (headers, "X-Split");
  g_hash_table_insert (headers, (gpointer) "Bad Name", (gpointer) "v");
  g_assert_false (dfly_http_check_headers (headers, NULL, "the test", &error));
  g_clear_error (&error);

  g_assert_true (dfly_http_format_range (0, -1, &range, &error));
  g_assert_null (range);
  g_assert_true (dfly_http_format_range (5, 10, &range, &error));
  g_assert_cmpstr (range, ==, "bytes=5-14");
  g_clear_pointer (&range, g_free);
  g_assert_true (dfly_http_format_range (5, -1, &range, &error));
  g_assert_cmpstr (range, ==, "bytes=5-");
  g_clear_pointer (&range, g_free);
  g_assert_false (dfly_http_format_range (G_MAXINT64, 2, &range, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  {
    g_autoptr (GUri) uri = g_uri_parse ("ftp://127.0.0.1/x", G_URI_FLAGS_NONE, NULL);
    DflyHttpRequest request = { .method = "GET", .uri = uri };
    g_autoptr (DflyHttpBody) body = dfly_http_client_send (f->client, &request, NULL, &error);

    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  }
}

/* ---- Bodies ---- */

static void
test_byte_count (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();
  g_autofree char *url = origin_url (o, "/body");
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);
  g_autoptr (GBytes) bytes = NULL;
  char buffer[300];

  g_assert_no_error (error);
  g_assert_cmpint (dfly_http_body_get_content_length (body), ==, 1000);
  g_assert_cmpint (g_input_stream_read (G_INPUT_STREAM (body), buffer, sizeof buffer, NULL, &error),
                   ==, 300);
  g_assert_cmpint (dfly_http_body_get_received (body), ==, 300);
  g_assert_cmpint (g_input_stream_skip (G_INPUT_STREAM (body), 100, NULL, &error), ==, 100);
  g_assert_cmpint (dfly_http_body_get_received (body), ==, 400);
  /* What is left, capped: 600 bytes do not fit in 500. */
  bytes = dfly_http_body_read_all (body, 500, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
  g_assert_cmpint (dfly_http_body_get_received (body), >, 900);
}

/* One connection, one canned answer. */
typedef struct {
  GSocket *socket;
  GBytes  *answer;
  GThread *thread;
  char    *url;
} Canned;

static gpointer
canned_run (gpointer data)
{
  Canned *c = data;
  g_autoptr (GSocket) peer = g_socket_accept (c->socket, NULL, NULL);
  char  request[8192];
  gsize sent = 0;

  if (peer == NULL)
    return NULL;
  g_socket_set_timeout (peer, 5);
  g_socket_receive (peer, request, sizeof request, NULL, NULL);
  while (sent < g_bytes_get_size (c->answer)) {
    gssize n = g_socket_send (peer, (const char *) g_bytes_get_data (c->answer, NULL) + sent,
                              g_bytes_get_size (c->answer) - sent, NULL, NULL);

    if (n <= 0)
      break;
    sent += n;
  }
  g_socket_shutdown (peer, FALSE, TRUE, NULL);
  g_socket_close (peer, NULL);
  return NULL;
}

static Canned *
canned_new (GBytes *answer)
{
  Canned *c = g_new0 (Canned, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  c->socket =
    g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (c->socket, address, TRUE, &error));
  g_assert_true (g_socket_listen (c->socket, &error));
  bound = g_socket_get_local_address (c->socket, &error);
  g_assert_no_error (error);
  c->url = g_strdup_printf ("http://127.0.0.1:%u/x",
                            g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  c->answer = answer;
  c->thread = g_thread_new ("canned", canned_run, c);
  return c;
}

static void
canned_free (Canned *c)
{
  g_socket_close (c->socket, NULL); /* ends an accept that never came */
  g_thread_join (c->thread);
  g_object_unref (c->socket);
  g_bytes_unref (c->answer);
  g_free (c->url);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Canned, canned_free)

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  fixture_config (f)->http.retries = 0;
  {
    /* More bytes than Content-Length: the body stops at its length. */
    g_autoptr (Canned) c =
      canned_new (text_bytes ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0123456789"));
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, c->url, NULL, &error);
    g_autoptr (GBytes) bytes = NULL;

    g_assert_no_error (error);
    bytes = dfly_http_body_read_all (body, 1024, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "01234", 5);
  }
  {
    /* Fewer: an error naming both counts, never a short success. */
    g_autoptr (Canned) c = canned_new (
      text_bytes ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n01234"));
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, c->url, NULL, &error);
    g_autoptr (GBytes) bytes = NULL;

    g_assert_no_error (error);
    bytes = dfly_http_body_read_all (body, 1024, NULL, &error);
    g_assert_null (bytes);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, "of 10 bytes"));
  }
  {
    /* A header of 1 MiB: refused by libsoup, a source error here. */
    g_autoptr (GString) answer = g_string_new ("HTTP/1.1 200 OK\r\nX-Huge: ");
    g_autoptr (GError) error = NULL;
    g_autoptr (Canned) c = NULL;
    g_autoptr (DflyHttpBody) body = NULL;

    for (guint i = 0; i < 1024 * 1024; i++)
      g_string_append_c (answer, 'h');
    g_string_append (answer, "\r\nContent-Length: 0\r\n\r\n");
    c = canned_new (g_string_free_to_bytes (g_steal_pointer (&answer)));
    body = get (f, c->url, NULL, &error);
    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, c->url));
  }
}

/* ---- TLS: http.ca_file and http.insecure_hosts ---- */

static void
test_tls (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("dfly-http-client-XXXXXX", &error);
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *one = NULL;
  g_autofree char *url = NULL;
  g_autoptr (TestOrigin) origin = NULL;
  TestOriginOptions options = { 0 };
  DflyConfig       *config = fixture_config (f);

  g_assert_no_error (error);
  cert = test_make_certificate (dir);
  if (cert == NULL) {
    g_test_skip ("openssl could not make a certificate");
    test_origin_remove_tree (dir);
    return;
  }
  key = g_build_filename (dir, "key.pem", NULL);
  one = g_build_filename (dir, "one.bin", NULL);
  g_assert_true (g_file_set_contents (one, "x", 1, NULL));
  options.root = dir;
  options.tls_cert = cert;
  options.tls_key = key;
  origin = test_origin_start_full (&options);
  url = g_strconcat (test_origin_get_url (origin), "/one.bin", NULL);

  {
    g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);

    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE);
    g_assert_nonnull (strstr (error->message, "TLS certificate not trusted"));
    g_clear_error (&error);
  }
  {
    g_autoptr (DflyHttpBody) body = NULL;

    /* The session is rebuilt: its settings changed. */
    g_strfreev (config->http.insecure_hosts);
    config->http.insecure_hosts = g_strsplit ("127.0.0.1", ",", -1);
    body = get (f, url, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (dfly_http_body_get_status (body), ==, 200);
    g_strfreev (config->http.insecure_hosts);
    config->http.insecure_hosts = g_new0 (char *, 1);
  }
  {
    g_autoptr (DflyHttpBody) body = NULL;

    g_free (config->http.ca_file);
    config->http.ca_file = g_strdup (cert);
    body = get (f, url, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (dfly_http_body_get_status (body), ==, 200);
  }
  {
    g_autoptr (DflyHttpBody) body = NULL;

    g_free (config->http.ca_file);
    config->http.ca_file = g_build_filename (dir, "missing.pem", NULL);
    body = get (f, url, NULL, &error);
    g_assert_null (body);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_assert_nonnull (strstr (error->message, "http.ca_file"));
    g_clear_error (&error);
  }
  g_clear_pointer (&origin, test_origin_stop);
  test_origin_remove_tree (dir);
}

/* ---- source.allow and source.deny ---- */

static void
set_rules (char ***field, const char *const *rules)
{
  g_strfreev (*field);
  *field = g_strdupv ((char **) rules);
}

/* The refusal's message for url, which must reach no origin. */
static char *
refusal (Fixture *f, const char *url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyHttpBody) body = get (f, url, NULL, &error);

  g_assert_null (body);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED);
  g_assert_true (g_str_has_suffix (error->message, url));
  return g_strdup (error->message);
}

static void
test_source_policy (Fixture *f, gconstpointer data)
{
  g_autoptr (Origin) o = origin_new ();
  DflyConfig      *config = fixture_config (f);
  g_autofree char *end = origin_url (o, "/end");
  g_autofree char *by_name = g_strdup_printf ("http://localhost:%u/end", o->port);

  {
    /* Redirected to the metadata address, as it is written or IPv4-mapped:
     * refused before connecting, and not retried. */
    g_autofree char *url = origin_url (o, "/metadata");
    g_autofree char *message = refusal (f, url);
    g_autofree char *mapped_url = origin_url (o, "/mapped");
    g_autofree char *mapped = refusal (f, mapped_url);

    g_assert_true (
      g_str_has_prefix (message, "source.deny: 169.254.169.254 is denied (link-local)"));
    g_assert_true (
      g_str_has_prefix (mapped, "source.deny: 169.254.169.254 is denied (link-local)"));
    g_assert_cmpuint (origin_hits (o, "/metadata"), ==, 1);
    g_assert_cmpuint (origin_hits (o, "/mapped"), ==, 1);
  }
  {
    /* Loopback passes by default. */
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) body = get (f, by_name, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (origin_hits (o, "/end"), ==, 1);
  }
  {
    /* A name is checked on the address it connects to: localhost is
     * 127.0.0.1 (or ::1), whatever the URL says. */
    static const char *const deny[] = { "127.0.0.1", "::1", NULL };
    g_autofree char         *message = NULL;
    g_autofree char         *redirected = NULL;
    g_autofree char         *via = origin_url (o, "/to-localhost");

    set_rules (&config->source.deny, deny);
    message = refusal (f, by_name);
    g_assert_true (g_str_has_prefix (message, "source.deny: 127.0.0.1 is denied (127.0.0.1)") ||
                   g_str_has_prefix (message, "source.deny: ::1 is denied (::1)"));
    redirected = refusal (f, end);
    g_assert_true (g_str_has_prefix (redirected, "source.deny: 127.0.0.1 is denied"));
    g_clear_pointer (&redirected, g_free);
    redirected = refusal (f, via);
    g_assert_cmpuint (origin_hits (o, "/end"), ==, 1);
    g_assert_cmpuint (origin_hits (o, "/to-localhost"), ==, 0);
  }
  {
    /* By name, before any connection. */
    static const char *const deny[] = { "LocalHost", NULL };
    g_autofree char         *message = NULL;

    set_rules (&config->source.deny, deny);
    message = refusal (f, by_name);
    g_assert_true (g_str_has_prefix (message, "source.deny: localhost is denied (localhost)"));
  }
  {
    /* Only what source.allow lists: a redirect to an address it does not
     * hold is refused at the redirect; a name is fetched from whichever of
     * its addresses it allows (localhost: ::1 refused, 127.0.0.1 taken). */
    static const char *const allow[] = { "127.0.0.1/32", NULL };
    g_autofree char         *other = origin_url (o, "/to-other");
    g_autofree char         *via = origin_url (o, "/to-localhost");
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyHttpBody) direct = NULL;
    g_autoptr (DflyHttpBody) named = NULL;
    g_autofree char *message = NULL;

    set_rules (&config->source.deny, NULL);
    set_rules (&config->source.allow, allow);
    direct = get (f, end, NULL, &error);
    g_assert_no_error (error);
    named = get (f, via, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (origin_hits (o, "/end"), ==, 3);
    message = refusal (f, other);
    g_assert_true (
      g_str_has_prefix (message, "source.allow: 127.0.0.3 is not in the list of allowed origins"));
    g_assert_cmpuint (origin_hits (o, "/end"), ==, 3);
  }
}

/* What may leave this host: no credential header, no URL's secrets. */
static void
test_public_parts (void)
{
  static const char *const credentials[] = {
    "Authorization",
    "authorization",
    "Cookie",
    "COOKIE",
    "Proxy-Authorization",
    "X-Dfly-S3-Access-Key-Id",
    "x-dfly-s3-secret-access-key",
    "X-Dfly-S3-",
  };
  static const char *const others[] = {
    "X-Dfly-Test", "Accept", "X-Dfly-S3", "Authorization2", "X-Amz-Meta-Cookie", "",
  };
  static const struct {
    const char *url;
    const char *shown;
  } urls[] = {
    { "https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F",
      "https://bucket.s3.amazonaws.com/key" },
    { "http://user:secret@example.com:8080/a/b?token=t#frag", "http://example.com:8080/a/b" },
    { "s3://bucket/dir/file?versionId=1", "s3://bucket/dir/file" },
    { "oci://registry.local/repo@sha256:0123", "oci://registry.local/repo@sha256:0123" },
    { "http://[::1]:80/x?Signature=s", "http://[::1]:80/x" },
    { "not a url", "(not a URL)" },
    { "http://[::1/x", "(not a URL)" },
    { "", "(not a URL)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (credentials); i++)
    g_assert_true (dfly_http_is_credential_header (credentials[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_false (dfly_http_is_credential_header (others[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (urls); i++) {
    g_autofree char *shown = dfly_http_public_url (urls[i].url);

    g_assert_cmpstr (shown, ==, urls[i].shown);
  }
  {
    g_autofree char *shown = dfly_http_public_url (NULL);

    g_assert_cmpstr (shown, ==, "(not a URL)");
  }
}

/* What a caller that connects by itself asks (the proxy's CONNECT): the
 * name before connecting, the address once known, under the live config. */
static gboolean
destination_ok (Fixture *f, const char *host, const char *address_text)
{
  g_autoptr (GInetAddress) address =
    address_text != NULL ? g_inet_address_new_from_string (address_text) : NULL;
  g_autoptr (GError) error = NULL;

  if (dfly_http_client_check_destination (f->client, host, address, &error)) {
    g_assert_no_error (error);
    return TRUE;
  }
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED);
  return FALSE;
}

static void
test_check_destination (Fixture *f, gconstpointer data)
{
  DflyConfig        *config = fixture_config (f);
  static const char *deny[] = { "*.internal", "10.0.0.0/8", NULL };
  static const char *allow[] = { "registry.local", "192.0.2.0/24", NULL };
  static const char *patterns[] = { "Registry.Example", "*.mirror.test", "10.1.0.0/16", "::1",
                                    NULL };

  /* Link-local and metadata addresses whatever the config says: as a
   * literal, IPv4-mapped, or as where a name leads. */
  g_assert_true (destination_ok (f, "example.com", NULL));
  g_assert_true (destination_ok (f, "example.com", "93.184.216.34"));
  g_assert_false (destination_ok (f, "169.254.169.254", NULL));
  g_assert_false (destination_ok (f, "::ffff:169.254.169.254", NULL));
  g_assert_false (destination_ok (f, "fd00:ec2::254", NULL));
  g_assert_false (destination_ok (f, "example.com", "169.254.169.254"));
  g_assert_false (destination_ok (f, "not a name", NULL));

  set_rules (&config->source.deny, deny);
  g_assert_false (destination_ok (f, "db.internal", NULL));
  g_assert_false (destination_ok (f, "DB.Internal.", NULL));
  g_assert_false (destination_ok (f, "10.2.3.4", NULL));
  g_assert_false (destination_ok (f, "example.com", "10.2.3.4"));
  g_assert_true (destination_ok (f, "internal", "192.0.2.1"));

  /* With an allow list: a name it lists goes wherever it resolves (but to
   * what deny lists), an address must be in its CIDRs. */
  set_rules (&config->source.deny, NULL);
  set_rules (&config->source.allow, allow);
  g_assert_true (destination_ok (f, "registry.local", "198.51.100.7"));
  g_assert_true (destination_ok (f, "other.example", "192.0.2.9"));
  g_assert_false (destination_ok (f, "other.example", "198.51.100.7"));
  g_assert_false (destination_ok (f, "192.0.3.1", NULL));
  g_assert_false (destination_ok (f, "registry.local", "169.254.169.254"));
  set_rules (&config->source.allow, NULL);

  /* An origins list as source.allow matches it. */
  g_assert_true (dfly_http_host_matches (patterns, "registry.example"));
  g_assert_true (dfly_http_host_matches (patterns, "REGISTRY.example."));
  g_assert_false (dfly_http_host_matches (patterns, "sub.registry.example"));
  g_assert_true (dfly_http_host_matches (patterns, "a.mirror.test"));
  g_assert_false (dfly_http_host_matches (patterns, "mirror.test"));
  g_assert_true (dfly_http_host_matches (patterns, "10.1.200.3"));
  g_assert_true (dfly_http_host_matches (patterns, "::ffff:10.1.0.1"));
  g_assert_false (dfly_http_host_matches (patterns, "10.2.0.1"));
  g_assert_true (dfly_http_host_matches (patterns, "::1"));
  g_assert_false (dfly_http_host_matches (patterns, "not a name"));
  g_assert_false (dfly_http_host_matches (NULL, "registry.example"));
}

#define FIXTURE_TEST(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_setup, (func), fixture_teardown)

int
main (int argc, char **argv)
{
  /* Loopback only: no proxy from the environment. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, NULL);

  FIXTURE_TEST ("/http-client/retries", test_retries);
  FIXTURE_TEST ("/http-client/final-statuses", test_final_statuses);
  FIXTURE_TEST ("/http-client/connection-refused", test_connection_refused);
  FIXTURE_TEST ("/http-client/redirect/credentials", test_redirect_credentials);
  FIXTURE_TEST ("/http-client/redirect/limits", test_redirect_limits);
  g_test_add_func ("/http-client/status-mapping", test_status_mapping);
  FIXTURE_TEST ("/http-client/bad-input", test_bad_input);
  FIXTURE_TEST ("/http-client/byte-count", test_byte_count);
  FIXTURE_TEST ("/http-client/hostile", test_hostile);
  FIXTURE_TEST ("/http-client/tls", test_tls);
  FIXTURE_TEST ("/http-client/source-policy", test_source_policy);
  FIXTURE_TEST ("/http-client/check-destination", test_check_destination);
  g_test_add_func ("/http-client/public-parts", test_public_parts);
  return g_test_run ();
}
