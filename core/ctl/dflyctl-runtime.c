/* dflyctl-runtime.c — "dflyctl runtime containerd|crio|podman|docker": makes a
 * container runtime pull through the local dfly proxy, as Dragonfly's dfinit does
 *
 * It writes the runtime's own files (no dflyd is needed): containerd's
 * certs.d/HOST/hosts.toml, a registries.conf.d drop-in for CRI-O and podman,
 * Docker's daemon.json merged key by key. Everything is decided before the
 * first file is written; a file that already says the same is left alone, so
 * a second run changes nothing and says so.
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <glib/gi18n.h>

#include "dfly/dfly-error.h"
#include "dflyctl.h"
#include "dflyctl-parse.h"
#include "dflyctl-runtime.h"

#define DEFAULT_PROXY      "http://127.0.0.1:4001"
#define DEFAULT_REGISTRY   "https://index.docker.io"
#define DOCKER_HUB         "docker.io"
#define DOCKER_HUB_SERVER  "https://registry-1.docker.io"
#define CERTS_D            "etc/containerd/certs.d"
#define CERTS_D_ABSOLUTE   "/" CERTS_D
#define CONTAINERD_CONFIG  "etc/containerd/config.toml"
#define REGISTRIES_CONF    "etc/containers/registries.conf"
#define REGISTRIES_DROP_IN "etc/containers/registries.conf.d/dfly.conf"
#define DOCKER_DAEMON_JSON "etc/docker/daemon.json"

/* A registry or the proxy, as a URL of scheme, host and port only. */
typedef struct {
  char    *url;       /* scheme://host[:port], the port only when not the scheme's */
  char    *name;      /* host[:port] as image references say it: docker.io for Docker Hub */
  char    *host_port; /* host:port, the port always said */
  gboolean insecure;  /* plain http */
  gboolean loopback;  /* 127.0.0.0/8 */
  gboolean docker_hub;
} Endpoint;

static void
endpoint_free (Endpoint *endpoint)
{
  g_free (endpoint->url);
  g_free (endpoint->name);
  g_free (endpoint->host_port);
  g_free (endpoint);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Endpoint, endpoint_free)

typedef struct _RuntimeKind RuntimeKind;

typedef struct {
  Dflyctl           *ctl;
  const RuntimeKind *kind;
  char              *root;
  Endpoint          *proxy;
  GPtrArray         *registries; /* Endpoint */
  GPtrArray         *files;      /* DflyctlRuntimeFile, in the order they are written */
  GPtrArray         *notes;      /* what the user should know or do besides */
  gboolean           dry_run;
} Runtime;

