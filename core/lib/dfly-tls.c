/* dfly-tls.c — DflyTls: the cluster CA, this host's certificate, handshakes
 *
 * GIO's TLS (glib-networking over GnuTLS) does the handshakes. The one
 * thing changed is how a peer's chain is judged: DflyCaDatabase checks it
 * against the cluster CA and ignores the name connected to (peers are
 * reached by IP address, and are named by the host id in their
 * certificates instead). The system's store, GIO's default, is put behind
 * the same type, so that libsoup's connections do not each load it.
 */
#include "config.h"

#include <gnutls/gnutls.h>

#include "dfly/dfly-cert.h"
#include "dfly/dfly-error.h"
#include "dfly/dfly-tls.h"

#define HANDSHAKE_TIMEOUT_S 10

/* ---- a database that trusts the cluster CA and nothing else ---- */

/* "seed or peer" */
static char *
roles_text (DflyRoleFlags roles)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  for (DflyRoleFlags flag = 1; flag <= DFLY_ROLE_FLAG_MANAGER; flag <<= 1) {
    if ((roles & flag) != 0)
      g_ptr_array_add (names, (gpointer) dfly_role_flag_to_string (flag));
  }
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" or ", (char **) names->pdata);
}

#define DFLY_TYPE_CA_DATABASE (dfly_ca_database_get_type ())
G_DECLARE_FINAL_TYPE (DflyCaDatabase, dfly_ca_database, DFLY, CA_DATABASE, GTlsDatabase)

struct _DflyCaDatabase {
  GTlsDatabase  parent_instance;
  GTlsDatabase *ca;      /* the CA file, as GIO's backend reads it (or the system's store) */
  DflyRoleFlags roles;   /* 0: any host; else its certificate grants one of them */
  gboolean      by_name; /* the name connected to is checked too: the system's store */
};

G_DEFINE_FINAL_TYPE (DflyCaDatabase, dfly_ca_database, G_TYPE_TLS_DATABASE)

static GTlsCertificateFlags
ca_database_verify_chain (GTlsDatabase *database, GTlsCertificate *chain, const char *purpose,
                          GSocketConnectable *identity, GTlsInteraction *interaction,
                          GTlsDatabaseVerifyFlags flags, GCancellable *cancellable, GError **error)
{
  DflyCaDatabase *self = DFLY_CA_DATABASE (database);
  g_autoptr (DflyIdentity) peer = NULL;
  g_autoptr (GError) local = NULL;
  GTlsCertificateFlags result;

  /* No identity (but for the system's store): the chain is judged, not
   * the address it came from. */
  result = g_tls_database_verify_chain (self->ca, chain, purpose, self->by_name ? identity : NULL,
                                        interaction, flags, cancellable, error);
  if (result != 0 || self->roles == 0)
    return result;
  /* A client also knows what it called: a scheduler, a seed, a parent. */
  peer = dfly_cert_identity_from_tls_certificate (chain, &local);
  if (peer == NULL || (dfly_identity_get_roles (peer) & self->roles) == 0) {
    g_autofree char *wanted = roles_text (self->roles);

    g_message ("tls: %s is not a %s",
               peer != NULL ? dfly_identity_get_host_id (peer) : "the server", wanted);
    return G_TLS_CERTIFICATE_GENERIC_ERROR;
  }
  return 0;
}

static GTlsCertificate *
ca_database_lookup_certificate_issuer (GTlsDatabase *database, GTlsCertificate *certificate,
                                       GTlsInteraction *interaction, GTlsDatabaseLookupFlags flags,
                                       GCancellable *cancellable, GError **error)
{
  DflyCaDatabase *self = DFLY_CA_DATABASE (database);

  return g_tls_database_lookup_certificate_issuer (self->ca, certificate, interaction, flags,
                                                   cancellable, error);
}

static void
dfly_ca_database_finalize (GObject *object)
{
  g_clear_object (&DFLY_CA_DATABASE (object)->ca);
  G_OBJECT_CLASS (dfly_ca_database_parent_class)->finalize (object);
}

static void
dfly_ca_database_class_init (DflyCaDatabaseClass *klass)
{
  GTlsDatabaseClass *database_class = G_TLS_DATABASE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = dfly_ca_database_finalize;
  database_class->verify_chain = ca_database_verify_chain;
  database_class->lookup_certificate_issuer = ca_database_lookup_certificate_issuer;
}

static void
dfly_ca_database_init (DflyCaDatabase *self)
{
}

/* ---- the system's trust store, behind a type GIO's backend does not know ---- */

