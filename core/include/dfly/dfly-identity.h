/* dfly-identity.h — who is at the other end of a connection
 *
 * With a `tls:` section in the config every link between components is
 * mutual TLS from one cluster CA, and each certificate names a host id (its
 * subject's common name) and the roles the host may play (one URI
 * subject-alternative name per role, "urn:dfly:role:seed" and so on; see
 * dfly-cert.h). The listener records what each client's certificate proved;
 * a handler asks here. Without TLS nothing is proved and every lookup
 * answers NULL: the network is trusted, as before.
 */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum {
  DFLY_ROLE_FLAG_PEER = 1 << 0,
  DFLY_ROLE_FLAG_SEED = 1 << 1,
  DFLY_ROLE_FLAG_SCHEDULER = 1 << 2,
  DFLY_ROLE_FLAG_MANAGER = 1 << 3,
} DflyRoleFlags;

#define DFLY_ROLE_FLAGS_ALL \
  (DFLY_ROLE_FLAG_PEER | DFLY_ROLE_FLAG_SEED | DFLY_ROLE_FLAG_SCHEDULER | DFLY_ROLE_FLAG_MANAGER)

/* "peer", "seed", "scheduler", "manager"; FALSE for anything else. */
gboolean    dfly_role_flag_from_string (const char *name, DflyRoleFlags *flag);
const char *dfly_role_flag_to_string (DflyRoleFlags flag);

/* Immutable and reference-counted: a connection and its handlers share it. */
typedef struct _DflyIdentity DflyIdentity;

#define DFLY_TYPE_IDENTITY (dfly_identity_get_type ())
GType         dfly_identity_get_type (void) G_GNUC_CONST;
DflyIdentity *dfly_identity_new (const char *host_id, DflyRoleFlags roles);
DflyIdentity *dfly_identity_ref (DflyIdentity *self);
void          dfly_identity_unref (DflyIdentity *self);
const char   *dfly_identity_get_host_id (const DflyIdentity *self);
DflyRoleFlags dfly_identity_get_roles (const DflyIdentity *self);
/* TRUE if the certificate grants role. */
gboolean dfly_identity_has_role (const DflyIdentity *self, DflyRoleFlags role);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyIdentity, dfly_identity_unref)

/* What the client of msg (or of the stream a WebSocket runs on) proved at
 * its TLS handshake; NULL on a plaintext connection. Borrowed: valid while
 * the message (or the WebSocket) is. */
const DflyIdentity *dfly_identity_of_message (SoupServerMessage *msg);
const DflyIdentity *dfly_identity_of_websocket (SoupWebsocketConnection *connection);

/* Transports call these when a connection is accepted or upgraded. */
void dfly_identity_attach_to_message (SoupServerMessage *msg, DflyIdentity *identity);
void dfly_identity_attach_to_websocket (SoupWebsocketConnection *connection,
                                        DflyIdentity            *identity);

G_END_DECLS