static void
runtime_clear (Runtime *self)
{
  g_clear_pointer (&self->root, g_free);
  g_clear_pointer (&self->proxy, endpoint_free);
  g_clear_pointer (&self->registries, g_ptr_array_unref);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_clear_pointer (&self->notes, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Runtime, runtime_clear)

struct _RuntimeKind {
  const char *name;
  const char *apply; /* N_(): how the running runtime takes the change */
  gboolean (*plan) (Runtime *self, GError **error);
};

static void runtime_note (Runtime *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
runtime_note (Runtime *self, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (self->notes, g_strdup_vprintf (format, args));
  va_end (args);
}

/* Letters, digits and inner hyphens, dot-separated labels of 1 to 63. */
static gboolean
is_dns_name (const char *host)
{
  g_auto (GStrv) labels = g_strsplit (host, ".", -1);

  if (strlen (host) > 253)
    return FALSE;
  for (guint i = 0; labels[i] != NULL; i++) {
    gsize length = strlen (labels[i]);

    if (length == 0 || length > 63 || labels[i][0] == '-' || labels[i][length - 1] == '-')
      return FALSE;
    for (gsize j = 0; j < length; j++) {
      if (!g_ascii_isalnum (labels[i][j]) && labels[i][j] != '-')
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
is_docker_hub (const char *host)
{
  return g_str_equal (host, "docker.io") || g_str_equal (host, "index.docker.io") ||
         g_str_equal (host, "registry-1.docker.io");
}

/* http(s)://HOST[:PORT][/] and nothing else; @option names it in errors. */
static Endpoint *
parse_endpoint (const char *option, const char *text, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (Endpoint) endpoint = g_new0 (Endpoint, 1);
  g_autofree char *scheme = NULL;
  g_autofree char *host = NULL;
  g_autofree char *bracketed = NULL;
  const char      *path;
  int              port;
  int              default_port;

  if (!dflyctl_check_url (text, &local_error)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, "%s: %s", option, local_error->message);
    return NULL;
  }
  uri = g_uri_parse (text, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: “%s” is not a valid URL: %s"),
                 option, quoted, local_error->message);
    return NULL;
  }
  scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  if (!g_str_equal (scheme, "http") && !g_str_equal (scheme, "https")) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: “%s”: use an http:// or https:// URL"), option, quoted);
    return NULL;
  }
  if (g_uri_get_userinfo (uri) != NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: “%s”: a user or password does not belong in the URL"), option, quoted);
    return NULL;
  }
  path = g_uri_get_path (uri);
  if ((*path != '\0' && !g_str_equal (path, "/")) || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: “%s”: give the scheme, host and port only, no path or query"), option,
                 quoted);
    return NULL;
  }
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  if (!g_hostname_is_ip_address (host) && !is_dns_name (host)) {
    g_autofree char *quoted_host = dflyctl_quote_arg (host);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: “%s”: “%s” is not a host name or address"), option, quoted, quoted_host);
    return NULL;
  }
  bracketed = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  default_port = g_str_equal (scheme, "http") ? 80 : 443;
  port = g_uri_get_port (uri);
  if (port == -1 || port == default_port) {
    endpoint->name = g_strdup (bracketed);
    endpoint->host_port = g_strdup_printf ("%s:%d", bracketed, default_port);
  } else {
    endpoint->name = g_strdup_printf ("%s:%d", bracketed, port);
    endpoint->host_port = g_strdup (endpoint->name);
  }
  endpoint->url = g_strdup_printf ("%s://%s", scheme, endpoint->name);
  endpoint->insecure = g_str_equal (scheme, "http");
  endpoint->loopback = g_hostname_is_ip_address (host) && g_str_has_prefix (host, "127.");
  endpoint->docker_hub = is_docker_hub (host);
  if (endpoint->docker_hub) {
    g_free (endpoint->name);
    endpoint->name = g_strdup (DOCKER_HUB);
  }
  return g_steal_pointer (&endpoint);
}

static const Endpoint *
registry_at (Runtime *self, guint i)
{
  return g_ptr_array_index (self->registries, i);
}

static char *
registry_names (Runtime *self)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < self->registries->len; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", registry_at (self, i)->name);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* Reads ROOT/RELATIVE and queues it, to be written once its new_text is set. */
static DflyctlRuntimeFile *
runtime_add_file (Runtime *self, const char *relative, GError **error)
{
  DflyctlRuntimeFile *file = dflyctl_runtime_file_open (self->root, relative, error);

  if (file != NULL)
    g_ptr_array_add (self->files, file);
  return file;
}

/* Mirror requests from CRI-O, podman and Docker name no upstream: the proxy
 * takes them to its proxy.registry_mirror, Docker Hub unless changed. */
static void
note_registry_mirror (Runtime *self, const Endpoint *registry)
{
  if (!registry->docker_hub)
    runtime_note (self,
                  _ ("%s's mirror requests do not say which registry they are for: the proxy "
                     "takes them to its proxy.registry_mirror, so set that to %s in dflyd.yaml"),
                  self->kind->name, registry->url);
}

/* --- containerd ---------------------------------------------------------- */

static char *
hosts_toml (const Endpoint *registry, const Endpoint *proxy)
{
  const char *server = registry->docker_hub ? DOCKER_HUB_SERVER : registry->url;

  return g_strdup_printf (
    "# Written by dflyctl runtime containerd: %s is pulled through dfly's proxy,\n"
    "# which is told the upstream by X-Dragonfly-Registry; should the proxy fail,\n"
    "# containerd goes to the server itself.\n"
    "server = \"%s\"\n"
    "\n"
    "[host.\"%s\"]\n"
    "  capabilities = [\"pull\", \"resolve\"]\n"
    "\n"
    "  [host.\"%s\".header]\n"
    "    X-Dragonfly-Registry = \"%s\"\n",
    registry->name, server, proxy->url, proxy->url, registry->url);
}

/* The value of a line KEY = "VALUE" (or 'VALUE'), else NULL. */
static char *
toml_string_value (const char *line, const char *key)
{
  gsize       length = strlen (key);
  const char *p = line;
  const char *end;
  char        quote;

  if (strncmp (p, key, length) != 0)
    return NULL;
  for (p += length; *p == ' ' || *p == '\t'; p++)
    ;
  if (*p++ != '=')
    return NULL;
  while (*p == ' ' || *p == '\t')
    p++;
  quote = *p++;
  if (quote != '"' && quote != '\'')
    return NULL;
  end = strchr (p, quote);
  return end != NULL ? g_strndup (p, end - p) : NULL;
}

typedef struct {
  int      version;     /* 1 when the file does not say */
  char    *config_path; /* NULL when no registry table sets it */
  gboolean mirrors;     /* a registry.mirrors table: refused beside config_path */
} ContainerdConfig;

static void
containerd_config_clear (ContainerdConfig *config)
{
  g_clear_pointer (&config->config_path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ContainerdConfig, containerd_config_clear)

/* Not a TOML parser: the lines that matter, as containerd's own "config
 * default" writes them (a table header, then key = value). */
static void
scan_containerd_config (const char *text, ContainerdConfig *config)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *table = g_strdup ("");

  config->version = 1;
  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip (lines[i]);
    char *value;

    if (*line == '[') {
      char *close = strrchr (line, ']');

      g_free (table);
      table = g_strndup (line, close != NULL ? (gsize) (close - line + 1) : strlen (line));
      /* A mirror's own table; "config default" writes the parent empty. */
      if (strstr (table, ".registry.mirrors.") != NULL)
        config->mirrors = TRUE;
      continue;
    }
    if (*line != '\0' && *line != '#' && g_str_has_suffix (table, ".registry.mirrors]"))
      config->mirrors = TRUE;
    if (*table == '\0' && g_str_has_prefix (line, "version")) {
      const char *equals = strchr (line, '=');

      if (equals != NULL)
        config->version = (int) g_ascii_strtoll (equals + 1, NULL, 10);
      continue;
    }
    value = g_str_has_suffix (table, ".registry]")
              ? toml_string_value (line, "config_path")
              : toml_string_value (line, "registry.config_path");
    if (value != NULL) {
      g_free (config->config_path);
      config->config_path = value;
    }
  }
}

