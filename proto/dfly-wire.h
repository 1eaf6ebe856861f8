/* dfly-wire.h — protocol messages on libsoup: frames in POST bodies and
 * WebSocket binary messages
 *
 * Every POST body and every WebSocket message holds exactly one frame
 * (dfly-frame.h: length-prefixed, size-capped Envelope). One-shot calls are
 * POSTs; streams are WebSockets. Part of libdfly-proto (see dfly-message.h).
 */
#pragma once

#include <dfly/dfly.h>
#include <dfly/dfly-tls.h>
#include <libsoup/soup.h>
#include <protobuf-c/protobuf-c.h>

#include "dfly-message.h"
#include "proto/common.pb-c.h"
#include "proto/peer.pb-c.h"
#include "proto/scheduler.pb-c.h"

G_BEGIN_DECLS

/* The WebSocket subprotocol every dfly stream speaks. */
#define DFLY_WIRE_WS_PROTOCOL "dfly.v1"

/* One frame holding message, which is of type. */
GBytes *dfly_wire_pack (DflyMessageType type, const ProtobufCMessage *message);

/* The message in data, which must be exactly one frame of type expected
 * (0: any; *type says which). NULL with DFLY_ERROR_PROTOCOL otherwise.
 * Free with protobuf_c_message_free_unpacked (message, NULL). */
ProtobufCMessage *dfly_wire_unpack (const guint8 *data, gsize length, gsize max_size,
                                    guint32 expected, guint32 *type, GError **error);

/* Readies a dfly stream, either end: incoming messages capped at one
 * frame of max_message_size, keepalive pings that find a vanished peer,
 * and a cap on what waits unread for the peer: 8 MiB or two of the
 * largest messages, whichever is more, or its share of its listener's
 * max_unread while its streams leave more than that unread together
 * (dfly-wire-backlog.h). */
void dfly_wire_ws_setup (SoupWebsocketConnection *connection, gsize max_message_size);

/* The server's end of a stream msg upgraded: set up as above, and it
 * keeps the identity msg's client proved (dfly_identity_of_websocket). */
void dfly_wire_ws_accept (SoupServerMessage *msg, SoupWebsocketConnection *connection,
                          gsize max_message_size);

/* The socket under stream, through TLS's and libsoup's wrappers, or NULL
 * when there is none; borrowed: the stream holds it. */
GSocket *dfly_wire_socket_of (GIOStream *stream);

/* Sends message on a WebSocket as one binary message; a stream whose peer
 * has more than its cap unread is closed instead, with a log line. */
void dfly_wire_ws_send (SoupWebsocketConnection *connection, DflyMessageType type,
                        const ProtobufCMessage *message);

/* POSTs message to url; the reply body (possibly empty) comes back from
 * _finish, or an error for a non-2xx status. */
