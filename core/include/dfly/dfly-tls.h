/* dfly-tls.h — mutual TLS between dfly's components
 *
 * From the config's `tls:` section (ca, cert, key). Every link between
 * components — announce and sync streams, piece connections, seed orders —
 * runs over TLS where both ends show a certificate of the cluster CA, and
 * each learns the other's DflyIdentity from it (dfly-identity.h). Hosts are
 * named by their certificates, not by addresses: a certificate is checked
 * against the CA alone, never against the address connected to, and what a
 * host may do is decided by the roles its certificate grants.
 *
 * Without a `tls:` section there is no DflyTls: links are plaintext, for a
 * trusted network.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "dfly-config.h"
#include "dfly-identity.h"
#include "dfly-types.h"

G_BEGIN_DECLS

/* The ALPN protocol a piece connection asks for, so the listener hands it
 * to the piece sender without reading its first bytes. */
#define DFLY_TLS_ALPN_PIECES "dfly-pieces/1"
#define DFLY_TLS_ALPN_HTTP   "http/1.1"

#define DFLY_TYPE_TLS (dfly_tls_get_type ())
G_DECLARE_FINAL_TYPE (DflyTls, dfly_tls, DFLY, TLS, GObject)

/* NULL without an error when config has no `tls:` section; NULL with one
 * when it names only some of ca, cert and key, or they do not load, or the
 * certificate is not the CA's or names no dfly role. */
DflyTls *dfly_tls_new_from_config (const DflyConfig *config, GError **error);
DflyTls *dfly_tls_new (const char *ca_file, const char *cert_file, const char *key_file,
                       GError **error);

/* This host's certificate (with its key) and what it proves. */
GTlsCertificate    *dfly_tls_get_certificate (DflyTls *self);
const DflyIdentity *dfly_tls_get_identity (DflyTls *self);
/* Verifies chains against the cluster CA only (no host name check). */
GTlsDatabase *dfly_tls_get_database (DflyTls *self);
/* The same, and the certificate must also grant one of roles (0: any):
 * what a client checks of the server it called. */
GTlsDatabase *dfly_tls_get_database_for (DflyTls *self, DflyRoleFlags roles);

/* Under TLS a host is who its certificate names: host's id becomes the
 * certificate's host id (schedulers refuse any other from it). */
void dfly_tls_name_host (DflyTls *self, DflyHostInfo *host);

/* Client side: sessions present this host's certificate and trust only
 * servers of the cluster CA granted one of roles (0: any). The first call
 * also puts the system's trust store behind a database of dfly's as GIO's
 * default (the same answers), so that libsoup's TLS connections are not
 * each given a copy of the store before the session's database. */
void dfly_tls_setup_session (DflyTls *self, SoupSession *session, DflyRoleFlags roles);
/* A blocking client handshake over base (a connected socket), asking for
 * ALPN protocol alpn, with a server granted one of roles (0: any); returns
 * the TLS stream (base stays its base). */
GIOStream *dfly_tls_client_handshake (DflyTls *self, GIOStream *base, const char *alpn,
                                      DflyRoleFlags roles, GCancellable *cancellable,
                                      GError **error);

/* Server side: a handshake that requires a client certificate of the CA;
 * _finish gives the TLS stream and the client's identity. */
void dfly_tls_server_handshake_async (DflyTls *self, GIOStream *base, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
GIOStream *dfly_tls_server_handshake_finish (DflyTls *self, GAsyncResult *result,
                                             DflyIdentity **identity, GError **error);

G_END_DECLS
