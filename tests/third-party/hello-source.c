/* hello-source.c — a third-party source plugin with settings, built outside the dfly tree:
 * hello://NAME serves `size` bytes of `greeting` repeated, set in its section of dflyd.yaml
 * ("hello-source:"), which reaches it through its key table alone. */
#include <string.h>

#include <dfly/dfly.h>

typedef struct {
  char   *greeting;
  guint64 size;
} HelloSettings;

static const DflyConfigKey hello_keys[] = {
  { "greeting", DFLY_CONFIG_STRING, offsetof (HelloSettings, greeting), "hello", 1, 255,
    DFLY_CONFIG_LIVE, "the text served, repeated" },
  { "size", DFLY_CONFIG_SIZE, offsetof (HelloSettings, size), "1KiB", 1, 1024 * 1024,
    DFLY_CONFIG_LIVE, "the length of every hello:// file" },
};

static const DflyConfigSection hello_settings = { .size = sizeof (HelloSettings),
                                                  .keys = hello_keys,
                                                  .n_keys = G_N_ELEMENTS (hello_keys) };

G_DECLARE_FINAL_TYPE (HelloSource, hello_source, HELLO, SOURCE, DflySource)

struct _HelloSource {
  DflySource parent_instance;
};

G_DEFINE_FINAL_TYPE (HelloSource, hello_source, DFLY_TYPE_SOURCE)

static const char *const *
hello_source_get_schemes (DflySource *source)
{
  static const char *const schemes[] = { "hello", NULL };

  return schemes;
}

/* Called from worker threads: a reference to the settings, which a reload may swap. */
static DflySourceStat *
hello_source_stat (DflySource *source, const char *url, GHashTable *headers,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (DflySettings) settings = dfly_component_dup_settings (DFLY_COMPONENT (source));
  DflySourceStat *stat = g_new0 (DflySourceStat, 1);

  stat->content_length = ((const HelloSettings *) dfly_settings_get_values (settings))->size;
  stat->accepts_ranges = TRUE;
  return stat;
}

static GInputStream *
hello_source_open_range (DflySource *source, const char *url, GHashTable *headers, guint64 offset,
                         gint64 length, GCancellable *cancellable, GError **error)
{
  g_autoptr (DflySettings) settings = dfly_component_dup_settings (DFLY_COMPONENT (source));
  const HelloSettings *hello = dfly_settings_get_values (settings);
  guint64     end = length < 0 ? hello->size : MIN (hello->size, offset + (guint64) length);
  gsize       greeting_length = strlen (hello->greeting);
  GByteArray *bytes = g_byte_array_new ();

  for (guint64 i = offset; i < end; i++)
    g_byte_array_append (bytes, (const guint8 *) &hello->greeting[i % greeting_length], 1);
  return g_memory_input_stream_new_from_bytes (g_byte_array_free_to_bytes (bytes));
}

static void
hello_source_class_init (HelloSourceClass *klass)
{
  DFLY_SOURCE_CLASS (klass)->get_schemes = hello_source_get_schemes;
  DFLY_SOURCE_CLASS (klass)->stat = hello_source_stat;
  DFLY_SOURCE_CLASS (klass)->open_range = hello_source_open_range;
}

static void
hello_source_init (HelloSource *self)
{
}

DFLY_PLUGIN_DEFINE_WITH_SETTINGS ("hello-source", DFLY_PLUGIN_KIND_SOURCE, "1.0.0", "MIT",
                                  "A third-party example source", hello_source_get_type,
                                  &hello_settings)
