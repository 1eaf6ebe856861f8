/* dfly-peer-info.c — DflyPeerInfo, one host's download of one task */
#include "config.h"

#include "dfly/dfly-types.h"

G_DEFINE_BOXED_TYPE (DflyPeerInfo, dfly_peer_info, dfly_peer_info_ref, dfly_peer_info_unref)

DflyPeerInfo *
dfly_peer_info_new (const char *id, const char *task_id, const char *host_id)
{
  DflyPeerInfo *info = g_atomic_rc_box_new0 (DflyPeerInfo);

  info->id = g_strdup (id);
  info->task_id = g_strdup (task_id);
  info->host_id = g_strdup (host_id);
  info->state = DFLY_PEER_STATE_PENDING;
  return info;
}

DflyPeerInfo *
dfly_peer_info_ref (DflyPeerInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

static void
peer_info_clear (gpointer data)
{
  DflyPeerInfo *info = data;

  g_free (info->id);
  g_free (info->task_id);
  g_free (info->host_id);
}

void
dfly_peer_info_unref (DflyPeerInfo *info)
{
  g_atomic_rc_box_release_full (info, peer_info_clear);
}
