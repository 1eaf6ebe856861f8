/* dfly-config.c — dflyd.yaml parsed into a DflyConfig, key by key from one table
 *
 * The file is read through libyaml's event API rather than its document API:
 * we never build a tree, so an alias, a deep nesting or an unexpected shape is
 * refused at the first event that shows it, with the file, line and key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <yaml.h>

#include "dfly/dfly-config.h"
#include "dfly/dfly-error.h"
#include "dfly/dfly-piece-digest.h"

#define CONFIG_MAX_SIZE   (1024 * 1024) /* bytes; a real dflyd.yaml is a few KiB */
#define CONFIG_MAX_DEPTH  8             /* we need 3: sections, keys, lists */
#define MAX_LIST_ITEMS    32
#define MAX_NAME_LENGTH   64
#define MAX_PATH_LENGTH   4095
#define MAX_QUOTED_CHARS  64            /* of a bad value echoed in an error */

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

typedef enum {
  KEY_STRING,     /* any text; max = bytes; null reads as ""; min 1 refuses "" */
  KEY_IP,         /* an IPv4 or IPv6 literal */
  KEY_PATH,       /* an absolute path; max = bytes; min 0 also allows "" */
  KEY_UINT,       /* guint in min..max */
  KEY_PORT,       /* guint16 */
  KEY_DURATION,   /* guint seconds in min..max: 30, 30s, 5m, 1h */
  KEY_SIZE,       /* guint64 bytes in min..max: 4096, 4KiB, 4MiB, 1GiB, 1TiB */
  KEY_LOG_LEVEL,  /* DflyLogLevel by its nick */
  KEY_NAMES,      /* char **, [a-z0-9][a-z0-9_-]{0,63}; max = items */
  KEY_PATHS,      /* char **, absolute paths; max = items */
  KEY_STRINGS,    /* char **, printable text of at most 255 bytes; max = items */
  KEY_DIGEST,     /* a piece digest algorithm: crc32c or xxh3 */
  KEY_RATIO,      /* double in 0..1, written as a decimal with at most 3 decimals;
                   * min and max are in thousandths */
} KeyType;

typedef struct {
  const char *section;
  const char *key;
  KeyType     type;
  gsize       offset; /* into DflyConfig */
  guint64     min;
  guint64     max;
  gboolean    live;   /* a SIGHUP reload applies it without a restart */
} ConfigKey;

#define FIELD(member) offsetof (DflyConfig, member)

/* Every key dflyd.yaml may hold, in the order dfly_config_diff reports them.
 * Keep data/dflyd.yaml and data/dflyd.yaml.5 in step with this table. */
