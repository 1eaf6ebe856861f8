/* dfly-manager-role.c — the "manager" role: the cluster's REST API
 *
 * It serves GET /healthy (the first call Harbor's preheat driver makes)
 * and, under /api/v1/, the records of its store (dfly-manager-api.h):
 * clusters, and the schedulers and seed peers that register themselves.
 * Other requests dispatch from one route table; an unknown path is 404, a
 * known path with another method 405.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <libsoup/soup.h>

#include "dfly/dfly.h"
#include "dfly-manager-api.h"
#include "dfly-manager-settings.h"
#include "dfly-wire.h"

G_DECLARE_FINAL_TYPE (DflyManagerRole, dfly_manager_role, DFLY, MANAGER_ROLE, DflyRole)

struct _DflyManagerRole {
  DflyRole          parent_instance;
  DflyWireListener *listener; /* while running: accepts connections... */
  SoupServer       *server;   /* ...and hands them here to speak HTTP */
  char             *url;      /* http://ADDR:PORT as bound, the port resolved */
  DflyManagerApi   *api;      /* /api/v1/, over the store */
};

G_DEFINE_FINAL_TYPE (DflyManagerRole, dfly_manager_role, DFLY_TYPE_ROLE)

static void
handle_healthy (DflyManagerRole *self, SoupServerMessage *msg)
{
  /* libsoup leaves the body out of a HEAD reply itself. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "OK", 2);
}

typedef struct {
  const char *path;
  const char *methods[3]; /* NULL-terminated; also the Allow header of a 405 */
  void (*handle) (DflyManagerRole *self, SoupServerMessage *msg);
} Route;

static const Route routes[] = {
  { "/healthy", { "GET", "HEAD", NULL }, handle_healthy },
};

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  DflyManagerRole *self = user_data;
  const char      *method = soup_server_message_get_method (msg);

  if (self->api != NULL && dfly_manager_api_handle (self->api, msg, path, query))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++) {
    g_autofree char *allow = NULL;

    if (g_strcmp0 (routes[i].path, path) != 0)
      continue;
    if (g_strv_contains (routes[i].methods, method)) {
      routes[i].handle (user_data, msg);
      return;
    }
    allow = g_strjoinv (", ", (char **) routes[i].methods);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

/* A body is read only for a write under /api/v1/, with a length of at
 * most DFLY_MANAGER_API_MAX_BODY; any other is answered 413 before it is
 * read: SoupServer would otherwise buffer it whole, and a client could
 * make us hold any amount of memory. */
static void
on_early_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char         *method = soup_server_message_get_method (msg);
  goffset             length = soup_message_headers_get_content_length (headers);
  SoupEncoding        encoding = soup_message_headers_get_encoding (headers);
  gboolean write = strcmp (method, SOUP_METHOD_POST) == 0 || strcmp (method, "PATCH") == 0;

  if (write && g_str_has_prefix (path, DFLY_MANAGER_API_PREFIX) &&
      encoding == SOUP_ENCODING_CONTENT_LENGTH && length <= DFLY_MANAGER_API_MAX_BODY)
    return;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  if (length > 0 || encoding == SOUP_ENCODING_CHUNKED) {
    dfly_manager_api_answer_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL,
                                   "a body is taken only by a write under /api/v1/, with a "
                                   "length of at most 65536 bytes");
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
  }
}

/* The store the settings name: a PostgreSQL database by its URI,
 * manager.database as an SQLite file, or manager.db in the state
 * directory. */
