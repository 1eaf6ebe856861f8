/* dfly-host-announcer.c — DflyHostAnnouncer, this host's periodic announce
 *
 * One source at a time drives it: an idle for the first announce, then a
 * seconds timer re-armed after every announce with the interval in force, so
 * a reload never leaves a timer running on a stale interval.
 */
#include "config.h"

#include "dfly/dfly-host-announcer.h"
#include "dfly/dfly-tls.h"

struct _DflyHostAnnouncer {
  GObject          parent_instance;
  DflyContext     *context;
  GMainContext    *main_context; /* the caller's of start(); the source runs there */
  DflyHostType     type;
  guint16          port;
  DflyHostInfo    *host;      /* the last announced, or measured at creation */
  DflyHostInfoFunc host_func; /* NULL: the config's and the system's figures */
  gpointer         host_data;
  GSource         *source; /* the pending announce */
  gulong           reloaded_id;
  gboolean         running;
  gboolean         announced; /* a host-left is owed */
};

G_DEFINE_FINAL_TYPE (DflyHostAnnouncer, dfly_host_announcer, G_TYPE_OBJECT)

static void
clear_source (DflyHostAnnouncer *self)
{
  if (self->source == NULL)
    return;
  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
}

static void announce (DflyHostAnnouncer *self);

static gboolean
on_announce_due (gpointer user_data)
{
  announce (user_data);
  return G_SOURCE_REMOVE;
}

static void
schedule (DflyHostAnnouncer *self, GSource *source)
{
  clear_source (self);
  g_source_set_callback (source, on_announce_due, self, NULL);
  g_source_set_static_name (source, "dfly host announce");
  g_source_attach (source, self->main_context);
  self->source = source;
}

static void
announce (DflyHostAnnouncer *self)
{
  DflyConfig *config = dfly_context_get_config (self->context);
  DflyBus    *bus = dfly_context_get_bus (self->context);
  g_autoptr (DflyHostInfo) host = self->host_func != NULL
                                    ? self->host_func (self->host_data)
                                    : dfly_host_info_new_local (config, self->type, self->port);

  if (dfly_context_get_tls (self->context) != NULL)
    dfly_tls_name_host (dfly_context_get_tls (self->context), host);

  /* A reload that changed the IP or host name changed the id: to the
   * cluster the old host is gone, not silent. */
  if (self->announced && g_strcmp0 (self->host->id, host->id) != 0)
    dfly_bus_emit_host_left (bus, self->host);
  g_clear_pointer (&self->host, dfly_host_info_unref);
  self->host = dfly_host_info_ref (host);
  self->announced = TRUE;
  /* Armed before emitting, so a handler that stops us cancels it. A zero
   * interval would spin; the config should refuse it, but be safe. */
  schedule (self, g_timeout_source_new_seconds (MAX (host->announce_interval, 1)));
  dfly_bus_emit_host_announced (bus, host);
}

static void
on_config_reloaded (DflyBus *bus, DflyConfig *config, gpointer user_data)
{
  /* Announce at once rather than at the next tick: a scheduler expires us
   * after twice the interval it last heard, so it must learn a longer one
   * before the shorter one runs out. */
  announce (user_data);
}

static void
dfly_host_announcer_dispose (GObject *object)
{
  DflyHostAnnouncer *self = DFLY_HOST_ANNOUNCER (object);

  /* No host-left here: signals from a dying object surprise handlers; an
   * owner that wants one calls stop() first. */
  clear_source (self);
  if (self->context != NULL)
    g_clear_signal_handler (&self->reloaded_id, dfly_context_get_bus (self->context));
  self->running = FALSE;
  g_clear_object (&self->context);
  G_OBJECT_CLASS (dfly_host_announcer_parent_class)->dispose (object);
}

static void
dfly_host_announcer_finalize (GObject *object)
{
  DflyHostAnnouncer *self = DFLY_HOST_ANNOUNCER (object);

  g_clear_pointer (&self->host, dfly_host_info_unref);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  G_OBJECT_CLASS (dfly_host_announcer_parent_class)->finalize (object);
}

static void
dfly_host_announcer_class_init (DflyHostAnnouncerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dfly_host_announcer_dispose;
  object_class->finalize = dfly_host_announcer_finalize;
}

static void
dfly_host_announcer_init (DflyHostAnnouncer *self)
{
}

DflyHostAnnouncer *
dfly_host_announcer_new (DflyContext *ctx, DflyHostType type, guint16 port)
{
  DflyHostAnnouncer *self;

  g_return_val_if_fail (DFLY_IS_CONTEXT (ctx), NULL);
  self = g_object_new (DFLY_TYPE_HOST_ANNOUNCER, NULL);
  self->context = g_object_ref (ctx);
  self->type = type;
  self->port = port;
  self->host = dfly_host_info_new_local (dfly_context_get_config (ctx), type, port);
  if (dfly_context_get_tls (ctx) != NULL)
    dfly_tls_name_host (dfly_context_get_tls (ctx), self->host);
  return self;
}

void
dfly_host_announcer_start (DflyHostAnnouncer *self)
{
  g_return_if_fail (DFLY_IS_HOST_ANNOUNCER (self));
  g_return_if_fail (self->context != NULL);
  if (self->running)
    return;
  self->running = TRUE;
  g_clear_pointer (&self->main_context, g_main_context_unref);
  self->main_context = g_main_context_ref_thread_default ();
  self->reloaded_id =
    g_signal_connect (dfly_context_get_bus (self->context), DFLY_BUS_CONFIG_RELOADED,
                      G_CALLBACK (on_config_reloaded), self);
  schedule (self, g_idle_source_new ());
}

void
dfly_host_announcer_set_host_func (DflyHostAnnouncer *self, DflyHostInfoFunc func,
                                   gpointer user_data)
{
  g_return_if_fail (DFLY_IS_HOST_ANNOUNCER (self));
  self->host_func = func;
  self->host_data = user_data;
}

void
dfly_host_announcer_stop (DflyHostAnnouncer *self)
{
  g_return_if_fail (DFLY_IS_HOST_ANNOUNCER (self));
  if (!self->running)
    return;
  self->running = FALSE;
  clear_source (self);
  g_clear_signal_handler (&self->reloaded_id, dfly_context_get_bus (self->context));
  if (self->announced) {
    self->announced = FALSE;
    dfly_bus_emit_host_left (dfly_context_get_bus (self->context), self->host);
  }
}

const char *
dfly_host_announcer_get_host_id (DflyHostAnnouncer *self)
{
  g_return_val_if_fail (DFLY_IS_HOST_ANNOUNCER (self), NULL);
  return self->host->id;
}

guint
dfly_host_announcer_get_interval (DflyHostAnnouncer *self)
{
  g_return_val_if_fail (DFLY_IS_HOST_ANNOUNCER (self), 0);
  return self->host->announce_interval;
}
