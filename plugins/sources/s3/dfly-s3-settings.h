/* dfly-s3-settings.h — the s3 source's section of dflyd.yaml */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

typedef struct {
  char *endpoint;          /* "" = AWS_ENDPOINT_URL, else AWS (https://s3.REGION.amazonaws.com) */
  char *region;            /* "" = AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
  guint path_style;        /* 1: http://endpoint/bucket/key; 0: virtual hosts where possible */
  char *access_key_id;     /* "" = AWS_ACCESS_KEY_ID (with AWS_SESSION_TOKEN) */
  char *secret_access_key; /* "" = AWS_SECRET_ACCESS_KEY */
} DflyS3Settings;

extern const DflyConfigSection dfly_s3_settings;

G_END_DECLS