/* libsoup makes each TLS connection without a database and gives it the
 * session's one after; made so, GIO's backend loads the whole system
 * trust store into the new connection's credentials, because the default
 * database is one of its own (10 to 15 ms of CPU on the main loop for
 * every stream and announce to another host), and drops it when the
 * session's database replaces it. Connections never use those credentials:
 * every chain is judged by the connection's database. So the backend's
 * default becomes a DflyCaDatabase that asks the system's store, name
 * check included: a connection without a database of its own trusts
 * exactly what it did, without the load. Once per process; the backend
 * keeps it for good. */
static gpointer
wrap_default_database (gpointer data)
{
  GTlsBackend *backend = g_tls_backend_get_default ();
  g_autoptr (GTlsDatabase) system = g_tls_backend_get_default_database (backend);
  g_autoptr (DflyCaDatabase) wrapper = NULL;

  /* No trust store at all (GIO warned): nothing to wrap. */
  if (system == NULL || DFLY_IS_CA_DATABASE (system))
    return NULL;
  wrapper = g_object_new (DFLY_TYPE_CA_DATABASE, NULL);
  wrapper->ca = g_steal_pointer (&system);
  wrapper->by_name = TRUE;
  g_tls_backend_set_default_database (backend, G_TLS_DATABASE (wrapper));
  return NULL;
}

/* ---- presenting our certificate when a server asks ---- */

#define DFLY_TYPE_TLS_INTERACTION (dfly_tls_interaction_get_type ())
G_DECLARE_FINAL_TYPE (DflyTlsInteraction, dfly_tls_interaction, DFLY, TLS_INTERACTION,
                      GTlsInteraction)

struct _DflyTlsInteraction {
  GTlsInteraction  parent_instance;
  GTlsCertificate *certificate;
};

G_DEFINE_FINAL_TYPE (DflyTlsInteraction, dfly_tls_interaction, G_TYPE_TLS_INTERACTION)

static GTlsInteractionResult
interaction_request_certificate (GTlsInteraction *interaction, GTlsConnection *connection,
                                 GTlsCertificateRequestFlags flags, GCancellable *cancellable,
                                 GError **error)
{
  g_tls_connection_set_certificate (connection, DFLY_TLS_INTERACTION (interaction)->certificate);
  return G_TLS_INTERACTION_HANDLED;
}

static void
dfly_tls_interaction_finalize (GObject *object)
{
  g_clear_object (&DFLY_TLS_INTERACTION (object)->certificate);
  G_OBJECT_CLASS (dfly_tls_interaction_parent_class)->finalize (object);
}

static void
dfly_tls_interaction_class_init (DflyTlsInteractionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_tls_interaction_finalize;
  G_TLS_INTERACTION_CLASS (klass)->request_certificate = interaction_request_certificate;
}

static void
dfly_tls_interaction_init (DflyTlsInteraction *self)
{
}

/* ---- DflyTls ---- */

struct _DflyTls {
  GObject             parent_instance;
  GTlsCertificate    *certificate;
  GTlsDatabase       *database; /* any host of the CA */
  GMutex              lock;
  GTlsDatabase       *for_roles[DFLY_ROLE_FLAGS_ALL + 1]; /* made when first asked for */
  DflyTlsInteraction *interaction;
  DflyIdentity       *identity;
};

G_DEFINE_FINAL_TYPE (DflyTls, dfly_tls, G_TYPE_OBJECT)

static void
dfly_tls_finalize (GObject *object)
{
  DflyTls *self = DFLY_TLS (object);

  g_clear_object (&self->certificate);
  g_clear_object (&self->database);
  for (guint i = 0; i < G_N_ELEMENTS (self->for_roles); i++)
    g_clear_object (&self->for_roles[i]);
  g_mutex_clear (&self->lock);
  g_clear_object (&self->interaction);
  g_clear_pointer (&self->identity, dfly_identity_unref);
  G_OBJECT_CLASS (dfly_tls_parent_class)->finalize (object);
}

static void
dfly_tls_class_init (DflyTlsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_tls_finalize;
}

static void
dfly_tls_init (DflyTls *self)
{
  g_mutex_init (&self->lock);
}

static gboolean
is_set (const char *path)
{
  return path != NULL && path[0] != '\0';
}

DflyTls *
dfly_tls_new_from_config (const DflyConfig *config, GError **error)
{
  guint n = is_set (config->tls.ca) + is_set (config->tls.cert) + is_set (config->tls.key);

  if (n == 0)
    return NULL;
  if (n != 3) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "tls: ca, cert and key are needed together (missing: %s%s%s)",
                 is_set (config->tls.ca) ? "" : "ca ", is_set (config->tls.cert) ? "" : "cert ",
                 is_set (config->tls.key) ? "" : "key");
    return NULL;
  }
  return dfly_tls_new (config->tls.ca, config->tls.cert, config->tls.key, error);
}

