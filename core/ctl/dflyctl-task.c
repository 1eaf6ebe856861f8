/* dflyctl-task.c — "dflyctl tasks" and "dflyctl task show|rm|cancel ID"
 *
 * A task is named by its 64 hex digits or by a prefix of at least 6 of them,
 * which ListTasks resolves: none is NotFound (exit 4), several are a usage
 * error listing them (exit 2).
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "dfly/dfly-error.h"
#include "dfly/dfly-task-id.h"
#include "dflyctl.h"
#include "dflyctl-parse.h"

#define AMBIGUOUS_SHOWN 4 /* candidates named in the message */

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

gboolean
dflyctl_cmd_tasks (Dflyctl *ctl, GError **error)
{
  gboolean           long_ids = FALSE;
  const GOptionEntry entries[] = {
    { "long", 'l', 0, G_OPTION_ARG_NONE, &long_ids, N_ ("Show whole task ids"), NULL }, { NULL }
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (GVariant) tasks = NULL;

  positional = dflyctl_parse_command_args (
    ctl, entries, NULL, _ ("List the tasks dflyd holds or runs, most recently used first."), NULL,
    error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] != NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("“%s” takes no arguments, got “%s”"),
                 "tasks", quoted);
    return FALSE;
  }
  tasks = dflyctl_call (ctl, "ListTasks", NULL, G_VARIANT_TYPE ("(aa{sv})"), error);
  if (tasks == NULL)
    return FALSE;
  dflyctl_print (ctl, dflyctl_output_tasks (ctl->format, tasks, long_ids, now_seconds ()));
  return TRUE;
}

/* The one task id that starts with @prefix, among those dflyd lists. */
static char *
resolve_prefix (Dflyctl *ctl, const char *prefix, GError **error)
{
  g_autoptr (GVariant) tasks =
    dflyctl_call (ctl, "ListTasks", NULL, G_VARIANT_TYPE ("(aa{sv})"), error);
  g_autoptr (GPtrArray) matches = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) names = NULL;
  GVariantIter iter;
  GVariant    *task;

  if (tasks == NULL)
    return NULL;
  g_variant_iter_init (&iter, tasks);
  while ((task = g_variant_iter_next_value (&iter)) != NULL) {
    char *id = NULL;

    if (g_variant_lookup (task, "id", "s", &id) && g_str_has_prefix (id, prefix))
      g_ptr_array_add (matches, id);
    else
      g_free (id);
    g_variant_unref (task);
  }
  if (matches->len == 1)
    return g_strdup (g_ptr_array_index (matches, 0));
  if (matches->len == 0) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_NOT_FOUND, _ ("no task id starts with “%s”"),
                 prefix);
    return NULL;
  }
  names = g_string_new (NULL);
  for (guint i = 0; i < matches->len && i < AMBIGUOUS_SHOWN; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "",
                            (char *) g_ptr_array_index (matches, i));
  if (matches->len > AMBIGUOUS_SHOWN) {
    g_string_append (names, ", ");
    g_string_append_printf (
      names,
      g_dngettext (GETTEXT_PACKAGE, "and %u more", "and %u more", matches->len - AMBIGUOUS_SHOWN),
      matches->len - AMBIGUOUS_SHOWN);
  }
  g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
               g_dngettext (GETTEXT_PACKAGE, "“%s” is ambiguous: %u task id starts with it: %s",
                            "“%s” is ambiguous: %u task ids start with it: %s", matches->len),
               prefix, matches->len, names->str);
  return NULL;
}

static gboolean
task_show (Dflyctl *ctl, const char *task_id, GError **error)
{
  g_autoptr (GVariant) task = dflyctl_call (ctl, "StatTask", g_variant_new ("(s)", task_id),
                                            G_VARIANT_TYPE ("(a{sv})"), error);

  if (task == NULL)
    return FALSE;
  dflyctl_print (ctl, dflyctl_output_task (ctl->format, task, now_seconds ()));
  return TRUE;
}

static gboolean
task_rm (Dflyctl *ctl, const char *task_id, GError **error)
{
  g_autoptr (GVariant) reply = dflyctl_call_full (ctl, "DeleteTask", g_variant_new ("(s)", task_id),
                                                  G_VARIANT_TYPE ("()"), error);

  if (reply == NULL)
    return FALSE;
  dflyctl_print (ctl, dflyctl_output_task_action (ctl->format, task_id, DFLYCTL_TASK_DELETED));
  return TRUE;
}

static gboolean
task_cancel (Dflyctl *ctl, const char *task_id, GError **error)
{
  g_autoptr (GVariant) reply = dflyctl_call_full (ctl, "CancelTask", g_variant_new ("(s)", task_id),
                                                  G_VARIANT_TYPE ("()"), error);

  if (reply == NULL)
    return FALSE;
  dflyctl_print (ctl, dflyctl_output_task_action (ctl->format, task_id, DFLYCTL_TASK_CANCELLED));
  return TRUE;
}

typedef struct {
  const char *name;
  gboolean (*run) (Dflyctl *ctl, const char *task_id, GError **error);
} TaskSubcommand;

static const TaskSubcommand task_subcommands[] = {
  { "show", task_show },
  { "rm", task_rm },
  { "cancel", task_cancel },
};

static const char task_description[] =
  N_ ("Subcommands:\n"
      "  show ID    Show one task (StatTask)\n"
      "  rm ID      Delete a task and its cached bytes\n"
      "  cancel ID  Stop a running task; its downloads fail as cancelled\n\n"
      "ID is a task id of 64 hex digits, or a unique prefix of at least 6\n"
      "(see 'dflyctl tasks'). Exit status 4: no such task; 2: the prefix\n"
      "matches more than one.");

gboolean
dflyctl_cmd_task (Dflyctl *ctl, GError **error)
{
  g_auto (GStrv) positional = NULL;
  g_autofree char      *task_id = NULL;
  const TaskSubcommand *subcommand = NULL;
  gboolean              is_prefix = FALSE;

  positional = dflyctl_parse_command_args (ctl, NULL, _ ("show|rm|cancel ID"),
                                           _ ("Show, delete or cancel one task."),
                                           _ (task_description), error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("task: no subcommand given; use show, rm or cancel and a task id"));
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (task_subcommands); i++) {
    if (g_str_equal (positional[0], task_subcommands[i].name))
      subcommand = &task_subcommands[i];
  }
  if (subcommand == NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("task: unknown subcommand “%s”; use show, rm or cancel"), quoted);
    return FALSE;
  }
  if (positional[1] == NULL) {
    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE, _ ("task %s: no task id given"),
                 subcommand->name);
    return FALSE;
  }
  if (positional[2] != NULL) {
    g_autofree char *quoted = dflyctl_quote_arg (positional[2]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("task %s: takes one task id, got also “%s”"), subcommand->name, quoted);
    return FALSE;
  }
  task_id = dflyctl_parse_task_id (positional[1], &is_prefix, error);
  if (task_id == NULL) {
    g_prefix_error (error, "task %s: ", subcommand->name);
    return FALSE;
  }
  if (is_prefix) {
    g_autofree char *prefix = g_steal_pointer (&task_id);

    task_id = resolve_prefix (ctl, prefix, error);
    if (task_id == NULL)
      return FALSE;
  }
  return subcommand->run (ctl, task_id, error);
}
