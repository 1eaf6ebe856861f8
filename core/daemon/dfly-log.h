/* dfly-log.h — dflyd's log writer: a level threshold, journald when present */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

/* Installs the writer; messages above level are dropped unless
 * G_MESSAGES_DEBUG names their domain (or "all"). */
void dfly_log_install (DflyLogLevel level);
void dfly_log_set_level (DflyLogLevel level);

G_END_DECLS
