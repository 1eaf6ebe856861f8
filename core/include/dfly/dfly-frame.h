/* dfly-frame.h — how every protocol message is framed on the wire
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of a
 * protobuf-encoded dfly.v1.Envelope (proto/envelope.proto). Size limits and
 * version checks happen here, once, before any payload is decoded.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DFLY_PROTOCOL_VERSION_MAJOR 1
#define DFLY_PROTOCOL_VERSION_MINOR 0
#define DFLY_FRAME_HEADER_SIZE      4

/* Encodes one message of the given type into a frame. */
GBytes *dfly_frame_encode (guint32 type, const guint8 *payload, gsize payload_length);

/* Decodes the frame at the start of data. Returns FALSE with error set on a
 * malformed, oversized (> max_size) or wrong-major frame: the connection
 * must be dropped. Returns TRUE with *consumed = 0 when more bytes are
 * needed, else *consumed = bytes used and *type / *payload filled. */
gboolean dfly_frame_decode (const guint8 *data, gsize length, gsize max_size, gsize *consumed,
                            guint32 *type, GBytes **payload, GError **error);

G_END_DECLS
