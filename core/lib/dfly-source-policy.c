/* dfly-source-policy.c — DflySourcePolicy: source.allow and source.deny, matched
 *
 * CIDRs are GInetAddressMasks (GLib parses them and refuses host bits set
 * past the prefix); host patterns are lowercase ASCII names, compared label
 * by label from the right.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly-error.h"
#include "dfly-source-policy.h"

#define MAX_NAME_LENGTH  253
#define MAX_LABEL_LENGTH 63

typedef struct {
  GInetAddressMask *mask;
  const char       *reason; /* what the error says it is */
  char             *text;   /* as configured */
} CidrRule;

struct _DflySourcePolicy {
  GArray    *allow_cidrs; /* CidrRule */
  GArray    *deny_cidrs;  /* CidrRule: the built-in ones, then source.deny's */
  GPtrArray *allow_names; /* patterns, lowercase */
  GPtrArray *deny_names;
  gboolean   allow_empty; /* source.allow lists nothing: everything not denied goes */
};

/* Denied whatever the config says: where a cloud instance's credentials are
 * served to anyone on the machine who asks. */
static const struct {
  const char *cidr;
  const char *reason;
} builtin_denied[] = {
  { "169.254.0.0/16", "link-local" },
  { "fe80::/10", "link-local" },
  { "fd00:ec2::254", "cloud metadata" },   /* EC2's instance metadata over IPv6 */
  { "100.100.100.200", "cloud metadata" }, /* Alibaba Cloud's */
};

static void
cidr_rule_clear (gpointer data)
{
  CidrRule *rule = data;

  g_clear_object (&rule->mask);
  g_clear_pointer (&rule->text, g_free);
}

/* ::ffff:a.b.c.d as a.b.c.d; any other address as it is (a new reference). */
static GInetAddress *
unmap_address (GInetAddress *address)
{
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (address);
  bytes = g_inet_address_to_bytes (address);
  for (guint i = 0; i < 10; i++)
    if (bytes[i] != 0)
      return g_object_ref (address);
  if (bytes[10] != 0xff || bytes[11] != 0xff)
    return g_object_ref (address);
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

/* A CIDR or an address as a mask; an IPv4-mapped one as its IPv4 mask.
 * NULL when text is neither. Parsed here rather than by
 * g_inet_address_mask_new_from_string, which takes "/+8" and "/ 8" (strtoul)
 * and warns on a length past the family's. */
static GInetAddressMask *
parse_cidr (const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 3);
  g_autoptr (GInetAddress) address =
    parts[0] != NULL ? g_inet_address_new_from_string (parts[0]) : NULL;
  g_autoptr (GInetAddress) unmapped = NULL;
  g_autoptr (GError) local_error = NULL;
  GInetAddressMask *mask;
  guint64           length;
  guint             bits;

  if (address == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "not an IPv4 or IPv6 address");
    return NULL;
  }
  bits = g_inet_address_get_native_size (address) * 8;
  length = bits;
  if (parts[1] != NULL &&
      (parts[2] != NULL || strlen (parts[1]) > 3 || !g_ascii_isdigit (parts[1][0]) ||
       !g_ascii_string_to_unsigned (parts[1], 10, 0, bits, &length, NULL))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "the prefix length is not a number from 0 to %u", bits);
    return NULL;
  }
  unmapped = unmap_address (address);
  if (unmapped != address && g_inet_address_get_family (unmapped) == G_SOCKET_FAMILY_IPV4) {
    if (length < 96) {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "an IPv4-mapped prefix shorter than /96 is not an IPv4 network");
      return NULL;
    }
    length -= 96;
  }
  /* GLib refuses host bits set past the prefix (10.0.0.1/8). */
  mask = g_inet_address_mask_new (unmapped, (guint) length, &local_error);
  if (mask == NULL)
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, local_error->message);
  return mask;
}

/* A host pattern: "name" or "*.name", a DNS name of letter-digit-hyphen
 * labels. Sets *wildcard. */
