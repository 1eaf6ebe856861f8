/* dfly-scheduler-directory.h — the schedulers a manager lists for this host
 *
 * With manager.addr set, and neither peer.schedulers nor a scheduler in
 * this dflyd, the engine's scheduler client takes its schedulers from the
 * manager: the active ones of manager.scheduler_cluster_id (GET
 * /api/v1/schedulers?scheduler_cluster_id=N), asked at start and every
 * manager.refresh_interval. An answer that lists any is kept in
 * STATE_DIR/manager-schedulers.json (written whole, then renamed), which
 * gives the list at start until the manager answers: a host restarted
 * while its manager is down still finds its schedulers. An answer that
 * lists none, or fails, changes nothing. Main thread.
 */
#pragma once

#include "dfly-scheduler-client.h"

G_BEGIN_DECLS

#define DFLY_SCHEDULER_DIRECTORY_CACHE "manager-schedulers.json"

typedef struct _DflySchedulerDirectory DflySchedulerDirectory;

/* Feeds client (which must outlive the directory); NULL with an error if
 * manager.addr is malformed. */
DflySchedulerDirectory *dfly_scheduler_directory_new (DflyContext         *context,
                                                      DflySchedulerClient *client, GError **error);
void                    dfly_scheduler_directory_free (DflySchedulerDirectory *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySchedulerDirectory, dfly_scheduler_directory_free)

G_END_DECLS
