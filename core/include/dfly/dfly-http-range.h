/* dfly-http-range.h — the HTTP length and range headers every source checks
 *
 * Sources that speak HTTP (http, s3, oci) check an origin's answer against
 * what they asked for; the parsing is strict and lives here once.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The body length a response's headers announce: Content-Length when the
 * body is framed by it, else -1 (a Transfer-Encoding, no or a malformed
 * Content-Length). Either header may be NULL. */
gint64 dfly_http_content_length (const char *content_length, const char *transfer_encoding);

/* Parses "bytes FIRST-LAST/TOTAL" (TOTAL may be "*": *total -1) or the
 * "bytes * /TOTAL" of a 416 (*first and *last -1). FALSE for anything else,
 * including LAST < FIRST or LAST >= TOTAL. */
gboolean dfly_http_parse_content_range (const char *value, gint64 *first, gint64 *last,
                                        gint64 *total);

G_END_DECLS
