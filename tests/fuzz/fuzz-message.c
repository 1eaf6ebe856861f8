/* fuzz-message.c — libFuzzer target: protocol messages from hostile bytes */
#include "config.h"

#include <stdint.h>

#include <dfly/dfly.h>

#include "proto/dfly-message.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The first byte picks the message type (0 and unknown ones included), the
 * rest is its payload. What decodes must encode and decode again. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *packed = NULL;
  ProtobufCMessage  *message, *again;
  gsize              length;

  if (size == 0)
    return 0;
  message = dfly_message_decode (data[0] % 16, data + 1, size - 1, &error);
  if (message == NULL) {
    g_assert (error != NULL && error->domain == DFLY_ERROR);
    return 0;
  }
  length = protobuf_c_message_get_packed_size (message);
  packed = g_malloc (MAX (length, 1));
  g_assert (protobuf_c_message_pack (message, packed) == length);
  again = dfly_message_decode (data[0] % 16, packed, length, &error);
  g_assert (again != NULL);
  protobuf_c_message_free_unpacked (again, NULL);
  protobuf_c_message_free_unpacked (message, NULL);
  return 0;
}
