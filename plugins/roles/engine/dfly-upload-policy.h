/* dfly-upload-policy.h — how the upload side shares what this host holds
 *
 * The upload server takes two decisions from its policy: which of a task's
 * sync streams hear of a piece the moment it is committed (the others hear
 * of it a delay later), and whether a range asked for is sent now or
 * deferred (429: ask someone else). The default, which a normal peer runs,
 * tells every stream at once and sends every range; a role that shares
 * otherwise (the seed role's super-seeding) derives from it and overrides
 * either call.
 */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

#define DFLY_TYPE_UPLOAD_POLICY (dfly_upload_policy_get_type ())
G_DECLARE_DERIVABLE_TYPE (DflyUploadPolicy, dfly_upload_policy, DFLY, UPLOAD_POLICY, GObject)

struct _DflyUploadPolicyClass {
  GObjectClass parent_class;

  /* Main thread. piece was committed and streams (the server's handles,
   * opaque here; at least one) are subscribed to its task: the streams to
   * tell now. The rest are told *reveal_after µs later, if still there. */
  GPtrArray *(*announce) (DflyUploadPolicy *self, const DflyPieceInfo *piece, GPtrArray *streams,
                          gint64 *reveal_after);
  /* Any thread (the piece sender's), once an upload slot is free for the
   * range: TRUE to send bytes [start, end] of the task now, FALSE to
   * defer it (429). */
  gboolean (*admit) (DflyUploadPolicy *self, const char *task_id, goffset start, goffset end);
  /* Any thread: an admitted range was not sent after all (the content
   * could not be opened, or the connection broke). NULL: nothing to do. */
  void (*withdraw) (DflyUploadPolicy *self, const char *task_id, goffset start, goffset end);
};

/* The default policy: everyone told at once, every range sent. */
DflyUploadPolicy *dfly_upload_policy_new (void);
GPtrArray        *dfly_upload_policy_announce (DflyUploadPolicy *self, const DflyPieceInfo *piece,
                                               GPtrArray *streams, gint64 *reveal_after);
gboolean dfly_upload_policy_admit (DflyUploadPolicy *self, const char *task_id, goffset start,
                                   goffset end);
void     dfly_upload_policy_withdraw (DflyUploadPolicy *self, const char *task_id, goffset start,
                                      goffset end);

G_END_DECLS
