/* dfly-super-seeding.h — a seed's upload policy: each piece sent out once
 *
 * BitTorrent's super-seeding, as the seed role runs it (and a normal peer,
 * for the tasks it fetches from their source): each new piece is
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

/* Every task (a seed's policy). */
DflyUploadPolicy *dfly_super_seeding_new (void);
/* Only the tasks this host fetches from their source (a normal peer's
 * policy): a peer the scheduler sent to the source is the swarm's only
 * way to the task while it fetches, as a seed is. Known by the pieces it
 * commits with no parent, and remembered (the 1,024 latest) after the
 * fetch too; other tasks are shared as the default policy shares them. */
DflyUploadPolicy *dfly_super_seeding_new_for_source_tasks (void);
/* Ranges remembered as sent just now (bounded). */
guint dfly_super_seeding_get_remembered (DflySuperSeeding *self);
/* Tasks remembered as fetched from their source (bounded). */
guint dfly_super_seeding_get_source_tasks (DflySuperSeeding *self);

G_END_DECLS