static const ConfigKey config_keys[] = {
  { "daemon", "roles", KEY_NAMES, FIELD (daemon.roles), 0, MAX_LIST_ITEMS, FALSE },
  { "daemon", "plugin_dirs", KEY_PATHS, FIELD (daemon.plugin_dirs), 0, MAX_LIST_ITEMS, FALSE },
  { "daemon", "state_dir", KEY_PATH, FIELD (daemon.state_dir), 1, MAX_PATH_LENGTH, FALSE },
  { "daemon", "cache_dir", KEY_PATH, FIELD (daemon.cache_dir), 1, MAX_PATH_LENGTH, FALSE },
  { "daemon", "log_level", KEY_LOG_LEVEL, FIELD (daemon.log_level), 0, 0, TRUE },
  { "daemon", "shutdown_timeout", KEY_DURATION, FIELD (daemon.shutdown_timeout), 1, 600, TRUE },
  { "host", "hostname", KEY_STRING, FIELD (host.hostname), 0, 255, FALSE },
  { "host", "ip", KEY_IP, FIELD (host.ip), 0, 0, FALSE },
  { "host", "idc", KEY_STRING, FIELD (host.idc), 0, 255, TRUE },
  { "host", "location", KEY_STRING, FIELD (host.location), 0, 1024, TRUE },
  { "host", "announce_interval", KEY_DURATION, FIELD (host.announce_interval), 1, 3600, TRUE },
  { "manager", "listen", KEY_IP, FIELD (manager.listen), 0, 0, FALSE },
  { "manager", "port", KEY_PORT, FIELD (manager.port), 0, G_MAXUINT16, FALSE },
  { "scheduler", "port", KEY_PORT, FIELD (scheduler.port), 0, G_MAXUINT16, FALSE },
  { "scheduler", "candidate_parents", KEY_UINT, FIELD (scheduler.candidate_parents), 1, 20, TRUE },
  { "scheduler", "back_to_source_limit", KEY_UINT, FIELD (scheduler.back_to_source_limit), 0, 1000, TRUE },
  { "scheduler", "max_hosts", KEY_UINT, FIELD (scheduler.max_hosts), 1, 1000000, TRUE },
  { "scheduler", "algorithm", KEY_STRING, FIELD (scheduler.algorithm), 1, MAX_NAME_LENGTH, FALSE },
  { "scheduler", "finished_piece_weight", KEY_RATIO, FIELD (scheduler.finished_piece_weight), 0, 1000, TRUE },
  { "scheduler", "upload_success_weight", KEY_RATIO, FIELD (scheduler.upload_success_weight), 0, 1000, TRUE },
  { "scheduler", "free_upload_weight", KEY_RATIO, FIELD (scheduler.free_upload_weight), 0, 1000, TRUE },
  { "scheduler", "host_type_weight", KEY_RATIO, FIELD (scheduler.host_type_weight), 0, 1000, TRUE },
  { "scheduler", "idc_affinity_weight", KEY_RATIO, FIELD (scheduler.idc_affinity_weight), 0, 1000, TRUE },
  { "scheduler", "location_affinity_weight", KEY_RATIO, FIELD (scheduler.location_affinity_weight), 0, 1000, TRUE },
  { "peer", "schedulers", KEY_STRINGS, FIELD (peer.schedulers), 0, MAX_LIST_ITEMS, FALSE },
  { "peer", "leech", KEY_UINT, FIELD (peer.leech), 0, 1, FALSE },
  { "upload", "port", KEY_PORT, FIELD (upload.port), 0, G_MAXUINT16, FALSE },
  { "upload", "rate_limit", KEY_SIZE, FIELD (upload.rate_limit), 0, 1024 * GiB, TRUE },
  { "upload", "slots", KEY_UINT, FIELD (upload.slots), 1, 100000, TRUE },
  { "upload", "seed_slots", KEY_UINT, FIELD (upload.seed_slots), 1, 100000, TRUE },
  { "protocol", "max_message_size", KEY_SIZE, FIELD (protocol.max_message_size), 1 * KiB, 64 * MiB, FALSE },
  { "download", "piece_length", KEY_SIZE, FIELD (download.piece_length), 0, 1 * GiB, TRUE },
  { "download", "min_piece_length", KEY_SIZE, FIELD (download.min_piece_length), 4 * KiB, 16 * MiB, TRUE },
  { "download", "piece_digest", KEY_DIGEST, FIELD (download.piece_digest), 0, 0, TRUE },
  { "download", "concurrency", KEY_UINT, FIELD (download.concurrency), 1, 64, TRUE },
  { "download", "parent_concurrency", KEY_UINT, FIELD (download.parent_concurrency), 1, 64, TRUE },
  { "download", "workers", KEY_UINT, FIELD (download.workers), 1, 1024, FALSE },
  { "download", "rate_limit", KEY_SIZE, FIELD (download.rate_limit), 0, 1024 * GiB, TRUE },
  { "download", "max_tasks", KEY_UINT, FIELD (download.max_tasks), 1, 1024, TRUE },
  { "download", "filtered_query_keys", KEY_STRINGS, FIELD (download.filtered_query_keys), 0, MAX_LIST_ITEMS, TRUE },
  { "http", "connect_timeout", KEY_DURATION, FIELD (http.connect_timeout), 1, 600, TRUE },
  { "http", "read_timeout", KEY_DURATION, FIELD (http.read_timeout), 1, 3600, TRUE },
  { "http", "retries", KEY_UINT, FIELD (http.retries), 0, 10, TRUE },
  { "http", "retry_backoff_ms", KEY_UINT, FIELD (http.retry_backoff_ms), 0, 60000, TRUE },
  { "http", "ca_file", KEY_PATH, FIELD (http.ca_file), 0, MAX_PATH_LENGTH, TRUE },
  { "http", "insecure_hosts", KEY_STRINGS, FIELD (http.insecure_hosts), 0, MAX_LIST_ITEMS, TRUE },
  { "storage", "backend", KEY_STRING, FIELD (storage.backend), 0, MAX_NAME_LENGTH, FALSE },
  { "storage", "quota", KEY_SIZE, FIELD (storage.quota), 0, G_MAXINT64, TRUE },
  { "storage", "high_watermark", KEY_UINT, FIELD (storage.high_watermark), 1, 100, TRUE },
  { "storage", "low_watermark", KEY_UINT, FIELD (storage.low_watermark), 0, 99, TRUE },
  { "storage", "task_ttl", KEY_DURATION, FIELD (storage.task_ttl), 60, 365 * 86400, TRUE },
  { "storage", "gc_interval", KEY_DURATION, FIELD (storage.gc_interval), 1, 86400, TRUE },
  { "oci", "insecure_registries", KEY_STRINGS, FIELD (oci.insecure_registries), 0, MAX_LIST_ITEMS, TRUE },
  { "oci", "auth_file", KEY_PATH, FIELD (oci.auth_file), 0, MAX_PATH_LENGTH, TRUE },
  { "oci", "max_manifest_size", KEY_SIZE, FIELD (oci.max_manifest_size), 1 * KiB, 64 * MiB, TRUE },
  { "s3", "endpoint", KEY_STRING, FIELD (s3.endpoint), 0, 1024, TRUE },
  { "s3", "region", KEY_STRING, FIELD (s3.region), 0, 64, TRUE },
  { "s3", "path_style", KEY_UINT, FIELD (s3.path_style), 0, 1, TRUE },
  { "s3", "access_key_id", KEY_STRING, FIELD (s3.access_key_id), 0, 255, TRUE },
  { "s3", "secret_access_key", KEY_STRING, FIELD (s3.secret_access_key), 0, 255, TRUE },
};

