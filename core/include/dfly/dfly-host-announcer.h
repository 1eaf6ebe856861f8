/* dfly-host-announcer.h — this host's one announcer
 *
 * The piece engine (which the peer and seed roles run) makes one: it emits
 * host-announced on the daemon's bus with this machine's measurements right
 * after start and then every host.announce_interval seconds, at once again
 * on config-reloaded (a scheduler must learn a longer interval before the
 * shorter one runs out), and host-left once when stopped. The engine's
 * scheduler client forwards each to the schedulers over the protocol; the
 * D-Bus service shows the last one. Runs on the thread-default main context
 * of the caller of start().
 */
#pragma once

#include <glib-object.h>

#include "dfly-context.h"
#include "dfly-types.h"

G_BEGIN_DECLS

#define DFLY_TYPE_HOST_ANNOUNCER (dfly_host_announcer_get_type ())
G_DECLARE_FINAL_TYPE (DflyHostAnnouncer, dfly_host_announcer, DFLY, HOST_ANNOUNCER, GObject)

/* This host as it is to be announced now (a new reference). */
typedef DflyHostInfo *(*DflyHostInfoFunc) (gpointer user_data);

/* port: the host's peer service port, 0 while it has none. */
DflyHostAnnouncer *dfly_host_announcer_new (DflyContext *ctx, DflyHostType type, guint16 port);
/* Schedules the first announce on the next main loop iteration, so every role
 * the engine starts in the same pass sees it whatever their order. */
void dfly_host_announcer_start (DflyHostAnnouncer *self);
/* Measures the host with func at each announce (e.g. to add the upload
 * figures a role knows) instead of the config's and the system's alone. */
void dfly_host_announcer_set_host_func (DflyHostAnnouncer *self, DflyHostInfoFunc func,
                                        gpointer user_data);
/* Stops announcing and emits host-left once, if anything was announced.
 * Calling it again, or on an announcer never started, does nothing. */
void dfly_host_announcer_stop (DflyHostAnnouncer *self);
/* {ip}-{hostname}[-seed], from the config in force at the last announce
 * (or at creation, before the first). */
const char *dfly_host_announcer_get_host_id (DflyHostAnnouncer *self);
/* Seconds between announces, as last read from the config. */
guint dfly_host_announcer_get_interval (DflyHostAnnouncer *self);

G_END_DECLS
