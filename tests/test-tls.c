/* test-tls.c — DflyTls and a TLS listener: who may connect, and who they are */
#include "config.h"

#include <glib/gstdio.h>

#include "dfly-wire.h"
#include "dfly/dfly-cert.h"
#include "dfly/dfly-tls.h"

typedef struct {
  char *dir;
  char *ca, *ca_key;          /* the cluster CA */
  char *other_ca, *other_key; /* a CA nobody trusts */
  char *ca_file;              /* paths */
  char *server_cert, *server_key;
  char *client_cert, *client_key;
  char *stranger_cert, *stranger_key; /* issued by the other CA */
} Fixture;

static void
issue_to (Fixture *f, const char *ca, const char *ca_key, const char *host_id, DflyRoleFlags roles,
          char **cert_path, char **key_path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = NULL, *key = NULL;
  DflyCertRequest  request = { .host_id = host_id, .roles = roles, .days = 2 };

  g_assert_true (dfly_cert_issue (ca, ca_key, &request, &cert, &key, &error));
  g_assert_no_error (error);
  *cert_path = g_strdup_printf ("%s/%s.pem", f->dir, host_id);
  *key_path = g_strdup_printf ("%s/%s-key.pem", f->dir, host_id);
  g_assert_true (g_file_set_contents (*cert_path, cert, -1, NULL));
  g_assert_true (g_file_set_contents (*key_path, key, -1, NULL));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("dfly-tls-XXXXXX", &error);
  g_assert_no_error (error);
  /* The CAs outlive their hosts' certificates, which dfly_cert_issue demands. */
  g_assert_true (dfly_cert_make_ca ("test cluster", 3, &f->ca, &f->ca_key, &error));
  g_assert_true (dfly_cert_make_ca ("another cluster", 3, &f->other_ca, &f->other_key, &error));
  f->ca_file = g_build_filename (f->dir, "ca.pem", NULL);
  g_assert_true (g_file_set_contents (f->ca_file, f->ca, -1, NULL));
  issue_to (f, f->ca, f->ca_key, "scheduler-1", DFLY_ROLE_FLAG_SCHEDULER, &f->server_cert,
            &f->server_key);
  issue_to (f, f->ca, f->ca_key, "peer-1", DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED,
            &f->client_cert, &f->client_key);
  issue_to (f, f->other_ca, f->other_key, "stranger", DFLY_ROLE_FLAG_SEED, &f->stranger_cert,
            &f->stranger_key);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = g_build_filename (f->dir, name, NULL);

    g_unlink (path);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->ca), g_free (f->ca_key), g_free (f->other_ca), g_free (f->other_key);
  g_free (f->ca_file);
  g_free (f->server_cert), g_free (f->server_key), g_free (f->client_cert), g_free (f->client_key);
  g_free (f->stranger_cert), g_free (f->stranger_key);
}

/* ---- loading ---- */

static void
test_load (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) tls = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);
  g_autoptr (DflyTls) stranger = NULL;
  g_autoptr (DflyConfig) config = dfly_config_new_default ();

  g_assert_no_error (error);
  g_assert_cmpstr (dfly_identity_get_host_id (dfly_tls_get_identity (tls)), ==, "peer-1");
  g_assert_cmpuint (dfly_identity_get_roles (dfly_tls_get_identity (tls)), ==,
                    DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED);

  /* A certificate of another CA is refused, saying so. */
  stranger = dfly_tls_new (f->ca_file, f->stranger_cert, f->stranger_key, &error);
  g_assert_null (stranger);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "another CA issued it"));
  g_clear_error (&error);

  /* A key that is not the certificate's. */
  g_assert_null (dfly_tls_new (f->ca_file, f->client_cert, f->server_key, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  /* No section: plaintext, no error; part of one: an error naming what lacks. */
  g_assert_null (dfly_tls_new_from_config (config, &error));
  g_assert_no_error (error);
  g_free (config->tls.ca);
  config->tls.ca = g_strdup (f->ca_file);
  g_free (config->tls.cert);
  config->tls.cert = g_strdup (f->client_cert);
  g_assert_null (dfly_tls_new_from_config (config, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "missing: key"));
}

/* ---- a TLS listener ---- */

typedef struct {
  char         *host_id; /* who the last request came from; "" when nobody proved it */
  DflyRoleFlags roles;
  guint         requests;
} Seen;

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  Seen               *seen = user_data;
  const DflyIdentity *identity = dfly_identity_of_message (msg);

  g_free (seen->host_id);
  seen->host_id = g_strdup (identity != NULL ? dfly_identity_get_host_id (identity) : "");
  seen->roles = identity != NULL ? dfly_identity_get_roles (identity) : 0;
  seen->requests++;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
}