/* The article-and-noun of each type, for "expected ..., found ..." errors. */
static const char *const key_type_names[] = {
  [KEY_STRING] = "a string",
  [KEY_IP] = "an IP address",
  [KEY_PATH] = "an absolute path",
  [KEY_UINT] = "a number",
  [KEY_PORT] = "a port number",
  [KEY_DURATION] = "a duration",
  [KEY_SIZE] = "a size",
  [KEY_LOG_LEVEL] = "a log level",
  [KEY_NAMES] = "a list of names",
  [KEY_PATHS] = "a list of absolute paths",
  [KEY_STRINGS] = "a list of strings",
  [KEY_DIGEST] = "a digest algorithm",
  [KEY_RATIO] = "a decimal from 0 to 1",
};
G_STATIC_ASSERT (G_N_ELEMENTS (key_type_names) == KEY_RATIO + 1);

#define FIELD_PTR(config, entry, type) ((type *) ((guint8 *) (config) + (entry)->offset))
#define FIELD_CONST(config, entry, type) \
  ((const type *) ((const guint8 *) (config) + (entry)->offset))

G_DEFINE_BOXED_TYPE (DflyConfig, dfly_config, dfly_config_ref, dfly_config_unref)

DflyConfig *
dfly_config_new_default (void)
{
  const char *const roles[] = { "manager", "scheduler", "seed", "peer", NULL };
  /* Signed-URL and tenancy parameters that differ per request for the same
   * bytes (REFERENCE.md, task ids). */
  const char *const filtered_query_keys[] = {
    "X-Amz-*", "X-Goog-*", "OSSAccessKeyId", "Expires", "Signature", "SecurityToken",
    "q-sign-*", "ns", NULL,
  };
  DflyConfig *config = g_atomic_rc_box_new0 (DflyConfig);

  config->daemon.roles = g_strdupv ((char **) roles);
  config->daemon.plugin_dirs = g_new0 (char *, 1);
  /* Where systemd's StateDirectory= and CacheDirectory= put them, whatever
   * the build prefix: the unit and the daemon must agree. */
  config->daemon.state_dir = g_strdup ("/var/lib/dfly");
  config->daemon.cache_dir = g_strdup ("/var/cache/dfly");
  config->daemon.log_level = DFLY_LOG_LEVEL_INFO;
  config->daemon.shutdown_timeout = 10;
  config->host.hostname = g_strdup ("");
  config->host.ip = g_strdup ("127.0.0.1");
  config->host.idc = g_strdup ("");
  config->host.location = g_strdup ("");
  config->host.announce_interval = 30;
  config->manager.listen = g_strdup ("127.0.0.1");
  config->manager.port = 8080;
  config->scheduler.port = 8002;
  config->scheduler.candidate_parents = 8;
  config->scheduler.back_to_source_limit = 3;
  config->scheduler.max_hosts = 10000;
  config->scheduler.algorithm = g_strdup ("default");
  config->scheduler.finished_piece_weight = 0.2;
  config->scheduler.upload_success_weight = 0.2;
  config->scheduler.free_upload_weight = 0.15;
  config->scheduler.host_type_weight = 0.15;
  config->scheduler.idc_affinity_weight = 0.15;
  config->scheduler.location_affinity_weight = 0.15;
  config->peer.schedulers = g_new0 (char *, 1);
  config->peer.leech = 0;
  config->upload.port = 4000;
  config->upload.rate_limit = 0;
  config->upload.slots = 200;
  config->upload.seed_slots = 2000;
  config->protocol.max_message_size = 4 * MiB;
  config->download.piece_length = 0;
  config->download.min_piece_length = 4 * MiB;
  config->download.piece_digest = g_strdup ("crc32c");
  config->download.concurrency = 4;
  config->download.parent_concurrency = 16;
  config->download.workers = 64;
  config->download.rate_limit = 0;
  config->download.max_tasks = 16;
  config->download.filtered_query_keys = g_strdupv ((char **) filtered_query_keys);
  config->http.connect_timeout = 10;
  config->http.read_timeout = 30;
  config->http.retries = 3;
  config->http.retry_backoff_ms = 200;
  config->http.ca_file = g_strdup ("");
  config->http.insecure_hosts = g_new0 (char *, 1);
  config->storage.backend = g_strdup ("disk");
  config->storage.quota = 0;
  config->storage.high_watermark = 80;
  config->storage.low_watermark = 60;
  config->storage.task_ttl = 6 * 3600;
  config->storage.gc_interval = 60;
  config->oci.insecure_registries = g_new0 (char *, 1);
  config->oci.auth_file = g_strdup ("");
  config->oci.max_manifest_size = 4 * MiB;
  config->s3.endpoint = g_strdup ("");
  config->s3.region = g_strdup ("");
  config->s3.path_style = 0;
  config->s3.access_key_id = g_strdup ("");
  config->s3.secret_access_key = g_strdup ("");
  return config;
}

DflyConfig *
dfly_config_ref (DflyConfig *config)
{
  return g_atomic_rc_box_acquire (config);
}

