/* dfly-piece-sender.h — piece bytes to children, with sendfile
 *
 * The GET /v1/tasks/<task id> half of the upload server. A connection whose
 * first request is a piece request is handed over by the upload server's
 * listener and served here until it closes, on a thread of its own with
 * blocking I/O: each range goes from the page cache to the socket with one
 * sendfile(2) from the descriptor storage hands out (open_content), instead
 * of being read into memory and written back out a chunk per main-loop
 * wake-up. The checks are the upload server's: only
 * committed pieces, one range, the upload slots (503), the upload rate
 * limit, and the upload policy's admission (429: dfly-upload-policy.h),
 * asked once a slot is free.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-rate-limiter.h"
#include "dfly-upload-policy.h"

G_BEGIN_DECLS

typedef struct _DflyPieceSender DflyPieceSender;

/* host_type picks the upload slots' key (upload.seed_slots on a seed). */
DflyPieceSender *dfly_piece_sender_new (DflyContext *context, DflyStorage *storage,
                                        DflyRateLimiter *limiter, DflyHostType host_type,
                                        DflyUploadPolicy *policy);
/* Cuts every connection and waits for their threads. */
void dfly_piece_sender_free (DflyPieceSender *self);
/* Serves connection (taken over) from its first request on. */
void dfly_piece_sender_take (DflyPieceSender *self, GIOStream *stream);
/* The upload slots of the current config, and how many are sending now. */
guint   dfly_piece_sender_get_slots (DflyPieceSender *self);
guint   dfly_piece_sender_get_active (DflyPieceSender *self);
guint64 dfly_piece_sender_get_bytes_sent (DflyPieceSender *self);

G_END_DECLS
