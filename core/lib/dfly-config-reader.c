/* dfly-config-reader.c — dflyd.yaml's YAML as sections of keys and values
 *
 * The file is read through libyaml's event API rather than its document API:
 * we never build a tree of arbitrary shape, so an alias, a deep nesting or an
 * unexpected shape is refused at the first event that shows it. What is
 * kept is only what a config can hold: sections of keys whose values are
 * scalars or lists of scalars, each with its line and column. The reader
 * knows no key; dfly-config-value.c checks the values against the tables.
 */
#include "config.h"

#include <string.h>

#include <yaml.h>

#include "dfly/dfly-error.h"
#include "dfly-config-private.h"

#define CONFIG_MAX_DEPTH 8 /* we need 3: sections, keys, lists */

void
config_set_error_at (GError **error, const char *filename, const ConfigMark *mark,
                     const char *format, ...)
{
  va_list          args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
               "%s:%" G_GSIZE_FORMAT ":%" G_GSIZE_FORMAT ": %s", filename, mark->line, mark->column,
               message);
}

typedef struct {
  yaml_parser_t yaml;
  gboolean      yaml_ready;
  yaml_event_t  event;
  gboolean      have_event;
  const char   *filename;
  const char   *data;
  gsize         length;
  guint         depth;
} ConfigParser;

static void
config_parser_clear (ConfigParser *p)
{
  if (p->have_event)
    yaml_event_delete (&p->event);
  if (p->yaml_ready)
    yaml_parser_delete (&p->yaml);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ConfigParser, config_parser_clear)

static ConfigMark
mark_of (const yaml_mark_t *mark)
{
  return (ConfigMark){ .line = (gsize) mark->line + 1, .column = (gsize) mark->column + 1 };
}

G_GNUC_PRINTF (4, 5)
static void
set_error_at (GError **error, const ConfigParser *p, const yaml_mark_t *yaml_mark,
              const char *format, ...)
{
  va_list          args;
  g_autofree char *message = NULL;
  ConfigMark       mark = mark_of (yaml_mark);

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  config_set_error_at (error, p->filename, &mark, "%s", message);
}

/* libyaml reports reader errors (bad UTF-8, control bytes) by byte offset
 * only; count lines ourselves so every error has a line and column. */
static yaml_mark_t
mark_from_offset (const ConfigParser *p, gsize offset)
{
  yaml_mark_t mark = { 0 };
  gsize       end = MIN (offset, p->length);

  for (gsize i = 0; i < end; i++) {
    if (p->data[i] == '\n') {
      mark.line++;
      mark.column = 0;
    } else {
      mark.column++;
    }
  }
  mark.index = end;
  return mark;
}

static void
set_yaml_error (const ConfigParser *p, GError **error)
{
  const yaml_parser_t *y = &p->yaml;
  const char          *problem = y->problem != NULL ? y->problem : "unknown error";
  yaml_mark_t          mark = y->problem_mark;

  switch (y->error) {
  case YAML_MEMORY_ERROR:
    set_error_at (error, p, &mark, "out of memory while parsing YAML");
    return;
  case YAML_READER_ERROR:
    mark = mark_from_offset (p, y->problem_offset);
    if (y->problem_value != -1) {
      set_error_at (error, p, &mark, "YAML syntax error: %s (0x%x)", problem,
                    (unsigned) y->problem_value);
      return;
    }
    break;
  case YAML_NO_ERROR:
  case YAML_SCANNER_ERROR:
  case YAML_PARSER_ERROR:
  case YAML_COMPOSER_ERROR:
  case YAML_WRITER_ERROR:
  case YAML_EMITTER_ERROR:
    break;
  }
  if (y->context != NULL)
    set_error_at (error, p, &mark, "YAML syntax error: %s (%s)", problem, y->context);
  else
    set_error_at (error, p, &mark, "YAML syntax error: %s", problem);
}

/* Pulls the next event and refuses, wherever they occur, the YAML features
 * a config never needs: aliases (billion laughs), tags, deep nesting. */