/* A TLS listener on a free loopback port, serving on_request into seen. */
static DflyWireListener *
listen_tls (SoupServer *server, DflyTls *tls, Seen *seen)
{
  g_autoptr (GError) error = NULL;
  DflyWireListener *listener;

  soup_server_add_handler (server, NULL, on_request, seen, NULL);
  listener =
    dfly_wire_listen (server, "127.0.0.1", 0, &(DflyWireLimits){ .idle_timeout = 10 }, &error);
  g_assert_no_error (error);
  dfly_wire_listener_set_tls (listener, tls);
  return listener;
}

typedef struct {
  gboolean done;
  GBytes  *body;
  GError  *error;
} Call;

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;

  call->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &call->error);
  call->done = TRUE;
}

/* GETs url with session (showing certificate, if any); the body, or NULL
 * with *error. */
static GBytes *
get_as (SoupSession *session, const char *url, GTlsCertificate *certificate, GError **error)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  Call  call = { 0 };
  guint waited = 0;

  if (certificate != NULL)
    soup_message_set_tls_client_certificate (msg, certificate);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &call);
  while (!call.done && waited++ < 1000) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (10000);
  }
  g_assert_true (call.done);
  if (call.error != NULL) {
    g_propagate_error (error, call.error);
    return NULL;
  }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_bytes_unref (call.body);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "status %u",
                 soup_message_get_status (msg));
    return NULL;
  }
  return call.body;
}

static GBytes *
get (SoupSession *session, const char *url, GError **error)
{
  return get_as (session, url, NULL, error);
}