static void
config_clear (gpointer data)
{
  DflyConfig *config = data;

  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++) {
    const ConfigKey *entry = &config_keys[i];

    switch (entry->type) {
    case KEY_STRING:
    case KEY_IP:
    case KEY_PATH:
    case KEY_DIGEST:
      g_clear_pointer (FIELD_PTR (config, entry, char *), g_free);
      break;
    case KEY_NAMES:
    case KEY_PATHS:
    case KEY_STRINGS:
      g_clear_pointer (FIELD_PTR (config, entry, char **), g_strfreev);
      break;
    case KEY_UINT:
    case KEY_PORT:
    case KEY_DURATION:
    case KEY_SIZE:
    case KEY_LOG_LEVEL:
    case KEY_RATIO:
      break;
    }
  }
}

void
dfly_config_unref (DflyConfig *config)
{
  g_atomic_rc_box_release_full (config, config_clear);
}

/* Copies one key's value from src into dst, replacing dst's. */
static void
copy_field (DflyConfig *dst, const DflyConfig *src, const ConfigKey *entry)
{
  switch (entry->type) {
  case KEY_STRING:
  case KEY_IP:
  case KEY_PATH:
  case KEY_DIGEST:
    g_free (*FIELD_PTR (dst, entry, char *));
    *FIELD_PTR (dst, entry, char *) = g_strdup (*FIELD_CONST (src, entry, char *));
    break;
  case KEY_NAMES:
  case KEY_PATHS:
  case KEY_STRINGS:
    g_strfreev (*FIELD_PTR (dst, entry, char **));
    *FIELD_PTR (dst, entry, char **) = g_strdupv ((char **) *FIELD_CONST (src, entry, char **));
    break;
  case KEY_PORT:
    *FIELD_PTR (dst, entry, guint16) = *FIELD_CONST (src, entry, guint16);
    break;
  case KEY_LOG_LEVEL:
    *FIELD_PTR (dst, entry, DflyLogLevel) = *FIELD_CONST (src, entry, DflyLogLevel);
    break;
  case KEY_UINT:
  case KEY_DURATION:
    *FIELD_PTR (dst, entry, guint) = *FIELD_CONST (src, entry, guint);
    break;
  case KEY_SIZE:
    *FIELD_PTR (dst, entry, guint64) = *FIELD_CONST (src, entry, guint64);
    break;
  case KEY_RATIO:
    *FIELD_PTR (dst, entry, double) = *FIELD_CONST (src, entry, double);
    break;
  }
}

void
dfly_config_keep_restart_keys (DflyConfig *loaded, const DflyConfig *running)
{
  g_return_if_fail (loaded != NULL && running != NULL);
  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++) {
    if (!config_keys[i].live)
      copy_field (loaded, running, &config_keys[i]);
  }
}

/* ---- text helpers ---- */

/* Text in double quotes, escaped so that control bytes stay visible but
 * UTF-8 stays readable. */
static char *
quote_string (const char *text)
{
  char high_bytes[129];
  g_autofree char *escaped = NULL;

  for (guint i = 0; i < 128; i++)
    high_bytes[i] = (char) (0x80 + i);
  high_bytes[128] = '\0';
  escaped = g_strescape (text != NULL ? text : "", high_bytes);
  return g_strdup_printf ("\"%s\"", escaped);
}

/* A bad value echoed in an error: quoted and cut short, since it may be
 * anything a hostile file holds. libyaml hands out valid UTF-8; be sure. */
static char *
quote_value (const char *value)
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
  int decimals = 3;

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
format_number (KeyType type, guint64 value)
{
  switch (type) {
  case KEY_DURATION:
    return g_strdup_printf ("%" G_GUINT64_FORMAT "s", value);
  case KEY_SIZE:
    return format_size (value);
  case KEY_RATIO:
    return format_ratio (value);
  case KEY_UINT:
  case KEY_PORT:
  case KEY_STRING:
  case KEY_IP:
  case KEY_PATH:
  case KEY_LOG_LEVEL:
  case KEY_NAMES:
  case KEY_PATHS:
  case KEY_STRINGS:
  case KEY_DIGEST:
    break;
  }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, value);
}

static char *
format_list (const char *const *items, gboolean quoted)
{
  g_autoptr(GString) out = g_string_new ("[");

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

/* A key's value as dfly_config_diff prints it; equal text means equal value,
 * since quoting escapes everything that could make two values look alike. */
static char *
format_value (const ConfigKey *entry, const DflyConfig *config)
{
  switch (entry->type) {
  case KEY_STRING:
  case KEY_PATH:
    return quote_string (*FIELD_CONST (config, entry, char *));
  case KEY_IP:
  case KEY_DIGEST:
    return g_strdup (*FIELD_CONST (config, entry, char *) != NULL
                     ? *FIELD_CONST (config, entry, char *) : "");
  case KEY_UINT:
  case KEY_DURATION:
    return format_number (entry->type, *FIELD_CONST (config, entry, guint));
  case KEY_SIZE:
    return format_number (entry->type, *FIELD_CONST (config, entry, guint64));
  case KEY_PORT:
    return format_number (entry->type, *FIELD_CONST (config, entry, guint16));
  case KEY_LOG_LEVEL:
    return g_strdup (dfly_log_level_to_string (*FIELD_CONST (config, entry, DflyLogLevel)));
  case KEY_NAMES:
    return format_list ((const char *const *) *FIELD_CONST (config, entry, char **), FALSE);
  case KEY_PATHS:
  case KEY_STRINGS:
    return format_list ((const char *const *) *FIELD_CONST (config, entry, char **), TRUE);
  case KEY_RATIO:
    return format_ratio (ratio_to_thousandths (*FIELD_CONST (config, entry, double)));
  }
  g_return_val_if_reached (g_strdup ("?"));
}

GPtrArray *
dfly_config_diff (const DflyConfig *old_config, const DflyConfig *new_config)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (old_config != NULL, NULL);
  g_return_val_if_fail (new_config != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++) {
    const ConfigKey *entry = &config_keys[i];
    g_autofree char *before = format_value (entry, old_config);
    g_autofree char *after = format_value (entry, new_config);

    if (g_str_equal (before, after))
      continue;
    /* A secret never reaches the log that reports a reload. */
    if (g_str_equal (entry->key, "secret_access_key")) {
      g_ptr_array_add (lines, g_strdup_printf ("%s.%s: changed", entry->section, entry->key));
      continue;
    }
    g_ptr_array_add (lines, g_strdup_printf ("%s.%s: %s -> %s%s", entry->section, entry->key,
                                             before, after,
                                             entry->live ? "" : " (takes effect after restart)"));
  }
  return g_steal_pointer (&lines);
}

