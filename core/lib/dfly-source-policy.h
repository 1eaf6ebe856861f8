/* dfly-source-policy.h — what the HTTP client may fetch: source.allow and source.deny
 *
 * A rule is a CIDR (10.0.0.0/8, fd00::/8), an address (a CIDR of its full
 * length) or a host pattern: a name (registry.local) or "*." and a name
 * (*.example.com: every name below example.com, not example.com itself).
 * Names are checked on the URL's host before connecting; addresses on the
 * address a connection actually goes to, so no DNS answer gets around them.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as their IPv4 address.
 *
 * Link-local addresses (169.254.0.0/16, fe80::/10, where clouds answer with
 * instance credentials) and the known cloud metadata addresses are denied
 * whatever the config says, unless an allow CIDR names them more narrowly.
 * Among the CIDRs matching an address the longest prefix decides; on a tie
 * deny wins. With source.allow not empty, only what it lists is fetched: a
 * host it names, or an address in one of its CIDRs.
 *
 * Private to libdfly: the HTTP client and the config's checks use it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DflySourcePolicy DflySourcePolicy;

/* Whether text is a rule; else why not (without the key's name). */
gboolean dfly_source_rule_check (const char *text, GError **error);

/* A policy from the two lists (NULL: empty), which hold valid rules. */
DflySourcePolicy *dfly_source_policy_new (const char *const *allow, const char *const *deny,
                                          GError **error);
void              dfly_source_policy_free (DflySourcePolicy *policy);

/* Before connecting to a URL's host: FALSE with DFLY_ERROR_SOURCE_DENIED
 * when the name (or the address it is written as) may not be fetched.
 * *allowed_by_name: source.allow names this host, so its addresses need not
 * be in an allow CIDR (a deny still applies to them). */
gboolean dfly_source_policy_check_host (const DflySourcePolicy *policy, const char *host,
                                        gboolean *allowed_by_name, GError **error);
/* When a connection goes to address. */
gboolean dfly_source_policy_check_address (const DflySourcePolicy *policy, GInetAddress *address,
                                           gboolean allowed_by_name, GError **error);

/* Whether host (a name or an address literal) matches one of rules (valid
 * rules, as source.allow holds them): a name its patterns, an address its
 * CIDRs and addresses. */
gboolean dfly_source_rules_match (const char *const *rules, const char *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySourcePolicy, dfly_source_policy_free)

G_END_DECLS
