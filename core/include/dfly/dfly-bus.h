/* dfly-bus.h — the typed signal bus of one daemon's local events
 *
 * Roles meet over the P2P protocol, local or remote, so an all-in-one dflyd
 * runs the paths of a cluster. The bus carries what happens inside one
 * daemon — a download's progress and result, a piece landing, a role's
 * state, a reload — for the D-Bus service and the parts of a role that
 * follow them (metrics and the proxy to come). A signal nobody emits or
 * hears is removed. Every parameter is a real GType, so a
 * handler with the wrong signature is caught by GObject rather than by a
 * crash. Emit only from the thread that made the bus (the main context's):
 * an emit from another thread is refused with a critical.
 */
#pragma once

#include <glib-object.h>

#include "dfly-config.h"
#include "dfly-downloader.h"
#include "dfly-types.h"

G_BEGIN_DECLS

/* The signal names, in one place. */
#define DFLY_BUS_TASK_REGISTERED    "task-registered"    /* (DflyTaskInfo) */
#define DFLY_BUS_TASK_FINISHED      "task-finished"      /* (DflyTaskInfo) */
#define DFLY_BUS_TASK_FAILED        "task-failed"        /* (DflyTaskInfo, GError) */
#define DFLY_BUS_PIECE_FINISHED     "piece-finished"     /* (DflyPieceInfo) */
#define DFLY_BUS_HOST_ANNOUNCED     "host-announced"     /* (DflyHostInfo) */
#define DFLY_BUS_HOST_LEFT          "host-left"          /* (DflyHostInfo) */
#define DFLY_BUS_ROLE_STATE_CHANGED "role-state-changed" /* (gchararray name, DflyRoleState) */
#define DFLY_BUS_CONFIG_RELOADED    "config-reloaded"    /* (DflyConfig) */
/* A running task's bytes so far (completed_length), a few times a second. */
#define DFLY_BUS_DOWNLOAD_PROGRESS "download-progress" /* (DflyTaskInfo) */
/* One request's output is in place. */
#define DFLY_BUS_DOWNLOAD_FINISHED "download-finished" /* (DflyDownloadRequest) */
/* One request failed; its output path holds nothing new. */
#define DFLY_BUS_DOWNLOAD_FAILED "download-failed" /* (DflyDownloadRequest, GError) */

#define DFLY_TYPE_BUS (dfly_bus_get_type ())
G_DECLARE_FINAL_TYPE (DflyBus, dfly_bus, DFLY, BUS, GObject)

DflyBus *dfly_bus_new (void);

void dfly_bus_emit_task_registered (DflyBus *bus, DflyTaskInfo *task);
void dfly_bus_emit_task_finished (DflyBus *bus, DflyTaskInfo *task);
void dfly_bus_emit_task_failed (DflyBus *bus, DflyTaskInfo *task, const GError *error);
void dfly_bus_emit_piece_finished (DflyBus *bus, DflyPieceInfo *piece);
void dfly_bus_emit_host_announced (DflyBus *bus, DflyHostInfo *host);
void dfly_bus_emit_host_left (DflyBus *bus, DflyHostInfo *host);
void dfly_bus_emit_role_state_changed (DflyBus *bus, const char *role, DflyRoleState state);
void dfly_bus_emit_config_reloaded (DflyBus *bus, DflyConfig *config);
void dfly_bus_emit_download_progress (DflyBus *bus, DflyTaskInfo *task);
void dfly_bus_emit_download_finished (DflyBus *bus, DflyDownloadRequest *request);
void dfly_bus_emit_download_failed (DflyBus *bus, DflyDownloadRequest *request,
                                    const GError *error);

G_END_DECLS
