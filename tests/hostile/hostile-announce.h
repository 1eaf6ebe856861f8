/* hostile-announce.h — a lying peer's announce stream to a scheduler
 *
 * What the attacks that lie to a scheduler about a task share: an announce
 * stream opened as a peer would open it, the task id a real peer makes for a
 * URL, and one lie told as the task's source (hostile_lie_as_source).
 */
#pragma once

#include <glib.h>

#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct {
  SoupSession             *session;
  char                    *scheduler_url; /* http://ip:port */
  char                    *host_id;
  char                    *task_id;
  char                    *peer_id;
  SoupWebsocketConnection *ws;
  GPtrArray               *responses; /* Dfly__V1__AnnouncePeerResponse * received */
  gboolean                 connected; /* the connect finished, well or not */
} HostileAnnounce;

/* Opens an announce stream to scheduler ("ip:port") as host_id's peer of
 * URL's task (as dflyctl get asks for it). FALSE, with a line on stderr, if
 * the stream does not open within 10 s. */
gboolean hostile_announce_open (HostileAnnounce *self, const char *scheduler, const char *host_id,
                                const char *url);
void     hostile_announce_close (HostileAnnounce *self);

/* Sends request with this peer's ids. */
void hostile_announce_send (HostileAnnounce *self, Dfly__V1__AnnouncePeerRequest *request);

/* Announces this peer's host (host_id) to the scheduler as a normal host at
 * ip with its upload server on port; prints "announce_host_status=". */
void hostile_announce_host (HostileAnnounce *self, const char *ip, guint port);

/* Registers this peer for URL's task (in pieces of piece_length, 0: not
 * asked), as a peer asking for the source or one holding the content. */
void hostile_announce_register (HostileAnnounce *self, const char *url, guint64 piece_length,
                                gboolean need_back_to_source, gboolean holds_content);

/* The first response within timeout_ms, borrowed; NULL if none came. */
Dfly__V1__AnnouncePeerResponse *hostile_announce_wait (HostileAnnounce *self, guint timeout_ms);

/* The task's content length the scheduler's stat-task gives (-1: not
 * known), or -2 when it has no such task or does not answer. */
gint64 hostile_announce_stat_length (HostileAnnounce *self);

/* The lie: registers for URL's task (asking for the source if
 * need_back_to_source), and if the scheduler sends it to the source,
 * reports content_length bytes in pieces of piece_length, digests of zeros
 * for its first pieces and for huge piece numbers, and its end; holds the
 * stream for seconds (or until SIGTERM). Prints "response=…" when answered
 * and "stat_content_length=…" at the end. argv: SCHEDULER URL SECONDS. */
int hostile_lie_as_source (int argc, char **argv, const char *name, gboolean need_back_to_source,
                           gint64 content_length, guint64 piece_length);

G_END_DECLS