/* ---- the event reader ---- */

typedef struct {
  yaml_parser_t  yaml;
  gboolean       yaml_ready;
  yaml_event_t   event;
  gboolean       have_event;
  const char    *filename;
  const char    *data;
  gsize          length;
  guint          depth;
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

G_GNUC_PRINTF (4, 5) static void
set_error_at (GError **error, const ConfigParser *p, const yaml_mark_t *mark,
              const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s:%" G_GSIZE_FORMAT ":%"
               G_GSIZE_FORMAT ": %s", p->filename, (gsize) mark->line + 1,
               (gsize) mark->column + 1, message);
}

/* The same, prefixed with the key's full name. */
G_GNUC_PRINTF (5, 6) static void
set_key_error (GError **error, const ConfigParser *p, const yaml_mark_t *mark,
               const ConfigKey *entry, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  set_error_at (error, p, mark, "%s.%s: %s", entry->section, entry->key, message);
}

/* libyaml reports reader errors (bad UTF-8, control bytes) by byte offset
 * only; count lines ourselves so every error has a line and column. */
static yaml_mark_t
mark_from_offset (const ConfigParser *p, gsize offset)
{
  yaml_mark_t mark = { 0 };
  gsize end = MIN (offset, p->length);

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
  const char *problem = y->problem != NULL ? y->problem : "unknown error";
  yaml_mark_t mark = y->problem_mark;

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
  guint64 v = 0;
  gboolean overflow = FALSE;
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
  { "", 1 }, { NULL, 0 },
};

