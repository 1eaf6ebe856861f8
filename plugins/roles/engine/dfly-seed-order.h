/* dfly-seed-order.h — who may order a seed to fetch from the source, and who did
 *
 * POST /v1/download-task makes a seed fetch a URL with its own credentials
 * and rules and share the bytes with anyone the scheduler sends. Under
 * mutual TLS only a host whose certificate grants the scheduler role may
 * order it; on a plaintext link (no identity) the network is trusted, as
 * before. Every order is logged with its caller either way.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* "host <id>" when msg came over mutual TLS, else "<address>" (its remote
 * address, "unknown" if none). */
char *dfly_seed_order_caller (SoupServerMessage *msg);

/* FALSE with DFLY_ERROR_ACCESS_DENIED when msg's sender may not order a
 * seed: it proved an identity without the scheduler role. */
gboolean dfly_seed_order_check (SoupServerMessage *msg, GError **error);

G_END_DECLS
