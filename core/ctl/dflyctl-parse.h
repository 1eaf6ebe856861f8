/* dflyctl-parse.h — what a user types, checked before anything is sent to dflyd
 *
 * Every function fails with DFLYCTL_ERROR_USAGE and a one-line message that
 * names the option and says what is wrong, so dflyctl exits 2 and nothing is
 * asked of dflyd.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DFLYCTL_TASK_ID_PREFIX_MIN 6

/* @text made printable for a message: valid UTF-8, control characters as
 * \xNN, at most 80 characters. */
char *dflyctl_quote_arg (const char *text);

/* A size in bytes: 4194304, 4096B, 4KiB, 4MiB, 1GiB or 1TiB, in min..max.
 * @option names it in messages ("--piece-length"). */
gboolean dflyctl_parse_size (const char *option, const char *text, guint64 min, guint64 max,
                             guint64 *bytes, GError **error);
/* A duration: 30, 30s, 5m or 1h, in min..max seconds. */
gboolean dflyctl_parse_duration (const char *option, const char *text, guint32 min, guint32 max,
                                 guint32 *seconds, GError **error);
/* "sha256:<64 hex>" or "sha512:<128 hex>"; returns it in lower case. */
char *dflyctl_parse_digest (const char *text, GError **error);
/* "Name: value": an HTTP token, a colon, a value without control characters
 * (blanks around it are dropped). */
gboolean dflyctl_parse_header (const char *text, char **name, char **value, GError **error);
/* An absolute URL with a scheme (and a host for http and https), as UTF-8
 * without blanks or control characters. */
gboolean dflyctl_check_url (const char *url, GError **error);
/* -O: a file name, made absolute against the current directory, whose
 * directory exists; as UTF-8, since D-Bus carries only that. */
char *dflyctl_parse_output (const char *path, GError **error);
/* A task id (64 hex digits) or a prefix of at least 6; returns it in lower
 * case and sets @is_prefix when it is shorter than an id. */
char *dflyctl_parse_task_id (const char *text, gboolean *is_prefix, GError **error);

G_END_DECLS
