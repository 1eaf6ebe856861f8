/* test-source-policy.c — source.allow and source.deny: rules, matching, config errors
 *
 * The matcher (core/lib/dfly-source-policy.c) with the inputs an operator
 * gets wrong and the addresses an attacker would try: link-local and
 * metadata addresses, their IPv4-mapped forms, names with a trailing dot or
 * in upper case, prefixes written to fool a lax parser.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly-source-policy.h"

static DflySourcePolicy *
policy_new (const char *const *allow, const char *const *deny)
{
  g_autoptr (GError) error = NULL;
  DflySourcePolicy *policy = dfly_source_policy_new (allow, deny, &error);

  g_assert_no_error (error);
  return policy;
}

/* NULL when address passes, else the refusal's message. */
static char *
refusal_of_address (const DflySourcePolicy *policy, const char *text, gboolean by_name)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (text);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (address);
  if (dfly_source_policy_check_address (policy, address, by_name, &error))
    return NULL;
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED);
  return g_strdup (error->message);
}

static char *
refusal_of_host (const DflySourcePolicy *policy, const char *host, gboolean *by_name)
{
  g_autoptr (GError) error = NULL;
  gboolean named = FALSE;

  if (dfly_source_policy_check_host (policy, host, by_name != NULL ? by_name : &named, &error))
    return NULL;
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE_DENIED);
  return g_strdup (error->message);
}

static void
test_rules (void)
{
  static const char *const good[] = {
    "10.0.0.0/8",          "fd00::/8",
    "127.0.0.1",           "::1",
    "0.0.0.0/0",           "::/0",
    "example.com",         "*.example.com",
    "registry.local",      "a-b.c_d.example",
    "::ffff:10.0.0.0/104",
  };
  static const char *const bad[] = {
    "",
    "10.0.0.0/33",
    "10.0.0.1/8", /* host bits past the prefix */
    "10.0.0.0/",
    "10.0.0.0/+8",
    "10.0.0.0/ 8",
    "10.0.0.0/-1",
    "10.0.0.0/8x",
    "10.0.0.0/0008",
    "10.0.0.0/99999999999999999999",
    "10.0.0/8",
    "256.0.0.0/8",
    "1.2.3",
    "fd00::/129",
    "fd00::/8/8",
    "::ffff:10.0.0.0/64", /* a mapped prefix shorter than the IPv4 part */
    "*",
    "*.",
    "**.example.com",
    "foo.*.com",
    "example..com",
    ".example.com",
    "-example.com",
    "example-.com",
    "exa mple.com",
    "exa\tmple.com",
    "http://example.com",
    "example.com:80",
    "user@example.com",
    "ex\xc3\xa4mple.com",
  };
  g_autofree char *long_label = g_strnfill (64, 'a');
  g_autofree char *long_name = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_true (dfly_source_rule_check (good[i], &error));
    g_assert_no_error (error);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_test_message ("bad rule \"%s\"", bad[i]);
    g_assert_false (dfly_source_rule_check (bad[i], &error));
    g_assert_nonnull (error);
  }
  g_assert_false (dfly_source_rule_check (long_label, NULL));
  long_name =
    g_strjoin (".", "a", long_label + 1, long_label + 1, long_label + 1, long_label + 1, NULL);
  g_assert_cmpuint (strlen (long_name), >, 253);
  g_assert_false (dfly_source_rule_check (long_name, NULL));
}

