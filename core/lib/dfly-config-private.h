/* dfly-config-private.h — what the config's reader, values and sections share
 *
 * Reading dflyd.yaml has two steps. The reader (dfly-config-reader.c) turns
 * the YAML into sections of keys and values with their file positions,
 * knowing no key: so the sections of plugins not loaded yet can wait. The
 * values (dfly-config-value.c) then check each against its key's table
 * entry and store it in a struct, the daemon's DflyConfig or a plugin's
 * settings (dfly-config-section.c).
 */
#pragma once

#include "dfly/dfly-config.h"

G_BEGIN_DECLS

#define CONFIG_MAX_LIST_ITEMS  32
#define CONFIG_MAX_NAME_LENGTH 64
#define CONFIG_MAX_PATH_LENGTH 4095

/* 1-based, as an editor shows them. */
typedef struct {
  gsize line;
  gsize column;
} ConfigMark;

typedef enum {
  CONFIG_NODE_SCALAR,
  CONFIG_NODE_NULL, /* "key:", "key: ~" */
  CONFIG_NODE_LIST,
  CONFIG_NODE_MAPPING, /* never a valid value: its content is not read */
} ConfigNodeKind;

typedef struct {
  ConfigNodeKind kind;
  ConfigMark     mark;
  char          *text;    /* a scalar's (or null's) text */
  gboolean       has_nul; /* a "\0" escape cut text short */
  GPtrArray     *items;   /* a list's ConfigNode *; a list inside is not read */
} ConfigNode;

typedef struct {
  char       *key;
  ConfigMark  mark; /* of the key */
  ConfigNode *value;
} ConfigEntry;

typedef struct {
  char       *name;
  ConfigMark  mark;    /* of its name */
  ConfigNode *shape;   /* non-NULL when its value is not a mapping (an error) */
  GPtrArray  *entries; /* ConfigEntry *, in file order */
  gboolean    claimed; /* by the daemon or a plugin */
} ConfigSection;

/* What the reader made of a file. It stops at the first value no key can
 * take (a mapping, or a list in a list) rather than read into it: applying
 * that value is then certain to fail, with the key's name. */
typedef struct {
  char      *filename;
  GPtrArray *sections; /* ConfigSection *, in file order */
  gboolean   cut_short;
} ConfigDocument;

void config_document_free (ConfigDocument *document);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfigDocument, config_document_free)
void config_node_free (ConfigNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfigNode, config_node_free)

/* The reader. The caller capped the length. */
ConfigDocument *config_document_read (const char *data, gsize length, const char *filename,
                                      GError **error);
ConfigSection  *config_document_lookup (ConfigDocument *document, const char *name);
/* One value written as in a file ("4MiB", "[a, b]", "\"\""): a table's default. */
ConfigNode *config_node_read (const char *text, GError **error);

G_GNUC_PRINTF (4, 5)
void config_set_error_at (GError **error, const char *filename, const ConfigMark *mark,
                          const char *format, ...);

/* The values. base is the struct the key's offset is into; filename NULL
 * means a table's default, and errors say "default" instead of a position. */
gboolean config_value_apply (const DflyConfigKey *key, const char *section, const ConfigNode *node,
                             gpointer base, const char *filename, GError **error);
/* Applies key's default_value; FALSE when it does not parse (a bad table). */
gboolean config_value_apply_default (const DflyConfigKey *key, const char *section, gpointer base,
                                     GError **error);
void     config_value_clear (const DflyConfigKey *key, gpointer base);
void     config_value_copy (const DflyConfigKey *key, gpointer dst, gconstpointer src);
/* As a diff prints it: equal text means an equal value. */
char *config_value_format (const DflyConfigKey *key, gconstpointer base);
/* A quoted, escaped, shortened bad value for an error message. */
char    *config_quote_value (const char *value);
gboolean config_is_valid_name (const char *name);

/* Applies every entry of a section with keys (unknown keys are errors unless
 * skip_unknown) into base, which holds the defaults already. */
gboolean config_section_apply (const char *name, const DflyConfigKey *keys, guint n_keys,
                               ConfigSection *section, gboolean skip_unknown, gpointer base,
                               const char *filename, GError **error);
/* Appends "section.key: old -> new" lines for keys that differ. */
void config_section_diff (const char *name, const DflyConfigKey *keys, guint n_keys,
                          gconstpointer old_base, gconstpointer new_base, GPtrArray *lines);

/* A plugin's settings from its section of document (NULL: not in the file).
 * filename NULL: checking the table's own defaults, which errors then say. */
DflySettings *config_settings_new (const char *name, const DflyConfigSection *section,
                                   ConfigSection *raw, const char *filename, GError **error);
/* The struct of settings not shared yet, for dfly_config_keep_restart_keys. */
gpointer config_settings_get_mutable (DflySettings *settings);

G_END_DECLS
