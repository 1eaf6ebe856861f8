/* dfly-role.h — a role of the daemon: manager, scheduler, seed peer, peer
 *
 * The engine starts enabled roles in config order and stops them in reverse.
 * start() runs on the main loop and must not block: it binds sockets, connects
 * to the bus and returns. stop_async() finishes in-flight work; the engine
 * gives it daemon.shutdown_timeout seconds, then cancels it.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-component.h"

G_BEGIN_DECLS

#define DFLY_TYPE_ROLE (dfly_role_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyRole, dfly_role, DFLY, ROLE, DflyComponent)

struct _DflyRoleClass {
  DflyComponentClass parent_class;

  gboolean (*start) (DflyRole *self, GError **error);
  /* Optional: for a role with nothing in flight to wait for, a synchronous
   * stop that the default stop_async calls. */
  void (*stop) (DflyRole *self);
  /* Optional: the default calls stop (if set) and finishes at once. */
  void (*stop_async) (DflyRole *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data);
  gboolean (*stop_finish) (DflyRole *self, GAsyncResult *result, GError **error);
  /* Optional: a one-line summary for `dflyctl status`, e.g. "3 hosts". */
  char *(*describe) (DflyRole *self);

  gpointer padding[11];
};

/* Called by the engine; they drive the state and emit role-state-changed. */
gboolean dfly_role_start (DflyRole *self, GError **error);
void dfly_role_stop_async (DflyRole *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean      dfly_role_stop_finish (DflyRole *self, GAsyncResult *result, GError **error);
char         *dfly_role_describe (DflyRole *self);
DflyRoleState dfly_role_get_state (DflyRole *self);
/* The error that put the role in FAILED, or NULL. */
const GError *dfly_role_get_error (DflyRole *self);
/* For a role that fails while running (e.g. it lost its socket). */
void dfly_role_set_failed (DflyRole *self, const GError *error);

G_END_DECLS
