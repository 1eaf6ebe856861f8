/* dfly-main-call.h — run a function on the main thread
 *
 * g_main_context_invoke() runs the function at once, in the calling
 * thread, whenever that thread can acquire the context — which a worker
 * thread can, between two iterations of the main loop. Results of the
 * engine's threads touch main-thread state (streams, the bus), so from any
 * thread but the context's owner they are queued as an idle source of the
 * main context; its owner runs them at once, as invoke does.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

static inline void
dfly_main_call (GMainContext *context, GSourceFunc function, gpointer data)
{
  GSource *source;

  /* Every caller's function returns G_SOURCE_REMOVE: run once. */
  if (g_main_context_is_owner (context)) {
    function (data);
    return;
  }
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, function, data, NULL);
  g_source_set_static_name (source, "dfly-main-call");
  g_source_attach (source, context);
  g_source_unref (source);
}

G_END_DECLS
