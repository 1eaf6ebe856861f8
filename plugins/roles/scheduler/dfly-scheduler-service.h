/* dfly-scheduler-service.h — the scheduler's HTTP/WebSocket service */
#pragma once

#include <dfly/dfly.h>

#include "dfly-schedule.h"

G_BEGIN_DECLS

#define DFLY_TYPE_SCHEDULER_SERVICE (dfly_scheduler_service_get_type ())
G_DECLARE_FINAL_TYPE (DflySchedulerService, dfly_scheduler_service, DFLY, SCHEDULER_SERVICE,
                      GObject)

/* Listens on host.ip:scheduler.port and feeds what peers say to schedule.
 * Host announces and leaves come out as its "host-announced" and
 * "host-left" signals (DflyHostInfo), for the role's hosts table. */
DflySchedulerService *dfly_scheduler_service_new (DflyContext *context, DflySchedule *schedule,
                                                  GError **error);
guint16               dfly_scheduler_service_get_port (DflySchedulerService *self);
/* The HTTP server, for tests that stand in for the TLS listener (attaching
 * identities to requests as they start). */
SoupServer *dfly_scheduler_service_get_server (DflySchedulerService *self);

G_END_DECLS
