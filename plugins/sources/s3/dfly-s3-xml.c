/* dfly-s3-xml.c — parsing S3's error and ListObjectsV2 bodies with GMarkup
 *
 * Only the elements we use are looked at, at the depth S3 puts them:
 *   <ListBucketResult><IsTruncated/><NextContinuationToken/>
 *     <Contents><Key/><Size/></Contents>…</ListBucketResult>
 *   <Error><Code/>…</Error>
 * Everything else is skipped. GMarkup knows no DTD, so no entity expands
 * beyond the five predefined ones and character references; nesting deeper
 * than MAX_DEPTH and text longer than DFLY_S3_MAX_KEY_LENGTH are errors.
 */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"

#include "dfly-s3-xml.h"

#define MAX_DEPTH 32

void
dfly_s3_list_page_free (DflyS3ListPage *page)
{
  if (page == NULL)
    return;
  g_ptr_array_unref (page->objects);
  g_free (page->continuation_token);
  g_free (page);
}

static void
s3_object_free (DflyS3Object *object)
{
  g_free (object->key);
  g_free (object);
}

typedef enum {
  FIELD_NONE,
  FIELD_IS_TRUNCATED,
  FIELD_TOKEN,
  FIELD_KEY,
  FIELD_SIZE,
  FIELD_CODE,
} Field;

typedef struct {
  const char     *root; /* the root element expected */
  guint           depth;
  gboolean        root_seen;
  gboolean        in_contents;
  Field           field; /* whose text is being collected */
  GString        *text;
  char           *key;  /* of the Contents being read */
  gint64          size; /* -1 until read */
  DflyS3ListPage *page;
  char           *code;
} Parser;

static void
on_start (GMarkupParseContext *context, const char *name, const char **attribute_names,
          const char **attribute_values, gpointer data, GError **error)
{
  Parser *parser = data;

  parser->depth++;
  if (parser->depth > MAX_DEPTH) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                 "elements nested deeper than %u", MAX_DEPTH);
    return;
  }
  parser->field = FIELD_NONE;
  if (parser->depth == 1) {
    if (strcmp (name, parser->root) != 0) {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "<%s>, not <%s>", name,
                   parser->root);
      return;
    }
    parser->root_seen = TRUE;
  } else if (parser->depth == 2 && parser->page != NULL) {
    if (strcmp (name, "Contents") == 0) {
      if (parser->page->objects->len >= DFLY_S3_MAX_PAGE_KEYS) {
        g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                     "more than %u objects in one page", DFLY_S3_MAX_PAGE_KEYS);
        return;
      }
      parser->in_contents = TRUE;
      parser->size = -1;
    } else if (strcmp (name, "IsTruncated") == 0) {
      parser->field = FIELD_IS_TRUNCATED;
    } else if (strcmp (name, "NextContinuationToken") == 0) {
      parser->field = FIELD_TOKEN;
    }
  } else if (parser->depth == 2 && strcmp (name, "Code") == 0) {
    parser->field = FIELD_CODE;
  } else if (parser->depth == 3 && parser->in_contents) {
    if (strcmp (name, "Key") == 0)
      parser->field = FIELD_KEY;
    else if (strcmp (name, "Size") == 0)
      parser->field = FIELD_SIZE;
  }
  g_string_truncate (parser->text, 0);
}

static void
on_text (GMarkupParseContext *context, const char *text, gsize length, gpointer data,
         GError **error)
{
  Parser *parser = data;

  if (parser->field == FIELD_NONE)
    return;
  if (parser->text->len + length > DFLY_S3_MAX_KEY_LENGTH) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                 "an element's text is longer than %u bytes", DFLY_S3_MAX_KEY_LENGTH);
    return;
  }
  g_string_append_len (parser->text, text, (gssize) length);
}

static gboolean
parse_size (const char *text, gint64 *size)
{
  guint64 value;

  if (*text == '\0' || strlen (text) > 18 || strspn (text, "0123456789") != strlen (text))
    return FALSE;
  value = g_ascii_strtoull (text, NULL, 10);
  *size = (gint64) value;
  return TRUE;
}

/* Takes the text of the field that just ended; FALSE on a bad one. */
static gboolean
end_field (Parser *parser, GError **error)
{
  const char *text = parser->text->str;

  switch (parser->field) {
  case FIELD_IS_TRUNCATED:
    parser->page->is_truncated = strcmp (text, "true") == 0;
    break;
  case FIELD_TOKEN:
    g_free (parser->page->continuation_token);
    parser->page->continuation_token = g_strdup (text);
    break;
  case FIELD_KEY:
    if (parser->key != NULL) {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "two <Key> in one <Contents>");
      return FALSE;
    }
    parser->key = g_strdup (text);
    break;
  case FIELD_SIZE:
    if (!parse_size (text, &parser->size)) {
      g_autofree char *shown = g_strescape (text, NULL);

      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "<Size> \"%s\" is not a byte count", shown);
      return FALSE;
    }
    break;
  case FIELD_CODE:
    g_free (parser->code);
    parser->code = g_strdup (text);
    break;
  case FIELD_NONE:
    break;
  }
  return TRUE;
}

