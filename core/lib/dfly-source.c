/* dfly-source.c — DflySource, the base of origin plugins */
#include "config.h"

#include <string.h>

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

const char *const *
dfly_source_get_schemes (DflySource *self)
{
  static const char *const none[] = { NULL };
  DflySourceClass         *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self), none);
  klass = DFLY_SOURCE_GET_CLASS (self);
  return klass->get_schemes != NULL ? klass->get_schemes (self) : none;
}

gboolean
dfly_source_handles_url (DflySource *self, const char *url)
{
  const char        *scheme = g_uri_peek_scheme (url); /* interned */
  const char *const *schemes = dfly_source_get_schemes (self);

  return scheme != NULL && g_strv_contains (schemes, scheme);
}

gboolean
dfly_source_claims_url (DflySource *self, const char *url)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, FALSE);
  klass = DFLY_SOURCE_GET_CLASS (self);
  return klass->claims_url != NULL && klass->claims_url (self, url);
}

static gboolean
not_supported (DflySource *self, const char *what, GError **error)
{
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_SUPPORTED, "source %s cannot %s",
               dfly_component_get_name (DFLY_COMPONENT (self)), what);
  return FALSE;
}

DflySourceStat *
dfly_source_stat (DflySource *self, const char *url, GHashTable *headers, GCancellable *cancellable,
                  GError **error)
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
dfly_source_list (DflySource *self, const char *url, GHashTable *headers, GHashTable *options,
                  GCancellable *cancellable, GError **error)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, NULL);
  klass = DFLY_SOURCE_GET_CLASS (self);
  if (klass->list == NULL) {
    not_supported (self, "list", error);
    return NULL;
  }
  return klass->list (self, url, headers, options, cancellable, error);
}

char *
dfly_source_get_content_digest (DflySource *self, const char *url)
{
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self) && url != NULL, NULL);
  klass = DFLY_SOURCE_GET_CLASS (self);
  return klass->get_content_digest != NULL ? klass->get_content_digest (self, url) : NULL;
}

DflySourceEntry *
dfly_source_entry_new (const char *url, const char *path, gint64 length)
{
  DflySourceEntry *entry = g_new0 (DflySourceEntry, 1);

  entry->url = g_strdup (url);
  entry->path = g_strdup (path);
  entry->length = length;
  return entry;
}

void
dfly_source_entry_free (DflySourceEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->url);
  g_free (entry->path);
  g_free (entry);
}

gboolean
dfly_source_entry_path_is_safe (const char *path)
{
  g_auto (GStrv) parts = NULL;

  if (path == NULL || *path == '\0' || *path == '/' || strlen (path) > 4096)
    return FALSE;
  for (const char *c = path; *c != '\0'; c++) {
    if (g_ascii_iscntrl (*c) || *c == '\\')
      return FALSE;
  }
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    if (*parts[i] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  }
  return TRUE;
}
