/* dfly-plugin-loader.h — finds, checks and loads plugin shared objects */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

/* What the loader made of one file: loaded, or refused and why. */
typedef struct {
  char                    *name; /* from the descriptor, else the file name */
  DflyPluginKind           kind; /* 0 when refused before it was known */
  char                    *version;
  char                    *license;
  char                    *description;
  char                    *path;
  gboolean                 loaded;
  char                    *reason; /* why it was refused; NULL when loaded */
  GType                    type;
  const DflyConfigSection *settings; /* its section's table; NULL: none */
} DflyPluginRecord;

#define DFLY_TYPE_PLUGIN_LOADER (dfly_plugin_loader_get_type ())
G_DECLARE_FINAL_TYPE (DflyPluginLoader, dfly_plugin_loader, DFLY, PLUGIN_LOADER, GObject)

DflyPluginLoader *dfly_plugin_loader_new (DflyContext *context);
/* Loads every *.so in each directory, in order; a name seen before is a
 * duplicate. Each refusal is one warning line; loading never fails as a whole. */
void dfly_plugin_loader_load_dirs (DflyPluginLoader *self, const char *const *dirs);
/* Every file considered, in load order (DflyPluginRecord *). */
GPtrArray              *dfly_plugin_loader_get_records (DflyPluginLoader *self);
const DflyPluginRecord *dfly_plugin_loader_lookup (DflyPluginLoader *self, const char *name);
/* Builds every loaded plugin's settings into config (just read, not yet
 * shared) and refuses a section no loaded plugin takes, naming the
 * directories searched. */
gboolean dfly_plugin_loader_bind_config (DflyPluginLoader *self, DflyConfig *config,
                                         GError **error);

G_END_DECLS
