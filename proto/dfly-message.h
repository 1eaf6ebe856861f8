/* dfly-message.h — the protocol's message types and their checked decoding
 *
 * Part of libdfly-proto, the protocol library the in-tree roles, tests and
 * fuzz targets link statically: the generated protobuf-c types are not part
 * of the installed plugin API (see proto/README.md).
 */
#pragma once

#include <glib.h>
#include <protobuf-c/protobuf-c.h>

G_BEGIN_DECLS

/* Envelope.type values; keep proto/README.md's registry in step. */
typedef enum {
  DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST = 1,
  DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE,
  DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST,
  DFLY_MESSAGE_LEAVE_HOST_REQUEST,
  DFLY_MESSAGE_STAT_TASK_REQUEST,
  DFLY_MESSAGE_TASK,
  DFLY_MESSAGE_SYNC_PIECES_REQUEST,
  DFLY_MESSAGE_SYNC_PIECES_RESPONSE,
  DFLY_MESSAGE_DOWNLOAD_PIECE_REQUEST,
  DFLY_MESSAGE_DOWNLOAD_PIECE_RESPONSE,
  DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST,
  DFLY_MESSAGE_LAST
} DflyMessageType;

/* The descriptor of a type, or NULL for one this peer does not know. */
const ProtobufCMessageDescriptor *dfly_message_descriptor (guint32 type);

/* Decodes a payload of the given type; NULL with DFLY_ERROR_PROTOCOL for an
 * unknown type, bytes that do not decode, or a string that is not UTF-8.
 * Free the result with protobuf_c_message_free_unpacked (message, NULL). */
ProtobufCMessage *dfly_message_decode (guint32 type, const guint8 *data, gsize length,
                                       GError **error);

G_END_DECLS
