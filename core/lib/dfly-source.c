/* dfly-source.c — DflySource, the base of origin plugins */
#include "config.h"

#include "dfly/dfly-source.h"

G_DEFINE_ABSTRACT_TYPE (DflySource, dfly_source, DFLY_TYPE_COMPONENT)

static void
dfly_source_class_init (DflySourceClass *klass)
{
}

static void
dfly_source_init (DflySource *self)
{
}

void
dfly_source_stat_free (DflySourceStat *stat)
{
  if (stat == NULL)
    return;
  g_free (stat->etag);
  g_free (stat->last_modified);
  g_free (stat->digest);
  g_free (stat);
}

const char * const *
dfly_source_get_schemes (DflySource *self)
{
  static const char * const none[] = { NULL };
  DflySourceClass *klass;

  g_return_val_if_fail (DFLY_IS_SOURCE (self), none);
  klass = DFLY_SOURCE_GET_CLASS (self);
  return klass->get_schemes != NULL ? klass->get_schemes (self) : none;
}
