/* dfly-oci-manifest.c — parsing manifests and indexes, choosing a platform */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#include <json-glib/json-glib.h>

#include <dfly/dfly.h>

#include "dfly-oci-manifest.h"
#include "dfly-oci-ref.h"

/* Descriptors of one manifest or index: far more than any real image. */
#define MAX_DESCRIPTORS 4096

/* Where the JSON value at text ends: after its closing bracket or quote,
 * or after the characters a number or a literal is made of. Only brackets
 * and strings are followed; json-glib checks the rest. */
static const char *
end_of_value (const char *text, const char *end)
{
  guint    depth = 0;
  gboolean in_string = FALSE;

  if (text < end && *text != '{' && *text != '[' && *text != '"') {
    while (text < end && (g_ascii_isalnum (*text) || *text == '+' || *text == '-' || *text == '.'))
      text++;
    return text;
  }
  for (; text < end; text++) {
    if (in_string) {
      if (*text == '\\' && text + 1 < end)
        text++;
      else if (*text == '"')
        in_string = FALSE;
    } else if (*text == '"') {
      in_string = TRUE;
    } else if (*text == '{' || *text == '[') {
      depth++;
    } else if ((*text == '}' || *text == ']') && depth > 0) {
      depth--;
    }
    if (!in_string && depth == 0)
      return text + 1;
  }
  return end;
}

gboolean
dfly_oci_parse_json (GBytes *bytes, JsonParser *parser, GError **error)
{
  gsize       size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  const char *end, *rest;

  /* json-glib 1.6 takes "{…}{…}" and "2{…}" for one document, and leaks
   * what follows the first value: one value, and only space after it. */
  if (data == NULL)
    return json_parser_load_from_data (parser, "", 0, error);
  end = data + size;
  rest = data;
  while (rest < end && g_ascii_isspace (*rest))
    rest++;
  for (rest = end_of_value (rest, end); rest < end && g_ascii_isspace (*rest); rest++)
    ;
  if (rest < end) {
    g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "not one JSON value alone");
    return FALSE;
  }
  return json_parser_load_from_data (parser, data, (gssize) size, error);
}

const char *
dfly_oci_json_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gint64
dfly_oci_json_int (JsonObject *object, const char *member, gint64 fallback)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (node);
}

