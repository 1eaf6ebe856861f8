/* dfly-manager-link.h — a host's registration with the manager, kept alive
 *
 * The scheduler and seed roles make one at start when manager.addr is set.
 * It registers the role's record (POST /api/v1/COLLECTION, JSON: the
 * manager updates the record of the same hostname, IP and cluster, else
 * creates one), then keeps it alive (POST /api/v1/COLLECTION/ID/keepalive)
 * every manager.keepalive_interval. A keepalive the manager does not know
 * (404: the record was removed, or the manager's store replaced) registers
 * again; a manager that does not answer, or answers an error, is tried
 * again at the next interval, said once in the log until it answers. An
 * answer is read up to DFLY_MANAGER_LINK_MAX_ANSWER bytes. Main thread.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "dfly/dfly.h"

G_BEGIN_DECLS

#define DFLY_MANAGER_LINK_MAX_ANSWER (64 * 1024)

typedef struct _DflyManagerLink DflyManagerLink;

/* For a "got-headers" handler: whether an answer of the manager is not to
 * be read, having no length (nor being a 204) or one over cap bytes. Its
 * answers are small records with a Content-Length. */
gboolean dfly_manager_answer_unreadable (SoupMessage *msg, goffset cap);

/* The manager's base URL for addr ("host:port", or an http or https URL
 * with no path); tls: https for a bare host:port. */
char *dfly_manager_link_base_url (const char *addr, gboolean tls, GError **error);

/* Starts registering record (taken) in collection ("schedulers",
 * "seed-peers") with the manager at the context's manager.addr; NULL with
 * an error if that address is malformed. */
DflyManagerLink *dfly_manager_link_new (DflyContext *context, const char *collection,
                                        JsonObject *record, GError **error);
/* Also fetches path (under the manager's base URL, e.g.
 * "/api/v1/scheduler-clusters/1") at once and every manager.refresh_interval,
 * and calls func with each JSON object it answers with 200 (not the
 * failures: those keep what func was last given). One watch per link. */
typedef void (*DflyManagerWatchFunc) (JsonObject *object, gpointer user_data);
void dfly_manager_link_watch (DflyManagerLink *self, const char *path, DflyManagerWatchFunc func,
                              gpointer user_data);

/* The record's id at the manager; 0 until it registered. */
gint64 dfly_manager_link_get_id (DflyManagerLink *self);
/* Registrations and keepalives the manager answered with success. */
guint dfly_manager_link_get_acknowledged (DflyManagerLink *self);
void  dfly_manager_link_free (DflyManagerLink *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyManagerLink, dfly_manager_link_free)

G_END_DECLS
