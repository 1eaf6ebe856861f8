/* dflyctl-parse.c — checks what a user types before dflyd is asked anything */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "dfly/dfly-task-id.h"
#include "dflyctl.h"
#include "dflyctl-parse.h"

#define MAX_QUOTED_CHARS 80

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

char *
dflyctl_quote_arg (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autoptr (GString) out = g_string_new (NULL);
  guint chars = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p), chars++) {
    gunichar c = g_utf8_get_char (p);

    if (chars == MAX_QUOTED_CHARS) {
      g_string_append (out, "…");
      break;
    }
    if (g_unichar_iscntrl (c))
      g_string_append_printf (out, "\\x%02x", (guint) c);
    else
      g_string_append_unichar (out, c);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  const char *suffix;
  guint64     factor;
} Unit;

static const Unit size_units[] = {
  { "", 1 },      { "B", 1 },     { "KiB", KiB }, { "MiB", MiB },
  { "GiB", GiB }, { "TiB", TiB }, { NULL, 0 },
};
static const Unit duration_units[] = {
  { "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { NULL, 0 },
};

/* Digits and one unit of @units, as in dflyd.yaml. FALSE when @text is not
 * that; *overflow when it is but does not fit in 64 bits. */
static gboolean
parse_number (const char *text, const Unit *units, guint64 *value, gboolean *overflow)
{
  const char *s = text;
  guint64     v = 0;

  *overflow = FALSE;
  if (!g_ascii_isdigit (*s))
    return FALSE;
  for (; g_ascii_isdigit (*s); s++) {
    guint digit = (guint) (*s - '0');

    if (v > (G_MAXUINT64 - digit) / 10)
      *overflow = TRUE;
    else
      v = v * 10 + digit;
  }
  for (guint i = 0; units[i].suffix != NULL; i++) {
    if (!g_str_equal (s, units[i].suffix))
      continue;
    if (v > G_MAXUINT64 / units[i].factor)
      *overflow = TRUE;
    *value = v * units[i].factor;
    return TRUE;
  }
  return FALSE;
}

static char *
format_size (guint64 bytes)
{
  static const Unit units[] = { { "TiB", TiB }, { "GiB", GiB }, { "MiB", MiB }, { "KiB", KiB } };

  for (guint i = 0; i < G_N_ELEMENTS (units); i++) {
    if (bytes != 0 && bytes % units[i].factor == 0)
      return g_strdup_printf ("%" G_GUINT64_FORMAT "%s", bytes / units[i].factor, units[i].suffix);
  }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
}

gboolean
dflyctl_parse_size (const char *option, const char *text, guint64 min, guint64 max, guint64 *bytes,
                    GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  g_autofree char *min_text = format_size (min);
  g_autofree char *max_text = format_size (max);
  gboolean         overflow;
  guint64          value = 0;

  if (!parse_number (text, size_units, &value, &overflow)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 /* TRANSLATORS: the first %s is an option such as --piece-length */
                 _ ("%s: “%s” is not a size; write it as e.g. 4194304, 4MiB or 1GiB"), option,
                 quoted);
    return FALSE;
  }
  if (overflow || value < min || value > max) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: %s is out of range (%s..%s)"),
                 option, quoted, min_text, max_text);
    return FALSE;
  }
  *bytes = value;
  return TRUE;
}

gboolean
dflyctl_parse_duration (const char *option, const char *text, guint32 min, guint32 max,
                        guint32 *seconds, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  gboolean         overflow;
  guint64          value = 0;

  if (!parse_number (text, duration_units, &value, &overflow)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("%s: “%s” is not a duration; write it as e.g. 30, 30s, 5m or 1h"), option,
                 quoted);
    return FALSE;
  }
  if (overflow || value < min || value > max) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("%s: %s is out of range (%us..%us)"),
                 option, quoted, (guint) min, (guint) max);
    return FALSE;
  }
  *seconds = (guint32) value;
  return TRUE;
}

typedef struct {
  const char *name;
  gsize       hex_length;
} DigestAlgorithm;

static const DigestAlgorithm digest_algorithms[] = {
  { "sha256", 64 },
  { "sha512", 128 },
};

char *
dflyctl_parse_digest (const char *text, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  const char      *colon = strchr (text, ':');
  g_autofree char *algorithm = NULL;
  g_autofree char *lower = NULL;
  const char      *hex;

  if (colon == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("--digest: “%s” is not ALGORITHM:HEX, e.g. sha256:<64 hex digits>"), quoted);
    return NULL;
  }
  algorithm = g_ascii_strdown (text, colon - text);
  hex = colon + 1;
  for (guint i = 0; i < G_N_ELEMENTS (digest_algorithms); i++) {
    gsize length = strlen (hex);

    if (!g_str_equal (algorithm, digest_algorithms[i].name))
      continue;
    for (gsize j = 0; j < length; j++) {
      if (!g_ascii_isxdigit (hex[j])) {
        g_autofree char *quoted_hex = dflyctl_quote_arg (hex);

        g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                     _ ("--digest: “%s” is not hexadecimal"), quoted_hex);
        return NULL;
      }
    }
    if (length != digest_algorithms[i].hex_length) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("--digest: a %s digest has %u hex digits, this one has %u"),
                   digest_algorithms[i].name, (guint) digest_algorithms[i].hex_length,
                   (guint) length);
      return NULL;
    }
    lower = g_ascii_strdown (hex, -1);
    return g_strdup_printf ("%s:%s", digest_algorithms[i].name, lower);
  }
  g_free (quoted);
  quoted = dflyctl_quote_arg (algorithm);
  g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
               _ ("--digest: unknown algorithm “%s”; use sha256 or sha512"), quoted);
  return NULL;
}

