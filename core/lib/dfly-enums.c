/* dfly-enums.c — GTypes and names of the public enums */
#include "config.h"

#include "dfly/dfly-config.h"
#include "dfly/dfly-plugin.h"
#include "dfly/dfly-types.h"

G_DEFINE_ENUM_TYPE (DflyTaskState, dfly_task_state,
                    G_DEFINE_ENUM_VALUE (DFLY_TASK_STATE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (DFLY_TASK_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (DFLY_TASK_STATE_SUCCEEDED, "succeeded"),
                    G_DEFINE_ENUM_VALUE (DFLY_TASK_STATE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (DflyPeerState, dfly_peer_state,
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_PENDING, "pending"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_RECEIVED, "received"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_BACK_TO_SOURCE, "back-to-source"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_SUCCEEDED, "succeeded"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (DFLY_PEER_STATE_LEAVE, "leave"))

G_DEFINE_ENUM_TYPE (DflyHostType, dfly_host_type,
                    G_DEFINE_ENUM_VALUE (DFLY_HOST_TYPE_NORMAL, "normal"),
                    G_DEFINE_ENUM_VALUE (DFLY_HOST_TYPE_SUPER, "super"),
                    G_DEFINE_ENUM_VALUE (DFLY_HOST_TYPE_STRONG, "strong"),
                    G_DEFINE_ENUM_VALUE (DFLY_HOST_TYPE_WEAK, "weak"))

G_DEFINE_ENUM_TYPE (DflyRoleState, dfly_role_state,
                    G_DEFINE_ENUM_VALUE (DFLY_ROLE_STATE_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (DFLY_ROLE_STATE_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (DFLY_ROLE_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (DFLY_ROLE_STATE_STOPPING, "stopping"),
                    G_DEFINE_ENUM_VALUE (DFLY_ROLE_STATE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (DflyPluginKind, dfly_plugin_kind,
                    G_DEFINE_ENUM_VALUE (DFLY_PLUGIN_KIND_ROLE, "role"),
                    G_DEFINE_ENUM_VALUE (DFLY_PLUGIN_KIND_SOURCE, "source"),
                    G_DEFINE_ENUM_VALUE (DFLY_PLUGIN_KIND_STORAGE, "storage"),
                    G_DEFINE_ENUM_VALUE (DFLY_PLUGIN_KIND_SCHEDULER, "scheduler"))

G_DEFINE_ENUM_TYPE (DflyLogLevel, dfly_log_level,
                    G_DEFINE_ENUM_VALUE (DFLY_LOG_LEVEL_ERROR, "error"),
                    G_DEFINE_ENUM_VALUE (DFLY_LOG_LEVEL_WARNING, "warning"),
                    G_DEFINE_ENUM_VALUE (DFLY_LOG_LEVEL_MESSAGE, "message"),
                    G_DEFINE_ENUM_VALUE (DFLY_LOG_LEVEL_INFO, "info"),
                    G_DEFINE_ENUM_VALUE (DFLY_LOG_LEVEL_DEBUG, "debug"))

/* The nick of a value, or "unknown" for a value outside the enum. */
static const char *
enum_nick (GType type, int value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *ev = g_enum_get_value (klass, value);
  const char *nick = ev != NULL ? ev->value_nick : "unknown";

  /* Enum classes are static once created: the nick outlives the ref. */
  g_type_class_unref (klass);
  return nick;
}

const char *
dfly_task_state_to_string (DflyTaskState state)
{
  return enum_nick (DFLY_TYPE_TASK_STATE, state);
}

const char *
dfly_peer_state_to_string (DflyPeerState state)
{
  return enum_nick (DFLY_TYPE_PEER_STATE, state);
}

const char *
dfly_host_type_to_string (DflyHostType type)
{
  return enum_nick (DFLY_TYPE_HOST_TYPE, type);
}

const char *
dfly_role_state_to_string (DflyRoleState state)
{
  return enum_nick (DFLY_TYPE_ROLE_STATE, state);
}

const char *
dfly_plugin_kind_to_string (DflyPluginKind kind)
{
  return enum_nick (DFLY_TYPE_PLUGIN_KIND, kind);
}

const char *
dfly_log_level_to_string (DflyLogLevel level)
{
  return enum_nick (DFLY_TYPE_LOG_LEVEL, level);
}
