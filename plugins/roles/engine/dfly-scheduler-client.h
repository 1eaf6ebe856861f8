/* dfly-scheduler-client.h — a peer's side of the schedulers
 *
 * One WebSocket per scheduler carries the announce streams of every task
 * this host downloads (AnnouncePeerRequest out, AnnouncePeerResponse in,
 * told apart by task and peer id). A task uses the scheduler its id hashes
 * to (rendezvous hashing over peer.schedulers, or over the schedulers a
 * manager lists) and, when that one is down, the next in the same order. The host is announced to every scheduler at
 * start and every host.announce_interval. Main thread only.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct _DflySchedulerClient DflySchedulerClient;
typedef struct _DflyAnnounceStream  DflyAnnounceStream;

typedef void (*DflyAnnounceResponseFunc) (const Dfly__V1__AnnouncePeerResponse *response,
                                          gpointer                              user_data);
/* The stream's scheduler went away; the stream is dead (free it). */
typedef void (*DflyAnnounceLostFunc) (gpointer user_data);

/* addresses: "host:port" of every scheduler; NULL if there are none. The
 * client forwards every host-announced and host-left of this daemon's bus
 * (its host announcer's) to each scheduler. */
DflySchedulerClient *dfly_scheduler_client_new (DflyContext *context, const char *const *addresses);
/* A client whose schedulers come later, from set_addresses (a manager's
 * list): until then it knows none, and every download goes to its source. */
DflySchedulerClient *dfly_scheduler_client_new_listed (DflyContext *context);
/* The schedulers are now addresses ("host:port"; at most 64 known at
 * once): new ones are added, and those no longer listed take no new
 * streams (theirs go on until they end). Returns how many were taken. */
guint dfly_scheduler_client_set_addresses (DflySchedulerClient *self, const char *const *addresses);
/* The schedulers new streams may use. */
char **dfly_scheduler_client_dup_addresses (DflySchedulerClient *self);
void   dfly_scheduler_client_free (DflySchedulerClient *self);

/* A stream for one download on the first scheduler of the task's order
 * that is not known to be down; NULL when all are. */
DflyAnnounceStream *dfly_scheduler_client_open (DflySchedulerClient *self, const char *task_id,
                                                const char              *peer_id,
                                                DflyAnnounceResponseFunc on_response,
                                                DflyAnnounceLostFunc on_lost, gpointer user_data);
/* Sends one frame (an AnnouncePeerRequest) in order; queued until connected. */
void        dfly_announce_stream_send (DflyAnnounceStream *stream, GBytes *frame);
const char *dfly_announce_stream_get_address (DflyAnnounceStream *stream);
void        dfly_announce_stream_free (DflyAnnounceStream *stream);

G_END_DECLS
