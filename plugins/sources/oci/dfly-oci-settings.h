/* dfly-oci-settings.h — the oci source's section of dflyd.yaml */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

typedef struct {
  char  **insecure_registries; /* host[:port] reached over plain http */
  char   *auth_file;           /* docker config.json with credentials; "" = none */
  guint64 max_manifest_size;   /* bytes; larger manifests and indexes are refused */
} DflyOciSettings;

extern const DflyConfigSection dfly_oci_settings;

G_END_DECLS
