/* dfly-oci-settings.c — the oci source's keys */
#include "config.h"

#include <stddef.h>

#include "dfly-oci-settings.h"

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (KiB * 1024)

static const DflyConfigKey keys[] = {
  { "insecure_registries", DFLY_CONFIG_STRINGS, offsetof (DflyOciSettings, insecure_registries),
    "[]", 0, 32, DFLY_CONFIG_LIVE, "registries reached over plain http" },
  { "auth_file", DFLY_CONFIG_PATH, offsetof (DflyOciSettings, auth_file), "\"\"", 0, 4095,
    DFLY_CONFIG_LIVE, "a docker config.json with credentials" },
  { "max_manifest_size", DFLY_CONFIG_SIZE, offsetof (DflyOciSettings, max_manifest_size), "4MiB",
    1 * KiB, 64 * MiB, DFLY_CONFIG_LIVE, "larger manifests are refused" },
};

const DflyConfigSection dfly_oci_settings = {
  .size = sizeof (DflyOciSettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
};
