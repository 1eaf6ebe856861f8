/* dfly-host-announcer.h — tells the cluster, over the bus, that this host is up
 *
 * Shared by the roles that make this machine a host of the swarm (peer, seed
 * peer): it emits host-announced with this machine's measurements right
 * after start and then every host.announce_interval seconds, re-reading the
 * interval on config-reloaded, and host-left once when stopped. Runs on the
 * thread-default main context of the caller of start().
 */
#pragma once

#include <glib-object.h>

#include "dfly-context.h"
#include "dfly-types.h"

G_BEGIN_DECLS

#define DFLY_TYPE_HOST_ANNOUNCER (dfly_host_announcer_get_type ())
G_DECLARE_FINAL_TYPE (DflyHostAnnouncer, dfly_host_announcer, DFLY, HOST_ANNOUNCER, GObject)

/* port: the host's peer service port, 0 while it has none. */
DflyHostAnnouncer *dfly_host_announcer_new (DflyContext *ctx, DflyHostType type, guint16 port);
/* Schedules the first announce on the next main loop iteration, so every role
 * the engine starts in the same pass sees it whatever their order. */
void               dfly_host_announcer_start (DflyHostAnnouncer *self);
/* Stops announcing and emits host-left once, if anything was announced.
 * Calling it again, or on an announcer never started, does nothing. */
void               dfly_host_announcer_stop (DflyHostAnnouncer *self);
/* {ip}-{hostname}[-seed], from the config in force at the last announce
 * (or at creation, before the first). */
const char        *dfly_host_announcer_get_host_id (DflyHostAnnouncer *self);
/* Seconds between announces, as last read from the config. */
guint              dfly_host_announcer_get_interval (DflyHostAnnouncer *self);

G_END_DECLS
