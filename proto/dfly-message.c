/* dfly-message.c — message type registry and checked decoding */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly-message.h"
#include "proto/peer.pb-c.h"
#include "proto/scheduler.pb-c.h"

#define MAX_NESTING 16 /* our messages nest 4 deep; protobuf-c itself has no limit */

static const ProtobufCMessageDescriptor *const descriptors[DFLY_MESSAGE_LAST] = {
  [DFLY_MESSAGE_ANNOUNCE_PEER_REQUEST] = &dfly__v1__announce_peer_request__descriptor,
  [DFLY_MESSAGE_ANNOUNCE_PEER_RESPONSE] = &dfly__v1__announce_peer_response__descriptor,
  [DFLY_MESSAGE_ANNOUNCE_HOST_REQUEST] = &dfly__v1__announce_host_request__descriptor,
  [DFLY_MESSAGE_LEAVE_HOST_REQUEST] = &dfly__v1__leave_host_request__descriptor,
  [DFLY_MESSAGE_STAT_TASK_REQUEST] = &dfly__v1__stat_task_request__descriptor,
  [DFLY_MESSAGE_TASK] = &dfly__v1__task__descriptor,
  [DFLY_MESSAGE_SYNC_PIECES_REQUEST] = &dfly__v1__sync_pieces_request__descriptor,
  [DFLY_MESSAGE_SYNC_PIECES_RESPONSE] = &dfly__v1__sync_pieces_response__descriptor,
  [DFLY_MESSAGE_DOWNLOAD_PIECE_REQUEST] = &dfly__v1__download_piece_request__descriptor,
  [DFLY_MESSAGE_DOWNLOAD_PIECE_RESPONSE] = &dfly__v1__download_piece_response__descriptor,
  [DFLY_MESSAGE_DOWNLOAD_TASK_REQUEST] = &dfly__v1__download_task_request__descriptor,
};

const ProtobufCMessageDescriptor *
dfly_message_descriptor (guint32 type)
{
  return type < DFLY_MESSAGE_LAST ? descriptors[type] : NULL;
}

/* Where a field's values are inside a message, and how many there are:
 * one for a plain field (NULL for an unset message or oneof member). */
static const void *
field_values (const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field, gsize *count)
{
  const guint8 *base = (const guint8 *) message;

  if (field->label == PROTOBUF_C_LABEL_REPEATED) {
    *count = *(const size_t *) (base + field->quantifier_offset);
    return *(const void *const *) (base + field->offset);
  }
  if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    guint32 which = *(const guint32 *) (base + field->quantifier_offset);

    if (which != field->id) {
      *count = 0;
      return NULL;
    }
  }
  *count = 1;
  return base + field->offset;
}

/* What protobuf-c lets through: strings that are not UTF-8 (they end up in
 * logs, ids and D-Bus replies) and unknown fields numbered 0 (an overlong
 * tag; it would not survive being encoded again). Nested messages too. */
static gboolean
is_well_formed (const ProtobufCMessage *message, guint depth)
{
  const ProtobufCMessageDescriptor *descriptor = message->descriptor;

  if (depth > MAX_NESTING)
    return FALSE;
  for (guint i = 0; i < message->n_unknown_fields; i++) {
    if (message->unknown_fields[i].tag == 0)
      return FALSE;
  }
  for (guint i = 0; i < descriptor->n_fields; i++) {
    const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
    gsize                           count = 0;
    const void                     *values = field_values (message, field, &count);

    for (gsize j = 0; values != NULL && j < count; j++) {
      if (field->type == PROTOBUF_C_TYPE_STRING) {
        const char *text = ((const char *const *) values)[j];

        if (text != NULL && !g_utf8_validate (text, -1, NULL))
          return FALSE;
      } else if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *child = ((const ProtobufCMessage *const *) values)[j];

        if (child != NULL && !is_well_formed (child, depth + 1))
          return FALSE;
      }
    }
  }
  return TRUE;
}

ProtobufCMessage *
dfly_message_decode (guint32 type, const guint8 *data, gsize length, GError **error)
{
  const ProtobufCMessageDescriptor *descriptor = dfly_message_descriptor (type);
  ProtobufCMessage                 *message;

  if (descriptor == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL, "unknown message type %u", type);
    return NULL;
  }
  message = protobuf_c_message_unpack (descriptor, NULL, length, data);
  if (message == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "%s of %" G_GSIZE_FORMAT " bytes does not decode", descriptor->short_name, length);
    return NULL;
  }
  if (!is_well_formed (message, 0)) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "%s holds a string that is not UTF-8 or a field numbered 0",
                 descriptor->short_name);
    protobuf_c_message_free_unpacked (message, NULL);
    return NULL;
  }
  return message;
}
