/* dfly-frame.c — length-prefixed, versioned protocol frames */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly/dfly-frame.h"
#include "proto/envelope.pb-c.h"

GBytes *
dfly_frame_encode (guint32 type, const guint8 *payload, gsize payload_length)
{
  Dfly__V1__Envelope envelope = DFLY__V1__ENVELOPE__INIT;
  gsize              body;
  guint8            *frame;

  envelope.version_major = DFLY_PROTOCOL_VERSION_MAJOR;
  envelope.version_minor = DFLY_PROTOCOL_VERSION_MINOR;
  envelope.type = type;
  envelope.payload.data = (guint8 *) payload;
  envelope.payload.len = payload_length;
  body = dfly__v1__envelope__get_packed_size (&envelope);
  g_return_val_if_fail (body <= G_MAXUINT32, NULL);
  frame = g_malloc (DFLY_FRAME_HEADER_SIZE + body);
  frame[0] = (body >> 24) & 0xff;
  frame[1] = (body >> 16) & 0xff;
  frame[2] = (body >> 8) & 0xff;
  frame[3] = body & 0xff;
  dfly__v1__envelope__pack (&envelope, frame + DFLY_FRAME_HEADER_SIZE);
  return g_bytes_new_take (frame, DFLY_FRAME_HEADER_SIZE + body);
}

gboolean
dfly_frame_decode (const guint8 *data, gsize length, gsize max_size, gsize *consumed, guint32 *type,
                   GBytes **payload, GError **error)
{
  Dfly__V1__Envelope *envelope;
  guint32             body;

  *consumed = 0;
  if (length < DFLY_FRAME_HEADER_SIZE)
    return TRUE;
  body = ((guint32) data[0] << 24) | ((guint32) data[1] << 16) | ((guint32) data[2] << 8) |
         (guint32) data[3];
  /* Refuse on the announced size, before waiting for or allocating it. */
  if (body > max_size) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "frame of %u bytes exceeds the limit of %" G_GSIZE_FORMAT " bytes", body,
                 max_size);
    return FALSE;
  }
  if (length - DFLY_FRAME_HEADER_SIZE < body)
    return TRUE;
  envelope = dfly__v1__envelope__unpack (NULL, body, data + DFLY_FRAME_HEADER_SIZE);
  if (envelope == NULL) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "frame of %u bytes is not a valid envelope", body);
    return FALSE;
  }
  if (envelope->version_major != DFLY_PROTOCOL_VERSION_MAJOR) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL,
                 "protocol version %u.%u is not supported (this peer speaks %u.x)",
                 envelope->version_major, envelope->version_minor, DFLY_PROTOCOL_VERSION_MAJOR);
    dfly__v1__envelope__free_unpacked (envelope, NULL);
    return FALSE;
  }
  *type = envelope->type;
  *payload = g_bytes_new (envelope->payload.data, envelope->payload.len);
  *consumed = DFLY_FRAME_HEADER_SIZE + body;
  dfly__v1__envelope__free_unpacked (envelope, NULL);
  return TRUE;
}
