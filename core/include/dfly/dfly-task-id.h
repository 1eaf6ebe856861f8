/* dfly-task-id.h — how a download becomes a task: its id and piece length
 *
 * Dragonfly v2.2's rules (docs/dragonfly.md): the id is the lowercase hex
 * SHA-256 of the URL without its filtered query parameters, the tag, the
 * application and, when one was asked for, the piece length; the same bytes
 * asked for the same way are one task, on every peer.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DFLY_TASK_ID_LENGTH 64

/* url without the query parameters named in filtered_keys (a key ending in
 * '*' is a prefix), keeping the others in order; an empty '?' is dropped,
 * and so are empty parameters ("a=1&&b=2" keeps "a=1&b=2"). Keys are
 * compared byte for byte, as written: "X%2DAmz-Date" is not "X-Amz-Date".
 * NULL with DFLY_ERROR_INVALID_ARGUMENT when url is not an absolute URL or
 * holds a space or a control byte. */
char *dfly_url_filter_query (const char *url, const char *const *filtered_keys, GError **error);
/* piece_length 0: none was asked for, it is not part of the id. */
char *dfly_task_id_new (const char *url, const char *tag, const char *application,
                        guint64 piece_length, const char *const *filtered_keys, GError **error);
/* 64 lowercase hex digits: what every id dfly makes looks like, and the only
 * thing accepted as one from outside (it ends up in file names). */
gboolean dfly_task_id_is_valid (const char *task_id);

#define DFLY_PIECE_LENGTH_MIN (G_GUINT64_CONSTANT (4) << 20)
#define DFLY_PIECE_LENGTH_MAX (G_GUINT64_CONSTANT (16) << 20)
/* The next power of two of content_length / 500 (rounded up: at most 500
 * pieces while 16 MiB allows), clamped to 4..16 MiB;
 * DFLY_PIECE_LENGTH_MIN when the length is unknown (-1). */
guint64 dfly_piece_length_for (gint64 content_length);
/* Pieces of piece_length that cover content_length (0 for 0 bytes);
 * G_MAXUINT32 when that many or more would be needed, which a caller must
 * treat as too many. */
guint32 dfly_piece_count (guint64 content_length, guint64 piece_length);

G_END_DECLS