static gboolean
check_pattern (const char *text, gboolean *wildcard, GError **error)
{
  const char *name = text;
  gsize       label = 0;

  *wildcard = g_str_has_prefix (text, "*.");
  if (*wildcard)
    name += 2;
  if (*name == '\0' || strlen (name) > MAX_NAME_LENGTH) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "not a host name (1 to %d characters)", MAX_NAME_LENGTH);
    return FALSE;
  }
  for (const char *p = name;; p++) {
    if (*p == '.' || *p == '\0') {
      if (label == 0 || label > MAX_LABEL_LENGTH || p[-1] == '-' || p[-(gssize) label] == '-') {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                     "not a host name: a label is empty, longer than %d or starts or ends with "
                     "'-'",
                     MAX_LABEL_LENGTH);
        return FALSE;
      }
      if (*p == '\0')
        return TRUE;
      label = 0;
      continue;
    }
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_') {
      g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                   "not a CIDR, an address or a host name ('*' only as \"*.name\")");
      return FALSE;
    }
    label++;
  }
}

static gboolean
looks_like_address (const char *text)
{
  return strchr (text, '/') != NULL || strchr (text, ':') != NULL ||
         strspn (text, "0123456789.") == strlen (text);
}

gboolean
dfly_source_rule_check (const char *text, GError **error)
{
  g_autoptr (GInetAddressMask) mask = NULL;
  gboolean wildcard;

  if (looks_like_address (text)) {
    mask = parse_cidr (text, error);
    return mask != NULL;
  }
  return check_pattern (text, &wildcard, error);
}

static gboolean
add_rule (GArray *cidrs, GPtrArray *names, const char *text, const char *reason, GError **error)
{
  CidrRule rule = { 0 };
  gboolean wildcard;

  if (!looks_like_address (text)) {
    if (!check_pattern (text, &wildcard, error))
      return FALSE;
    g_ptr_array_add (names, g_ascii_strdown (text, -1));
    return TRUE;
  }
  rule.mask = parse_cidr (text, error);
  if (rule.mask == NULL)
    return FALSE;
  rule.text = g_strdup (text);
  rule.reason = reason != NULL ? reason : rule.text;
  g_array_append_val (cidrs, rule);
  return TRUE;
}

DflySourcePolicy *
dfly_source_policy_new (const char *const *allow, const char *const *deny, GError **error)
{
  g_autoptr (DflySourcePolicy) policy = g_new0 (DflySourcePolicy, 1);

  policy->allow_cidrs = g_array_new (FALSE, TRUE, sizeof (CidrRule));
  policy->deny_cidrs = g_array_new (FALSE, TRUE, sizeof (CidrRule));
  g_array_set_clear_func (policy->allow_cidrs, cidr_rule_clear);
  g_array_set_clear_func (policy->deny_cidrs, cidr_rule_clear);
  policy->allow_names = g_ptr_array_new_with_free_func (g_free);
  policy->deny_names = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (builtin_denied); i++)
    if (!add_rule (policy->deny_cidrs, policy->deny_names, builtin_denied[i].cidr,
                   builtin_denied[i].reason, error))
      return NULL;
  for (guint i = 0; deny != NULL && deny[i] != NULL; i++)
    if (!add_rule (policy->deny_cidrs, policy->deny_names, deny[i], NULL, error)) {
      g_prefix_error (error, "source.deny: %s: ", deny[i]);
      return NULL;
    }
  for (guint i = 0; allow != NULL && allow[i] != NULL; i++)
    if (!add_rule (policy->allow_cidrs, policy->allow_names, allow[i], NULL, error)) {
      g_prefix_error (error, "source.allow: %s: ", allow[i]);
      return NULL;
    }
  policy->allow_empty = policy->allow_cidrs->len == 0 && policy->allow_names->len == 0;
  return g_steal_pointer (&policy);
}

void
dfly_source_policy_free (DflySourcePolicy *policy)
{
  if (policy == NULL)
    return;
  g_clear_pointer (&policy->allow_cidrs, g_array_unref);
  g_clear_pointer (&policy->deny_cidrs, g_array_unref);
  g_clear_pointer (&policy->allow_names, g_ptr_array_unref);
  g_clear_pointer (&policy->deny_names, g_ptr_array_unref);
  g_free (policy);
}

/* The first pattern of names matching host (lowercase, no trailing dot). */
static const char *
match_name (GPtrArray *names, const char *host)
{
  gsize host_length = strlen (host);

  for (guint i = 0; i < names->len; i++) {
    const char *pattern = g_ptr_array_index (names, i);

    if (g_str_has_prefix (pattern, "*.")) {
      gsize suffix = strlen (pattern) - 1; /* ".name" */

      if (host_length > suffix && strcmp (host + host_length - suffix, pattern + 1) == 0)
        return pattern;
    } else if (strcmp (host, pattern) == 0) {
      return pattern;
    }
  }
  return NULL;
}

