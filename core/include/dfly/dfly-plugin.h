/* dfly-plugin.h — the descriptor every plugin exports
 *
 * A plugin is a shared object exporting exactly one symbol,
 * dfly_plugin_query(), which returns a const DflyPluginDescriptor. The loader
 * checks the ABI major, the struct size, that the name matches the file name
 * (<name>.so) and that the GType implements the base type of the kind, and
 * refuses the plugin otherwise. Use DFLY_PLUGIN_DEFINE (or, for a plugin with
 * settings of its own, DFLY_PLUGIN_DEFINE_WITH_SETTINGS) rather than filling
 * the struct by hand.
 */
#pragma once

#include <glib-object.h>
#include <gmodule.h>

#include "dfly-config-section.h"
#include "dfly-version.h"

G_BEGIN_DECLS

typedef enum {
  DFLY_PLUGIN_KIND_ROLE = 1,
  DFLY_PLUGIN_KIND_SOURCE,
  DFLY_PLUGIN_KIND_STORAGE,
  DFLY_PLUGIN_KIND_SCHEDULER,
} DflyPluginKind;

#define DFLY_TYPE_PLUGIN_KIND (dfly_plugin_kind_get_type ())
GType       dfly_plugin_kind_get_type (void);
const char *dfly_plugin_kind_to_string (DflyPluginKind kind);
/* The base GType a plugin of this kind must derive from. */
GType dfly_plugin_kind_get_base_type (DflyPluginKind kind);

typedef struct {
  guint32        abi_major;   /* DFLY_PLUGIN_ABI_MAJOR it was built with */
  guint32        struct_size; /* sizeof (DflyPluginDescriptor) it was built with */
  const char    *name;        /* must equal the file name without ".so" */
  DflyPluginKind kind;
  const char    *version;
  const char    *license; /* SPDX identifier */
  const char    *description;
  GType (*get_type) (void); /* registers and returns the plugin's type */
  /* Its section of dflyd.yaml, named after the plugin; NULL: no settings.
   * The loader checks the table before it calls get_type. */
  const DflyConfigSection *settings;
  gpointer                 reserved[7];
} DflyPluginDescriptor;

#define DFLY_PLUGIN_QUERY_SYMBOL "dfly_plugin_query"
typedef const DflyPluginDescriptor *(*DflyPluginQueryFunc) (void);

/* Defines the one exported symbol of a plugin; settings_ is a
 * const DflyConfigSection * or NULL. */
#define DFLY_PLUGIN_DEFINE_WITH_SETTINGS(name_, kind_, version_, license_, description_, \
                                         get_type_, settings_)                           \
  G_MODULE_EXPORT const DflyPluginDescriptor *dfly_plugin_query (void);                  \
  G_MODULE_EXPORT const DflyPluginDescriptor *dfly_plugin_query (void)                   \
  {                                                                                      \
    static const DflyPluginDescriptor descriptor = {                                     \
      .abi_major = DFLY_PLUGIN_ABI_MAJOR,                                                \
      .struct_size = sizeof (DflyPluginDescriptor),                                      \
      .name = (name_),                                                                   \
      .kind = (kind_),                                                                   \
      .version = (version_),                                                             \
      .license = (license_),                                                             \
      .description = (description_),                                                     \
      .get_type = (get_type_),                                                           \
      .settings = (settings_),                                                           \
    };                                                                                   \
    return &descriptor;                                                                  \
  }

/* The same for a plugin without settings. */
#define DFLY_PLUGIN_DEFINE(name_, kind_, version_, license_, description_, get_type_) \
  DFLY_PLUGIN_DEFINE_WITH_SETTINGS (name_, kind_, version_, license_, description_, get_type_, NULL)

G_END_DECLS