static gboolean
next_event (ConfigParser *p, GError **error)
{
  const yaml_char_t *tag = NULL;

  if (p->have_event) {
    yaml_event_delete (&p->event);
    p->have_event = FALSE;
  }
  if (!yaml_parser_parse (&p->yaml, &p->event)) {
    set_yaml_error (p, error);
    return FALSE;
  }
  p->have_event = TRUE;

  switch (p->event.type) {
  case YAML_ALIAS_EVENT:
    set_error_at (error, p, &p->event.start_mark, "aliases are not supported");
    return FALSE;
  case YAML_SCALAR_EVENT:
    tag = p->event.data.scalar.tag;
    break;
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT:
    tag = p->event.type == YAML_SEQUENCE_START_EVENT ? p->event.data.sequence_start.tag
                                                     : p->event.data.mapping_start.tag;
    if (++p->depth > CONFIG_MAX_DEPTH) {
      set_error_at (error, p, &p->event.start_mark, "nesting deeper than %d levels",
                    CONFIG_MAX_DEPTH);
      return FALSE;
    }
    break;
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    p->depth--;
    break;
  case YAML_NO_EVENT:
  case YAML_STREAM_START_EVENT:
  case YAML_STREAM_END_EVENT:
  case YAML_DOCUMENT_START_EVENT:
  case YAML_DOCUMENT_END_EVENT:
    break;
  }
  if (tag != NULL) {
    set_error_at (error, p, &p->event.start_mark, "YAML tags are not supported");
    return FALSE;
  }
  return TRUE;
}

static gboolean
expect_event (ConfigParser *p, yaml_event_type_t type, GError **error)
{
  if (!next_event (p, error))
    return FALSE;
  if (p->event.type != type) {
    /* libyaml guarantees the stream's shape; this is only a safety net. */
    set_error_at (error, p, &p->event.start_mark, "unexpected YAML event");
    return FALSE;
  }
  return TRUE;
}

static const char *
scalar_value (const ConfigParser *p)
{
  return (const char *) p->event.data.scalar.value;
}

/* A "\0" escape in a quoted scalar would cut the C string short. */
static gboolean
scalar_has_nul (const ConfigParser *p)
{
  return strlen (scalar_value (p)) != p->event.data.scalar.length;
}

