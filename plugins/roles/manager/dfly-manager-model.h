/* dfly-manager-model.h — what the manager keeps: its tables and their fields
 *
 * One table per kind of record, as Dragonfly's manager models them:
 * scheduler clusters (their scheduling and client configs, and the scopes
 * that match peers to them), seed peer clusters, and the schedulers and
 * seed peers that register themselves and keep alive. Each table is a
 * list of fields; the REST API checks what a client sends against it, and
 * a store backend (dfly-manager-store.h) builds its SQL from it, so the
 * two cannot disagree. A record travels as a JSON object (json-glib).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "dfly/dfly.h"

G_BEGIN_DECLS

typedef enum {
  DFLY_MANAGER_FIELD_TEXT,    /* a string, at most max bytes */
  DFLY_MANAGER_FIELD_INTEGER, /* from min to max */
  DFLY_MANAGER_FIELD_BOOLEAN,
  DFLY_MANAGER_FIELD_IP,     /* an IP literal */
  DFLY_MANAGER_FIELD_OBJECT, /* a JSON object, at most max bytes as text */
  DFLY_MANAGER_FIELD_REF,    /* the id of a record of table ref */
} DflyManagerFieldType;

typedef enum {
  DFLY_MANAGER_SCHEDULER_CLUSTERS,
  DFLY_MANAGER_SEED_PEER_CLUSTERS,
  DFLY_MANAGER_SCHEDULERS,
  DFLY_MANAGER_SEED_PEERS,
  DFLY_MANAGER_N_TABLES
} DflyManagerTableId;

typedef struct {
  const char          *name;
  DflyManagerFieldType type;
  gboolean             required; /* on create */
  gint64               min, max;
  const char          *fallback; /* the value on create when not sent, as JSON; NULL: null */
  DflyManagerTableId   ref;      /* for DFLY_MANAGER_FIELD_REF */
} DflyManagerField;

typedef struct {
  DflyManagerTableId      id;
  const char             *name; /* the SQL table, and the REST path under /api/v1/ */
  const DflyManagerField *fields;
  guint                   n_fields;
  /* Hosts only: the fields that name one (a registration with the same
   * ones updates it), and the keepalive that shows them active. */
  const char *const *unique;
  gboolean           host;
  guint              max_rows; /* a cap on what clients can make us keep */
} DflyManagerTable;

/* The table of id, or of REST path segment name (NULL if none). */
const DflyManagerTable *dfly_manager_table (DflyManagerTableId id);
const DflyManagerTable *dfly_manager_table_by_name (const char *name);
const DflyManagerField *dfly_manager_table_field (const DflyManagerTable *table, const char *name);

/* Checks a record a client sent for table: an object of known fields of
 * the right types and bounds, and (creating) every required one. The error
 * (DFLY_ERROR_INVALID_ARGUMENT) names the field at fault in *field. */
gboolean dfly_manager_check_record (const DflyManagerTable *table, JsonObject *record,
                                    gboolean creating, char **field, GError **error);

G_END_DECLS
