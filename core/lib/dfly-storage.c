/* dfly-storage.c — DflyStorage, the base of storage plugins */
#include "config.h"

#include "dfly/dfly-storage.h"

G_DEFINE_ABSTRACT_TYPE (DflyStorage, dfly_storage, DFLY_TYPE_COMPONENT)

static void
dfly_storage_class_init (DflyStorageClass *klass)
{
}

static void
dfly_storage_init (DflyStorage *self)
{
}