static gboolean
parse_number (const ConfigParser *p, const ConfigKey *entry, const char *text, guint64 *out,
              GError **error)
{
  const NumberUnit *units = no_units;
  const char *hint = "a decimal number";
  const char *end = NULL;
  guint64 value = 0;
  gboolean overflow = FALSE;
  gboolean known_unit = FALSE;

  if (entry->type == KEY_DURATION) {
    units = duration_units;
    hint = "a duration in seconds, e.g. 30, 30s, 5m or 1h";
  } else if (entry->type == KEY_SIZE) {
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
    g_autofree char *quoted = quote_value (text);

    set_key_error (error, p, &p->event.start_mark, entry, "%s is not %s", quoted, hint);
    return FALSE;
  }
  if (overflow || value < entry->min || value > entry->max) {
    g_autofree char *min = format_number (entry->type, entry->min);
    g_autofree char *max = format_number (entry->type, entry->max);

    /* The value is digits and a unit: safe to echo, but still bounded. */
    set_key_error (error, p, &p->event.start_mark, entry, "%.*s%s is out of range (%s..%s)",
                   MAX_QUOTED_CHARS, text, strlen (text) > MAX_QUOTED_CHARS ? "..." : "",
                   min, max);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

/* A ratio: strict decimal digits, then optionally '.' and one to three
 * digits ("0", "1", "0.15", "1.000"); no sign, exponent or bare ".5". Parsed
 * in thousandths, so no locale or float rounding gets in. */
static gboolean
parse_ratio (const ConfigParser *p, const ConfigKey *entry, const char *text, double *out,
             GError **error)
{
  const char *end = NULL;
  guint64 whole = 0;
  guint64 thousandths = 0;
  gboolean valid = TRUE;
  gboolean overflow = FALSE;

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
    guint decimals = 0;
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
    g_autofree char *quoted = quote_value (text);

    set_key_error (error, p, &p->event.start_mark, entry,
                   "%s is not a decimal from 0 to 1 with at most 3 decimals, e.g. 0.15",
                   quoted);
    return FALSE;
  }
  if (overflow || whole > G_MAXUINT64 / 1000 - 1)
    overflow = TRUE;
  else
    thousandths += whole * 1000;
  if (overflow || thousandths < entry->min || thousandths > entry->max) {
    g_autofree char *min = format_ratio (entry->min);
    g_autofree char *max = format_ratio (entry->max);

    set_key_error (error, p, &p->event.start_mark, entry, "%.*s%s is out of range (%s..%s)",
                   MAX_QUOTED_CHARS, text, strlen (text) > MAX_QUOTED_CHARS ? "..." : "",
                   min, max);
    return FALSE;
  }
  *out = (double) thousandths / 1000.0;
  return TRUE;
}

static gboolean
is_valid_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME_LENGTH)
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
check_text (const ConfigParser *p, const ConfigKey *entry, const char *text, guint64 max,
            GError **error)
{
  if (strlen (text) > max) {
    set_key_error (error, p, &p->event.start_mark, entry, "longer than %u bytes", (guint) max);
    return FALSE;
  }
  for (const char *c = text; *c != '\0'; c++) {
    if (g_ascii_iscntrl (*c)) {
      set_key_error (error, p, &p->event.start_mark, entry,
                     "contains a control character (0x%02x)", (guint) (guchar) *c);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_path (const ConfigParser *p, const ConfigKey *entry, const char *text, GError **error)
{
  g_autofree char *quoted = NULL;

  if (*text == '\0' && entry->type == KEY_PATH && entry->min == 0)
    return TRUE;
  if (g_path_is_absolute (text) && strlen (text) <= MAX_PATH_LENGTH)
    return TRUE;
  quoted = quote_value (text);
  if (!g_path_is_absolute (text))
    set_key_error (error, p, &p->event.start_mark, entry, "%s is not an absolute path", quoted);
  else
    set_key_error (error, p, &p->event.start_mark, entry, "path is longer than %d bytes",
                   MAX_PATH_LENGTH);
  return FALSE;
}

/* One list item, checked as the list's type wants. */
static gboolean
check_list_item (const ConfigParser *p, const ConfigKey *entry, const char *text,
                 GError **error)
{
  g_autofree char *quoted = NULL;

  if (entry->type == KEY_PATHS)
    return check_path (p, entry, text, error);
  if (entry->type == KEY_STRINGS)
    return check_text (p, entry, text, 255, error);
  if (is_valid_name (text))
    return TRUE;
  quoted = quote_value (text);
  set_key_error (error, p, &p->event.start_mark, entry,
                 "%s is not a valid name (lowercase letters, digits, '-' and '_', "
                 "at most %d characters)", quoted, MAX_NAME_LENGTH);
  return FALSE;
}

static gboolean
parse_list (ConfigParser *p, DflyConfig *config, const ConfigKey *entry, GError **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  char ***field = FIELD_PTR (config, entry, char **);

  for (;;) {
    const char *text;

    if (!next_event (p, error))
      return FALSE;
    if (p->event.type == YAML_SEQUENCE_END_EVENT)
      break;
    if (p->event.type != YAML_SCALAR_EVENT) {
      set_key_error (error, p, &p->event.start_mark, entry, "expected %s, found %s in the list",
                     entry->type == KEY_PATHS ? "a path"
                     : entry->type == KEY_STRINGS ? "a string" : "a name", event_kind (p));
      return FALSE;
    }
    if (items->len >= entry->max) {
      set_key_error (error, p, &p->event.start_mark, entry, "more than %u items",
                     (guint) entry->max);
      return FALSE;
    }
    if (scalar_has_nul (p)) {
      set_key_error (error, p, &p->event.start_mark, entry, "item contains a NUL character");
      return FALSE;
    }
    text = scalar_value (p);
    if (!check_list_item (p, entry, text, error))
      return FALSE;
    for (guint i = 0; i < items->len; i++) {
      if (g_str_equal (g_ptr_array_index (items, i), text)) {
        g_autofree char *quoted = quote_value (text);

        set_key_error (error, p, &p->event.start_mark, entry, "%s is listed twice", quoted);
        return FALSE;
      }
    }
    g_ptr_array_add (items, g_strdup (text));
  }

  g_ptr_array_add (items, NULL);
  g_strfreev (*field);
  *field = (char **) g_ptr_array_free (g_steal_pointer (&items), FALSE);
  return TRUE;
}

static gboolean
parse_scalar (ConfigParser *p, DflyConfig *config, const ConfigKey *entry, GError **error)
{
  const char *text = scalar_value (p);
  g_autofree char *quoted = NULL;
  guint64 number = 0;

  if (scalar_has_nul (p)) {
    set_key_error (error, p, &p->event.start_mark, entry, "value contains a NUL character");
    return FALSE;
  }
  if (scalar_is_null (p)) {
    if (entry->type != KEY_STRING) {
      set_key_error (error, p, &p->event.start_mark, entry, "expected %s, found null",
                     key_type_names[entry->type]);
      return FALSE;
    }
    text = "";
  }

  switch (entry->type) {
  case KEY_STRING:
    if (!check_text (p, entry, text, entry->max, error))
      return FALSE;
    if (entry->min > 0 && *text == '\0') {
      set_key_error (error, p, &p->event.start_mark, entry, "must not be empty");
      return FALSE;
    }
    break;
  case KEY_RATIO:
    return parse_ratio (p, entry, text, FIELD_PTR (config, entry, double), error);
  case KEY_DIGEST: {
    DflyPieceDigestAlgo algo;

    if (!dfly_piece_digest_algo_from_string (text, &algo)) {
      quoted = quote_value (text);
      set_key_error (error, p, &p->event.start_mark, entry,
                     "%s is not a piece digest algorithm (crc32c or xxh3)", quoted);
      return FALSE;
    }
    break;
  }
  case KEY_IP: {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string (text);

    if (address == NULL) {
      quoted = quote_value (text);
      set_key_error (error, p, &p->event.start_mark, entry, "%s is not an IP address", quoted);
      return FALSE;
    }
    break;
  }
  case KEY_PATH:
    if (!check_path (p, entry, text, error))
      return FALSE;
    break;
  case KEY_UINT:
  case KEY_DURATION:
    if (!parse_number (p, entry, text, &number, error))
      return FALSE;
    *FIELD_PTR (config, entry, guint) = (guint) number; /* max fits: see the table */
    return TRUE;
  case KEY_SIZE:
    if (!parse_number (p, entry, text, &number, error))
      return FALSE;
    *FIELD_PTR (config, entry, guint64) = number;
    return TRUE;
  case KEY_PORT:
    if (!parse_number (p, entry, text, &number, error))
      return FALSE;
    *FIELD_PTR (config, entry, guint16) = (guint16) number;
    return TRUE;
  case KEY_LOG_LEVEL: {
    g_autoptr(GEnumClass) klass = g_type_class_ref (DFLY_TYPE_LOG_LEVEL);
    GEnumValue *value = g_enum_get_value_by_nick (klass, text);

    if (value == NULL) {
      quoted = quote_value (text);
      set_key_error (error, p, &p->event.start_mark, entry,
                     "%s is not a log level (error, warning, message, info or debug)", quoted);
      return FALSE;
    }
    *FIELD_PTR (config, entry, DflyLogLevel) = (DflyLogLevel) value->value;
    return TRUE;
  }
  case KEY_NAMES:
  case KEY_PATHS:
  case KEY_STRINGS:
    g_return_val_if_reached (FALSE);
  }

  /* The string-valued types. */
  g_free (*FIELD_PTR (config, entry, char *));
  *FIELD_PTR (config, entry, char *) = g_strdup (text);
  return TRUE;
}

/* The value of one key; the current event is the key. */
static gboolean
parse_value (ConfigParser *p, DflyConfig *config, const ConfigKey *entry, GError **error)
{
  gboolean is_list = entry->type == KEY_NAMES || entry->type == KEY_PATHS ||
                     entry->type == KEY_STRINGS;

  if (!next_event (p, error))
    return FALSE;
  if (is_list && p->event.type == YAML_SEQUENCE_START_EVENT)
    return parse_list (p, config, entry, error);
  if (!is_list && p->event.type == YAML_SCALAR_EVENT)
    return parse_scalar (p, config, entry, error);
  set_key_error (error, p, &p->event.start_mark, entry, "expected %s, found %s",
                 key_type_names[entry->type], event_kind (p));
  return FALSE;
}

static const ConfigKey *
find_key (const char *section, const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++) {
    if (g_str_equal (config_keys[i].section, section) &&
        (key == NULL || g_str_equal (config_keys[i].key, key)))
      return &config_keys[i];
  }
  return NULL;
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

/* The keys of one section; the current event is the mapping's start.
 * seen[] is indexed like config_keys. */
static gboolean
parse_section (ConfigParser *p, DflyConfig *config, const char *section, gboolean *seen,
               GError **error)
{
  for (;;) {
    const ConfigKey *entry;
    g_autofree char *name = NULL;

    if (!next_event (p, error))
      return FALSE;
    if (p->event.type == YAML_MAPPING_END_EVENT)
      return TRUE;
    if (!read_mapping_key (p, error))
      return FALSE;

    entry = find_key (section, scalar_value (p));
    if (entry == NULL) {
      g_autofree char *full = g_strdup_printf ("%s.%s", section, scalar_value (p));

      name = quote_value (full);
      set_error_at (error, p, &p->event.start_mark, "unknown key %s", name);
      return FALSE;
    }
    if (seen[entry - config_keys]) {
      set_error_at (error, p, &p->event.start_mark, "duplicate key \"%s.%s\"", entry->section,
                    entry->key);
      return FALSE;
    }
    seen[entry - config_keys] = TRUE;
    if (!parse_value (p, config, entry, error))
      return FALSE;
  }
}

/* The top-level mapping of sections; the current event is its start. */
static gboolean
parse_sections (ConfigParser *p, DflyConfig *config, GError **error)
{
  gboolean seen_keys[G_N_ELEMENTS (config_keys)] = { FALSE };
  gboolean seen_sections[G_N_ELEMENTS (config_keys)] = { FALSE }; /* by first key */

  for (;;) {
    const ConfigKey *first;
    const char *section;

    if (!next_event (p, error))
      return FALSE;
    if (p->event.type == YAML_MAPPING_END_EVENT)
      return TRUE;
    if (!read_mapping_key (p, error))
      return FALSE;

    first = find_key (scalar_value (p), NULL);
    if (first == NULL) {
      g_autofree char *name = quote_value (scalar_value (p));

      set_error_at (error, p, &p->event.start_mark, "unknown section %s", name);
      return FALSE;
    }
    section = first->section; /* static: outlives the event */
    if (seen_sections[first - config_keys]) {
      set_error_at (error, p, &p->event.start_mark, "duplicate section \"%s\"", section);
      return FALSE;
    }
    seen_sections[first - config_keys] = TRUE;

    if (!next_event (p, error))
      return FALSE;
    /* "daemon:" with every key commented out, as in the shipped file. */
    if (p->event.type == YAML_SCALAR_EVENT && scalar_is_null (p))
      continue;
    if (p->event.type != YAML_MAPPING_START_EVENT) {
      set_error_at (error, p, &p->event.start_mark, "%s: expected a mapping of keys, found %s",
                    section, event_kind (p));
      return FALSE;
    }
    if (!parse_section (p, config, section, seen_keys, error))
      return FALSE;
  }
}

static gboolean
parse_stream (ConfigParser *p, DflyConfig *config, GError **error)
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
    if (!parse_sections (p, config, error))
      return FALSE;
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

/* Rules between keys, checked once the whole file is read. */
static gboolean
check_relations (const DflyConfig *config, const char *filename, GError **error)
{
  if (config->storage.low_watermark >= config->storage.high_watermark) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: storage.low_watermark (%u) must be below storage.high_watermark (%u)",
                 filename, config->storage.low_watermark, config->storage.high_watermark);
    return FALSE;
  }
  if (config->download.piece_length != 0 &&
      config->download.piece_length < config->download.min_piece_length) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: download.piece_length (%" G_GUINT64_FORMAT ") is below "
                 "download.min_piece_length (%" G_GUINT64_FORMAT ")", filename,
                 config->download.piece_length, config->download.min_piece_length);
    return FALSE;
  }
  if ((config->s3.access_key_id[0] == '\0') != (config->s3.secret_access_key[0] == '\0')) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: s3.access_key_id and s3.secret_access_key go together: set both or neither",
                 filename);
    return FALSE;
  }
  for (char **item = config->peer.schedulers; *item != NULL; item++) {
    g_autoptr (GSocketConnectable) address = g_network_address_parse (*item, 0, NULL);

    if (address == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "%s: peer.schedulers: \"%s\" is not host:port", filename, *item);
      return FALSE;
    }
  }
  if (config->s3.endpoint[0] != '\0' && !g_str_has_prefix (config->s3.endpoint, "http://") &&
      !g_str_has_prefix (config->s3.endpoint, "https://")) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: s3.endpoint must be an http:// or https:// URL", filename);
    return FALSE;
  }
  return TRUE;
}

