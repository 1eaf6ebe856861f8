/* dfly-super-seeding.h — a seed's upload policy: each piece sent out once
 *
 * BitTorrent's super-seeding, as the seed role runs it: each new piece is
 * told to one child, the children in turn, so each gets an even share of
 * the seed's pieces and passes it on; the others hear of it from that
 * child, or from the seed half a second later (that child may be slow or
 * gone). A range sent less than half a second ago is deferred (429): the
 * child that has it serves the next copies.
 */
#pragma once

#include "dfly-upload-policy.h"

G_BEGIN_DECLS

#define DFLY_TYPE_SUPER_SEEDING (dfly_super_seeding_get_type ())
G_DECLARE_FINAL_TYPE (DflySuperSeeding, dfly_super_seeding, DFLY, SUPER_SEEDING, DflyUploadPolicy)

DflyUploadPolicy *dfly_super_seeding_new (void);
/* Ranges remembered as sent just now (bounded). */
guint dfly_super_seeding_get_remembered (DflySuperSeeding *self);

G_END_DECLS