static gboolean
config_path_has_certs_d (const char *config_path)
{
  g_auto (GStrv) dirs = g_strsplit (config_path, ":", -1);

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autofree char *dir = g_strdup (dirs[i]);

    while (g_str_has_suffix (dir, "/") && strlen (dir) > 1)
      dir[strlen (dir) - 1] = '\0';
    if (g_str_equal (dir, CERTS_D_ABSOLUTE))
      return TRUE;
  }
  return FALSE;
}

/* Says what config.toml lacks for containerd to read certs.d; changes nothing. */
static void
check_containerd_config (Runtime *self)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (DflyctlRuntimeFile) file =
    dflyctl_runtime_file_open (self->root, CONTAINERD_CONFIG, &local_error);
  g_auto (ContainerdConfig) config = { 0 };
  const char *table;

  if (file == NULL) {
    runtime_note (self, _ ("cannot check containerd's configuration: %s"), local_error->message);
    return;
  }
  if (file->old_text == NULL) {
    runtime_note (self,
                  _ ("%s is missing: containerd 2 reads %s by default, containerd 1.x does not; "
                     "for 1.x, write it with:\n"
                     "  version = 2\n"
                     "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
                     "    config_path = \"%s\"\n"
                     "and restart containerd"),
                  file->path, CERTS_D_ABSOLUTE, CERTS_D_ABSOLUTE);
    return;
  }
  scan_containerd_config (file->old_text, &config);
  table = config.version >= 3   ? "[plugins.\"io.containerd.cri.v1.images\".registry]"
          : config.version == 2 ? "[plugins.\"io.containerd.grpc.v1.cri\".registry]"
                                : "[plugins.cri.registry]";
  /* containerd 2's default reads certs.d. */
  if ((config.config_path == NULL && config.version < 3) ||
      (config.config_path != NULL && *config.config_path == '\0'))
    runtime_note (self,
                  _ ("%s does not set the registry's config_path, so containerd reads no "
                     "hosts.toml; add (or complete) the table\n"
                     "  %s\n"
                     "    config_path = \"%s\"\n"
                     "and restart containerd"),
                  file->path, table, CERTS_D_ABSOLUTE);
  else if (config.config_path != NULL && !config_path_has_certs_d (config.config_path))
    runtime_note (self,
                  _ ("%s sets the registry's config_path to “%s”, not %s: containerd will "
                     "not read these files until it does"),
                  file->path, config.config_path, CERTS_D_ABSOLUTE);
  if (config.mirrors)
    runtime_note (self,
                  _ ("%s has a registry.mirrors table, which containerd refuses beside "
                     "config_path: move its mirrors to hosts.toml files"),
                  file->path);
}