/* YAML's null: an empty or ~/null plain scalar, as in "key:" or "key: ~". */
static gboolean
scalar_is_null (const ConfigParser *p)
{
  const char *v = scalar_value (p);

  if (p->event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  return v[0] == '\0' || g_str_equal (v, "~") || g_str_equal (v, "null") ||
         g_str_equal (v, "Null") || g_str_equal (v, "NULL");
}

/* What the current event is, for "expected X, found Y". */
static const char *
event_kind (const ConfigParser *p)
{
  switch (p->event.type) {
  case YAML_SCALAR_EVENT:
    return scalar_is_null (p) ? "null" : "a scalar";
  case YAML_SEQUENCE_START_EVENT:
    return "a list";
  case YAML_MAPPING_START_EVENT:
    return "a mapping";
  case YAML_NO_EVENT:
  case YAML_STREAM_START_EVENT:
  case YAML_STREAM_END_EVENT:
  case YAML_DOCUMENT_START_EVENT:
  case YAML_DOCUMENT_END_EVENT:
  case YAML_ALIAS_EVENT:
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    break;
  }
  return "something else";
}

void
config_node_free (ConfigNode *node)
{
  if (node == NULL)
    return;
  g_free (node->text);
  g_clear_pointer (&node->items, g_ptr_array_unref);
  g_free (node);
}

static void
config_entry_free (ConfigEntry *entry)
{
  g_free (entry->key);
  config_node_free (entry->value);
  g_free (entry);
}

static void
config_section_free (ConfigSection *section)
{
  g_free (section->name);
  config_node_free (section->shape);
  g_ptr_array_unref (section->entries);
  g_free (section);
}

void
config_document_free (ConfigDocument *document)
{
  if (document == NULL)
    return;
  g_free (document->filename);
  g_ptr_array_unref (document->sections);
  g_free (document);
}

ConfigSection *
config_document_lookup (ConfigDocument *document, const char *name)
{
  for (guint i = 0; document != NULL && i < document->sections->len; i++) {
    ConfigSection *section = g_ptr_array_index (document->sections, i);

    if (g_str_equal (section->name, name))
      return section;
  }
  return NULL;
}

/* The current event as a node. A mapping, or a list inside a list, is kept
 * as its kind alone: no key takes one, so reading stops there. */
static ConfigNode *
node_new (ConfigParser *p, ConfigNodeKind kind)
{
  ConfigNode *node = g_new0 (ConfigNode, 1);

  node->kind = kind;
  node->mark = mark_of (&p->event.start_mark);
  if (kind == CONFIG_NODE_SCALAR || kind == CONFIG_NODE_NULL) {
    node->text = g_strdup (scalar_value (p));
    node->has_nul = scalar_has_nul (p);
  }
  return node;
}

/* A value; the current event is its first. *stop is set when the value is
 * one no key takes. */
static ConfigNode *
read_node (ConfigParser *p, gboolean *stop, GError **error)
{
  g_autoptr (ConfigNode) list = NULL;

  switch (p->event.type) {
  case YAML_SCALAR_EVENT:
    return node_new (p, scalar_is_null (p) ? CONFIG_NODE_NULL : CONFIG_NODE_SCALAR);
  case YAML_MAPPING_START_EVENT:
    *stop = TRUE;
    return node_new (p, CONFIG_NODE_MAPPING);
  case YAML_SEQUENCE_START_EVENT:
    break;
  case YAML_NO_EVENT:
  case YAML_STREAM_START_EVENT:
  case YAML_STREAM_END_EVENT:
  case YAML_DOCUMENT_START_EVENT:
  case YAML_DOCUMENT_END_EVENT:
  case YAML_ALIAS_EVENT:
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    set_error_at (error, p, &p->event.start_mark, "unexpected YAML event");
    return NULL;
  }

  list = node_new (p, CONFIG_NODE_LIST);
  list->items = g_ptr_array_new_with_free_func ((GDestroyNotify) config_node_free);
  for (;;) {
    if (!next_event (p, error))
      return NULL;
    if (p->event.type == YAML_SEQUENCE_END_EVENT)
      return g_steal_pointer (&list);
    if (p->event.type == YAML_SCALAR_EVENT) {
      /* An item is text, whatever its style: "~" is a name, not null. */
      g_ptr_array_add (list->items, node_new (p, CONFIG_NODE_SCALAR));
      continue;
    }
    g_ptr_array_add (list->items, node_new (p, p->event.type == YAML_SEQUENCE_START_EVENT
                                                 ? CONFIG_NODE_LIST
                                                 : CONFIG_NODE_MAPPING));
    *stop = TRUE;
    return g_steal_pointer (&list);
  }
}

/* Reads a mapping key; FALSE with an error unless it is a plain string. */
static gboolean
read_mapping_key (ConfigParser *p, GError **error)
{
  if (p->event.type != YAML_SCALAR_EVENT) {
    set_error_at (error, p, &p->event.start_mark, "expected a key, found %s", event_kind (p));
    return FALSE;
  }
  if (scalar_has_nul (p)) {
    set_error_at (error, p, &p->event.start_mark, "key contains a NUL character");
    return FALSE;
  }
  return TRUE;
}

/* Moves to the next key of the mapping being read: *end at its end, else
 * FALSE with an error unless the key is a plain string. */
static gboolean
next_key (ConfigParser *p, gboolean *end, GError **error)
{
  if (!next_event (p, error))
    return FALSE;
  *end = p->event.type == YAML_MAPPING_END_EVENT;
  return *end || read_mapping_key (p, error);
}

/* The keys of one section; the current event is the mapping's start. */
static gboolean
read_section (ConfigParser *p, ConfigDocument *document, ConfigSection *section, GError **error)
{
  for (;;) {
    ConfigEntry *entry;
    gboolean     end = FALSE;

    if (!next_key (p, &end, error))
      return FALSE;
    if (end)
      return TRUE;
    for (guint i = 0; i < section->entries->len; i++) {
      ConfigEntry *seen = g_ptr_array_index (section->entries, i);

      if (g_str_equal (seen->key, scalar_value (p))) {
        g_autofree char *full = g_strdup_printf ("%s.%s", section->name, seen->key);
        g_autofree char *quoted = config_quote_value (full);

        set_error_at (error, p, &p->event.start_mark, "duplicate key %s", quoted);
        return FALSE;
      }
    }
    entry = g_new0 (ConfigEntry, 1);
    entry->key = g_strdup (scalar_value (p));
    entry->mark = mark_of (&p->event.start_mark);
    g_ptr_array_add (section->entries, entry);
    if (!next_event (p, error))
      return FALSE;
    entry->value = read_node (p, &document->cut_short, error);
    if (entry->value == NULL || document->cut_short)
      return entry->value != NULL;
  }
}

/* The top-level mapping of sections; the current event is its start. */
static gboolean
read_sections (ConfigParser *p, ConfigDocument *document, GError **error)
{
  for (;;) {
    ConfigSection *section;
    gboolean       end = FALSE;

    if (!next_key (p, &end, error))
      return FALSE;
    if (end)
      return TRUE;
    if (config_document_lookup (document, scalar_value (p)) != NULL) {
      g_autofree char *quoted = config_quote_value (scalar_value (p));

      set_error_at (error, p, &p->event.start_mark, "duplicate section %s", quoted);
      return FALSE;
    }
    section = g_new0 (ConfigSection, 1);
    section->name = g_strdup (scalar_value (p));
    section->mark = mark_of (&p->event.start_mark);
    section->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) config_entry_free);
    g_ptr_array_add (document->sections, section);

    if (!next_event (p, error))
      return FALSE;
    /* "daemon:" with every key commented out, as in the shipped file. */
    if (p->event.type == YAML_SCALAR_EVENT && scalar_is_null (p))
      continue;
    if (p->event.type != YAML_MAPPING_START_EVENT) {
      /* Whose error this is depends on whether the section is known. */
      section->shape =
        node_new (p, p->event.type == YAML_SCALAR_EVENT ? CONFIG_NODE_SCALAR : CONFIG_NODE_LIST);
      document->cut_short = TRUE;
      return TRUE;
    }
    if (!read_section (p, document, section, error))
      return FALSE;
    if (document->cut_short)
      return TRUE;
  }
}

