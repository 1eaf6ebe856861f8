/* fuzz-manager-json.c — libFuzzer target: JSON the control plane takes from other hosts
 *
 * The input goes, as it is, to what reads JSON a client or a manager sent:
 * the manager's check of a record against each table of its model (after
 * the depth check and json-glib's parse, as its REST API does), and the
 * peers' reading of a manager's list of schedulers (or of the list kept on
 * disk). Nothing may crash, and what is accepted must hold what the
 * parsers promise: records of known fields only, addresses that parse as
 * host:port, at most the cap.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "dfly-json-safe.h"
#include "plugins/roles/manager/dfly-manager-model.h"
#include "plugins/roles/engine/dfly-scheduler-list.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_records (const char *text, gsize length)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!dfly_json_depth_ok (text, length, DFLY_JSON_MAX_DEPTH) ||
      !json_parser_load_from_data (parser, text, (gssize) length, NULL))
    return;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  for (guint t = 0; t < DFLY_MANAGER_N_TABLES; t++) {
    const DflyManagerTable *table = dfly_manager_table (t);

    for (gint creating = 0; creating <= 1; creating++) {
      g_autoptr (GError) error = NULL;
      g_autofree char *field = NULL;
      JsonObjectIter   iter;
      const char      *name;
      JsonNode        *node;

      if (!dfly_manager_check_record (table, json_node_get_object (root), creating, &field,
                                      &error)) {
        g_assert (error != NULL && error->code == DFLY_ERROR_INVALID_ARGUMENT && field != NULL);
        continue;
      }
      g_assert (error == NULL && field == NULL);
      json_object_iter_init (&iter, json_node_get_object (root));
      while (json_object_iter_next (&iter, &name, &node))
        g_assert (dfly_manager_table_field (table, name) != NULL);
    }
  }
}

static void
check_schedulers (const char *text, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) addresses = dfly_scheduler_list_parse (text, length, &error);

  if (addresses == NULL) {
    g_assert (error != NULL && error->code == DFLY_ERROR_PROTOCOL);
    return;
  }
  g_assert (g_strv_length (addresses) <= DFLY_SCHEDULER_LIST_MAX);
  for (guint i = 0; addresses[i] != NULL; i++) {
    g_autoptr (GSocketConnectable) parsed = g_network_address_parse (addresses[i], 0, NULL);

    g_assert (parsed != NULL && g_network_address_get_port (G_NETWORK_ADDRESS (parsed)) > 0);
    g_assert (strchr (addresses[i], '%') == NULL && strchr (addresses[i], ' ') == NULL);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_records ((const char *) data, size);
  check_schedulers ((const char *) data, size);
  return 0;
}
