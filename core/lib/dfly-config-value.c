/* dfly-config-value.c — one key's value: checked against its table entry, stored, printed
 *
 * What each key type accepts and how it reads back in a reload's diff. The
 * same code serves the daemon's keys (fields of DflyConfig) and a plugin's
 * (fields of its settings struct): an entry's offset is into whichever
 * struct its table describes.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "dfly/dfly-error.h"
#include "dfly/dfly-piece-digest.h"
#include "dfly-config-private.h"
#include "dfly-source-policy.h"

#define MAX_QUOTED_CHARS 64 /* of a bad value echoed in an error */

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

/* The key being read, for errors: file:line:column: section.key: why. */
typedef struct {
  const DflyConfigKey *key;
  const char          *section;
  const char          *filename;
  ConfigMark           mark; /* of the value, or of the list item being read */
} Value;

/* The article-and-noun of each type, for "expected ..., found ..." errors. */
static const char *const key_type_names[] = {
  [DFLY_CONFIG_STRING] = "a string",
  [DFLY_CONFIG_IP] = "an IP address",
  [DFLY_CONFIG_PATH] = "an absolute path",
  [DFLY_CONFIG_UINT] = "a number",
  [DFLY_CONFIG_PORT] = "a port number",
  [DFLY_CONFIG_DURATION] = "a duration",
  [DFLY_CONFIG_SIZE] = "a size",
  [DFLY_CONFIG_LOG_LEVEL] = "a log level",
  [DFLY_CONFIG_NAMES] = "a list of names",
  [DFLY_CONFIG_PATHS] = "a list of absolute paths",
  [DFLY_CONFIG_STRINGS] = "a list of strings",
  [DFLY_CONFIG_DIGEST] = "a digest algorithm",
  [DFLY_CONFIG_RATIO] = "a decimal from 0 to 1",
  [DFLY_CONFIG_ORIGINS] = "a list of CIDRs and host patterns",
};
G_STATIC_ASSERT (G_N_ELEMENTS (key_type_names) == DFLY_CONFIG_ORIGINS + 1);

#define FIELD_PTR(base, key, type)   ((type *) ((guint8 *) (base) + (key)->offset))
#define FIELD_CONST(base, key, type) ((const type *) ((const guint8 *) (base) + (key)->offset))

G_GNUC_PRINTF (3, 4)
static void
set_value_error (GError **error, const Value *v, const char *format, ...)
{
  va_list          args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* No file: a key table's default (a plugin author's mistake, not the operator's). */
  if (v->filename == NULL)
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s.%s: default: %s", v->section,
                 v->key->name, message);
  else
    config_set_error_at (error, v->filename, &v->mark, "%s.%s: %s", v->section, v->key->name,
                         message);
}

static gboolean
is_list_type (DflyConfigType type)
{
  return type == DFLY_CONFIG_NAMES || type == DFLY_CONFIG_PATHS || type == DFLY_CONFIG_STRINGS ||
         type == DFLY_CONFIG_ORIGINS;
}

/* What a node is, for "expected X, found Y". */
static const char *
node_kind (const ConfigNode *node)
{
  switch (node->kind) {
  case CONFIG_NODE_SCALAR:
    return "a scalar";
  case CONFIG_NODE_NULL:
    return "null";
  case CONFIG_NODE_LIST:
    return "a list";
  case CONFIG_NODE_MAPPING:
    return "a mapping";
  }
  return "something else";
}

/* Text in double quotes, escaped so that control bytes stay visible but
 * UTF-8 stays readable. */
static char *
quote_string (const char *text)
{
  char             high_bytes[129];
  g_autofree char *escaped = NULL;

  for (guint i = 0; i < 128; i++)
    high_bytes[i] = (char) (0x80 + i);
  high_bytes[128] = '\0';
  escaped = g_strescape (text != NULL ? text : "", high_bytes);
  return g_strdup_printf ("\"%s\"", escaped);
}

