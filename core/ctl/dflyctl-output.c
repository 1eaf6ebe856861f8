/* dflyctl-output.c — dflyd's replies as aligned text or as JSON */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "dflyctl-output.h"

/* Columns are padded by what a terminal shows, not by bytes, so translated
 * headers and non-ASCII names still line up. */
static gsize
display_width (const char *text)
{
  gsize width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iszerowidth (c))
      continue;
    width += g_unichar_iswide (c) ? 2 : 1;
  }
  return width;
}

static void
append_padded (GString *out, const char *text, gsize width)
{
  g_string_append (out, text);
  for (gsize i = display_width (text); i < width; i++)
    g_string_append_c (out, ' ');
}

/* The last column is not padded: no trailing blanks. */
static void
append_row (GString *out, const char *indent, const char *const *cells, const gsize *widths,
            guint n_cells)
{
  g_string_append (out, indent);
  for (guint i = 0; i < n_cells; i++) {
    if (i + 1 == n_cells) {
      g_string_append (out, cells[i]);
      break;
    }
    append_padded (out, cells[i], widths[i] + 2);
  }
  /* An empty last cell would leave the separator behind. */
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
}

char *
dflyctl_format_table (const char *const *headers, guint n_columns, GPtrArray *rows)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree gsize *widths = g_new0 (gsize, n_columns);

  for (guint i = 0; i < n_columns; i++)
    widths[i] = display_width (headers[i]);
  for (guint r = 0; r < rows->len; r++) {
    const char *const *cells = g_ptr_array_index (rows, r);

    for (guint i = 0; i < n_columns; i++)
      widths[i] = MAX (widths[i], display_width (cells[i]));
  }
  append_row (out, "", headers, widths, n_columns);
  for (guint r = 0; r < rows->len; r++)
    append_row (out, "", g_ptr_array_index (rows, r), widths, n_columns);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_format_fields (const char *const *labels, const char *const *values, guint n_fields)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gsize width = 0;

  for (guint i = 0; i < n_fields; i++)
    width = MAX (width, display_width (labels[i]));
  for (guint i = 0; i < n_fields; i++) {
    append_padded (out, labels[i], width + 1);
    g_string_append_printf (out, "%s\n", values[i]);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static const char *
or_placeholder (const char *text, const char *placeholder)
{
  return (text != NULL && *text != '\0') ? text : placeholder;
}

static char *
format_duration (guint64 seconds)
{
  unsigned long long days = seconds / 86400;
  guint              hours = (seconds / 3600) % 24;
  guint              minutes = (seconds / 60) % 60;
  guint              secs = seconds % 60;

  /* Two units are enough to tell "just restarted" from "up for weeks". */
  if (days > 0)
    /* TRANSLATORS: uptime in days and hours, as in "3d 4h"; likewise below */
    return g_strdup_printf (_ ("%llud %uh"), days, hours);
  if (hours > 0)
    return g_strdup_printf (_ ("%uh %um"), hours, minutes);
  if (minutes > 0)
    return g_strdup_printf (_ ("%um %us"), minutes, secs);
  return g_strdup_printf (_ ("%us"), secs);
}

char *
dflyctl_json_to_text (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

static JsonNode *
roles_to_json (GVariant *roles)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  const char  *name, *state, *detail;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, roles);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &name, &state, &detail)) {
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "name");
    json_builder_add_string_value (builder, name);
    json_builder_set_member_name (builder, "state");
    json_builder_add_string_value (builder, state);
    json_builder_set_member_name (builder, "detail");
    json_builder_add_string_value (builder, detail);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* Every key dflyd sent, under its D-Bus name; keys this dflyctl does not know
 * yet still come out, serialised generically. */
