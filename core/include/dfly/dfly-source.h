/* dfly-source.h — an origin dfly can go back to: HTTP, S3, an OCI registry
 *
 * A source plugin claims URL schemes and answers three questions: how big is
 * this (stat), give me these bytes (open a range), what is under this prefix
 * (list). The calls block and are made from worker threads, several at once:
 * an implementation is thread-safe. Errors are DFLY_ERROR codes:
 * DFLY_ERROR_SOURCE for what the origin said (the message starts with the
 * status, e.g. "HTTP 404 Not Found"), DFLY_ERROR_TIMEOUT for a stalled or
 * unreachable origin after the configured timeouts, DFLY_ERROR_CANCELLED,
 * DFLY_ERROR_NOT_SUPPORTED for a range the origin cannot serve.
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

  /* headers: extra request headers (name → value), may be NULL. */
  DflySourceStat *(*stat)       (DflySource *self, const char *url, GHashTable *headers,
                                 GCancellable *cancellable, GError **error);
  /* A stream of exactly length bytes from offset (length -1: to the end).
   * It fails rather than return fewer or other bytes. offset > 0 on an
   * origin without range support is DFLY_ERROR_NOT_SUPPORTED. */
  GInputStream   *(*open_range) (DflySource *self, const char *url, GHashTable *headers,
                                 guint64 offset, gint64 length, GCancellable *cancellable,
                                 GError **error);
  /* Optional: the URLs under a prefix, for recursive downloads. */
  GPtrArray      *(*list)       (DflySource *self, const char *url, GHashTable *headers,
                                 GCancellable *cancellable, GError **error);

  gpointer padding[12];
};

const char * const *dfly_source_get_schemes (DflySource *self);
gboolean        dfly_source_handles_url (DflySource *self, const char *url);
DflySourceStat *dfly_source_stat (DflySource *self, const char *url, GHashTable *headers,
                                  GCancellable *cancellable, GError **error);
GInputStream   *dfly_source_open_range (DflySource *self, const char *url, GHashTable *headers,
                                        guint64 offset, gint64 length,
                                        GCancellable *cancellable, GError **error);
GPtrArray      *dfly_source_list (DflySource *self, const char *url, GHashTable *headers,
                                  GCancellable *cancellable, GError **error);

G_END_DECLS
