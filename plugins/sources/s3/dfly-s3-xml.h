/* dfly-s3-xml.h — the XML bodies S3 answers with: errors and object listings
 *
 * Bounded parsers (GMarkup: no DTDs, no external entities): callers cap the
 * body's size before it gets here, and these cap nesting, text lengths and
 * the number of objects a page may hold.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An object key longer than this is refused (S3's limit is 1024 bytes). */
#define DFLY_S3_MAX_KEY_LENGTH 4096
/* Objects in one ListObjectsV2 page (S3 sends at most 1000). */
#define DFLY_S3_MAX_PAGE_KEYS 10000

typedef struct {
  char  *key;
  gint64 size;
} DflyS3Object;

typedef struct {
  GPtrArray *objects; /* DflyS3Object * */
  gboolean   is_truncated;
  char      *continuation_token; /* NextContinuationToken; NULL when absent */
} DflyS3ListPage;

void dfly_s3_list_page_free (DflyS3ListPage *page);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyS3ListPage, dfly_s3_list_page_free)

/* A ListBucketResult; DFLY_ERROR_SOURCE naming what is wrong otherwise. */
DflyS3ListPage *dfly_s3_parse_list_page (const char *xml, gsize length, GError **error);

/* The <Code> of an <Error> body, or NULL if it is not one. */
char *dfly_s3_parse_error_code (const char *xml, gsize length);

/* The DFLY_ERROR code for an S3 error code (NULL: none in the body) and the
 * HTTP status: NoSuchKey, NoSuchBucket → NOT_FOUND; AccessDenied,
 * InvalidAccessKeyId, SignatureDoesNotMatch → ACCESS_DENIED; else SOURCE. */
int dfly_s3_error_code_to_dfly (const char *s3_code, guint status);

G_END_DECLS
