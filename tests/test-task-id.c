/* test-task-id.c — filtered URLs, task ids and piece lengths */
#include "config.h"

#include <string.h>

#include <dfly/dfly.h>

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

/* The defaults of download.filtered_query_keys (docs/dragonfly.md, "Task ids"). */
static const char *const default_keys[] = {
  "X-Amz-*", "X-Goog-*", "OSSAccessKeyId", "Expires", "Signature", "SecurityToken", "q-sign-*",
  "ns",      NULL,
};

static char *
filter_ok (const char *url, const char *const *keys)
{
  g_autoptr (GError) error = NULL;
  char *filtered = dfly_url_filter_query (url, keys, &error);

  g_assert_no_error (error);
  g_assert_nonnull (filtered);
  return filtered;
}

/* url filtered with the default keys is expected. */
static void
assert_filtered (const char *url, const char *expected)
{
  g_autofree char *filtered = filter_ok (url, default_keys);
  g_autofree char *again = filter_ok (filtered, default_keys);

  g_assert_cmpstr (filtered, ==, expected);
  /* filtering is idempotent */
  g_assert_cmpstr (again, ==, filtered);
}

/* url is refused as not a URL, with an error that is safe to print. */
static void
assert_refused (const char *url)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *filtered = dfly_url_filter_query (url, default_keys, &error);
  g_autofree char *id = NULL;

  g_assert_null (filtered);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_suffix (error->message, "is not an absolute URL"));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  for (const char *c = error->message; *c != '\0'; c++)
    g_assert_false (g_ascii_iscntrl (*c));
  g_assert_cmpuint (strlen (error->message), <, 1200);
  g_clear_error (&error);

  /* no task id either */
  id = dfly_task_id_new (url, "tag", "app", 0, default_keys, &error);
  g_assert_null (id);
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
}

static void
test_filter_default_keys (void)
{
  const char *const filtered[] = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Goog-Algorithm",
    "X-Goog-Credential",
    "X-Goog-Signature",
    "OSSAccessKeyId",
    "Expires",
    "Signature",
    "SecurityToken",
    "q-sign-algorithm",
    "q-sign-time",
    "q-sign-signature",
    "ns",
  };

  for (guint i = 0; i < G_N_ELEMENTS (filtered); i++) {
    g_autofree char *alone = g_strdup_printf ("https://h.example/o?%s=v", filtered[i]);
    g_autofree char *first = g_strdup_printf ("https://h.example/o?%s=v&a=1", filtered[i]);
    g_autofree char *middle = g_strdup_printf ("https://h.example/o?a=1&%s=v&b=2", filtered[i]);
    g_autofree char *last = g_strdup_printf ("https://h.example/o?a=1&%s=v", filtered[i]);

    assert_filtered (alone, "https://h.example/o");
    assert_filtered (first, "https://h.example/o?a=1");
    assert_filtered (middle, "https://h.example/o?a=1&b=2");
    assert_filtered (last, "https://h.example/o?a=1");
  }

  /* a real presigned S3 URL */
  assert_filtered ("https://bucket.s3.us-east-1.amazonaws.com/dir/file.tar.gz"
                   "?versionId=7&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Credential=AKIA%2F20250101%2Fus-east-1%2Fs3%2Faws4_request"
                   "&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600"
                   "&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd",
                   "https://bucket.s3.us-east-1.amazonaws.com/dir/file.tar.gz?versionId=7");
  /* OSS and COS */
  assert_filtered ("http://b.oss-cn-hangzhou.aliyuncs.com/o?OSSAccessKeyId=k&Expires=1"
                   "&Signature=s%3D&SecurityToken=t",
                   "http://b.oss-cn-hangzhou.aliyuncs.com/o");
  assert_filtered ("https://b-1250000000.cos.ap-beijing.myqcloud.com/o"
                   "?q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-key-time=1;2"
                   "&q-header-list=host&q-url-param-list=&q-signature=abc",
                   "https://b-1250000000.cos.ap-beijing.myqcloud.com/o"
                   "?q-ak=AK&q-key-time=1;2&q-header-list=host&q-url-param-list=&q-signature=abc");
  /* containerd's ns */
  assert_filtered ("http://127.0.0.1:4001/v2/library/alpine/blobs/sha256:ab?ns=docker.io",
                   "http://127.0.0.1:4001/v2/library/alpine/blobs/sha256:ab");
}