static gboolean
plan_containerd (Runtime *self, GError **error)
{
  for (guint i = 0; i < self->registries->len; i++) {
    const Endpoint     *registry = registry_at (self, i);
    g_autofree char    *relative = g_build_filename (CERTS_D, registry->name, "hosts.toml", NULL);
    DflyctlRuntimeFile *file = runtime_add_file (self, relative, error);

    if (file == NULL)
      return FALSE;
    file->new_text = hosts_toml (registry, self->proxy);
  }
  check_containerd_config (self);
  return TRUE;
}

/* --- CRI-O and podman ------------------------------------------------------ */

/* Drop-ins (v2 tables) cannot be mixed with a main file of the v1 format. */
static gboolean
check_registries_conf (Runtime *self, GError **error)
{
  g_autoptr (DflyctlRuntimeFile) file =
    dflyctl_runtime_file_open (self->root, REGISTRIES_CONF, error);
  g_auto (GStrv) lines = NULL;

  if (file == NULL)
    return FALSE;
  if (file->old_text == NULL)
    return TRUE;
  lines = g_strsplit (file->old_text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    if (g_str_has_prefix (g_strstrip (lines[i]), "[registries.")) {
      g_autofree char *quoted = dflyctl_quote_arg (lines[i]);

      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   _ ("%s is in the old v1 format (%s), which a drop-in cannot be mixed with; "
                      "convert it to [[registry]] tables first"),
                   file->path, quoted);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
plan_registries_conf (Runtime *self, GError **error)
{
  const Endpoint     *registry = registry_at (self, 0);
  DflyctlRuntimeFile *file;

  if (self->registries->len > 1) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("one --registry only: CRI-O and podman send the proxy no name of "
                            "the upstream, so it takes every mirror request to its one "
                            "proxy.registry_mirror"));
    return FALSE;
  }
  if (!check_registries_conf (self, error))
    return FALSE;
  file = runtime_add_file (self, REGISTRIES_DROP_IN, error);
  if (file == NULL)
    return FALSE;
  /* CRI-O and podman share the file: it names neither. */
  file->new_text = g_strdup_printf (
    "# Written by dflyctl runtime crio|podman: %s is pulled through "
    "dfly's proxy first.\n"
    "[[registry]]\n"
    "prefix = \"%s\"\n"
    "location = \"%s\"\n"
    "%s"
    "\n"
    "[[registry.mirror]]\n"
    "location = \"%s\"\n"
    "insecure = %s\n",
    registry->name, registry->name, registry->name, registry->insecure ? "insecure = true\n" : "",
    self->proxy->host_port, self->proxy->insecure ? "true" : "false");
  note_registry_mirror (self, registry);
  return TRUE;
}

/* --- Docker ----------------------------------------------------------------- */

static char *
without_trailing_slashes (const char *url)
{
  char *copy = g_strdup (url);
  gsize length = strlen (copy);

  while (length > 0 && copy[length - 1] == '/')
    copy[--length] = '\0';
  return copy;
}

/* Puts @value into the list @member of @object (first, or last), unless it
 * is there already; any other type there is an error, the file being left. */
static gboolean
merge_string (JsonObject *object, const char *member, const char *value, gboolean first,
              const char *path, gboolean *changed, GError **error)
{
  JsonNode        *node = json_object_get_member (object, member);
  JsonArray       *old = NULL;
  g_autofree char *wanted = without_trailing_slashes (value);
  JsonArray       *merged = json_array_new ();

  if (node != NULL && !JSON_NODE_HOLDS_ARRAY (node)) {
    json_array_unref (merged);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 _ ("%s: “%s” is not a list; the file is left as it is"), path, member);
    return FALSE;
  }
  old = node != NULL ? json_node_get_array (node) : NULL;
  for (guint i = 0; old != NULL && i < json_array_get_length (old); i++) {
    JsonNode        *element = json_array_get_element (old, i);
    g_autofree char *have = NULL;

    if (json_node_get_value_type (element) != G_TYPE_STRING) {
      json_array_unref (merged);
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   _ ("%s: “%s” holds something other than strings; the file is left as it is"),
                   path, member);
      return FALSE;
    }
    have = without_trailing_slashes (json_node_get_string (element));
    if (g_ascii_strcasecmp (have, wanted) == 0) {
      json_array_unref (merged);
      return TRUE;
    }
  }
  if (first)
    json_array_add_string_element (merged, value);
  for (guint i = 0; old != NULL && i < json_array_get_length (old); i++)
    json_array_add_element (merged, json_node_copy (json_array_get_element (old, i)));
  if (!first)
    json_array_add_string_element (merged, value);
  json_object_set_array_member (object, member, merged);
  *changed = TRUE;
  return TRUE;
}

