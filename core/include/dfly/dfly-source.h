/* dfly-source.h — an origin dfly can go back to: HTTP, S3, an OCI registry
 *
 * A source plugin claims URL schemes and answers three questions: how big is
 * this (stat), give me these bytes (open a range), what is under this prefix
 * (list). Every call is asynchronous; results come back on the caller's
 * main context.
 */
#pragma once

#include <gio/gio.h>

#include "dfly-component.h"

G_BEGIN_DECLS

typedef struct {
  gint64   content_length;  /* -1 when the origin does not say */
  gboolean accepts_ranges;
  char    *etag;
  char    *last_modified;
  char    *digest;          /* "sha256:…" when the origin knows it */
} DflySourceStat;

void dfly_source_stat_free (DflySourceStat *stat);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySourceStat, dfly_source_stat_free)

#define DFLY_TYPE_SOURCE (dfly_source_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflySource, dfly_source, DFLY, SOURCE, DflyComponent)

struct _DflySourceClass {
  DflyComponentClass parent_class;

  /* NULL-terminated, e.g. { "http", "https", NULL }. */
  const char * const *(*get_schemes) (DflySource *self);

  void            (*stat_async)   (DflySource *self, const char *url, GHashTable *headers,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
  DflySourceStat *(*stat_finish)  (DflySource *self, GAsyncResult *result, GError **error);

  /* length -1 reads to the end. */
  void            (*open_range_async)  (DflySource *self, const char *url, GHashTable *headers,
                                        guint64 offset, gint64 length,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
  GInputStream   *(*open_range_finish) (DflySource *self, GAsyncResult *result, GError **error);

  /* Optional: the URLs under a prefix, for recursive downloads. */
  void            (*list_async)   (DflySource *self, const char *url, GHashTable *headers,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
  GPtrArray      *(*list_finish)  (DflySource *self, GAsyncResult *result, GError **error);

  gpointer padding[12];
};

const char * const *dfly_source_get_schemes (DflySource *self);

G_END_DECLS