static void
on_end (GMarkupParseContext *context, const char *name, gpointer data, GError **error)
{
  Parser  *parser = data;
  gboolean ok = end_field (parser, error);

  parser->field = FIELD_NONE;
  if (!ok)
    return;
  if (parser->depth == 2 && parser->in_contents) {
    DflyS3Object *object;

    parser->in_contents = FALSE;
    if (parser->key == NULL || parser->size < 0) {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                   "a <Contents> without <Key> or <Size>");
      return;
    }
    object = g_new0 (DflyS3Object, 1);
    object->key = g_steal_pointer (&parser->key);
    object->size = parser->size;
    g_ptr_array_add (parser->page->objects, object);
  }
  parser->depth--;
}

static const GMarkupParser markup_parser = { on_start, on_end, on_text, NULL, NULL };

static gboolean
parse (Parser *parser, const char *xml, gsize length, GError **error)
{
  g_autoptr (GMarkupParseContext) context =
    g_markup_parse_context_new (&markup_parser, G_MARKUP_TREAT_CDATA_AS_TEXT, parser, NULL);

  /* S3 speaks UTF-8. GMarkup would let a NUL through, which cuts a key
   * short, and bytes that are not UTF-8 in CDATA, where GLib 2.74 also
   * sets its error twice. */
  if (!g_utf8_validate_len (xml, length, NULL)) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_BAD_UTF8, "not UTF-8, or a NUL byte");
    return FALSE;
  }
  if (!g_markup_parse_context_parse (context, xml, (gssize) length, error) ||
      !g_markup_parse_context_end_parse (context, error))
    return FALSE;
  if (!parser->root_seen) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "no <%s>", parser->root);
    return FALSE;
  }
  return TRUE;
}

DflyS3ListPage *
dfly_s3_parse_list_page (const char *xml, gsize length, GError **error)
{
  g_autoptr (DflyS3ListPage) page = g_new0 (DflyS3ListPage, 1);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) local_error = NULL;
  Parser   parser = { "ListBucketResult" };
  gboolean parsed;

  page->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) s3_object_free);
  parser.text = text;
  parser.page = page;
  parsed = parse (&parser, xml, length, &local_error);
  g_free (parser.key);
  g_free (parser.code);
  if (!parsed) {
    /* GMarkup may quote one byte of a character it chokes on. */
    g_autofree char *reason = g_utf8_make_valid (local_error->message, -1);

    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE, "a bad object listing: %s", reason);
    return NULL;
  }
  if (page->is_truncated &&
      (page->continuation_token == NULL || page->continuation_token[0] == '\0')) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_SOURCE,
                 "a bad object listing: truncated without a NextContinuationToken");
    return NULL;
  }
  return g_steal_pointer (&page);
}

char *
dfly_s3_parse_error_code (const char *xml, gsize length)
{
  g_autoptr (GString) text = g_string_new (NULL);
  Parser parser = { "Error" };

  parser.text = text;
  if (!parse (&parser, xml, length, NULL) || parser.code == NULL || parser.code[0] == '\0') {
    g_free (parser.code);
    return NULL;
  }
  return parser.code;
}

int
dfly_s3_error_code_to_dfly (const char *s3_code, guint status)
{
  static const struct {
    const char *s3_code;
    int         code;
  } codes[] = {
    { "NoSuchKey", DFLY_ERROR_NOT_FOUND },
    { "NoSuchBucket", DFLY_ERROR_NOT_FOUND },
    { "AccessDenied", DFLY_ERROR_ACCESS_DENIED },
    { "InvalidAccessKeyId", DFLY_ERROR_ACCESS_DENIED },
    { "SignatureDoesNotMatch", DFLY_ERROR_ACCESS_DENIED },
  };

  if (s3_code == NULL) {
    /* A HEAD answer has no body: the status is all there is. */
    if (status == 404)
      return DFLY_ERROR_NOT_FOUND;
    if (status == 403)
      return DFLY_ERROR_ACCESS_DENIED;
    return DFLY_ERROR_SOURCE;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strcmp (codes[i].s3_code, s3_code) == 0)
      return codes[i].code;
  return DFLY_ERROR_SOURCE;
}