/* A bad value echoed in an error: quoted and cut short, since it may be
 * anything a hostile file holds. libyaml hands out valid UTF-8; be sure. */
char *
config_quote_value (const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);
  g_autofree char *head = NULL;
  g_autofree char *quoted = NULL;

  if (g_utf8_strlen (valid, -1) <= MAX_QUOTED_CHARS)
    return quote_string (valid);
  head = g_utf8_substring (valid, 0, MAX_QUOTED_CHARS);
  quoted = quote_string (head);
  return g_strdup_printf ("%s...", quoted);
}

static char *
format_size (guint64 bytes)
{
  if (bytes != 0 && bytes % (GiB * 1024) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "TiB", bytes / (GiB * 1024));
  if (bytes != 0 && bytes % GiB == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "GiB", bytes / GiB);
  if (bytes != 0 && bytes % MiB == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "MiB", bytes / MiB);
  if (bytes != 0 && bytes % KiB == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "KiB", bytes / KiB);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
}

/* Thousandths as the shortest decimal: 150 -> "0.15", 1000 -> "1". */
static char *
format_ratio (guint64 thousandths)
{
  guint64 fraction = thousandths % 1000;
  int     decimals = 3;

  if (fraction == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, thousandths / 1000);
  while (fraction % 10 == 0) {
    fraction /= 10;
    decimals--;
  }
  return g_strdup_printf ("%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT, thousandths / 1000,
                          decimals, fraction);
}

/* A ratio field in thousandths, the unit it was parsed in. */
static guint64
ratio_to_thousandths (double value)
{
  return (guint64) (CLAMP (value, 0.0, 1.0) * 1000.0 + 0.5);
}

/* A number of a key's type as a user writes it, for ranges and diffs. */
static char *
format_number (DflyConfigType type, guint64 value)
{
  switch (type) {
  case DFLY_CONFIG_DURATION:
    return g_strdup_printf ("%" G_GUINT64_FORMAT "s", value);
  case DFLY_CONFIG_SIZE:
    return format_size (value);
  case DFLY_CONFIG_RATIO:
    return format_ratio (value);
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_PORT:
  case DFLY_CONFIG_STRING:
  case DFLY_CONFIG_IP:
  case DFLY_CONFIG_PATH:
  case DFLY_CONFIG_LOG_LEVEL:
  case DFLY_CONFIG_NAMES:
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
  case DFLY_CONFIG_DIGEST:
    break;
  }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, value);
}

static char *
format_list (const char *const *items, gboolean quoted)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; items != NULL && items[i] != NULL; i++) {
    if (i > 0)
      g_string_append (out, ", ");
    if (quoted) {
      g_autofree char *q = quote_string (items[i]);

      g_string_append (out, q);
    } else {
      g_string_append (out, items[i]);
    }
  }
  g_string_append_c (out, ']');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- values ---- */

typedef enum {
  NUMBER_OK,
  NUMBER_INVALID,
  NUMBER_OVERFLOW,
} NumberResult;

/* Strict decimal: digits only, no sign, no leading zero (YAML 1.1 would read
 * 010 as octal 8), no space. *end is left after the digits. */
static NumberResult
parse_digits (const char *text, guint64 *value, const char **end)
{
  guint64     v = 0;
  gboolean    overflow = FALSE;
  const char *s = text;

  if (!g_ascii_isdigit (*s) || (s[0] == '0' && g_ascii_isdigit (s[1])))
    return NUMBER_INVALID;
  for (; g_ascii_isdigit (*s); s++) {
    guint digit = (guint) (*s - '0');

    if (v > (G_MAXUINT64 - digit) / 10)
      overflow = TRUE;
    else
      v = v * 10 + digit;
  }
  *value = v;
  *end = s;
  return overflow ? NUMBER_OVERFLOW : NUMBER_OK;
}