/* RFC 9110's token: what a header name may be made of. */
static gboolean
is_token (const char *text, gsize length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++) {
    if (!g_ascii_isalnum (text[i]) && strchr ("!#$%&'*+-.^_`|~", text[i]) == NULL)
      return FALSE;
  }
  return TRUE;
}

gboolean
dflyctl_parse_header (const char *text, char **name, char **value, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  const char      *colon = strchr (text, ':');
  const char      *start;
  const char      *end;

  if (colon == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("--header: “%s” has no colon; write it as “Name: value”"), quoted);
    return FALSE;
  }
  if (!is_token (text, colon - text)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("--header: “%s” does not start with a header name (letters, digits, -)"),
                 quoted);
    return FALSE;
  }
  /* Tabs are blanks in HTTP; every other control character could split or
   * smuggle a header. */
  for (const char *p = colon + 1; *p != '\0'; p++) {
    if (((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("--header: “%s” has a control character in its value"), quoted);
      return FALSE;
    }
  }
  start = colon + 1;
  while (*start == ' ' || *start == '\t')
    start++;
  end = start + strlen (start);
  while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *name = g_strndup (text, colon - text);
  *value = g_strndup (start, end - start);
  return TRUE;
}

gboolean
dflyctl_check_url (const char *url, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (url);
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *scheme = NULL;

  if (!g_utf8_validate (url, -1, NULL)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("the URL “%s” is not valid UTF-8"),
                 quoted);
    return FALSE;
  }
  for (const char *p = url; *p != '\0'; p++) {
    if ((guchar) *p <= 0x20 || *p == 0x7f) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("the URL “%s” has a blank or a control character; percent-encode it"),
                   quoted);
      return FALSE;
    }
  }
  scheme = g_uri_parse_scheme (url);
  if (scheme == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("“%s” is not a URL: it has no scheme such as https://"), quoted);
    return FALSE;
  }
  /* The flags dflyd parses with: the text is taken as it is. */
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_PARSE_RELAXED, &local_error);
  if (uri == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("“%s” is not a valid URL: %s"),
                 quoted, local_error->message);
    return FALSE;
  }
  if ((g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0) &&
      (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("the URL “%s” has no host"), quoted);
    return FALSE;
  }
  return TRUE;
}

char *
dflyctl_parse_output (const char *path, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (path);
  g_autofree char *absolute = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *utf8 = NULL;

  if (*path == '\0') {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("-O: the file name is empty"));
    return NULL;
  }
  if (g_str_equal (path, "-")) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("-O -: dflyd writes to a file, not to standard output"));
    return NULL;
  }
  absolute = g_canonicalize_filename (path, NULL);
  if (g_str_has_suffix (path, "/") || g_file_test (absolute, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("-O: “%s” is a directory; name the file to write"), quoted);
    return NULL;
  }
  directory = g_path_get_dirname (absolute);
  if (!g_file_test (directory, G_FILE_TEST_IS_DIR)) {
    g_autofree char *quoted_directory = dflyctl_quote_arg (directory);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("-O: the directory “%s” does not exist"), quoted_directory);
    return NULL;
  }
  /* D-Bus strings are UTF-8; a file name in another encoding cannot travel. */
  utf8 = g_filename_to_utf8 (absolute, -1, NULL, NULL, NULL);
  if (utf8 == NULL || !g_utf8_validate (utf8, -1, NULL)) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("-O: the file name “%s” is not valid UTF-8, which D-Bus cannot carry"), quoted);
    return NULL;
  }
  return g_steal_pointer (&utf8);
}

char *
dflyctl_parse_task_id (const char *text, gboolean *is_prefix, GError **error)
{
  g_autofree char *quoted = dflyctl_quote_arg (text);
  gsize            length = strlen (text);

  for (gsize i = 0; i < length; i++) {
    if (!g_ascii_isxdigit (text[i])) {
      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("“%s” is not a task id: task ids are hexadecimal"), quoted);
      return NULL;
    }
  }
  if (length > DFLY_TASK_ID_LENGTH) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("“%s” is not a task id: it is longer than %u hex digits"), quoted,
                 (guint) DFLY_TASK_ID_LENGTH);
    return NULL;
  }
  if (length < DFLYCTL_TASK_ID_PREFIX_MIN) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("task id “%s” is too short: give at least %u hex digits"), quoted,
                 (guint) DFLYCTL_TASK_ID_PREFIX_MIN);
    return NULL;
  }
  *is_prefix = length < DFLY_TASK_ID_LENGTH;
  return g_ascii_strdown (text, -1);
}
