/* dfly-component.h — what every plugin object is: a GObject bound to a context */
#pragma once

#include <glib-object.h>

#include "dfly-context.h"

G_BEGIN_DECLS

#define DFLY_TYPE_COMPONENT (dfly_component_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyComponent, dfly_component, DFLY, COMPONENT, GObject)

struct _DflyComponentClass {
  GObjectClass parent_class;
  gpointer     padding[8];
};

/* The daemon's context, set at construction ("context" property). */
DflyContext *dfly_component_get_context (DflyComponent *self);
/* The plugin name it was created from ("name" property). */
const char *dfly_component_get_name (DflyComponent *self);

/* The plugin's settings struct (its section of dflyd.yaml, see
 * dfly-config-section.h), NULL if it has none: borrowed from the config in
 * force, valid on the main thread until the next reload. */
gconstpointer dfly_component_get_settings (DflyComponent *self);
/* The same as a new reference, for worker threads, which may run while the
 * main thread swaps the config: dfly_settings_get_values() gives the struct. */
DflySettings *dfly_component_dup_settings (DflyComponent *self);

G_END_DECLS
