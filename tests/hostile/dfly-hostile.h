/* dfly-hostile.h — the attacks tests/system/test-trust*.sh make on real daemons
 *
 * dfly-hostile is what a hostile machine on the cluster network runs: it
 * speaks dfly's protocol (libdfly-proto) but lies. Each attack is one
 * subcommand in a file of its own (hostile-<name>.c), listed in
 * dfly-hostile.c's table; it prints what it did on stdout, one "key=value"
 * line each, for the test script to check, and exits 0 when the attack could
 * be made (whether or not it was refused: the test says which it expects).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef int (*DflyHostileFunc) (int argc, char **argv);

typedef struct {
  const char     *name;
  const char     *usage;
  DflyHostileFunc run;
} DflyHostileAttack;

/* Runs the default main context until *done or timeout_ms pass; FALSE on timeout. */
gboolean hostile_wait (gboolean *done, guint timeout_ms);

/* The attacks (one file each). */
int hostile_forge_parent (int argc, char **argv);
int hostile_accuse (int argc, char **argv);
int hostile_trickle (int argc, char **argv);
int hostile_ws_noread (int argc, char **argv);
int hostile_fake_hosts (int argc, char **argv);
int hostile_lengths (int argc, char **argv);
int hostile_claim_source (int argc, char **argv);
int hostile_lying_scheduler (int argc, char **argv);
int hostile_spoof_host (int argc, char **argv);

G_END_DECLS
