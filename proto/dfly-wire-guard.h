/* dfly-wire-guard.h — what a listener holds every connection to
 *
 * A DflyWireListener's bounds on the connections it accepts: the caps
 * (dfly-wire-admission.h), checked first at accept; a socket silent for
 * the idle timeout fails its read or write; the request head, which
 * libsoup's server waits for without end, must be whole within the header
 * timeout of the accept (a TLS handshake or the divert's peek included),
 * or the connection is shut down, which ends libsoup's read; and every
 * answer but a WebSocket upgrade closes its connection, since libsoup 3.2
 * never lets go of a kept-alive one its client closed. Main thread. Part
 * of libdfly-proto.
 */
#pragma once

#include <libsoup/soup.h>

#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct _DflyWireGuard DflyWireGuard;

/* For server's connections accepted on the listener called name. */
DflyWireGuard *dfly_wire_guard_new (SoupServer *server, const char *name,
                                    const DflyWireLimits *limits);
void           dfly_wire_guard_free (DflyWireGuard *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWireGuard, dfly_wire_guard_free)

/* Counts a new connection in and starts its clock; FALSE when it is over a
 * cap: then it is closed already. */
gboolean dfly_wire_guard_admit (DflyWireGuard *self, GSocketConnection *connection);
/* The connection goes to the server, which will know it by remote (the
 * address object it is handed): its head deadlines start. */
void dfly_wire_guard_serve (DflyWireGuard *self, GSocketConnection *connection,
                            GSocketAddress *remote);
/* The connection goes to a divert callee, which bounds its heads itself:
 * its deadline is off. */
void dfly_wire_guard_hand_over (DflyWireGuard *self, GSocketConnection *connection);
/* Seconds a connection has for its first request head (0: no limit). */
guint dfly_wire_guard_get_header_timeout (DflyWireGuard *self);
/* Connections open now, from address (an IP literal) or in all (NULL). */
guint dfly_wire_guard_count (DflyWireGuard *self, const char *address);

G_END_DECLS
