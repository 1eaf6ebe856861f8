/* dfly-config.h — dflyd.yaml as typed values
 *
 * DflyConfig holds the daemon's own sections: those dflyd and libdfly use,
 * or several plugins share. A plugin's own section (named after the plugin,
 * see dfly-config-section.h) is kept as read until the plugin is loaded,
 * then checked against its table and turned into its DflySettings, which
 * the config holds too. Defaults live in the key tables; the shipped
 * data/dflyd.yaml documents every key with its default. Fields are
 * read-only for plugins; a reload builds a new DflyConfig and swaps it in
 * the context.
 */
#pragma once

#include <glib-object.h>

#include "dfly-config-section.h"

G_BEGIN_DECLS

typedef enum {
  DFLY_LOG_LEVEL_ERROR,
  DFLY_LOG_LEVEL_WARNING,
  DFLY_LOG_LEVEL_MESSAGE,
  DFLY_LOG_LEVEL_INFO,
  DFLY_LOG_LEVEL_DEBUG,
} DflyLogLevel;

typedef struct {
  struct {
    char       **roles;       /* enabled roles, started in this order */
    char       **plugin_dirs; /* empty: the built-in plugin directory */
    char        *state_dir;
    char        *cache_dir;
    DflyLogLevel log_level;
    guint        shutdown_timeout; /* seconds roles get to stop */
  } daemon;
  struct {
    char *hostname; /* empty: the system's host name */
    char *ip;       /* address peers reach this host on */
    char *idc;
    char *location;
    guint announce_interval; /* seconds between host announces */
  } host;
  struct {
    /* The local scheduler's port, on host.ip: the scheduler role listens on
     * it and this dflyd's peer finds it there. The scheduler role's other
     * keys are its own (its section's DflySettings). */
    guint16 port;
  } scheduler;
  struct {
    char **schedulers; /* "host:port" of every scheduler; empty: the
                                 * local one if this dflyd runs it, else none */
    guint  leech;      /* 1: download only, never upload (disable_shared) */
  } peer;
  struct {
    guint16 port;       /* upload server (peer service), on host.ip */
    guint64 rate_limit; /* bytes/s this host uploads at most; 0: none */
    guint   slots;      /* uploads at once (load limit) of a peer */
    guint   seed_slots; /* the same for a seed peer */
  } upload;
  struct {
    guint64 max_message_size;            /* bytes; larger protocol messages are refused */
    guint   max_connections;             /* each server's open connections, at most */
    guint   max_connections_per_address; /* the same from one peer address */
    guint   header_timeout;              /* seconds from accept to the first request head */
    guint   idle_timeout;                /* seconds a connection may stay silent */
    guint64 max_unread; /* bytes the streams of one server may leave unread together */
  } protocol;
  struct {
    guint64 piece_length;       /* 0: chosen from the content length */
    guint64 min_piece_length;   /* smallest piece length a request may ask for */
    char   *piece_digest;       /* "sha256", "crc32c" or "xxh3" */
    guint   concurrency;        /* pieces fetched at once per task from the source */
    guint   parent_concurrency; /* pieces fetched at once per task from parents */
    guint   workers;            /* piece worker threads of all downloads together */
    guint64 rate_limit;         /* bytes/s this host downloads at most; 0: none */
    guint   max_tasks;          /* downloads running at once; more wait */
    guint   max_waiting;        /* downloads waiting beyond which orders are refused */
    char **filtered_query_keys; /* dropped from the URL before the task id; "X-Amz-*" is a prefix */
  } download;
  struct {
    guint  connect_timeout;  /* seconds */
    guint  read_timeout;     /* seconds without a byte before a read fails */
    guint  retries;          /* extra attempts on 5xx and connection errors */
    guint  retry_backoff_ms; /* first backoff; doubles per attempt */
    char  *ca_file;          /* extra CA bundle; "" = system CAs only */
    char **insecure_hosts;   /* TLS verification off for exactly these hosts */
  } http;
  struct {
    char **allow; /* CIDRs and host patterns; empty: all but what deny lists */
    char **deny;  /* CIDRs and host patterns; link-local addresses always */
  } source;
  struct {
    char   *backend;        /* storage plugin name */
    guint64 quota;          /* bytes dfly may keep; 0 = the file system's size */
    guint   high_watermark; /* percent of quota that starts GC */
    guint   low_watermark;  /* percent of quota GC brings usage down to */
    guint   task_ttl;       /* seconds an unused task is kept */
    guint   gc_interval;    /* seconds between GC runs */
  } storage;
  struct {
    char *ca;   /* the cluster CA's certificate; all three empty: plaintext */
    char *cert; /* this host's certificate, issued by ca */
    char *key;  /* its private key */
  } tls;
  struct {
    /* Where this host's scheduler and seed register and keep alive. The
     * manager role's own keys (listen, port, …) are its section's
     * DflySettings. */
    char *addr;                 /* host:port or http(s)://host:port; empty: none */
    guint scheduler_cluster_id; /* the scheduler cluster this host's scheduler joins */
    guint seed_peer_cluster_id; /* the seed peer cluster this host's seed joins */
    guint keepalive_interval;   /* seconds between keepalives */
    guint refresh_interval;     /* seconds between asking it for schedulers */
  } manager;
} DflyConfig;