static gboolean
plan_docker (Runtime *self, GError **error)
{
  DflyctlRuntimeFile *file;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *stripped = NULL;
  JsonObject      *object;
  gboolean         changed = FALSE;

  for (guint i = 0; i < self->registries->len; i++) {
    if (!registry_at (self, i)->docker_hub) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("Docker mirrors Docker Hub only (its registry-mirrors), so %s cannot go "
                      "through the proxy; use containerd's hosts.toml or an HTTP proxy for it"),
                   registry_at (self, i)->name);
      return FALSE;
    }
  }
  file = runtime_add_file (self, DOCKER_DAEMON_JSON, error);
  if (file == NULL)
    return FALSE;
  stripped = g_strstrip (g_strdup (file->old_text != NULL ? file->old_text : ""));
  if (file->old_text != NULL && strlen (file->old_text) != file->old_length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 _ ("%s is not valid JSON (it holds a NUL byte); it is left as it is"), file->path);
    return FALSE;
  }
  if (*stripped == '\0') {
    root = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (root, json_object_new ());
  } else if (!json_parser_load_from_data (parser, file->old_text, -1, &local_error)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 _ ("%s is not valid JSON (%s); it is left as it is"), file->path,
                 local_error->message);
    return FALSE;
  } else {
    root = json_node_ref (json_parser_get_root (parser));
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 _ ("%s is not a JSON object; it is left as it is"), file->path);
    return FALSE;
  }
  object = json_node_get_object (root);
  /* Docker tries its mirrors in order: the proxy first. */
  if (!merge_string (object, "registry-mirrors", self->proxy->url, TRUE, file->path, &changed,
                     error))
    return FALSE;
  /* Docker reaches a plain-http mirror only on 127.0.0.0/8 unless told. */
  if (self->proxy->insecure && !self->proxy->loopback &&
      !merge_string (object, "insecure-registries", self->proxy->host_port, FALSE, file->path,
                     &changed, error))
    return FALSE;
  file->new_text = changed ? dflyctl_json_to_text (root) : g_strdup (file->old_text);
  note_registry_mirror (self, registry_at (self, 0));
  return TRUE;
}

static const RuntimeKind runtime_kinds[] = {
  { "containerd", N_ ("containerd reads hosts.toml at each pull; nothing to restart"),
    plan_containerd },
  { "crio", N_ ("apply it with: systemctl reload crio"), plan_registries_conf },
  { "podman", N_ ("podman reads it at its next pull"), plan_registries_conf },
  { "docker", N_ ("apply it with: systemctl reload docker"), plan_docker },
};

/* --- output -------------------------------------------------------------- */

static const char *
state_name (DflyctlRuntimeFileState state)
{
  switch (state) {
  case DFLYCTL_RUNTIME_FILE_CREATED:
    return "created";
  case DFLYCTL_RUNTIME_FILE_CHANGED:
    return "changed";
  case DFLYCTL_RUNTIME_FILE_UNCHANGED:
  default:
    return "unchanged";
  }
}

/* One line for a file, written or not. */
static char *
file_line (const DflyctlRuntimeFile *file, DflyctlRuntimeFileState state, gboolean dry_run)
{
  if (state == DFLYCTL_RUNTIME_FILE_UNCHANGED)
    return g_strdup_printf (_ ("unchanged %s\n"), file->path);
  if (state == DFLYCTL_RUNTIME_FILE_CREATED)
    return g_strdup_printf (dry_run ? _ ("would create %s\n") : _ ("created %s\n"), file->path);
  if (dry_run)
    return g_strdup_printf (_ ("would change %s (keeping the old one as a backup)\n"), file->path);
  return g_strdup_printf (_ ("changed %s (the old one is kept as %s)\n"), file->path, file->backup);
}

