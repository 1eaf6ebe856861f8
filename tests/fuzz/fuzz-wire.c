/* fuzz-wire.c — libFuzzer target: whole frames as they arrive in a POST
 * body or a WebSocket message (dfly_wire_unpack: framing, then the message) */
#include "config.h"

#include <stdint.h>

#include <dfly/dfly.h>

#include "proto/dfly-wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Whatever is accepted must pack into a frame that is accepted again, as
 * the same type. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = NULL;
  ProtobufCMessage *message, *again;
  guint32           type = 0, type_again = 0;

  message = dfly_wire_unpack (data, size, 64 * 1024, 0, &type, &error);
  if (message == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR);
    return 0;
  }
  frame = dfly_wire_pack (type, message);
  again = dfly_wire_unpack (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame), G_MAXSIZE,
                            type, &type_again, &error);
  g_assert (again != NULL && type_again == type);
  protobuf_c_message_free_unpacked (again, NULL);
  protobuf_c_message_free_unpacked (message, NULL);
  return 0;
}
