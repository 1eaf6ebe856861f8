/* fuzz-frame.c — libFuzzer target: protocol frames from hostile bytes */
#include "config.h"

#include <stdint.h>

#include <dfly/dfly.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Decodes frame after frame, as a connection's reader would, until the
 * input needs more bytes or is refused. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gsize offset = 0;

  while (offset < size) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) payload = NULL;
    gsize   consumed = 0;
    guint32 type = 0;

    if (!dfly_frame_decode (data + offset, size - offset, 64 * 1024, &consumed, &type, &payload,
                            &error)) {
      g_assert (error != NULL && error->domain == DFLY_ERROR);
      break;
    }
    if (consumed == 0)
      break;
    g_assert (consumed <= size - offset && payload != NULL);
    offset += consumed;
  }
  return 0;
}
