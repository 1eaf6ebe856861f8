/* dfly-task-info.c — DflyTaskInfo, a task as the bus carries it */
#include "config.h"

#include "dfly/dfly-types.h"

G_DEFINE_BOXED_TYPE (DflyTaskInfo, dfly_task_info, dfly_task_info_ref, dfly_task_info_unref)

DflyTaskInfo *
dfly_task_info_new (const char *id, const char *url)
{
  DflyTaskInfo *info = g_atomic_rc_box_new0 (DflyTaskInfo);

  info->id = g_strdup (id);
  info->url = g_strdup (url);
  info->content_length = -1;
  info->state = DFLY_TASK_STATE_PENDING;
  return info;
}

DflyTaskInfo *
dfly_task_info_copy (const DflyTaskInfo *info)
{
  DflyTaskInfo *copy = g_atomic_rc_box_new0 (DflyTaskInfo);

  *copy = *info;
  copy->id = g_strdup (info->id);
  copy->url = g_strdup (info->url);
  copy->tag = g_strdup (info->tag);
  copy->application = g_strdup (info->application);
  copy->digest = g_strdup (info->digest);
  return copy;
}

DflyTaskInfo *
dfly_task_info_ref (DflyTaskInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

static void
task_info_clear (gpointer data)
{
  DflyTaskInfo *info = data;

  g_free (info->id);
  g_free (info->url);
  g_free (info->tag);
  g_free (info->application);
  g_free (info->digest);
}

void
dfly_task_info_unref (DflyTaskInfo *info)
{
  g_atomic_rc_box_release_full (info, task_info_clear);
}