char *
dfly_oci_parse_error_body (GBytes *bytes, DflyError *code)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode        *root, *errors, *first;
  JsonArray       *array;
  JsonObject      *entry;
  const char      *name, *message;
  g_autofree char *safe_name = NULL;
  g_autofree char *safe_message = NULL;

  if (!dfly_oci_parse_json (bytes, parser, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  errors = json_object_get_member (json_node_get_object (root), "errors");
  if (errors == NULL || !JSON_NODE_HOLDS_ARRAY (errors))
    return NULL;
  array = json_node_get_array (errors);
  first = json_array_get_length (array) > 0 ? json_array_get_element (array, 0) : NULL;
  if (first == NULL || !JSON_NODE_HOLDS_OBJECT (first))
    return NULL;
  entry = json_node_get_object (first);
  name = dfly_oci_json_string (entry, "code");
  message = dfly_oci_json_string (entry, "message");
  safe_name = g_strescape (name != NULL ? name : "", NULL);
  safe_message = g_strescape (message != NULL ? message : "", NULL);
  if (strlen (safe_name) > 64)
    safe_name[64] = '\0';
  if (strlen (safe_message) > 200)
    safe_message[200] = '\0';
  if (g_strcmp0 (name, "MANIFEST_UNKNOWN") == 0 || g_strcmp0 (name, "BLOB_UNKNOWN") == 0 ||
      g_strcmp0 (name, "NAME_UNKNOWN") == 0)
    *code = DFLY_ERROR_NOT_FOUND;
  else if (g_strcmp0 (name, "UNAUTHORIZED") == 0 || g_strcmp0 (name, "DENIED") == 0)
    *code = DFLY_ERROR_ACCESS_DENIED;
  return g_strdup_printf (", %s (%s)", safe_name, safe_message);
}

static void
descriptor_free (DflyOciDescriptor *d)
{
  g_free (d->media_type);
  g_free (d->digest);
  g_free (d->os);
  g_free (d->architecture);
  g_free (d->variant);
  g_free (d);
}

void
dfly_oci_manifest_free (DflyOciManifest *m)
{
  if (m == NULL)
    return;
  g_bytes_unref (m->bytes);
  g_free (m->media_type);
  g_free (m->digest);
  g_clear_pointer (&m->config, descriptor_free);
  g_clear_pointer (&m->descriptors, g_ptr_array_unref);
  g_free (m);
}

static gboolean
is_manifest_type (const char *type)
{
  return g_strcmp0 (type, DFLY_OCI_MANIFEST) == 0 || g_strcmp0 (type, DFLY_DOCKER_MANIFEST) == 0;
}

gboolean
dfly_oci_is_index_type (const char *type)
{
  return g_strcmp0 (type, DFLY_OCI_INDEX) == 0 || g_strcmp0 (type, DFLY_DOCKER_LIST) == 0;
}

static DflyOciDescriptor *
parse_descriptor (JsonNode *node, gboolean with_platform, const char *what, GError **error)
{
  JsonObject        *object;
  JsonNode          *size;
  const char        *media_type;
  DflyOciDescriptor *d;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s is not a JSON object", what);
    return NULL;
  }
  object = json_node_get_object (node);
  size = json_object_get_member (object, "size");
  if (!dfly_oci_is_sha256_digest (dfly_oci_json_string (object, "digest"))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "%s has no digest of the form sha256:<64 lowercase hex>", what);
    return NULL;
  }
  if (size == NULL || !JSON_NODE_HOLDS_VALUE (size) ||
      json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) < 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "%s has no valid size", what);
    return NULL;
  }
  d = g_new0 (DflyOciDescriptor, 1);
  d->digest = g_strdup (dfly_oci_json_string (object, "digest"));
  d->size = json_node_get_int (size);
  media_type = dfly_oci_json_string (object, "mediaType");
  d->media_type = g_strdup (media_type != NULL ? media_type : "");
  if (with_platform && json_object_has_member (object, "platform") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "platform"))) {
    JsonObject *platform = json_object_get_object_member (object, "platform");

    d->os = g_strdup (dfly_oci_json_string (platform, "os"));
    d->architecture = g_strdup (dfly_oci_json_string (platform, "architecture"));
    d->variant = g_strdup (dfly_oci_json_string (platform, "variant"));
  }
  return d;
}

static char *
sha256_digest (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  return g_strconcat ("sha256:", hex, NULL);
}

/* Parses bytes as the manifest or index media_type says (or, without a
 * usable Content-Type, as its own mediaType says). */