static void
test_listener (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) server_tls = dfly_tls_new (f->ca_file, f->server_cert, f->server_key, &error);
  g_autoptr (DflyTls) client_tls = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) trusted = soup_session_new ();
  g_autoptr (SoupSession) anonymous = soup_session_new ();
  g_autoptr (SoupSession) plaintext = soup_session_new ();
  g_autoptr (SoupSession) by_default = soup_session_new ();
  g_autoptr (GBytes) body = NULL;
  g_autofree char  *https = NULL, *http = NULL;
  DflyWireListener *listener;
  Seen              seen = { 0 };

  g_assert_no_error (error);
  listener = listen_tls (server, server_tls, &seen);
  https = g_strdup_printf ("https://127.0.0.1:%u/x", dfly_wire_listener_get_port (listener));
  http = g_strdup_printf ("http://127.0.0.1:%u/x", dfly_wire_listener_get_port (listener));

  /* With the cluster's certificate: served, and the handler knows who. */
  dfly_tls_setup_session (client_tls, trusted, DFLY_ROLE_FLAG_SCHEDULER);
  body = get (trusted, https, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (body), ==, 2);
  g_assert_cmpstr (seen.host_id, ==, "peer-1");
  g_assert_cmpuint (seen.roles, ==, DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED);
  g_assert_cmpuint (seen.requests, ==, 1);
  /* Again on the kept connection: still known. */
  g_clear_pointer (&body, g_bytes_unref);
  body = get (trusted, https, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (seen.host_id, ==, "peer-1");

  /* Trusting the CA but showing no certificate: refused at the handshake. */
  g_object_set (anonymous, "tls-database", dfly_tls_get_database (client_tls), NULL);
  g_assert_null (get (anonymous, https, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* Trusting GIO's default (the system's store) and showing the cluster's
   * certificate: the server is refused. */
  g_assert_null (get_as (by_default, https, dfly_tls_get_certificate (client_tls), &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);
  /* Plaintext on a TLS port: nothing served. */
  g_assert_null (get (plaintext, http, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (seen.requests, ==, 2);

  dfly_wire_listener_free (listener);
  g_free (seen.host_id);
}

static void
test_stranger_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) server_tls = dfly_tls_new (f->ca_file, f->server_cert, f->server_key, &error);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GTlsCertificate) stranger =
    g_tls_certificate_new_from_files (f->stranger_cert, f->stranger_key, &error);
  g_autofree char  *url = NULL;
  DflyWireListener *listener;
  Seen              seen = { 0 };

  g_assert_no_error (error);
  listener = listen_tls (server, server_tls, &seen);
  url = g_strdup_printf ("https://127.0.0.1:%u/x", dfly_wire_listener_get_port (listener));
  /* A client of another CA that trusts ours: its certificate is refused. */
  {
    g_autoptr (DflyTls) own = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);

    g_object_set (session, "tls-database", dfly_tls_get_database (own), NULL);
    g_assert_null (get_as (session, url, stranger, &error));
    g_assert_nonnull (error);
  }
  g_assert_cmpuint (seen.requests, ==, 0);
  dfly_wire_listener_free (listener);
}

/* A client checks the server's roles too: a peer cannot pass for a
 * scheduler. */
static void
test_server_role (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) peer_tls = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);
  g_autoptr (DflyTls) client_tls = dfly_tls_new (f->ca_file, f->server_cert, f->server_key, &error);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) to_scheduler = soup_session_new ();
  g_autoptr (SoupSession) to_seed = soup_session_new ();
  g_autoptr (GBytes) body = NULL;
  g_autofree char  *url = NULL;
  DflyWireListener *listener;
  Seen              seen = { 0 };

  g_assert_no_error (error);
  /* The server is peer-1: peer and seed, no scheduler. */
  listener = listen_tls (server, peer_tls, &seen);
  url = g_strdup_printf ("https://127.0.0.1:%u/x", dfly_wire_listener_get_port (listener));
  dfly_tls_setup_session (client_tls, to_scheduler, DFLY_ROLE_FLAG_SCHEDULER);
  g_assert_null (get (to_scheduler, url, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);
  g_assert_cmpuint (seen.requests, ==, 0);
  /* Called as a seed (or a peer), it is one. */
  dfly_tls_setup_session (client_tls, to_seed, DFLY_ROLE_FLAG_SEED | DFLY_ROLE_FLAG_SCHEDULER);
  body = get (to_seed, url, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (seen.host_id, ==, "scheduler-1");
  dfly_wire_listener_free (listener);
  g_free (seen.host_id);
}

/* Once a session is set up, GIO's default database is dfly's (so libsoup's
 * connections no longer load the system store each), and it trusts what the
 * system's store trusts, and nothing of the cluster (test_listener: a
 * session on it refuses the cluster's server). */
static void
test_default_database (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) tls = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GTlsDatabase) system = NULL;
  g_autoptr (GTlsCertificate) cluster_ca = NULL;
  GList *roots = NULL;

  g_assert_no_error (error);
  dfly_tls_setup_session (tls, session, 0);
  system = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  g_assert_nonnull (system);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (system), ==, "DflyCaDatabase");
  cluster_ca = g_tls_certificate_new_from_pem (f->ca, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_tls_database_verify_chain (system, cluster_ca,
                                                 G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, NULL,
                                                 NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) &
                      G_TLS_CERTIFICATE_UNKNOWN_CA,
                    !=, 0);
  /* A root of the system's store still is one (where there is a store). */
  if (g_file_test ("/etc/ssl/certs/ca-certificates.crt", G_FILE_TEST_EXISTS))
    roots = g_tls_certificate_list_new_from_file ("/etc/ssl/certs/ca-certificates.crt", NULL);
  if (roots != NULL)
    g_assert_cmpuint (g_tls_database_verify_chain (system, roots->data,
                                                   G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, NULL,
                                                   NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL),
                      ==, 0);
  g_list_free_full (roots, g_object_unref);
}

