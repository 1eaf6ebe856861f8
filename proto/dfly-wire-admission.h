/* dfly-wire-admission.h — a listener's connection caps: in all and per remote address
 *
 * Every connection a listener accepts is counted, in all and by its peer's
 * address, from admission until its socket is gone (whichever thread drops
 * it last: piece connections end on the piece sender's threads). Over a
 * cap a connection is refused; refusals are logged at most once every few
 * seconds, with how many there were. Thread-safe; refcounted, since counted
 * connections may outlive their listener. Part of libdfly-proto.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DflyWireAdmission DflyWireAdmission;

/* Caps of 0 count without limit. name says whose connections they are in
 * log lines ("upload server"). */
DflyWireAdmission *dfly_wire_admission_new (const char *name, guint max_connections,
                                            guint max_per_address);
DflyWireAdmission *dfly_wire_admission_ref (DflyWireAdmission *self);
void               dfly_wire_admission_unref (DflyWireAdmission *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyWireAdmission, dfly_wire_admission_unref)

/* Counts connection in until its socket is finalized; FALSE when that
 * would pass a cap (or its peer's address is unknown): then the caller
 * closes it. */
gboolean dfly_wire_admission_admit (DflyWireAdmission *self, GSocketConnection *connection);

/* Connections counted now from address (an IP literal), or in all (NULL). */
guint dfly_wire_admission_count (DflyWireAdmission *self, const char *address);

G_END_DECLS