DflyOciManifest *
dfly_oci_manifest_parse (GBytes *bytes, const char *content_type, const char *url, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (DflyOciManifest) m = g_new0 (DflyOciManifest, 1);
  g_autoptr (GError) local_error = NULL;
  JsonNode   *root, *list;
  JsonObject *object;
  const char *own_type;
  JsonArray  *array;
  guint       n;

  m->bytes = g_bytes_ref (bytes);
  m->digest = sha256_digest (bytes);
  if (!dfly_oci_parse_json (bytes, parser, &local_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    /* json-glib's message quotes the registry's bytes, valid UTF-8 or not. */
    g_autofree char *why =
      local_error != NULL ? g_utf8_make_valid (local_error->message, -1) : NULL;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "the manifest is not a JSON object%s%s: %s",
                 why != NULL ? ": " : "", why != NULL ? why : "", url);
    return NULL;
  }
  object = json_node_get_object (root);
  own_type = dfly_oci_json_string (object, "mediaType");
  if (is_manifest_type (content_type) || dfly_oci_is_index_type (content_type))
    m->media_type = g_strdup (content_type);
  else
    m->media_type = g_strdup (own_type);
  if (!is_manifest_type (m->media_type) && !dfly_oci_is_index_type (m->media_type)) {
    g_autofree char *shown = g_strescape (m->media_type != NULL  ? m->media_type
                                          : content_type != NULL ? content_type
                                                                 : "none",
                                          NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED,
                 "unsupported manifest media type \"%.200s\" (OCI or Docker v2 manifests and "
                 "indexes only): %s",
                 shown, url);
    return NULL;
  }
  m->is_index = dfly_oci_is_index_type (m->media_type);
  list = json_object_get_member (object, m->is_index ? "manifests" : "layers");
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "the %s has no \"%s\" array: %s",
                 m->is_index ? "index" : "manifest", m->is_index ? "manifests" : "layers", url);
    return NULL;
  }
  array = json_node_get_array (list);
  n = json_array_get_length (array);
  if (n > MAX_DESCRIPTORS) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "the %s lists %u entries, more than %u: %s",
                 m->is_index ? "index" : "manifest", n, MAX_DESCRIPTORS, url);
    return NULL;
  }
  m->descriptors = g_ptr_array_new_with_free_func ((GDestroyNotify) descriptor_free);
  for (guint i = 0; i < n; i++) {
    g_autofree char   *what = g_strdup_printf ("%s %u", m->is_index ? "manifest" : "layer", i);
    DflyOciDescriptor *d =
      parse_descriptor (json_array_get_element (array, i), m->is_index, what, &local_error);

    if (d == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "bad manifest: %s: %s",
                   local_error->message, url);
      return NULL;
    }
    g_ptr_array_add (m->descriptors, d);
  }
  if (!m->is_index) {
    m->config =
      parse_descriptor (json_object_get_member (object, "config"), FALSE, "config", &local_error);
    if (m->config == NULL) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "bad manifest: %s: %s",
                   local_error->message, url);
      return NULL;
    }
  }
  return g_steal_pointer (&m);
}

void
dfly_oci_platform_clear (DflyOciPlatform *p)
{
  g_clear_pointer (&p->os, g_free);
  g_clear_pointer (&p->architecture, g_free);
  g_clear_pointer (&p->variant, g_free);
}

/* Go's GOARCH names for uname's machines. */
void
dfly_oci_platform_init_host (DflyOciPlatform *p)
{
  static const struct {
    const char *machine, *architecture, *variant;
  } machines[] = {
    { "x86_64", "amd64", NULL },    { "aarch64", "arm64", NULL }, { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },      { "i686", "386", NULL },      { "i386", "386", NULL },
    { "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL },   { "riscv64", "riscv64", NULL },
  };
  struct utsname name;

  p->os = g_strdup ("linux");
  if (uname (&name) == 0) {
    for (gsize i = 0; i < G_N_ELEMENTS (machines); i++) {
      if (g_str_equal (name.machine, machines[i].machine)) {
        p->architecture = g_strdup (machines[i].architecture);
        p->variant = g_strdup (machines[i].variant);
        return;
      }
    }
    p->architecture = g_strdup (name.machine);
    return;
  }
  p->architecture = g_strdup ("amd64");
}

gboolean
dfly_oci_platform_parse (DflyOciPlatform *p, const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 4);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++) {
    gsize len = strlen (parts[i]);

    if (len == 0 || len > 64 || strspn (parts[i], "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
      n = 0;
  }
  if (n < 2 || n > 3) {
    g_autofree char *shown = g_strescape (text, NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "bad platform \"%.100s\" (os/architecture[/variant], e.g. linux/arm64)", shown);
    return FALSE;
  }
  p->os = g_strdup (parts[0]);
  p->architecture = g_strdup (parts[1]);
  p->variant = g_strdup (parts[2]);
  return TRUE;
}

const DflyOciDescriptor *
dfly_oci_manifest_select_platform (const DflyOciManifest *index, const DflyOciPlatform *p)
{
  for (guint i = 0; i < index->descriptors->len; i++) {
    const DflyOciDescriptor *d = g_ptr_array_index (index->descriptors, i);

    if (g_strcmp0 (d->os, p->os) == 0 && g_strcmp0 (d->architecture, p->architecture) == 0 &&
        (p->variant == NULL || g_strcmp0 (d->variant, p->variant) == 0) &&
        !dfly_oci_is_index_type (d->media_type))
      return d;
  }
  return NULL;
}