static char *
status_to_json (GVariant *status)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) object = json_object_new ();
  GVariantIter iter;
  const char  *key;
  GVariant    *value;

  g_variant_iter_init (&iter, status);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
    JsonNode *node;

    if (g_str_equal (key, "roles") && g_variant_is_of_type (value, G_VARIANT_TYPE ("a(sss)")))
      node = roles_to_json (value);
    else
      node = json_gvariant_serialize (value);
    json_object_set_member (object, key, node);
  }
  json_node_set_object (root, object);
  return dflyctl_json_to_text (root);
}

static char *
status_to_text (GVariant *status)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GVariant) roles = NULL;
  g_autofree char *version = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *uptime_text = NULL;
  g_autofree char *host_id = NULL;
  g_autofree char *host_type = NULL;
  guint32          pid;
  guint64          uptime, started, succeeded, failed;

  if (!g_variant_lookup (status, "version", "s", &version))
    version = g_strdup ("?");
  if (!g_variant_lookup (status, "config-path", "s", &config_path))
    config_path = g_strdup ("?");
  pid_text = g_variant_lookup (status, "pid", "u", &pid) ? g_strdup_printf ("%u", (guint) pid)
                                                         : g_strdup ("?");
  uptime_text = g_variant_lookup (status, "uptime-seconds", "t", &uptime) ? format_duration (uptime)
                                                                          : g_strdup ("?");

  /* TRANSLATORS: dflyd VERSION, pid PID, up DURATION */
  g_string_append_printf (out, _ ("dflyd %s, pid %s, up %s"), version, pid_text, uptime_text);
  g_string_append_c (out, '\n');
  /* TRANSLATORS: the path of the configuration file dflyd read */
  g_string_append_printf (out, _ ("config: %s"), or_placeholder (config_path, "?"));
  g_string_append_c (out, '\n');
  if (g_variant_lookup (status, "host-id", "s", &host_id)) {
    if (!g_variant_lookup (status, "host-type", "s", &host_type))
      host_type = g_strdup ("?");
    /* TRANSLATORS: this host as announced to schedulers: "host: ID (TYPE)" */
    g_string_append_printf (out, _ ("host: %s (%s)"), host_id, host_type);
    g_string_append_c (out, '\n');
  }
  if (g_variant_lookup (status, "tasks-started", "t", &started) &&
      g_variant_lookup (status, "tasks-succeeded", "t", &succeeded) &&
      g_variant_lookup (status, "tasks-failed", "t", &failed)) {
    /* TRANSLATORS: downloads since dflyd started */
    g_string_append_printf (out,
                            _ ("tasks: %" G_GUINT64_FORMAT " started, %" G_GUINT64_FORMAT
                               " succeeded, %" G_GUINT64_FORMAT " failed"),
                            started, succeeded, failed);
    g_string_append_c (out, '\n');
  }

  roles = g_variant_lookup_value (status, "roles", G_VARIANT_TYPE ("a(sss)"));
  if (roles == NULL)
    return g_string_free (g_steal_pointer (&out), FALSE);

  if (g_variant_n_children (roles) == 0) {
    g_string_append_printf (out, "%s\n", _ ("no roles enabled"));
  } else {
    gsize        widths[2] = { 0, 0 };
    GVariantIter iter;
    const char  *name, *state, *detail;

    g_variant_iter_init (&iter, roles);
    while (g_variant_iter_next (&iter, "(&s&s&s)", &name, &state, &detail)) {
      widths[0] = MAX (widths[0], display_width (name));
      widths[1] = MAX (widths[1], display_width (state));
    }
    g_variant_iter_init (&iter, roles);
    while (g_variant_iter_next (&iter, "(&s&s&s)", &name, &state, &detail)) {
      const char *cells[] = { name, state, detail };

      append_row (out, "  ", cells, widths, G_N_ELEMENTS (cells));
    }
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_status (DflyctlFormat format, GVariant *status)
{
  g_return_val_if_fail (g_variant_is_of_type (status, G_VARIANT_TYPE_VARDICT), NULL);

  if (format == DFLYCTL_FORMAT_JSON)
    return status_to_json (status);
  return status_to_text (status);
}

static char *
plugins_to_json (GVariant *plugins)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  static const char *const fields[] = { "name", "kind", "version", "path", "state", "reason" };
  GVariantIter             iter;
  GVariant                *entry;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, plugins);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL) {
    json_builder_begin_object (builder);
    for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
      g_autoptr (GVariant) field = g_variant_get_child_value (entry, i);

      json_builder_set_member_name (builder, fields[i]);
      json_builder_add_string_value (builder, g_variant_get_string (field, NULL));
    }
    json_builder_end_object (builder);
    g_variant_unref (entry);
  }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  return dflyctl_json_to_text (root);
}

