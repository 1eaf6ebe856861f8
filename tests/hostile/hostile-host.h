/* hostile-host.h — a fake host on a scheduler, which the attacks build on
 *
 * It announces itself (POST /v1/announce-host) as a normal host with a made
 * up id, opens the host's announce stream (WebSocket /v1/announce-peer) and
 * sends peers' requests on it; what the scheduler answers is kept.
 */
#pragma once

#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct {
  SoupSession             *session;
  char                    *scheduler_url;
  char                    *host_id; /* IP-NAME */
  char                    *ip;
  SoupWebsocketConnection *announce;
  gboolean                 connected; /* the stream's connect finished */
  GPtrArray               *responses; /* Dfly__V1__AnnouncePeerResponse * received */
} HostileHost;

/* Announces host IP-NAME at ip, upload port port, to scheduler ("ip:port"),
 * and opens its announce stream; FALSE (with a line on stderr) when either
 * fails. */
gboolean hostile_host_start (HostileHost *host, const char *scheduler, const char *ip,
                             const char *name, guint port);
/* Announces the host again, as a live one does. */
void hostile_host_announce (HostileHost *host, guint port);
/* Sends request for peer_id of task_id on the announce stream. */
void hostile_host_send (HostileHost *host, Dfly__V1__AnnouncePeerRequest *request,
                        const char *task_id, const char *peer_id);
/* Registers peer_id for task_id (url, in pieces of piece_length). */
void hostile_host_register (HostileHost *host, const char *task_id, const char *peer_id,
                            const char *url, guint64 piece_length, gboolean holds_content);
void hostile_host_clear (HostileHost *host);

G_END_DECLS
