/* dfly-plugin-kind.c — what each kind of plugin must derive from */
#include "config.h"

#include "dfly/dfly-plugin.h"
#include "dfly/dfly-role.h"
#include "dfly/dfly-scheduler.h"
#include "dfly/dfly-source.h"
#include "dfly/dfly-storage.h"

GType
dfly_plugin_kind_get_base_type (DflyPluginKind kind)
{
  switch (kind) {
  case DFLY_PLUGIN_KIND_ROLE:
    return DFLY_TYPE_ROLE;
  case DFLY_PLUGIN_KIND_SOURCE:
    return DFLY_TYPE_SOURCE;
  case DFLY_PLUGIN_KIND_STORAGE:
    return DFLY_TYPE_STORAGE;
  case DFLY_PLUGIN_KIND_SCHEDULER:
    return DFLY_TYPE_SCHEDULER;
  }
  return G_TYPE_INVALID;
}