/* The matching rule of cidrs with the longest prefix, or NULL. */
static const CidrRule *
match_cidr (GArray *cidrs, GInetAddress *address)
{
  const CidrRule *best = NULL;

  for (guint i = 0; i < cidrs->len; i++) {
    const CidrRule *rule = &g_array_index (cidrs, CidrRule, i);

    if (g_inet_address_mask_matches (rule->mask, address) &&
        (best == NULL ||
         g_inet_address_mask_get_length (rule->mask) > g_inet_address_mask_get_length (best->mask)))
      best = rule;
  }
  return best;
}

gboolean
dfly_source_policy_check_address (const DflySourcePolicy *policy, GInetAddress *address,
                                  gboolean allowed_by_name, GError **error)
{
  g_autoptr (GInetAddress) unmapped = unmap_address (address);
  g_autofree char *shown = g_inet_address_to_string (unmapped);
  const CidrRule  *denied = match_cidr (policy->deny_cidrs, unmapped);
  const CidrRule  *allowed = match_cidr (policy->allow_cidrs, unmapped);

  if (denied != NULL && (allowed == NULL || g_inet_address_mask_get_length (allowed->mask) <=
                                              g_inet_address_mask_get_length (denied->mask))) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED, "source.deny: %s is denied (%s)",
                 shown, denied->reason);
    return FALSE;
  }
  if (allowed != NULL || allowed_by_name || policy->allow_empty)
    return TRUE;
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED,
               "source.allow: %s is not in the list of allowed origins", shown);
  return FALSE;
}

/* host as patterns are written: ASCII, lowercase, without a final dot;
 * NULL when it is not a host name. */
static char *
normalize_name (const char *host)
{
  g_autofree char *ascii = g_hostname_to_ascii (host);
  g_autofree char *lower = ascii != NULL ? g_ascii_strdown (ascii, -1) : NULL;
  gsize            length = lower != NULL ? strlen (lower) : 0;
  gboolean         wildcard;

  /* "example.com." is example.com. */
  if (length > 1 && lower[length - 1] == '.')
    lower[length - 1] = '\0';
  if (lower == NULL || !check_pattern (lower, &wildcard, NULL) || wildcard)
    return NULL;
  return g_steal_pointer (&lower);
}

gboolean
dfly_source_rules_match (const char *const *rules, const char *host)
{
  g_autoptr (DflySourcePolicy) policy = dfly_source_policy_new (rules, NULL, NULL);
  g_autoptr (GInetAddress) literal = g_inet_address_new_from_string (host);
  g_autoptr (GInetAddress) unmapped = NULL;
  g_autofree char *lower = NULL;

  if (policy == NULL)
    return FALSE;
  if (literal != NULL) {
    unmapped = unmap_address (literal);
    return match_cidr (policy->allow_cidrs, unmapped) != NULL;
  }
  lower = normalize_name (host);
  return lower != NULL && match_name (policy->allow_names, lower) != NULL;
}

gboolean
dfly_source_policy_check_host (const DflySourcePolicy *policy, const char *host,
                               gboolean *allowed_by_name, GError **error)
{
  g_autoptr (GInetAddress) literal = g_inet_address_new_from_string (host);
  g_autofree char *lower = NULL;
  const char      *pattern;

  *allowed_by_name = FALSE;
  if (literal != NULL)
    return dfly_source_policy_check_address (policy, literal, FALSE, error);
  lower = normalize_name (host);
  if (lower == NULL) {
    g_autofree char *shown = g_strescape (host, NULL);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED, "\"%s\" is not a host name", shown);
    return FALSE;
  }
  pattern = match_name (policy->deny_names, lower);
  if (pattern != NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED, "source.deny: %s is denied (%s)",
                 lower, pattern);
    return FALSE;
  }
  *allowed_by_name = match_name (policy->allow_names, lower) != NULL;
  /* Only names listed: an unlisted one is refused before any connection;
   * with CIDRs listed too, its addresses decide. */
  if (!*allowed_by_name && !policy->allow_empty && policy->allow_cidrs->len == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED,
                 "source.allow: %s is not in the list of allowed origins", lower);
    return FALSE;
  }
  return TRUE;
}
