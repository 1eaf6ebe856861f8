/* dfly-scheduler-settings.c — the scheduler role's keys */
#include "config.h"

#include <stddef.h>

#include "dfly-scheduler-settings.h"

#define FIELD(member) offsetof (DflySchedulerSettings, member)

static const DflyConfigKey keys[] = {
  { "candidate_parents", DFLY_CONFIG_UINT, FIELD (candidate_parents), "8", 1, 20, DFLY_CONFIG_LIVE,
    "candidate parents offered to a child at once" },
  { "back_to_source_limit", DFLY_CONFIG_UINT, FIELD (back_to_source_limit), "3", 0, 1000,
    DFLY_CONFIG_LIVE, "normal peers of one task sent to the origin" },
  { "max_hosts", DFLY_CONFIG_UINT, FIELD (max_hosts), "10000", 1, 1000000, DFLY_CONFIG_LIVE,
    "the most hosts the scheduler tracks" },
  { "max_tasks", DFLY_CONFIG_UINT, FIELD (max_tasks), "10000", 1, 1000000, DFLY_CONFIG_LIVE,
    "the most tasks the scheduler tracks" },
  { "max_peers_per_task", DFLY_CONFIG_UINT, FIELD (max_peers_per_task), "10000", 1, 1000000,
    DFLY_CONFIG_LIVE, "the most peers of one task" },
  { "max_peers_per_stream", DFLY_CONFIG_UINT, FIELD (max_peers_per_stream), "1000", 1, 100000,
    DFLY_CONFIG_LIVE, "the most peers one announce stream registers" },
  { "max_pieces", DFLY_CONFIG_UINT, FIELD (max_pieces), "1048576", 1, 16777216, DFLY_CONFIG_LIVE,
    "the most pieces of one task" },
  { "algorithm", DFLY_CONFIG_STRING, FIELD (algorithm), "default", 1, 64, DFLY_CONFIG_RESTART,
    "the scheduler plugin that ranks parents" },
};

const DflyConfigSection dfly_scheduler_settings = {
  .size = sizeof (DflySchedulerSettings),
  .keys = keys,
  .n_keys = G_N_ELEMENTS (keys),
};

const DflySchedulerSettings *
dfly_scheduler_settings_get (DflyContext *context)
{
  DflySettings *settings =
    dfly_config_get_settings (dfly_context_get_config (context), "scheduler");

  g_return_val_if_fail (settings != NULL, NULL);
  return dfly_settings_get_values (settings);
}
