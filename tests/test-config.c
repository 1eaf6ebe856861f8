/* test-config.c — dflyd.yaml parsing, validation, errors and diffs */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "dfly/dfly-config.h"
#include "dfly/dfly-error.h"
#include "roles/manager/dfly-manager-settings.h"
#include "roles/proxy/dfly-proxy-settings.h"
#include "roles/scheduler/dfly-scheduler-settings.h"
#include "schedulers/default/dfly-parent-score.h"
#include "sources/oci/dfly-oci-settings.h"
#include "sources/s3/dfly-s3-settings.h"

/* Every in-tree plugin with settings: what a dflyd with them all loaded binds. */
static const struct {
  const char              *name;
  const DflyConfigSection *section;
} plugins[] = {
  { "manager", &dfly_manager_settings }, { "scheduler", &dfly_scheduler_settings },
  { "default", &dfly_default_settings }, { "bandwidth", &dfly_bandwidth_settings },
  { "oci", &dfly_oci_settings },         { "s3", &dfly_s3_settings },
  { "proxy", &dfly_proxy_settings },
};

/* dfly_config_load_data, then every in-tree plugin's section, as dflyd does. */
static DflyConfig *
config_load (const char *yaml, gsize length, const char *filename, GError **error)
{
  const char *const dirs[] = { "/plugins", NULL };
  g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, length, filename, error);

  if (config == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (plugins); i++) {
    if (!dfly_config_add_plugin (config, plugins[i].name, plugins[i].section, error))
      return NULL;
  }
  if (!dfly_config_check_plugins (config, dirs, error))
    return NULL;
  return g_steal_pointer (&config);
}

/* The defaults, with every in-tree plugin's. */
static DflyConfig *
config_new_default (void)
{
  g_autoptr (GError) error = NULL;
  DflyConfig *config = config_load (NULL, 0, NULL, &error);

  g_assert_no_error (error);
  return config;
}

/* A plugin's settings struct in config. */
static gconstpointer
settings_of (DflyConfig *config, const char *name)
{
  DflySettings *settings = dfly_config_get_settings (config, name);

  g_assert_nonnull (settings);
  return dfly_settings_get_values (settings);
}

#define MANAGER(config)   ((const DflyManagerSettings *) settings_of ((config), "manager"))
#define SCHEDULER(config) ((const DflySchedulerSettings *) settings_of ((config), "scheduler"))
#define WEIGHTS(config)   ((const DflyParentWeights *) settings_of ((config), "default"))
#define OCI(config)       ((const DflyOciSettings *) settings_of ((config), "oci"))
#define S3(config)        ((const DflyS3Settings *) settings_of ((config), "s3"))

/* Fails showing both strings when needle is not in haystack. */
#define assert_contains(haystack, needle) \
  g_assert_cmpstr (strstr ((haystack), (needle)) != NULL ? (needle) : (haystack), ==, (needle))

