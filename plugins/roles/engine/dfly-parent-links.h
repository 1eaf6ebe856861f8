/* dfly-parent-links.h — piece sync streams to parents, one per parent host
 *
 * A child learns which pieces a parent holds from the parent's sync stream
 * (GET /v1/sync-pieces, a WebSocket): one connection per parent host,
 * shared by every task this host downloads from it, each task subscribed
 * with a SyncPiecesRequest. Main thread only.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-wire.h"

G_BEGIN_DECLS

typedef struct _DflyParentLinks        DflyParentLinks;
typedef struct _DflyParentSubscription DflyParentSubscription;

/* A piece the parent holds (again, possibly). */
typedef void (*DflyParentPieceFunc) (const char *base_url, const Dfly__V1__Piece *piece,
                                     gpointer user_data);
/* The link to the parent is gone; the subscription is dead (free it). */
typedef void (*DflyParentLostFunc) (const char *base_url, gpointer user_data);

DflyParentLinks *dfly_parent_links_new (DflyContext *context);
void             dfly_parent_links_free (DflyParentLinks *self);
/* base_url: "http://ip:port" of the parent's upload server. */
DflyParentSubscription *dfly_parent_links_subscribe (DflyParentLinks *self, const char *base_url,
                                                     const char         *task_id,
                                                     DflyParentPieceFunc on_piece,
                                                     DflyParentLostFunc  on_lost,
                                                     gpointer            user_data);
void                    dfly_parent_subscription_free (DflyParentSubscription *subscription);

G_END_DECLS
