/* dfly-context.h — one per daemon: config, bus, plugin types, paths */
#pragma once

#include <glib-object.h>

#include "dfly-bus.h"
#include "dfly-config.h"
#include "dfly-plugin.h"

G_BEGIN_DECLS

#define DFLY_TYPE_CONTEXT (dfly_context_get_type ())
G_DECLARE_FINAL_TYPE (DflyContext, dfly_context, DFLY, CONTEXT, GObject)

DflyContext *dfly_context_new (DflyConfig *config);

/* The config in force; borrowed, valid until the next reload. Take a ref to
 * keep it across one. */
DflyConfig  *dfly_context_get_config (DflyContext *self);
/* Swaps in a new config and emits config-reloaded on the bus. */
void         dfly_context_set_config (DflyContext *self, DflyConfig *config);
DflyBus     *dfly_context_get_bus (DflyContext *self);
/* Monotonic time (g_get_monotonic_time) the context was made at. */
gint64       dfly_context_get_start_time (DflyContext *self);

/* Plugin types by kind and name, filled by the daemon's plugin loader. */
void         dfly_context_add_plugin_type (DflyContext *self, DflyPluginKind kind,
                                           const char *name, GType type);
GType        dfly_context_lookup_plugin_type (DflyContext *self, DflyPluginKind kind,
                                              const char *name);

G_END_DECLS