static void
test_defaults (void)
{
  g_autoptr (DflySourcePolicy) policy = policy_new (NULL, NULL);
  static const struct {
    const char *address;
    const char *reason;
  } denied[] = {
    { "169.254.169.254", "link-local" },        { "169.254.0.1", "link-local" },
    { "::ffff:169.254.169.254", "link-local" }, { "fe80::1", "link-local" },
    { "febf:ffff::1", "link-local" },           { "fd00:ec2::254", "cloud metadata" },
    { "100.100.100.200", "cloud metadata" },    { "::ffff:100.100.100.200", "cloud metadata" },
  };
  static const char *const allowed[] = {
    "127.0.0.1",   "127.0.1.5", "::1",     "10.1.2.3", "192.168.1.1",      "169.253.255.255",
    "169.255.0.0", "fec0::1",   "fd00::1", "8.8.8.8",  "::ffff:127.0.0.1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (denied); i++) {
    g_autofree char *message = refusal_of_address (policy, denied[i].address, FALSE);
    /* Even named in source.allow, a host's address is checked. */
    g_autofree char *by_name = refusal_of_address (policy, denied[i].address, TRUE);

    g_assert_nonnull (message);
    g_assert_nonnull (strstr (message, denied[i].reason));
    g_assert_true (g_str_has_prefix (message, "source.deny: "));
    g_assert_cmpstr (by_name, ==, message);
  }
  {
    g_autofree char *message = refusal_of_address (policy, "169.254.169.254", FALSE);

    g_assert_cmpstr (message, ==, "source.deny: 169.254.169.254 is denied (link-local)");
  }
  {
    /* The mapped form is shown as the IPv4 address it reaches. */
    g_autofree char *message = refusal_of_address (policy, "::ffff:a9fe:a9fe", FALSE);

    g_assert_cmpstr (message, ==, "source.deny: 169.254.169.254 is denied (link-local)");
  }
  for (gsize i = 0; i < G_N_ELEMENTS (allowed); i++) {
    g_autofree char *message = refusal_of_address (policy, allowed[i], FALSE);

    g_assert_cmpstr (message, ==, NULL);
  }
  /* Literal addresses in a URL are checked before connecting. */
  {
    g_autofree char *message = refusal_of_host (policy, "169.254.169.254", NULL);
    g_autofree char *mapped = refusal_of_host (policy, "::ffff:169.254.169.254", NULL);
    g_autofree char *name = refusal_of_host (policy, "metadata.google.internal", NULL);

    g_assert_nonnull (message);
    g_assert_nonnull (mapped);
    /* A name is checked on the address it resolves to, when connecting. */
    g_assert_null (name);
  }
}

static void
test_deny (void)
{
  static const char *const deny[] = { "10.0.0.0/8", "*.internal.example", "registry.local",
                                      "::ffff:192.168.0.0/112", NULL };
  g_autoptr (DflySourcePolicy) policy = policy_new (NULL, deny);
  static const char *const denied_hosts[] = {
    "a.internal.example", "A.B.Internal.Example", "a.internal.example.", "registry.local",
    "REGISTRY.LOCAL.",    "10.255.255.255",       "::ffff:10.0.0.1",     "192.168.5.5",
  };
  static const char *const allowed_hosts[] = {
    "internal.example",   "xinternal.example", "a.internal.example.com",
    "registry.local.com", "aregistry.local",   "11.0.0.1",
    "192.169.0.1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (denied_hosts); i++) {
    g_autofree char *message = refusal_of_host (policy, denied_hosts[i], NULL);

    g_test_message ("denied host %s", denied_hosts[i]);
    g_assert_nonnull (message);
    g_assert_true (g_str_has_prefix (message, "source.deny: "));
  }
  for (gsize i = 0; i < G_N_ELEMENTS (allowed_hosts); i++) {
    g_autofree char *message = refusal_of_host (policy, allowed_hosts[i], NULL);

    g_test_message ("allowed host %s", allowed_hosts[i]);
    g_assert_null (message);
  }
  {
    g_autofree char *message = refusal_of_host (policy, "x.internal.example", NULL);
    g_autofree char *address = refusal_of_address (policy, "10.1.2.3", FALSE);

    g_assert_cmpstr (message, ==, "source.deny: x.internal.example is denied (*.internal.example)");
    g_assert_cmpstr (address, ==, "source.deny: 10.1.2.3 is denied (10.0.0.0/8)");
  }
  /* Not a name at all. */
  {
    g_autofree char *message = refusal_of_host (policy, "bad\nhost", NULL);

    g_assert_nonnull (message);
  }
}

