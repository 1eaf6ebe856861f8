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
  gint64   content_length; /* -1 when the origin does not say */
  gboolean accepts_ranges;
  char    *etag;
  char    *last_modified;
  char    *digest; /* "sha256:…" when the origin knows it */
} DflySourceStat;

void dfly_source_stat_free (DflySourceStat *stat);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySourceStat, dfly_source_stat_free)

/* One object of a URL that names several (an S3 prefix, an OCI image):
 * fetch url to path, relative to the caller's directory. */
typedef struct {
  char  *url;
  char  *path;   /* relative, '/'-separated, never absolute or with ".." */
  gint64 length; /* -1 when unknown */
} DflySourceEntry;

DflySourceEntry *dfly_source_entry_new (const char *url, const char *path, gint64 length);
void             dfly_source_entry_free (DflySourceEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflySourceEntry, dfly_source_entry_free)
/* Whether path is safe to join under a directory: relative, no "." or ".."
 * components, no empty component, no control characters. */
gboolean dfly_source_entry_path_is_safe (const char *path);

#define DFLY_TYPE_SOURCE (dfly_source_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflySource, dfly_source, DFLY, SOURCE, DflyComponent)

struct _DflySourceClass {
  DflyComponentClass parent_class;

  /* NULL-terminated, e.g. { "http", "https", NULL }. */
  const char *const *(*get_schemes) (DflySource *self);

  /* headers: extra request headers (name → value), may be NULL. */
  DflySourceStat *(*stat) (DflySource *self, const char *url, GHashTable *headers,
                           GCancellable *cancellable, GError **error);
  /* A stream of exactly length bytes from offset (length -1: to the end).
   * It fails rather than return fewer or other bytes. offset > 0 on an
   * origin without range support is DFLY_ERROR_NOT_SUPPORTED. */
  GInputStream *(*open_range) (DflySource *self, const char *url, GHashTable *headers,
                               guint64 offset, gint64 length, GCancellable *cancellable,
                               GError **error);
  /* Optional: the objects a URL names, for downloads into a directory
   * (DflySourceEntry *, owned by the array). options (string → string, may
   * be NULL) carry what the source understands, e.g. "platform" →
   * "linux/arm64" or "all-platforms" → "true" for OCI images. */
  GPtrArray *(*list) (DflySource *self, const char *url, GHashTable *headers, GHashTable *options,
                      GCancellable *cancellable, GError **error);
  /* Optional, no I/O: "sha256:<hex>" when the URL itself names the digest
   * of its content (an OCI blob), else NULL. Such a task is keyed by that
   * digest, so one blob through two registries is one task, and its bytes
   * are checked against it. */
  char *(*get_content_digest) (DflySource *self, const char *url);
  /* Optional, no I/O: TRUE when the URL's shape says it is this source's
   * even though another source takes its scheme (an OCI registry's
   * http(s)://…/v2/<repo>/blobs/sha256:… beside the http source). A source
   * that claims a URL is chosen before any that merely take its scheme. */
  gboolean (*claims_url) (DflySource *self, const char *url);

  gpointer padding[10];
};

const char *const *dfly_source_get_schemes (DflySource *self);
gboolean           dfly_source_handles_url (DflySource *self, const char *url);
gboolean           dfly_source_claims_url (DflySource *self, const char *url);
DflySourceStat    *dfly_source_stat (DflySource *self, const char *url, GHashTable *headers,
                                     GCancellable *cancellable, GError **error);
GInputStream      *dfly_source_open_range (DflySource *self, const char *url, GHashTable *headers,
                                           guint64 offset, gint64 length, GCancellable *cancellable,
                                           GError **error);
GPtrArray         *dfly_source_list (DflySource *self, const char *url, GHashTable *headers,
                                     GHashTable *options, GCancellable *cancellable, GError **error);
char              *dfly_source_get_content_digest (DflySource *self, const char *url);

G_END_DECLS