static JsonNode *
runtime_to_json (Runtime *self, gboolean changed, GPtrArray *diffs)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "runtime");
  json_builder_add_string_value (builder, self->kind->name);
  json_builder_set_member_name (builder, "proxy");
  json_builder_add_string_value (builder, self->proxy->url);
  json_builder_set_member_name (builder, "registries");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->registries->len; i++)
    json_builder_add_string_value (builder, registry_at (self, i)->url);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "dry-run");
  json_builder_add_boolean_value (builder, self->dry_run);
  json_builder_set_member_name (builder, "changed");
  json_builder_add_boolean_value (builder, changed);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->files->len; i++) {
    DflyctlRuntimeFile *file = g_ptr_array_index (self->files, i);
    const char         *diff = diffs != NULL ? g_ptr_array_index (diffs, i) : NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "path");
    json_builder_add_string_value (builder, file->path);
    json_builder_set_member_name (builder, "state");
    json_builder_add_string_value (builder, state_name (dflyctl_runtime_file_state (file)));
    if (file->backup != NULL) {
      json_builder_set_member_name (builder, "backup");
      json_builder_add_string_value (builder, file->backup);
    }
    if (diff != NULL) {
      json_builder_set_member_name (builder, "diff");
      json_builder_add_string_value (builder, diff);
    }
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "notes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->notes->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->notes, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
print_json (Runtime *self, gboolean changed, GPtrArray *diffs)
{
  g_autoptr (JsonNode) root = runtime_to_json (self, changed, diffs);

  dflyctl_print (self->ctl, dflyctl_json_to_text (root));
}

/* --- the command ------------------------------------------------------------ */

/* Writes (or with --dry-run, diffs) every planned file, then says what it did. */
static gboolean
runtime_apply (Runtime *self, GError **error)
{
  gboolean human = self->ctl->format == DFLYCTL_FORMAT_HUMAN;
  gboolean changed = FALSE;
  g_autoptr (GPtrArray) diffs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *names = registry_names (self);

  for (guint i = 0; i < self->files->len; i++) {
    DflyctlRuntimeFile     *file = g_ptr_array_index (self->files, i);
    DflyctlRuntimeFileState state = dflyctl_runtime_file_state (file);
    char                   *diff = NULL;

    if (state != DFLYCTL_RUNTIME_FILE_UNCHANGED) {
      changed = TRUE;
      if (self->dry_run && (diff = dflyctl_runtime_file_diff (file, error)) == NULL)
        return FALSE;
      if (!self->dry_run && !dflyctl_runtime_file_write (file, error))
        return FALSE;
    }
    g_ptr_array_add (diffs, diff);
    if (human) {
      dflyctl_print (self->ctl, file_line (file, state, self->dry_run));
      if (diff != NULL)
        dflyctl_print (self->ctl, g_strdup (diff));
    }
  }
  if (!human) {
    print_json (self, changed, diffs);
    return TRUE;
  }
  if (!changed)
    dflyctl_print (self->ctl, g_strdup_printf (_ ("nothing to change: %s already pulls %s "
                                                  "through %s\n"),
                                               self->kind->name, names, self->proxy->url));
  else if (self->dry_run)
    dflyctl_print (self->ctl, g_strdup (_ ("dry run: nothing was written\n")));
  else if (g_str_equal (self->root, "/"))
    dflyctl_print (self->ctl,
                   g_strdup_printf (_ ("%s now pulls %s through %s; %s\n"), self->kind->name, names,
                                    self->proxy->url, _ (self->kind->apply)));
  else
    dflyctl_print (self->ctl,
                   g_strdup_printf (_ ("%s under %s now pulls %s through %s\n"), self->kind->name,
                                    self->root, names, self->proxy->url));
  for (guint i = 0; i < self->notes->len; i++)
    g_printerr ("dflyctl: %s: %s\n", _ ("note"), (const char *) g_ptr_array_index (self->notes, i));
  return TRUE;
}

static gboolean
add_registry (Runtime *self, const char *text, GError **error)
{
  g_autoptr (Endpoint) registry = parse_endpoint ("--registry", text, error);

  if (registry == NULL)
    return FALSE;
  for (guint i = 0; i < self->registries->len; i++) {
    const Endpoint *other = registry_at (self, i);

    if (!g_str_equal (other->name, registry->name))
      continue;
    if (g_str_equal (other->url, registry->url))
      return TRUE;
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("--registry: %s and %s are the same registry, %s"), other->url, registry->url,
                 registry->name);
    return FALSE;
  }
  g_ptr_array_add (self->registries, g_steal_pointer (&registry));
  return TRUE;
}

