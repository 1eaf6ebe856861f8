/* dfly-proxy-leaves.h — the interception CA and the leaf certificates it signs
 *
 * An intercepted CONNECT is answered with a certificate for the host the
 * client asked for, signed by proxy.ca_cert/ca_key (dfly_cert_issue_leaf).
 * Each host's leaf is made on first use (an ECDSA P-256 key and a
 * signature: about a millisecond, on the main loop) and kept in memory:
 * at most DFLY_PROXY_LEAVES_MAX of them, the least recently used dropped
 * first. A leaf is valid DFLY_PROXY_LEAF_DAYS (never past the CA) and is
 * made anew once less than a day of it is left.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DFLY_PROXY_LEAVES_MAX 1024
#define DFLY_PROXY_LEAF_DAYS  7

typedef struct _DflyProxyLeaves DflyProxyLeaves;

/* Reads the CA's PEM files and signs a first leaf with them, so that a CA
 * that cannot sign (not a CA, a key of another) fails the role's start.
 * max: leaves kept at most (the role's is DFLY_PROXY_LEAVES_MAX). */
DflyProxyLeaves *dfly_proxy_leaves_new (const char *ca_cert_path, const char *ca_key_path,
                                        guint max, GError **error);
void             dfly_proxy_leaves_free (DflyProxyLeaves *leaves);
/* The certificate (with its key) to show for host: a DNS name or an IP
 * address literal, lowercase. Borrowed: valid until the next call. */
GTlsCertificate *dfly_proxy_leaves_get (DflyProxyLeaves *leaves, const char *host, GError **error);
/* How many leaves are kept. */
guint dfly_proxy_leaves_count (DflyProxyLeaves *leaves);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyProxyLeaves, dfly_proxy_leaves_free)

G_END_DECLS
