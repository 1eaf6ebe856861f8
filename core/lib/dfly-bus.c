/* dfly-bus.c — DflyBus, the typed signal bus */
#include "config.h"

#include "dfly/dfly-bus.h"
#include "dfly/dfly-downloader.h"

struct _DflyBus {
  GObject  parent_instance;
  GThread *owner; /* the thread that made it, which runs the main context */
};

G_DEFINE_FINAL_TYPE (DflyBus, dfly_bus, G_TYPE_OBJECT)

enum {
  SIGNAL_TASK_REGISTERED,
  SIGNAL_TASK_FINISHED,
  SIGNAL_TASK_FAILED,
  SIGNAL_PIECE_FINISHED,
  SIGNAL_HOST_ANNOUNCED,
  SIGNAL_HOST_LEFT,
  SIGNAL_ROLE_STATE_CHANGED,
  SIGNAL_CONFIG_RELOADED,
  SIGNAL_DOWNLOAD_PROGRESS,
  SIGNAL_DOWNLOAD_FINISHED,
  SIGNAL_DOWNLOAD_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One signal with one boxed (or other) parameter, or two. Values are passed
 * without copying: they are reference-counted and handlers take a ref. */
static guint
bus_signal_new (const char *name, guint n_params, GType param1, GType param2)
{
  return g_signal_new (name, DFLY_TYPE_BUS, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                       n_params, param1 | G_SIGNAL_TYPE_STATIC_SCOPE,
                       param2 | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
dfly_bus_class_init (DflyBusClass *klass)
{
  signals[SIGNAL_TASK_REGISTERED] =
    bus_signal_new (DFLY_BUS_TASK_REGISTERED, 1, DFLY_TYPE_TASK_INFO, 0);
  signals[SIGNAL_TASK_FINISHED] =
    bus_signal_new (DFLY_BUS_TASK_FINISHED, 1, DFLY_TYPE_TASK_INFO, 0);
  signals[SIGNAL_TASK_FAILED] =
    bus_signal_new (DFLY_BUS_TASK_FAILED, 2, DFLY_TYPE_TASK_INFO, G_TYPE_ERROR);
  signals[SIGNAL_PIECE_FINISHED] =
    bus_signal_new (DFLY_BUS_PIECE_FINISHED, 1, DFLY_TYPE_PIECE_INFO, 0);
  signals[SIGNAL_HOST_ANNOUNCED] =
    bus_signal_new (DFLY_BUS_HOST_ANNOUNCED, 1, DFLY_TYPE_HOST_INFO, 0);
  signals[SIGNAL_HOST_LEFT] = bus_signal_new (DFLY_BUS_HOST_LEFT, 1, DFLY_TYPE_HOST_INFO, 0);
  signals[SIGNAL_ROLE_STATE_CHANGED] =
    bus_signal_new (DFLY_BUS_ROLE_STATE_CHANGED, 2, G_TYPE_STRING, DFLY_TYPE_ROLE_STATE);
  signals[SIGNAL_CONFIG_RELOADED] =
    bus_signal_new (DFLY_BUS_CONFIG_RELOADED, 1, DFLY_TYPE_CONFIG, 0);
  signals[SIGNAL_DOWNLOAD_PROGRESS] =
    bus_signal_new (DFLY_BUS_DOWNLOAD_PROGRESS, 1, DFLY_TYPE_TASK_INFO, 0);
  signals[SIGNAL_DOWNLOAD_FINISHED] =
    bus_signal_new (DFLY_BUS_DOWNLOAD_FINISHED, 1, DFLY_TYPE_DOWNLOAD_REQUEST, 0);
  signals[SIGNAL_DOWNLOAD_FAILED] =
    bus_signal_new (DFLY_BUS_DOWNLOAD_FAILED, 2, DFLY_TYPE_DOWNLOAD_REQUEST, G_TYPE_ERROR);
}

static void
dfly_bus_init (DflyBus *self)
{
  self->owner = g_thread_self ();
}

/* Handlers run in the emitter's thread, and they touch main-thread state
 * (D-Bus connections, streams, role objects): an emit from a worker thread
 * is a bug, refused with a critical rather than run in the wrong thread. */
static gboolean
emitting_on_owner (DflyBus *bus, const char *signal)
{
  if (g_thread_self () == bus->owner)
    return TRUE;
  g_critical ("%s emitted off the main thread, ignoring", signal);
  return FALSE;
}

DflyBus *
dfly_bus_new (void)
{
  return g_object_new (DFLY_TYPE_BUS, NULL);
}

void
dfly_bus_emit_task_registered (DflyBus *bus, DflyTaskInfo *task)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && task != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_TASK_REGISTERED))
    return;
  g_signal_emit (bus, signals[SIGNAL_TASK_REGISTERED], 0, task);
}

void
dfly_bus_emit_task_finished (DflyBus *bus, DflyTaskInfo *task)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && task != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_TASK_FINISHED))
    return;
  g_signal_emit (bus, signals[SIGNAL_TASK_FINISHED], 0, task);
}

void
dfly_bus_emit_task_failed (DflyBus *bus, DflyTaskInfo *task, const GError *error)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && task != NULL && error != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_TASK_FAILED))
    return;
  g_signal_emit (bus, signals[SIGNAL_TASK_FAILED], 0, task, error);
}

void
dfly_bus_emit_piece_finished (DflyBus *bus, DflyPieceInfo *piece)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && piece != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_PIECE_FINISHED))
    return;
  g_signal_emit (bus, signals[SIGNAL_PIECE_FINISHED], 0, piece);
}

void
dfly_bus_emit_host_announced (DflyBus *bus, DflyHostInfo *host)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && host != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_HOST_ANNOUNCED))
    return;
  g_signal_emit (bus, signals[SIGNAL_HOST_ANNOUNCED], 0, host);
}

void
dfly_bus_emit_host_left (DflyBus *bus, DflyHostInfo *host)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && host != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_HOST_LEFT))
    return;
  g_signal_emit (bus, signals[SIGNAL_HOST_LEFT], 0, host);
}

void
dfly_bus_emit_role_state_changed (DflyBus *bus, const char *role, DflyRoleState state)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && role != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_ROLE_STATE_CHANGED))
    return;
  g_signal_emit (bus, signals[SIGNAL_ROLE_STATE_CHANGED], 0, role, state);
}

void
dfly_bus_emit_config_reloaded (DflyBus *bus, DflyConfig *config)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && config != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_CONFIG_RELOADED))
    return;
  g_signal_emit (bus, signals[SIGNAL_CONFIG_RELOADED], 0, config);
}

void
dfly_bus_emit_download_progress (DflyBus *bus, DflyTaskInfo *task)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && task != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_DOWNLOAD_PROGRESS))
    return;
  g_signal_emit (bus, signals[SIGNAL_DOWNLOAD_PROGRESS], 0, task);
}

void
dfly_bus_emit_download_finished (DflyBus *bus, DflyDownloadRequest *request)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && request != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_DOWNLOAD_FINISHED))
    return;
  g_signal_emit (bus, signals[SIGNAL_DOWNLOAD_FINISHED], 0, request);
}

void
dfly_bus_emit_download_failed (DflyBus *bus, DflyDownloadRequest *request, const GError *error)
{
  g_return_if_fail (DFLY_IS_BUS (bus) && request != NULL && error != NULL);
  if (!emitting_on_owner (bus, DFLY_BUS_DOWNLOAD_FAILED))
    return;
  g_signal_emit (bus, signals[SIGNAL_DOWNLOAD_FAILED], 0, request, error);
}