/* ---- piece connections: sorted by ALPN ---- */

typedef struct {
  Fixture   *f;
  guint16    port;
  GIOStream *stream; /* the client's, once its handshake is done */
  GError    *error;
  gboolean   done;
} PieceClient;

static gpointer
piece_client_thread (gpointer user_data)
{
  PieceClient *client = user_data;
  g_autoptr (DflyTls) tls =
    dfly_tls_new (client->f->ca_file, client->f->client_cert, client->f->client_key, NULL);
  g_autoptr (GSocketClient) sockets = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection =
    g_socket_client_connect_to_host (sockets, "127.0.0.1", client->port, NULL, &client->error);

  if (connection != NULL)
    client->stream = dfly_tls_client_handshake (tls, G_IO_STREAM (connection), DFLY_TLS_ALPN_PIECES,
                                                0, NULL, &client->error);
  g_atomic_int_set (&client->done, TRUE);
  return NULL;
}

static void
on_divert (GIOStream *stream, gpointer user_data)
{
  GIOStream **diverted = user_data;

  g_clear_object (diverted);
  *diverted = stream;
}

static void
test_pieces_by_alpn (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyTls) server_tls = dfly_tls_new (f->ca_file, f->server_cert, f->server_key, &error);
  g_autoptr (DflyTls) client_tls = dfly_tls_new (f->ca_file, f->client_cert, f->client_key, &error);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GIOStream) diverted = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char  *url = NULL;
  PieceClient       client = { .f = f };
  DflyWireListener *listener;
  GThread          *thread;
  Seen              seen = { 0 };
  guint             waited = 0;

  listener = listen_tls (server, server_tls, &seen);
  dfly_wire_listener_divert (listener, "GET /v1/download-piece", on_divert, &diverted);
  client.port = dfly_wire_listener_get_port (listener);

  /* A piece client asks for dfly-pieces/1 and goes to the divert, its
   * handshake done, without sending a byte of its request. */
  thread = g_thread_new ("piece-client", piece_client_thread, &client);
  while ((!g_atomic_int_get (&client.done) || diverted == NULL) && waited++ < 1000) {
    g_main_context_iteration (NULL, FALSE);
    g_usleep (10000);
  }
  g_thread_join (thread);
  g_assert_no_error (client.error);
  g_assert_nonnull (client.stream);
  g_assert_cmpstr (g_tls_connection_get_negotiated_protocol (G_TLS_CONNECTION (client.stream)), ==,
                   DFLY_TLS_ALPN_PIECES);
  g_assert_nonnull (diverted);
  g_assert_true (G_IS_TLS_CONNECTION (diverted));
  g_clear_object (&client.stream);

  /* An HTTP client on the same port still reaches the server. */
  dfly_tls_setup_session (client_tls, session, 0);
  url = g_strdup_printf ("https://127.0.0.1:%u/x", client.port);
  body = get (session, url, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (seen.requests, ==, 1);
  g_assert_cmpstr (seen.host_id, ==, "peer-1");
  dfly_wire_listener_free (listener);
  g_free (seen.host_id);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/tls/load", test_load);
  ADD ("/tls/listener", test_listener);
  ADD ("/tls/stranger-refused", test_stranger_refused);
  ADD ("/tls/server-role", test_server_role);
  ADD ("/tls/pieces-by-alpn", test_pieces_by_alpn);
  ADD ("/tls/default-database", test_default_database);
  return g_test_run ();
}
