/* dfly-config.c — DflyConfig: the daemon's key tables, and plugins' sections bound to it
 *
 * Loading is: read the YAML (dfly-config-reader.c), apply the daemon's
 * sections from the tables below (dfly-config-value.c), keep the rest for
 * the plugins, whose tables are known only once they are loaded
 * (dfly_config_add_plugin), then refuse what nobody took
 * (dfly_config_check_plugins).
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

#include "dfly/dfly-error.h"
#include "dfly-config-private.h"

#define CONFIG_MAX_SIZE (1024 * 1024) /* bytes; a real dflyd.yaml is a few KiB */

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

#define LIVE    DFLY_CONFIG_LIVE
#define RESTART DFLY_CONFIG_RESTART
#define LISTS   CONFIG_MAX_LIST_ITEMS
#define PATHS   CONFIG_MAX_PATH_LENGTH

/* One key of DflyConfig: name, type, field, default, range, flags, doc. */
#define KEY(name_, type_, field_, default_, min_, max_, flags_, doc_)                           \
  {                                                                                             \
    .name = (name_), .type = DFLY_CONFIG_##type_, .offset = offsetof (DflyConfig, field_),      \
    .default_value = (default_), .min = (min_), .max = (max_), .flags = (flags_), .doc = (doc_) \
  }

/* The daemon's keys, section by section, in the order dfly_config_diff
 * reports them. data/dflyd.yaml and data/dflyd.yaml.5 document each one,
 * which tests/test-config.c holds them to. */
static const DflyConfigKey daemon_keys[] = {
  /* The manager answers /healthy only so far: it joins the defaults when it does more. */
  KEY ("roles", NAMES, daemon.roles, "[scheduler, seed, peer, proxy]", 0, LISTS, RESTART,
       "the roles to run, started in this order"),
  KEY ("plugin_dirs", PATHS, daemon.plugin_dirs, "[]", 0, LISTS, RESTART,
       "directories to load plugins from; empty: the built-in one"),
  /* Where systemd's StateDirectory= and CacheDirectory= put them, whatever
   * the build prefix: the unit and the daemon must agree. */
  KEY ("state_dir", PATH, daemon.state_dir, "/var/lib/dfly", 1, PATHS, RESTART,
       "state kept across restarts"),
  KEY ("cache_dir", PATH, daemon.cache_dir, "/var/cache/dfly", 1, PATHS, RESTART,
       "downloaded pieces and their index"),
  KEY ("log_level", LOG_LEVEL, daemon.log_level, "info", 0, 0, LIVE,
       "the least severe messages logged"),
  KEY ("shutdown_timeout", DURATION, daemon.shutdown_timeout, "10s", 1, 600, LIVE,
       "time roles get to stop"),
};

static const DflyConfigKey host_keys[] = {
  KEY ("hostname", STRING, host.hostname, "\"\"", 0, 255, RESTART,
       "this host's name; empty: the system's"),
  KEY ("ip", IP, host.ip, "127.0.0.1", 0, 0, RESTART, "the address peers reach this host on"),
  KEY ("idc", STRING, host.idc, "\"\"", 0, 255, LIVE, "the data centre of this host"),
  KEY ("location", STRING, host.location, "\"\"", 0, 1024, LIVE,
       "where this host is, \"|\"-separated from the widest"),
  KEY ("announce_interval", DURATION, host.announce_interval, "30s", 1, 3600, LIVE,
       "time between host announces"),
};

static const DflyConfigKey scheduler_keys[] = {
  KEY ("port", PORT, scheduler.port, "8002", 0, G_MAXUINT16, RESTART,
       "the local scheduler's port, on host.ip"),
};

static const DflyConfigKey peer_keys[] = {
  KEY ("schedulers", STRINGS, peer.schedulers, "[]", 0, LISTS, RESTART,
       "every scheduler as host:port"),
  KEY ("leech", UINT, peer.leech, "0", 0, 1, RESTART, "1: download only, never upload"),
};

