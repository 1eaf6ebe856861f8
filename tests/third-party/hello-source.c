/* hello-source.c — a third-party source plugin with settings, built outside the dfly tree:
 * hello://NAME serves `size` bytes of `greeting` repeated, set in its section of dflyd.yaml
 * ("hello-source:"); worker threads hold a reference to the settings a reload may swap. */
#include <dfly/dfly.h>
#include <string.h>

typedef struct {
  char   *greeting;
  guint64 size;
} HelloSettings;

static const DflyConfigKey keys[] = {
  { "greeting", DFLY_CONFIG_STRING, offsetof (HelloSettings, greeting), "hello", 1, 255,
    DFLY_CONFIG_LIVE, "the text served, repeated" },
  { "size", DFLY_CONFIG_SIZE, offsetof (HelloSettings, size), "1KiB", 1, 1024 * 1024,
    DFLY_CONFIG_LIVE, "the length of every hello:// file" },
};

static const DflyConfigSection section = { sizeof (HelloSettings), keys, 2, NULL, { NULL } };

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
  guint64 end = length < 0 ? hello->size : MIN (hello->size, offset + (guint64) length);
  gsize   n = end > offset ? end - offset : 0;
  guint8 *data = g_malloc (MAX (n, 1));
  g_autoptr (GBytes) bytes = NULL;

  for (gsize i = 0; i < n; i++)
    data[i] = hello->greeting[(offset + i) % strlen (hello->greeting)];
  bytes = g_bytes_new_take (data, n);
  return g_memory_input_stream_new_from_bytes (bytes);
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
                                  "A third-party example source", hello_source_get_type, &section)
