/* dfly-scheduler-list.c — a list of schedulers read from JSON (see the header) */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "dfly-json-safe.h"
#include "dfly-scheduler-list.h"

/* "host:port", the host bracketed when it is an IPv6 literal. */
static char *
address_of (const char *ip, gint64 port)
{
  return strchr (ip, ':') != NULL ? g_strdup_printf ("[%s]:%" G_GINT64_FORMAT, ip, port)
                                  : g_strdup_printf ("%s:%" G_GINT64_FORMAT, ip, port);
}

/* A record's address when it is an active scheduler with an IP and a port. */
static char *
record_address (JsonNode *node)
{
  JsonObject *record;
  const char *ip, *state;
  gint64      port;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  record = json_node_get_object (node);
  ip = dfly_json_string_member (record, "ip");
  state = dfly_json_string_member (record, "state");
  port = dfly_json_int_member (record, "port");
  /* An IPv6 zone ("fe80::1%eth0") makes no URL libsoup takes. */
  if (ip == NULL || !g_hostname_is_ip_address (ip) || strchr (ip, '%') != NULL ||
      g_strcmp0 (state, "active") != 0 || port < 1 || port > G_MAXUINT16)
    return NULL;
  return address_of (ip, port);
}

/* A cached "host:port" when it is one. */
static char *
cached_address (JsonNode *node)
{
  g_autoptr (GSocketConnectable) parsed = NULL;
  const char *text;

  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  text = json_node_get_string (node);
  parsed = g_network_address_parse (text, 0, NULL);
  if (parsed == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (parsed)) == 0 ||
      strpbrk (text, " /?#@%") != NULL)
    return NULL;
  return g_strdup (text);
}

char **
dfly_scheduler_list_parse (const char *text, gsize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonNode  *root;
  JsonArray *array;
  guint      taken = 0;

  if (length > DFLY_SCHEDULER_LIST_MAX_TEXT ||
      !dfly_json_depth_ok (text, length, DFLY_JSON_MAX_DEPTH) ||
      !json_parser_load_from_data (parser, text, (gssize) length, &local_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_ARRAY (root)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "not a list of schedulers%s%s",
                 local_error != NULL ? ": " : "", local_error != NULL ? local_error->message : "");
    return NULL;
  }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array) && taken < DFLY_SCHEDULER_LIST_MAX; i++) {
    JsonNode *node = json_array_get_element (array, i);
    char *address = JSON_NODE_HOLDS_OBJECT (node) ? record_address (node) : cached_address (node);

    if (address == NULL || g_hash_table_contains (seen, address)) {
      g_free (address);
      continue;
    }
    g_hash_table_add (seen, address);
    g_strv_builder_add (builder, address);
    taken++;
  }
  return g_strv_builder_end (builder);
}