DflyConfig *
dfly_config_load_data (const char *data, gsize length, const char *filename, GError **error)
{
  g_auto (ConfigParser) p = { 0 };
  g_autoptr(DflyConfig) config = NULL;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (filename == NULL)
    filename = "<data>";
  if (length > CONFIG_MAX_SIZE) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: file is larger than 1 MiB (%" G_GSIZE_FORMAT " bytes)", filename, length);
    return NULL;
  }

  p.filename = filename;
  p.data = data != NULL ? data : "";
  p.length = length;
  if (!yaml_parser_initialize (&p.yaml)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: out of memory while parsing YAML", filename);
    return NULL;
  }
  p.yaml_ready = TRUE;
  yaml_parser_set_input_string (&p.yaml, (const unsigned char *) p.data, length);

  config = dfly_config_new_default ();
  if (!parse_stream (&p, config, error))
    return NULL;
  if (!check_relations (config, filename, error))
    return NULL;
  return g_steal_pointer (&config);
}

/* Reads at most CONFIG_MAX_SIZE bytes of a regular file. A FIFO or a device
 * such as /dev/zero is refused: it could block or never end. */
static char *
read_config_fd (int fd, const char *path, gsize *length, GError **error)
{
  struct stat st;
  g_autoptr(GByteArray) buffer = NULL;
  guint8 chunk[4096];

  if (fstat (fd, &st) != 0) {
    int saved_errno = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: %s", path,
                 g_strerror (saved_errno));
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: not a regular file", path);
    return NULL;
  }
  if (st.st_size > CONFIG_MAX_SIZE) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: file is larger than 1 MiB (%" G_GINT64_FORMAT " bytes)", path,
                 (gint64) st.st_size);
    return NULL;
  }

  buffer = g_byte_array_sized_new ((guint) st.st_size + 1);
  for (;;) {
    gssize n = read (fd, chunk, sizeof chunk);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved_errno = errno;

      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: %s", path,
                   g_strerror (saved_errno));
      return NULL;
    }
    if (n == 0)
      break;
    /* It grew after fstat(): still hold to the cap. */
    if (buffer->len + (gsize) n > CONFIG_MAX_SIZE) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "%s: file is larger than 1 MiB", path);
      return NULL;
    }
    g_byte_array_append (buffer, chunk, (guint) n);
  }
  *length = buffer->len;
  g_byte_array_append (buffer, (const guint8 *) "", 1); /* NUL-terminated for safety */
  return (char *) g_byte_array_free (g_steal_pointer (&buffer), FALSE);
}

DflyConfig *
dfly_config_load_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
   * below as not a regular file); regular files ignore the flag. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0) {
    int saved_errno = errno;

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: %s", path,
                 g_strerror (saved_errno));
    return NULL;
  }
  data = read_config_fd (fd, path, &length, error);
  g_close (fd, NULL);
  if (data == NULL)
    return NULL;
  return dfly_config_load_data (data, length, path, error);
}
