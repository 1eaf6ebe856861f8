/* dfly-s3-settings.c — the s3 source's keys, and the rules between them */
#include "config.h"

#include <stddef.h>

#include "dfly-s3-settings.h"

#define KEY(name_, type_, field_, default_, min_, max_, flags_, doc_)                           \
  {                                                                                             \
    .name = (name_), .type = DFLY_CONFIG_##type_, .offset = offsetof (DflyS3Settings, field_),  \
    .default_value = (default_), .min = (min_), .max = (max_), .flags = (flags_), .doc = (doc_) \
  }

static const DflyConfigKey keys[] = {
  KEY ("endpoint", STRING, endpoint, "\"\"", 0, 1024, DFLY_CONFIG_LIVE,
       "the S3 endpoint URL; empty: AWS_ENDPOINT_URL, else AWS"),
  KEY ("region", STRING, region, "\"\"", 0, 64, DFLY_CONFIG_LIVE,
       "the region; empty: AWS_REGION, else us-east-1"),
  KEY ("path_style", UINT, path_style, "0", 0, 1, DFLY_CONFIG_LIVE,
       "1: the bucket in the path, never in the host"),
  KEY ("access_key_id", STRING, access_key_id, "\"\"", 0, 255, DFLY_CONFIG_LIVE,
       "the access key; empty: AWS_ACCESS_KEY_ID"),
  KEY ("secret_access_key", STRING, secret_access_key, "\"\"", 0, 255,
       DFLY_CONFIG_LIVE | DFLY_CONFIG_SECRET, "the secret key; empty: AWS_SECRET_ACCESS_KEY"),
};

static gboolean
check (gconstpointer values, GError **error)
{
  const DflyS3Settings *settings = values;

  if ((settings->access_key_id[0] == '\0') != (settings->secret_access_key[0] == '\0')) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                         "access_key_id and secret_access_key go together: set both or neither");
    return FALSE;
  }
  /* The scheme is checked here, the rest of the URL when a request is made. */
  if (settings->endpoint[0] != '\0' && !g_str_has_prefix (settings->endpoint, "http://") &&
      !g_str_has_prefix (settings->endpoint, "https://")) {
    g_set_error_literal (error, DFLY_ERROR, DFLY_ERROR_INVALID_CONFIG,
                         "endpoint must be an http:// or https:// URL");
    return FALSE;
  }
  return TRUE;
}

const DflyConfigSection dfly_s3_settings = {
  .size = sizeof (DflyS3Settings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
  .check = check,
};