static const DflyConfigKey upload_keys[] = {
  KEY ("port", PORT, upload.port, "4000", 0, G_MAXUINT16, RESTART,
       "the upload server's port, on host.ip"),
  KEY ("rate_limit", SIZE, upload.rate_limit, "0", 0, 1024 * GiB, LIVE,
       "bytes per second uploaded at most; 0: no limit"),
  KEY ("slots", UINT, upload.slots, "200", 1, 100000, LIVE, "uploads at once of a peer"),
  KEY ("seed_slots", UINT, upload.seed_slots, "2000", 1, 100000, LIVE,
       "uploads at once of a seed peer"),
};

static const DflyConfigKey protocol_keys[] = {
  KEY ("max_message_size", SIZE, protocol.max_message_size, "4MiB", 1 * KiB, 64 * MiB, RESTART,
       "larger protocol messages are refused"),
  KEY ("max_connections", UINT, protocol.max_connections, "4096", 1, 1000000, RESTART,
       "connections each server keeps open at most; more are closed at once"),
  KEY ("max_connections_per_address", UINT, protocol.max_connections_per_address, "256", 1, 1000000,
       RESTART, "connections each server keeps open from one address at most"),
  KEY ("header_timeout", DURATION, protocol.header_timeout, "10s", 1, 600, RESTART,
       "time a new connection has to send its first request head"),
  KEY ("idle_timeout", DURATION, protocol.idle_timeout, "60s", 1, 3600, RESTART,
       "time a connection may stay silent"),
  KEY ("max_unread", SIZE, protocol.max_unread, "128MiB", 16 * MiB, 64 * GiB, RESTART,
       "bytes the streams of one server may leave unread together"),
};

static const DflyConfigKey download_keys[] = {
  KEY ("piece_length", SIZE, download.piece_length, "0", 0, 1 * GiB, LIVE,
       "piece length of new tasks; 0: from the content length"),
  KEY ("min_piece_length", SIZE, download.min_piece_length, "4MiB", 4 * KiB, 16 * MiB, LIVE,
       "the smallest piece length a request may ask for"),
  KEY ("piece_digest", DIGEST, download.piece_digest, "sha256", 0, 0, LIVE,
       "the digest every piece is checked with: sha256; crc32c, xxh3 on trusted networks only"),
  KEY ("concurrency", UINT, download.concurrency, "4", 1, 64, LIVE,
       "pieces of one task fetched at once from the source"),
  KEY ("parent_concurrency", UINT, download.parent_concurrency, "16", 1, 64, LIVE,
       "pieces of one task fetched at once from parents"),
  KEY ("workers", UINT, download.workers, "64", 1, 1024, RESTART,
       "piece worker threads of all downloads together"),
  KEY ("rate_limit", SIZE, download.rate_limit, "0", 0, 1024 * GiB, LIVE,
       "bytes per second downloaded at most; 0: no limit"),
  KEY ("max_tasks", UINT, download.max_tasks, "16", 1, 1024, LIVE, "downloads running at once"),
  KEY ("max_waiting", UINT, download.max_waiting, "1024", 1, 100000, LIVE,
       "downloads waiting to start beyond which a scheduler's order is refused"),
  /* Signed-URL and tenancy parameters that differ per request for the same
   * bytes (Dragonfly's default filters). */
  KEY ("filtered_query_keys", STRINGS, download.filtered_query_keys,
       "[X-Amz-*, X-Goog-*, OSSAccessKeyId, Expires, Signature, SecurityToken, q-sign-*, ns]", 0,
       LISTS, LIVE, "query parameters dropped from a URL before its task id"),
};

static const DflyConfigKey http_keys[] = {
  KEY ("connect_timeout", DURATION, http.connect_timeout, "10s", 1, 600, LIVE,
       "time to connect to an origin"),
  KEY ("read_timeout", DURATION, http.read_timeout, "30s", 1, 3600, LIVE,
       "time without a byte before a read fails"),
  KEY ("retries", UINT, http.retries, "3", 0, 10, LIVE,
       "extra attempts on 5xx and connection errors"),
  KEY ("retry_backoff_ms", UINT, http.retry_backoff_ms, "200", 0, 60000, LIVE,
       "the first backoff, doubled per attempt"),
  KEY ("ca_file", PATH, http.ca_file, "\"\"", 0, PATHS, LIVE,
       "an extra CA bundle; empty: the system's CAs only"),
  KEY ("insecure_hosts", STRINGS, http.insecure_hosts, "[]", 0, LISTS, LIVE,
       "hosts whose certificates are not verified"),
};

