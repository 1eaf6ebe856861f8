/* test-seed.c — the seed role: this machine announced as a seed peer */
#include "config.h"

#include "../dfly-role-test.h"

/* From dfly-seed-role.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_seed_role_get_type (void);

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "seed");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_ROLE);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_ROLE));
}

/* Dragonfly's seed peer: host type super, host id suffixed -seed. */
static void
test_announce (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role = role_test_new_role (dfly_seed_role_get_type (), t->context, "seed");
  g_autoptr (GError) error = NULL;
  g_autofree char *describe = NULL;
  RoleTestCount    first = { t->announced, 1 };
  DflyHostInfo    *host;

  dfly_context_get_config (t->context)->host.announce_interval = 45;
  g_assert_true (dfly_role_start (role, &error));
  g_assert_no_error (error);
  g_assert_true (role_test_wait (role_test_count_reached, &first, 2000));

  host = t->announced->pdata[0];
  g_assert_cmpstr (host->id, ==, "127.0.0.1-dfly-test-seed");
  g_assert_cmpint (host->type, ==, DFLY_HOST_TYPE_SUPER);
  g_assert_cmpstr (host->hostname, ==, "dfly-test");
  g_assert_cmpuint (host->announce_interval, ==, 45);
  g_assert_cmpuint (host->cpu_count, >, 0);
  g_assert_cmpuint (host->mem_total, >, 0);

  describe = dfly_role_describe (role);
  g_assert_cmpstr (describe, ==,
                   "host 127.0.0.1-dfly-test-seed, announcing every 45s, 0 downloads");

  g_assert_true (role_test_stop (role, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (t->left->len, ==, 1);
  g_assert_cmpstr (((DflyHostInfo *) t->left->pdata[0])->id, ==, "127.0.0.1-dfly-test-seed");
  g_assert_cmpint (((DflyHostInfo *) t->left->pdata[0])->type, ==, DFLY_HOST_TYPE_SUPER);
  g_assert_cmpstr (t->states.states->str, ==, "starting running stopping stopped");
}

/* A stopped role can be started again, as after a failed reload of roles. */
static void
test_restart (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role = role_test_new_role (dfly_seed_role_get_type (), t->context, "seed");
  RoleTestCount count = { t->announced, 1 };

  g_assert_true (dfly_role_start (role, NULL));
  g_assert_true (role_test_wait (role_test_count_reached, &count, 2000));
  g_assert_true (role_test_stop (role, NULL));
  g_assert_true (dfly_role_start (role, NULL));
  count.n = 2;
  g_assert_true (role_test_wait (role_test_count_reached, &count, 2000));
  g_assert_true (role_test_stop (role, NULL));
  g_assert_cmpuint (t->announced->len, ==, 2);
  g_assert_cmpuint (t->left->len, ==, 2);
  g_assert_cmpstr (t->states.states->str, ==,
                   "starting running stopping stopped starting running stopping stopped");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/seed/descriptor", test_descriptor);
  ROLE_TEST_ADD ("/seed/announce", "seed", test_announce);
  ROLE_TEST_ADD ("/seed/restart", "seed", test_restart);
  return g_test_run ();
}