static void
test_filter_shape (void)
{
  /* the remaining order is kept, not sorted */
  assert_filtered ("http://h/p?z=1&ns=x&a=2&m=3&Expires=4&b=5", "http://h/p?z=1&a=2&m=3&b=5");
  /* no query, an empty query, a query that empties */
  assert_filtered ("http://h/p", "http://h/p");
  assert_filtered ("http://h/p?", "http://h/p");
  assert_filtered ("http://h/p?ns=1&Expires=2", "http://h/p");
  assert_filtered ("http://h/?ns=1", "http://h/");
  assert_filtered ("http://h?ns=1", "http://h");
  /* fragments are kept, and a '?' inside one is not a query */
  assert_filtered ("http://h/p?ns=1#frag", "http://h/p#frag");
  assert_filtered ("http://h/p?a=1&ns=1#frag?ns=2", "http://h/p?a=1#frag?ns=2");
  assert_filtered ("http://h/p#f?ns=1&Expires=2", "http://h/p#f?ns=1&Expires=2");
  assert_filtered ("http://h/p?#f", "http://h/p#f");
  assert_filtered ("http://h/p?ns=1#", "http://h/p#");
  /* prefix vs exact */
  assert_filtered ("http://h/p?nsx=1&xns=2&NS=3&ns=4", "http://h/p?nsx=1&xns=2&NS=3");
  assert_filtered ("http://h/p?X-Amz-=1&X-Amz=2&x-amz-date=3&X-AmzDate=4",
                   "http://h/p?X-Amz=2&x-amz-date=3&X-AmzDate=4");
  assert_filtered ("http://h/p?Expiresx=1&Signatures=2&q-sign=3&q-sign-=4",
                   "http://h/p?Expiresx=1&Signatures=2&q-sign=3");
  /* a filter matches the key only, never the value */
  assert_filtered ("http://h/p?a=ns&b=X-Amz-Date", "http://h/p?a=ns&b=X-Amz-Date");
  assert_filtered ("http://h/p?a=1=ns&ns=a=b", "http://h/p?a=1=ns");
  /* keys without '=' */
  assert_filtered ("http://h/p?flag&ns&X-Amz-Date&other", "http://h/p?flag&other");
  assert_filtered ("http://h/p?ns=", "http://h/p");
  /* empty parameters are dropped; an empty key is kept */
  assert_filtered ("http://h/p?a=1&&b=2", "http://h/p?a=1&b=2");
  assert_filtered ("http://h/p?&&&a=1&&&", "http://h/p?a=1");
  assert_filtered ("http://h/p?&&&", "http://h/p");
  assert_filtered ("http://h/p?=1&=", "http://h/p?=1&=");
  /* repeated keys: every copy goes, or every copy stays in place */
  assert_filtered ("http://h/p?ns=1&a=1&ns=2&a=2&ns=3", "http://h/p?a=1&a=2");
  /* percent-encoded keys are compared as written, not decoded */
  assert_filtered ("http://h/p?X%2DAmz-Date=1&n%73=2&%6Es=3",
                   "http://h/p?X%2DAmz-Date=1&n%73=2&%6Es=3");
  assert_filtered ("http://h/p?a=%26ns%3D1&ns=%26", "http://h/p?a=%26ns%3D1");
  /* the rest of the URL is kept byte for byte, not normalised */
  assert_filtered ("HTTP://User:Pw@H.Example:8080/a/../%7Euser/?ns=1",
                   "HTTP://User:Pw@H.Example:8080/a/../%7Euser/");
  assert_filtered ("http://[::1]:80/p?ns=1&a", "http://[::1]:80/p?a");
  /* other schemes are URLs too; which ones are fetched is not decided here */
  assert_filtered ("file:///etc/hosts?ns=1", "file:///etc/hosts");
  assert_filtered ("a:b", "a:b");
}

