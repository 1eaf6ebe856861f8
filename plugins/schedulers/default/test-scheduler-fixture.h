/* test-scheduler-fixture.h — hand-built candidate sets for the scheduler plugins' tests
 *
 * Included by one test per scheduler plugin, with that plugin's sources
 * compiled in: dfly_plugin_query() is the plugin's own.
 */
#pragma once

#include <string.h>

#include "dfly/dfly.h"

const DflyPluginDescriptor *dfly_plugin_query (void);

typedef struct {
  DflyContext   *context;
  DflyScheduler *scheduler;
  GPtrArray     *candidates; /* DflyCandidate, owned */
  DflyHostInfo  *child_host;
  DflyPeerInfo  *child;
} Fixture;

static void
candidate_free (gpointer data)
{
  DflyCandidate *c = data;

  if (c == NULL)
    return;
  g_clear_pointer (&c->peer, dfly_peer_info_unref);
  g_clear_pointer (&c->host, dfly_host_info_unref);
  g_free (c);
}

/* The plugin's section in config, checked and built as the loader does. */
static void
bind_plugin (DflyConfig *config)
{
  g_autoptr (GError) error = NULL;

  dfly_config_add_plugin (config, dfly_plugin_query ()->name, dfly_plugin_query ()->settings,
                          &error);
  g_assert_no_error (error);
  dfly_config_check_plugins (config, NULL, &error);
  g_assert_no_error (error);
}

/* A scheduler of the plugin's type over config (the defaults when NULL). */
static void
fixture_set_up_with (Fixture *f, DflyConfig *config)
{
  g_autoptr (DflyConfig) defaults = config == NULL ? dfly_config_new_default () : NULL;

  if (defaults != NULL)
    bind_plugin (defaults);

  f->context = dfly_context_new (config != NULL ? config : defaults);
  f->scheduler = g_object_new (dfly_plugin_query ()->get_type (), "context", f->context, "name",
                               dfly_plugin_query ()->name, NULL);
  f->candidates = g_ptr_array_new_with_free_func (candidate_free);
  f->child_host = dfly_host_info_new ("10.0.0.1-child");
  f->child_host->idc = g_strdup ("idc-a");
  f->child_host->location = g_strdup ("eu|de|berlin");
  f->child = dfly_peer_info_new ("10.0.0.1-child-peer", "task", f->child_host->id);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  fixture_set_up_with (f, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->scheduler);
  g_clear_object (&f->context);
  g_clear_pointer (&f->candidates, g_ptr_array_unref);
  g_clear_pointer (&f->child_host, dfly_host_info_unref);
  g_clear_pointer (&f->child, dfly_peer_info_unref);
}

/* A candidate that differs from the child in nothing but its id: same IDC
 * and location, a normal host, no pieces, slots or bandwidth. */
static DflyCandidate *
add_candidate (Fixture *f, const char *id)
{
  DflyCandidate   *c = g_new0 (DflyCandidate, 1);
  g_autofree char *host_id = g_strdup_printf ("%s-host", id);

  c->host = dfly_host_info_new (host_id);
  c->host->idc = g_strdup ("idc-a");
  c->host->location = g_strdup ("eu|de|berlin");
  c->peer = dfly_peer_info_new (id, "task", host_id);
  c->peer->state = DFLY_PEER_STATE_RUNNING;
  c->upload_success_rate = 1.0;
  g_ptr_array_add (f->candidates, c);
  return c;
}

static void
set_idc (DflyCandidate *c, const char *idc)
{
  g_free (c->host->idc);
  c->host->idc = g_strdup (idc);
}

static void
set_location (DflyCandidate *c, const char *location)
{
  g_free (c->host->location);
  c->host->location = g_strdup (location);
}

/* The ranking's peer ids, comma-separated ("-" for a missing peer). */
static char *
rank (Fixture *f, guint limit)
{
  g_autoptr (GPtrArray) ranked =
    dfly_scheduler_rank_parents (f->scheduler, f->child, f->child_host, f->candidates, limit);
  g_autoptr (GString) out = g_string_new (NULL);

  g_assert_nonnull (ranked);
  g_assert_cmpuint (ranked->len, <=, limit);
  for (guint i = 0; i < ranked->len; i++) {
    const DflyCandidate *c = g_ptr_array_index (ranked, i);

    if (i > 0)
      g_string_append_c (out, ',');
    g_string_append (out, c->peer != NULL ? c->peer->id : "-");
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
reverse_candidates (Fixture *f)
{
  for (guint i = 0; i < f->candidates->len / 2; i++) {
    guint    j = f->candidates->len - 1 - i;
    gpointer tmp = f->candidates->pdata[i];

    f->candidates->pdata[i] = f->candidates->pdata[j];
    f->candidates->pdata[j] = tmp;
  }
}

/* Ranks the input reversed (then puts it back): the order must not change. */
static char *
rank_reversed (Fixture *f, guint limit)
{
  char *ranked;

  reverse_candidates (f);
  ranked = rank (f, limit);
  reverse_candidates (f);
  return ranked;
}

/* A config with the given scheduler section. */
static DflyConfig *
config_with (const char *plugin_section)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s:\n%s", dfly_plugin_query ()->name, plugin_section);
  DflyConfig      *config = dfly_config_load_data (text, strlen (text), "test.yaml", &error);

  g_assert_no_error (error);
  bind_plugin (config);
  return config;
}

static void
test_descriptor_is (const char *name)
{
  const DflyPluginDescriptor *d = dfly_plugin_query ();

  g_assert_cmpuint (d->abi_major, ==, DFLY_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (d->struct_size, ==, sizeof (DflyPluginDescriptor));
  g_assert_cmpstr (d->name, ==, name);
  g_assert_cmpint (d->kind, ==, DFLY_PLUGIN_KIND_SCHEDULER);
  g_assert_cmpstr (d->license, ==, "Apache-2.0");
  g_assert_true (
    g_type_is_a (d->get_type (), dfly_plugin_kind_get_base_type (DFLY_PLUGIN_KIND_SCHEDULER)));
}
