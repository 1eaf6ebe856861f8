/* dfly-proxy-cache.h — recent small range reads, kept in memory
 *
 * Lazy image pulls (Nydus, model loaders) read the same small ranges of a
 * blob again and again. A range of at most DFLY_PROXY_CACHE_MAX_ENTRY bytes
 * read through the swarm is kept here, keyed by what names the task and the
 * range, and the next request for it is answered from memory without
 * opening a reader. At most capacity bytes in all, the least recently used
 * dropped first; an entry lives DFLY_PROXY_CACHE_TTL seconds at most (a
 * task evicted from storage and fetched anew could hold other bytes). Main
 * thread only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DFLY_PROXY_CACHE_MAX_ENTRY (1024 * 1024)
#define DFLY_PROXY_CACHE_TTL       300

typedef struct _DflyProxyCache DflyProxyCache;

typedef struct {
  GBytes *bytes;
  guint64 content_length;
  char   *task_id;
} DflyProxyCacheHit;

DflyProxyCache *dfly_proxy_cache_new (guint64 capacity);
void            dfly_proxy_cache_free (DflyProxyCache *cache);
/* The key of a range of a task's content. */
char *dfly_proxy_cache_key (const char *url, const char *tag, const char *application,
                            guint64 piece_length, guint64 offset, guint64 length);
/* TRUE and *hit filled (its members borrowed until the next call) when
 * key is held and fresh. */
gboolean dfly_proxy_cache_lookup (DflyProxyCache *cache, const char *key, DflyProxyCacheHit *hit);
/* Keeps bytes under key (nothing when they are too large or the cache has
 * no capacity). */
void    dfly_proxy_cache_insert (DflyProxyCache *cache, const char *key, GBytes *bytes,
                                 guint64 content_length, const char *task_id);
guint64 dfly_proxy_cache_get_size (DflyProxyCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyProxyCache, dfly_proxy_cache_free)

G_END_DECLS
