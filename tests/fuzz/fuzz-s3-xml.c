/* fuzz-s3-xml.c — libFuzzer target: the XML bodies an S3 endpoint answers
 * with, as ListObjectsV2 pages (dfly_s3_parse_list_page) and as error
 * bodies (dfly_s3_parse_error_code), the whole input as one body
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <dfly/dfly.h>

#include "plugins/sources/s3/dfly-s3-xml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A key or a code is text the parser collected: valid UTF-8 (GMarkup's
 * promise), no NUL, within the length cap. */
static void
check_text (const char *text)
{
  g_assert (text != NULL);
  g_assert (strlen (text) <= DFLY_S3_MAX_KEY_LENGTH);
  g_assert (g_utf8_validate (text, -1, NULL));
}

static void
check_list_page (const char *xml, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyS3ListPage) page = dfly_s3_parse_list_page (xml, length, &error);

  if (page == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR && error->code == DFLY_ERROR_SOURCE);
    g_assert (g_utf8_validate (error->message, -1, NULL));
    return;
  }
  g_assert (error == NULL);
  g_assert (page->objects->len <= DFLY_S3_MAX_PAGE_KEYS);
  for (guint i = 0; i < page->objects->len; i++) {
    const DflyS3Object *object = g_ptr_array_index (page->objects, i);

    check_text (object->key);
    g_assert (object->size >= 0);
  }
  /* A truncated page always says where the next one starts. */
  if (page->is_truncated)
    g_assert (page->continuation_token != NULL && page->continuation_token[0] != '\0');
  if (page->continuation_token != NULL)
    check_text (page->continuation_token);
}

static void
check_error_code (const char *xml, gsize length)
{
  static const guint statuses[] = { 0, 200, 403, 404, 500 };
  g_autofree char   *code = dfly_s3_parse_error_code (xml, length);

  if (code != NULL) {
    check_text (code);
    g_assert (code[0] != '\0');
  }
  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++) {
    int mapped = dfly_s3_error_code_to_dfly (code, statuses[i]);

    g_assert (mapped == DFLY_ERROR_NOT_FOUND || mapped == DFLY_ERROR_ACCESS_DENIED ||
              mapped == DFLY_ERROR_SOURCE);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_list_page ((const char *) data, size);
  check_error_code ((const char *) data, size);
  return 0;
}
