/* dfly-wire-backlog.h — how many bytes sent on a socket its peer has not taken yet
 *
 * libsoup 3.2 queues a WebSocket's outgoing messages without bound and
 * shows nobody how long the queue is; a peer that stops reading would make
 * it grow for ever. So we count the bytes we hand libsoup, and the kernel
 * counts the bytes libsoup wrote to the socket: those the peer acknowledged
 * (TCP_INFO's bytes_acked) plus those still in the send queue (SIOCOUTQ).
 * What we handed over and was not written waits in libsoup's queue. The
 * count never goes below zero, so what libsoup writes on its own (frame
 * heads, pings, pongs, TLS records) is never credit for later.
 *
 * One stream's cap does not bound a server that keeps thousands: the
 * streams on the connections of one listener share a pool whose total has
 * a cap of its own. Backlogs are counted on the main thread only, like the
 * WebSockets; a pool is refcounted from any thread (its sockets may end on
 * others). Part of libdfly-proto.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DflyWireBacklog     DflyWireBacklog;
typedef struct _DflyWireBacklogPool DflyWireBacklogPool;

/* What all the backlogs on a listener's sockets may add up to; 0: no cap. */
DflyWireBacklogPool *dfly_wire_backlog_pool_new (guint64 cap);
void                 dfly_wire_backlog_pool_unref (DflyWireBacklogPool *pool);
/* Backlogs of streams on socket count against pool from now on. */
void dfly_wire_backlog_pool_attach (DflyWireBacklogPool *pool, GSocket *socket);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWireBacklogPool, dfly_wire_backlog_pool_unref)

/* For a TCP socket, in its pool if it has one; NULL when the kernel cannot
 * tell (not TCP). */
DflyWireBacklog *dfly_wire_backlog_new (GSocket *socket);
void             dfly_wire_backlog_free (DflyWireBacklog *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWireBacklog, dfly_wire_backlog_free)

/* Counts length bytes about to be handed over; returns the bytes handed
 * over and not written yet, these included. */
guint64 dfly_wire_backlog_add (DflyWireBacklog *self, gsize length);
/* Whether the backlogs sharing self's pool add up to more than its cap (as
 * each was last counted) and self holds more than its share: the cap over
 * the backlogs, and at least 64 KiB. The pool's total then stays under
 * about twice its cap. */
gboolean dfly_wire_backlog_over_share (DflyWireBacklog *self);

G_END_DECLS
