/* dflyctl-output.h — what dflyctl prints: aligned text for people, JSON for scripts */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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

/* @root as --json prints it: two-space indents, a newline at the end. */
char *dflyctl_json_to_text (JsonNode *root);

/* Aligned columns under @headers; @rows holds arrays of @n_columns cells.
 * The last column is not padded. */
char *dflyctl_format_table (const char *const *headers, guint n_columns, GPtrArray *rows);
/* One "label value" line each, values aligned (@labels end in ':'). */
char *dflyctl_format_fields (const char *const *labels, const char *const *values, guint n_fields);

/* Sizes as people read them: "512 B", "1.5 KiB", "512.0 MiB". */
char *dflyctl_format_bytes (guint64 bytes);
/* "410 MiB/s", "4.2 MiB/s", "0 B/s". */
char *dflyctl_format_rate (double bytes_per_second);
/* How long ago @then was, both in seconds since the epoch: "3m 4s ago". */
char *dflyctl_format_age (gint64 then, gint64 now);
/* The first 12 hex digits of a task id, as tables show it. */
char *dflyctl_short_task_id (const char *task_id);

/* ListTasks's aa{sv}: a table, ids shortened unless @long_ids; @now in
 * seconds since the epoch, for "last used". */
char *dflyctl_output_tasks (DflyctlFormat format, GVariant *tasks, gboolean long_ids, gint64 now);
/* StatTask's a{sv}: one "key: value" line each. */
char *dflyctl_output_task (DflyctlFormat format, GVariant *task, gint64 now);
/* CollectCache's a{sv}. */
char *dflyctl_output_cache_report (DflyctlFormat format, GVariant *report);

typedef enum {
  DFLYCTL_TASK_DELETED,
  DFLYCTL_TASK_CANCELLED,
} DflyctlTaskAction;

char *dflyctl_output_task_action (DflyctlFormat format, const char *task_id,
                                  DflyctlTaskAction action);

/* "dflyctl cert show": an a{sv} of host-id, roles (as), subject, issuer,
 * serial, ca (b), not-before, not-after, expired (b), ips and dns-names (as). */
char *dflyctl_output_cert (DflyctlFormat format, GVariant *cert);

/* The end of one "dflyctl get". */
typedef struct {
  const char *task_id; /* NULL when dflyd never gave one */
  const char *url;
  const char *output;
  const char *result; /* succeeded, failed, cancelled or timeout */
  guint64     bytes;
  double      seconds;
  const char *error_name;    /* a D-Bus error name, NULL on success */
  const char *error_message; /* NULL on success */
} DflyctlDownload;

/* JSON: one object. Text: the one-line summary of a success. */
char *dflyctl_output_download (DflyctlFormat format, const DflyctlDownload *download);

G_END_DECLS
