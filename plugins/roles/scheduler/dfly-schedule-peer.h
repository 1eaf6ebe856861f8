/* dfly-schedule-peer.h — the schedule's records of a task and its peers
 *
 * Private to the scheduler role: DflySchedule (dfly-schedule.c) owns them,
 * dfly-parent-ranking.c reads them. Everything here lives on the main thread.
 */
#pragma once

#include <dfly/dfly.h>

#include "dfly-schedule.h"

G_BEGIN_DECLS

typedef struct _ScheduleTask ScheduleTask;

/* A child's word that a parent served piece_number with a wrong digest. It
 * stands until the parent reads the piece back (dfly-accusations.h). */
typedef struct {
  guint32 piece_number;
} ScheduleAccusation;

typedef struct {
  char                    *id;
  char                    *host_id;
  ScheduleTask            *task; /* owns this peer */
  SoupWebsocketConnection *stream;
  DflyPeerState            state;
  gboolean                 seed; /* a seed peer (see registers_seed) */
  gboolean                 back_to_source;
  /* The task's reference: a seed, or a peer this scheduler chose to send to
   * the source. Only its digests and lengths count; a peer that asked to
   * go there fetches for itself only. */
  gboolean sent_to_source;
  guint   *place; /* the task's back-to-source count it holds a place in, or NULL */
  /* Children that caught it serving a piece with a wrong digest: accusing
   * host id (its certificate's under TLS) → ScheduleAccusation. */
  GHashTable *accusers;
  GByteArray *checking; /* pieces it was asked to read back, no answer yet */
  GByteArray *intact;   /* pieces it read back intact: accusations of them are dismissed */
  gboolean    answered; /* got a first response */
  GByteArray *bitmap;   /* pieces it holds */
  guint32     finished;
  GByteArray *digests_sent; /* digests it has been sent */
  GHashTable *blocklist;    /* parent peer ids never to offer again */
  GHashTable *offered;      /* parent peer ids offered so far */
  guint       rounds;
  guint       retry_id;
  guint       uploads_ok; /* as a parent, reported by children */
  guint       uploads_failed;
} SchedulePeer;

struct _ScheduleTask {
  char               *id;
  DflySchedule       *schedule;
  Dfly__V1__Download *download;       /* from the first register, for the seed */
  gint64              content_length; /* -1 until the back-to-source peer says */
  guint64             piece_length;
  guint32             piece_count;
  GPtrArray          *digests;              /* char * per piece number, NULL unknown */
  GHashTable         *peers;                /* peer id → SchedulePeer */
  guint               back_to_source_count; /* normal peers sent there by this scheduler */
  guint               asked_count;          /* normal peers that asked to go there */
  gboolean            seed_triggered;
  gboolean            seed_failed;
  guint               push_id;
};

G_END_DECLS
