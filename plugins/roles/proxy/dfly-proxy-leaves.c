/* dfly-proxy-leaves.c — leaf certificates for intercepted hosts (see the header) */
#include "config.h"

#include <string.h>

#include "dfly/dfly.h"
#include "dfly/dfly-cert.h"
#include "dfly-proxy-leaves.h"

/* A leaf with less than this left is made anew. */
#define RENEW_BEFORE_END (G_TIME_SPAN_DAY)

typedef struct {
  GTlsCertificate *certificate;
  gint64           renew_at; /* real time, µs */
  guint64          used;     /* the leaves' clock at its last use */
} Leaf;

struct _DflyProxyLeaves {
  char       *ca_cert_pem;
  char       *ca_key_pem;
  GHashTable *leaves; /* host → Leaf * */
  guint       max;
  guint64     clock; /* one tick per use */
};

static void
leaf_free (Leaf *leaf)
{
  g_clear_object (&leaf->certificate);
  g_free (leaf);
}

/* A new leaf for host, NULL with an error. */
static Leaf *
leaf_new (DflyProxyLeaves *leaves, const char *host, GError **error)
{
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GDateTime) not_after = NULL;
  Leaf *leaf;

  if (!dfly_cert_issue_leaf (leaves->ca_cert_pem, leaves->ca_key_pem, host, DFLY_PROXY_LEAF_DAYS,
                             &cert_pem, &key_pem, error))
    return NULL;
  both = g_strconcat (cert_pem, key_pem, NULL);
  memset (key_pem, 0, strlen (key_pem));
  certificate = g_tls_certificate_new_from_pem (both, -1, error);
  memset (both, 0, strlen (both));
  if (certificate == NULL)
    return NULL;
  g_object_get (certificate, "not-valid-after", &not_after, NULL);
  leaf = g_new0 (Leaf, 1);
  leaf->certificate = g_steal_pointer (&certificate);
  /* A CA near its end makes leaves that end with it: renewed at most
   * hourly then. */
  leaf->renew_at = not_after != NULL
                     ? MAX (g_date_time_to_unix (not_after) * G_USEC_PER_SEC - RENEW_BEFORE_END,
                            g_get_real_time () + G_TIME_SPAN_HOUR)
                     : g_get_real_time () + G_TIME_SPAN_HOUR;
  return leaf;
}

/* Drops the least recently used leaf. */
static void
drop_oldest (DflyProxyLeaves *leaves)
{
  GHashTableIter iter;
  gpointer       host, value;
  const char    *oldest = NULL;
  guint64        oldest_used = G_MAXUINT64;

  g_hash_table_iter_init (&iter, leaves->leaves);
  while (g_hash_table_iter_next (&iter, &host, &value)) {
    Leaf *leaf = value;

    if (leaf->used < oldest_used) {
      oldest_used = leaf->used;
      oldest = host;
    }
  }
  if (oldest != NULL)
    g_hash_table_remove (leaves->leaves, oldest);
}

DflyProxyLeaves *
dfly_proxy_leaves_new (const char *ca_cert_path, const char *ca_key_path, guint max, GError **error)
{
  g_autoptr (DflyProxyLeaves) leaves = g_new0 (DflyProxyLeaves, 1);
  g_autoptr (GError) local_error = NULL;
  Leaf *probe;

  leaves->max = MAX (max, 1);
  leaves->leaves =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) leaf_free);
  if (!g_file_get_contents (ca_cert_path, &leaves->ca_cert_pem, NULL, &local_error) ||
      !g_file_get_contents (ca_key_path, &leaves->ca_key_pem, NULL, &local_error)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG, "proxy.ca_cert/ca_key: %s",
                 local_error->message);
    return NULL;
  }
  probe = leaf_new (leaves, "dfly-proxy.invalid", &local_error);
  if (probe == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                 "proxy.ca_cert/ca_key cannot sign: %s", local_error->message);
    return NULL;
  }
  leaf_free (probe);
  return g_steal_pointer (&leaves);
}

void
dfly_proxy_leaves_free (DflyProxyLeaves *leaves)
{
  if (leaves == NULL)
    return;
  g_clear_pointer (&leaves->leaves, g_hash_table_unref);
  g_free (leaves->ca_cert_pem);
  if (leaves->ca_key_pem != NULL)
    memset (leaves->ca_key_pem, 0, strlen (leaves->ca_key_pem));
  g_free (leaves->ca_key_pem);
  g_free (leaves);
}

GTlsCertificate *
dfly_proxy_leaves_get (DflyProxyLeaves *leaves, const char *host, GError **error)
{
  Leaf *leaf = g_hash_table_lookup (leaves->leaves, host);

  if (leaf == NULL || g_get_real_time () >= leaf->renew_at) {
    Leaf *fresh = leaf_new (leaves, host, error);

    if (fresh == NULL)
      return NULL;
    if (leaf == NULL && g_hash_table_size (leaves->leaves) >= leaves->max)
      drop_oldest (leaves);
    g_hash_table_replace (leaves->leaves, g_strdup (host), fresh);
    g_debug ("proxy: made a certificate for %s (%u kept)", host,
             g_hash_table_size (leaves->leaves));
    leaf = fresh;
  }
  leaf->used = ++leaves->clock;
  return leaf->certificate;
}

guint
dfly_proxy_leaves_count (DflyProxyLeaves *leaves)
{
  return g_hash_table_size (leaves->leaves);
}