/* GIO loads a key without comparing it with the certificate: a wrong one
 * would fail every handshake later, with nothing saying why. */
static gboolean
key_matches (const char *cert_file, const char *key_file, GError **error)
{
  gnutls_certificate_credentials_t credentials;
  int                              code;

  if (gnutls_certificate_allocate_credentials (&credentials) < 0) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_FAILED, "out of memory");
    return FALSE;
  }
  code =
    gnutls_certificate_set_x509_key_file (credentials, cert_file, key_file, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials (credentials);
  if (code < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "tls.key %s: %s", key_file,
                 code == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "not the key of tls.cert"
                                                           : gnutls_strerror (code));
    return FALSE;
  }
  return TRUE;
}

DflyTls *
dfly_tls_new (const char *ca_file, const char *cert_file, const char *key_file, GError **error)
{
  g_autoptr (DflyTls) self = g_object_new (DFLY_TYPE_TLS, NULL);
  g_autoptr (DflyCaDatabase) database = g_object_new (DFLY_TYPE_CA_DATABASE, NULL);
  g_autoptr (GError) local = NULL;
  GTlsCertificateFlags flags;

  database->ca = g_tls_file_database_new (ca_file, &local);
  if (database->ca == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "tls.ca %s: %s", ca_file,
                 local->message);
    return NULL;
  }
  self->database = G_TLS_DATABASE (g_steal_pointer (&database));
  self->certificate = g_tls_certificate_new_from_files (cert_file, key_file, &local);
  if (self->certificate == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "tls.cert %s, tls.key %s: %s",
                 cert_file, key_file, local->message);
    return NULL;
  }
  if (!key_matches (cert_file, key_file, error))
    return NULL;
  flags = g_tls_database_verify_chain (self->database, self->certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT, NULL, NULL,
                                       G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  if (flags != 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "tls.cert %s is not valid under tls.ca %s (%s)", cert_file, ca_file,
                 (flags & G_TLS_CERTIFICATE_UNKNOWN_CA) != 0 ? "another CA issued it"
                 : (flags & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED)) != 0
                   ? "outside its validity"
                   : "rejected");
    return NULL;
  }
  self->identity = dfly_cert_identity_from_tls_certificate (self->certificate, &local);
  if (self->identity == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "tls.cert %s: %s", cert_file,
                 local->message);
    return NULL;
  }
  self->interaction = g_object_new (DFLY_TYPE_TLS_INTERACTION, NULL);
  self->interaction->certificate = g_object_ref (self->certificate);
  return g_steal_pointer (&self);
}

GTlsCertificate *
dfly_tls_get_certificate (DflyTls *self)
{
  return self->certificate;
}

const DflyIdentity *
dfly_tls_get_identity (DflyTls *self)
{
  return self->identity;
}

GTlsDatabase *
dfly_tls_get_database (DflyTls *self)
{
  return self->database;
}

GTlsDatabase *
dfly_tls_get_database_for (DflyTls *self, DflyRoleFlags roles)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  DflyCaDatabase *database;

  roles &= DFLY_ROLE_FLAGS_ALL;
  if (roles == 0)
    return self->database;
  if (self->for_roles[roles] == NULL) {
    database = g_object_new (DFLY_TYPE_CA_DATABASE, NULL);
    database->ca = g_object_ref (DFLY_CA_DATABASE (self->database)->ca);
    database->roles = roles;
    self->for_roles[roles] = G_TLS_DATABASE (database);
  }
  return self->for_roles[roles];
}

void
dfly_tls_name_host (DflyTls *self, DflyHostInfo *host)
{
  g_free (host->id);
  host->id = g_strdup (dfly_identity_get_host_id (self->identity));
}

void
dfly_tls_setup_session (DflyTls *self, SoupSession *session, DflyRoleFlags roles)
{
  static GOnce wrapped = G_ONCE_INIT;

  g_once (&wrapped, wrap_default_database, NULL);
  g_object_set (session, "tls-database", dfly_tls_get_database_for (self, roles), "tls-interaction",
                self->interaction, NULL);
}

static GTlsConnection *
set_up (DflyTls *self, GTlsConnection *connection, const char *const *alpn, DflyRoleFlags roles)
{
  g_tls_connection_set_database (connection, dfly_tls_get_database_for (self, roles));
  g_tls_connection_set_interaction (connection, G_TLS_INTERACTION (self->interaction));
  g_tls_connection_set_advertised_protocols (connection, alpn);
  return connection;
}

