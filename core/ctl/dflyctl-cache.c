/* dflyctl-cache.c — "dflyctl cache gc": dflyd's cache, collected on demand */
#include "config.h"

#include <glib/gi18n.h>

#include "dflyctl.h"
#include "dflyctl-parse.h"

static gboolean
cache_gc (Dflyctl *ctl, GError **error)
{
  g_autoptr (GVariant) report =
    dflyctl_call (ctl, "CollectCache", NULL, G_VARIANT_TYPE ("(a{sv})"), error);

  if (report == NULL)
    return FALSE;
  dflyctl_print (ctl, dflyctl_output_cache_report (ctl->format, report));
  return TRUE;
}

typedef struct {
  const char *name;
  gboolean (*run) (Dflyctl *ctl, GError **error);
} CacheSubcommand;

static const CacheSubcommand cache_subcommands[] = {
  { "gc", cache_gc },
};

static const char cache_description[] =
  N_ ("Subcommands:\n"
      "  gc  Collect garbage now: drop what the cache's TTL and quota say\n"
      "      should go, then print what was freed and the usage after it");

gboolean
dflyctl_cmd_cache (Dflyctl *ctl, GError **error)
{
  g_auto (GStrv) positional = NULL;

  positional = dflyctl_parse_command_args (ctl, NULL, "gc", _ ("Look after dflyd's cache."),
                                           _ (cache_description), error);
  if (positional == NULL)
    return FALSE;
  if (positional[0] == NULL) {
    g_set_error_literal (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                         _ ("cache: no subcommand given; use gc"));
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (cache_subcommands); i++) {
    if (!g_str_equal (positional[0], cache_subcommands[i].name))
      continue;
    if (positional[1] != NULL) {
      g_autofree char *quoted = dflyctl_quote_arg (positional[1]);

      g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                   _ ("cache %s: takes no arguments, got “%s”"), cache_subcommands[i].name, quoted);
      return FALSE;
    }
    return cache_subcommands[i].run (ctl, error);
  }
  {
    g_autofree char *quoted = dflyctl_quote_arg (positional[0]);

    g_set_error (error, DFLYCTL_ERROR, DFLYCTL_ERROR_USAGE,
                 _ ("cache: unknown subcommand “%s”; use gc"), quoted);
  }
  return FALSE;
}
