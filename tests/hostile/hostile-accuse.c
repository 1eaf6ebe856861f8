/* hostile-accuse.c — a peer that falsely accuses an honest parent of serving bad pieces
 *
 *   dfly-hostile accuse SCHEDULER IP TASK_ID URL PIECE_LENGTH PARENT_IP PIECES
 *
 * Announces a host at IP (IP-accuser; its peer is IP-accuser-liar) to the
 * scheduler at SCHEDULER ("ip:port"), registers a peer for task TASK_ID
 * (URL's, in pieces of PIECE_LENGTH) and
 * waits to be offered the parent at PARENT_IP; then reports each piece of
 * PIECES ("0,1,2") as served by it with a wrong digest, though it never
 * fetched one. Prints "parent=" (the accused peer id) and "accused=" (how
 * many pieces); exits 1 when no parent at PARENT_IP was offered.
 */
#include "config.h"

#include "dfly-hostile.h"
#include "hostile-announce.h"

/* The peer id of the parent at ip among what the scheduler offered, or NULL. */
static const char *
offered_at (HostileAnnounce *announce, const char *ip)
{
  for (guint i = 0; i < announce->responses->len; i++) {
    Dfly__V1__AnnouncePeerResponse *response = g_ptr_array_index (announce->responses, i);

    if (response->response_case != DFLY__V1__ANNOUNCE_PEER_RESPONSE__RESPONSE_NORMAL_TASK)
      continue;
    for (gsize j = 0; j < response->normal_task->n_candidate_parents; j++) {
      Dfly__V1__CandidateParent *candidate = response->normal_task->candidate_parents[j];

      if (candidate->host != NULL && g_strcmp0 (candidate->host->ip, ip) == 0)
        return candidate->peer_id;
    }
  }
  return NULL;
}

int
hostile_accuse (int argc, char **argv)
{
  HostileAnnounce  announce = { 0 };
  g_autofree char *host_id = NULL;
  g_auto (GStrv) pieces = NULL;
  const char *parent = NULL;
  gboolean    never = FALSE;
  guint       accused = 0;

  if (argc != 8) {
    g_printerr ("usage: accuse SCHEDULER IP TASK_ID URL PIECE_LENGTH PARENT_IP PIECES\n");
    return 2;
  }
  host_id = g_strconcat (argv[2], "-accuser", NULL);
  if (!hostile_announce_open (&announce, argv[1], host_id, argv[4]))
    return 1;
  /* The task the test names: its id may carry what the URL alone does not. */
  g_free (announce.task_id);
  announce.task_id = g_strdup (argv[3]);
  hostile_announce_host (&announce, argv[2], 4000);
  hostile_announce_register (&announce, argv[4], g_ascii_strtoull (argv[5], NULL, 10), FALSE,
                             FALSE);
  for (int tries = 0; tries < 100 && (parent = offered_at (&announce, argv[6])) == NULL; tries++)
    hostile_wait (&never, 100);
  g_print ("parent=%s\n", parent != NULL ? parent : "none");
  if (parent == NULL) {
    hostile_announce_close (&announce);
    return 1;
  }
  pieces = g_strsplit (argv[7], ",", -1);
  for (guint i = 0; pieces[i] != NULL; i++) {
    Dfly__V1__AnnouncePeerRequest        request = DFLY__V1__ANNOUNCE_PEER_REQUEST__INIT;
    Dfly__V1__DownloadPieceFailedRequest failed = DFLY__V1__DOWNLOAD_PIECE_FAILED_REQUEST__INIT;

    failed.piece_number = (guint32) g_ascii_strtoull (pieces[i], NULL, 10);
    failed.parent_id = (char *) parent;
    failed.digest_mismatch = TRUE;
    request.request_case = DFLY__V1__ANNOUNCE_PEER_REQUEST__REQUEST_DOWNLOAD_PIECE_FAILED;
    request.download_piece_failed = &failed;
    hostile_announce_send (&announce, &request);
    accused++;
  }
  /* Long enough for the frames to leave before the stream closes. */
  hostile_wait (&never, 1000);
  g_print ("accused=%u\n", accused);
  hostile_announce_close (&announce);
  return 0;
}
