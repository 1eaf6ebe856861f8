/* dfly-context.h — one per daemon: config, bus, plugin types, paths */
#pragma once

#include <glib-object.h>

#include "dfly-bus.h"
#include "dfly-config.h"
#include "dfly-downloader.h"
#include "dfly-plugin.h"

G_BEGIN_DECLS

#define DFLY_TYPE_CONTEXT (dfly_context_get_type ())
G_DECLARE_FINAL_TYPE (DflyContext, dfly_context, DFLY, CONTEXT, GObject)

DflyContext *dfly_context_new (DflyConfig *config);

/* The config in force; borrowed, valid until the next reload. Take a ref to
 * keep it across one. */
DflyConfig *dfly_context_get_config (DflyContext *self);
/* The config in force, as a new reference: the call for worker threads,
 * which may run while the main thread swaps the config. */
DflyConfig *dfly_context_dup_config (DflyContext *self);
/* Swaps in a new config and emits config-reloaded on the bus. */
void     dfly_context_set_config (DflyContext *self, DflyConfig *config);
DflyBus *dfly_context_get_bus (DflyContext *self);
/* Monotonic time (g_get_monotonic_time) the context was made at. */
gint64 dfly_context_get_start_time (DflyContext *self);

/* Plugin types by kind and name, filled by the daemon's plugin loader. */
void  dfly_context_add_plugin_type (DflyContext *self, DflyPluginKind kind, const char *name,
                                    GType type);
GType dfly_context_lookup_plugin_type (DflyContext *self, DflyPluginKind kind, const char *name);

/* The shared services, set up by the daemon before roles start. The plugin
 * base headers include this one, so their types are declared ahead here
 * (dfly-storage.h and dfly-source.h define them). */
typedef struct _DflyStorage DflyStorage;
typedef struct _DflySource  DflySource;

void dfly_context_set_storage (DflyContext *self, DflyStorage *storage);
/* The daemon's storage, borrowed; NULL when none loaded. */
DflyStorage *dfly_context_get_storage (DflyContext *self);
void         dfly_context_add_source (DflyContext *self, DflySource *source);
/* The source claiming the URL's scheme, borrowed; NULL with
 * DFLY_ERROR_NOT_SUPPORTED when none does. */
DflySource *dfly_context_lookup_source (DflyContext *self, const char *url, GError **error);
/* Set by the role that downloads (peer or seed); NULL when none runs. */
void            dfly_context_set_downloader (DflyContext *self, DflyDownloader *downloader);
DflyDownloader *dfly_context_get_downloader (DflyContext *self);
/* The daemon's HTTP client (dfly-http-client.h, which needs libsoup),
 * borrowed; thread-safe. */
typedef struct _DflyHttpClient DflyHttpClient;
DflyHttpClient                *dfly_context_get_http_client (DflyContext *self);
/* Mutual TLS between components (dfly-tls.h), set by the daemon from the
 * config's tls section; NULL: plaintext links. Borrowed. */
typedef struct _DflyTls DflyTls;
void                    dfly_context_set_tls (DflyContext *self, DflyTls *tls);
DflyTls                *dfly_context_get_tls (DflyContext *self);

G_END_DECLS
