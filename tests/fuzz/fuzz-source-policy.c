/* fuzz-source-policy.c — libFuzzer target: source.allow / source.deny rules and hosts
 *
 * The input's first line is a host, as a URL or a redirect's Location
 * names it (a peer or an origin controls it); each further line is a rule,
 * "+" before it for source.allow, else source.deny. Rules are checked one
 * by one, the valid ones make a policy, and the host is checked against it
 * (and as an address, if it is one).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "dfly/dfly-error.h"
#include "core/lib/dfly-source-policy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* What a refusal says reaches dflyctl and logs: bounded, printable. */
static void
check_refusal (const GError *error)
{
  g_assert (error->domain == DFLY_ERROR && error->code == DFLY_ERROR_SOURCE_DENIED);
  g_assert (g_str_has_prefix (error->message, "source.") ||
            strstr (error->message, "is not a host name") != NULL);
  g_assert (strlen (error->message) < 4096);
  for (const char *c = error->message; *c != '\0'; c++)
    g_assert (!g_ascii_iscntrl (*c));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, MIN (size, 64 * 1024));
  g_auto (GStrv) lines = g_strsplit (text, "\n", 65);
  g_autoptr (GPtrArray) allow = g_ptr_array_new ();
  g_autoptr (GPtrArray) deny = g_ptr_array_new ();
  g_autoptr (DflySourcePolicy) policy = NULL;
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  gboolean by_name = FALSE;

  if (lines[0] == NULL)
    return 0;
  for (guint i = 1; lines[i] != NULL; i++) {
    gboolean    to_allow = lines[i][0] == '+';
    const char *rule = to_allow ? lines[i] + 1 : lines[i];
    g_autoptr (GError) rule_error = NULL;

    if (!dfly_source_rule_check (rule, &rule_error)) {
      g_assert (rule_error != NULL && rule_error->domain == DFLY_ERROR);
      continue;
    }
    g_assert (rule_error == NULL);
    g_ptr_array_add (to_allow ? allow : deny, (gpointer) rule);
  }
  g_ptr_array_add (allow, NULL);
  g_ptr_array_add (deny, NULL);
  policy = dfly_source_policy_new ((const char *const *) allow->pdata,
                                   (const char *const *) deny->pdata, &error);
  /* Every rule that passed the check makes a policy. */
  g_assert_no_error (error);
  g_assert (policy != NULL);

  if (!dfly_source_policy_check_host (policy, lines[0], &by_name, &error))
    check_refusal (error);
  g_clear_error (&error);
  address = g_inet_address_new_from_string (lines[0]);
  if (address != NULL) {
    /* An address is never "named" by a host pattern. */
    g_assert (!by_name);
    if (!dfly_source_policy_check_address (policy, address, FALSE, &error))
      check_refusal (error);
  }
  return 0;
}
