/* dfly-json-safe.h — reading JSON another host sent: its shape and depth
 * checked before it is parsed, its members taken only when of the type
 * expected
 *
 * json-glib parses nested arrays and objects by recursion with no limit of
 * its own: some 80,000 levels of "[" exhaust an 8 MiB stack, a text a
 * hostile manager (or anyone on a plaintext link) can send in 100 KB. What
 * dfly exchanges as JSON nests a few levels; a text deeper than max is
 * refused before json-glib sees it. Header-only: dflyctl, the manager and
 * the peers' links each compile it in.
 */
#pragma once

#include <json-glib/json-glib.h>

#define DFLY_JSON_MAX_DEPTH 32

/* Whether text (length bytes) is one array or object, nesting at most max
 * deep, with nothing but white space after it (strings and their escapes
 * skipped). json-glib 1.6 leaks what it parsed when more follows a first
 * value ("2[[…]]" loses the inner arrays): a client could grow a manager
 * by sending that again and again, so it never sees such a text. */
static inline gboolean
dfly_json_depth_ok (const char *text, gsize length, guint max)
{
  guint    depth = 0;
  gboolean in_string = FALSE, started = FALSE;

  for (gsize i = 0; i < length; i++) {
    char c = text[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    } else if (depth == 0 && (started || (c != '[' && c != '{'))) {
      return FALSE; /* a second value, or a first that is no array or object */
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      started = TRUE;
      if (++depth > max)
        return FALSE;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return started && depth == 0 && !in_string;
}

/* A member that is a whole number; 0 when absent or of another type
 * (json-glib's own getters warn on an object or an array). */
static inline gint64
dfly_json_int_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
             json_node_get_value_type (node) == G_TYPE_INT64
           ? json_node_get_int (node)
           : 0;
}

/* A member that is a string; NULL when absent or of another type. */
static inline const char *
dfly_json_string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
             json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node)
           : NULL;
}
