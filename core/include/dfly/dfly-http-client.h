/* dfly-http-client.h — the one HTTP client of dfly: sources, the proxy and the manager send here
 *
 * One DflyHttpClient per daemon (dfly_context_get_http_client) holds a
 * SoupSession built from the config keys it depends on (http.read_timeout,
 * http.ca_file, http.insecure_hosts and the connection cap) and rebuilt on
 * the next request when a reload changes one of them; requests in flight
 * keep the old one. What it does for every request:
 *
 * - trust: the system CAs, then http.ca_file, and any certificate of a host
 *   in http.insecure_hosts; an https request while http.ca_file cannot be
 *   read fails with DFLY_ERROR_INVALID_CONFIG;
 * - timeouts: http.connect_timeout while a socket connects, then
 *   http.read_timeout for each read;
 * - retries: after a 5xx answer (but 501) or a connection failure, up to
 *   http.retries more attempts after a backoff that starts at
 *   http.retry_backoff_ms and doubles (at most 60 s); 4xx is final;
 * - redirects: followed here, at most DFLY_HTTP_MAX_REDIRECTS, to http and
 *   https only; once the chain leaves the first origin, no credential header
 *   (dfly_http_is_credential_header) is sent;
 * - source.allow / source.deny: every URL's host (each redirect's too) and
 *   the address of each new connection; a refusal is
 *   DFLY_ERROR_SOURCE_DENIED, never retried;
 * - errors: DFLY_ERROR_CANCELLED, DFLY_ERROR_TIMEOUT, DFLY_ERROR_SOURCE
 *   (anything else on the way), each naming the URL;
 * - bodies: a DflyHttpBody, which counts bytes and fails when the body ends
 *   short of what it owes.
 *
 * dfly_http_client_send() blocks and may be called from any thread
 * (libsoup 3.2's sync API is thread-safe). Everything it decides (the
 * session, each message, whether to retry or follow) is done by functions
 * an async variant would share.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "dfly-context.h"
#include "dfly-error.h"
#include "dfly-http-body.h"

G_BEGIN_DECLS

/* Redirects followed per attempt (as many as curl's and Go's default). */
#define DFLY_HTTP_MAX_REDIRECTS 10

#define DFLY_TYPE_HTTP_CLIENT (dfly_http_client_get_type ())
G_DECLARE_FINAL_TYPE (DflyHttpClient, dfly_http_client, DFLY, HTTP_CLIENT, GObject)

typedef enum {
  DFLY_HTTP_REQUEST_NONE = 0,
  DFLY_HTTP_REQUEST_NO_REDIRECT = 1 << 0, /* a 3xx is the answer (S3 never redirects) */
} DflyHttpRequestFlags;

/* Called on every message sent for a request (each attempt, each redirect)
 * after the client set its headers, e.g. to sign it. cross_origin: the
 * message leaves the first origin, so it must carry no credentials. */
typedef gboolean (*DflyHttpPrepareFunc) (SoupMessage *msg, gboolean cross_origin,
                                         gpointer user_data, GError **error);

typedef struct {
  const char          *method;
  GUri                *uri;
  const char          *url;     /* named in errors; NULL: uri without its password */
  GHashTable          *headers; /* name → value, or NULL; Authorization and Cookie
                                   * go to the first origin only */
  const char          *range;   /* a Range header value, or NULL */
  DflyHttpRequestFlags flags;
  DflyHttpPrepareFunc  prepare; /* or NULL */
  gpointer             prepare_data;
  GBytes              *body; /* sent with the headers' Content-Type, or NULL */
  gpointer             reserved[3];
} DflyHttpRequest;

/* A client reading its keys from context, which must outlive it. */
DflyHttpClient *dfly_http_client_new (DflyContext *context);

/* Sends request and returns the answer's body whatever its status (after
 * the retries 5xx answers get): the caller reads the status and headers
 * from dfly_http_body_get_message(). NULL with a DFLY_ERROR when no answer
 * came. */
DflyHttpBody *dfly_http_client_send (DflyHttpClient *self, const DflyHttpRequest *request,
                                     GCancellable *cancellable, GError **error);

/* For a caller that connects by itself (the proxy's CONNECT tunnels): the
 * checks source.allow / source.deny make of a request, on host (a name or
 * an address literal) before connecting, and with address (NULL: not yet
 * known) on the address a connection goes to; link-local and cloud
 * metadata addresses are always denied. FALSE with
 * DFLY_ERROR_SOURCE_DENIED when the destination may not be reached. */
gboolean dfly_http_client_check_destination (DflyHttpClient *self, const char *host,
                                             GInetAddress *address, GError **error);
/* Whether host (a name or an address literal) matches one of origins, a
 * list of a DFLY_CONFIG_ORIGINS key (host names, *.suffix patterns,
 * addresses, CIDRs), matched as source.allow matches: names without case
 * or a final dot, addresses IPv4-mapped or not. */
gboolean dfly_http_host_matches (const char *const *origins, const char *host);

/* Connection failures worth another attempt (refused, reset, timed out…). */
gboolean dfly_http_error_is_retryable (const GError *error);
/* 5xx but 501 (not implemented: asking again will not help). */
gboolean dfly_http_status_is_retryable (guint status);
/* The code a registry-like origin's status maps to: 404 and 410 NOT_FOUND,
 * 401 and 403 ACCESS_DENIED, else SOURCE. */
DflyError dfly_http_status_to_error (guint status);
/* "HTTP 404 Not Found<detail>: URL" with code. */
GError *dfly_http_status_error_new (DflyError code, SoupMessage *msg, const char *detail,
                                    const char *url);

/* Checks caller headers: names are tokens, values hold no control
 * characters, and none is a framing header or one of reserved (NULL or
 * NULL-terminated), which the caller (who: "the s3 source") sets itself. */
gboolean dfly_http_check_headers (GHashTable *headers, const char *const *reserved, const char *who,
                                  GError **error);
/* A field value: no control characters but tab (so no CR, LF or NUL). */
gboolean dfly_http_is_field_value (const char *text);

/* A header that carries a credential: Authorization, Cookie,
 * Proxy-Authorization, and X-Dfly-S3-* (the s3 source's keys). Such a
 * header never leaves the host that was given it (not to a scheduler, not
 * to a seed) and is not sent past the first origin of a redirect chain. */
gboolean dfly_http_is_credential_header (const char *name);

/* url as it may be shown or logged anywhere: without user info, query
 * (where signed URLs keep their signatures and tokens) or fragment; a
 * string that is not a URL comes back as "(not a URL)". */
char *dfly_http_public_url (const char *url);

/* The Range header for length bytes from offset (length -1: to the end);
 * *range NULL when that is the whole body. FALSE with
 * DFLY_ERROR_INVALID_ARGUMENT when the range overflows. */
gboolean dfly_http_format_range (guint64 offset, gint64 length, char **range, GError **error);

G_END_DECLS
