/* dfly-source.c — DflySource, the base of origin plugins */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly/dfly-source.h"

G_DEFINE_ABSTRACT_TYPE (DflySource, dfly_source, DFLY_TYPE_COMPONENT)

static void
dfly_source_class_init (DflySourceClass *klass)
{
}

static void
dfly_source_init (DflySource *self)
{
}

void
dfly_source_stat_free (DflySourceStat *stat)
{
  if (stat == NULL)
    return;
  g_free (stat->etag);
  g_free (stat->last_modified);
  g_free (stat->digest);
  g_free (stat);
}

const char * const *
dfly_source_get_schemes (DflySource *self)
{
  static const char * const none[] = { NULL };
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self), none);
  klass = DFLY_SOURCE_GET_CLASS (self);
  return klass->get_schemes != NULL ? klass->get_schemes (self) : none;
}

gboolean
dfly_source_handles_url (DflySource *self, const char *url)
{
  const char *scheme = g_uri_peek_scheme (url); /* interned */
  const char * const *schemes = dfly_source_get_schemes (self);

  return scheme != NULL && g_strv_contains (schemes, scheme);
}

static gboolean
not_supported (DflySource *self, const char *what, GError **error)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "source %s cannot %s",
               dfly_component_get_name (DFLY_COMPONENT (self)), what);
  return FALSE;
}

DflySourceStat *
dfly_source_stat (DflySource *self, const char *url, GHashTable *headers,
                  GCancellable *cancellable, GError **error)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, NULL);
  klass = DFLY_SOURCE_GET_CLASS (self);
  if (klass->stat == NULL) {
    not_supported (self, "stat", error);
    return NULL;
  }
  return klass->stat (self, url, headers, cancellable, error);
}

GInputStream *
dfly_source_open_range (DflySource *self, const char *url, GHashTable *headers, guint64 offset,
                        gint64 length, GCancellable *cancellable, GError **error)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, NULL);
  klass = DFLY_SOURCE_GET_CLASS (self);
  if (klass->open_range == NULL) {
    not_supported (self, "read", error);
    return NULL;
  }
  return klass->open_range (self, url, headers, offset, length, cancellable, error);
}

GPtrArray *
dfly_source_list (DflySource *self, const char *url, GHashTable *headers,
                  GCancellable *cancellable, GError **error)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, NULL);
  klass = DFLY_SOURCE_GET_CLASS (self);
  if (klass->list == NULL) {
    not_supported (self, "list", error);
    return NULL;
  }
  return klass->list (self, url, headers, cancellable, error);
}