/* What the HTTP client may connect to (dfly-source-policy.h). */
static const DflyConfigKey source_keys[] = {
  KEY ("allow", ORIGINS, source.allow, "[]", 0, LISTS, LIVE,
       "the only origins fetched, as CIDRs and host patterns; empty: any not denied"),
  KEY ("deny", ORIGINS, source.deny, "[]", 0, LISTS, LIVE,
       "origins never fetched, beside link-local and cloud metadata addresses"),
};

static const DflyConfigKey storage_keys[] = {
  KEY ("backend", STRING, storage.backend, "disk", 0, CONFIG_MAX_NAME_LENGTH, RESTART,
       "the storage plugin; empty: none"),
  KEY ("quota", SIZE, storage.quota, "0", 0, G_MAXINT64, LIVE,
       "bytes kept at most; 0: the file system's size"),
  KEY ("high_watermark", UINT, storage.high_watermark, "80", 1, 100, LIVE,
       "percent of the quota that starts a collection"),
  KEY ("low_watermark", UINT, storage.low_watermark, "60", 0, 99, LIVE,
       "percent of the quota a collection goes down to"),
  KEY ("task_ttl", DURATION, storage.task_ttl, "6h", 60, 365 * 86400, LIVE,
       "time an unused task is kept"),
  KEY ("gc_interval", DURATION, storage.gc_interval, "1m", 1, 86400, LIVE,
       "time between collections"),
};

/* Mutual TLS between components (dfly-tls.h): all three paths, or none. */
static const DflyConfigKey tls_keys[] = {
  KEY ("ca", PATH, tls.ca, "\"\"", 0, PATHS, RESTART,
       "the cluster CA certificate every component's is checked against"),
  KEY ("cert", PATH, tls.cert, "\"\"", 0, PATHS, RESTART,
       "this host's certificate, issued by the cluster CA"),
  KEY ("key", PATH, tls.key, "\"\"", 0, PATHS, RESTART, "the private key of tls.cert"),
};

static const DflyConfigKey manager_keys[] = {
  KEY ("addr", STRING, manager.addr, "\"\"", 0, 1024, RESTART,
       "the manager this host's scheduler and seed register with, host:port; empty: none"),
  KEY ("scheduler_cluster_id", UINT, manager.scheduler_cluster_id, "1", 1, G_MAXINT32, RESTART,
       "the scheduler cluster this host's scheduler joins"),
  KEY ("seed_peer_cluster_id", UINT, manager.seed_peer_cluster_id, "1", 1, G_MAXINT32, RESTART,
       "the seed peer cluster this host's seed joins"),
  KEY ("keepalive_interval", DURATION, manager.keepalive_interval, "5s", 1, 600, RESTART,
       "time between keepalives to the manager"),
  KEY ("refresh_interval", DURATION, manager.refresh_interval, "60s", 1, 3600, RESTART,
       "time between asking the manager for this host's schedulers"),
};

#define SECTION(keys_)                                                           \
  {                                                                              \
    .size = sizeof (DflyConfig), .keys = (keys_), .n_keys = G_N_ELEMENTS (keys_) \
  }

static const DflyConfigSection daemon_section = SECTION (daemon_keys);
static const DflyConfigSection host_section = SECTION (host_keys);
static const DflyConfigSection scheduler_section = SECTION (scheduler_keys);
static const DflyConfigSection peer_section = SECTION (peer_keys);
static const DflyConfigSection upload_section = SECTION (upload_keys);
static const DflyConfigSection protocol_section = SECTION (protocol_keys);
static const DflyConfigSection download_section = SECTION (download_keys);
static const DflyConfigSection http_section = SECTION (http_keys);
static const DflyConfigSection source_section = SECTION (source_keys);
static const DflyConfigSection storage_section = SECTION (storage_keys);
static const DflyConfigSection tls_section = SECTION (tls_keys);
static const DflyConfigSection manager_section = SECTION (manager_keys);

