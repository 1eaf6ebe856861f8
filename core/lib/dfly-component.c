/* dfly-component.c — DflyComponent, the base of every plugin object */
#include "config.h"

#include "dfly/dfly-component.h"

typedef struct {
  DflyContext *context;
  char        *name;
} DflyComponentPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (DflyComponent, dfly_component, G_TYPE_OBJECT)

enum { PROP_0, PROP_CONTEXT, PROP_NAME, N_PROPS };
static GParamSpec *props[N_PROPS];

static void
dfly_component_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (DFLY_COMPONENT (object));

  switch (prop_id) {
  case PROP_CONTEXT:
    priv->context = g_value_dup_object (value);
    break;
  case PROP_NAME:
    priv->name = g_value_dup_string (value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
dfly_component_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (DFLY_COMPONENT (object));

  switch (prop_id) {
  case PROP_CONTEXT:
    g_value_set_object (value, priv->context);
    break;
  case PROP_NAME:
    g_value_set_string (value, priv->name);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
dfly_component_finalize (GObject *object)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (DFLY_COMPONENT (object));

  g_clear_object (&priv->context);
  g_free (priv->name);
  G_OBJECT_CLASS (dfly_component_parent_class)->finalize (object);
}

static void
dfly_component_class_init (DflyComponentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = dfly_component_set_property;
  object_class->get_property = dfly_component_get_property;
  object_class->finalize = dfly_component_finalize;
  props[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, DFLY_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_NAME] = g_param_spec_string (
    "name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
dfly_component_init (DflyComponent *self)
{
}

DflyContext *
dfly_component_get_context (DflyComponent *self)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (self);

  g_return_val_if_fail (DFLY_IS_COMPONENT (self), NULL);
  return priv->context;
}

const char *
dfly_component_get_name (DflyComponent *self)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (self);

  g_return_val_if_fail (DFLY_IS_COMPONENT (self), NULL);
  return priv->name;
}

gconstpointer
dfly_component_get_settings (DflyComponent *self)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (self);
  DflySettings         *settings;

  g_return_val_if_fail (DFLY_IS_COMPONENT (self), NULL);
  settings = dfly_config_get_settings (dfly_context_get_config (priv->context), priv->name);
  return settings != NULL ? dfly_settings_get_values (settings) : NULL;
}

DflySettings *
dfly_component_dup_settings (DflyComponent *self)
{
  DflyComponentPrivate *priv = dfly_component_get_instance_private (self);
  g_autoptr (DflyConfig) config = NULL;
  DflySettings *settings;

  g_return_val_if_fail (DFLY_IS_COMPONENT (self), NULL);
  config = dfly_context_dup_config (priv->context);
  settings = dfly_config_get_settings (config, priv->name);
  return settings != NULL ? dfly_settings_ref (settings) : NULL;
}
