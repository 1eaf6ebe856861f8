/* dfly-manager-store.c — the store interface's calls (see the header) */
#include "config.h"

#include "dfly-manager-store.h"

JsonArray *
dfly_manager_store_list (DflyManagerStore *self, const DflyManagerTable *table, const char *filter,
                         gint64 filter_value, GError **error)
{
  return self->ops->list (self, table, filter, filter_value, error);
}

JsonObject *
dfly_manager_store_get (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                        GError **error)
{
  return self->ops->get (self, table, id, error);
}

JsonObject *
dfly_manager_store_create (DflyManagerStore *self, const DflyManagerTable *table,
                           JsonObject *record, char **field, GError **error)
{
  *field = NULL;
  return self->ops->create (self, table, record, field, error);
}

JsonObject *
dfly_manager_store_update (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                           JsonObject *record, char **field, GError **error)
{
  *field = NULL;
  return self->ops->update (self, table, id, record, field, error);
}

gboolean
dfly_manager_store_remove (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                           GError **error)
{
  return self->ops->remove (self, table, id, error);
}

JsonObject *
dfly_manager_store_register_host (DflyManagerStore *self, const DflyManagerTable *table,
                                  JsonObject *record, char **field, GError **error)
{
  g_return_val_if_fail (table->host, NULL);
  *field = NULL;
  return self->ops->register_host (self, table, record, field, error);
}

gboolean
dfly_manager_store_keepalive (DflyManagerStore *self, const DflyManagerTable *table, gint64 id,
                              GError **error)
{
  g_return_val_if_fail (table->host, FALSE);
  return self->ops->keepalive (self, table, id, error);
}

void
dfly_manager_store_free (DflyManagerStore *self)
{
  if (self != NULL)
    self->ops->free (self);
}