static void
test_filter_keys (void)
{
  const char *const none[] = { NULL };
  const char *const star[] = { "*", NULL };
  const char *const odd[] = { "", "a*b", "c", NULL };

  /* no filter list: the URL as it is */
  {
    g_autofree char *a = filter_ok ("http://h/p?ns=1&X-Amz-Date=2", NULL);
    g_autofree char *b = filter_ok ("http://h/p?ns=1&X-Amz-Date=2", none);

    g_assert_cmpstr (a, ==, "http://h/p?ns=1&X-Amz-Date=2");
    g_assert_cmpstr (b, ==, "http://h/p?ns=1&X-Amz-Date=2");
  }
  /* but empty parameters still go */
  {
    g_autofree char *a = filter_ok ("http://h/p?a&&b", NULL);

    g_assert_cmpstr (a, ==, "http://h/p?a&b");
  }
  /* "*" filters every parameter */
  {
    g_autofree char *a = filter_ok ("http://h/p?a=1&=2&b#f", star);

    g_assert_cmpstr (a, ==, "http://h/p#f");
  }
  /* "" matches only an empty key; '*' only counts at the end */
  {
    g_autofree char *a = filter_ok ("http://h/p?=1&a*b=2&ab=3&axb=4&c=5&cc=6", odd);

    g_assert_cmpstr (a, ==, "http://h/p?ab=3&axb=4&cc=6");
  }
}

static void
test_filter_hostile (void)
{
  const char *const refused[] = {
    "",
    "not a URL",
    "example.com/path?ns=1",
    "/relative/path?ns=1",
    "relative?ns=1",
    "//h.example/p",
    "?ns=1",
    "#frag",
    "1http://x/",
    "http://h/p?a=1 b",
    "http://h/p ",
    " http://h/p",
    "http://h/p\r\nHost: evil",
    "http://h/p\n",
    "http://h/\tp",
    "http://h/p?a=\x01",
    "http://h/\x1b[31mred",
    "http://h/p\x7f",
    "http://h:99999/",
    "http://h:port/",
    "http://[::1/",
    "\xff\xfe\xfd",
    "\x1b]0;title\x07",
    "\xc3",
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    assert_refused (refused[i]);

  /* the error quotes the URL, escaped */
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *filtered = dfly_url_filter_query ("x\x1b[2J\xff", default_keys, &error);

    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "\"x\\033[2J\xef\xbf\xbd\" is not an absolute URL");
  }

  /* Non-UTF-8 bytes in a URL are kept as they are. */
  {
    g_autofree char *a = filter_ok ("http://h/\xff\xfe?ns=1&a=\xc3", default_keys);

    g_assert_cmpstr (a, ==, "http://h/\xff\xfe?a=\xc3");
  }
}

static void
test_filter_long (void)
{
  const gsize size = 1024 * 1024;
  g_autoptr (GString) url = g_string_new ("https://h.example/");
  g_autoptr (GString) expected = NULL;

  /* a 1 MiB path, with a query */
  for (gsize i = 0; i < size; i++)
    g_string_append_c (url, (char) ('a' + i % 26));
  expected = g_string_new (url->str);
  g_string_append (url, "?X-Amz-Date=1&b=2&ns=3");
  g_string_append (expected, "?b=2");
  {
    g_autofree char *filtered = filter_ok (url->str, default_keys);

    g_assert_cmpstr (filtered, ==, expected->str);
  }

  /* a 1 MiB query of filtered and empty parameters */
  g_string_assign (url, "https://h.example/p?");
  while (url->len < size)
    g_string_append (url, "ns=1&&X-Amz-Signature=abcdef&");
  g_string_append (url, "keep=1#end");
  {
    g_autofree char *filtered = filter_ok (url->str, default_keys);

    g_assert_cmpstr (filtered, ==, "https://h.example/p?keep=1#end");
  }

  /* a 1 MiB query of kept parameters */
  g_string_assign (url, "https://h.example/p?");
  while (url->len < size)
    g_string_append (url, "a=1&");
  {
    g_autofree char *filtered = filter_ok (url->str, default_keys);

    /* only the trailing empty parameter goes */
    g_assert_cmpuint (strlen (filtered), ==, url->len - 1);
    g_assert_true (strncmp (filtered, url->str, url->len - 1) == 0);
  }

  /* 1 MiB that is not a URL: refused, the error shows only its head */
  g_string_assign (url, "");
  for (gsize i = 0; i < size; i++)
    g_string_append_c (url, 'x');
  assert_refused (url->str);
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *filtered = dfly_url_filter_query (url->str, default_keys, &error);

    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
    g_assert_true (g_str_has_suffix (error->message, "\"... is not an absolute URL"));
  }
}