static char *
plugins_to_text (GVariant *plugins)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char  *headers[] = { _ ("NAME"), _ ("KIND"), _ ("VERSION"), _ ("STATE"), _ ("PATH") };
  gsize        widths[G_N_ELEMENTS (headers)] = { 0 };
  GVariantIter iter;
  const char  *name, *kind, *version, *path, *state, *reason;

  if (g_variant_n_children (plugins) == 0)
    return g_strdup_printf ("%s\n", _ ("no plugins found in the plugin directories"));

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    widths[i] = display_width (headers[i]);
  g_variant_iter_init (&iter, plugins);
  while (
    g_variant_iter_next (&iter, "(&s&s&s&s&s&s)", &name, &kind, &version, &path, &state, &reason)) {
    const char *cells[] = { or_placeholder (name, "-"), or_placeholder (kind, "-"),
                            or_placeholder (version, "-"), or_placeholder (state, "-") };

    for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
      widths[i] = MAX (widths[i], display_width (cells[i]));
  }

  append_row (out, "", headers, widths, G_N_ELEMENTS (headers));
  g_variant_iter_init (&iter, plugins);
  while (
    g_variant_iter_next (&iter, "(&s&s&s&s&s&s)", &name, &kind, &version, &path, &state, &reason)) {
    const char *cells[] = { or_placeholder (name, "-"), or_placeholder (kind, "-"),
                            or_placeholder (version, "-"), or_placeholder (state, "-"),
                            or_placeholder (path, "-") };

    append_row (out, "", cells, widths, G_N_ELEMENTS (cells));
    if (*reason != '\0') {
      /* TRANSLATORS: printed under a plugin dflyd did not load */
      g_string_append_printf (out, _ ("  reason: %s"), reason);
      g_string_append_c (out, '\n');
    }
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_plugins (DflyctlFormat format, GVariant *plugins)
{
  g_return_val_if_fail (g_variant_is_of_type (plugins, G_VARIANT_TYPE ("a(ssssss)")), NULL);

  if (format == DFLYCTL_FORMAT_JSON)
    return plugins_to_json (plugins);
  return plugins_to_text (plugins);
}

char *
dflyctl_output_changes (DflyctlFormat format, GVariant *changes)
{
  g_autoptr (GString) out = NULL;
  GVariantIter iter;
  const char  *line;

  g_return_val_if_fail (g_variant_is_of_type (changes, G_VARIANT_TYPE_STRING_ARRAY), NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "changes");
    json_builder_begin_array (builder);
    g_variant_iter_init (&iter, changes);
    while (g_variant_iter_next (&iter, "&s", &line))
      json_builder_add_string_value (builder, line);
    json_builder_end_array (builder);
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    return dflyctl_json_to_text (root);
  }

  if (g_variant_n_children (changes) == 0)
    return g_strdup_printf ("%s\n", _ ("no changes"));
  out = g_string_new (NULL);
  g_variant_iter_init (&iter, changes);
  while (g_variant_iter_next (&iter, "&s", &line))
    g_string_append_printf (out, "%s\n", line);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_version (DflyctlFormat format, const char *client_version,
                        const char *daemon_version)
{
  g_return_val_if_fail (client_version != NULL, NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "dflyctl");
    json_builder_add_string_value (builder, client_version);
    json_builder_set_member_name (builder, "dflyd");
    if (daemon_version != NULL)
      json_builder_add_string_value (builder, daemon_version);
    else
      json_builder_add_null_value (builder);
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    return dflyctl_json_to_text (root);
  }

  if (daemon_version == NULL)
    return g_strdup_printf ("dflyctl %s\n%s\n", client_version, _ ("dflyd: not reachable"));
  return g_strdup_printf ("dflyctl %s\ndflyd %s\n", client_version, daemon_version);
}

