/* dflyctl-output.h — what dflyctl prints: aligned text for people, JSON for scripts */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DFLYCTL_FORMAT_HUMAN,
  DFLYCTL_FORMAT_JSON,
} DflyctlFormat;

/* Each takes a reply as dflyd sent it and returns the text to print on
 * stdout, ending in a newline. Missing or mistyped fields never fail: they
 * print as "?" (or are left out of the JSON). */
char *dflyctl_output_status (DflyctlFormat format, GVariant *status);
char *dflyctl_output_plugins (DflyctlFormat format, GVariant *plugins);
char *dflyctl_output_changes (DflyctlFormat format, GVariant *changes);

/* @daemon_version: NULL when dflyd could not be asked. */
char *dflyctl_output_version (DflyctlFormat format, const char *client_version,
                              const char *daemon_version);

G_END_DECLS
