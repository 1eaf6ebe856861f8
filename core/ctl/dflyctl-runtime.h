/* dflyctl-runtime.h — the files "dflyctl runtime" writes: each read under
 * --root, compared, shown as a diff, and replaced atomically with a backup
 *
 * Paths are checked before anything is read: the file itself may not be a
 * symbolic link (replacing it would break the link), and under a --root other
 * than / no directory on the way may be one either (it could lead outside).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Far above any runtime's configuration; a bigger file is refused. */
#define DFLYCTL_RUNTIME_FILE_MAX (1024 * 1024)

typedef enum {
  DFLYCTL_RUNTIME_FILE_UNCHANGED,
  DFLYCTL_RUNTIME_FILE_CREATED,
  DFLYCTL_RUNTIME_FILE_CHANGED,
} DflyctlRuntimeFileState;

typedef struct {
  char *path;       /* root included */
  char *old_text;   /* NULL: no file there yet */
  gsize old_length; /* it may hold a NUL: kept whole for the backup */
  guint old_mode;
  char *new_text; /* NULL until the runtime decides it */
  char *backup;   /* where the old file went, once written */
} DflyctlRuntimeFile;

/* Reads ROOT/RELATIVE, if it is there. */
DflyctlRuntimeFile *dflyctl_runtime_file_open (const char *root, const char *relative,
                                               GError **error);
void                dflyctl_runtime_file_free (DflyctlRuntimeFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyctlRuntimeFile, dflyctl_runtime_file_free)

DflyctlRuntimeFileState dflyctl_runtime_file_state (const DflyctlRuntimeFile *file);
/* diff -u from what is there (or /dev/null) to new_text. */
char *dflyctl_runtime_file_diff (const DflyctlRuntimeFile *file, GError **error);
/* Makes the directories, keeps the old file as PATH.dfly-backup (or, when
 * that exists, PATH.dfly-backup-TIMESTAMP; a backup is never overwritten),
 * then replaces PATH with new_text, keeping its mode. */
gboolean dflyctl_runtime_file_write (DflyctlRuntimeFile *file, GError **error);

G_END_DECLS