/* ---- downloads and tasks ---- */

char *
dflyctl_format_bytes (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double                   value = (double) bytes;
  guint                    unit = 0;

  if (bytes < 1024)
    return g_strdup_printf ("%u B", (guint) bytes);
  value /= 1024.0;
  /* Round first, so 1023.97 KiB shows as 1.0 MiB and not as 1024.0 KiB. */
  while (value >= 1024.0 - 0.05 && unit + 1 < G_N_ELEMENTS (units)) {
    value /= 1024.0;
    unit++;
  }
  return g_strdup_printf ("%.1f %s", value, units[unit]);
}

char *
dflyctl_format_rate (double bytes_per_second)
{
  static const char *const units[] = { "B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s" };
  double                   value = MAX (bytes_per_second, 0.0);
  guint                    unit = 0;

  while (value >= 1024.0 - 0.5 && unit + 1 < G_N_ELEMENTS (units)) {
    value /= 1024.0;
    unit++;
  }
  if (unit > 0 && value < 9.95)
    return g_strdup_printf ("%.1f %s", value, units[unit]);
  return g_strdup_printf ("%.0f %s", value, units[unit]);
}

char *
dflyctl_format_age (gint64 then, gint64 now)
{
  g_autofree char *duration = NULL;

  if (then <= 0)
    return g_strdup ("-");
  if (now - then < 1)
    return g_strdup (_ ("just now"));
  duration = format_duration ((guint64) (now - then));
  /* TRANSLATORS: %s is a duration such as "3m 4s" */
  return g_strdup_printf (_ ("%s ago"), duration);
}

char *
dflyctl_short_task_id (const char *task_id)
{
  return g_strndup (task_id, 12);
}

/* Every key of a vardict under its D-Bus name, keys this dflyctl does not
 * know included. */
static JsonNode *
vardict_to_json (GVariant *dict)
{
  g_autoptr (JsonObject) object = json_object_new ();
  JsonNode    *node = json_node_new (JSON_NODE_OBJECT);
  GVariantIter iter;
  const char  *key;
  GVariant    *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    json_object_set_member (object, key, json_gvariant_serialize (value));
  json_node_set_object (node, object);
  return node;
}

static char *
lookup_string (GVariant *dict, const char *key, const char *placeholder)
{
  char *value = NULL;

  if (!g_variant_lookup (dict, key, "s", &value) || *value == '\0') {
    g_free (value);
    return g_strdup (placeholder);
  }
  return value;
}

/* "512.0 MiB/1.0 GiB", "512.0 MiB/?" while the size is unknown. */
static char *
format_done_size (GVariant *task)
{
  g_autofree char *done = NULL;
  g_autofree char *size = NULL;
  guint64          completed;
  gint64           length;

  done = g_variant_lookup (task, "completed-length", "t", &completed)
           ? dflyctl_format_bytes (completed)
           : g_strdup ("?");
  size = g_variant_lookup (task, "content-length", "x", &length) && length >= 0
           ? dflyctl_format_bytes ((guint64) length)
           : g_strdup ("?");
  return g_strdup_printf ("%s/%s", done, size);
}

static char *
format_piece_length (GVariant *task)
{
  guint64 piece_length;

  if (!g_variant_lookup (task, "piece-length", "t", &piece_length) || piece_length == 0)
    return g_strdup ("-");
  return dflyctl_format_bytes (piece_length);
}

static char *
format_last_used (GVariant *task, gint64 now)
{
  gint64 last_used;

  if (!g_variant_lookup (task, "last-used", "x", &last_used))
    return g_strdup ("-");
  return dflyctl_format_age (last_used, now);
}

