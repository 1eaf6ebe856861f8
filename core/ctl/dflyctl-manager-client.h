/* dflyctl-manager-client.h — dflyctl's HTTP client of the manager's REST API
 *
 * One request at a time, synchronous, bounded: DFLYCTL_MANAGER_TIMEOUT_S for
 * each step (connect, send, each read), at most DFLYCTL_MANAGER_MAX_ANSWER
 * bytes of answer, no proxy from the environment, no redirects.
 *
 * Errors say which manager and what went wrong, with the codes dflyctl maps
 * to exit statuses: an unreachable manager DFLYCTL_ERROR_REMOTE_UNREACHABLE
 * (3); the API's own errors by HTTP status, 400 and 413
 * DFLY_ERROR_INVALID_ARGUMENT (2), 404 DFLY_ERROR_NOT_FOUND (4), 507
 * DFLY_ERROR_BUSY, others DFLY_ERROR_FAILED (1), with the API's message and
 * field; an answer that is not the JSON expected DFLY_ERROR_PROTOCOL (1); no
 * answer in time DFLY_ERROR_TIMEOUT (7).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "dfly/dfly-tls.h"

G_BEGIN_DECLS

#define DFLYCTL_MANAGER_DEFAULT_URL "http://127.0.0.1:8080"
#define DFLYCTL_MANAGER_ENV         "DFLY_MANAGER"
#define DFLYCTL_MANAGER_TIMEOUT_S   10
#define DFLYCTL_MANAGER_MAX_ANSWER  (8 * 1024 * 1024)

typedef struct _DflyctlManagerClient DflyctlManagerClient;

/* @url: http:// or https://, a host, an optional port and path prefix, no
 * user, query or fragment. @origin names where it came from in messages
 * ("--manager", "DFLY_MANAGER"). With @tls (an https:// URL only), the
 * client shows its certificate and trusts only a manager of the cluster CA
 * whose certificate grants the manager role; without, the system's trust
 * store. A bad URL is DFLYCTL_ERROR_USAGE. */
DflyctlManagerClient *dflyctl_manager_client_new (const char *url, const char *origin, DflyTls *tls,
                                                  GError **error);
void                  dflyctl_manager_client_free (DflyctlManagerClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyctlManagerClient, dflyctl_manager_client_free)

/* The base URL, without a trailing slash, as messages name it. */
const char *dflyctl_manager_client_get_url (DflyctlManagerClient *self);

/* @method on /api/v1/@path (e.g. "scheduler-clusters/3"), with @body (a JSON
 * object, or NULL) sent as application/json. Returns the answer's JSON: an
 * array or an object as @expected says (JSON_NODE_NULL: a 204 with no body,
 * returned as a null node). */
JsonNode *dflyctl_manager_client_request (DflyctlManagerClient *self, const char *method,
                                          const char *path, JsonNode *body, JsonNodeType expected,
                                          GError **error);

/* @object's member @name if it is a string, else NULL (no warning: the
 * manager's answers are not trusted to be well formed). */
const char *dflyctl_json_string (JsonObject *object, const char *name);

G_END_DECLS
