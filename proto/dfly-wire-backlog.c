/* dfly-wire-backlog.c — bytes a socket's peer has not taken yet (see the header) */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "dfly-wire-backlog.h"

#define POOL_KEY "dfly-wire-backlog-pool"

struct _DflyWireBacklogPool {
  gatomicrefcount ref_count;
  guint64         cap;
  guint64         total;    /* of its backlogs' waiting; main thread */
  guint           backlogs; /* counting against it; main thread */
};

/* Over its pool's cap, a backlog larger than its share of it (the cap over
 * the backlogs), and than this, is over its share. */
#define SHARE_MIN (64 * 1024)

struct _DflyWireBacklog {
  GSocket             *socket;
  DflyWireBacklogPool *pool;    /* NULL: none */
  guint64              written; /* by the kernel's count, when last asked */
  guint64              waiting; /* handed over and not written, then */
};

DflyWireBacklogPool *
dfly_wire_backlog_pool_new (guint64 cap)
{
  DflyWireBacklogPool *pool = g_new0 (DflyWireBacklogPool, 1);

  g_atomic_ref_count_init (&pool->ref_count);
  pool->cap = cap;
  return pool;
}

void
dfly_wire_backlog_pool_unref (DflyWireBacklogPool *pool)
{
  if (pool != NULL && g_atomic_ref_count_dec (&pool->ref_count))
    g_free (pool);
}

void
dfly_wire_backlog_pool_attach (DflyWireBacklogPool *pool, GSocket *socket)
{
  g_atomic_ref_count_inc (&pool->ref_count);
  g_object_set_data_full (G_OBJECT (socket), POOL_KEY, pool,
                          (GDestroyNotify) dfly_wire_backlog_pool_unref);
}

/* Bytes written to the socket since it opened, by the kernel's count. */
static gboolean
written_bytes (int fd, guint64 *written)
{
  struct tcp_info info = { 0 };
  socklen_t       length = sizeof info;
  int             queued = 0;

  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &length) < 0 ||
      length < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked ||
      ioctl (fd, SIOCOUTQ, &queued) < 0 || queued < 0)
    return FALSE;
  *written = info.tcpi_bytes_acked + (guint64) queued;
  return TRUE;
}

DflyWireBacklog *
dfly_wire_backlog_new (GSocket *socket)
{
  guint64          written;
  DflyWireBacklog *self;

  if (!written_bytes (g_socket_get_fd (socket), &written))
    return NULL;
  self = g_new0 (DflyWireBacklog, 1);
  self->socket = g_object_ref (socket);
  self->pool = g_object_get_data (G_OBJECT (socket), POOL_KEY);
  if (self->pool != NULL) {
    g_atomic_ref_count_inc (&self->pool->ref_count);
    self->pool->backlogs++;
  }
  self->written = written;
  return self;
}

void
dfly_wire_backlog_free (DflyWireBacklog *self)
{
  if (self == NULL)
    return;
  if (self->pool != NULL) {
    self->pool->total -= MIN (self->pool->total, self->waiting);
    self->pool->backlogs--;
    dfly_wire_backlog_pool_unref (self->pool);
  }
  g_object_unref (self->socket);
  g_free (self);
}

guint64
dfly_wire_backlog_add (DflyWireBacklog *self, gsize length)
{
  guint64 written;
  guint64 before = self->waiting;

  /* A socket closed meanwhile writes nothing more. */
  if (written_bytes (g_socket_get_fd (self->socket), &written) && written > self->written) {
    self->waiting -= MIN (self->waiting, written - self->written);
    self->written = written;
  }
  self->waiting += length;
  if (self->pool != NULL)
    self->pool->total = self->pool->total - MIN (self->pool->total, before) + self->waiting;
  return self->waiting;
}

gboolean
dfly_wire_backlog_over_share (DflyWireBacklog *self)
{
  DflyWireBacklogPool *pool = self->pool;

  return pool != NULL && pool->cap > 0 && pool->total > pool->cap &&
         self->waiting > MAX (pool->cap / MAX (pool->backlogs, 1), SHARE_MIN);
}