static void
test_allow (void)
{
  {
    /* Longest prefix wins; deny wins a tie. */
    static const char *const allow[] = { "10.0.0.0/8", "169.254.10.0/24", "192.168.1.1", NULL };
    static const char *const deny[] = { "10.1.0.0/16", "192.168.1.1/32", NULL };
    g_autoptr (DflySourcePolicy) policy = policy_new (allow, deny);
    g_autofree char *in_allow = refusal_of_address (policy, "10.2.0.1", FALSE);
    g_autofree char *in_deny = refusal_of_address (policy, "10.1.0.1", FALSE);
    g_autofree char *lifted = refusal_of_address (policy, "169.254.10.5", FALSE);
    g_autofree char *still = refusal_of_address (policy, "169.254.169.254", FALSE);
    g_autofree char *tie = refusal_of_address (policy, "192.168.1.1", FALSE);
    g_autofree char *elsewhere = refusal_of_address (policy, "8.8.8.8", FALSE);
    g_autofree char *loopback = refusal_of_address (policy, "127.0.0.1", FALSE);
    gboolean         by_name = TRUE;
    g_autofree char *name = refusal_of_host (policy, "example.com", &by_name);

    g_assert_null (in_allow);
    g_assert_nonnull (in_deny);
    g_assert_null (lifted);
    g_assert_nonnull (still);
    g_assert_nonnull (tie);
    g_assert_cmpstr (elsewhere, ==, "source.allow: 8.8.8.8 is not in the list of allowed origins");
    g_assert_nonnull (loopback);
    /* With CIDRs listed, a name waits for its address. */
    g_assert_null (name);
    g_assert_false (by_name);
  }
  {
    static const char *const allow[] = { "*.example.com", "registry.local", NULL };
    g_autoptr (DflySourcePolicy) policy = policy_new (allow, NULL);
    gboolean         by_name = FALSE;
    g_autofree char *named = refusal_of_host (policy, "cdn.example.com", &by_name);
    g_autofree char *other = refusal_of_host (policy, "example.org", NULL);
    g_autofree char *apex = refusal_of_host (policy, "example.com", NULL);
    g_autofree char *literal = refusal_of_host (policy, "127.0.0.1", NULL);
    g_autofree char *its_address = refusal_of_address (policy, "192.0.2.1", TRUE);
    g_autofree char *metadata = refusal_of_address (policy, "169.254.169.254", TRUE);

    g_assert_null (named);
    g_assert_true (by_name);
    g_assert_cmpstr (other, ==, "source.allow: example.org is not in the list of allowed origins");
    g_assert_nonnull (apex);
    g_assert_nonnull (literal);
    g_assert_null (its_address);
    /* A listed name resolving to a link-local address is still refused. */
    g_assert_nonnull (metadata);
  }
}

/* A bad rule in dflyd.yaml is an error at its line and column. */
static void
test_config (void)
{
  static const struct {
    const char *yaml;
    const char *error;
  } cases[] = {
    { "source:\n  deny: [10.0.0.0/8, 10.0.0.1/8]\n", "<test>:2:22: source.deny: \"10.0.0.1/8\": " },
    { "source:\n  allow:\n    - example.com\n    - '*'\n",
      "<test>:4:7: source.allow: \"*\": not a CIDR" },
    { "source:\n  deny: 10.0.0.0/8\n", "<test>:2:9: source.deny: expected a list of CIDRs" },
    { "source:\n  deny: [[10.0.0.0/8]]\n", "<test>:2:" },
    { "source:\n  deny: [\"10.0.0.0/8\\u0000\"]\n", "<test>:2:" },
    { "source:\n  deny: [fd00::/129]\n", "<test>:2:10: source.deny: \"fd00::/129\"" },
    { "source:\n  deny: [10.0.0.0/8, 10.0.0.0/8]\n", "listed twice" },
    { "source:\n  block: [10.0.0.0/8]\n", "<test>:2:3: unknown key" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config =
      dfly_config_load_data (cases[i].yaml, strlen (cases[i].yaml), "<test>", &error);

    if (config != NULL)
      g_assert_false (dfly_config_check_plugins (config, NULL, &error));
    g_test_message ("%s -> %s", cases[i].yaml, error->message);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_assert_nonnull (strstr (error->message, cases[i].error));
  }
  {
    static const char yaml[] =
      "source:\n  allow: [10.0.0.0/8, '*.example.com']\n  deny: [fe80::/10, registry.local]\n";
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, strlen (yaml), "<test>", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (config->source.allow[1], ==, "*.example.com");
    g_assert_cmpstr (config->source.deny[1], ==, "registry.local");
    g_assert_true (dfly_config_check_plugins (config, NULL, &error));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/source-policy/rules", test_rules);
  g_test_add_func ("/source-policy/defaults", test_defaults);
  g_test_add_func ("/source-policy/deny", test_deny);
  g_test_add_func ("/source-policy/allow", test_allow);
  g_test_add_func ("/source-policy/config", test_config);
  return g_test_run ();
}