/* Where a task's bytes came from: "origin", "parents" or "parents 40%". */
static char *
format_source (GVariant *task)
{
  guint64 completed = 0, from_parents = 0;

  if (!g_variant_lookup (task, "completed-length", "t", &completed) ||
      !g_variant_lookup (task, "from-parents", "t", &from_parents) || completed == 0)
    return g_strdup ("-");
  if (from_parents == 0)
    /* TRANSLATORS: a task's bytes all came from the origin */
    return g_strdup (_ ("origin"));
  if (from_parents >= completed)
    /* TRANSLATORS: a task's bytes all came from other peers */
    return g_strdup (_ ("parents"));
  /* TRANSLATORS: "parents 40%": that share came from other peers, the rest from the origin */
  return g_strdup_printf (_ ("parents %u%%"), (guint) (from_parents * 100 / completed));
}

enum { TASK_ID, TASK_STATE, TASK_DONE, TASK_SOURCE, TASK_PIECE, TASK_USED, TASK_URL, TASK_COLUMNS };

static char *
tasks_to_text (GVariant *tasks, gboolean long_ids, gint64 now)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  const char *headers[TASK_COLUMNS] = { _ ("ID"),    _ ("STATE"),     _ ("DONE/SIZE"), _ ("SOURCE"),
                                        _ ("PIECE"), _ ("LAST USED"), _ ("URL") };
  gsize       widths[TASK_COLUMNS] = { 0 };
  GVariantIter iter;
  GVariant    *task;

  if (g_variant_n_children (tasks) == 0)
    return g_strdup_printf ("%s\n", _ ("no tasks"));

  g_variant_iter_init (&iter, tasks);
  while ((task = g_variant_iter_next_value (&iter)) != NULL) {
    char           **cells = g_new0 (char *, TASK_COLUMNS + 1);
    g_autofree char *id = lookup_string (task, "id", "?");

    cells[TASK_ID] = long_ids ? g_steal_pointer (&id) : dflyctl_short_task_id (id);
    cells[TASK_STATE] = lookup_string (task, "state", "?");
    cells[TASK_DONE] = format_done_size (task);
    cells[TASK_SOURCE] = format_source (task);
    cells[TASK_PIECE] = format_piece_length (task);
    cells[TASK_USED] = format_last_used (task, now);
    cells[TASK_URL] = lookup_string (task, "url", "?");
    g_ptr_array_add (rows, cells);
    g_variant_unref (task);
  }

  for (guint i = 0; i < TASK_COLUMNS; i++)
    widths[i] = display_width (headers[i]);
  for (guint r = 0; r < rows->len; r++) {
    char **cells = g_ptr_array_index (rows, r);

    for (guint i = 0; i < TASK_COLUMNS; i++)
      widths[i] = MAX (widths[i], display_width (cells[i]));
  }
  append_row (out, "", headers, widths, TASK_COLUMNS);
  for (guint r = 0; r < rows->len; r++)
    append_row (out, "", (const char *const *) g_ptr_array_index (rows, r), widths, TASK_COLUMNS);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_tasks (DflyctlFormat format, GVariant *tasks, gboolean long_ids, gint64 now)
{
  g_return_val_if_fail (g_variant_is_of_type (tasks, G_VARIANT_TYPE ("aa{sv}")), NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonArray) array = json_array_new ();
    g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
    GVariantIter iter;
    GVariant    *task;

    g_variant_iter_init (&iter, tasks);
    while ((task = g_variant_iter_next_value (&iter)) != NULL) {
      json_array_add_element (array, vardict_to_json (task));
      g_variant_unref (task);
    }
    json_node_set_array (root, array);
    return dflyctl_json_to_text (root);
  }
  return tasks_to_text (tasks, long_ids, now);
}