/* Random bytes, NUL-free, biased towards URL punctuation: never a crash;
 * exactly one of a URL and an error; a result is never longer than the
 * input, still holds its scheme, and filters to itself. */
static void
test_filter_junk (void)
{
  static const char alphabet[] = "htps:/?&=#%[]@.-_*~ \t\r\nnsXAmzGogExpire1\x01\x7f\x80\xc3\xff";
  const char *const prefixes[] = { "", "http://h/", "https://h/p?", "a:" };

  for (guint round = 0; round < 5000; round++) {
    const char *prefix = prefixes[round % G_N_ELEMENTS (prefixes)];
    gsize       length = (gsize) g_test_rand_int_range (0, 120);
    g_autoptr (GString) url = g_string_new (prefix);
    g_autoptr (GError) error = NULL;
    g_autofree char *filtered = NULL;

    for (gsize i = 0; i < length; i++) {
      char c;

      if (round % 5 == 0)
        c = (char) g_test_rand_int_range (1, 256);
      else
        c = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
      g_string_append_c (url, c);
    }
    filtered = dfly_url_filter_query (url->str, default_keys, &error);
    g_assert_true ((filtered == NULL) != (error == NULL));
    if (error != NULL) {
      g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    } else {
      g_autofree char *again = filter_ok (filtered, default_keys);

      g_autofree char *stem = g_strndup (prefix, strcspn (prefix, "?"));

      g_assert_cmpuint (strlen (filtered), <=, url->len);
      g_assert_true (g_str_has_prefix (filtered, stem));
      g_assert_cmpstr (again, ==, filtered);
    }
  }
}

/* The documented rule, computed here independently. */
static char *
expected_id (const char *filtered_url, const char *tag, const char *application,
             guint64 piece_length)
{
  g_autoptr (GString) text = g_string_new (filtered_url);

  g_string_append (text, tag != NULL ? tag : "");
  g_string_append (text, application != NULL ? application : "");
  if (piece_length != 0)
    g_string_append_printf (text, "%" G_GUINT64_FORMAT, piece_length);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text->str, text->len);
}

static char *
id_ok (const char *url, const char *tag, const char *application, guint64 piece_length)
{
  g_autoptr (GError) error = NULL;
  char *id = dfly_task_id_new (url, tag, application, piece_length, default_keys, &error);

  g_assert_no_error (error);
  g_assert_true (dfly_task_id_is_valid (id));
  return id;
}

static void
test_task_id_known_answers (void)
{
  /* printf '%s' 'https://example.com/blobs/sha256/abc' | sha256sum */
  {
    g_autofree char *id = id_ok ("https://example.com/blobs/sha256/abc", NULL, NULL, 0);
    g_autofree char *empty = id_ok ("https://example.com/blobs/sha256/abc", "", "", 0);

    g_assert_cmpstr (id, ==, "d8bcdd471b9a340b96f9036484145c61492395f5ae7b5870bcf183ae19ac916e");
    g_assert_cmpstr (empty, ==, id);
  }
  /* printf '%s' 'https://bucket.s3.amazonaws.com/key.tar?versionId=3v1dfget4194304' | sha256sum */
  {
    g_autofree char *id = id_ok ("https://bucket.s3.amazonaws.com/key.tar?versionId=3"
                                 "&X-Amz-Signature=ab&X-Amz-Date=20250101T000000Z",
                                 "v1", "dfget", 4 * MiB);

    g_assert_cmpstr (id, ==, "2e864fd6cef60047ba8b2cf9ea02116e875775742fb5fc2f69a34665b265a099");
  }
  /* printf '%s' 'https://storage.googleapis.com/b/o.bin?alt=media#part2' | sha256sum */
  {
    g_autofree char *id = id_ok ("https://storage.googleapis.com/b/o.bin"
                                 "?X-Goog-Algorithm=GOOG4-RSA-SHA256&alt=media"
                                 "&X-Goog-Signature=ff#part2",
                                 NULL, NULL, 0);

    g_assert_cmpstr (id, ==, "999a7228462731f4b5891013bd8099202412d0d8d03e3e79c7568aba1367adac");
  }
}