GIOStream *
dfly_tls_client_handshake (DflyTls *self, GIOStream *base, const char *alpn, DflyRoleFlags roles,
                           GCancellable *cancellable, GError **error)
{
  const char *const protocols[] = { alpn, NULL };
  /* GIO's backend counts a connection without a server identity as a bad
   * one before the database is asked; the database ignores it anyway. */
  g_autoptr (GSocketAddress) remote =
    G_IS_SOCKET_CONNECTION (base)
      ? g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (base), NULL)
      : NULL;
  /* Made with its database, not given one after: made without, GIO's
   * backend first loads the system's whole trust store into it (two thirds
   * of a handshake's CPU), to be dropped at once. */
  g_autoptr (GIOStream) connection =
    g_initable_new (g_tls_backend_get_client_connection_type (g_tls_backend_get_default ()), NULL,
                    error, "base-io-stream", base, "server-identity", remote, "database",
                    dfly_tls_get_database_for (self, roles), NULL);

  if (connection == NULL)
    return NULL;
  set_up (self, G_TLS_CONNECTION (connection), alpn != NULL ? protocols : NULL, roles);
  g_tls_connection_set_certificate (G_TLS_CONNECTION (connection), self->certificate);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (connection), cancellable, error))
    return NULL;
  return g_steal_pointer (&connection);
}

typedef struct {
  GIOStream      *base;
  GTlsConnection *connection;
  guint           timeout_id;
} Handshake;

static void
handshake_free (Handshake *handshake)
{
  g_clear_handle_id (&handshake->timeout_id, g_source_remove);
  g_clear_object (&handshake->connection);
  g_clear_object (&handshake->base);
  g_free (handshake);
}

/* A client that never finishes its handshake is cut: closing the base
 * stream fails the handshake. */
static gboolean
on_handshake_timeout (gpointer user_data)
{
  GTask     *task = user_data;
  Handshake *handshake = g_task_get_task_data (task);

  handshake->timeout_id = 0;
  g_io_stream_close (handshake->base, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* A server accepts a client's certificate only if a handler says so, even
 * one the database found valid. */
static gboolean
on_accept_certificate (GTlsConnection *connection, GTlsCertificate *peer,
                       GTlsCertificateFlags errors, gpointer user_data)
{
  return errors == 0;
}

static void
on_server_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
dfly_tls_server_handshake_async (DflyTls *self, GIOStream *base, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  static const char *const protocols[] = { DFLY_TLS_ALPN_PIECES, DFLY_TLS_ALPN_HTTP, NULL };
  GTask                   *task = g_task_new (self, cancellable, callback, user_data);
  Handshake               *handshake = g_new0 (Handshake, 1);
  GError                  *error = NULL;
  /* With its database from the start (see dfly_tls_client_handshake). */
  GIOStream *connection =
    g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()), NULL,
                    &error, "base-io-stream", base, "certificate", self->certificate, "database",
                    self->database, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);

  handshake->base = g_object_ref (base);
  g_task_set_task_data (task, handshake, (GDestroyNotify) handshake_free);
  if (connection == NULL) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  handshake->connection = set_up (self, G_TLS_CONNECTION (connection), protocols, 0);
  g_signal_connect (connection, "accept-certificate", G_CALLBACK (on_accept_certificate), NULL);
  handshake->timeout_id = g_timeout_add_seconds (HANDSHAKE_TIMEOUT_S, on_handshake_timeout, task);
  g_tls_connection_handshake_async (handshake->connection, G_PRIORITY_DEFAULT, cancellable,
                                    on_server_handshake, task);
}

GIOStream *
dfly_tls_server_handshake_finish (DflyTls *self, GAsyncResult *result, DflyIdentity **identity,
                                  GError **error)
{
  Handshake       *handshake = g_task_get_task_data (G_TASK (result));
  GTlsCertificate *peer;

  g_clear_handle_id (&handshake->timeout_id, g_source_remove);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  /* The handshake checked the chain (on_accept_certificate): only the names
   * are left to read. */
  peer = g_tls_connection_get_peer_certificate (handshake->connection);
  if (peer == NULL) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_ACCESS_DENIED, "no client certificate");
    return NULL;
  }
  *identity = dfly_cert_identity_from_tls_certificate (peer, error);
  if (*identity == NULL)
    return NULL;
  return g_object_ref (G_IO_STREAM (handshake->connection));
}