static char *
format_completed (GVariant *task)
{
  g_autofree char *done = NULL;
  g_autofree char *size = NULL;
  guint64          completed = 0;
  gint64           length = -1;
  gboolean         have_completed = g_variant_lookup (task, "completed-length", "t", &completed);

  done = have_completed ? dflyctl_format_bytes (completed) : g_strdup ("?");
  if (!g_variant_lookup (task, "content-length", "x", &length) || length < 0)
    /* TRANSLATORS: completed bytes of a download whose size is not known yet */
    return g_strdup_printf (_ ("%s of an unknown size"), done);
  size = dflyctl_format_bytes ((guint64) length);
  if (!have_completed)
    return g_strdup_printf ("?/%s", size);
  /* TRANSLATORS: "512.0 MiB of 1.0 GiB (50%)" */
  return g_strdup_printf (_ ("%s of %s (%u%%)"), done, size,
                          length == 0 ? 100
                                      : (guint) MIN (100, completed * 100 / (guint64) length));
}

static char *
format_pieces (GVariant *task)
{
  g_autofree char *piece = format_piece_length (task);
  guint32          count;

  if (!g_variant_lookup (task, "total-pieces", "u", &count))
    return g_steal_pointer (&piece);
  return g_strdup_printf ("%u × %s", (guint) count, piece);
}

#define SHOWN_PARENTS 8

static gint
compare_parent_bytes (gconstpointer a, gconstpointer b)
{
  guint64 x, y;

  g_variant_get (*(GVariant **) a, "{&st}", NULL, &x);
  g_variant_get (*(GVariant **) b, "{&st}", NULL, &y);
  return x < y ? 1 : x > y ? -1 : 0;
}

/* "127.0.0.2-peer-1 (12.0 MiB), …": the parents that gave most, first;
 * "-" when the task took nothing from parents. */
static char *
format_parents (GVariant *task)
{
  g_autoptr (GVariant) parents = g_variant_lookup_value (task, "parents", G_VARIANT_TYPE ("a{st}"));
  g_autoptr (GPtrArray) sorted = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr (GString) text = g_string_new (NULL);

  if (parents == NULL || g_variant_n_children (parents) == 0)
    return g_strdup ("-");
  for (gsize i = 0; i < g_variant_n_children (parents); i++)
    g_ptr_array_add (sorted, g_variant_get_child_value (parents, i));
  g_ptr_array_sort (sorted, compare_parent_bytes);
  for (guint i = 0; i < MIN (sorted->len, SHOWN_PARENTS); i++) {
    const char      *id;
    guint64          bytes;
    g_autofree char *size = NULL;

    g_variant_get (g_ptr_array_index (sorted, i), "{&st}", &id, &bytes);
    size = dflyctl_format_bytes (bytes);
    g_string_append_printf (text, "%s%s (%s)", i > 0 ? ", " : "", id, size);
  }
  if (sorted->len > SHOWN_PARENTS)
    /* TRANSLATORS: after the list of a task's parents */
    g_string_append_printf (
      text,
      g_dngettext (GETTEXT_PACKAGE, ", and %u more", ", and %u more", sorted->len - SHOWN_PARENTS),
      sorted->len - SHOWN_PARENTS);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
task_to_text (GVariant *task, gint64 now)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *id = lookup_string (task, "id", "?");
  g_autofree char *url = lookup_string (task, "url", "?");
  g_autofree char *state = lookup_string (task, "state", "?");
  g_autofree char *completed = format_completed (task);
  g_autofree char *pieces = format_pieces (task);
  g_autofree char *source = format_source (task);
  g_autofree char *parents = format_parents (task);
  g_autofree char *last_used = format_last_used (task, now);
  gboolean         running;
  const char      *running_text =
    g_variant_lookup (task, "running", "b", &running) ? (running ? _ ("yes") : _ ("no")) : "?";
  /* TRANSLATORS: the labels of "dflyctl task show", one per line */
  const char *labels[] = { _ ("id:"),        _ ("url:"),       _ ("state:"),
                           _ ("completed:"), _ ("source:"),    _ ("parents:"),
                           _ ("pieces:"),    _ ("last used:"), _ ("running:") };
  const char *values[] = { id,      url,    state,     completed,   source,
                           parents, pieces, last_used, running_text };
  gsize       width = 0;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    width = MAX (width, display_width (labels[i]));
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++) {
    append_padded (out, labels[i], width + 1);
    g_string_append_printf (out, "%s\n", values[i]);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_task (DflyctlFormat format, GVariant *task, gint64 now)
{
  g_return_val_if_fail (g_variant_is_of_type (task, G_VARIANT_TYPE_VARDICT), NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonNode) root = vardict_to_json (task);

    return dflyctl_json_to_text (root);
  }
  return task_to_text (task, now);
}