#define DFLY_TYPE_CONFIG (dfly_config_get_type ())
GType dfly_config_get_type (void);

DflyConfig *dfly_config_new_default (void);
DflyConfig *dfly_config_load_file (const char *path, GError **error);
DflyConfig *dfly_config_load_data (const char *data, gsize length, const char *filename,
                                   GError **error);
/* The daemon's own sections, in file order, ending with a NULL name. Key
 * offsets are into DflyConfig. For documentation and its test. */
typedef struct {
  const char              *name;
  const DflyConfigSection *section;
  gboolean                 plugin_keys; /* keys it does not name are its plugin's */
} DflyConfigDaemonSection;
const DflyConfigDaemonSection *dfly_config_get_daemon_sections (void);

/* Checks the section named after plugin name against its table (NULL: the
 * plugin takes no settings) and stores the plugin's settings in config: the
 * table's defaults, then the file's values. For a config just read, not yet
 * shared; on error config is unchanged. */
gboolean dfly_config_add_plugin (DflyConfig *config, const char *name,
                                 const DflyConfigSection *section, GError **error);
/* Once every plugin is added: an error for the first section (or key of a
 * section the daemon shares) that no plugin took. plugin_dirs, where the
 * plugins were looked for, go into the message. */
gboolean dfly_config_check_plugins (DflyConfig *config, const char *const *plugin_dirs,
                                    GError **error);
/* A plugin's settings, borrowed from config; NULL when it has none. */
DflySettings *dfly_config_get_settings (DflyConfig *config, const char *name);

DflyConfig *dfly_config_ref (DflyConfig *config);
void        dfly_config_unref (DflyConfig *config);

/* One line per key whose value differs, e.g.
 * "daemon.log_level: info -> debug" or, for a key that only takes effect on
 * restart, "daemon.roles: [peer] -> [seed, peer] (takes effect after restart)".
 * The daemon's keys come first, then the plugins' in the order they were
 * added, e.g. "default.finished_piece_weight: 0.2 -> 0.5". */
GPtrArray *dfly_config_diff (const DflyConfig *old_config, const DflyConfig *new_config);

#define DFLY_TYPE_LOG_LEVEL (dfly_log_level_get_type ())
GType dfly_log_level_get_type (void);
/* Makes loaded (a config just read, not yet shared) carry running's values
 * for every key that only takes effect after a restart, plugins' keys
 * included, so a reload applies exactly the live keys it reports. */
void dfly_config_keep_restart_keys (DflyConfig *loaded, const DflyConfig *running);

const char *dfly_log_level_to_string (DflyLogLevel level);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyConfig, dfly_config_unref)

G_END_DECLS
