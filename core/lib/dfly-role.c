/* dfly-role.c — DflyRole, the base of manager, scheduler, seed and peer
 *
 * The base class owns the state machine so that every role reports the same
 * states the same way: stopped → starting → running → stopping → stopped,
 * and failed from starting or running.
 */
#include "config.h"

#include "dfly/dfly-error.h"
#include "dfly/dfly-role.h"

typedef struct {
  DflyRoleState state;
  GError       *error;
} DflyRolePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (DflyRole, dfly_role, DFLY_TYPE_COMPONENT)

static void
set_state (DflyRole *self, DflyRoleState state)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);
  DflyContext     *context = dfly_component_get_context (DFLY_COMPONENT (self));

  if (priv->state == state)
    return;
  priv->state = state;
  if (context != NULL)
    dfly_bus_emit_role_state_changed (dfly_context_get_bus (context),
                                      dfly_component_get_name (DFLY_COMPONENT (self)), state);
}

static void
default_stop_async (DflyRole *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  if (DFLY_ROLE_GET_CLASS (self)->stop != NULL)
    DFLY_ROLE_GET_CLASS (self)->stop (self);
  g_task_return_boolean (task, TRUE);
}

static gboolean
default_stop_finish (DflyRole *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
dfly_role_finalize (GObject *object)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (DFLY_ROLE (object));

  g_clear_error (&priv->error);
  G_OBJECT_CLASS (dfly_role_parent_class)->finalize (object);
}

static void
dfly_role_class_init (DflyRoleClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dfly_role_finalize;
  klass->stop_async = default_stop_async;
  klass->stop_finish = default_stop_finish;
}

static void
dfly_role_init (DflyRole *self)
{
}

gboolean
dfly_role_start (DflyRole *self, GError **error)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);
  DflyRoleClass   *klass = DFLY_ROLE_GET_CLASS (self);
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (DFLY_IS_ROLE (self), FALSE);
  if (priv->state != DFLY_ROLE_STATE_STOPPED) {
    g_set_error (error, DFLY_ERROR, DFLY_ERROR_BUSY, "role %s is %s, not stopped",
                 dfly_component_get_name (DFLY_COMPONENT (self)),
                 dfly_role_state_to_string (priv->state));
    return FALSE;
  }
  set_state (self, DFLY_ROLE_STATE_STARTING);
  if (klass->start != NULL && !klass->start (self, &local_error)) {
    dfly_role_set_failed (self, local_error);
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }
  set_state (self, DFLY_ROLE_STATE_RUNNING);
  return TRUE;
}

static void
stop_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DflyRole *self = DFLY_ROLE (source);
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!DFLY_ROLE_GET_CLASS (self)->stop_finish (self, result, &error)) {
    dfly_role_set_failed (self, error);
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  set_state (self, DFLY_ROLE_STATE_STOPPED);
  g_task_return_boolean (task, TRUE);
}

void
dfly_role_stop_async (DflyRole *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, dfly_role_stop_async);
  /* Only a running role has anything to stop; a failed one stays failed. */
  if (priv->state != DFLY_ROLE_STATE_RUNNING) {
    g_task_return_boolean (task, TRUE);
    return;
  }
  set_state (self, DFLY_ROLE_STATE_STOPPING);
  DFLY_ROLE_GET_CLASS (self)->stop_async (self, cancellable, stop_done, g_steal_pointer (&task));
}

gboolean
dfly_role_stop_finish (DflyRole *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

char *
dfly_role_describe (DflyRole *self)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);
  DflyRoleClass   *klass = DFLY_ROLE_GET_CLASS (self);

  g_return_val_if_fail (DFLY_IS_ROLE (self), NULL);
  if (priv->state == DFLY_ROLE_STATE_FAILED && priv->error != NULL)
    return g_strdup (priv->error->message);
  if (priv->state == DFLY_ROLE_STATE_RUNNING && klass->describe != NULL)
    return klass->describe (self);
  return g_strdup ("");
}

DflyRoleState
dfly_role_get_state (DflyRole *self)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);

  g_return_val_if_fail (DFLY_IS_ROLE (self), DFLY_ROLE_STATE_FAILED);
  return priv->state;
}

const GError *
dfly_role_get_error (DflyRole *self)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);

  g_return_val_if_fail (DFLY_IS_ROLE (self), NULL);
  return priv->error;
}

void
dfly_role_set_failed (DflyRole *self, const GError *error)
{
  DflyRolePrivate *priv = dfly_role_get_instance_private (self);

  g_return_if_fail (DFLY_IS_ROLE (self) && error != NULL);
  g_clear_error (&priv->error);
  priv->error = g_error_copy (error);
  set_state (self, DFLY_ROLE_STATE_FAILED);
}
