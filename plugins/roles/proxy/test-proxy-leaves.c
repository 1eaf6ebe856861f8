/* test-proxy-leaves.c — the interception CA's leaves: made once per host, kept
 * within their bound (least recently used dropped first), and a CA that
 * cannot sign refused at the start */
#include "config.h"

#include <glib/gstdio.h>

#include "dfly/dfly.h"
#include "dfly/dfly-cert.h"
#include "dfly-proxy-leaves.h"

typedef struct {
  char *dir;
  char *ca_cert; /* paths */
  char *ca_key;
  char *host_cert;
  char *host_key;
} Fixture;

static char *
write_pem (const char *dir, const char *name, const char *pem)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, pem, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *ca_pem = NULL;
  g_autofree char *ca_key_pem = NULL;
  g_autofree char *host_pem = NULL;
  g_autofree char *host_key_pem = NULL;
  const char      *ips[] = { "127.0.0.1", NULL };
  DflyCertRequest  request = { "host", DFLY_ROLE_FLAG_PEER, ips, NULL, 1 };
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("dfly-leaves-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (dfly_cert_make_ca ("dfly interception CA", 30, &ca_pem, &ca_key_pem, &error));
  g_assert_true (dfly_cert_issue (ca_pem, ca_key_pem, &request, &host_pem, &host_key_pem, &error));
  g_assert_no_error (error);
  f->ca_cert = write_pem (f->dir, "ca.pem", ca_pem);
  f->ca_key = write_pem (f->dir, "ca-key.pem", ca_key_pem);
  f->host_cert = write_pem (f->dir, "host.pem", host_pem);
  f->host_key = write_pem (f->dir, "host-key.pem", host_key_pem);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  const char *paths[] = { f->ca_cert, f->ca_key, f->host_cert, f->host_key };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_unlink (paths[i]);
    g_free ((char *) paths[i]);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* The DNS name or address a leaf names. */
static char *
name_of (GTlsCertificate *certificate)
{
  g_autofree char *pem = NULL;
  g_autoptr (DflyCertInfo) info = NULL;

  g_object_get (certificate, "certificate-pem", &pem, NULL);
  info = dfly_cert_info_from_pem (pem, strlen (pem), NULL);
  g_assert_nonnull (info);
  if (info->dns_names != NULL && info->dns_names[0] != NULL)
    return g_strdup (info->dns_names[0]);
  g_assert_nonnull (info->ips);
  return g_strdup (info->ips[0]);
}

/* One leaf per host, the same one again until it is dropped; with room for
 * three, a fourth host drops the least recently used. */
static void
test_cache (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyProxyLeaves) leaves = dfly_proxy_leaves_new (f->ca_cert, f->ca_key, 3, &error);
  GTlsCertificate *a, *b, *c, *ip;
  g_autofree char *a_name = NULL;
  g_autofree char *ip_name = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (leaves);
  g_assert_cmpuint (dfly_proxy_leaves_count (leaves), ==, 0);
  a = g_object_ref (dfly_proxy_leaves_get (leaves, "a.example", &error));
  b = g_object_ref (dfly_proxy_leaves_get (leaves, "b.example", &error));
  c = g_object_ref (dfly_proxy_leaves_get (leaves, "c.example", &error));
  g_assert_no_error (error);
  a_name = name_of (a);
  g_assert_cmpstr (a_name, ==, "a.example");
  g_assert_cmpuint (dfly_proxy_leaves_count (leaves), ==, 3);
  g_assert_true (dfly_proxy_leaves_get (leaves, "a.example", NULL) == a);

  /* b is now the least recently used. */
  ip = dfly_proxy_leaves_get (leaves, "192.0.2.1", &error);
  g_assert_no_error (error);
  ip_name = name_of (ip);
  g_assert_cmpstr (ip_name, ==, "192.0.2.1");
  g_assert_cmpuint (dfly_proxy_leaves_count (leaves), ==, 3);
  g_assert_true (dfly_proxy_leaves_get (leaves, "a.example", NULL) == a);
  g_assert_true (dfly_proxy_leaves_get (leaves, "c.example", NULL) == c);
  g_assert_true (dfly_proxy_leaves_get (leaves, "b.example", NULL) != b);
  g_assert_cmpuint (dfly_proxy_leaves_count (leaves), ==, 3);

  /* A host no certificate can name. */
  g_assert_null (dfly_proxy_leaves_get (leaves, "bad host", &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (dfly_proxy_leaves_count (leaves), ==, 3);
  g_object_unref (a);
  g_object_unref (b);
  g_object_unref (c);
}

/* A CA that cannot sign, or files that are not there, fail at once. */
static void
test_refuses (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing.pem", NULL);
  const char      *pairs[][2] = {
         { f->host_cert, f->host_key }, /* not a CA */
         { f->ca_cert, f->host_key },   /* not its key */
         { missing, f->ca_key },
         { f->ca_cert, missing },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (DflyProxyLeaves) leaves =
      dfly_proxy_leaves_new (pairs[i][0], pairs[i][1], 8, &error);

    g_assert_null (leaves);
    g_assert_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG);
    g_test_message ("%s", error->message);
    g_assert_true (g_str_has_prefix (error->message, "proxy.ca_cert/ca_key"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proxy-leaves/cache", Fixture, NULL, fixture_setup, test_cache, fixture_teardown);
  g_test_add ("/proxy-leaves/refuses", Fixture, NULL, fixture_setup, test_refuses,
              fixture_teardown);
  return g_test_run ();
}
