/* dfly-proxy-cache.c — DflyProxyCache (see the header) */
#include "config.h"

#include "dfly-proxy-cache.h"

typedef struct {
  char             *key;
  DflyProxyCacheHit hit;
  gint64            expires; /* monotonic µs */
  GList             link;    /* in the LRU queue, most recent at the head */
} Entry;

struct _DflyProxyCache {
  guint64     capacity;
  guint64     size;
  GHashTable *entries; /* key → Entry * (owned) */
  GQueue      lru;
};

static void
entry_free (Entry *entry)
{
  g_free (entry->key);
  g_bytes_unref (entry->hit.bytes);
  g_free (entry->hit.task_id);
  g_free (entry);
}

DflyProxyCache *
dfly_proxy_cache_new (guint64 capacity)
{
  DflyProxyCache *cache = g_new0 (DflyProxyCache, 1);

  cache->capacity = capacity;
  cache->entries = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&cache->lru);
  return cache;
}

static void
drop (DflyProxyCache *cache, Entry *entry)
{
  g_queue_unlink (&cache->lru, &entry->link);
  g_hash_table_remove (cache->entries, entry->key);
  cache->size -= g_bytes_get_size (entry->hit.bytes);
  entry_free (entry);
}

void
dfly_proxy_cache_free (DflyProxyCache *cache)
{
  if (cache == NULL)
    return;
  while (cache->lru.tail != NULL)
    drop (cache, cache->lru.tail->data);
  g_hash_table_unref (cache->entries);
  g_free (cache);
}

char *
dfly_proxy_cache_key (const char *url, const char *tag, const char *application,
                      guint64 piece_length, guint64 offset, guint64 length)
{
  /* \001 separates the parts: none holds a control character. */
  return g_strdup_printf ("%s%c%s%c%s%c%" G_GUINT64_FORMAT "%c%" G_GUINT64_FORMAT
                          "%c%" G_GUINT64_FORMAT,
                          url, 1, tag != NULL ? tag : "", 1, application != NULL ? application : "",
                          1, piece_length, 1, offset, 1, length);
}

gboolean
dfly_proxy_cache_lookup (DflyProxyCache *cache, const char *key, DflyProxyCacheHit *hit)
{
  Entry *entry = g_hash_table_lookup (cache->entries, key);

  if (entry == NULL)
    return FALSE;
  if (g_get_monotonic_time () >= entry->expires) {
    drop (cache, entry);
    return FALSE;
  }
  g_queue_unlink (&cache->lru, &entry->link);
  g_queue_push_head_link (&cache->lru, &entry->link);
  *hit = entry->hit;
  return TRUE;
}

void
dfly_proxy_cache_insert (DflyProxyCache *cache, const char *key, GBytes *bytes,
                         guint64 content_length, const char *task_id)
{
  gsize  size = g_bytes_get_size (bytes);
  Entry *entry;

  if (size > DFLY_PROXY_CACHE_MAX_ENTRY || size > cache->capacity)
    return;
  entry = g_hash_table_lookup (cache->entries, key);
  if (entry != NULL)
    drop (cache, entry);
  while (cache->size + size > cache->capacity && cache->lru.tail != NULL)
    drop (cache, cache->lru.tail->data);
  entry = g_new0 (Entry, 1);
  entry->key = g_strdup (key);
  entry->hit.bytes = g_bytes_ref (bytes);
  entry->hit.content_length = content_length;
  entry->hit.task_id = g_strdup (task_id);
  entry->expires = g_get_monotonic_time () + (gint64) DFLY_PROXY_CACHE_TTL * G_USEC_PER_SEC;
  entry->link.data = entry;
  g_queue_push_head_link (&cache->lru, &entry->link);
  g_hash_table_insert (cache->entries, entry->key, entry);
  cache->size += size;
}

guint64
dfly_proxy_cache_get_size (DflyProxyCache *cache)
{
  return cache->size;
}