static DflyConfig *
load_ok (const char *yaml)
{
  g_autoptr (GError) error = NULL;
  DflyConfig *config = config_load (yaml, strlen (yaml), "x.yaml", &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

/* Loads yaml, expects failure, checks each NULL-terminated substring. */
static void
assert_fails_with (const char *yaml, gsize length, const char *expected, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = config_load (yaml, length, "x.yaml", &error);
  va_list args;

  g_assert_null (config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  va_start (args, expected);
  for (const char *s = expected; s != NULL; s = va_arg (args, const char *))
    assert_contains (error->message, s);
  va_end (args);
}

#define assert_fails(yaml, ...) assert_fails_with ((yaml), strlen (yaml), __VA_ARGS__, NULL)

/* "section:\n  key: value\n": the value starts on line 2. */
static char *
one_key (const char *section, const char *key, const char *value)
{
  return g_strdup_printf ("%s:\n  %s: %s\n", section, key, value);
}

static void
assert_value_fails (const char *section, const char *key, const char *value, const char *expected)
{
  g_autofree char *yaml = one_key (section, key, value);
  g_autofree char *name = g_strdup_printf (": %s.%s: ", section, key);

  /* The column is the value's, or a list item's: see the tests that
   * check whole messages. */
  assert_fails (yaml, "x.yaml:2:", name, expected);
}

/* One refused value: "section:\n  key: value\n" fails saying expected. */
typedef struct {
  const char *section;
  const char *key;
  const char *value;
  const char *expected;
} ValueCase;

/* One refused file and what its error says. */
typedef struct {
  const char *yaml;
  const char *expected;
} FileCase;

/* A numeric key and the noun its errors use. */
typedef struct {
  const char *section;
  const char *key;
  const char *what;
} NumberKey;

static DflyConfig *
load_one (const char *section, const char *key, const char *value)
{
  g_autofree char *yaml = one_key (section, key, value);

  return load_ok (yaml);
}

static void
assert_is_default (const DflyConfig *config)
{
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (GPtrArray) diff = dfly_config_diff (defaults, config);

  for (guint i = 0; i < diff->len; i++)
    g_test_message ("differs: %s", (const char *) g_ptr_array_index (diff, i));
  g_assert_cmpuint (diff->len, ==, 0);
}

static void
test_defaults (void)
{
  g_autoptr (DflyConfig) config = config_new_default ();
  const char *const roles[] = { "scheduler", "seed", "peer", "proxy", NULL };
  const char *const filtered_keys[] = { "X-Amz-*",  "X-Goog-*",  "OSSAccessKeyId",
                                        "Expires",  "Signature", "SecurityToken",
                                        "q-sign-*", "ns",        NULL };

  g_assert_true (g_strv_equal ((const char *const *) config->daemon.roles, roles));
  g_assert_cmpuint (g_strv_length (config->daemon.plugin_dirs), ==, 0);
  g_assert_cmpstr (config->daemon.state_dir, ==, "/var/lib/dfly");
  g_assert_cmpstr (config->daemon.cache_dir, ==, "/var/cache/dfly");
  g_assert_cmpint (config->daemon.log_level, ==, DFLY_LOG_LEVEL_INFO);
  g_assert_cmpuint (config->daemon.shutdown_timeout, ==, 10);
  g_assert_cmpstr (config->host.hostname, ==, "");
  g_assert_cmpstr (config->host.ip, ==, "127.0.0.1");
  g_assert_cmpstr (config->host.idc, ==, "");
  g_assert_cmpstr (config->host.location, ==, "");
  g_assert_cmpuint (config->host.announce_interval, ==, 30);
  g_assert_cmpstr (MANAGER (config)->listen, ==, "127.0.0.1");
  g_assert_cmpuint (MANAGER (config)->port, ==, 8080);
  g_assert_cmpuint (SCHEDULER (config)->max_hosts, ==, 10000);
  g_assert_cmpstr (SCHEDULER (config)->algorithm, ==, "default");
  g_assert_cmpfloat (WEIGHTS (config)->finished_piece, ==, 0.2);
  g_assert_cmpfloat (WEIGHTS (config)->upload_success, ==, 0.2);
  g_assert_cmpfloat (WEIGHTS (config)->free_upload, ==, 0.15);
  g_assert_cmpfloat (WEIGHTS (config)->host_type, ==, 0.15);
  g_assert_cmpfloat (WEIGHTS (config)->idc_affinity, ==, 0.15);
  g_assert_cmpfloat (WEIGHTS (config)->location_affinity, ==, 0.15);
  g_assert_cmpuint (config->protocol.max_message_size, ==, 4 * 1024 * 1024);
  g_assert_cmpuint (config->download.piece_length, ==, 0);
  g_assert_cmpuint (config->download.min_piece_length, ==, 4 * 1024 * 1024);
  g_assert_cmpstr (config->download.piece_digest, ==, "sha256");
  g_assert_cmpuint (config->download.concurrency, ==, 4);
  g_assert_cmpuint (config->download.max_tasks, ==, 16);
  g_assert_true (
    g_strv_equal ((const char *const *) config->download.filtered_query_keys, filtered_keys));
  g_assert_cmpuint (config->http.connect_timeout, ==, 10);
  g_assert_cmpuint (config->http.read_timeout, ==, 30);
  g_assert_cmpuint (config->http.retries, ==, 3);
  g_assert_cmpuint (config->http.retry_backoff_ms, ==, 200);
  g_assert_cmpstr (config->http.ca_file, ==, "");
  g_assert_nonnull (config->http.insecure_hosts);
  g_assert_cmpuint (g_strv_length (config->http.insecure_hosts), ==, 0);
  g_assert_cmpstr (config->storage.backend, ==, "disk");
  g_assert_cmpuint (config->storage.quota, ==, 0);
  g_assert_cmpuint (config->storage.high_watermark, ==, 80);
  g_assert_cmpuint (config->storage.low_watermark, ==, 60);
  g_assert_cmpuint (config->storage.task_ttl, ==, 6 * 3600);
  g_assert_cmpuint (config->storage.gc_interval, ==, 60);
  g_assert_nonnull (OCI (config)->insecure_registries);
  g_assert_cmpuint (g_strv_length (OCI (config)->insecure_registries), ==, 0);
  g_assert_cmpstr (OCI (config)->auth_file, ==, "");
  g_assert_cmpuint (OCI (config)->max_manifest_size, ==, 4 * 1024 * 1024);
  g_assert_cmpstr (S3 (config)->endpoint, ==, "");
  g_assert_cmpstr (S3 (config)->region, ==, "");
  g_assert_cmpuint (S3 (config)->path_style, ==, 0);
  g_assert_cmpstr (S3 (config)->access_key_id, ==, "");
  g_assert_cmpstr (S3 (config)->secret_access_key, ==, "");
  assert_is_default (config);
}

/* The s3 source's section: endpoint, region, addressing, credentials that
 * go together, and a reload that does not print the secret. */
static void
test_s3_section (void)
{
  const char *text = "s3:\n  endpoint: http://127.0.0.1:9000\n  region: eu-west-1\n"
                     "  path_style: 1\n  access_key_id: AKID\n  secret_access_key: s3cr3t\n";
  g_autoptr (DflyConfig) config = load_ok (text);
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (GPtrArray) diff = NULL;

  g_assert_cmpstr (S3 (config)->endpoint, ==, "http://127.0.0.1:9000");
  g_assert_cmpstr (S3 (config)->region, ==, "eu-west-1");
  g_assert_cmpuint (S3 (config)->path_style, ==, 1);
  g_assert_cmpstr (S3 (config)->access_key_id, ==, "AKID");
  g_assert_cmpstr (S3 (config)->secret_access_key, ==, "s3cr3t");
  assert_value_fails ("s3", "path_style", "2", "out of range");

  diff = dfly_config_diff (defaults, config);
  for (guint i = 0; i < diff->len; i++)
    g_assert_null (strstr (g_ptr_array_index (diff, i), "s3cr3t"));
  g_assert_true (
    g_ptr_array_find_with_equal_func (diff, "s3.secret_access_key: changed", g_str_equal, NULL));

  /* The section's rules between keys, with the file and section named. */
  assert_fails ("s3:\n  access_key_id: AKID\n", "x.yaml: s3: ",
                "access_key_id and secret_access_key go together: set both or neither");
  assert_fails ("s3:\n  secret_access_key: s3cr3t\n", "set both or neither");
  assert_fails ("s3:\n  endpoint: ftp://x\n",
                "x.yaml: s3: ", "endpoint must be an http:// or https:// URL");
}

/* The oci source's section: registries over http, credentials, the manifest cap. */
static void
test_oci_section (void)
{
  const char *const registries[] = { "127.0.0.1:5000", "registry.local", NULL };
  const char       *text = "oci:\n  insecure_registries: [127.0.0.1:5000, registry.local]\n"
                           "  auth_file: /etc/dfly/auth.json\n  max_manifest_size: 1MiB\n";
  g_autoptr (DflyConfig) config = load_ok (text);

  g_assert_true (
    g_strv_equal ((const char *const *) OCI (config)->insecure_registries, registries));
  g_assert_cmpstr (OCI (config)->auth_file, ==, "/etc/dfly/auth.json");
  g_assert_cmpuint (OCI (config)->max_manifest_size, ==, 1024 * 1024);
  assert_value_fails ("oci", "max_manifest_size", "100", "out of range");
  assert_value_fails ("oci", "auth_file", "relative.json", "absolute");
}

static void
test_refcount (void)
{
  DflyConfig *config = config_new_default ();
  DflyConfig *copy = g_boxed_copy (DFLY_TYPE_CONFIG, config);

  g_assert_true (copy == config);
  g_boxed_free (DFLY_TYPE_CONFIG, copy);
  g_assert_true (dfly_config_ref (config) == config);
  dfly_config_unref (config);
  g_assert_cmpstr (config->host.ip, ==, "127.0.0.1");
  dfly_config_unref (config);
}

static void
test_full_file (void)
{
  const char *yaml = "# every key, none at its default\n"
                     "daemon:\n"
                     "  roles: [seed, peer]\n"
                     "  plugin_dirs:\n"
                     "    - /opt/dfly/plugins\n"
                     "    - /usr/lib/dfly/extra\n"
                     "  state_dir: /srv/dfly/state\n"
                     "  cache_dir: \"/srv/dfly/cache\"\n"
                     "  log_level: debug\n"
                     "  shutdown_timeout: 2m\n"
                     "host:\n"
                     "  hostname: node-1.example.org\n"
                     "  ip: \"::1\"\n"
                     "  idc: dc-east\n"
                     "  location: 'asia|china|北京'\n"
                     "  announce_interval: 1h\n"
                     "manager:\n"
                     "  listen: 0.0.0.0\n"
                     "  port: 65001\n"
                     "scheduler:\n"
                     "  max_hosts: 500\n"
                     "protocol:\n"
                     "  max_message_size: 16MiB\n"
                     "download:\n"
                     "  piece_length: 32MiB\n"
                     "  min_piece_length: 64KiB\n"
                     "  piece_digest: xxh3\n"
                     "  concurrency: 64\n"
                     "  max_tasks: 1024\n"
                     "  filtered_query_keys: [token, \"X-Sig-*\"]\n"
                     "http:\n"
                     "  connect_timeout: 1m\n"
                     "  read_timeout: 1h\n"
                     "  retries: 0\n"
                     "  retry_backoff_ms: 60000\n"
                     "  ca_file: /etc/dfly/ca.pem\n"
                     "  insecure_hosts:\n"
                     "    - registry.local\n"
                     "    - \"10.0.0.1:5000\"\n"
                     "storage:\n"
                     "  backend: my-store\n"
                     "  quota: 2TiB\n"
                     "  high_watermark: 100\n"
                     "  low_watermark: 99\n"
                     "  task_ttl: 1m\n"
                     "  gc_interval: 1\n";
  g_autoptr (DflyConfig) config = load_ok (yaml);
  const char *const roles[] = { "seed", "peer", NULL };
  const char *const dirs[] = { "/opt/dfly/plugins", "/usr/lib/dfly/extra", NULL };
  const char *const filtered_keys[] = { "token", "X-Sig-*", NULL };
  const char *const insecure_hosts[] = { "registry.local", "10.0.0.1:5000", NULL };

  g_assert_true (g_strv_equal ((const char *const *) config->daemon.roles, roles));
  g_assert_true (g_strv_equal ((const char *const *) config->daemon.plugin_dirs, dirs));
  g_assert_cmpstr (config->daemon.state_dir, ==, "/srv/dfly/state");
  g_assert_cmpstr (config->daemon.cache_dir, ==, "/srv/dfly/cache");
  g_assert_cmpint (config->daemon.log_level, ==, DFLY_LOG_LEVEL_DEBUG);
  g_assert_cmpuint (config->daemon.shutdown_timeout, ==, 120);
  g_assert_cmpstr (config->host.hostname, ==, "node-1.example.org");
  g_assert_cmpstr (config->host.ip, ==, "::1");
  g_assert_cmpstr (config->host.idc, ==, "dc-east");
  g_assert_cmpstr (config->host.location, ==, "asia|china|北京");
  g_assert_cmpuint (config->host.announce_interval, ==, 3600);
  g_assert_cmpstr (MANAGER (config)->listen, ==, "0.0.0.0");
  g_assert_cmpuint (MANAGER (config)->port, ==, 65001);
  g_assert_cmpuint (SCHEDULER (config)->max_hosts, ==, 500);
  g_assert_cmpuint (config->protocol.max_message_size, ==, 16 * 1024 * 1024);
  g_assert_cmpuint (config->download.piece_length, ==, 32 * 1024 * 1024);
  g_assert_cmpuint (config->download.min_piece_length, ==, 64 * 1024);
  g_assert_cmpstr (config->download.piece_digest, ==, "xxh3");
  g_assert_cmpuint (config->download.concurrency, ==, 64);
  g_assert_cmpuint (config->download.max_tasks, ==, 1024);
  g_assert_true (
    g_strv_equal ((const char *const *) config->download.filtered_query_keys, filtered_keys));
  g_assert_cmpuint (config->http.connect_timeout, ==, 60);
  g_assert_cmpuint (config->http.read_timeout, ==, 3600);
  g_assert_cmpuint (config->http.retries, ==, 0);
  g_assert_cmpuint (config->http.retry_backoff_ms, ==, 60000);
  g_assert_cmpstr (config->http.ca_file, ==, "/etc/dfly/ca.pem");
  g_assert_true (g_strv_equal ((const char *const *) config->http.insecure_hosts, insecure_hosts));
  g_assert_cmpstr (config->storage.backend, ==, "my-store");
  g_assert_cmpuint (config->storage.quota, ==, G_GUINT64_CONSTANT (2) << 40);
  g_assert_cmpuint (config->storage.high_watermark, ==, 100);
  g_assert_cmpuint (config->storage.low_watermark, ==, 99);
  g_assert_cmpuint (config->storage.task_ttl, ==, 60);
  g_assert_cmpuint (config->storage.gc_interval, ==, 1);
}

static void
test_empty (void)
{
  const char *const inputs[] = {
    "",
    "\n",
    "   \n\n",
    "# only a comment\n",
    "---\n",
    "---\n...\n",
    "~\n",
    "null\n",
    "daemon:\nhost: ~\nmanager: null\n",
    "{}\n",
    "daemon: {}\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++) {
    g_autoptr (DflyConfig) config = load_ok (inputs[i]);

    assert_is_default (config);
  }

  /* NULL data with no length is an empty file too. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = dfly_config_load_data (NULL, 0, NULL, &error);

    g_assert_no_error (error);
    assert_is_default (config);
  }
}

static void
test_strings (void)
{
  static const ValueCase value_cases[] = {
    { "host", "hostname", "\"a\\nb\"", "contains a control character (0x0a)" },
    { "host", "idc", "\"\\e[31m\"", "contains a control character (0x1b)" },
    { "host", "idc", "\"a\\0b\"", "contains a NUL character" },
  };
  g_autofree char *max = g_strnfill (255, 'a');
  g_autofree char *too_long = g_strnfill (256, 'a');
  g_autofree char *max_location = g_strnfill (1024, 'l');
  g_autofree char *too_long_location = g_strnfill (1025, 'l');

  {
    g_autoptr (DflyConfig) config = load_one ("host", "hostname", max);

    g_assert_cmpstr (config->host.hostname, ==, max);
  }
  {
    g_autoptr (DflyConfig) config = load_one ("host", "location", max_location);

    g_assert_cmpstr (config->host.location, ==, max_location);
  }
  {
    /* null is the empty string for string keys */
    g_autoptr (DflyConfig) config = load_ok ("host:\n  idc: dc1\n  location: ~\n  hostname:\n");

    g_assert_cmpstr (config->host.idc, ==, "dc1");
    g_assert_cmpstr (config->host.location, ==, "");
    g_assert_cmpstr (config->host.hostname, ==, "");
  }
  {
    /* plain scalars that look like numbers are still text */
    g_autoptr (DflyConfig) config = load_one ("host", "idc", "0123");

    g_assert_cmpstr (config->host.idc, ==, "0123");
  }
  assert_value_fails ("host", "hostname", too_long, "longer than 255 bytes");
  assert_value_fails ("host", "idc", too_long, "longer than 255 bytes");
  assert_value_fails ("host", "location", too_long_location, "longer than 1024 bytes");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

static void
test_ip (void)
{
  static const ValueCase value_cases[] = {
    { "host", "ip", "256.1.1.1", "is not an IP address" },
    { "host", "ip", "localhost", "\"localhost\" is not an IP address" },
    { "host", "ip", "\"\"", "\"\" is not an IP address" },
    { "host", "ip", "\" 10.0.0.1\"", "is not an IP address" },
    { "manager", "listen", "example.org", "is not an IP address" },
    { "host", "ip", "~", "expected an IP address, found null" },
    { "host", "ip", "", "expected an IP address, found null" },
  };
  const char *const good[] = { "127.0.0.1", "0.0.0.0", "10.1.2.3",        "\"::\"",
                               "\"::1\"",   "fe80::1", "\"2001:db8::42\"" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (DflyConfig) config = load_one ("host", "ip", good[i]);
    g_autoptr (DflyConfig) listen = load_one ("manager", "listen", good[i]);

    g_assert_nonnull (config->host.ip);
    g_assert_cmpstr (config->host.ip, ==, MANAGER (listen)->listen);
  }

  assert_fails ("host:\n  ip: 1.2.3\n", "x.yaml:2:7: host.ip: \"1.2.3\" is not an IP address");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

static void
test_path (void)
{
  static const ValueCase value_cases[] = {
    { "daemon", "state_dir", "var/lib/dfly", "\"var/lib/dfly\" is not an absolute path" },
    { "daemon", "cache_dir", "~/cache", "is not an absolute path" },
    { "daemon", "cache_dir", "\"\"", "\"\" is not an absolute path" },
    { "daemon", "cache_dir", "~", "expected an absolute path, found null" },
    { "daemon", "state_dir", "[/a]", "expected an absolute path, found a list" },
  };
  g_autofree char *long_name = g_strnfill (5000, 'p');
  g_autofree char *long_path = g_strdup_printf ("/%s", long_name);

  {
    g_autoptr (DflyConfig) config = load_one ("daemon", "state_dir", "/var/lib/dfly with space");

    g_assert_cmpstr (config->daemon.state_dir, ==, "/var/lib/dfly with space");
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  assert_value_fails ("daemon", "state_dir", long_path, "longer than 4095 bytes");
}

/* Integers are strict: the same rejects for every numeric type. */
static void
assert_bad_numbers (const char *section, const char *key, const char *what)
{
  const char *const bad[] = { "-1",  "10x",  "+5",     "0x10",  "010", "1e3",
                              "5.0", "\"\"", "\" 5\"", "1_000", "٣" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *expected = g_strdup_printf ("is not %s", what);

    assert_value_fails (section, key, bad[i], expected);
  }
  assert_value_fails (section, key, "~", "found null");
  assert_value_fails (section, key, "", "found null");
  assert_value_fails (section, key, "[1]", "found a list");
  assert_value_fails (section, key, "{a: 1}", "found a mapping");
}

static void
test_uint (void)
{
  static const ValueCase value_cases[] = {
    { "scheduler", "max_hosts", "0", "0 is out of range (1..1000000)" },
    { "scheduler", "max_hosts", "1000001", "1000001 is out of range (1..1000000)" },
    { "scheduler", "max_hosts", "4294967297", "is out of range (1..1000000)" },
    { "scheduler", "max_hosts", "99999999999999999999", "99999999999999999999 is out of range" },
  };

  {
    g_autoptr (DflyConfig) config = load_one ("scheduler", "max_hosts", "1");

    g_assert_cmpuint (SCHEDULER (config)->max_hosts, ==, 1);
  }
  {
    g_autoptr (DflyConfig) config = load_one ("scheduler", "max_hosts", "1000000");

    g_assert_cmpuint (SCHEDULER (config)->max_hosts, ==, 1000000);
  }
  {
    /* the style of the scalar does not matter, its text does */
    g_autoptr (DflyConfig) config = load_one ("scheduler", "max_hosts", "\"42\"");

    g_assert_cmpuint (SCHEDULER (config)->max_hosts, ==, 42);
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  assert_bad_numbers ("scheduler", "max_hosts", "a decimal number");
}

/* Weights: 0..1 in thousandths, parsed without floats or locales. */
static void
test_ratio (void)
{
  static const ValueCase value_cases[] = {
    { "default", "host_type_weight", "1.001",
      "default.host_type_weight: 1.001 is out of range (0..1)" },
    { "default", "host_type_weight", "2", "2 is out of range (0..1)" },
    { "default", "host_type_weight", "99999999999999999999.5", "is out of range (0..1)" },
    { "default", "host_type_weight", "~", "expected a decimal from 0 to 1, found null" },
    { "default", "host_type_weight", "[0.1]", "expected a decimal from 0 to 1, found a list" },
  };

  const struct {
    const char *text;
    double      value;
  } good[] = {
    { "0", 0.0 },     { "1", 1.0 },       { "0.15", 0.15 }, { "0.2", 0.2 },     { "0.005", 0.005 },
    { "1.000", 1.0 }, { "0.999", 0.999 }, { "0.0", 0.0 },   { "\"0.5\"", 0.5 },
  };
  const char *const bad[] = { "-0.1", "+0.5", ".5",       "0.",   "0.1234", "1e-1", "0,5",
                              "00.5", "0.5x", "\" 0.5\"", "\"\"", "0x1",    "½",    "0..5" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (DflyConfig) config = load_one ("default", "idc_affinity_weight", good[i].text);

    g_assert_cmpfloat (WEIGHTS (config)->idc_affinity, ==, good[i].value);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_value_fails ("default", "idc_affinity_weight", bad[i],
                        "is not a decimal from 0 to 1 with at most 3 decimals, e.g. 0.15");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

/* The scheduler role's section and the default algorithm's weights. */
static void
test_scheduler (void)
{
  static const ValueCase value_cases[] = {
    { "scheduler", "algorithm", "\"\"", "scheduler.algorithm: must not be empty" },
    { "scheduler", "algorithm", "~", "must not be empty" },
    { "scheduler", "algorithm", "[a]", "expected a string, found a list" },
  };
  g_autoptr (DflyConfig) config = load_ok ("scheduler:\n  algorithm: bandwidth\n"
                                           "default:\n"
                                           "  finished_piece_weight: 1\n"
                                           "  upload_success_weight: 0\n"
                                           "  free_upload_weight: 0.25\n"
                                           "  host_type_weight: 0.001\n"
                                           "  idc_affinity_weight: 0.5\n"
                                           "  location_affinity_weight: 0.75\n"
                                           "bandwidth:\n  idc_affinity_weight: 0.3\n");
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (DflyConfig) kept = load_ok ("scheduler:\n  algorithm: bandwidth\n"
                                         "default:\n  idc_affinity_weight: 1\n");
  g_autoptr (GPtrArray) diff = dfly_config_diff (defaults, config);
  const DflyParentWeights *tie_break = settings_of (config, "bandwidth");
  const char *const        expected[] = {
           "scheduler.algorithm: \"default\" -> \"bandwidth\" (takes effect after restart)",
           "default.finished_piece_weight: 0.2 -> 1",
           "default.upload_success_weight: 0.2 -> 0",
           "default.free_upload_weight: 0.15 -> 0.25",
           "default.host_type_weight: 0.15 -> 0.001",
           "default.idc_affinity_weight: 0.15 -> 0.5",
           "default.location_affinity_weight: 0.15 -> 0.75",
           "bandwidth.idc_affinity_weight: 0.15 -> 0.3",
  };

  g_assert_cmpstr (SCHEDULER (config)->algorithm, ==, "bandwidth");
  g_assert_cmpfloat (WEIGHTS (config)->finished_piece, ==, 1.0);
  g_assert_cmpfloat (WEIGHTS (config)->upload_success, ==, 0.0);
  g_assert_cmpfloat (WEIGHTS (config)->free_upload, ==, 0.25);
  g_assert_cmpfloat (WEIGHTS (config)->host_type, ==, 0.001);
  g_assert_cmpfloat (WEIGHTS (config)->idc_affinity, ==, 0.5);
  g_assert_cmpfloat (WEIGHTS (config)->location_affinity, ==, 0.75);
  /* bandwidth's tie-break weights are its own */
  g_assert_cmpfloat (tie_break->idc_affinity, ==, 0.3);
  g_assert_cmpfloat (tie_break->host_type, ==, 0.15);
  g_assert_cmpuint (diff->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < diff->len; i++)
    g_assert_cmpstr (g_ptr_array_index (diff, i), ==, expected[i]);

  /* the algorithm waits for a restart; the weights apply at once */
  dfly_config_keep_restart_keys (kept, defaults);
  g_assert_cmpstr (SCHEDULER (kept)->algorithm, ==, "default");
  g_assert_cmpfloat (WEIGHTS (kept)->idc_affinity, ==, 1.0);

  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  /* bandwidth takes only its tie-break weights */
  assert_fails ("bandwidth:\n  finished_piece_weight: 1\n",
                "x.yaml:2:3: unknown key \"bandwidth.finished_piece_weight\"");
}

static void
test_port (void)
{
  {
    g_autoptr (DflyConfig) config = load_one ("manager", "port", "0");

    g_assert_cmpuint (MANAGER (config)->port, ==, 0);
  }
  {
    g_autoptr (DflyConfig) config = load_one ("manager", "port", "65535");

    g_assert_cmpuint (MANAGER (config)->port, ==, 65535);
  }
  assert_value_fails ("manager", "port", "65536", "65536 is out of range (0..65535)");
  assert_value_fails ("manager", "port", "99999999999999999999", "is out of range (0..65535)");
  assert_bad_numbers ("manager", "port", "a decimal number");
}

static void
test_duration (void)
{
  static const ValueCase value_cases[] = {
    { "daemon", "shutdown_timeout", "601", "601 is out of range (1s..600s)" },
    { "daemon", "shutdown_timeout", "11m", "11m is out of range (1s..600s)" },
    { "daemon", "shutdown_timeout", "1h", "1h is out of range (1s..600s)" },
    { "daemon", "shutdown_timeout", "0s", "0s is out of range" },
    { "host", "announce_interval", "61m", "61m is out of range (1s..3600s)" },
    { "host", "announce_interval", "2h", "is out of range (1s..3600s)" },
    { "daemon", "shutdown_timeout", "99999999999999999999", "is out of range (1s..600s)" },
    /* fits in 64 bits before the unit, not after */
    { "daemon", "shutdown_timeout", "9999999999999999h", "9999999999999999h is out of range" },
    { "daemon", "shutdown_timeout", "1d", "\"1d\" is not a duration" },
    { "daemon", "shutdown_timeout", "5M", "\"5M\" is not a duration" },
    { "daemon", "shutdown_timeout", "\"5 m\"", "is not a duration" },
    { "daemon", "shutdown_timeout", "s", "is not a duration" },
    { "daemon", "shutdown_timeout", "5ms", "is not a duration" },
  };

  const struct {
    const char *text;
    guint       seconds;
  } good[] = {
    { "1", 1 }, { "30", 30 }, { "30s", 30 }, { "5m", 300 }, { "10m", 600 }, { "600s", 600 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (DflyConfig) config = load_one ("daemon", "shutdown_timeout", good[i].text);

    g_assert_cmpuint (config->daemon.shutdown_timeout, ==, good[i].seconds);
  }
  {
    g_autoptr (DflyConfig) config = load_one ("host", "announce_interval", "1h");

    g_assert_cmpuint (config->host.announce_interval, ==, 3600);
  }

  assert_fails ("daemon:\n  shutdown_timeout: 0\n",
                "x.yaml:2:21: daemon.shutdown_timeout: 0 is out of range (1s..600s)");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  assert_bad_numbers ("daemon", "shutdown_timeout", "a duration");
}

static void
test_size (void)
{
  static const ValueCase value_cases[] = {
    { "protocol", "max_message_size", "1023", "1023 is out of range (1KiB..64MiB)" },
    { "protocol", "max_message_size", "67108865", "67108865 is out of range (1KiB..64MiB)" },
    { "protocol", "max_message_size", "65MiB", "65MiB is out of range" },
    { "protocol", "max_message_size", "1GiB", "1GiB is out of range" },
    { "protocol", "max_message_size", "0", "0 is out of range" },
    { "protocol", "max_message_size", "99999999999GiB", "is out of range" },
    { "protocol", "max_message_size", "99999999999999999999", "is out of range" },
    { "protocol", "max_message_size", "4kib", "\"4kib\" is not a size" },
    { "protocol", "max_message_size", "4KB", "is not a size" },
    { "protocol", "max_message_size", "4M", "is not a size" },
    { "protocol", "max_message_size", "\"4 MiB\"", "is not a size" },
  };

  const struct {
    const char *text;
    guint       bytes;
  } good[] = {
    { "1024", 1024 },    { "1KiB", 1024 },      { "4096", 4096 },         { "4KiB", 4096 },
    { "4MiB", 4 << 20 }, { "64MiB", 64 << 20 }, { "67108864", 64 << 20 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (DflyConfig) config = load_one ("protocol", "max_message_size", good[i].text);

    g_assert_cmpuint (config->protocol.max_message_size, ==, good[i].bytes);
  }

  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  assert_bad_numbers ("protocol", "max_message_size", "a size");
}

/* Sizes are 64-bit: above 4 GiB they parse exactly, up to G_MAXINT64. */
static void
test_size_64bit (void)
{
  static const ValueCase value_cases[] = {
    { "storage", "quota", "8388608TiB", "8388608TiB is out of range (0..9223372036854775807)" },
    { "storage", "quota", "18446744073709551615", "18446744073709551615 is out of range" },
    { "storage", "quota", "18446744073709551616", "18446744073709551616 is out of range" },
    { "storage", "quota", "16777216TiB", "16777216TiB is out of range" },
    { "storage", "quota", "2TB", "\"2TB\" is not a size" },
    { "storage", "quota", "2tib", "\"2tib\" is not a size" },
    { "storage", "quota", "2PiB", "\"2PiB\" is not a size" },
    /* TiB is a unit of every size key, and still held to its range */
    { "protocol", "max_message_size", "1TiB", "1TiB is out of range (1KiB..64MiB)" },
    { "download", "piece_length", "1TiB", "1TiB is out of range (0..1GiB)" },
  };

  const struct {
    const char *text;
    guint64     bytes;
  } good[] = {
    { "0", 0 },
    { "4294967295", G_GUINT64_CONSTANT (4294967295) },
    { "4294967296", G_GUINT64_CONSTANT (4294967296) },
    { "4294967297", G_GUINT64_CONSTANT (4294967297) },
    { "5GiB", G_GUINT64_CONSTANT (5) << 30 },
    { "4097MiB", G_GUINT64_CONSTANT (4097) << 20 },
    { "1TiB", G_GUINT64_CONSTANT (1) << 40 },
    { "2TiB", G_GUINT64_CONSTANT (2) << 40 },
    { "1099511627777", G_GUINT64_CONSTANT (1099511627777) },
    { "8388607TiB", (G_GUINT64_CONSTANT (8388607)) << 40 },
    { "9223372036854775807", G_GUINT64_CONSTANT (9223372036854775807) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (DflyConfig) config = load_one ("storage", "quota", good[i].text);

    g_assert_cmpuint (config->storage.quota, ==, good[i].bytes);
  }
  assert_fails ("storage:\n  quota: 9223372036854775808\n",
                "x.yaml:2:10: storage.quota: 9223372036854775808 is out of range "
                "(0..9223372036854775807)");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  assert_bad_numbers ("storage", "quota", "a size");
}

static void
test_download (void)
{
  static const ValueCase value_cases[] = {
    { "download", "piece_length", "1025MiB", "1025MiB is out of range (0..1GiB)" },
    { "download", "piece_length", "1073741825", "is out of range (0..1GiB)" },
    { "download", "min_piece_length", "4095", "4095 is out of range (4KiB..16MiB)" },
    { "download", "min_piece_length", "0", "0 is out of range (4KiB..16MiB)" },
    { "download", "min_piece_length", "16777217", "16777217 is out of range (4KiB..16MiB)" },
    { "download", "min_piece_length", "32MiB", "32MiB is out of range" },
    { "download", "piece_digest", "CRC32C",
      "\"CRC32C\" is not a piece digest algorithm (sha256, crc32c or xxh3)" },
    { "download", "piece_digest", "SHA256", "\"SHA256\" is not a piece digest" },
    { "download", "piece_digest", "sha-256", "\"sha-256\" is not a piece digest" },
    { "download", "piece_digest", "sha1", "\"sha1\" is not a piece digest" },
    { "download", "piece_digest", "\"sha256 \"", "is not a piece digest" },
    { "download", "piece_digest", "\"\"", "\"\" is not a piece digest" },
    { "download", "piece_digest", "\"crc32c \"", "is not a piece digest" },
    { "download", "piece_digest", "~", "expected a digest algorithm, found null" },
    { "download", "piece_digest", "", "expected a digest algorithm, found null" },
    { "download", "piece_digest", "[crc32c]", "expected a digest algorithm, found a list" },
    { "download", "piece_digest", "\"crc32c\\0\"", "contains a NUL character" },
    { "download", "concurrency", "0", "0 is out of range (1..64)" },
    { "download", "concurrency", "65", "65 is out of range (1..64)" },
    { "download", "concurrency", "4KiB", "\"4KiB\" is not a decimal number" },
    { "download", "max_tasks", "0", "0 is out of range (1..1024)" },
    { "download", "max_tasks", "1025", "1025 is out of range (1..1024)" },
    { "download", "max_tasks", "4294967296", "is out of range (1..1024)" },
  };
  static const NumberKey number_keys[] = {
    { "download", "piece_length", "a size" },
    { "download", "concurrency", "a decimal number" },
    { "download", "max_tasks", "a decimal number" },
  };
  static const FileCase file_cases[] = {
    /* below the floor: refused once the whole file is read */
    { "download:\n  piece_length: 1MiB\n",
      "x.yaml: download.piece_length (1048576) is below download.min_piece_length "
      "(4194304)" },
    { "download:\n  min_piece_length: 16MiB\n  piece_length: 8MiB\n",
      "x.yaml: download.piece_length (8388608) is below download.min_piece_length "
      "(16777216)" },
    { "download:\n  piece_length: 4095\n  min_piece_length: 4KiB\n",
      "x.yaml: download.piece_length (4095) is below download.min_piece_length (4096)" },
    { "download:\n  piece_digest: md5\n",
      "x.yaml:2:17: download.piece_digest: \"md5\" is not a piece digest algorithm "
      "(sha256, crc32c or xxh3)" },
  };

  {
    g_autoptr (DflyConfig) config = load_ok ("download:\n  piece_length: 1GiB\n"
                                             "  min_piece_length: 16MiB\n");

    g_assert_cmpuint (config->download.piece_length, ==, 1024 * 1024 * 1024);
    g_assert_cmpuint (config->download.min_piece_length, ==, 16 * 1024 * 1024);
  }
  {
    /* equal to the floor is fine, and so is 0 whatever the floor */
    g_autoptr (DflyConfig) equal = load_ok ("download:\n  piece_length: 4KiB\n"
                                            "  min_piece_length: 4096\n");
    g_autoptr (DflyConfig) zero = load_ok ("download:\n  piece_length: 0\n"
                                           "  min_piece_length: 16MiB\n");

    g_assert_cmpuint (equal->download.piece_length, ==, 4096);
    g_assert_cmpuint (zero->download.piece_length, ==, 0);
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  for (guint i = 0; i < G_N_ELEMENTS (number_keys); i++)
    assert_bad_numbers (number_keys[i].section, number_keys[i].key, number_keys[i].what);

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);

  /* piece_digest */
  {
    g_autoptr (DflyConfig) sha = load_one ("download", "piece_digest", "sha256");
    g_autoptr (DflyConfig) crc = load_one ("download", "piece_digest", "crc32c");
    g_autoptr (DflyConfig) xxh = load_one ("download", "piece_digest", "\"xxh3\"");

    g_assert_cmpstr (sha->download.piece_digest, ==, "sha256");
    g_assert_cmpstr (crc->download.piece_digest, ==, "crc32c");
    g_assert_cmpstr (xxh->download.piece_digest, ==, "xxh3");
  }

  /* concurrency and max_tasks */
  {
    g_autoptr (DflyConfig) low = load_ok ("download:\n  concurrency: 1\n  max_tasks: 1\n");
    g_autoptr (DflyConfig) high = load_ok ("download:\n  concurrency: 64\n  max_tasks: 1024\n");

    g_assert_cmpuint (low->download.concurrency, ==, 1);
    g_assert_cmpuint (low->download.max_tasks, ==, 1);
    g_assert_cmpuint (high->download.concurrency, ==, 64);
    g_assert_cmpuint (high->download.max_tasks, ==, 1024);
  }
}

/* A list of strings: download.filtered_query_keys and http.insecure_hosts. */
static void
test_strings_list (void)
{
  const char *const keys[][2] = {
    { "download", "filtered_query_keys" },
    { "http", "insecure_hosts" },
  };
  g_autofree char *item255 = g_strnfill (255, 's');
  g_autofree char *item256 = g_strnfill (256, 's');
  g_autofree char *list255 = g_strdup_printf ("[%s]", item255);
  g_autofree char *list256 = g_strdup_printf ("[a, %s]", item256);
  g_autoptr (GString) many = g_string_new ("[");

  for (guint i = 0; i < 32; i++)
    g_string_append_printf (many, "%sk%u", i > 0 ? ", " : "", i);
  g_string_append (many, "]");

  {
    g_autoptr (DflyConfig) config =
      load_ok ("download:\n  filtered_query_keys:\n    - X-Amz-*\n    - \"sig nature\"\n"
               "    - '北京'\n    - \"*\"\n"
               "http:\n  insecure_hosts: [registry.local, \"[::1]:5000\", \"~\", \"-x\"]\n");
    const char *const filtered[] = { "X-Amz-*", "sig nature", "北京", "*", NULL };
    const char *const hosts[] = { "registry.local", "[::1]:5000", "~", "-x", NULL };

    g_assert_true (
      g_strv_equal ((const char *const *) config->download.filtered_query_keys, filtered));
    g_assert_true (g_strv_equal ((const char *const *) config->http.insecure_hosts, hosts));
  }

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++) {
    const char *section = keys[k][0];
    const char *key = keys[k][1];

    {
      /* [] empties the list: no default keys are filtered */
      g_autoptr (DflyConfig) config = load_one (section, key, "[]");
      char **field = k == 0 ? config->download.filtered_query_keys : config->http.insecure_hosts;

      g_assert_nonnull (field);
      g_assert_cmpuint (g_strv_length (field), ==, 0);
    }
    {
      g_autoptr (DflyConfig) config = load_one (section, key, list255);
      char **field = k == 0 ? config->download.filtered_query_keys : config->http.insecure_hosts;

      g_assert_cmpstr (field[0], ==, item255);
    }
    {
      g_autoptr (DflyConfig) config = load_one (section, key, many->str);
      char **field = k == 0 ? config->download.filtered_query_keys : config->http.insecure_hosts;

      g_assert_cmpuint (g_strv_length (field), ==, 32);
    }

    assert_value_fails (section, key, list256, "longer than 255 bytes");
    assert_value_fails (section, key, "[\"a\\nb\"]", "contains a control character (0x0a)");
    assert_value_fails (section, key, "[ok, \"\\t\"]", "contains a control character (0x09)");
    assert_value_fails (section, key, "[\"\\x7f\"]", "contains a control character (0x7f)");
    assert_value_fails (section, key, "[\"\\e[2J\"]", "contains a control character (0x1b)");
    assert_value_fails (section, key, "[\"a\\0b\"]", "item contains a NUL character");
    assert_value_fails (section, key, "[a, [b]]", "expected a string, found a list in the list");
    assert_value_fails (section, key, "[a, {b: c}]",
                        "expected a string, found a mapping in the list");
    assert_value_fails (section, key, "[a, b, a]", "\"a\" is listed twice");
    assert_value_fails (section, key, "x", "expected a list of strings, found a scalar");
    assert_value_fails (section, key, "~", "expected a list of strings, found null");
    assert_value_fails (section, key, "{a: b}", "expected a list of strings, found a mapping");
  }
  g_string_truncate (many, many->len - 1);
  g_string_append (many, ", k32]");
  assert_value_fails ("download", "filtered_query_keys", many->str, "more than 32 items");
  assert_value_fails ("http", "insecure_hosts", many->str, "more than 32 items");

  /* whole messages: the column is the bad item's */
  assert_fails ("http:\n  insecure_hosts: [a, \"b\\x01\"]\n",
                "x.yaml:2:23: http.insecure_hosts: contains a control character (0x01)");
  assert_fails ("download:\n  filtered_query_keys: [a, [b]]\n",
                "x.yaml:2:28: download.filtered_query_keys: expected a string, found a list "
                "in the list");
}

static void
test_http (void)
{
  static const ValueCase value_cases[] = {
    { "http", "connect_timeout", "0", "0 is out of range (1s..600s)" },
    { "http", "connect_timeout", "601s", "601s is out of range (1s..600s)" },
    { "http", "connect_timeout", "1h", "1h is out of range (1s..600s)" },
    { "http", "read_timeout", "0s", "0s is out of range (1s..3600s)" },
    { "http", "read_timeout", "61m", "61m is out of range (1s..3600s)" },
    { "http", "retries", "11", "11 is out of range (0..10)" },
    { "http", "retry_backoff_ms", "60001", "60001 is out of range (0..60000)" },
    { "http", "retry_backoff_ms", "1s", "\"1s\" is not a decimal number" },
    { "http", "ca_file", "./ca.pem", "\"./ca.pem\" is not an absolute path" },
    { "http", "ca_file", "~/ca.pem", "is not an absolute path" },
    { "http", "ca_file", "\" /ca.pem\"", "is not an absolute path" },
    { "http", "ca_file", "~", "expected an absolute path, found null" },
    { "http", "ca_file", "", "expected an absolute path, found null" },
    { "http", "ca_file", "[/a]", "expected an absolute path, found a list" },
    { "http", "ca_file", "\"/a\\0b\"", "value contains a NUL character" },
    { "daemon", "state_dir", "''", "\"\" is not an absolute path" },
  };
  static const NumberKey number_keys[] = {
    { "http", "connect_timeout", "a duration" },
    { "http", "read_timeout", "a duration" },
    { "http", "retries", "a decimal number" },
    { "http", "retry_backoff_ms", "a decimal number" },
  };
  g_autofree char *long_name = g_strnfill (5000, 'p');
  g_autofree char *long_path = g_strdup_printf ("/%s", long_name);

  {
    g_autoptr (DflyConfig) config = load_ok ("http:\n  connect_timeout: 1\n  read_timeout: 1s\n"
                                             "  retries: 10\n  retry_backoff_ms: 0\n");

    g_assert_cmpuint (config->http.connect_timeout, ==, 1);
    g_assert_cmpuint (config->http.read_timeout, ==, 1);
    g_assert_cmpuint (config->http.retries, ==, 10);
    g_assert_cmpuint (config->http.retry_backoff_ms, ==, 0);
  }
  {
    g_autoptr (DflyConfig) config = load_ok ("http:\n  connect_timeout: 10m\n  read_timeout: 1h\n"
                                             "  retries: 0\n  retry_backoff_ms: 60000\n");

    g_assert_cmpuint (config->http.connect_timeout, ==, 600);
    g_assert_cmpuint (config->http.read_timeout, ==, 3600);
    g_assert_cmpuint (config->http.retries, ==, 0);
    g_assert_cmpuint (config->http.retry_backoff_ms, ==, 60000);
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
  for (guint i = 0; i < G_N_ELEMENTS (number_keys); i++)
    assert_bad_numbers (number_keys[i].section, number_keys[i].key, number_keys[i].what);

  /* ca_file: an absolute path, or "" for the system CAs only */
  {
    g_autoptr (DflyConfig) config = load_one ("http", "ca_file", "/etc/ssl/extra ca.pem");

    g_assert_cmpstr (config->http.ca_file, ==, "/etc/ssl/extra ca.pem");
  }
  {
    g_autoptr (DflyConfig) empty = load_one ("http", "ca_file", "\"\"");
    g_autoptr (DflyConfig) single = load_one ("http", "ca_file", "''");

    g_assert_cmpstr (empty->http.ca_file, ==, "");
    g_assert_cmpstr (single->http.ca_file, ==, "");
    assert_is_default (empty);
  }
  assert_fails ("http:\n  ca_file: relative/path\n",
                "x.yaml:2:12: http.ca_file: \"relative/path\" is not an absolute path");
  assert_value_fails ("http", "ca_file", long_path, "path is longer than 4095 bytes");

  /* the empty path is allowed only where min is 0 */
  assert_fails ("daemon:\n  state_dir: \"\"\n",
                "x.yaml:2:14: daemon.state_dir: \"\" is not an absolute path");
}

static void
test_storage (void)
{
  static const ValueCase value_cases[] = {
    { "storage", "backend", "\"disk\\n\"", "contains a control character (0x0a)" },
    { "storage", "backend", "[disk]", "expected a string, found a list" },
    { "storage", "high_watermark", "0", "0 is out of range (1..100)" },
    { "storage", "high_watermark", "101", "101 is out of range (1..100)" },
    { "storage", "high_watermark", "80%", "\"80%\" is not a decimal number" },
    { "storage", "low_watermark", "100", "100 is out of range (0..99)" },
    { "storage", "task_ttl", "59", "59 is out of range (60s..31536000s)" },
    { "storage", "task_ttl", "0", "0 is out of range (60s..31536000s)" },
    { "storage", "task_ttl", "8761h", "8761h is out of range (60s..31536000s)" },
    { "storage", "task_ttl", "1d", "\"1d\" is not a duration" },
    { "storage", "gc_interval", "0", "0 is out of range (1s..86400s)" },
    { "storage", "gc_interval", "1441m", "1441m is out of range (1s..86400s)" },
  };
  static const NumberKey number_keys[] = {
    { "storage", "high_watermark", "a decimal number" },
    { "storage", "low_watermark", "a decimal number" },
    { "storage", "task_ttl", "a duration" },
    { "storage", "gc_interval", "a duration" },
  };
  static const FileCase file_cases[] = {
    /* low_watermark must stay below high_watermark, checked after the file */
    { "storage:\n  low_watermark: 80\n",
      "x.yaml: storage.low_watermark (80) must be below storage.high_watermark (80)" },
    { "storage:\n  high_watermark: 50\n",
      "x.yaml: storage.low_watermark (60) must be below storage.high_watermark (50)" },
    { "storage:\n  high_watermark: 10\n  low_watermark: 90\n",
      "x.yaml: storage.low_watermark (90) must be below storage.high_watermark (10)" },
    { "storage:\n  low_watermark: 99\n  high_watermark: 99\n",
      "storage.low_watermark (99) must be below storage.high_watermark (99)" },
  };
  g_autofree char *name64 = g_strnfill (64, 'b');
  g_autofree char *name65 = g_strnfill (65, 'b');

  {
    g_autoptr (DflyConfig) config = load_ok ("storage:\n  backend: memory\n  quota: 1GiB\n"
                                             "  high_watermark: 1\n  low_watermark: 0\n"
                                             "  task_ttl: 8760h\n  gc_interval: 24h\n");

    g_assert_cmpstr (config->storage.backend, ==, "memory");
    g_assert_cmpuint (config->storage.quota, ==, 1024 * 1024 * 1024);
    g_assert_cmpuint (config->storage.high_watermark, ==, 1);
    g_assert_cmpuint (config->storage.low_watermark, ==, 0);
    g_assert_cmpuint (config->storage.task_ttl, ==, 365 * 86400);
    g_assert_cmpuint (config->storage.gc_interval, ==, 86400);
  }
  {
    g_autoptr (DflyConfig) config = load_ok ("storage:\n  high_watermark: 100\n"
                                             "  low_watermark: 99\n  task_ttl: 60\n"
                                             "  gc_interval: 1s\n");

    g_assert_cmpuint (config->storage.high_watermark, ==, 100);
    g_assert_cmpuint (config->storage.low_watermark, ==, 99);
    g_assert_cmpuint (config->storage.task_ttl, ==, 60);
    g_assert_cmpuint (config->storage.gc_interval, ==, 1);
  }

  /* backend: a string of at most 64 bytes; null is "" */
  {
    g_autoptr (DflyConfig) config = load_one ("storage", "backend", name64);
    g_autoptr (DflyConfig) null = load_one ("storage", "backend", "~");

    g_assert_cmpstr (config->storage.backend, ==, name64);
    g_assert_cmpstr (null->storage.backend, ==, "");
  }
  assert_value_fails ("storage", "backend", name65, "longer than 64 bytes");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);

  for (guint i = 0; i < G_N_ELEMENTS (number_keys); i++)
    assert_bad_numbers (number_keys[i].section, number_keys[i].key, number_keys[i].what);

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
  /* the exact message, which names no line: it is about two keys */
  {
    const char *yaml = "storage:\n  low_watermark: 80\n";
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, strlen (yaml), "x.yaml", &error);

    g_assert_null (config);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_assert_cmpstr (error->message, ==,
                     "x.yaml: storage.low_watermark (80) must be below "
                     "storage.high_watermark (80)");
  }
  {
    const char *yaml = "download:\n  piece_length: 64KiB\n";
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, strlen (yaml), "x.yaml", &error);

    g_assert_null (config);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_assert_cmpstr (error->message, ==,
                     "x.yaml: download.piece_length (65536) is below "
                     "download.min_piece_length (4194304)");
  }
}

/* How the new keys read in a diff, and which of them wait for a restart. */
static void
test_diff_new_keys (void)
{
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (DflyConfig) config =
    load_ok ("download:\n  piece_length: 8MiB\n  min_piece_length: 4KiB\n  piece_digest: xxh3\n"
             "  concurrency: 8\n  max_tasks: 2\n  filtered_query_keys: [ns, \"a\\\"b\"]\n"
             "http:\n  connect_timeout: 5m\n  read_timeout: 31\n  retries: 0\n"
             "  retry_backoff_ms: 1000\n  ca_file: /etc/ca.pem\n  insecure_hosts: [h.local]\n"
             "storage:\n  backend: mem\n  quota: 2TiB\n  high_watermark: 90\n  low_watermark: 70\n"
             "  task_ttl: 1h\n  gc_interval: 2m\n");
  g_autoptr (GPtrArray) diff = dfly_config_diff (defaults, config);
  g_autoptr (DflyConfig) loaded = load_ok ("storage:\n  backend: mem\n  quota: 5GiB\n");
  const char *const expected[] = {
    "download.piece_length: 0 -> 8MiB",
    "download.min_piece_length: 4MiB -> 4KiB",
    "download.piece_digest: sha256 -> xxh3",
    "download.concurrency: 4 -> 8",
    "download.max_tasks: 16 -> 2",
    "download.filtered_query_keys: [\"X-Amz-*\", \"X-Goog-*\", \"OSSAccessKeyId\", "
    "\"Expires\", \"Signature\", \"SecurityToken\", \"q-sign-*\", \"ns\"] -> "
    "[\"ns\", \"a\\\"b\"]",
    "http.connect_timeout: 10s -> 300s",
    "http.read_timeout: 30s -> 31s",
    "http.retries: 3 -> 0",
    "http.retry_backoff_ms: 200 -> 1000",
    "http.ca_file: \"\" -> \"/etc/ca.pem\"",
    "http.insecure_hosts: [] -> [\"h.local\"]",
    "storage.backend: \"disk\" -> \"mem\" (takes effect after restart)",
    "storage.quota: 0 -> 2TiB",
    "storage.high_watermark: 80 -> 90",
    "storage.low_watermark: 60 -> 70",
    "storage.task_ttl: 21600s -> 3600s",
    "storage.gc_interval: 60s -> 120s",
  };

  for (guint i = 0; i < diff->len; i++)
    g_test_message ("diff: %s", (const char *) g_ptr_array_index (diff, i));
  g_assert_cmpuint (diff->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < diff->len; i++)
    g_assert_cmpstr (g_ptr_array_index (diff, i), ==, expected[i]);

  /* a reload keeps the running backend, and applies the quota */
  dfly_config_keep_restart_keys (loaded, defaults);
  g_assert_cmpstr (loaded->storage.backend, ==, "disk");
  g_assert_cmpuint (loaded->storage.quota, ==, G_GUINT64_CONSTANT (5) << 30);
}

static void
test_log_level (void)
{
  static const ValueCase value_cases[] = {
    { "daemon", "log_level", "DEBUG", "\"DEBUG\" is not a log level" },
    { "daemon", "log_level", "verbose", "\"verbose\" is not a log level" },
    { "daemon", "log_level", "3", "is not a log level" },
    { "daemon", "log_level", "~", "expected a log level, found null" },
    { "daemon", "log_level", "[info]", "expected a log level, found a list" },
  };
  const char *const nicks[] = { "error", "warning", "message", "info", "debug" };

  for (guint i = 0; i < G_N_ELEMENTS (nicks); i++) {
    g_autoptr (DflyConfig) config = load_one ("daemon", "log_level", nicks[i]);

    g_assert_cmpint (config->daemon.log_level, ==, DFLY_LOG_LEVEL_ERROR + (int) i);
    g_assert_cmpstr (dfly_log_level_to_string (config->daemon.log_level), ==, nicks[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

static void
test_names (void)
{
  static const ValueCase value_cases[] = {
    { "daemon", "roles", "[peer, peer]", "\"peer\" is listed twice" },
    { "daemon", "roles", "[Peer]", "\"Peer\" is not a valid name" },
    { "daemon", "roles", "[-peer]", "\"-peer\" is not a valid name" },
    { "daemon", "roles", "[_peer]", "is not a valid name" },
    { "daemon", "roles", "[pe er]", "is not a valid name" },
    { "daemon", "roles", "[\"\"]", "\"\" is not a valid name" },
    { "daemon", "roles", "[~]", "\"~\" is not a valid name" },
    { "daemon", "roles", "[pé]", "\"pé\" is not a valid name" },
    { "daemon", "roles", "[\"a\\0b\"]", "contains a NUL character" },
    { "daemon", "roles", "[[peer]]", "expected a name, found a list" },
    { "daemon", "roles", "[{a: b}]", "expected a name, found a mapping" },
  };
  g_autoptr (GString) many = g_string_new ("[");
  g_autofree char *name64 = g_strnfill (64, 'n');
  g_autofree char *name65 = g_strnfill (65, 'n');
  g_autofree char *list64 = g_strdup_printf ("[%s]", name64);
  g_autofree char *list65 = g_strdup_printf ("[%s]", name65);

  {
    g_autoptr (DflyConfig) config = load_ok ("daemon:\n  roles:\n    - peer\n    - seed-2\n"
                                             "    - my_role\n    - 0day\n");
    const char *const roles[] = { "peer", "seed-2", "my_role", "0day", NULL };

    g_assert_true (g_strv_equal ((const char *const *) config->daemon.roles, roles));
  }
  {
    g_autoptr (DflyConfig) config = load_one ("daemon", "roles", "[]");

    g_assert_cmpuint (g_strv_length (config->daemon.roles), ==, 0);
  }
  {
    g_autoptr (DflyConfig) config = load_one ("daemon", "roles", list64);

    g_assert_cmpstr (config->daemon.roles[0], ==, name64);
  }
  for (guint i = 0; i < 32; i++)
    g_string_append_printf (many, "%sr%u", i > 0 ? ", " : "", i);
  {
    g_autofree char *list32 = g_strdup_printf ("%s]", many->str);
    g_autoptr (DflyConfig) config = load_one ("daemon", "roles", list32);

    g_assert_cmpuint (g_strv_length (config->daemon.roles), ==, 32);
  }
  g_string_append (many, ", r32]");
  assert_value_fails ("daemon", "roles", many->str, "more than 32 items");

  assert_value_fails ("daemon", "roles", list65, "is not a valid name");
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

static void
test_paths_list (void)
{
  static const ValueCase value_cases[] = {
    { "daemon", "plugin_dirs", "[/a, b]", "\"b\" is not an absolute path" },
    { "daemon", "plugin_dirs", "[/a, /a]", "\"/a\" is listed twice" },
    { "daemon", "plugin_dirs", "/a", "expected a list of absolute paths, found a scalar" },
    { "daemon", "plugin_dirs", "~", "found null" },
  };

  {
    g_autoptr (DflyConfig) config = load_one ("daemon", "plugin_dirs", "[/a, \"/b c\"]");
    const char *const dirs[] = { "/a", "/b c", NULL };

    g_assert_true (g_strv_equal ((const char *const *) config->daemon.plugin_dirs, dirs));
  }
  for (guint i = 0; i < G_N_ELEMENTS (value_cases); i++)
    assert_value_fails (value_cases[i].section, value_cases[i].key, value_cases[i].value,
                        value_cases[i].expected);
}

static void
test_unknown_key (void)
{
  static const FileCase file_cases[] = {
    { "daemon:\n  log_level: info\n  foo: 1\n", "x.yaml:3:3: unknown key \"daemon.foo\"" },
    /* a key of another section is unknown here */
    { "host:\n  port: 1\n", "x.yaml:2:3: unknown key \"host.port\"" },
    /* keys are case sensitive */
    { "daemon:\n  Log_Level: info\n", "x.yaml:2:3: unknown key \"daemon.Log_Level\"" },
    /* hostile keys are escaped in the message */
    { "daemon:\n  \"a\\x01\": 1\n", "unknown key \"daemon.a\\001\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_unknown_section (void)
{
  static const FileCase file_cases[] = {
    { "# comment\n\nfoo:\n  a: 1\n", "x.yaml:3:1: unknown section \"foo\"" },
    { "daemon:\n  log_level: info\nDaemon: {}\n", "x.yaml:3:1: unknown section \"Daemon\"" },
    { "1: x\n", "x.yaml:1:1: unknown section \"1\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_wrong_types (void)
{
  static const FileCase file_cases[] = {
    { "host:\n  ip: [1.2.3.4]\n", "x.yaml:2:7: host.ip: expected an IP address, found a list" },
    { "host:\n  idc:\n    a: b\n", "x.yaml:3:5: host.idc: expected a string, found a mapping" },
    { "daemon:\n  roles: {peer: 1}\n", "daemon.roles: expected a list of names, found a mapping" },
    { "daemon:\n  roles: peer\n", "daemon.roles: expected a list of names, found a scalar" },
    { "daemon:\n  roles:\n", "daemon.roles: expected a list of names, found null" },
    { "daemon: 5\n", "x.yaml:1:9: daemon: expected a mapping of keys, found a scalar" },
    { "daemon: [a]\n", "daemon: expected a mapping of keys, found a list" },
    { "- daemon\n", "x.yaml:1:1: the top level must be a mapping of sections, found a list" },
    { "hello\n", "the top level must be a mapping of sections, found a scalar" },
    { "\"\"\n", "the top level must be a mapping of sections" },
    { "? [daemon]\n: x\n", "x.yaml:1:3: expected a key, found a list" },
    { "daemon:\n  ? {a: b}\n  : x\n", "expected a key, found a mapping" },
    { "host:\n  idc: !!str x\n", "x.yaml:2:8: YAML tags are not supported" },
    { "--- !config\ndaemon: {}\n", "YAML tags are not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_aliases (void)
{
  static const FileCase file_cases[] = {
    /* anchors alone are harmless; the alias is what is refused */
    { "host:\n  idc: &a dc1\n  location: *a\n", "x.yaml:3:13: aliases are not supported" },
    { "x: &a [1]\n", "unknown section \"x\"" },
    { "daemon: &d {}\nhost: *d\n", "x.yaml:2:7: aliases are not supported" },
    { "*a\n", "aliases are not supported" },
    /* billion laughs: refused at the first alias, nothing is expanded */
    { "daemon:\n  roles: &a [a, b, c, d, e, f, g, h, i]\n"
      "  plugin_dirs: [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
      "x.yaml:3:17: aliases are not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_duplicates (void)
{
  static const FileCase file_cases[] = {
    { "daemon:\n  log_level: info\n  log_level: debug\n",
      "x.yaml:3:3: duplicate key \"daemon.log_level\"" },
    { "daemon:\n  log_level: info\nhost: {}\ndaemon:\n  state_dir: /x\n",
      "x.yaml:4:1: duplicate section \"daemon\"" },
    { "daemon: ~\ndaemon: ~\n", "duplicate section \"daemon\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_multiple_documents (void)
{
  static const FileCase file_cases[] = {
    { "daemon: {}\n---\nhost: {}\n", "x.yaml:2:1: multiple documents are not supported" },
    { "---\n---\n", "multiple documents are not supported" },
    { "daemon: {}\n...\n---\n", "multiple documents are not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
}

static void
test_depth_bomb (void)
{
  g_autoptr (GString) seqs = g_string_new ("");
  g_autoptr (GString) maps = g_string_new ("");
  g_autoptr (GString) roles = g_string_new ("daemon:\n  roles: ");
  g_autoptr (GString) block = g_string_new ("");

  for (guint i = 0; i < 100000; i++) {
    g_string_append_c (seqs, '[');
    g_string_append (maps, "{a: ");
    g_string_append_c (roles, '[');
  }
  for (guint i = 0; i < 200; i++) {
    g_string_append_printf (block, "%*sk%u:\n", (int) i * 2, "", i);
  }

  /* Every shape is refused at the first level too deep for a config,
   * without walking (or recursing into) the rest. */
  assert_fails (seqs->str, "x.yaml:1:1: ", "the top level must be a mapping");
  assert_fails (maps->str, "x.yaml:1:2: unknown section \"a\"");
  assert_fails (roles->str, "x.yaml:2:11: daemon.roles: expected a name, found a list");
  assert_fails (block->str, "x.yaml:1:1: unknown section \"k0\"");
  {
    g_autoptr (GString) yaml = g_string_new ("host:\n  ip:\n");

    for (guint i = 0; i < 200; i++)
      g_string_append_printf (yaml, "%*sk%u:\n", (int) i * 2 + 4, "", i);
    assert_fails (yaml->str, "x.yaml:3:5: host.ip: expected an IP address, found a mapping");
  }
}

static void
test_size_cap (void)
{
  const gsize      cap = 1024 * 1024;
  g_autofree char *data = g_malloc (cap + 1);
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) file_config = NULL;
  int fd;

  /* Exactly 1 MiB of comment is fine... */
  memset (data, 'x', cap + 1);
  data[0] = '#';
  data[cap - 1] = '\n';
  {
    g_autoptr (DflyConfig) config = dfly_config_load_data (data, cap, "x.yaml", &error);

    g_assert_no_error (error);
    assert_is_default (config);
  }

  /* ...one byte more is refused before parsing, from memory and from disk. */
  assert_fails_with (data, cap + 1, "x.yaml: file is larger than 1 MiB", NULL);

  fd = g_file_open_tmp ("test-config-XXXXXX.yaml", &path, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_file_set_contents (path, data, cap + 1, &error);
  g_assert_no_error (error);
  file_config = dfly_config_load_file (path, &error);
  g_assert_null (file_config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  assert_contains (error->message, path);
  assert_contains (error->message, "larger than 1 MiB");
  g_unlink (path);
}

static void
test_garbage (void)
{
  static const FileCase file_cases[] = {
    { "host:\n  idc: \xc3\x28\n",
      "x.yaml:2:9: YAML syntax error: invalid trailing UTF-8 octet (0x28)" },
    { "host:\n  idc: \xff\n", "x.yaml:2:8: YAML syntax error: invalid leading UTF-8 octet" },
    { "\x7f"
      "ELF\x02\x01\x01",
      "YAML syntax error" },
    { "daemon:\n  roles: [peer\n", "x.yaml:3:1: YAML syntax error: " },
    { "\"unterminated\n", "YAML syntax error: found unexpected end of stream" },
  };
  static const char yaml_alphabet[] = "{}[]:,-?&*!|>'\"#%@` \n\t\r\\~.0159aemnos_/\x01\x80\xc3\xff";

  for (guint i = 0; i < G_N_ELEMENTS (file_cases); i++)
    assert_fails (file_cases[i].yaml, file_cases[i].expected);
  assert_fails_with ("daemon:\n\0\0\0", 11,
                     "x.yaml:2:1: YAML syntax error: control characters are not allowed", NULL);
  assert_fails ("daemon:\n  log_level: info\n bad\n", "x.yaml:3:", "YAML syntax error");

  /* Random input, biased towards YAML punctuation: never a crash, always
   * exactly one of a config or an error. Seeded by GTest, so reproducible. */
  for (guint round = 0; round < 3000; round++) {
    gsize            length = (gsize) g_test_rand_int_range (0, 200);
    g_autofree char *input = g_malloc (length + 1);
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = NULL;

    for (gsize i = 0; i < length; i++) {
      if (round % 3 == 0)
        input[i] = (char) g_test_rand_int_range (0, 256);
      else
        input[i] = yaml_alphabet[g_test_rand_int_range (0, sizeof yaml_alphabet - 1)];
    }
    input[length] = '\0';
    config = dfly_config_load_data (input, length, "x.yaml", &error);
    g_assert_true ((config == NULL) != (error == NULL));
    if (error != NULL) {
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
      g_assert_true (g_str_has_prefix (error->message, "x.yaml:"));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
  }
}

static void
test_load_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-config-XXXXXX", &error);
  g_autofree char *good = g_build_filename (dir, "good.yaml", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.yaml", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.yaml", NULL);

  g_assert_no_error (error);
  g_file_set_contents (good, "daemon:\n  log_level: debug\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (bad, "daemon:\n  log_level: loud\n", -1, &error);
  g_assert_no_error (error);

  config = dfly_config_load_file (good, &error);
  g_assert_no_error (error);
  g_assert_cmpint (config->daemon.log_level, ==, DFLY_LOG_LEVEL_DEBUG);
  g_clear_pointer (&config, dfly_config_unref);

  /* errors in a file name the file */
  config = dfly_config_load_file (bad, &error);
  g_assert_null (config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, bad));
  assert_contains (error->message, ":2:14: daemon.log_level: \"loud\" is not a log level");
  g_clear_error (&error);

  config = dfly_config_load_file (missing, &error);
  g_assert_null (config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  assert_contains (error->message, missing);
  assert_contains (error->message, g_strerror (ENOENT));
  g_clear_error (&error);

  /* a directory, a FIFO or a device is not a config file; a FIFO with no
   * writer must not block the reader */
  {
    g_autofree char *fifo = g_build_filename (dir, "fifo.yaml", NULL);

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    config = dfly_config_load_file (fifo, &error);
    g_assert_null (config);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    assert_contains (error->message, fifo);
    g_clear_error (&error);
    g_unlink (fifo);
  }

  config = dfly_config_load_file (dir, &error);
  g_assert_null (config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  assert_contains (error->message, dir);
  g_clear_error (&error);

  config = dfly_config_load_file ("/dev/zero", &error);
  g_assert_null (config);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  assert_contains (error->message, "/dev/zero: not a regular file");
  g_clear_error (&error);

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

static void
test_diff (void)
{
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (DflyConfig) config =
    load_ok ("protocol:\n  max_message_size: 8MiB\n"
             "daemon:\n  log_level: debug\n  roles: [seed, peer]\n  plugin_dirs: [/opt/p]\n"
             "  shutdown_timeout: 1m\n"
             "host:\n  idc: \"dc \\\"1\\\"\"\n  ip: 10.0.0.2\n  location: \"\"\n"
             "manager:\n  port: 9000\n");
  g_autoptr (GPtrArray) diff = dfly_config_diff (defaults, config);
  g_autoptr (GPtrArray) back = dfly_config_diff (config, defaults);
  g_autoptr (GPtrArray) same = dfly_config_diff (config, config);
  const char *const expected[] = {
    "daemon.roles: [scheduler, seed, peer, proxy] -> [seed, peer] (takes effect after restart)",
    "daemon.plugin_dirs: [] -> [\"/opt/p\"] (takes effect after restart)",
    "daemon.log_level: info -> debug",
    "daemon.shutdown_timeout: 10s -> 60s",
    "host.ip: 127.0.0.1 -> 10.0.0.2 (takes effect after restart)",
    "host.idc: \"\" -> \"dc \\\"1\\\"\"",
    "protocol.max_message_size: 4MiB -> 8MiB (takes effect after restart)",
    /* then the plugins' keys */
    "manager.port: 8080 -> 9000 (takes effect after restart)",
  };

  g_assert_cmpuint (diff->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < diff->len; i++)
    g_assert_cmpstr (g_ptr_array_index (diff, i), ==, expected[i]);

  g_assert_cmpuint (back->len, ==, G_N_ELEMENTS (expected));
  g_assert_cmpstr (g_ptr_array_index (back, 2), ==, "daemon.log_level: debug -> info");
  g_assert_cmpuint (same->len, ==, 0);
}

static void
test_diff_strings (void)
{
  g_autoptr (DflyConfig) a = load_ok ("daemon:\n  state_dir: /a\nhost:\n  location: \"x|y\"\n");
  g_autoptr (DflyConfig) b = load_ok ("daemon:\n  state_dir: /b\nhost:\n  location: 北京\n"
                                      "scheduler:\n  max_hosts: 1\n");
  g_autoptr (GPtrArray) diff = dfly_config_diff (a, b);

  g_assert_cmpuint (diff->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (diff, 0), ==,
                   "daemon.state_dir: \"/a\" -> \"/b\" (takes effect after restart)");
  g_assert_cmpstr (g_ptr_array_index (diff, 1), ==, "host.location: \"x|y\" -> \"北京\"");
  g_assert_cmpstr (g_ptr_array_index (diff, 2), ==, "scheduler.max_hosts: 10000 -> 1");
}

/* A reload keeps the running value of every restart-only key. */
static void
test_keep_restart_keys (void)
{
  g_autoptr (DflyConfig) running = load_ok ("host:\n  ip: 127.0.0.2\n  idc: a\n");
  g_autoptr (DflyConfig) loaded = load_ok ("daemon:\n  roles: [peer]\n  log_level: debug\n"
                                           "host:\n  ip: 127.0.0.3\n  idc: b\n"
                                           "manager:\n  port: 9\n");
  g_autoptr (GPtrArray) diff = NULL;

  dfly_config_keep_restart_keys (loaded, running);
  g_assert_cmpstr (loaded->host.ip, ==, "127.0.0.2");
  g_assert_cmpuint (MANAGER (loaded)->port, ==, 8080);
  g_assert_cmpuint (g_strv_length (loaded->daemon.roles), ==, 4); /* the running default */
  g_assert_cmpstr (loaded->host.idc, ==, "b");
  g_assert_cmpint (loaded->daemon.log_level, ==, DFLY_LOG_LEVEL_DEBUG);
  diff = dfly_config_diff (running, loaded);
  g_assert_cmpuint (diff->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (diff, 0), ==, "daemon.log_level: info -> debug");
}

static char *
shipped_config_path (void)
{
  return g_build_filename (TEST_SRCDIR, "..", "data", "dflyd.yaml", NULL);
}

static void
test_shipped_file (void)
{
  g_autofree char *path = shipped_config_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = dfly_config_load_file (path, &error);

  g_assert_no_error (error);
  assert_is_default (config);
}

/* Every key of the daemon's and the in-tree plugins' tables, as
 * "section.key" → its DflyConfigKey. */
static GHashTable *
table_keys (void)
{
  GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (const DflyConfigDaemonSection *s = dfly_config_get_daemon_sections (); s->name; s++) {
    for (guint i = 0; i < s->section->n_keys; i++)
      g_hash_table_insert (keys, g_strdup_printf ("%s.%s", s->name, s->section->keys[i].name),
                           (gpointer) &s->section->keys[i]);
  }
  for (guint p = 0; p < G_N_ELEMENTS (plugins); p++) {
    for (guint i = 0; i < plugins[p].section->n_keys; i++)
      g_hash_table_insert (
        keys, g_strdup_printf ("%s.%s", plugins[p].name, plugins[p].section->keys[i].name),
        (gpointer) &plugins[p].section->keys[i]);
  }
  return keys;
}

/* What a document says of one key. */
typedef struct {
  char    *value; /* the default, as YAML */
  gboolean live;
} DocKey;

static void
doc_key_free (DocKey *key)
{
  g_free (key->value);
  g_free (key);
}

/* Holds documented (section.key → DocKey) to the tables: the same keys,
 * each with its table's liveness, and, all written into one file, the
 * defaults. */
static void
assert_documents_tables (GHashTable *documented, const char *what)
{
  g_autoptr (GHashTable) keys = table_keys ();
  g_autoptr (GString) yaml = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = NULL;
  g_autoptr (DflyConfig) defaults = config_new_default ();
  g_autoptr (GPtrArray) diff = NULL;
  g_autoptr (GList) names =
    g_list_sort (g_hash_table_get_keys (documented), (GCompareFunc) g_strcmp0);
  GHashTableIter iter;
  gpointer       name, key;
  const char    *section = ""; /* of the last key written, section_length long */
  gsize          section_length = 0;

  g_hash_table_iter_init (&iter, keys);
  while (g_hash_table_iter_next (&iter, &name, &key)) {
    DocKey *doc = g_hash_table_lookup (documented, name);

    g_test_message ("%s: %s", what, (const char *) name);
    g_assert_nonnull (doc);
    g_assert_cmpint (doc->live, ==, (((const DflyConfigKey *) key)->flags & DFLY_CONFIG_LIVE) != 0);
  }
  /* Sorted by name, so each section's keys are together. */
  for (GList *l = names; l != NULL; l = l->next) {
    DocKey     *doc = g_hash_table_lookup (documented, l->data);
    const char *dot = strchr (l->data, '.');
    gsize       length = (gsize) (dot - (const char *) l->data);

    g_test_message ("%s documents %s", what, (const char *) l->data);
    g_assert_nonnull (g_hash_table_lookup (keys, l->data));
    g_assert_nonnull (doc->value);
    if (section_length != length || strncmp (section, l->data, length) != 0) {
      section = l->data;
      section_length = length;
      g_string_append_printf (yaml, "%.*s:\n", (int) length, section);
    }
    g_string_append_printf (yaml, "  %s: %s\n", dot + 1, doc->value);
  }
  config = config_load (yaml->str, yaml->len, what, &error);
  g_assert_no_error (error);
  diff = dfly_config_diff (defaults, config);
  for (guint i = 0; i < diff->len; i++)
    g_test_message ("differs: %s", (const char *) g_ptr_array_index (diff, i));
  g_assert_cmpuint (diff->len, ==, 0);
}

static char *
shipped_file_text (const char *name)
{
  g_autofree char *path = g_build_filename (TEST_SRCDIR, "..", "data", name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* The shipped dflyd.yaml: every key commented out with its default; a
 * comment block with "[live]" documents live keys. */
static void
test_shipped_file_comments (void)
{
  g_autofree char *text = shipped_file_text ("dflyd.yaml");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GHashTable) documented =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) doc_key_free);
  g_autoptr (GRegex) section_line = g_regex_new ("^([a-z0-9_]+):$", 0, 0, NULL);
  g_autoptr (GRegex) key_line = g_regex_new ("^  # ([a-z0-9_]+): (.+)$", 0, 0, NULL);
  g_autofree char *section = NULL;
  gboolean         live = FALSE;

  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr (GMatchInfo) section_match = NULL;
    g_autoptr (GMatchInfo) match = NULL;

    if (lines[i][0] == '\0')
      live = FALSE; /* a comment block ends */
    if (strstr (lines[i], "[live]") != NULL)
      live = TRUE;
    if (g_regex_match (section_line, lines[i], 0, &section_match)) {
      g_free (section);
      section = g_match_info_fetch (section_match, 1);
    } else if (section != NULL && g_regex_match (key_line, lines[i], 0, &match)) {
      g_autofree char *key = g_match_info_fetch (match, 1);
      DocKey          *doc = g_new0 (DocKey, 1);

      doc->value = g_match_info_fetch (match, 2);
      doc->live = live;
      g_hash_table_insert (documented, g_strdup_printf ("%s.%s", section, key), doc);
    }
  }
  assert_documents_tables (documented, "dflyd.yaml");
}

/* Roff markup off a value: quotes, "\-", and "empty" for "". */
static char *
man_value (const char *text)
{
  g_autoptr (GString) value = g_string_new (NULL);

  if (g_str_has_prefix (text, "empty"))
    return g_strdup ("\"\"");
  for (const char *c = text; *c != '\0'; c++) {
    if (c[0] == '\\' && c[1] == '-')
      continue;
    if (*c != '"')
      g_string_append_c (value, *c);
  }
  return g_string_free (g_steal_pointer (&value), FALSE);
}

/* dflyd.yaml(5): ".SH SECTION name", then per key ".TP", ".B key", a line
 * ending "Default:" (the value follows as .B, .BR or .I) or saying
 * "Default: empty", and "Live." or "Restart.". */
static void
test_shipped_man_page (void)
{
  g_autofree char *text = shipped_file_text ("dflyd.yaml.5");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GHashTable) documented =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) doc_key_free);
  g_autoptr (GRegex) value_line = g_regex_new ("^\\.(?:BR?|I) (\"[^\"]*\"|\\S+)", 0, 0, NULL);
  g_autofree char *section = NULL;
  DocKey          *doc = NULL;

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = lines[i];
    const char *found;

    if (g_str_has_prefix (line, ".SH ")) {
      g_free (section);
      section = g_str_has_prefix (line, ".SH SECTION ") ? g_strdup (line + 12) : NULL;
      doc = NULL;
    } else if (section != NULL && g_str_equal (line, ".TP") &&
               g_str_has_prefix (lines[i + 1], ".B ")) {
      doc = g_new0 (DocKey, 1);
      g_hash_table_insert (documented, g_strdup_printf ("%s.%s", section, lines[i + 1] + 3), doc);
      i++;
    } else if (doc != NULL && doc->value == NULL && (found = strstr (line, "Default:"))) {
      g_autoptr (GMatchInfo) match = NULL;

      if (found[8] == ' ') {
        doc->value = man_value (found + 9);
      } else {
        g_assert_true (g_regex_match (value_line, lines[i + 1], 0, &match));
        g_autofree char *raw = g_match_info_fetch (match, 1);

        doc->value = man_value (raw);
      }
    } else if (doc != NULL &&
               (g_str_has_prefix (line, "Live.") || g_str_has_prefix (line, "Restart."))) {
      doc->live = g_str_has_prefix (line, "Live.");
    }
  }
  assert_documents_tables (documented, "dflyd.yaml.5");
}

static void
test_no_error_location (void)
{
  /* callers may pass no GError at all */
  g_autoptr (DflyConfig) unknown = dfly_config_load_data ("x: 1\n", 5, "x.yaml", NULL);

  g_assert_null (dfly_config_load_data ("daemon: 1\n", 10, "x.yaml", NULL));
  /* a section for a plugin is refused once no plugin took it */
  g_assert_nonnull (unknown);
  g_assert_false (dfly_config_check_plugins (unknown, NULL, NULL));
  g_assert_null (dfly_config_load_file ("/nonexistent/dflyd.yaml", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/refcount", test_refcount);
  g_test_add_func ("/config/oci", test_oci_section);
  g_test_add_func ("/config/s3", test_s3_section);
  g_test_add_func ("/config/full-file", test_full_file);
  g_test_add_func ("/config/empty", test_empty);
  g_test_add_func ("/config/type/string", test_strings);
  g_test_add_func ("/config/type/ip", test_ip);
  g_test_add_func ("/config/type/path", test_path);
  g_test_add_func ("/config/type/uint", test_uint);
  g_test_add_func ("/config/type/port", test_port);
  g_test_add_func ("/config/type/ratio", test_ratio);
  g_test_add_func ("/config/section/scheduler", test_scheduler);
  g_test_add_func ("/config/type/duration", test_duration);
  g_test_add_func ("/config/type/size", test_size);
  g_test_add_func ("/config/type/log-level", test_log_level);
  g_test_add_func ("/config/type/names", test_names);
  g_test_add_func ("/config/type/paths", test_paths_list);
  g_test_add_func ("/config/type/size-64bit", test_size_64bit);
  g_test_add_func ("/config/type/strings", test_strings_list);
  g_test_add_func ("/config/section/download", test_download);
  g_test_add_func ("/config/section/http", test_http);
  g_test_add_func ("/config/section/storage", test_storage);
  g_test_add_func ("/config/error/unknown-key", test_unknown_key);
  g_test_add_func ("/config/error/unknown-section", test_unknown_section);
  g_test_add_func ("/config/error/wrong-types", test_wrong_types);
  g_test_add_func ("/config/error/aliases", test_aliases);
  g_test_add_func ("/config/error/duplicates", test_duplicates);
  g_test_add_func ("/config/error/multiple-documents", test_multiple_documents);
  g_test_add_func ("/config/error/depth-bomb", test_depth_bomb);
  g_test_add_func ("/config/error/size-cap", test_size_cap);
  g_test_add_func ("/config/error/garbage", test_garbage);
  g_test_add_func ("/config/error/no-error-location", test_no_error_location);
  g_test_add_func ("/config/load-file", test_load_file);
  g_test_add_func ("/config/keep-restart-keys", test_keep_restart_keys);
  g_test_add_func ("/config/diff", test_diff);
  g_test_add_func ("/config/diff-strings", test_diff_strings);
  g_test_add_func ("/config/diff-new-keys", test_diff_new_keys);
  g_test_add_func ("/config/shipped", test_shipped_file);
  g_test_add_func ("/config/shipped-comments", test_shipped_file_comments);
  g_test_add_func ("/config/shipped-man-page", test_shipped_man_page);

  return g_test_run ();
}
