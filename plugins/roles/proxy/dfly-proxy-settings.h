/* dfly-proxy-settings.h — the proxy role's section of dflyd.yaml */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

typedef struct {
  char   *listen; /* the proxy's address (loopback by default) */
  guint16 port;
  char   *registry_mirror;     /* the upstream of a mirror request naming none */
  char  **insecure_registries; /* host[:port] reached over http */
  char  **rules;               /* "REGEX [p2p|direct] [use_tls] [redirect=HOST]" */
  char  **intercept;           /* host patterns whose CONNECT is intercepted */
  char   *ca_cert;             /* the interception CA */
  char   *ca_key;
  char  **connect_ports;       /* ports a CONNECT may reach, as text */
  guint   max_tunnels;         /* CONNECT tunnels open at once */
  guint   prefetch;            /* 1: a range read fetches the rest of its task too */
  guint64 prefetch_rate_limit; /* bytes/s of that, 0: as fast as the peer goes */
  guint64 cache_capacity;      /* memory for repeated small range reads */
  guint64 max_request_body;    /* a pass-through request's body, at most */
  char   *auth_user;           /* basic auth asked of clients ("": none) */
  char   *auth_password;
} DflyProxySettings;

extern const DflyConfigSection dfly_proxy_settings;

G_END_DECLS
