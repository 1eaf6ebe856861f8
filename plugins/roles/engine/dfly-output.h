/* dfly-output.h — putting a downloaded file at the path a caller asked for
 *
 * The file appears whole or not at all: bytes go to a temporary file beside
 * the output, which is renamed over it at the end; any failure removes it.
 */
#pragma once

#include <dfly/dfly.h>

G_BEGIN_DECLS

/* Checks, before a download starts, that output can be written: an absolute
 * path whose directory exists and is writable, not a directory itself, and
 * not inside one of the refused directories (dfly's own cache and state).
 * DFLY_ERROR_INVALID_ARGUMENT with a specific message otherwise. */
gboolean dfly_output_check (const char *output, const char *const *refused_dirs, GError **error);
/* The same in a worker thread (it stats and resolves paths); callback
 * runs in the caller's main context. */
void     dfly_output_check_async (const char *output, const char *const *refused_dirs,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean dfly_output_check_finish (GAsyncResult *result, GError **error);

/* Places the length bytes of content_fd (a descriptor from
 * dfly_storage_open_content, read at offsets, left open) at output: a hard
 * link to its file when hardlink is set and no digest is asked for (falling
 * back to a copy across file systems), else a copy (copy_file_range where it
 * works). digest ("sha256:…" or "sha512:…", or NULL) is checked over the
 * bytes copied: DFLY_ERROR_DIGEST_MISMATCH and no output when they differ.
 * Blocking: call from a worker thread. */
gboolean dfly_output_place (int content_fd, guint64 length, const char *output, gboolean hardlink,
                            const char *digest, GCancellable *cancellable, GError **error);
/* The same for task_id's content in storage, opened and placed in a worker
 * thread; callback runs in the caller's main context. */
void     dfly_output_place_async (DflyStorage *storage, const char *task_id, guint64 length,
                                  const char *output, gboolean hardlink, const char *digest,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean dfly_output_place_finish (GAsyncResult *result, GError **error);

/* A temporary file beside an output, for writing the output while the
 * download runs: committing renames it over the output; freeing an
 * uncommitted one removes it. */
typedef struct _DflyOutputTemp DflyOutputTemp;

DflyOutputTemp *dfly_output_temp_new (const char *output, GError **error);
int             dfly_output_temp_get_fd (DflyOutputTemp *temp);
gboolean        dfly_output_temp_commit (DflyOutputTemp *temp, GError **error);
/* Removes the file now; writes to its descriptor still succeed, unseen. */
void dfly_output_temp_discard (DflyOutputTemp *temp);
void dfly_output_temp_free (DflyOutputTemp *temp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DflyOutputTemp, dfly_output_temp_free)

/* Whether digest is "sha256:<64 hex>" or "sha512:<128 hex>". */
gboolean dfly_output_digest_is_valid (const char *digest);

G_END_DECLS
