/* test-peer.c — the peer role and the DflyHostAnnouncer it is made of */
#include "config.h"

#include "../dfly-role-test.h"

/* From dfly-peer-role.c, compiled into this binary. */
const DflyPluginDescriptor *dfly_plugin_query (void);
GType                       dfly_peer_role_get_type (void);

static void
test_descriptor (void)
{
  const DflyPluginDescriptor *descriptor = dfly_plugin_query ();

  g_assert_cmpuint (descriptor->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (descriptor->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (descriptor->name, ==, "peer");
  g_assert_cmpint (descriptor->kind, ==, DFLY_PLUGIN_KIND_ROLE);
  g_assert_cmpstr (descriptor->license, ==, "Apache-2.0");
  g_assert_true (g_type_is_a (descriptor->get_type (), DFLY_TYPE_ROLE));
}

/* Start: one announce of this machine as measured; stop: one host-left. */
static void
test_announce (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role = role_test_new_role (dfly_peer_role_get_type (), t->context, "peer");
  g_autoptr (GError) error = NULL;
  g_autofree char *describe = NULL;
  RoleTestCount    first = { t->announced, 1 };
  DflyHostInfo    *host;

  dfly_context_get_config (t->context)->host.announce_interval = 60;
  g_assert_true (dfly_role_start (role, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dfly_role_get_state (role), ==, DFLY_ROLE_STATE_RUNNING);
  g_assert_true (role_test_wait (role_test_count_reached, &first, 2000));

  host = t->announced->pdata[0];
  g_assert_cmpstr (host->id, ==, "127.0.0.1-dfly-test");
  g_assert_cmpint (host->type, ==, DFLY_HOST_TYPE_NORMAL);
  g_assert_cmpstr (host->hostname, ==, "dfly-test");
  g_assert_cmpstr (host->ip, ==, "127.0.0.1");
  g_assert_cmpuint (host->port, ==, 0);
  g_assert_cmpuint (host->announce_interval, ==, 60);
  /* Real measurements of this machine, not zeros. */
  g_assert_cmpuint (host->cpu_count, >, 0);
  g_assert_cmpuint (host->mem_total, >, 0);
  g_assert_cmpuint (host->mem_available, <=, host->mem_total);
  g_assert_cmpuint (host->disk_total, >, 0);
  g_assert_cmpuint (host->disk_free, <=, host->disk_total);

  describe = dfly_role_describe (role);
  g_assert_cmpstr (describe, ==, "host 127.0.0.1-dfly-test, announcing every 60s, 0 downloads");

  g_assert_true (role_test_stop (role, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (t->left->len, ==, 1);
  g_assert_cmpstr (((DflyHostInfo *) t->left->pdata[0])->id, ==, "127.0.0.1-dfly-test");
  g_assert_cmpuint (t->announced->len, ==, 1);
  g_assert_cmpstr (t->states.states->str, ==, "starting running stopping stopped");
}

/* Announces repeat every interval, and a reload changes the interval live. */
static void
test_interval_and_reload (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyRole) role = role_test_new_role (dfly_peer_role_get_type (), t->context, "peer");
  g_autoptr (DflyConfig) shorter = role_test_config_new_for (t);
  g_autoptr (DflyConfig) longer = role_test_config_new_for (t);
  g_autofree char *describe = NULL;
  RoleTestCount    count = { t->announced, 1 };

  dfly_context_get_config (t->context)->host.announce_interval = 60;
  g_assert_true (dfly_role_start (role, NULL));
  g_assert_true (role_test_wait (role_test_count_reached, &count, 2000));
  /* Nothing more for a while on a 60 s interval. */
  role_test_wait (NULL, NULL, 1200);
  g_assert_cmpuint (t->announced->len, ==, 1);

  /* Reload to 1 s: announced at once with the new interval, then each second. */
  shorter->host.announce_interval = 1;
  dfly_context_set_config (t->context, shorter);
  g_assert_cmpuint (t->announced->len, ==, 2);
  g_assert_cmpuint (((DflyHostInfo *) t->announced->pdata[1])->announce_interval, ==, 1);
  describe = dfly_role_describe (role);
  g_assert_cmpstr (describe, ==, "host 127.0.0.1-dfly-test, announcing every 1s, 0 downloads");
  count.n = 4;
  g_assert_true (role_test_wait (role_test_count_reached, &count, 4500));

  /* And back to 60 s: the 1 s timer must not survive the reload. */
  longer->host.announce_interval = 60;
  dfly_context_set_config (t->context, longer);
  count.n = t->announced->len;
  g_assert_cmpuint (((DflyHostInfo *) t->announced->pdata[count.n - 1])->announce_interval, ==, 60);
  role_test_wait (NULL, NULL, 2200);
  g_assert_cmpuint (t->announced->len, ==, count.n);

  g_assert_true (role_test_stop (role, NULL));
  g_assert_cmpuint (t->left->len, ==, 1);
}

/* stop() owes exactly one host-left, and only for a host it announced. */
static void
test_announcer_stop (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyHostAnnouncer) announcer =
    dfly_host_announcer_new (t->context, DFLY_HOST_TYPE_NORMAL, 4001);
  RoleTestCount first = { t->announced, 1 };

  g_assert_cmpstr (dfly_host_announcer_get_host_id (announcer), ==, "127.0.0.1-dfly-test");
  dfly_host_announcer_stop (announcer); /* never started */

  /* Stopped before the first announce ran: nothing to take back. */
  dfly_host_announcer_start (announcer);
  dfly_host_announcer_stop (announcer);
  role_test_flush ();
  g_assert_cmpuint (t->announced->len, ==, 0);
  g_assert_cmpuint (t->left->len, ==, 0);

  dfly_host_announcer_start (announcer);
  dfly_host_announcer_start (announcer); /* already running: one announce */
  g_assert_true (role_test_wait (role_test_count_reached, &first, 2000));
  role_test_flush ();
  g_assert_cmpuint (t->announced->len, ==, 1);
  g_assert_cmpuint (((DflyHostInfo *) t->announced->pdata[0])->port, ==, 4001);
  dfly_host_announcer_stop (announcer);
  dfly_host_announcer_stop (announcer);
  g_assert_cmpuint (t->left->len, ==, 1);

  /* A stopped announcer ignores reloads. */
  dfly_context_set_config (t->context, dfly_context_get_config (t->context));
  g_assert_cmpuint (t->announced->len, ==, 1);
}

static DflyHostInfo *
measured_host (gpointer data)
{
  DflyHostInfo *host = dfly_host_info_new ("127.0.0.1-measured");

  host->upload_slots = GPOINTER_TO_UINT (data);
  host->announce_interval = 60;
  return host;
}

/* A role that knows more of the host (the engine: its upload figures) has
 * the announcer announce what it measures, and leave under that id. */
static void
test_announcer_host_func (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyHostAnnouncer) announcer =
    dfly_host_announcer_new (t->context, DFLY_HOST_TYPE_NORMAL, 0);
  RoleTestCount       first = { t->announced, 1 };
  const DflyHostInfo *announced;

  dfly_host_announcer_set_host_func (announcer, measured_host, GUINT_TO_POINTER (7));
  dfly_host_announcer_start (announcer);
  g_assert_true (role_test_wait (role_test_count_reached, &first, 2000));
  announced = t->announced->pdata[0];
  g_assert_cmpstr (announced->id, ==, "127.0.0.1-measured");
  g_assert_cmpuint (announced->upload_slots, ==, 7);
  g_assert_cmpstr (dfly_host_announcer_get_host_id (announcer), ==, "127.0.0.1-measured");
  dfly_host_announcer_stop (announcer);
  g_assert_cmpuint (t->left->len, ==, 1);
  g_assert_cmpstr (((DflyHostInfo *) t->left->pdata[0])->id, ==, "127.0.0.1-measured");
}

/* A reload that changes the IP changes the host id: the old host leaves. */
static void
test_announcer_id_change (RoleTest *t, gconstpointer data)
{
  g_autoptr (DflyHostAnnouncer) announcer =
    dfly_host_announcer_new (t->context, DFLY_HOST_TYPE_NORMAL, 0);
  g_autoptr (DflyConfig) moved = role_test_config_new_for (t);
  RoleTestCount first = { t->announced, 1 };

  dfly_host_announcer_start (announcer);
  g_assert_true (role_test_wait (role_test_count_reached, &first, 2000));
  g_free (moved->host.ip);
  moved->host.ip = g_strdup ("127.0.0.2");
  dfly_context_set_config (t->context, moved);
  g_assert_cmpuint (t->left->len, ==, 1);
  g_assert_cmpstr (((DflyHostInfo *) t->left->pdata[0])->id, ==, "127.0.0.1-dfly-test");
  g_assert_cmpuint (t->announced->len, ==, 2);
  g_assert_cmpstr (((DflyHostInfo *) t->announced->pdata[1])->id, ==, "127.0.0.2-dfly-test");
  g_assert_cmpstr (dfly_host_announcer_get_host_id (announcer), ==, "127.0.0.2-dfly-test");
  dfly_host_announcer_stop (announcer);
  g_assert_cmpuint (t->left->len, ==, 2);
  g_assert_cmpstr (((DflyHostInfo *) t->left->pdata[1])->id, ==, "127.0.0.2-dfly-test");
}

/* The engine may drop a role without stopping it: its timer must go too. */
static void
test_dispose_running (RoleTest *t, gconstpointer data)
{
  DflyRole *role = role_test_new_role (dfly_peer_role_get_type (), t->context, "peer");

  dfly_context_get_config (t->context)->host.announce_interval = 1;
  g_assert_true (dfly_role_start (role, NULL));
  g_assert_finalize_object (role);
  role_test_wait (NULL, NULL, 1500);
  g_assert_cmpuint (t->announced->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peer/descriptor", test_descriptor);
  ROLE_TEST_ADD ("/peer/announce", "peer", test_announce);
  ROLE_TEST_ADD ("/peer/interval-and-reload", "peer", test_interval_and_reload);
  ROLE_TEST_ADD ("/peer/announcer/stop", "peer", test_announcer_stop);
  ROLE_TEST_ADD ("/peer/announcer/host-func", "peer", test_announcer_host_func);
  ROLE_TEST_ADD ("/peer/announcer/id-change", "peer", test_announcer_id_change);
  ROLE_TEST_ADD ("/peer/dispose-running", "peer", test_dispose_running);
  return g_test_run ();
}
