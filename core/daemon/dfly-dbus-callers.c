/* dfly-dbus-callers.c — DflyDbusCallers: each running request's D-Bus caller
 *
 * A table of request → unique name; a task's callers are found by walking
 * it, since it holds only the requests still running (each D-Bus Download
 * call that was accepted and has not finished or failed).
 */
#include "config.h"

#include "dfly-dbus-callers.h"

/* Stands for a peer-to-peer connection's caller, which has no name. */
#define NO_NAME ""

struct _DflyDbusCallers {
  GHashTable *callers; /* DflyDownloadRequest * (a ref) → unique name */
};

DflyDbusCallers *
dfly_dbus_callers_new (void)
{
  DflyDbusCallers *self = g_new0 (DflyDbusCallers, 1);

  self->callers = g_hash_table_new_full (g_direct_hash, g_direct_equal,
                                         (GDestroyNotify) dfly_download_request_unref, g_free);
  return self;
}

void
dfly_dbus_callers_free (DflyDbusCallers *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->callers);
  g_free (self);
}

void
dfly_dbus_callers_add (DflyDbusCallers *self, DflyDownloadRequest *request, const char *caller)
{
  g_hash_table_replace (self->callers, dfly_download_request_ref (request),
                        g_strdup (caller != NULL ? caller : NO_NAME));
}

gboolean
dfly_dbus_callers_remove (DflyDbusCallers *self, DflyDownloadRequest *request, char **caller)
{
  gpointer key, value;

  if (!g_hash_table_steal_extended (self->callers, request, &key, &value))
    return FALSE;
  dfly_download_request_unref (key);
  if (g_str_equal (value, NO_NAME))
    g_clear_pointer (&value, g_free);
  *caller = value;
  return TRUE;
}

gboolean
dfly_dbus_callers_of_task (DflyDbusCallers *self, const char *task_id, GPtrArray **callers)
{
  GHashTableIter iter;
  gpointer       key, value;

  *callers = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->callers);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    const DflyDownloadRequest *request = key;
    const char                *caller = g_str_equal (value, NO_NAME) ? NULL : value;
    gboolean                   listed = FALSE;

    if (g_strcmp0 (request->task_id, task_id) != 0)
      continue;
    /* Each caller once, whatever the number of its requests on the task. */
    for (guint i = 0; i < (*callers)->len; i++)
      listed = listed || g_strcmp0 (g_ptr_array_index (*callers, i), caller) == 0;
    if (!listed)
      g_ptr_array_add (*callers, (gpointer) caller);
  }
  return (*callers)->len > 0;
}