char *
dflyctl_output_cache_report (DflyctlFormat format, GVariant *report)
{
  g_autoptr (GString) out = NULL;
  g_autofree char *freed_text = NULL;
  g_autofree char *bytes_text = NULL;
  g_autofree char *tasks_text = NULL;
  guint64          freed, bytes, quota;
  guint32          tasks;

  g_return_val_if_fail (g_variant_is_of_type (report, G_VARIANT_TYPE_VARDICT), NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonNode) root = vardict_to_json (report);

    return dflyctl_json_to_text (root);
  }

  out = g_string_new (NULL);
  freed_text = g_variant_lookup (report, "freed-bytes", "t", &freed) ? dflyctl_format_bytes (freed)
                                                                     : g_strdup ("?");
  /* TRANSLATORS: what garbage collection removed, e.g. "freed 1.5 GiB" */
  g_string_append_printf (out, _ ("freed %s"), freed_text);
  g_string_append_c (out, '\n');

  tasks_text =
    g_variant_lookup (report, "tasks", "u", &tasks)
      ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u task", "%u tasks", tasks), (guint) tasks)
      : g_strdup ("?");
  bytes_text =
    g_variant_lookup (report, "bytes", "t", &bytes) ? dflyctl_format_bytes (bytes) : g_strdup ("?");
  if (g_variant_lookup (report, "quota", "t", &quota) && quota > 0) {
    g_autofree char *quota_text = dflyctl_format_bytes (quota);

    /* TRANSLATORS: "cache: 12 tasks, 3.4 GiB of a 10.0 GiB quota" */
    g_string_append_printf (out, _ ("cache: %s, %s of a %s quota"), tasks_text, bytes_text,
                            quota_text);
  } else {
    /* TRANSLATORS: "cache: 12 tasks, 3.4 GiB" */
    g_string_append_printf (out, _ ("cache: %s, %s"), tasks_text, bytes_text);
  }
  g_string_append_c (out, '\n');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "a, b" of an "as", or @placeholder when empty or missing. */
static char *
lookup_list (GVariant *dict, const char *key, const char *placeholder)
{
  g_autofree const char **items = NULL;

  if (!g_variant_lookup (dict, key, "^a&s", &items) || items[0] == NULL)
    return g_strdup (placeholder);
  return g_strjoinv (", ", (char **) items);
}