/* The arguments, checked: errors are DFLYCTL_ERROR_USAGE. */
static gboolean
runtime_setup (Runtime *self, const char *proxy, char **registries, const char *root,
               GError **error)
{
  self->registries = g_ptr_array_new_with_free_func ((GDestroyNotify) endpoint_free);
  self->files = g_ptr_array_new_with_free_func ((GDestroyNotify) dflyctl_runtime_file_free);
  self->notes = g_ptr_array_new_with_free_func (g_free);
  self->proxy = parse_endpoint ("--proxy", proxy != NULL ? proxy : DEFAULT_PROXY, error);
  if (self->proxy == NULL)
    return FALSE;
  if (registries == NULL && !add_registry (self, DEFAULT_REGISTRY, error))
    return FALSE;
  for (guint i = 0; registries != NULL && registries[i] != NULL; i++) {
    if (!add_registry (self, registries[i], error))
      return FALSE;
  }
  self->root = g_canonicalize_filename (root != NULL ? root : "/", NULL);
  if ((root != NULL && *root == '\0') || !g_file_test (self->root, G_FILE_TEST_IS_DIR)) {
    g_autofree char *quoted = dflyctl_quote_arg (root);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("--root: “%s” is not a directory"),
                 quoted);
    return FALSE;
  }
  return TRUE;
}

static const char runtime_description[] =
  N_ ("Runtimes and the files written (under --root, / by default):\n"
      "  containerd  etc/containerd/certs.d/HOST/hosts.toml for each registry\n"
      "  crio, podman\n"
      "              etc/containers/registries.conf.d/dfly.conf (one registry)\n"
      "  docker      etc/docker/daemon.json: registry-mirrors (Docker Hub only),\n"
      "              other keys kept\n\n"
      "A file that already says the same is left alone; one that changes is kept\n"
      "first as FILE.dfly-backup (or FILE.dfly-backup-TIMESTAMP). No dflyd is needed.");

gboolean
dflyctl_cmd_runtime (Dflyctl *ctl, GError **error)
{
  g_auto (Runtime) self = { 0 };
  g_auto (GStrv) registries = NULL;
  g_autofree char   *proxy = NULL;
  g_autofree char   *root = NULL;
  gboolean           dry_run = FALSE;
  const GOptionEntry entries[] = {
    { "registry", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &registries,
      N_ ("An upstream registry to pull through the proxy (repeatable; default " DEFAULT_REGISTRY
          ", Docker Hub)"),
      N_ ("URL") },
    { "proxy", 'p', 0, G_OPTION_ARG_STRING, &proxy,
      N_ ("The dfly proxy's URL (default " DEFAULT_PROXY ")"), N_ ("URL") },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_ ("Print the diff of what would be written; write nothing"), NULL },
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root,
      N_ ("Prefix every path with DIR (an image being built; default /)"), N_ ("DIR") },
    { NULL }
  };
  g_auto (GStrv) positional = NULL;

  positional =
    dflyctl_parse_command_args (ctl, entries, _ ("containerd|crio|podman|docker"),
                                _ ("Make a container runtime pull through the local dfly proxy."),
                                _ (runtime_description), error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("runtime: no runtime given; use containerd, crio, podman or docker"));
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (runtime_kinds); i++) {
    if (g_str_equal (positional[0], runtime_kinds[i].name))
      self.kind = &runtime_kinds[i];
  }
  if (self.kind == NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("runtime: unknown runtime “%s”; use containerd, crio, podman or docker"),
                 quoted);
    return FALSE;
  }
  if (positional[1] != NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[1]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("runtime: takes one runtime, got also “%s”"), quoted);
    return FALSE;
  }

  self.ctl = ctl;
  self.dry_run = dry_run;
  if (!runtime_setup (&self, proxy, registries, root, error)) {
    g_prefix_error (error, "runtime: ");
    return FALSE;
  }

  if (!self.kind->plan (&self, error) || !runtime_apply (&self, error)) {
    g_prefix_error (error, "runtime %s: ", self.kind->name);
    return FALSE;
  }
  return TRUE;
}
