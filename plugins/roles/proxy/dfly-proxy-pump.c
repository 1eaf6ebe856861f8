/* dfly-proxy-pump.c — copying a stream into an HTTP answer (see the header) */
#include "config.h"

#include "dfly/dfly.h"
#include "dfly-proxy-pump.h"

typedef struct {
  SoupServerMessage *msg;
  GInputStream      *input;
  GCancellable      *cancellable;
  guint8            *buffer;
  guint64            sent;
  gboolean           reading;
  gboolean           complete; /* input ended: the body is whole */
  gboolean           stopped;
  gulong             finished_id;
  gulong             wrote_id;
  DflyProxyPumpDone  done;
  gpointer           user_data;
} Pump;

static void
pump_free (Pump *pump)
{
  g_object_unref (pump->msg);
  g_object_unref (pump->input);
  g_object_unref (pump->cancellable);
  g_free (pump->buffer);
  g_free (pump);
}

/* The pump's last act: tell the caller, let go of msg's signals, and free
 * itself once no read is pending (that read's callback frees it). */
static void
pump_stop (Pump *pump, const GError *error)
{
  if (pump->stopped)
    return;
  pump->stopped = TRUE;
  g_signal_handler_disconnect (pump->msg, pump->finished_id);
  g_signal_handler_disconnect (pump->msg, pump->wrote_id);
  g_cancellable_cancel (pump->cancellable);
  g_input_stream_close_async (pump->input, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  if (pump->done != NULL)
    pump->done (pump->sent, error, pump->user_data);
  if (!pump->reading)
    pump_free (pump);
}

void
dfly_proxy_abort (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);
}

static void read_next (Pump *pump);

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pump            *pump = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (pump->msg);
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  pump->reading = FALSE;
  if (pump->stopped) {
    pump_free (pump);
    return;
  }
  if (n < 0) {
    g_info ("proxy: answer cut after %" G_GUINT64_FORMAT " bytes: %s", pump->sent, error->message);
    dfly_proxy_abort (pump->msg);
    pump_stop (pump, error);
    return;
  }
  if (n == 0) {
    pump->complete = TRUE;
    soup_message_body_complete (body);
    soup_server_message_unpause (pump->msg);
    /* "finished" tells the end once the last bytes are written. */
    return;
  }
  pump->sent += (guint64) n;
  soup_message_body_append (body, SOUP_MEMORY_COPY, pump->buffer, (gsize) n);
  soup_server_message_unpause (pump->msg);
}

static void
read_next (Pump *pump)
{
  pump->reading = TRUE;
  g_input_stream_read_async (pump->input, pump->buffer, DFLY_PROXY_PUMP_CHUNK, G_PRIORITY_DEFAULT,
                             pump->cancellable, on_read, pump);
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  Pump *pump = user_data;

  if (!pump->reading && !pump->stopped)
    read_next (pump);
}

static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  Pump *pump = user_data;
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *answer = soup_server_message_get_response_headers (msg);

  /* With a Content-Length, libsoup finishes once that many bytes are out,
   * before the pump reads the end of input. */
  if (soup_message_headers_get_encoding (answer) == SOUP_ENCODING_CONTENT_LENGTH &&
      pump->sent >= (guint64) soup_message_headers_get_content_length (answer))
    pump->complete = TRUE;
  if (!pump->complete)
    error = g_error_new (DFLY_ERROR, DFLY_ERROR_CANCELLED, "the client went away");
  pump_stop (pump, error);
}

void
dfly_proxy_pump_start (SoupServerMessage *msg, GInputStream *input, GBytes *first,
                       DflyProxyPumpDone done, gpointer user_data)
{
  Pump            *pump = g_new0 (Pump, 1);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  pump->msg = g_object_ref (msg);
  pump->input = g_object_ref (input);
  pump->cancellable = g_cancellable_new ();
  pump->buffer = g_malloc (DFLY_PROXY_PUMP_CHUNK);
  pump->done = done;
  pump->user_data = user_data;
  soup_message_body_set_accumulate (body, FALSE);
  pump->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), pump);
  pump->wrote_id = g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), pump);
  if (first != NULL && g_bytes_get_size (first) > 0) {
    pump->sent = g_bytes_get_size (first);
    soup_message_body_append_bytes (body, first);
    soup_server_message_unpause (msg);
    return;
  }
  read_next (pump);
}
