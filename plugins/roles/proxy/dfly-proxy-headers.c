/* dfly-proxy-headers.c — headers across the proxy (see the header) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dfly-proxy-headers.h"

/* Never forwarded, either way (RFC 9110 7.6.1, and framing). */
static const char *const hop_by_hop[] = {
  "Connection",
  "Keep-Alive",
  "Proxy-Connection",
  "Proxy-Authenticate",
  "Proxy-Authorization",
  "TE",
  "Trailer",
  "Transfer-Encoding",
  "Upgrade",
  "Content-Length",
  "Host",
  "Expect",
  NULL,
};

static gboolean
is_named_by_connection (SoupMessageHeaders *headers, const char *name)
{
  const char *connection = soup_message_headers_get_list (headers, "Connection");

  return connection != NULL && soup_header_contains (connection, name);
}

static gboolean
stays_here (SoupMessageHeaders *headers, const char *name)
{
  for (guint i = 0; hop_by_hop[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, hop_by_hop[i]) == 0)
      return TRUE;
  /* Every Proxy-* header is for this hop, as the header says, not only
   * the three named above. */
  return g_ascii_strncasecmp (name, "X-Dragonfly-", strlen ("X-Dragonfly-")) == 0 ||
         g_ascii_strncasecmp (name, "Proxy-", strlen ("Proxy-")) == 0 ||
         is_named_by_connection (headers, name);
}

/* A task is the same bytes for every requester: what would make the origin
 * send a part, another representation or nothing (304) stays out. */
static gboolean
shapes_the_answer (const char *name)
{
  return g_ascii_strcasecmp (name, "Range") == 0 || g_ascii_strcasecmp (name, "Accept") == 0 ||
         g_ascii_strncasecmp (name, "If-", 3) == 0;
}

GHashTable *
dfly_proxy_headers_for_upstream (SoupMessageHeaders *headers, gboolean for_swarm)
{
  GHashTable            *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  SoupMessageHeadersIter iter;
  const char            *name, *value;

  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value)) {
    if (stays_here (headers, name) || (for_swarm && shapes_the_answer (name)) ||
        g_ascii_strcasecmp (name, "Accept-Encoding") == 0)
      continue;
    /* get_list joins every value of a repeated header. */
    g_hash_table_replace (out, g_strdup (name),
                          g_strdup (soup_message_headers_get_list (headers, name)));
  }
  return out;
}

void
dfly_proxy_headers_copy_answer (SoupMessageHeaders *from, SoupMessageHeaders *to)
{
  SoupMessageHeadersIter iter;
  const char            *name, *value;

  soup_message_headers_iter_init (&iter, from);
  /* Our server writes its own Date and Server; two of each would confuse. */
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (!stays_here (from, name) && g_ascii_strcasecmp (name, "Date") != 0 &&
        g_ascii_strcasecmp (name, "Server") != 0)
      soup_message_headers_append (to, name, value);
}

/* ---- X-Dragonfly-* ---- */

void
dfly_proxy_ask_free (DflyProxyAsk *ask)
{
  if (ask == NULL)
    return;
  g_free (ask->tag);
  g_free (ask->application);
  g_free (ask->registry);
  g_strfreev (ask->filtered_query);
  g_free (ask);
}

static gboolean
parse_boolean (const char *name, const char *value, int *out, GError **error)
{
  if (g_ascii_strcasecmp (value, "true") == 0) {
    *out = 1;
    return TRUE;
  }
  if (g_ascii_strcasecmp (value, "false") == 0) {
    *out = 0;
    return TRUE;
  }
  g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT, "%s must be true or false", name);
  return FALSE;
}

static gboolean
parse_number (const char *name, const char *value, guint64 max, guint64 *out, GError **error)
{
  if (!g_ascii_string_to_unsigned (value, 10, 0, max, out, NULL)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "%s must be a whole number from 0 to %" G_GUINT64_FORMAT, name, max);
    return FALSE;
  }
  return TRUE;
}

/* Printable text of at most 255 bytes: it names a task. */
static gboolean
parse_text (const char *name, const char *value, char **out, GError **error)
{
  gboolean control = FALSE;

  for (const char *c = value; *c != '\0'; c++)
    control = control || g_ascii_iscntrl (*c);
  if (strlen (value) > 255 || control || !g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                 "%s must be UTF-8 text of at most 255 bytes, no control characters", name);
    return FALSE;
  }
  *out = g_strdup (value);
  return TRUE;
}

DflyProxyAsk *
dfly_proxy_ask_parse (SoupMessageHeaders *headers, GError **error)
{
  g_autoptr (DflyProxyAsk) ask = g_new0 (DflyProxyAsk, 1);
  const char *value;
  guint64     number;
  int         flag;

  ask->use_p2p = -1;
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Tag")) != NULL &&
      !parse_text ("X-Dragonfly-Tag", value, &ask->tag, error))
    return NULL;
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Application")) != NULL &&
      !parse_text ("X-Dragonfly-Application", value, &ask->application, error))
    return NULL;
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Registry")) != NULL &&
      !parse_text ("X-Dragonfly-Registry", value, &ask->registry, error))
    return NULL;
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Priority")) != NULL) {
    if (!parse_number ("X-Dragonfly-Priority", value, DFLY_DOWNLOAD_PRIORITY_MAX, &number, error))
      return NULL;
    ask->priority = (guint) number;
  }
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Piece-Length")) != NULL) {
    /* The peer checks it against download.min_piece_length. */
    if (!parse_number ("X-Dragonfly-Piece-Length", value, G_GUINT64_CONSTANT (1) << 30,
                       &ask->piece_length, error))
      return NULL;
  }
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Use-P2P")) != NULL &&
      !parse_boolean ("X-Dragonfly-Use-P2P", value, &ask->use_p2p, error))
    return NULL;
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Prefetch")) != NULL) {
    if (!parse_boolean ("X-Dragonfly-Prefetch", value, &flag, error))
      return NULL;
    ask->prefetch = flag;
  }
  if ((value = soup_message_headers_get_one (headers, "X-Dragonfly-Filtered-Query-Params")) !=
      NULL) {
    g_auto (GStrv) keys = g_strsplit (value, ",", 64);
    g_autoptr (GStrvBuilder) kept = g_strv_builder_new ();

    for (guint i = 0; keys[i] != NULL; i++) {
      char *key = g_strstrip (keys[i]);

      if (*key == '\0')
        continue;
      if (strlen (key) > 255 || strpbrk (key, "&=#? ") != NULL) {
        g_set_error (error, DFLY_ERROR, DFLY_ERROR_INVALID_ARGUMENT,
                     "X-Dragonfly-Filtered-Query-Params: \"%s\" is not a query key", key);
        return NULL;
      }
      g_strv_builder_add (kept, key);
    }
    ask->filtered_query = g_strv_builder_end (kept);
  }
  return g_steal_pointer (&ask);
}