typedef struct {
  const char *suffix;
  guint64     factor;
} NumberUnit;

static const NumberUnit duration_units[] = {
  { "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { NULL, 0 },
};
static const NumberUnit size_units[] = {
  { "", 1 }, { "KiB", KiB }, { "MiB", MiB }, { "GiB", GiB }, { "TiB", GiB * 1024 }, { NULL, 0 },
};
static const NumberUnit no_units[] = {
  { "", 1 },
  { NULL, 0 },
};

static gboolean
parse_number (const Value *v, const char *text, guint64 *out, GError **error)
{
  const NumberUnit *units = no_units;
  const char       *hint = "a decimal number";
  const char       *end = NULL;
  guint64           value = 0;
  gboolean          overflow = FALSE;
  gboolean          known_unit = FALSE;

  if (v->key->type == DFLY_CONFIG_DURATION) {
    units = duration_units;
    hint = "a duration in seconds, e.g. 30, 30s, 5m or 1h";
  } else if (v->key->type == DFLY_CONFIG_SIZE) {
    units = size_units;
    hint = "a size in bytes, e.g. 4096, 4KiB, 4MiB or 1GiB";
  }

  switch (parse_digits (text, &value, &end)) {
  case NUMBER_INVALID:
    break;
  case NUMBER_OVERFLOW:
    overflow = TRUE;
    G_GNUC_FALLTHROUGH;
  case NUMBER_OK:
    for (guint i = 0; units[i].suffix != NULL && !known_unit; i++) {
      if (!g_str_equal (end, units[i].suffix))
        continue;
      known_unit = TRUE;
      if (value > G_MAXUINT64 / units[i].factor)
        overflow = TRUE;
      else
        value *= units[i].factor;
    }
    break;
  }

  if (!known_unit) {
    g_autofree char *quoted = config_quote_value (text);

    set_value_error (error, v, "%s is not %s", quoted, hint);
    return FALSE;
  }
  if (overflow || value < v->key->min || value > v->key->max) {
    g_autofree char *min = format_number (v->key->type, v->key->min);
    g_autofree char *max = format_number (v->key->type, v->key->max);

    /* The value is digits and a unit: safe to echo, but still bounded. */
    set_value_error (error, v, "%.*s%s is out of range (%s..%s)", MAX_QUOTED_CHARS, text,
                     strlen (text) > MAX_QUOTED_CHARS ? "..." : "", min, max);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

/* A ratio: strict decimal digits, then optionally '.' and one to three
 * digits ("0", "1", "0.15", "1.000"); no sign, exponent or bare ".5". Parsed
 * in thousandths, so no locale or float rounding gets in. */
static gboolean
parse_ratio (const Value *v, const char *text, double *out, GError **error)
{
  const char *end = NULL;
  guint64     whole = 0;
  guint64     thousandths = 0;
  gboolean    valid = TRUE;
  gboolean    overflow = FALSE;

  switch (parse_digits (text, &whole, &end)) {
  case NUMBER_INVALID:
    valid = FALSE;
    break;
  case NUMBER_OVERFLOW:
    overflow = TRUE;
    break;
  case NUMBER_OK:
    break;
  }
  if (valid && *end == '.') {
    guint   decimals = 0;
    guint64 fraction = 0;

    for (end++; g_ascii_isdigit (*end) && decimals < 4; end++, decimals++)
      fraction = fraction * 10 + (guint64) (*end - '0');
    if (decimals == 0 || decimals > 3)
      valid = FALSE;
    for (; decimals < 3; decimals++)
      fraction *= 10;
    thousandths = fraction;
  }
  if (!valid || *end != '\0') {
    g_autofree char *quoted = config_quote_value (text);

    set_value_error (error, v, "%s is not a decimal from 0 to 1 with at most 3 decimals, e.g. 0.15",
                     quoted);
    return FALSE;
  }
  if (overflow || whole > G_MAXUINT64 / 1000 - 1)
    overflow = TRUE;
  else
    thousandths += whole * 1000;
  if (overflow || thousandths < v->key->min || thousandths > v->key->max) {
    g_autofree char *min = format_ratio (v->key->min);
    g_autofree char *max = format_ratio (v->key->max);

    set_value_error (error, v, "%.*s%s is out of range (%s..%s)", MAX_QUOTED_CHARS, text,
                     strlen (text) > MAX_QUOTED_CHARS ? "..." : "", min, max);
    return FALSE;
  }
  *out = (double) thousandths / 1000.0;
  return TRUE;
}

gboolean
config_is_valid_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > CONFIG_MAX_NAME_LENGTH)
    return FALSE;
  if (!g_ascii_islower (name[0]) && !g_ascii_isdigit (name[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++) {
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '_' &&
        name[i] != '-')
      return FALSE;
  }
  return TRUE;
}

/* Text that ends up in logs, ids and D-Bus replies: bounded, no control bytes. */
static gboolean
check_text (const Value *v, const char *text, guint64 max, GError **error)
{
  if (strlen (text) > max) {
    set_value_error (error, v, "longer than %u bytes", (guint) max);
    return FALSE;
  }
  for (const char *c = text; *c != '\0'; c++) {
    if (g_ascii_iscntrl (*c)) {
      set_value_error (error, v, "contains a control character (0x%02x)", (guint) (guchar) *c);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_path (const Value *v, const char *text, GError **error)
{
  g_autofree char *quoted = NULL;

  if (*text == '\0' && v->key->type == DFLY_CONFIG_PATH && v->key->min == 0)
    return TRUE;
  if (g_path_is_absolute (text) && strlen (text) <= CONFIG_MAX_PATH_LENGTH)
    return TRUE;
  quoted = config_quote_value (text);
  if (!g_path_is_absolute (text))
    set_value_error (error, v, "%s is not an absolute path", quoted);
  else
    set_value_error (error, v, "path is longer than %d bytes", CONFIG_MAX_PATH_LENGTH);
  return FALSE;
}

/* A rule of source.allow / source.deny (dfly-source-policy.h). */
static gboolean
check_origin (const Value *v, const char *text, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *quoted = NULL;

  if (!check_text (v, text, 255, error))
    return FALSE;
  if (dfly_source_rule_check (text, &local_error))
    return TRUE;
  quoted = config_quote_value (text);
  set_value_error (error, v, "%s: %s", quoted, local_error->message);
  return FALSE;
}

/* One list item, checked as the list's type wants. */
static gboolean
check_list_item (const Value *v, const char *text, GError **error)
{
  g_autofree char *quoted = NULL;

  if (v->key->type == DFLY_CONFIG_PATHS)
    return check_path (v, text, error);
  if (v->key->type == DFLY_CONFIG_STRINGS)
    return check_text (v, text, 255, error);
  if (v->key->type == DFLY_CONFIG_ORIGINS)
    return check_origin (v, text, error);
  if (config_is_valid_name (text))
    return TRUE;
  quoted = config_quote_value (text);
  set_value_error (error, v,
                   "%s is not a valid name (lowercase letters, digits, '-' and '_', "
                   "at most %d characters)",
                   quoted, CONFIG_MAX_NAME_LENGTH);
  return FALSE;
}

static gboolean
apply_list (Value *v, const ConfigNode *node, gpointer base, GError **error)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  char ***field = FIELD_PTR (base, v->key, char **);

  for (guint i = 0; i < node->items->len; i++) {
    const ConfigNode *item = g_ptr_array_index (node->items, i);

    v->mark = item->mark;
    if (item->kind != CONFIG_NODE_SCALAR) {
      set_value_error (error, v, "expected %s, found %s in the list",
                       v->key->type == DFLY_CONFIG_PATHS     ? "a path"
                       : v->key->type == DFLY_CONFIG_STRINGS ? "a string"
                       : v->key->type == DFLY_CONFIG_ORIGINS ? "a CIDR or host pattern"
                                                             : "a name",
                       node_kind (item));
      return FALSE;
    }
    if (items->len >= v->key->max) {
      set_value_error (error, v, "more than %u items", (guint) v->key->max);
      return FALSE;
    }
    if (item->has_nul) {
      set_value_error (error, v, "item contains a NUL character");
      return FALSE;
    }
    if (!check_list_item (v, item->text, error))
      return FALSE;
    for (guint j = 0; j < items->len; j++) {
      if (g_str_equal (g_ptr_array_index (items, j), item->text)) {
        g_autofree char *quoted = config_quote_value (item->text);

        set_value_error (error, v, "%s is listed twice", quoted);
        return FALSE;
      }
    }
    g_ptr_array_add (items, g_strdup (item->text));
  }

  g_ptr_array_add (items, NULL);
  g_strfreev (*field);
  *field = (char **) g_ptr_array_free (g_steal_pointer (&items), FALSE);
  return TRUE;
}

static gboolean
apply_scalar (const Value *v, const ConfigNode *node, gpointer base, GError **error)
{
  const DflyConfigKey *key = v->key;
  const char          *text = node->text;
  g_autofree char     *quoted = NULL;
  guint64              number = 0;

  if (node->has_nul) {
    set_value_error (error, v, "value contains a NUL character");
    return FALSE;
  }
  if (node->kind == CONFIG_NODE_NULL) {
    if (key->type != DFLY_CONFIG_STRING) {
      set_value_error (error, v, "expected %s, found null", key_type_names[key->type]);
      return FALSE;
    }
    text = "";
  }

  switch (key->type) {
  case DFLY_CONFIG_STRING:
    if (!check_text (v, text, key->max, error))
      return FALSE;
    if (key->min > 0 && *text == '\0') {
      set_value_error (error, v, "must not be empty");
      return FALSE;
    }
    break;
  case DFLY_CONFIG_RATIO:
    return parse_ratio (v, text, FIELD_PTR (base, key, double), error);
  case DFLY_CONFIG_DIGEST: {
    DflyPieceDigestAlgo algo;

    if (!dfly_piece_digest_algo_from_string (text, &algo)) {
      quoted = config_quote_value (text);
      set_value_error (error, v, "%s is not a piece digest algorithm (sha256, crc32c or xxh3)",
                       quoted);
      return FALSE;
    }
    break;
  }
  case DFLY_CONFIG_IP: {
    g_autoptr (GInetAddress) address = g_inet_address_new_from_string (text);

    if (address == NULL) {
      quoted = config_quote_value (text);
      set_value_error (error, v, "%s is not an IP address", quoted);
      return FALSE;
    }
    break;
  }
  case DFLY_CONFIG_PATH:
    if (!check_path (v, text, error))
      return FALSE;
    break;
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_DURATION:
    if (!parse_number (v, text, &number, error))
      return FALSE;
    *FIELD_PTR (base, key, guint) = (guint) number; /* max fits: see the table */
    return TRUE;
  case DFLY_CONFIG_SIZE:
    if (!parse_number (v, text, &number, error))
      return FALSE;
    *FIELD_PTR (base, key, guint64) = number;
    return TRUE;
  case DFLY_CONFIG_PORT:
    if (!parse_number (v, text, &number, error))
      return FALSE;
    *FIELD_PTR (base, key, guint16) = (guint16) number;
    return TRUE;
  case DFLY_CONFIG_LOG_LEVEL: {
    g_autoptr (GEnumClass) klass = g_type_class_ref (DFLY_TYPE_LOG_LEVEL);
    GEnumValue *value = g_enum_get_value_by_nick (klass, text);

    if (value == NULL) {
      quoted = config_quote_value (text);
      set_value_error (error, v, "%s is not a log level (error, warning, message, info or debug)",
                       quoted);
      return FALSE;
    }
    *FIELD_PTR (base, key, DflyLogLevel) = (DflyLogLevel) value->value;
    return TRUE;
  }
  case DFLY_CONFIG_NAMES:
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
    g_return_val_if_reached (FALSE);
  }

  /* The string-valued types. */
  g_free (*FIELD_PTR (base, key, char *));
  *FIELD_PTR (base, key, char *) = g_strdup (text);
  return TRUE;
}

gboolean
config_value_apply (const DflyConfigKey *key, const char *section, const ConfigNode *node,
                    gpointer base, const char *filename, GError **error)
{
  Value    v = { .key = key, .section = section, .filename = filename, .mark = node->mark };
  gboolean is_list = is_list_type (key->type);

  if (is_list && node->kind == CONFIG_NODE_LIST)
    return apply_list (&v, node, base, error);
  if (!is_list && (node->kind == CONFIG_NODE_SCALAR || node->kind == CONFIG_NODE_NULL))
    return apply_scalar (&v, node, base, error);
  set_value_error (error, &v, "expected %s, found %s", key_type_names[key->type], node_kind (node));
  return FALSE;
}

gboolean
config_value_apply_default (const DflyConfigKey *key, const char *section, gpointer base,
                            GError **error)
{
  g_autoptr (ConfigNode) node = NULL;

  if (key->default_value == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s.%s: no default value", section,
                 key->name);
    return FALSE;
  }
  node = config_node_read (key->default_value, error);
  if (node == NULL) {
    g_prefix_error (error, "%s.%s: default: ", section, key->name);
    return FALSE;
  }
  return config_value_apply (key, section, node, base, NULL, error);
}

void
config_value_clear (const DflyConfigKey *key, gpointer base)
{
  switch (key->type) {
  case DFLY_CONFIG_STRING:
  case DFLY_CONFIG_IP:
  case DFLY_CONFIG_PATH:
  case DFLY_CONFIG_DIGEST:
    g_clear_pointer (FIELD_PTR (base, key, char *), g_free);
    break;
  case DFLY_CONFIG_NAMES:
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
    g_clear_pointer (FIELD_PTR (base, key, char **), g_strfreev);
    break;
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_PORT:
  case DFLY_CONFIG_DURATION:
  case DFLY_CONFIG_SIZE:
  case DFLY_CONFIG_LOG_LEVEL:
  case DFLY_CONFIG_RATIO:
    break;
  }
}

void
config_value_copy (const DflyConfigKey *key, gpointer dst, gconstpointer src)
{
  switch (key->type) {
  case DFLY_CONFIG_STRING:
  case DFLY_CONFIG_IP:
  case DFLY_CONFIG_PATH:
  case DFLY_CONFIG_DIGEST:
    g_free (*FIELD_PTR (dst, key, char *));
    *FIELD_PTR (dst, key, char *) = g_strdup (*FIELD_CONST (src, key, char *));
    break;
  case DFLY_CONFIG_NAMES:
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
    g_strfreev (*FIELD_PTR (dst, key, char **));
    *FIELD_PTR (dst, key, char **) = g_strdupv ((char **) *FIELD_CONST (src, key, char **));
    break;
  case DFLY_CONFIG_PORT:
    *FIELD_PTR (dst, key, guint16) = *FIELD_CONST (src, key, guint16);
    break;
  case DFLY_CONFIG_LOG_LEVEL:
    *FIELD_PTR (dst, key, DflyLogLevel) = *FIELD_CONST (src, key, DflyLogLevel);
    break;
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_DURATION:
    *FIELD_PTR (dst, key, guint) = *FIELD_CONST (src, key, guint);
    break;
  case DFLY_CONFIG_SIZE:
    *FIELD_PTR (dst, key, guint64) = *FIELD_CONST (src, key, guint64);
    break;
  case DFLY_CONFIG_RATIO:
    *FIELD_PTR (dst, key, double) = *FIELD_CONST (src, key, double);
    break;
  }
}

char *
config_value_format (const DflyConfigKey *key, gconstpointer base)
{
  switch (key->type) {
  case DFLY_CONFIG_STRING:
  case DFLY_CONFIG_PATH:
    return quote_string (*FIELD_CONST (base, key, char *));
  case DFLY_CONFIG_IP:
  case DFLY_CONFIG_DIGEST:
    return g_strdup (*FIELD_CONST (base, key, char *) != NULL ? *FIELD_CONST (base, key, char *)
                                                              : "");
  case DFLY_CONFIG_UINT:
  case DFLY_CONFIG_DURATION:
    return format_number (key->type, *FIELD_CONST (base, key, guint));
  case DFLY_CONFIG_SIZE:
    return format_number (key->type, *FIELD_CONST (base, key, guint64));
  case DFLY_CONFIG_PORT:
    return format_number (key->type, *FIELD_CONST (base, key, guint16));
  case DFLY_CONFIG_LOG_LEVEL:
    return g_strdup (dfly_log_level_to_string (*FIELD_CONST (base, key, DflyLogLevel)));
  case DFLY_CONFIG_NAMES:
    return format_list ((const char *const *) *FIELD_CONST (base, key, char **), FALSE);
  case DFLY_CONFIG_PATHS:
  case DFLY_CONFIG_STRINGS:
  case DFLY_CONFIG_ORIGINS:
    return format_list ((const char *const *) *FIELD_CONST (base, key, char **), TRUE);
  case DFLY_CONFIG_RATIO:
    return format_ratio (ratio_to_thousandths (*FIELD_CONST (base, key, double)));
  }
  g_return_val_if_reached (g_strdup ("?"));
}

static const DflyConfigKey *
find_key (const DflyConfigKey *keys, guint n_keys, const char *name)
{
  for (guint i = 0; i < n_keys; i++) {
    if (g_str_equal (keys[i].name, name))
      return &keys[i];
  }
  return NULL;
}

gboolean
config_section_apply (const char *name, const DflyConfigKey *keys, guint n_keys,
                      ConfigSection *section, gboolean skip_unknown, gpointer base,
                      const char *filename, GError **error)
{
  for (guint i = 0; i < section->entries->len; i++) {
    const ConfigEntry   *entry = g_ptr_array_index (section->entries, i);
    const DflyConfigKey *key = find_key (keys, n_keys, entry->key);

    if (key == NULL && skip_unknown)
      continue;
    if (key == NULL) {
      g_autofree char *full = g_strdup_printf ("%s.%s", name, entry->key);
      g_autofree char *quoted = config_quote_value (full);

      config_set_error_at (error, filename, &entry->mark, "unknown key %s", quoted);
      return FALSE;
    }
    if (!config_value_apply (key, name, entry->value, base, filename, error))
      return FALSE;
  }
  return TRUE;
}

void
config_section_diff (const char *name, const DflyConfigKey *keys, guint n_keys,
                     gconstpointer old_base, gconstpointer new_base, GPtrArray *lines)
{
  for (guint i = 0; i < n_keys; i++) {
    const DflyConfigKey *key = &keys[i];
    g_autofree char     *before = config_value_format (key, old_base);
    g_autofree char     *after = config_value_format (key, new_base);

    if (g_str_equal (before, after))
      continue;
    /* A secret never reaches the log that reports a reload. */
    if (key->flags & DFLY_CONFIG_SECRET) {
      g_ptr_array_add (lines, g_strdup_printf ("%s.%s: changed", name, key->name));
      continue;
    }
    g_ptr_array_add (
      lines,
      g_strdup_printf ("%s.%s: %s -> %s%s", name, key->name, before, after,
                       (key->flags & DFLY_CONFIG_LIVE) ? "" : " (takes effect after restart)"));
  }
}