/* "scheduler" is shared: the port is the daemon's (its peer finds the local
 * scheduler there), every other key the scheduler role's. So is "manager":
 * where this host's roles find a manager is the daemon's, how the manager
 * role serves is its own. */
static const DflyConfigDaemonSection daemon_sections[] = {
  { "daemon", &daemon_section, FALSE },
  { "host", &host_section, FALSE },
  { "scheduler", &scheduler_section, TRUE },
  { "peer", &peer_section, FALSE },
  { "upload", &upload_section, FALSE },
  { "protocol", &protocol_section, FALSE },
  { "download", &download_section, FALSE },
  { "http", &http_section, FALSE },
  { "source", &source_section, FALSE },
  { "storage", &storage_section, FALSE },
  { "tls", &tls_section, FALSE },
  { "manager", &manager_section, TRUE },
  { NULL, NULL, FALSE },
};

/* A DflyConfig and what only this file sees. */
typedef struct {
  DflyConfig      config;   /* first: a DflyConfig * is a ConfigBox * */
  ConfigDocument *document; /* as read; NULL for the defaults */
  GPtrArray      *plugins;  /* names added, in order */
  GHashTable     *settings; /* plugin name → DflySettings */
} ConfigBox;

G_DEFINE_BOXED_TYPE (DflyConfig, dfly_config, dfly_config_ref, dfly_config_unref)

const DflyConfigDaemonSection *
dfly_config_get_daemon_sections (void)
{
  return daemon_sections;
}

static const DflyConfigDaemonSection *
lookup_daemon_section (const char *name)
{
  for (const DflyConfigDaemonSection *s = daemon_sections; s->name != NULL; s++) {
    if (g_str_equal (s->name, name))
      return s;
  }
  return NULL;
}

DflyConfig *
dfly_config_new_default (void)
{
  ConfigBox *box = g_atomic_rc_box_new0 (ConfigBox);

  box->plugins = g_ptr_array_new_with_free_func (g_free);
  box->settings =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) dfly_settings_unref);
  for (const DflyConfigDaemonSection *s = daemon_sections; s->name != NULL; s++) {
    for (guint i = 0; i < s->section->n_keys; i++) {
      g_autoptr (GError) error = NULL;

      if (!config_value_apply_default (&s->section->keys[i], s->name, &box->config, &error))
        g_critical ("the daemon's key table is wrong: %s", error->message);
    }
  }
  return &box->config;
}

DflyConfig *
dfly_config_ref (DflyConfig *config)
{
  return g_atomic_rc_box_acquire (config);
}

static void
config_clear (gpointer data)
{
  ConfigBox *box = data;

  for (const DflyConfigDaemonSection *s = daemon_sections; s->name != NULL; s++) {
    for (guint i = 0; i < s->section->n_keys; i++)
      config_value_clear (&s->section->keys[i], &box->config);
  }
  g_clear_pointer (&box->document, config_document_free);
  g_ptr_array_unref (box->plugins);
  g_hash_table_unref (box->settings);
}

void
dfly_config_unref (DflyConfig *config)
{
  g_atomic_rc_box_release_full (config, config_clear);
}

DflySettings *
dfly_config_get_settings (DflyConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL && name != NULL, NULL);
  return g_hash_table_lookup (((ConfigBox *) config)->settings, name);
}

void
dfly_config_keep_restart_keys (DflyConfig *loaded, const DflyConfig *running)
{
  const ConfigBox *running_box = (const ConfigBox *) running;
  ConfigBox       *loaded_box = (ConfigBox *) loaded;

  g_return_if_fail (loaded != NULL && running != NULL);
  for (const DflyConfigDaemonSection *s = daemon_sections; s->name != NULL; s++) {
    for (guint i = 0; i < s->section->n_keys; i++) {
      if (!(s->section->keys[i].flags & DFLY_CONFIG_LIVE))
        config_value_copy (&s->section->keys[i], loaded, running);
    }
  }
  for (guint p = 0; p < loaded_box->plugins->len; p++) {
    const char              *name = g_ptr_array_index (loaded_box->plugins, p);
    DflySettings            *now = g_hash_table_lookup (loaded_box->settings, name);
    DflySettings            *before = g_hash_table_lookup (running_box->settings, name);
    const DflyConfigSection *section = dfly_settings_get_section (now);

    if (before == NULL || dfly_settings_get_section (before) != section)
      continue;
    for (guint i = 0; i < section->n_keys; i++) {
      if (!(section->keys[i].flags & DFLY_CONFIG_LIVE))
        config_value_copy (&section->keys[i], config_settings_get_mutable (now),
                           dfly_settings_get_values (before));
    }
  }
}