static void
test_task_id_rule (void)
{
  const char *const urls[] = {
    "https://h.example/o",
    "https://h.example/o?a=1&ns=x&b=2#f",
    "http://[::1]:4001/v2/x",
    "https://h.example/\xe5\x8c\x97\xe4\xba\xac?x=%20",
  };
  const char *const tags[] = { NULL, "", "v1", "a tag with spaces" };
  const char *const apps[] = { NULL, "", "dfget", "\xe5\x8c\x97" };
  const guint64     lengths[] = { 0, 1, 4 * MiB, 16 * MiB, G_MAXUINT64 };

  for (guint u = 0; u < G_N_ELEMENTS (urls); u++) {
    g_autofree char *filtered = filter_ok (urls[u], default_keys);

    for (guint t = 0; t < G_N_ELEMENTS (tags); t++) {
      for (guint a = 0; a < G_N_ELEMENTS (apps); a++) {
        for (guint l = 0; l < G_N_ELEMENTS (lengths); l++) {
          g_autofree char *id = id_ok (urls[u], tags[t], apps[a], lengths[l]);
          g_autofree char *expected = expected_id (filtered, tags[t], apps[a], lengths[l]);

          g_assert_cmpstr (id, ==, expected);
        }
      }
    }
  }
}

static void
test_task_id_changes (void)
{
  const char       *url = "https://h.example/file.iso?v=2";
  g_autofree char  *base = id_ok (url, "t", "app", 0);
  g_autofree char  *again = id_ok (url, "t", "app", 0);
  g_autofree char  *other_tag = id_ok (url, "t2", "app", 0);
  g_autofree char  *no_tag = id_ok (url, NULL, "app", 0);
  g_autofree char  *other_app = id_ok (url, "t", "app2", 0);
  g_autofree char  *no_app = id_ok (url, "t", NULL, 0);
  g_autofree char  *pieces_4m = id_ok (url, "t", "app", 4 * MiB);
  g_autofree char  *pieces_8m = id_ok (url, "t", "app", 8 * MiB);
  g_autofree char  *other_url = id_ok ("https://h.example/file.iso?v=3", "t", "app", 0);
  g_autofree char  *other_order = id_ok ("https://h.example/file.iso?v=2&w=1", "t", "app", 0);
  g_autofree char  *swapped = id_ok ("https://h.example/file.iso?w=1&v=2", "t", "app", 0);
  const char *const all[] = { base,      other_tag, no_tag,    other_app,   no_app,
                              pieces_4m, pieces_8m, other_url, other_order, swapped };

  g_assert_cmpstr (base, ==, again);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++) {
    for (guint j = i + 1; j < G_N_ELEMENTS (all); j++)
      g_assert_cmpstr (all[i], !=, all[j]);
  }
}

static void
test_task_id_filtered_params (void)
{
  const char *plain = "https://bucket.s3.amazonaws.com/images/disk.qcow2";
  const char *presigned =
    "https://bucket.s3.amazonaws.com/images/disk.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20250101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=6b0e2f0c1f1e9a0b";
  const char *presigned_later =
    "https://bucket.s3.amazonaws.com/images/disk.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20250102%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20250102T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=ffff0000";
  g_autofree char *a = id_ok (plain, "", "", 0);
  g_autofree char *b = id_ok (presigned, "", "", 0);
  g_autofree char *c = id_ok (presigned_later, NULL, NULL, 0);
  g_autofree char *with_ns =
    id_ok ("https://bucket.s3.amazonaws.com/images/disk.qcow2?ns=x", "", "", 0);

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, c);
  g_assert_cmpstr (a, ==, with_ns);

  /* with no filter list, the signature is part of the id */
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *unfiltered = dfly_task_id_new (presigned, "", "", 0, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (unfiltered, !=, a);
  }
}

