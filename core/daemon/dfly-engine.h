/* dfly-engine.h — starts the configured roles, stops them, reloads config */
#pragma once

#include <dfly/dfly.h>

#include "dfly-plugin-loader.h"

G_BEGIN_DECLS

#define DFLY_TYPE_ENGINE (dfly_engine_get_type ())
G_DECLARE_FINAL_TYPE (DflyEngine, dfly_engine, DFLY, ENGINE, GObject)

/* config_path may be NULL (built-in defaults; reload then re-applies them). */
DflyEngine       *dfly_engine_new (DflyContext *context, DflyPluginLoader *loader,
                                   const char *config_path);
DflyContext      *dfly_engine_get_context (DflyEngine *self);
DflyPluginLoader *dfly_engine_get_loader (DflyEngine *self);
const char       *dfly_engine_get_config_path (DflyEngine *self);

/* Starts daemon.roles in order. A role that is missing or fails to start
 * is logged and reported as failed; the others run on. */
void dfly_engine_start (DflyEngine *self);
/* Stops the started roles in reverse order, within daemon.shutdown_timeout
 * seconds overall; a role still stopping then is abandoned (and logged). */
void dfly_engine_stop_async (DflyEngine *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean dfly_engine_stop_finish (DflyEngine *self, GAsyncResult *result, GError **error);

/* Re-reads the config file and applies it; returns the change lines. On a
 * bad file the running config stays and error says why. */
GPtrArray *dfly_engine_reload (DflyEngine *self, GError **error);

/* The roles as (name, state, detail) tuples: a(sss). */
GVariant *dfly_engine_describe_roles (DflyEngine *self);

G_END_DECLS
