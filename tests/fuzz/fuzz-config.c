/* fuzz-config.c — libFuzzer target: dflyd.yaml parsing and diffing */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "dfly/dfly-config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DflyConfig) config = NULL;

  config = dfly_config_load_data ((const char *) data, size, "fuzz.yaml", &error);
  /* Exactly one of the two, always. */
  g_assert ((config == NULL) != (error == NULL));
  if (config != NULL) {
    g_autoptr (DflyConfig) defaults = dfly_config_new_default ();
    g_autoptr (GPtrArray) diff = dfly_config_diff (defaults, config);

    g_assert (diff != NULL);
  } else {
    g_assert (error->message[0] != '\0');
  }
  return 0;
}