static void
test_task_id_is_valid (void)
{
  g_autofree char *made = id_ok ("https://example.com/blobs/sha256/abc", NULL, NULL, 0);
  g_autofree char *upper = g_ascii_strup (made, -1);
  g_autofree char *short_id = g_strndup (made, 63);
  g_autofree char *long_id = g_strconcat (made, "0", NULL);
  g_autofree char *non_hex = g_strdup (made);
  g_autofree char *dots = g_strdup (made);
  g_autofree char *with_nul = g_strdup (made);
  g_autofree char *zeros = g_strnfill (64, '0');
  g_autofree char *fs = g_strnfill (64, 'f');
  g_autofree char *gs = g_strnfill (64, 'g');

  g_assert_true (dfly_task_id_is_valid (made));
  g_assert_true (
    dfly_task_id_is_valid ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  g_assert_true (dfly_task_id_is_valid (zeros));
  g_assert_true (dfly_task_id_is_valid (fs));
  g_assert_false (dfly_task_id_is_valid (gs));
  g_assert_false (
    dfly_task_id_is_valid ("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  g_assert_cmpstr (upper, !=, made);
  g_assert_false (dfly_task_id_is_valid (upper));
  g_assert_false (dfly_task_id_is_valid (short_id));
  g_assert_false (dfly_task_id_is_valid (long_id));
  non_hex[10] = 'z';
  g_assert_false (dfly_task_id_is_valid (non_hex));
  memcpy (dots, "../..", 5);
  g_assert_false (dfly_task_id_is_valid (dots));
  dots[0] = '/';
  g_assert_false (dfly_task_id_is_valid (dots));
  with_nul[63] = '\0';
  g_assert_false (dfly_task_id_is_valid (with_nul));
  g_assert_false (dfly_task_id_is_valid ("../.."));
  g_assert_false (dfly_task_id_is_valid (""));
  g_assert_false (dfly_task_id_is_valid (NULL));
  g_assert_false (dfly_task_id_is_valid (
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  g_assert_false (
    dfly_task_id_is_valid (" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
  g_assert_false (
    dfly_task_id_is_valid ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\n"));
  g_assert_false (dfly_task_id_is_valid (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8\xc3\xa9"));
}

static void
test_piece_length (void)
{
  const struct {
    gint64  content_length;
    guint64 piece_length;
  } cases[] = {
    { 0, 4 * MiB },
    { 1, 4 * MiB },
    { -1, 4 * MiB },
    { G_MININT64, 4 * MiB },
    { 4 * MiB, 4 * MiB },
    { 1 * GiB, 4 * MiB },
    { 2000000000, 4 * MiB },        /* 2 GB / 500 = 4,000,000 bytes */
    { 500 * 4 * MiB, 4 * MiB },     /* exactly 500 pieces of 4 MiB */
    { 500 * 4 * MiB + 1, 8 * MiB }, /* one byte more: 8 MiB */
    { 2 * GiB, 8 * MiB },           /* 2 GiB / 500 is above 4 MiB */
    { 500 * 8 * MiB, 8 * MiB },
    { 500 * 8 * MiB + 1, 16 * MiB },
    { 500 * 16 * MiB, 16 * MiB },
    { 500 * 16 * MiB + 1, 16 * MiB }, /* clamped */
    { 100 * GiB, 16 * MiB },
    { G_MAXINT64, 16 * MiB },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("content length %" G_GINT64_FORMAT, cases[i].content_length);
    g_assert_cmpuint (dfly_piece_length_for (cases[i].content_length), ==, cases[i].piece_length);
  }
  g_assert_cmpuint (DFLY_PIECE_LENGTH_MIN, ==, 4 * MiB);
  g_assert_cmpuint (DFLY_PIECE_LENGTH_MAX, ==, 16 * MiB);

  /* Until the clamp, never more than 500 pieces; always a power of two. */
  for (gint64 length = 1; length <= (gint64) (600 * 16 * MiB); length += 7919 * 4099) {
    guint64 piece = dfly_piece_length_for (length);

    g_assert_cmpuint (piece & (piece - 1), ==, 0);
    g_assert_cmpuint (piece, >=, DFLY_PIECE_LENGTH_MIN);
    g_assert_cmpuint (piece, <=, DFLY_PIECE_LENGTH_MAX);
    if ((guint64) length <= 500 * DFLY_PIECE_LENGTH_MAX)
      g_assert_cmpuint (dfly_piece_count ((guint64) length, piece), <=, 500);
    /* and the smallest length that keeps to 500 */
    if (piece > DFLY_PIECE_LENGTH_MIN)
      g_assert_cmpuint (dfly_piece_count ((guint64) length, piece / 2), >, 500);
  }
}

static void
test_piece_count (void)
{
  g_assert_cmpuint (dfly_piece_count (0, 4 * MiB), ==, 0);
  g_assert_cmpuint (dfly_piece_count (1, 4 * MiB), ==, 1);
  g_assert_cmpuint (dfly_piece_count (4 * MiB - 1, 4 * MiB), ==, 1);
  g_assert_cmpuint (dfly_piece_count (4 * MiB, 4 * MiB), ==, 1);
  g_assert_cmpuint (dfly_piece_count (4 * MiB + 1, 4 * MiB), ==, 2);
  g_assert_cmpuint (dfly_piece_count (500 * 4 * MiB, 4 * MiB), ==, 500);
  g_assert_cmpuint (dfly_piece_count (500 * 4 * MiB + 1, 4 * MiB), ==, 501);
  g_assert_cmpuint (dfly_piece_count (2 * GiB, 8 * MiB), ==, 256);
  g_assert_cmpuint (dfly_piece_count (10, 1), ==, 10);
  g_assert_cmpuint (dfly_piece_count (10, 3), ==, 4);
  g_assert_cmpuint (dfly_piece_count (10, 100), ==, 1);
  /* no wrap-around near 2^64 */
  g_assert_cmpuint (dfly_piece_count (G_MAXUINT64, G_MAXUINT64), ==, 1);
  g_assert_cmpuint (dfly_piece_count (G_MAXUINT64 - 1, G_MAXUINT64), ==, 1);
  g_assert_cmpuint (dfly_piece_count (G_MAXUINT64, G_GUINT64_CONSTANT (1) << 63), ==, 2);
  /* largest count that fits, then saturation rather than truncation */
  g_assert_cmpuint (dfly_piece_count ((guint64) G_MAXUINT32 * 16 * MiB, 16 * MiB), ==, G_MAXUINT32);
  g_assert_cmpuint (dfly_piece_count ((guint64) (G_MAXUINT32 - 1) * 16 * MiB, 16 * MiB), ==,
                    G_MAXUINT32 - 1);
  g_assert_cmpuint (dfly_piece_count ((guint64) G_MAXUINT32 * 16 * MiB + 1, 16 * MiB), ==,
                    G_MAXUINT32);
  g_assert_cmpuint (dfly_piece_count (G_MAXINT64, 16 * MiB), ==, G_MAXUINT32);
  g_assert_cmpuint (dfly_piece_count (G_MAXUINT64, 1), ==, G_MAXUINT32);
  g_assert_cmpuint (dfly_piece_count (G_MAXINT64, dfly_piece_length_for (G_MAXINT64)), ==,
                    G_MAXUINT32);
}

/* Programming errors are g_return_val_if_fail criticals, not crashes. */
static void
test_preconditions (void)
{
  g_autoptr (GError) error = NULL;

  g_test_expect_message ("dfly", G_LOG_LEVEL_CRITICAL, "*url != NULL*");
  g_assert_null (dfly_url_filter_query (NULL, default_keys, &error));
  g_test_assert_expected_messages ();
  g_test_expect_message ("dfly", G_LOG_LEVEL_CRITICAL, "*url != NULL*");
  g_assert_null (dfly_task_id_new (NULL, "t", "a", 0, default_keys, &error));
  g_test_assert_expected_messages ();
  g_test_expect_message ("dfly", G_LOG_LEVEL_CRITICAL, "*piece_length > 0*");
  g_assert_cmpuint (dfly_piece_count (10, 0), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/task-id/filter/default-keys", test_filter_default_keys);
  g_test_add_func ("/task-id/filter/shape", test_filter_shape);
  g_test_add_func ("/task-id/filter/keys", test_filter_keys);
  g_test_add_func ("/task-id/filter/hostile", test_filter_hostile);
  g_test_add_func ("/task-id/filter/long", test_filter_long);
  g_test_add_func ("/task-id/filter/junk", test_filter_junk);
  g_test_add_func ("/task-id/id/known-answers", test_task_id_known_answers);
  g_test_add_func ("/task-id/id/rule", test_task_id_rule);
  g_test_add_func ("/task-id/id/changes", test_task_id_changes);
  g_test_add_func ("/task-id/id/filtered-params", test_task_id_filtered_params);
  g_test_add_func ("/task-id/id/is-valid", test_task_id_is_valid);
  g_test_add_func ("/task-id/piece/length", test_piece_length);
  g_test_add_func ("/task-id/piece/count", test_piece_count);
  g_test_add_func ("/task-id/preconditions", test_preconditions);

  return g_test_run ();
}