static DflyManagerStore *
open_store (DflyManagerRole *self, const DflyManagerSettings *settings, GError **error)
{
  DflyConfig *config = dfly_context_get_config (dfly_component_get_context (DFLY_COMPONENT (self)));
  g_autofree char *path = NULL;

  if (dfly_manager_settings_is_postgres (settings))
    return dfly_manager_store_open_postgres (settings->database, settings->keepalive_timeout,
                                             error);
  if (*settings->database != '\0')
    path = g_strdup (settings->database);
  else
    path = g_build_filename (config->daemon.state_dir, "manager.db", NULL);
  if (g_mkdir_with_parents (config->daemon.state_dir, 0750) != 0 && *settings->database == '\0') {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_IO, "cannot create %s: %s", config->daemon.state_dir,
                 g_strerror (errno));
    return NULL;
  }
  return dfly_manager_store_open_sqlite (path, settings->keepalive_timeout, error);
}

static gboolean
dfly_manager_role_start (DflyRole *role, GError **error)
{
  DflyManagerRole           *self = DFLY_MANAGER_ROLE (role);
  const DflyManagerSettings *settings = dfly_component_get_settings (DFLY_COMPONENT (role));
  g_autoptr (GError) local_error = NULL;
  DflyManagerStore *store;
  DflyWireLimits    limits;

  store = open_store (self, settings, error);
  if (store == NULL) {
    g_prefix_error (error, "manager.database: ");
    return FALSE;
  }
  self->api = dfly_manager_api_new (store);
  self->server = soup_server_new ("server-header", "dfly/" PACKAGE_VERSION, NULL);
  soup_server_add_early_handler (self->server, NULL, on_early_request, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  /* An idle or stalled client does not hold its connection forever. */
  dfly_wire_limits_from_config (
    dfly_context_get_config (dfly_component_get_context (DFLY_COMPONENT (role))), &limits);
  limits.idle_timeout = MIN (limits.idle_timeout, 30);
  self->listener =
    dfly_wire_listen (self->server, settings->listen, settings->port, &limits, &local_error);
  if (self->listener != NULL)
    dfly_wire_listener_set_tls (
      self->listener, dfly_context_get_tls (dfly_component_get_context (DFLY_COMPONENT (role))));
  if (self->listener == NULL) {
    g_set_error (error, local_error->domain, local_error->code, "manager.listen: %s",
                 local_error->message);
    g_clear_object (&self->server);
    g_clear_pointer (&self->api, dfly_manager_api_free);
    return FALSE;
  }
  /* Port 0 asks for an ephemeral port: tell the one we got. */
  self->url = dfly_wire_base_url (
    settings->listen, dfly_wire_listener_get_port (self->listener),
    dfly_context_get_tls (dfly_component_get_context (DFLY_COMPONENT (role))) != NULL);
  g_info ("REST API listening on %s", self->url);
  return TRUE;
}

static void
disconnect (DflyManagerRole *self)
{
  g_clear_pointer (&self->listener, dfly_wire_listener_free);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->api, dfly_manager_api_free);
}

static void
dfly_manager_role_stop (DflyRole *role)
{
  disconnect (DFLY_MANAGER_ROLE (role));
}

static char *
dfly_manager_role_describe (DflyRole *role)
{
  return g_strdup_printf ("REST API on %s", DFLY_MANAGER_ROLE (role)->url);
}

static void
dfly_manager_role_dispose (GObject *object)
{
  disconnect (DFLY_MANAGER_ROLE (object));
  G_OBJECT_CLASS (dfly_manager_role_parent_class)->dispose (object);
}

static void
dfly_manager_role_class_init (DflyManagerRoleClass *klass)
{
  DflyRoleClass *role_class = DFLY_ROLE_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = dfly_manager_role_dispose;
  role_class->start = dfly_manager_role_start;
  role_class->stop = dfly_manager_role_stop;
  role_class->describe = dfly_manager_role_describe;
}

static void
dfly_manager_role_init (DflyManagerRole *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("manager", DFLY_PLUGIN_KIND_ROLE, PACKAGE_VERSION, "Apache-2.0",
                                  "Manager: the cluster's REST API (health check for Harbor's "
                                  "preheat)",
                                  dfly_manager_role_get_type, &dfly_manager_settings)
