/* dfly-wire-admission.c — a listener's connection caps (see the header) */
#include "config.h"

#include "dfly-wire-admission.h"

/* At most one refusal line per this many µs; the next says how many there were. */
#define REFUSAL_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)
#define ADMISSION_KEY           "dfly-wire-admission"

struct _DflyWireAdmission {
  gatomicrefcount ref_count;
  char           *name;
  guint           max_connections;
  guint           max_per_address;
  GMutex          lock;
  guint           total;
  GHashTable     *per_address; /* IP literal → count (GUINT_TO_POINTER), only while > 0 */
  guint           refused;     /* since the last refusal line */
  gint64          logged_at;   /* of the last refusal line, monotonic µs; 0: never */
};

/* One counted connection, hung on its socket. */
typedef struct {
  DflyWireAdmission *admission;
  char              *address;
} Admitted;

DflyWireAdmission *
dfly_wire_admission_new (const char *name, guint max_connections, guint max_per_address)
{
  DflyWireAdmission *self = g_new0 (DflyWireAdmission, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->name = g_strdup (name);
  self->max_connections = max_connections;
  self->max_per_address = max_per_address;
  g_mutex_init (&self->lock);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

DflyWireAdmission *
dfly_wire_admission_ref (DflyWireAdmission *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
dfly_wire_admission_unref (DflyWireAdmission *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_hash_table_unref (self->per_address);
  g_mutex_clear (&self->lock);
  g_free (self->name);
  g_free (self);
}

static guint
count_locked (DflyWireAdmission *self, const char *address)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));
}

/* Runs when the socket goes, on whichever thread let it go. */
static void
admitted_free (gpointer data)
{
  Admitted          *admitted = data;
  DflyWireAdmission *self = admitted->admission;
  guint              count;

  g_mutex_lock (&self->lock);
  self->total--;
  count = count_locked (self, admitted->address) - 1;
  if (count == 0)
    g_hash_table_remove (self->per_address, admitted->address);
  else
    g_hash_table_insert (self->per_address, g_strdup (admitted->address), GUINT_TO_POINTER (count));
  g_mutex_unlock (&self->lock);
  dfly_wire_admission_unref (self);
  g_free (admitted->address);
  g_free (admitted);
}

/* The peer's address as a string, or NULL when it is gone already. */
static char *
remote_address (GSocketConnection *connection)
{
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  return g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* Logs a refusal, or counts it for the next line. Under the lock. */
static void
refused_locked (DflyWireAdmission *self, const char *address, guint from_address)
{
  gint64 now = g_get_monotonic_time ();

  self->refused++;
  if (self->logged_at != 0 && now - self->logged_at < REFUSAL_LOG_INTERVAL_US)
    return;
  if (from_address >= self->max_per_address && self->max_per_address > 0)
    g_message ("%s: refused %u connection(s): %u open from %s, the most one address may have",
               self->name, self->refused, from_address, address);
  else
    g_message ("%s: refused %u connection(s): %u open, the most it takes", self->name,
               self->refused, self->total);
  self->refused = 0;
  self->logged_at = now;
}

gboolean
dfly_wire_admission_admit (DflyWireAdmission *self, GSocketConnection *connection)
{
  g_autofree char *address = remote_address (connection);
  Admitted        *admitted;
  guint            from_address;

  if (address == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  from_address = count_locked (self, address);
  if ((self->max_connections > 0 && self->total >= self->max_connections) ||
      (self->max_per_address > 0 && from_address >= self->max_per_address)) {
    refused_locked (self, address, from_address);
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  self->total++;
  g_hash_table_insert (self->per_address, g_strdup (address), GUINT_TO_POINTER (from_address + 1));
  g_mutex_unlock (&self->lock);
  admitted = g_new0 (Admitted, 1);
  admitted->admission = dfly_wire_admission_ref (self);
  admitted->address = g_steal_pointer (&address);
  g_object_set_data_full (G_OBJECT (g_socket_connection_get_socket (connection)), ADMISSION_KEY,
                          admitted, admitted_free);
  return TRUE;
}

guint
dfly_wire_admission_count (DflyWireAdmission *self, const char *address)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return address != NULL ? count_locked (self, address) : self->total;
}