GPtrArray *
dfly_config_diff (const DflyConfig *old_config, const DflyConfig *new_config)
{
  const ConfigBox *old_box = (const ConfigBox *) old_config;
  const ConfigBox *new_box = (const ConfigBox *) new_config;
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (old_config != NULL, NULL);
  g_return_val_if_fail (new_config != NULL, NULL);

  for (const DflyConfigDaemonSection *s = daemon_sections; s->name != NULL; s++)
    config_section_diff (s->name, s->section->keys, s->section->n_keys, old_config, new_config,
                         lines);
  for (guint p = 0; p < new_box->plugins->len; p++) {
    const char              *name = g_ptr_array_index (new_box->plugins, p);
    DflySettings            *after = g_hash_table_lookup (new_box->settings, name);
    DflySettings            *before = g_hash_table_lookup (old_box->settings, name);
    const DflyConfigSection *section = dfly_settings_get_section (after);

    /* A plugin new since then (or rebuilt with another table) has no "before". */
    if (before == NULL || dfly_settings_get_section (before) != section)
      continue;
    config_section_diff (name, section->keys, section->n_keys, dfly_settings_get_values (before),
                         dfly_settings_get_values (after), lines);
  }
  return g_steal_pointer (&lines);
}

/* What a section's value was when it was not a mapping. */
static gboolean
check_section_shape (const ConfigSection *section, const char *filename, GError **error)
{
  if (section->shape == NULL)
    return TRUE;
  config_set_error_at (error, filename, &section->shape->mark,
                       "%s: expected a mapping of keys, found %s", section->name,
                       section->shape->kind == CONFIG_NODE_LIST ? "a list" : "a scalar");
  return FALSE;
}

/* The daemon's sections of document, into config; the others stay for plugins. */
static gboolean
apply_daemon_sections (DflyConfig *config, ConfigDocument *document, GError **error)
{
  for (guint i = 0; i < document->sections->len; i++) {
    ConfigSection                 *section = g_ptr_array_index (document->sections, i);
    const DflyConfigDaemonSection *own = lookup_daemon_section (section->name);

    if (own == NULL)
      continue;
    if (!check_section_shape (section, document->filename, error))
      return FALSE;
    if (!config_section_apply (own->name, own->section->keys, own->section->n_keys, section,
                               own->plugin_keys, config, document->filename, error))
      return FALSE;
    section->claimed = !own->plugin_keys;
  }
  return TRUE;
}

/* Whether the daemon's table has this key of a shared section. */
static gboolean
is_daemon_key (const DflyConfigDaemonSection *own, const char *key)
{
  for (guint i = 0; own != NULL && i < own->section->n_keys; i++) {
    if (g_str_equal (own->section->keys[i].name, key))
      return TRUE;
  }
  return FALSE;
}

