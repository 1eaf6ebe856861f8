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
append_row (GString *out, const char *indent, const char *const *cells,
            const gsize *widths, guint n_cells)
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

static const char *
or_placeholder (const char *text, const char *placeholder)
{
  return (text != NULL && *text != '\0') ? text : placeholder;
}

static char *
format_duration (guint64 seconds)
{
  unsigned long long days = seconds / 86400;
  guint hours = (seconds / 3600) % 24;
  guint minutes = (seconds / 60) % 60;
  guint secs = seconds % 60;

  /* Two units are enough to tell "just restarted" from "up for weeks". */
  if (days > 0)
    /* TRANSLATORS: uptime in days and hours, as in "3d 4h"; likewise below */
    return g_strdup_printf (_("%llud %uh"), days, hours);
  if (hours > 0)
    return g_strdup_printf (_("%uh %um"), hours, minutes);
  if (minutes > 0)
    return g_strdup_printf (_("%um %us"), minutes, secs);
  return g_strdup_printf (_("%us"), secs);
}

static char *
json_to_text (JsonNode *root)
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
  const char *name, *state, *detail;

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
  const char *key;
  GVariant *value;

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
  return json_to_text (root);
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
  guint32 pid;
  guint64 uptime;

  if (!g_variant_lookup (status, "version", "s", &version))
    version = g_strdup ("?");
  if (!g_variant_lookup (status, "config-path", "s", &config_path))
    config_path = g_strdup ("?");
  pid_text = g_variant_lookup (status, "pid", "u", &pid)
    ? g_strdup_printf ("%u", (guint) pid) : g_strdup ("?");
  uptime_text = g_variant_lookup (status, "uptime-seconds", "t", &uptime)
    ? format_duration (uptime) : g_strdup ("?");

  /* TRANSLATORS: dflyd VERSION, pid PID, up DURATION */
  g_string_append_printf (out, _("dflyd %s, pid %s, up %s"), version, pid_text, uptime_text);
  g_string_append_c (out, '\n');
  /* TRANSLATORS: the path of the configuration file dflyd read */
  g_string_append_printf (out, _("config: %s"), or_placeholder (config_path, "?"));
  g_string_append_c (out, '\n');

  roles = g_variant_lookup_value (status, "roles", G_VARIANT_TYPE ("a(sss)"));
  if (roles == NULL)
    return g_string_free (g_steal_pointer (&out), FALSE);

  if (g_variant_n_children (roles) == 0) {
    g_string_append_printf (out, "%s\n", _("no roles enabled"));
  } else {
    gsize widths[2] = { 0, 0 };
    GVariantIter iter;
    const char *name, *state, *detail;

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
  GVariantIter iter;
  GVariant *entry;

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
  return json_to_text (root);
}

static char *
plugins_to_text (GVariant *plugins)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *headers[] = { _("NAME"), _("KIND"), _("VERSION"), _("STATE"), _("PATH") };
  gsize widths[G_N_ELEMENTS (headers)] = { 0 };
  GVariantIter iter;
  const char *name, *kind, *version, *path, *state, *reason;

  if (g_variant_n_children (plugins) == 0)
    return g_strdup_printf ("%s\n", _("no plugins found in the plugin directories"));

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    widths[i] = display_width (headers[i]);
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s)", &name, &kind, &version, &path, &state, &reason)) {
    const char *cells[] = { or_placeholder (name, "-"), or_placeholder (kind, "-"),
                            or_placeholder (version, "-"), or_placeholder (state, "-") };

    for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
      widths[i] = MAX (widths[i], display_width (cells[i]));
  }

  append_row (out, "", headers, widths, G_N_ELEMENTS (headers));
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s)", &name, &kind, &version, &path, &state, &reason)) {
    const char *cells[] = { or_placeholder (name, "-"), or_placeholder (kind, "-"),
                            or_placeholder (version, "-"), or_placeholder (state, "-"),
                            or_placeholder (path, "-") };

    append_row (out, "", cells, widths, G_N_ELEMENTS (cells));
    if (*reason != '\0') {
      /* TRANSLATORS: printed under a plugin dflyd did not load */
      g_string_append_printf (out, _("  reason: %s"), reason);
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
  const char *line;

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
    return json_to_text (root);
  }

  if (g_variant_n_children (changes) == 0)
    return g_strdup_printf ("%s\n", _("no changes"));
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
    return json_to_text (root);
  }

  if (daemon_version == NULL)
    return g_strdup_printf ("dflyctl %s\n%s\n", client_version, _("dflyd: not reachable"));
  return g_strdup_printf ("dflyctl %s\ndflyd %s\n", client_version, daemon_version);
}
