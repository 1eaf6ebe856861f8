/* dfly-config.h — dflyd.yaml as typed values
 *
 * Defaults live in code (dfly_config_new_default); the shipped
 * data/dflyd.yaml documents every key with its default. Fields are read-only
 * for plugins; a reload builds a new DflyConfig and swaps it in the context.
 */
#pragma once

#include <glib-object.h>

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
    char        **roles;            /* enabled roles, started in this order */
    char        **plugin_dirs;      /* empty: the built-in plugin directory */
    char         *state_dir;
    char         *cache_dir;
    DflyLogLevel  log_level;
    guint         shutdown_timeout; /* seconds roles get to stop */
  } daemon;
  struct {
    char  *hostname;          /* empty: the system's host name */
    char  *ip;                /* address peers reach this host on */
    char  *idc;
    char  *location;
    guint  announce_interval; /* seconds between host announces */
  } host;
  struct {
    char    *listen;          /* address of the manager's REST API */
    guint16  port;
  } manager;
  struct {
    guint max_hosts;          /* cap on hosts the scheduler tracks */
  } scheduler;
  struct {
    guint max_message_size;   /* bytes; larger protocol messages are refused */
  } protocol;
} DflyConfig;

#define DFLY_TYPE_CONFIG (dfly_config_get_type ())
GType        dfly_config_get_type (void);

DflyConfig  *dfly_config_new_default (void);
DflyConfig  *dfly_config_load_file (const char *path, GError **error);
DflyConfig  *dfly_config_load_data (const char *data, gsize length,
                                    const char *filename, GError **error);
DflyConfig  *dfly_config_ref (DflyConfig *config);
void         dfly_config_unref (DflyConfig *config);

/* One line per key whose value differs, e.g.
 * "daemon.log_level: info -> debug" or, for a key that only takes effect on
 * restart, "daemon.roles: [peer] -> [seed, peer] (takes effect after restart)". */
GPtrArray   *dfly_config_diff (const DflyConfig *old_config,
                               const DflyConfig *new_config);

#define DFLY_TYPE_LOG_LEVEL (dfly_log_level_get_type ())
GType        dfly_log_level_get_type (void);
/* Makes loaded (a config just read, not yet shared) carry running's values
 * for every key that only takes effect after a restart, so a reload applies
 * exactly the live keys it reports. */
void         dfly_config_keep_restart_keys (DflyConfig *loaded, const DflyConfig *running);

const char  *dfly_log_level_to_string (DflyLogLevel level);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyConfig, dfly_config_unref)

G_END_DECLS
