/* dfly-types.h — the value types carried on the bus
 *
 * Each is a reference-counted plain struct registered as a boxed GType, so a
 * signal passes it by reference and a handler that keeps it takes a ref.
 * Fields are public and read-only once the value has been emitted.
 */
#pragma once

#include <glib-object.h>

#include "dfly-config.h"

G_BEGIN_DECLS

typedef enum {
  DFLY_TASK_STATE_PENDING,
  DFLY_TASK_STATE_RUNNING,
  DFLY_TASK_STATE_SUCCEEDED,
  DFLY_TASK_STATE_FAILED,
} DflyTaskState;

typedef enum {
  DFLY_PEER_STATE_PENDING,
  DFLY_PEER_STATE_RECEIVED,
  DFLY_PEER_STATE_RUNNING,
  DFLY_PEER_STATE_BACK_TO_SOURCE,
  DFLY_PEER_STATE_SUCCEEDED,
  DFLY_PEER_STATE_FAILED,
  DFLY_PEER_STATE_LEAVE,
} DflyPeerState;

/* Dragonfly's host types: a normal peer and the three kinds of seed peer. */
typedef enum {
  DFLY_HOST_TYPE_NORMAL,
  DFLY_HOST_TYPE_SUPER,
  DFLY_HOST_TYPE_STRONG,
  DFLY_HOST_TYPE_WEAK,
} DflyHostType;

typedef enum {
  DFLY_ROLE_STATE_STOPPED,
  DFLY_ROLE_STATE_STARTING,
  DFLY_ROLE_STATE_RUNNING,
  DFLY_ROLE_STATE_STOPPING,
  DFLY_ROLE_STATE_FAILED,
} DflyRoleState;

#define DFLY_TYPE_TASK_STATE (dfly_task_state_get_type ())
#define DFLY_TYPE_PEER_STATE (dfly_peer_state_get_type ())
#define DFLY_TYPE_HOST_TYPE  (dfly_host_type_get_type ())
#define DFLY_TYPE_ROLE_STATE (dfly_role_state_get_type ())
GType dfly_task_state_get_type (void);
GType dfly_peer_state_get_type (void);
GType dfly_host_type_get_type (void);
GType dfly_role_state_get_type (void);

/* The short lowercase nick of an enum value, e.g. "running". */
const char *dfly_task_state_to_string (DflyTaskState state);
const char *dfly_peer_state_to_string (DflyPeerState state);
const char *dfly_host_type_to_string (DflyHostType type);
const char *dfly_role_state_to_string (DflyRoleState state);

typedef struct {
  char         *id; /* lowercase hex SHA-256 task id */
  char         *url;
  char         *tag;
  char         *application;
  char         *digest; /* "sha256:…" when known, else NULL */
  guint64       piece_length;
  gint64        content_length; /* -1 while unknown */
  guint32       total_pieces;   /* 0 while the length is unknown */
  DflyTaskState state;
  guint64       completed_length; /* bytes of verified pieces */
  gint64        last_used;        /* wall clock, seconds since the epoch */
  guint64       from_parents;     /* of completed_length, bytes that came from parents
                                  * (the rest came from the source) */
} DflyTaskInfo;

typedef struct {
  char   *task_id;
  guint32 number;
  guint64 offset;
  guint64 length;
  char   *digest;    /* "crc32c:…" or "xxh3:…" */
  char   *parent_id; /* peer the bytes came from; NULL for the origin */
  guint64 cost_us;   /* time the piece took */
} DflyPieceInfo;

typedef struct {
  char         *id; /* {ip}-{hostname}-{uuid4}[-seed] */
  char         *task_id;
  char         *host_id;
  DflyPeerState state;
} DflyPeerInfo;

typedef struct {
  char        *id; /* {ip}-{hostname}[-seed] */
  DflyHostType type;
  char        *hostname;
  char        *ip;
  guint16      port; /* peer service / upload port, 0 if none */
  char        *idc;
  char        *location; /* "a|b|c" */
  gboolean     disable_shared;
  guint        cpu_count;
  guint64      mem_total;
  guint64      mem_available;
  guint64      disk_total; /* of the cache directory's file system */
  guint64      disk_free;
  guint        announce_interval; /* seconds until the next announce */
  /* Upload capacity, for ranking parents: slots (load limit) and rate. */
  guint   upload_slots; /* uploads at once; 0: unknown */
  guint   upload_slots_used;
  guint64 upload_rate_limit; /* bytes/s; 0: none */
  guint64 upload_rate_free;  /* bytes/s unused now; 0 with no limit */
} DflyHostInfo;

#define DFLY_TYPE_TASK_INFO  (dfly_task_info_get_type ())
#define DFLY_TYPE_PIECE_INFO (dfly_piece_info_get_type ())
#define DFLY_TYPE_PEER_INFO  (dfly_peer_info_get_type ())
#define DFLY_TYPE_HOST_INFO  (dfly_host_info_get_type ())
GType dfly_task_info_get_type (void);
GType dfly_piece_info_get_type (void);
GType dfly_peer_info_get_type (void);
GType dfly_host_info_get_type (void);

DflyTaskInfo *dfly_task_info_new (const char *id, const char *url);
/* A new, unshared copy (to change before emitting). */
DflyTaskInfo *dfly_task_info_copy (const DflyTaskInfo *info);
DflyTaskInfo *dfly_task_info_ref (DflyTaskInfo *info);
void          dfly_task_info_unref (DflyTaskInfo *info);

DflyPieceInfo *dfly_piece_info_new (const char *task_id, guint32 number);
DflyPieceInfo *dfly_piece_info_ref (DflyPieceInfo *info);
void           dfly_piece_info_unref (DflyPieceInfo *info);

DflyPeerInfo *dfly_peer_info_new (const char *id, const char *task_id, const char *host_id);
DflyPeerInfo *dfly_peer_info_ref (DflyPeerInfo *info);
void          dfly_peer_info_unref (DflyPeerInfo *info);

DflyHostInfo *dfly_host_info_new (const char *id);
/* This machine as a host of the given type: names and location from the
 * config, CPU, memory and the cache directory's disk measured now. */
DflyHostInfo *dfly_host_info_new_local (const DflyConfig *config, DflyHostType type, guint16 port);
DflyHostInfo *dfly_host_info_ref (DflyHostInfo *info);
void          dfly_host_info_unref (DflyHostInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyTaskInfo, dfly_task_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPieceInfo, dfly_piece_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyPeerInfo, dfly_peer_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyHostInfo, dfly_host_info_unref)

G_END_DECLS
