/* dfly-hostile.c — the attacker's entry point: one subcommand an attack */
#include "config.h"

#include <string.h>

#include "dfly-hostile.h"

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
hostile_wait (gboolean *done, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint    id = g_timeout_add (timeout_ms, on_timeout, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *done;
}

/* Each attack's file adds its line here. */
static const DflyHostileAttack attacks[] = {
  { "forge-parent", "SCHEDULER IP TASK_ID URL FILE PIECE_LENGTH SECONDS", hostile_forge_parent },
  { "accuse", "SCHEDULER IP TASK_ID URL PIECE_LENGTH PARENT_IP PIECES", hostile_accuse },
  { "trickle", "[--piece] N HOST PORT SECONDS [FROM_IP...]", hostile_trickle },
  { "ws-noread", "HOST PORT PATH STREAMS SECONDS TASK_ID...", hostile_ws_noread },
  { "fake-hosts", "SCHEDULER COUNT INTERVAL", hostile_fake_hosts },
  { "hostile-lengths", "SCHEDULER URL SECONDS", hostile_lengths },
  { "claim-source", "SCHEDULER URL SECONDS", hostile_claim_source },
  { "lying-scheduler", "IP SECONDS", hostile_lying_scheduler },
  { "spoof-host", "SCHEDULER OTHER_HOST_ID URL", hostile_spoof_host },
  { NULL, NULL, NULL },
};

int
main (int argc, char **argv)
{
  if (argc >= 2) {
    for (gsize i = 0; attacks[i].name != NULL; i++) {
      if (strcmp (argv[1], attacks[i].name) == 0)
        return attacks[i].run (argc - 1, argv + 1);
    }
  }
  g_printerr ("usage: dfly-hostile ATTACK [ARGS]\n");
  for (gsize i = 0; attacks[i].name != NULL; i++)
    g_printerr ("  %s %s\n", attacks[i].name, attacks[i].usage);
  return 2;
}
