/* dfly-dbus-service.h — org.dfly.Daemon1 on a D-Bus connection */
#pragma once

#include <gio/gio.h>

#include "dfly-engine.h"

G_BEGIN_DECLS

#define DFLY_DBUS_NAME      "org.dfly.Daemon1"
#define DFLY_DBUS_PATH      "/org/dfly/Daemon1"
#define DFLY_DBUS_INTERFACE "org.dfly.Daemon1"

#define DFLY_TYPE_DBUS_SERVICE (dfly_dbus_service_get_type ())
G_DECLARE_FINAL_TYPE (DflyDbusService, dfly_dbus_service, DFLY, DBUS_SERVICE, GObject)

DflyDbusService *dfly_dbus_service_new (DflyEngine *engine);
/* Exports the object, then asks for the name. "name-lost" is emitted when
 * the name cannot be had or is taken away. */
gboolean dfly_dbus_service_export (DflyDbusService *self, GDBusConnection *connection,
                                   GError **error);

G_END_DECLS
