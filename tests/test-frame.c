/* test-frame.c — protocol frames: round trip, partial input, hostile input */
#include "config.h"

#include <dfly/dfly.h>

#include "proto/envelope.pb-c.h"

#define MAX_SIZE 4096

static void
test_round_trip (void)
{
  const guint8 payload[] = "hello, peer";
  g_autoptr (GBytes) frame = dfly_frame_encode (7, payload, sizeof payload);
  g_autoptr (GBytes) decoded = NULL;
  g_autoptr (GError) error = NULL;
  gsize         length, consumed;
  const guint8 *data = g_bytes_get_data (frame, &length);
  guint32       type = 0;

  g_assert_true (dfly_frame_decode (data, length, MAX_SIZE, &consumed, &type, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, length);
  g_assert_cmpuint (type, ==, 7);
  g_assert_cmpmem (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded), payload,
                   sizeof payload);
}

/* Every strict prefix of a frame asks for more bytes, never errors. */
static void
test_partial_input (void)
{
  const guint8 payload[64] = { 1, 2, 3 };
  g_autoptr (GBytes) frame = dfly_frame_encode (1, payload, sizeof payload);
  gsize         length;
  const guint8 *data = g_bytes_get_data (frame, &length);

  for (gsize cut = 0; cut < length; cut++) {
    g_autoptr (GError) error = NULL;
    GBytes *decoded = NULL;
    gsize   consumed = 99;
    guint32 type;

    g_assert_true (dfly_frame_decode (data, cut, MAX_SIZE, &consumed, &type, &decoded, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (consumed, ==, 0);
    g_assert_null (decoded);
  }
}

/* Two frames back to back decode one at a time. */
static void
test_back_to_back (void)
{
  g_autoptr (GBytes) a = dfly_frame_encode (1, (const guint8 *) "a", 1);
  g_autoptr (GBytes) b = dfly_frame_encode (2, (const guint8 *) "bb", 2);
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  gsize   consumed;
  guint32 type;

  g_byte_array_append (stream, g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  g_byte_array_append (stream, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  g_assert_true (
    dfly_frame_decode (stream->data, stream->len, MAX_SIZE, &consumed, &type, &first, NULL));
  g_assert_cmpuint (type, ==, 1);
  g_assert_cmpuint (consumed, ==, g_bytes_get_size (a));
  g_assert_true (dfly_frame_decode (stream->data + consumed, stream->len - consumed, MAX_SIZE,
                                    &consumed, &type, &second, NULL));
  g_assert_cmpuint (type, ==, 2);
  g_assert_cmpuint (g_bytes_get_size (second), ==, 2);
}

/* The size cap applies to the announced length, before any body arrives. */
static void
test_oversized_refused_early (void)
{
  const guint8 header[] = { 0x7f, 0xff, 0xff, 0xff };
  g_autoptr (GError) error = NULL;
  GBytes *decoded = NULL;
  gsize   consumed;
  guint32 type;

  g_assert_false (
    dfly_frame_decode (header, sizeof header, MAX_SIZE, &consumed, &type, &decoded, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "frame of 2147483647 bytes exceeds the limit of 4096 bytes");
  g_assert_null (decoded);
}

static void
test_garbage_refused (void)
{
  /* Length 3, then bytes that are no protobuf: field 0 is invalid. */
  const guint8 junk[] = { 0, 0, 0, 3, 0x00, 0xff, 0xff };
  g_autoptr (GError) error = NULL;
  GBytes *decoded = NULL;
  gsize   consumed;
  guint32 type;

  g_assert_false (
    dfly_frame_decode (junk, sizeof junk, MAX_SIZE, &consumed, &type, &decoded, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "frame of 3 bytes is not a valid envelope");
}

static void
test_other_major_refused (void)
{
  Dfly__V1__Envelope envelope = DFLY__V1__ENVELOPE__INIT;
  guint8             buffer[64];
  g_autoptr (GError) error = NULL;
  GBytes *decoded = NULL;
  gsize   body, consumed;
  guint32 type;

  envelope.version_major = 2;
  envelope.version_minor = 5;
  body = dfly__v1__envelope__pack (&envelope, buffer + 4);
  buffer[0] = buffer[1] = buffer[2] = 0;
  buffer[3] = body;
  g_assert_false (
    dfly_frame_decode (buffer, 4 + body, MAX_SIZE, &consumed, &type, &decoded, &error));
  g_assert_error (error, DFLY_ERROR, DFLY_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==,
                   "protocol version 2.5 is not supported (this peer speaks 1.x)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame/round-trip", test_round_trip);
  g_test_add_func ("/frame/partial-input", test_partial_input);
  g_test_add_func ("/frame/back-to-back", test_back_to_back);
  g_test_add_func ("/frame/oversized-refused-early", test_oversized_refused_early);
  g_test_add_func ("/frame/garbage-refused", test_garbage_refused);
  g_test_add_func ("/frame/other-major-refused", test_other_major_refused);
  return g_test_run ();
}