char *
dflyctl_output_cert (DflyctlFormat format, GVariant *cert)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *host_id = lookup_string (cert, "host-id", "-");
  g_autofree char *roles = lookup_list (cert, "roles", _ ("none"));
  g_autofree char *subject = lookup_string (cert, "subject", "?");
  g_autofree char *issuer = lookup_string (cert, "issuer", "?");
  g_autofree char *serial = lookup_string (cert, "serial", "?");
  g_autofree char *not_before = lookup_string (cert, "not-before", "?");
  g_autofree char *not_after = lookup_string (cert, "not-after", "?");
  g_autofree char *ips = lookup_list (cert, "ips", "-");
  g_autofree char *dns_names = lookup_list (cert, "dns-names", "-");
  g_autofree char *until = NULL;
  gboolean         is_ca = FALSE, expired = FALSE;
  const char      *labels[] = { _ ("host id:"),    _ ("roles:"),       _ ("subject:"),
                                _ ("issuer:"),     _ ("serial:"),      _ ("CA:"),
                                _ ("valid from:"), _ ("valid until:"), _ ("IP addresses:"),
                                _ ("DNS names:") };
  const char      *values[G_N_ELEMENTS (labels)];
  gsize            width = 0;

  g_return_val_if_fail (g_variant_is_of_type (cert, G_VARIANT_TYPE_VARDICT), NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonNode) root = vardict_to_json (cert);

    return dflyctl_json_to_text (root);
  }
  g_variant_lookup (cert, "ca", "b", &is_ca);
  g_variant_lookup (cert, "expired", "b", &expired);
  /* TRANSLATORS: a certificate's end of validity, passed */
  until = expired ? g_strdup_printf (_ ("%s (expired)"), not_after) : g_strdup (not_after);
  values[0] = host_id;
  values[1] = roles;
  values[2] = subject;
  values[3] = issuer;
  values[4] = serial;
  values[5] = is_ca ? _ ("yes") : _ ("no");
  values[6] = not_before;
  values[7] = until;
  values[8] = ips;
  values[9] = dns_names;
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    width = MAX (width, display_width (labels[i]));
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++) {
    append_padded (out, labels[i], width + 1);
    g_string_append_printf (out, "%s\n", values[i]);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
dflyctl_output_task_action (DflyctlFormat format, const char *task_id, DflyctlTaskAction action)
{
  g_autofree char *line = NULL;

  g_return_val_if_fail (task_id != NULL, NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "id");
    json_builder_add_string_value (builder, task_id);
    json_builder_set_member_name (builder, "result");
    json_builder_add_string_value (builder,
                                   action == DFLYCTL_TASK_DELETED ? "deleted" : "cancelled");
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    return dflyctl_json_to_text (root);
  }
  if (action == DFLYCTL_TASK_DELETED)
    line = g_strdup_printf (_ ("task %s deleted"), task_id);
  else
    line = g_strdup_printf (_ ("task %s cancelled"), task_id);
  return g_strconcat (line, "\n", NULL);
}

char *
dflyctl_output_download (DflyctlFormat format, const DflyctlDownload *download)
{
  g_return_val_if_fail (download != NULL, NULL);

  if (format == DFLYCTL_FORMAT_JSON) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "task-id");
    if (download->task_id != NULL)
      json_builder_add_string_value (builder, download->task_id);
    else
      json_builder_add_null_value (builder);
    json_builder_set_member_name (builder, "url");
    json_builder_add_string_value (builder, download->url);
    json_builder_set_member_name (builder, "output");
    json_builder_add_string_value (builder, download->output);
    json_builder_set_member_name (builder, "result");
    json_builder_add_string_value (builder, download->result);
    json_builder_set_member_name (builder, "bytes");
    json_builder_add_int_value (builder, (gint64) MIN (download->bytes, (guint64) G_MAXINT64));
    json_builder_set_member_name (builder, "seconds");
    json_builder_add_double_value (builder, download->seconds);
    if (download->error_name != NULL) {
      json_builder_set_member_name (builder, "error");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, download->error_name);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (
        builder, download->error_message != NULL ? download->error_message : "");
      json_builder_end_object (builder);
    }
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    return dflyctl_json_to_text (root);
  }

  {
    g_autofree char *id =
      dflyctl_short_task_id (download->task_id != NULL ? download->task_id : "?");
    g_autofree char *size = dflyctl_format_bytes (download->bytes);
    g_autofree char *rate =
      dflyctl_format_rate (download->seconds > 0 ? download->bytes / download->seconds : 0);

    g_autofree char *line = NULL;

    /* TRANSLATORS: "task 3f2a9c1e0b7d: saved 1.0 GiB to /tmp/x in 2.5 s (410 MiB/s)" */
    line = g_strdup_printf (_ ("task %s: saved %s to %s in %.1f s (%s)"), id, size,
                            download->output, download->seconds, rate);
    return g_strconcat (line, "\n", NULL);
  }
}