void    dfly_wire_post_async (SoupSession *session, const char *url, DflyMessageType type,
                              const ProtobufCMessage *message, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
GBytes *dfly_wire_post_finish (SoupSession *session, GAsyncResult *result, GError **error);

/* Server side: refuses (413) a request body announced larger than max_size
 * or sent without a length, before any of it is read. Connect once to a
 * server's "request-started". */
void dfly_wire_server_cap_bodies (SoupServer *server, gsize max_size);

/* The one frame in a POST body, of type expected; on failure sets a 400
 * reply with the reason and returns NULL. */
ProtobufCMessage *dfly_wire_read_request (SoupServerMessage *msg, gsize max_size, guint32 expected);

/* Replies 200 with message as the body. */
void dfly_wire_reply (SoupServerMessage *msg, DflyMessageType type,
                      const ProtobufCMessage *message);

/* What a listener bounds (dflyd's protocol.* keys; 0: no bound). */
typedef struct {
  guint   max_connections; /* open at once, in all */
  guint   max_per_address; /* open at once from one peer address */
  guint   header_timeout;  /* seconds from accepting a connection to its first request head */
  guint   idle_timeout;    /* seconds a socket may stay silent */
  guint64 max_unread;      /* bytes all its streams may leave unread together */
} DflyWireLimits;

/* The limits config gives every server. */
void dfly_wire_limits_from_config (const DflyConfig *config, DflyWireLimits *limits);

/* A SoupServer served on ip:port through our own GSocketService rather
 * than soup_server_listen(): libsoup 3.2 leaks every socket its own
 * listener accepts, and has no header timeout nor connection caps. Port 0
 * picks a free port. A connection over a cap is closed at once (with a log
 * line at most every 10 s); one that has not sent a whole request head in
 * time is shut down; each answers one request (but a WebSocket upgrade):
 * libsoup 3.2 never lets go of a kept-alive connection its client closed.
 * limits NULL: no caps, no timeouts. */
typedef struct _DflyWireListener DflyWireListener;
DflyWireListener                *dfly_wire_listen (SoupServer *server, const char *ip, guint16 port,
                                                   const DflyWireLimits *limits, GError **error);
guint16                          dfly_wire_listener_get_port (DflyWireListener *listener);
/* Stops accepting; connections already served live on with the server.
 * Connections still waiting for their first bytes are dropped. */
void dfly_wire_listener_free (DflyWireListener *listener);
/* From now on every connection is mutual TLS with tls's CA (tls NULL:
 * plaintext stays). Handlers learn the client's identity with
 * dfly_identity_of_message(); piece connections are those asking for ALPN
 * DFLY_TLS_ALPN_PIECES rather than those starting with the divert prefix. */
void dfly_wire_listener_set_tls (DflyWireListener *listener, DflyTls *tls);

/* Takes a connection away from the SoupServer; it is the callee's: a
 * GSocketConnection, or under TLS a GTlsConnection over one. */
typedef void (*DflyWireDivertFunc) (GIOStream *stream, gpointer user_data);
/* From now on a connection whose first bytes are prefix goes to func
 * instead of the server (every other one still to the server). The listener
 * peeks at those bytes without reading them, waiting up to the header
 * timeout (30 s without one) for the first and 1 s for the rest of the
 * prefix; with 1024 connections waiting, new ones go to the server
 * unpeeked. One divert per listener. The callee bounds its connection's
 * heads itself from then on. */
void dfly_wire_listener_divert (DflyWireListener *listener, const char *prefix,
                                DflyWireDivertFunc func, gpointer user_data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWireListener, dfly_wire_listener_free)

/* A host as it travels: borrowed strings of info (never NULL), so the
 * message lives no longer than info. */
void dfly_wire_host_to_message (const DflyHostInfo *info, Dfly__V1__Host *host);
/* A host as received, checked (an id, an IP literal, a port, bounded
 * strings); NULL with DFLY_ERROR_PROTOCOL otherwise. */
DflyHostInfo *dfly_wire_host_from_message (const Dfly__V1__Host *host, GError **error);

/* Piece bitmaps as CandidateParent.piece_bitmap has them: bit n of byte n/8,
 * least significant first; set grows the array. */
gboolean dfly_wire_bitmap_get (GByteArray *bits, guint32 n);
void     dfly_wire_bitmap_set (GByteArray *bits, guint32 n);

/* "http://host:port" (tls: "https://") for an address and port, with
 * IPv6 in brackets. */
char *dfly_wire_base_url (const char *ip, guint port, gboolean tls);

/* A session for links to other components: when the context has TLS it
 * presents this host's certificate and trusts only servers of the cluster
 * CA whose certificates grant one of roles (what the session calls: a
 * scheduler, a seed...). timeout and idle_timeout in seconds, as
 * SoupSession's properties. */
SoupSession *dfly_wire_session_new (DflyContext *context, DflyRoleFlags roles, guint timeout,
                                    guint idle_timeout);

G_END_DECLS
