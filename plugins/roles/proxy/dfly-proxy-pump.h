/* dfly-proxy-pump.h — a stream copied into an HTTP answer, one chunk at a time
 *
 * The answer's status and headers are set; the pump reads input
 * asynchronously in 256 KiB chunks and appends each to msg's body once the
 * previous one is written (never more than one chunk in memory, whatever
 * the size or the client's speed). At the end of input the body is
 * complete. A read error after bytes went out cannot change the status:
 * the connection is shut so the client sees a short body. A client that
 * goes away stops the pump (cancelling its read) and closes input, nothing
 * more: whatever feeds input (a task others wait on) goes on.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define DFLY_PROXY_PUMP_CHUNK (256 * 1024)

/* first (may be NULL) goes out before input's bytes. msg must be paused
 * by the caller (or in its handler); the pump unpauses it. done (may be
 * NULL) is called once, when the body is complete or the pump stopped,
 * with the bytes sent and the error that stopped it (NULL: complete). */
typedef void (*DflyProxyPumpDone) (guint64 sent, const GError *error, gpointer user_data);

void dfly_proxy_pump_start (SoupServerMessage *msg, GInputStream *input, GBytes *first,
                            DflyProxyPumpDone done, gpointer user_data);

/* Shuts msg's connection (its answer cannot be finished). */
void dfly_proxy_abort (SoupServerMessage *msg);

G_END_DECLS
