/* dfly-piece-fetcher.h — piece bytes from parents, over kept-alive connections
 *
 * The child's end of GET /v1/tasks/<task id> (dfly-piece-sender.h is the
 * parent's). A piece worker opens a range and reads its body as a stream;
 * once the body has been read whole, closing the stream gives the
 * connection back to a pool every worker shares, so a child connects to a
 * parent a few times per download rather than once per piece. Sockets are
 * blocking, a body is read with as few system calls as its size allows,
 * SO_RCVTIMEO (http.read_timeout) bounds a stall, and cancelling a read
 * shuts its socket down, which wakes it.
 */
#pragma once

#include <dfly/dfly.h>
#include <dfly/dfly-tls.h>

G_BEGIN_DECLS

typedef struct _DflyPieceFetcher DflyPieceFetcher;

/* timeout: seconds a connect or a read may wait for a byte. */
DflyPieceFetcher *dfly_piece_fetcher_new (guint timeout);
/* Parents with https URLs are reached over mutual TLS with tls. */
void              dfly_piece_fetcher_set_tls (DflyPieceFetcher *self, DflyTls *tls);
DflyPieceFetcher *dfly_piece_fetcher_ref (DflyPieceFetcher *self);
/* Open streams keep the fetcher alive; the idle connections close with
 * the last reference. */
void dfly_piece_fetcher_unref (DflyPieceFetcher *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceFetcher, dfly_piece_fetcher_unref)

/* Asks parent_url (http://HOST:PORT/v1/tasks/<task id>) for the bytes
 * [start, end] and returns its body: exactly end - start + 1 bytes. A parent
 * that answers otherwise is an error: 429 G_IO_ERROR_WOULD_BLOCK (a seed
 * sent the piece to someone else just now), 503 DFLY_ERROR_BUSY (no upload
 * slot), anything else G_IO_ERROR_FAILED with its status. */
GInputStream *dfly_piece_fetcher_open (DflyPieceFetcher *self, const char *parent_url,
                                       guint64 start, guint64 end, GCancellable *cancellable,
                                       GError **error);

G_END_DECLS
