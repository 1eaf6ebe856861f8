/* dfly-dbus-callers.h — which D-Bus client asked for each download
 *
 * A download's signals (TaskProgress, TaskFinished, TaskFailed) name its
 * output path, its URL's task and why it failed: they go to the client that
 * called Download (its unique name), never to the whole bus. The D-Bus
 * service notes each request's caller here when it takes the call and
 * forgets it when the request ends. A request not made over D-Bus has no
 * caller, so its signals go nowhere.
 */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

typedef struct _DflyDbusCallers DflyDbusCallers;

DflyDbusCallers *dfly_dbus_callers_new (void);
void             dfly_dbus_callers_free (DflyDbusCallers *self);

/* caller (a unique name; NULL on a peer-to-peer connection) made request. */
void dfly_dbus_callers_add (DflyDbusCallers *self, DflyDownloadRequest *request,
                            const char *caller);
/* Forgets request (it ended, or was refused). FALSE if it had no caller;
 * else *caller is its caller (NULL on a peer-to-peer connection). */
gboolean dfly_dbus_callers_remove (DflyDbusCallers *self, DflyDownloadRequest *request,
                                   char **caller);
/* Whether anyone asked for task_id; *callers gets each caller once
 * (NULL for a peer-to-peer connection's). */
gboolean dfly_dbus_callers_of_task (DflyDbusCallers *self, const char *task_id,
                                    GPtrArray **callers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyDbusCallers, dfly_dbus_callers_free)

G_END_DECLS
