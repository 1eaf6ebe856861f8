/* dfly-scheduler-list.h — a list of schedulers read from JSON another host wrote
 *
 * What a manager answers to GET /api/v1/schedulers (an array of records:
 * only active ones with an IP literal, no IPv6 zone, and a port 1 to 65535
 * are taken) or what the scheduler directory kept on disk (an array of
 * "host:port" strings), both as "host:port" once each, at most
 * DFLY_SCHEDULER_LIST_MAX. The text's size and depth are checked before it
 * is parsed. Pure: no I/O, any thread; the fuzz target manager-json runs it.
 */
#pragma once

#include "dfly/dfly.h"

G_BEGIN_DECLS

#define DFLY_SCHEDULER_LIST_MAX      64 /* the scheduler client's table holds as many */
#define DFLY_SCHEDULER_LIST_MAX_TEXT (4 * 1024 * 1024)

/* NULL with DFLY_ERROR_PROTOCOL if text is neither kind of list. */
char **dfly_scheduler_list_parse (const char *text, gsize length, GError **error);

G_END_DECLS
