/* dfly-schedule.h — the scheduler's tasks and peers, and choosing parents
 *
 * A DflySchedule holds, in memory on the main thread, every task a
 * scheduler has heard of and each peer downloading it, with their state
 * machines (v2.2's, docs/dragonfly.md: peer pending → received → running |
 * back-to-source → succeeded | failed, task pending → running → succeeded
 * | failed). Peers speak to it through announce streams (dfly-scheduler-
 * service.c); it answers on the stream a peer registered on.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-wire.h"

G_BEGIN_DECLS

#define DFLY_TYPE_SCHEDULE (dfly_schedule_get_type ())
G_DECLARE_FINAL_TYPE (DflySchedule, dfly_schedule, DFLY, SCHEDULE, GObject)

/* The hosts table the role keeps. */
typedef struct {
  /* A host by id, or NULL (borrowed). */
  DflyHostInfo *(*lookup) (const char *host_id, gpointer user_data);
  /* Every seed host (type other than normal), as a new array of borrowed
   * DflyHostInfo pointers. */
  GPtrArray *(*list_seeds) (gpointer user_data);
  gpointer user_data;
} DflyScheduleHosts;

/* algorithm ranks candidates; hosts is copied. */
DflySchedule *dfly_schedule_new (DflyContext *context, DflyScheduler *algorithm,
                                 const DflyScheduleHosts *hosts);

/* Candidate parents offered to a child at once, from the scheduler
 * cluster's config at the manager; 0: scheduler.candidate_parents. */
void dfly_schedule_set_candidate_limit (DflySchedule *self, guint limit);

/* One message of a peer's announce stream; replies go to stream. */
void dfly_schedule_handle (DflySchedule *self, SoupWebsocketConnection *stream,
                           const Dfly__V1__AnnouncePeerRequest *request);
/* The stream closed: every peer registered on it has left. */
void dfly_schedule_stream_closed (DflySchedule *self, SoupWebsocketConnection *stream);
/* The host left or expired: its peers leave too. */
void dfly_schedule_host_left (DflySchedule *self, const char *host_id);
/* StatTask: the task as this scheduler knows it, or NULL. */
Dfly__V1__Task *dfly_schedule_stat_task (DflySchedule *self, const char *task_id);
void            dfly_schedule_free_task_message (Dfly__V1__Task *task);
guint           dfly_schedule_get_n_tasks (DflySchedule *self);
guint           dfly_schedule_get_n_peers (DflySchedule *self);
/* Parents blocked for a child, over every child: a table the children's
 * reports fill, bounded by their tasks' peers. */
guint dfly_schedule_get_n_blocked (DflySchedule *self);

G_END_DECLS
