/* dfly-host-info.c — DflyHostInfo, a machine in the cluster, and this one */
#include "config.h"

#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dfly/dfly-types.h"

G_DEFINE_BOXED_TYPE (DflyHostInfo, dfly_host_info, dfly_host_info_ref, dfly_host_info_unref)

DflyHostInfo *
dfly_host_info_new (const char *id)
{
  DflyHostInfo *info = g_atomic_rc_box_new0 (DflyHostInfo);

  info->id = g_strdup (id);
  return info;
}

DflyHostInfo *
dfly_host_info_ref (DflyHostInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

static void
host_info_clear (gpointer data)
{
  DflyHostInfo *info = data;

  g_free (info->id);
  g_free (info->hostname);
  g_free (info->ip);
  g_free (info->idc);
  g_free (info->location);
}

void
dfly_host_info_unref (DflyHostInfo *info)
{
  g_atomic_rc_box_release_full (info, host_info_clear);
}

/* MemTotal and MemAvailable from /proc/meminfo, in bytes; zero when absent. */
static void
read_meminfo (guint64 *total, guint64 *available)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  *total = *available = 0;
  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    guint64 kib = 0;

    if (sscanf (lines[i], "MemTotal: %" G_GUINT64_FORMAT " kB", &kib) == 1)
      *total = kib * 1024;
    else if (sscanf (lines[i], "MemAvailable: %" G_GUINT64_FORMAT " kB", &kib) == 1)
      *available = kib * 1024;
  }
}

DflyHostInfo *
dfly_host_info_new_local (const DflyConfig *config, DflyHostType type, guint16 port)
{
  const char *hostname =
    config->host.hostname[0] != '\0' ? config->host.hostname : g_get_host_name ();
  gboolean         seed = type != DFLY_HOST_TYPE_NORMAL;
  g_autofree char *id = g_strdup_printf ("%s-%s%s", config->host.ip, hostname, seed ? "-seed" : "");
  DflyHostInfo    *info = dfly_host_info_new (id);
  struct statvfs   vfs;

  info->type = type;
  info->hostname = g_strdup (hostname);
  info->ip = g_strdup (config->host.ip);
  info->port = port;
  info->idc = g_strdup (config->host.idc);
  info->location = g_strdup (config->host.location);
  info->cpu_count = g_get_num_processors ();
  info->announce_interval = config->host.announce_interval;
  read_meminfo (&info->mem_total, &info->mem_available);
  if (statvfs (config->daemon.cache_dir, &vfs) == 0) {
    info->disk_total = (guint64) vfs.f_blocks * vfs.f_frsize;
    info->disk_free = (guint64) vfs.f_bavail * vfs.f_frsize;
  }
  return info;
}
