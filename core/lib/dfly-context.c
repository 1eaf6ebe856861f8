/* dfly-context.c — DflyContext, the one shared state of a daemon */
#include "config.h"

#include "dfly/dfly-context.h"
#include "dfly/dfly-error.h"
#include "dfly/dfly-http-client.h"
#include "dfly/dfly-source.h"
#include "dfly/dfly-storage.h"
#include "dfly/dfly-tls.h"

struct _DflyContext {
  GObject         parent_instance;
  DflyConfig     *config;
  GMutex          config_lock; /* for dfly_context_dup_config from other threads */
  DflyBus        *bus;
  gint64          start_time;
  GHashTable     *plugin_types; /* "kind/name" → GType */
  DflyStorage    *storage;
  GPtrArray      *sources;    /* DflySource * */
  GWeakRef        downloader; /* the role owns it */
  DflyHttpClient *http_client;
  DflyTls        *tls;
};

G_DEFINE_FINAL_TYPE (DflyContext, dfly_context, G_TYPE_OBJECT)

/* Services hold the context (they are components): dropping them here, when
 * the daemon disposes the context at exit, breaks the cycle and lets the
 * storage close its database. */
static void
dfly_context_dispose (GObject *object)
{
  DflyContext *self = DFLY_CONTEXT (object);

  g_clear_object (&self->storage);
  if (self->sources != NULL)
    g_ptr_array_set_size (self->sources, 0);
  G_OBJECT_CLASS (dfly_context_parent_class)->dispose (object);
}

static void
dfly_context_finalize (GObject *object)
{
  DflyContext *self = DFLY_CONTEXT (object);

  g_clear_pointer (&self->config, dfly_config_unref);
  g_mutex_clear (&self->config_lock);
  g_clear_object (&self->bus);
  g_clear_pointer (&self->plugin_types, g_hash_table_unref);
  g_clear_object (&self->storage);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_weak_ref_clear (&self->downloader);
  g_clear_object (&self->http_client);
  g_clear_object (&self->tls);
  G_OBJECT_CLASS (dfly_context_parent_class)->finalize (object);
}

static void
dfly_context_class_init (DflyContextClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = dfly_context_dispose;
  G_OBJECT_CLASS (klass)->finalize = dfly_context_finalize;
}

static void
dfly_context_init (DflyContext *self)
{
  g_mutex_init (&self->config_lock);
  self->bus = dfly_bus_new ();
  self->start_time = g_get_monotonic_time ();
  self->plugin_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_weak_ref_init (&self->downloader, NULL);
  self->http_client = dfly_http_client_new (self);
}

DflyContext *
dfly_context_new (DflyConfig *config)
{
  DflyContext *self = g_object_new (DFLY_TYPE_CONTEXT, NULL);

  self->config = dfly_config_ref (config);
  return self;
}

DflyConfig *
dfly_context_get_config (DflyContext *self)
{
  g_return_val_if_fail (DFLY_IS_CONTEXT (self), NULL);
  return self->config;
}

DflyConfig *
dfly_context_dup_config (DflyContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (DFLY_IS_CONTEXT (self), NULL);
  locker = g_mutex_locker_new (&self->config_lock);
  return dfly_config_ref (self->config);
}

void
dfly_context_set_config (DflyContext *self, DflyConfig *config)
{
  DflyConfig *old;

  g_return_if_fail (DFLY_IS_CONTEXT (self) && config != NULL);
  dfly_config_ref (config);
  g_mutex_lock (&self->config_lock);
  old = self->config;
  self->config = config;
  g_mutex_unlock (&self->config_lock);
  dfly_config_unref (old);
  dfly_bus_emit_config_reloaded (self->bus, config);
}

DflyBus *
dfly_context_get_bus (DflyContext *self)
{
  g_return_val_if_fail (DFLY_IS_CONTEXT (self), NULL);
  return self->bus;
}

gint64
dfly_context_get_start_time (DflyContext *self)
{
  g_return_val_if_fail (DFLY_IS_CONTEXT (self), 0);
  return self->start_time;
}

static char *
plugin_key (DflyPluginKind kind, const char *name)
{
  return g_strdup_printf ("%s/%s", dfly_plugin_kind_to_string (kind), name);
}

void
dfly_context_add_plugin_type (DflyContext *self, DflyPluginKind kind, const char *name, GType type)
{
  g_return_if_fail (DFLY_IS_CONTEXT (self) && name != NULL);
  g_hash_table_insert (self->plugin_types, plugin_key (kind, name), GSIZE_TO_POINTER (type));
}

GType
dfly_context_lookup_plugin_type (DflyContext *self, DflyPluginKind kind, const char *name)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (DFLY_IS_CONTEXT (self) && name != NULL, G_TYPE_INVALID);
  key = plugin_key (kind, name);
  return GPOINTER_TO_SIZE (g_hash_table_lookup (self->plugin_types, key));
}

void
dfly_context_set_storage (DflyContext *self, DflyStorage *storage)
{
  g_return_if_fail (DFLY_IS_CONTEXT (self) && (storage == NULL || DFLY_IS_STORAGE (storage)));
  g_set_object (&self->storage, storage);
}

DflyStorage *
dfly_context_get_storage (DflyContext *self)
{
  g_return_val_if_fail (DFLY_IS_CONTEXT (self), NULL);
  return self->storage;
}

void
dfly_context_add_source (DflyContext *self, DflySource *source)
{
  g_return_if_fail (DFLY_IS_CONTEXT (self) && DFLY_IS_SOURCE (source));
  g_ptr_array_add (self->sources, g_object_ref (source));
}

DflySource *
dfly_context_lookup_source (DflyContext *self, const char *url, GError **error)
{
  const char *scheme;

  g_return_val_if_fail (DFLY_IS_CONTEXT (self) && url != NULL, NULL);
  /* A source that claims the URL by its shape wins over one that only
   * takes its scheme (an OCI blob URL is http(s) too). */
  for (guint i = 0; i < self->sources->len; i++) {
    DflySource *source = g_ptr_array_index (self->sources, i);

    if (dfly_source_claims_url (source, url))
      return source;
  }
  for (guint i = 0; i < self->sources->len; i++) {
    DflySource *source = g_ptr_array_index (self->sources, i);

    if (dfly_source_handles_url (source, url))
      return source;
  }
  scheme = g_uri_peek_scheme (url);
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "no source plugin handles %s URLs",
               scheme != NULL ? scheme : "these");
  return NULL;
}

void
dfly_context_set_downloader (DflyContext *self, DflyDownloader *downloader)
{
  g_return_if_fail (DFLY_IS_CONTEXT (self));
  g_weak_ref_set (&self->downloader, downloader);
}

DflyDownloader *
dfly_context_get_downloader (DflyContext *self)
{
  DflyDownloader *downloader;

  g_return_val_if_fail (DFLY_IS_CONTEXT (self), NULL);
  /* The weak ref gives a strong one; the role keeps it alive on the main
   * thread, which is the only caller. */
  downloader = g_weak_ref_get (&self->downloader);
  if (downloader != NULL)
    g_object_unref (downloader);
  return downloader;
}

DflyHttpClient *
dfly_context_get_http_client (DflyContext *self)
{
  return self->http_client;
}

void
dfly_context_set_tls (DflyContext *self, DflyTls *tls)
{
  g_set_object (&self->tls, tls);
}

DflyTls *
dfly_context_get_tls (DflyContext *self)
{
  return self->tls;
}
