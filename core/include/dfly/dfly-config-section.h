/* dfly-config-section.h — a plugin's own section of dflyd.yaml
 *
 * A plugin with settings declares a struct for them and a table of its keys,
 * and points its descriptor at a DflyConfigSection (DFLY_PLUGIN_DEFINE_WITH_SETTINGS).
 * Its section of dflyd.yaml is named after the plugin: "hello:" for hello.so.
 * dflyd checks the section against the table whenever it reads the file
 * (start, --check-config, reload), with the same file:line:column errors as
 * its own keys, and builds the struct: the table's defaults, then the file's
 * values. The struct is immutable and reference-counted, and a reload builds
 * a new one; the plugin reads it through its component
 * (dfly_component_get_settings).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* What a key holds, and the C type of its field. */
typedef enum {
  DFLY_CONFIG_STRING,    /* char *: text; max = bytes; null reads as ""; min 1 refuses "" */
  DFLY_CONFIG_IP,        /* char *: an IPv4 or IPv6 literal */
  DFLY_CONFIG_PATH,      /* char *: an absolute path; max = bytes; min 0 also allows "" */
  DFLY_CONFIG_UINT,      /* guint in min..max */
  DFLY_CONFIG_PORT,      /* guint16 */
  DFLY_CONFIG_DURATION,  /* guint seconds in min..max: 30, 30s, 5m, 1h */
  DFLY_CONFIG_SIZE,      /* guint64 bytes in min..max: 4096, 4KiB, 4MiB, 1GiB, 1TiB */
  DFLY_CONFIG_LOG_LEVEL, /* DflyLogLevel by its nick */
  DFLY_CONFIG_NAMES,     /* char **: [a-z0-9][a-z0-9_-]{0,63}; max = items */
  DFLY_CONFIG_PATHS,     /* char **: absolute paths; max = items */
  DFLY_CONFIG_STRINGS,   /* char **: printable text of at most 255 bytes; max = items */
  DFLY_CONFIG_DIGEST,    /* char *: a piece digest algorithm, crc32c or xxh3 */
  DFLY_CONFIG_RATIO,     /* double in 0..1 with at most 3 decimals; min, max in thousandths */
  DFLY_CONFIG_ORIGINS,   /* char **: CIDRs, addresses, host patterns (*.example.com); max = items */
} DflyConfigType;

typedef enum {
  DFLY_CONFIG_RESTART = 0,     /* takes effect when dflyd restarts */
  DFLY_CONFIG_LIVE = 1 << 0,   /* a reload applies it at once */
  DFLY_CONFIG_SECRET = 1 << 1, /* a reload logs "changed", never the value */
} DflyConfigFlags;

typedef struct {
  const char     *name; /* [a-z0-9_]+ */
  DflyConfigType  type;
  gsize           offset;        /* of its field in the settings struct (offsetof) */
  const char     *default_value; /* as dflyd.yaml writes it: "4MiB", "0.15", "[a, b]", "\"\"" */
  guint64         min;
  guint64         max;
  DflyConfigFlags flags;
  const char     *doc; /* one line: what it is for */
} DflyConfigKey;

typedef struct {
  gsize                size; /* sizeof the settings struct */
  const DflyConfigKey *keys;
  guint                n_keys;
  /* Optional: rules between keys, checked once the section is read. The
   * error names the keys, e.g. "low (5) must be below high (3)". */
  gboolean (*check) (gconstpointer settings, GError **error);
  gpointer reserved[4];
} DflyConfigSection;

/* One plugin's settings: its struct, filled from its section. */
typedef struct _DflySettings DflySettings;

#define DFLY_TYPE_SETTINGS (dfly_settings_get_type ())
GType         dfly_settings_get_type (void);
DflySettings *dfly_settings_ref (DflySettings *settings);
void          dfly_settings_unref (DflySettings *settings);
/* The plugin's struct; read-only, valid as long as settings is. */
gconstpointer            dfly_settings_get_values (DflySettings *settings);
const DflyConfigSection *dfly_settings_get_section (DflySettings *settings);

/* Whether a plugin's table is sound: key names, types, offsets within the
 * struct, defaults that parse and pass the check. The loader refuses a
 * plugin whose table is not. */
gboolean dfly_config_section_validate (const char *name, const DflyConfigSection *section,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySettings, dfly_settings_unref)

G_END_DECLS