static gboolean
read_stream (ConfigParser *p, ConfigDocument *document, GError **error)
{
  if (!expect_event (p, YAML_STREAM_START_EVENT, error))
    return FALSE;
  if (!next_event (p, error))
    return FALSE;
  if (p->event.type == YAML_STREAM_END_EVENT)
    return TRUE; /* an empty file, or only comments */
  if (p->event.type != YAML_DOCUMENT_START_EVENT) {
    set_error_at (error, p, &p->event.start_mark, "unexpected YAML event");
    return FALSE;
  }

  if (!next_event (p, error))
    return FALSE;
  if (p->event.type == YAML_MAPPING_START_EVENT) {
    if (!read_sections (p, document, error))
      return FALSE;
    if (document->cut_short)
      return TRUE;
  } else if (p->event.type != YAML_SCALAR_EVENT || !scalar_is_null (p)) {
    set_error_at (error, p, &p->event.start_mark,
                  "the top level must be a mapping of sections, found %s", event_kind (p));
    return FALSE;
  }

  if (!expect_event (p, YAML_DOCUMENT_END_EVENT, error))
    return FALSE;
  if (!next_event (p, error))
    return FALSE;
  if (p->event.type == YAML_DOCUMENT_START_EVENT) {
    set_error_at (error, p, &p->event.start_mark, "multiple documents are not supported");
    return FALSE;
  }
  if (p->event.type != YAML_STREAM_END_EVENT) {
    set_error_at (error, p, &p->event.start_mark, "unexpected YAML event");
    return FALSE;
  }
  return TRUE;
}

static gboolean
parser_init (ConfigParser *p, const char *data, gsize length, const char *filename, GError **error)
{
  p->filename = filename;
  p->data = data != NULL ? data : "";
  p->length = length;
  if (!yaml_parser_initialize (&p->yaml)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: out of memory while parsing YAML", filename);
    return FALSE;
  }
  p->yaml_ready = TRUE;
  yaml_parser_set_input_string (&p->yaml, (const unsigned char *) p->data, length);
  return TRUE;
}

ConfigDocument *
config_document_read (const char *data, gsize length, const char *filename, GError **error)
{
  g_auto (ConfigParser) p = { 0 };
  g_autoptr (ConfigDocument) document = g_new0 (ConfigDocument, 1);

  document->filename = g_strdup (filename);
  document->sections = g_ptr_array_new_with_free_func ((GDestroyNotify) config_section_free);
  if (!parser_init (&p, data, length, filename, error))
    return NULL;
  if (!read_stream (&p, document, error))
    return NULL;
  return g_steal_pointer (&document);
}

ConfigNode *
config_node_read (const char *text, GError **error)
{
  g_auto (ConfigParser) p = { 0 };
  g_autoptr (ConfigNode) node = NULL;
  gboolean stop = FALSE;

  if (!parser_init (&p, text, strlen (text), "<default>", error))
    return NULL;
  if (!expect_event (&p, YAML_STREAM_START_EVENT, error) ||
      !expect_event (&p, YAML_DOCUMENT_START_EVENT, error) || !next_event (&p, error))
    return NULL;
  node = read_node (&p, &stop, error);
  if (node == NULL)
    return NULL;
  if (stop || !expect_event (&p, YAML_DOCUMENT_END_EVENT, error)) {
    g_clear_error (error);
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "\"%s\" is not one scalar or list of scalars", text);
    return NULL;
  }
  return g_steal_pointer (&node);
}
