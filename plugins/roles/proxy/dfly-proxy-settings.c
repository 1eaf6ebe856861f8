/* dfly-proxy-settings.c — the proxy role's keys */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "dfly-proxy-rules.h"
#include "dfly-proxy-settings.h"

#define FIELD(member) offsetof (DflyProxySettings, member)

static const DflyConfigKey keys[] = {
  { "listen", DFLY_CONFIG_IP, FIELD (listen), "127.0.0.1", 0, 0, DFLY_CONFIG_RESTART,
    "the address the proxy listens on" },
  { "port", DFLY_CONFIG_PORT, FIELD (port), "4001", 0, G_MAXUINT16, DFLY_CONFIG_RESTART,
    "the proxy's TCP port; 0 picks a free one" },
  { "registry_mirror", DFLY_CONFIG_STRING, FIELD (registry_mirror), "https://index.docker.io", 1,
    1024, DFLY_CONFIG_RESTART, "the upstream of a mirror request that names none" },
  { "insecure_registries", DFLY_CONFIG_STRINGS, FIELD (insecure_registries), "[]", 0, 256,
    DFLY_CONFIG_RESTART, "registries (host[:port]) a mirror request reaches over plain http" },
  { "rules", DFLY_CONFIG_STRINGS, FIELD (rules), "[\"blobs/sha256.*\"]", 0, 256,
    DFLY_CONFIG_RESTART, "ordered rules: REGEX [p2p|direct] [use_tls] [redirect=HOST[:PORT]]" },
  { "intercept", DFLY_CONFIG_ORIGINS, FIELD (intercept), "[]", 0, 256, DFLY_CONFIG_RESTART,
    "hosts whose CONNECT is intercepted with the CA (the rest is tunnelled)" },
  { "ca_cert", DFLY_CONFIG_PATH, FIELD (ca_cert), "\"\"", 0, 4096, DFLY_CONFIG_RESTART,
    "the interception CA's certificate (PEM)" },
  { "ca_key", DFLY_CONFIG_PATH, FIELD (ca_key), "\"\"", 0, 4096,
    DFLY_CONFIG_RESTART | DFLY_CONFIG_SECRET, "the interception CA's private key (PEM)" },
  { "connect_ports", DFLY_CONFIG_STRINGS, FIELD (connect_ports), "[443]", 0, 64,
    DFLY_CONFIG_RESTART, "the ports a CONNECT may reach (others: 403)" },
  { "max_tunnels", DFLY_CONFIG_UINT, FIELD (max_tunnels), "256", 1, 65536, DFLY_CONFIG_RESTART,
    "CONNECT tunnels (intercepted or not) open at once; more: 503" },
  { "prefetch", DFLY_CONFIG_UINT, FIELD (prefetch), "0", 0, 1, DFLY_CONFIG_RESTART,
    "1: a range read also fetches the rest of its task (as X-Dragonfly-Prefetch: true)" },
  { "prefetch_rate_limit", DFLY_CONFIG_SIZE, FIELD (prefetch_rate_limit), "0", 0,
    G_GUINT64_CONSTANT (1) << 40, DFLY_CONFIG_RESTART,
    "bytes per second a prefetch reads at; 0: as fast as the peer fetches" },
  { "cache_capacity", DFLY_CONFIG_SIZE, FIELD (cache_capacity), "64MiB", 0,
    G_GUINT64_CONSTANT (16) << 30, DFLY_CONFIG_RESTART,
    "memory for repeated small range reads (1 MiB or less each); 0: none" },
  { "max_request_body", DFLY_CONFIG_SIZE, FIELD (max_request_body), "1MiB", 0,
    G_GUINT64_CONSTANT (1) << 30, DFLY_CONFIG_RESTART,
    "the largest request body passed through (larger: 413)" },
  { "auth_user", DFLY_CONFIG_STRING, FIELD (auth_user), "\"\"", 0, 255, DFLY_CONFIG_RESTART,
    "basic auth user clients must give (Proxy-Authorization); empty: none" },
  { "auth_password", DFLY_CONFIG_STRING, FIELD (auth_password), "\"\"", 0, 255,
    DFLY_CONFIG_RESTART | DFLY_CONFIG_SECRET, "basic auth password" },
};

static gboolean
is_http_url (const char *text)
{
  g_autoptr (GUri) uri = g_uri_parse (text, DFLY_PROXY_URI_FLAGS, NULL);

  return uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0' &&
         (strcmp (g_uri_get_scheme (uri), "http") == 0 ||
          strcmp (g_uri_get_scheme (uri), "https") == 0);
}

static gboolean
check (gconstpointer values, GError **error)
{
  const DflyProxySettings *settings = values;
  g_autoptr (DflyProxyRules) rules = NULL;

  if (!is_http_url (settings->registry_mirror)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "registry_mirror \"%s\" is not an http or https URL", settings->registry_mirror);
    return FALSE;
  }
  rules = dfly_proxy_rules_new ((const char *const *) settings->rules, error);
  if (rules == NULL) {
    g_prefix_error (error, "rules: ");
    return FALSE;
  }
  if ((*settings->ca_cert == '\0') != (*settings->ca_key == '\0')) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "ca_cert and ca_key go together: give both or neither");
    return FALSE;
  }
  if (settings->intercept[0] != NULL && *settings->ca_cert == '\0') {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "intercept names hosts but no ca_cert and ca_key sign for them");
    return FALSE;
  }
  for (guint i = 0; settings->connect_ports[i] != NULL; i++) {
    guint64 port;

    if (!g_ascii_string_to_unsigned (settings->connect_ports[i], 10, 1, G_MAXUINT16, &port, NULL)) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "connect_ports: \"%s\" is not a port (1 to 65535)", settings->connect_ports[i]);
      return FALSE;
    }
  }
  if ((*settings->auth_user == '\0') != (*settings->auth_password == '\0') ||
      strchr (settings->auth_user, ':') != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "auth_user and auth_password go together, and the user holds no ':'");
    return FALSE;
  }
  return TRUE;
}

const DflyConfigSection dfly_proxy_settings = {
  .size = sizeof (DflyProxySettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
  .check = check,
};