gboolean
dfly_config_add_plugin (DflyConfig *config, const char *name, const DflyConfigSection *section,
                        GError **error)
{
  ConfigBox                     *box = (ConfigBox *) config;
  ConfigSection                 *raw = config_document_lookup (box->document, name);
  const DflyConfigDaemonSection *own = lookup_daemon_section (name);
  const char *filename = box->document != NULL ? box->document->filename : "<defaults>";
  g_autoptr (DflySettings) settings = NULL;

  g_return_val_if_fail (config != NULL && name != NULL, FALSE);
  if (section == NULL || g_hash_table_contains (box->settings, name))
    return TRUE;
  if (own != NULL && !own->plugin_keys) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "plugin %s: its section \"%s\" is the daemon's", name, name);
    return FALSE;
  }
  if (raw != NULL && !check_section_shape (raw, filename, error))
    return FALSE;
  /* In a shared section the daemon's keys were applied already. */
  if (raw != NULL && own != NULL) {
    for (guint i = 0; i < raw->entries->len; i++) {
      ConfigEntry *entry = g_ptr_array_index (raw->entries, i);

      if (is_daemon_key (own, entry->key))
        g_ptr_array_remove_index (raw->entries, i--);
    }
  }
  settings = config_settings_new (name, section, raw, filename, error);
  if (settings == NULL)
    return FALSE;
  if (raw != NULL)
    raw->claimed = TRUE;
  g_ptr_array_add (box->plugins, g_strdup (name));
  g_hash_table_insert (box->settings, g_strdup (name), g_steal_pointer (&settings));
  return TRUE;
}

gboolean
dfly_config_check_plugins (DflyConfig *config, const char *const *plugin_dirs, GError **error)
{
  ConfigBox *box = (ConfigBox *) config;

  g_return_val_if_fail (config != NULL, FALSE);
  for (guint i = 0; box->document != NULL && i < box->document->sections->len; i++) {
    ConfigSection                 *section = g_ptr_array_index (box->document->sections, i);
    const DflyConfigDaemonSection *own = lookup_daemon_section (section->name);
    g_autofree char               *quoted = NULL;
    g_autofree char               *dirs = NULL;

    if (section->claimed)
      continue;
    if (own != NULL) {
      /* The daemon's keys were applied: what is left is unknown. */
      for (guint j = 0; j < section->entries->len; j++) {
        ConfigEntry *entry = g_ptr_array_index (section->entries, j);

        if (!is_daemon_key (own, entry->key)) {
          g_autofree char *full = g_strdup_printf ("%s.%s", section->name, entry->key);

          quoted = config_quote_value (full);
          config_set_error_at (error, box->document->filename, &entry->mark,
                               "unknown key %s (no %s plugin took it)", quoted, section->name);
          return FALSE;
        }
      }
      continue;
    }
    quoted = config_quote_value (section->name);
    dirs = plugin_dirs != NULL && plugin_dirs[0] != NULL ? g_strjoinv (", ", (char **) plugin_dirs)
                                                         : g_strdup ("no directory");
    config_set_error_at (error, box->document->filename, &section->mark,
                         "unknown section %s: no plugin of that name in %s", quoted, dirs);
    return FALSE;
  }
  /* The reader stopped at a value no key takes, which the daemon or a
   * plugin refused above; this is only a safety net. */
  if (box->document != NULL && box->document->cut_short) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: a value is a mapping or holds a list", box->document->filename);
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
                 "download.min_piece_length (%" G_GUINT64_FORMAT ")",
                 filename, config->download.piece_length, config->download.min_piece_length);
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
  return TRUE;
}

DflyConfig *
dfly_config_load_data (const char *data, gsize length, const char *filename, GError **error)
{
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (ConfigDocument) document = NULL;
  ConfigBox *box;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (filename == NULL)
    filename = "<data>";
  if (length > CONFIG_MAX_SIZE) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "%s: file is larger than 1 MiB (%" G_GSIZE_FORMAT " bytes)", filename, length);
    return NULL;
  }
  document = config_document_read (data, length, filename, error);
  if (document == NULL)
    return NULL;
  config = dfly_config_new_default ();
  if (!apply_daemon_sections (config, document, error))
    return NULL;
  if (!check_relations (config, filename, error))
    return NULL;
  box = (ConfigBox *) config;
  box->document = g_steal_pointer (&document);
  return g_steal_pointer (&config);
}

/* Reads at most CONFIG_MAX_SIZE bytes of a regular file. A FIFO or a device
 * such as /dev/zero is refused: it could block or never end. */
static char *
read_config_fd (int fd, const char *path, gsize *length, GError **error)
{
  struct stat st;
  g_autoptr (GByteArray) buffer = NULL;
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
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "%s: file is larger than 1 MiB",
                   path);
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
  gsize            length = 0;
  int              fd;

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
