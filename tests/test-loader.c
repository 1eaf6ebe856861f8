/* test-loader.c — every way the plugin loader refuses a plugin, and accepts one */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "dfly-plugin-loader.h"
#include "test-log.h"

typedef struct {
  char             *dir;
  DflyContext      *context;
  DflyPluginLoader *loader;
  TestLog           log;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (DflyConfig) config = dfly_config_new_default ();

  f->dir = g_dir_make_tmp ("dfly-loader-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->context = dfly_context_new (config);
  f->loader = dfly_plugin_loader_new (f->context);
  test_log_start (&f->log, "dflyd");
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;

  while (d != NULL && (entry = g_dir_read_name (d)) != NULL) {
    g_autofree char *path = g_build_filename (dir, entry, NULL);

    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      remove_tree (path);
    else
      g_unlink (path);
  }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  test_log_stop (&f->log);
  g_clear_object (&f->loader);
  g_clear_object (&f->context);
  remove_tree (f->dir);
  g_free (f->dir);
}

/* Copies a built test plugin into dir as <as>.so with the given mode. */
static char *
install_plugin (const char *dir, const char *variant, const char *as, guint mode)
{
  g_autofree char *src = g_strdup_printf (TEST_BUILDDIR "/plugins/.libs/test-%s.so", variant);
  g_autofree char *name = g_strdup_printf ("%s.so", as);
  g_autofree char *contents = NULL;
  char            *dst = g_build_filename (dir, name, NULL);
  gsize            length;

  g_assert_true (g_file_get_contents (src, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (dst, contents, length, NULL));
  g_assert_cmpint (g_chmod (dst, mode), ==, 0);
  return dst;
}

static const DflyPluginRecord *
only_record (Fixture *f)
{
  GPtrArray *records = dfly_plugin_loader_get_records (f->loader);

  g_assert_cmpuint (records->len, ==, 1);
  return g_ptr_array_index (records, 0);
}

static void
load_dir (Fixture *f)
{
  const char *dirs[] = { f->dir, NULL };

  dfly_plugin_loader_load_dirs (f->loader, dirs);
}

static void
test_good_plugin_loads (Fixture *f, gconstpointer data)
{
  g_autofree char        *path = install_plugin (f->dir, "good", "test-good", 0755);
  const DflyPluginRecord *record;

  load_dir (f);
  record = only_record (f);
  g_assert_true (record->loaded);
  g_assert_null (record->reason);
  g_assert_cmpstr (record->name, ==, "test-good");
  g_assert_cmpstr (record->version, ==, "1.0");
  g_assert_cmpstr (record->license, ==, "Apache-2.0");
  g_assert_cmpstr (record->path, ==, path);
  g_assert_cmpint (record->kind, ==, DFLY_PLUGIN_KIND_ROLE);
  g_assert_true (g_type_is_a (record->type, DFLY_TYPE_ROLE));
  g_assert_true (dfly_context_lookup_plugin_type (f->context, DFLY_PLUGIN_KIND_ROLE, "test-good") ==
                 record->type);
  g_assert_true (dfly_plugin_loader_lookup (f->loader, "test-good") == record);
}

typedef struct {
  const char *variant;
  const char *file_name;
  guint       mode;
  const char *reason; /* glob the reason and the log line must match */
} RefusalCase;

static const RefusalCase refusals[] = {
  { "abi", "test-abi", 0755, "wrong ABI: built for plugin ABI 2, this dflyd speaks 1" },
  { "nosym", "test-nosym", 0755, "missing symbol dfly_plugin_query" },
  { "null", "test-null", 0755, "dfly_plugin_query returned NULL" },
  { "mismatch", "test-mismatch", 0755,
    "name mismatch: descriptor says \"another-name\" but the file is test-mismatch.so" },
  { "good", "renamed", 0755,
    "name mismatch: descriptor says \"test-good\" but the file is renamed.so" },
  { "small", "test-small", 0755, "descriptor is 16 bytes, expected at least *" },
  { "wrongkind", "test-wrongkind", 0755,
    "wrong kind: type DflyTestRole_test-wrongkind is not a concrete DflySource*" },
  { "good", "test-good", 0775, "file is group- or world-writable (mode 0775)" },
  { "good", "test-good", 0757, "file is group- or world-writable (mode 0757)" },
  /* Settings tables the loader must refuse before any config is built from them. */
  { "overflow", "test-overflow", 0755,
    "bad settings table: test-overflow.greeting: field lies outside the *-byte settings" },
  { "twice", "test-twice", 0755, "bad settings table: test-twice.size: key listed twice" },
  { "default", "test-default", 0755,
    "bad settings table: test-default.size: default: 11 is out of range (1..10)" },
  { "check", "test-check", 0755,
    "bad settings table: test-check: defaults: size (3) must be at least 5" },
  /* A sound table, but the plugin's section would be dflyd's own "download:". */
  { "own", "download", 0755, "its settings would be section \"download\", which is dflyd's own" },
};

static void
test_refusal (Fixture *f, gconstpointer data)
{
  const RefusalCase      *c = data;
  g_autofree char        *path = install_plugin (f->dir, c->variant, c->file_name, c->mode);
  g_autofree char        *log_glob = g_strdup_printf ("refusing plugin %s: %s", path, c->reason);
  const DflyPluginRecord *record;

  load_dir (f);
  test_log_assert (&f->log, (const char *[]){ log_glob, NULL });
  record = only_record (f);
  g_assert_false (record->loaded);
  g_assert_true (g_pattern_match_simple (c->reason, record->reason));
  g_assert_null (dfly_plugin_loader_lookup (f->loader, c->file_name));
}

static void
test_not_owned_by_root (Fixture *f, gconstpointer data)
{
  g_autofree char *path = NULL;
  g_autofree char *log_glob = NULL;

  if (geteuid () != 0) {
    g_test_skip ("changing a file's owner needs root");
    return;
  }
  path = install_plugin (f->dir, "good", "test-good", 0755);
  g_assert_cmpint (chown (path, 65534, 65534), ==, 0);
  log_glob = g_strdup_printf ("refusing plugin %s: file is owned by uid 65534, not by root", path);
  load_dir (f);
  test_log_assert (&f->log, (const char *[]){ log_glob, NULL });
  g_assert_false (only_record (f)->loaded);
}

static void
test_not_a_shared_object (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "junk.so", NULL);
  g_autofree char *log_glob = g_strdup_printf ("refusing plugin %s: cannot open: *", path);

  g_assert_true (g_file_set_contents (path, "not an ELF file", -1, NULL));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  load_dir (f);
  test_log_assert (&f->log, (const char *[]){ log_glob, NULL });
  g_assert_false (only_record (f)->loaded);
}

static void
test_duplicate_name (Fixture *f, gconstpointer data)
{
  g_autofree char        *dir1 = g_build_filename (f->dir, "one", NULL);
  g_autofree char        *dir2 = g_build_filename (f->dir, "two", NULL);
  g_autofree char        *first = NULL;
  g_autofree char        *second = NULL;
  g_autofree char        *log_glob = NULL;
  const char             *dirs[] = { dir1, dir2, NULL };
  GPtrArray              *records;
  const DflyPluginRecord *record;

  g_assert_cmpint (g_mkdir (dir1, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (dir2, 0755), ==, 0);
  first = install_plugin (dir1, "good", "test-good", 0755);
  second = install_plugin (dir2, "good", "test-good", 0755);
  log_glob = g_strdup_printf ("refusing plugin %s: duplicate name: \"test-good\" is already "
                              "loaded from %s",
                              second, first);
  dfly_plugin_loader_load_dirs (f->loader, dirs);
  test_log_assert (&f->log, (const char *[]){ log_glob, NULL });
  records = dfly_plugin_loader_get_records (f->loader);
  g_assert_cmpuint (records->len, ==, 2);
  record = g_ptr_array_index (records, 0);
  g_assert_true (record->loaded);
  g_assert_cmpstr (record->path, ==, first);
  record = g_ptr_array_index (records, 1);
  g_assert_false (record->loaded);
  g_assert_true (dfly_plugin_loader_lookup (f->loader, "test-good")->path != NULL);
  g_assert_cmpstr (dfly_plugin_loader_lookup (f->loader, "test-good")->path, ==, first);
}

/* A plugin with a sound table loads, and binding a config builds its
 * settings from its section; a section of a refused plugin is then unknown. */
static void
test_settings_bound (Fixture *f, gconstpointer data)
{
  g_autofree char *path = install_plugin (f->dir, "settings", "test-settings", 0755);
  g_autofree char *overflow = install_plugin (f->dir, "overflow", "test-overflow", 0755);
  const char      *yaml = "test-settings:\n  size: 7\n";
  const char      *refused_yaml = "test-overflow:\n  size: 7\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = dfly_config_load_data (yaml, strlen (yaml), "x.yaml", &error);
  g_autoptr (DflyConfig) refused = NULL;
  const DflyPluginRecord *record;
  DflySettings           *settings;
  const char             *values;

  g_assert_no_error (error);
  load_dir (f);
  test_log_assert (&f->log, (const char *[]){ "refusing plugin */test-overflow.so: *", NULL });
  record = dfly_plugin_loader_lookup (f->loader, "test-settings");
  g_assert_nonnull (record);
  g_assert_nonnull (record->settings);
  g_assert_true (dfly_plugin_loader_bind_config (f->loader, config, &error));
  g_assert_no_error (error);
  settings = dfly_config_get_settings (config, "test-settings");
  g_assert_nonnull (settings);
  values = dfly_settings_get_values (settings);
  g_assert_cmpuint (*(const guint *) (values + record->settings->keys[0].offset), ==, 7);
  g_assert_cmpstr (*(char *const *) (values + record->settings->keys[1].offset), ==, "hello");

  refused = dfly_config_load_data (refused_yaml, strlen (refused_yaml), "x.yaml", &error);
  g_assert_no_error (error);
  g_assert_false (dfly_plugin_loader_bind_config (f->loader, refused, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
  g_assert_true (
    g_pattern_match_simple ("x.yaml:1:1: unknown section \"test-overflow\": *", error->message));
}

/* A bad plugin costs only itself: the good ones beside it still load. */
static void
test_mixed_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *good = install_plugin (f->dir, "good", "test-good", 0755);
  g_autofree char *abi = install_plugin (f->dir, "abi", "test-abi", 0755);
  g_autofree char *readme = g_build_filename (f->dir, "README", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "no-such-dir", NULL);
  const char      *dirs[] = { missing, f->dir, NULL };
  GPtrArray       *records;

  g_assert_true (g_file_set_contents (readme, "not a plugin", -1, NULL));
  dfly_plugin_loader_load_dirs (f->loader, dirs);
  test_log_assert (&f->log, (const char *[]){ "refusing plugin */test-abi.so: wrong ABI*", NULL });
  records = dfly_plugin_loader_get_records (f->loader);
  /* Sorted by name: test-abi before test-good; README is not considered. */
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_false (((DflyPluginRecord *) g_ptr_array_index (records, 0))->loaded);
  g_assert_true (((DflyPluginRecord *) g_ptr_array_index (records, 1))->loaded);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/loader/good", Fixture, NULL, fixture_set_up, test_good_plugin_loads,
              fixture_tear_down);
  for (guint i = 0; i < G_N_ELEMENTS (refusals); i++) {
    g_autofree char *name = g_strdup_printf ("/loader/refuse/%s-as-%s-%04o", refusals[i].variant,
                                             refusals[i].file_name, refusals[i].mode);

    g_test_add (name, Fixture, &refusals[i], fixture_set_up, test_refusal, fixture_tear_down);
  }
  g_test_add ("/loader/refuse/not-owned-by-root", Fixture, NULL, fixture_set_up,
              test_not_owned_by_root, fixture_tear_down);
  g_test_add ("/loader/refuse/not-a-shared-object", Fixture, NULL, fixture_set_up,
              test_not_a_shared_object, fixture_tear_down);
  g_test_add ("/loader/refuse/duplicate-name", Fixture, NULL, fixture_set_up, test_duplicate_name,
              fixture_tear_down);
  g_test_add ("/loader/settings-bound", Fixture, NULL, fixture_set_up, test_settings_bound,
              fixture_tear_down);
  g_test_add ("/loader/mixed-directory", Fixture, NULL, fixture_set_up, test_mixed_directory,
              fixture_tear_down);
  return g_test_run ();
}
