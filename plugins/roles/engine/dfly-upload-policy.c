/* dfly-upload-policy.c — DflyUploadPolicy and its default (see the header) */
#include "config.h"

#include "dfly-upload-policy.h"

G_DEFINE_TYPE (DflyUploadPolicy, dfly_upload_policy, G_TYPE_OBJECT)

static GPtrArray *
announce_to_all (DflyUploadPolicy *self, const DflyPieceInfo *piece, GPtrArray *streams,
                 gint64 *reveal_after)
{
  *reveal_after = 0;
  return g_ptr_array_copy (streams, NULL, NULL);
}

static gboolean
admit_all (DflyUploadPolicy *self, const char *task_id, goffset start, goffset end)
{
  return TRUE;
}

static void
dfly_upload_policy_init (DflyUploadPolicy *self)
{
}

static void
dfly_upload_policy_class_init (DflyUploadPolicyClass *klass)
{
  klass->announce = announce_to_all;
  klass->admit = admit_all;
}

DflyUploadPolicy *
dfly_upload_policy_new (void)
{
  return g_object_new (DFLY_TYPE_UPLOAD_POLICY, NULL);
}

GPtrArray *
dfly_upload_policy_announce (DflyUploadPolicy *self, const DflyPieceInfo *piece, GPtrArray *streams,
                             gint64 *reveal_after)
{
  g_return_val_if_fail (DFLY_IS_UPLOAD_POLICY (self) && streams->len > 0, NULL);

  *reveal_after = 0;
  return DFLY_UPLOAD_POLICY_GET_CLASS (self)->announce (self, piece, streams, reveal_after);
}

gboolean
dfly_upload_policy_admit (DflyUploadPolicy *self, const char *task_id, goffset start, goffset end)
{
  g_return_val_if_fail (DFLY_IS_UPLOAD_POLICY (self), TRUE);

  return DFLY_UPLOAD_POLICY_GET_CLASS (self)->admit (self, task_id, start, end);
}

void
dfly_upload_policy_withdraw (DflyUploadPolicy *self, const char *task_id, goffset start,
                             goffset end)
{
  g_return_if_fail (DFLY_IS_UPLOAD_POLICY (self));

  if (DFLY_UPLOAD_POLICY_GET_CLASS (self)->withdraw != NULL)
    DFLY_UPLOAD_POLICY_GET_CLASS (self)->withdraw (self, task_id, start, end);
}
