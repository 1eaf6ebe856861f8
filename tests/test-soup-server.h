/* test-soup-server.h — a SoupServer on loopback in a thread of its own, and a TLS certificate
 *
 * For tests whose origin must answer what nginx cannot be made to (scripted
 * statuses, token services): the handler runs in the server's thread, so
 * what it shares with the test goes under the caller's lock.
 *
 * Under AddressSanitizer a process that ran libsoup's server or a GnuTLS
 * connection skips the exit-time leak check: libsoup 3.2's listener
 * (Debian 12) leaks its local address and every accepted GSocket, and GCC
 * 12's LeakSanitizer crashes walking the TLS blocks glib-networking's
 * GnuTLS module leaves. valgrind suppresses exactly those stacks
 * (tests/valgrind.supp) and still checks the rest.
 *
 * Header-only, like the other test helpers; include it once per binary.
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#ifdef TEST_ASAN
static gboolean test_leak_check_off;

int __lsan_is_turned_off (void);

int
__lsan_is_turned_off (void)
{
  return test_leak_check_off;
}

static inline void
test_skip_exit_leak_check (void)
{
  test_leak_check_off = TRUE;
}
#else
static inline void
test_skip_exit_leak_check (void)
{
}
#endif

typedef struct {
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  SoupServer   *server;
  guint16       port;
} TestSoupServer;

static inline gpointer
test_soup_server_run (gpointer data)
{
  TestSoupServer *s = data;

  g_main_context_push_thread_default (s->context);
  g_main_loop_run (s->loop);
  /* Torn down where it ran, and every pending close let through. */
  soup_server_disconnect (s->server);
  g_clear_object (&s->server);
  for (guint i = 0; i < 100 && g_main_context_iteration (s->context, FALSE); i++)
    ;
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

/* A server on 127.0.0.1 (a port of the kernel's choice) answering every
 * path with handler, in a thread. */
static inline TestSoupServer *
test_soup_server_start (SoupServerCallback handler, gpointer data)
{
  TestSoupServer *s = g_new0 (TestSoupServer, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  test_skip_exit_leak_check ();
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  g_main_context_push_thread_default (s->context);
  s->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (s->server, NULL, handler, data, NULL);
  soup_server_listen_local (s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  g_main_context_pop_thread_default (s->context);
  uris = soup_server_get_uris (s->server);
  s->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  s->thread = g_thread_new ("soup-server", test_soup_server_run, s);
  return s;
}

static inline gboolean
test_soup_server_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static inline void
test_soup_server_stop (TestSoupServer *s)
{
  g_main_context_invoke (s->context, test_soup_server_quit, s->loop);
  g_thread_join (s->thread);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_free (s);
}

/* A self-signed certificate for 127.0.0.1 and localhost made by openssl:
 * dir/cert.pem (returned) and dir/key.pem; NULL when openssl could not
 * (the test skips). */
static inline char *
test_make_certificate (const char *dir)
{
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  const char      *argv[] = {
         "openssl",
         "req",
         "-x509",
         "-newkey",
         "ec",
         "-pkeyopt",
         "ec_paramgen_curve:prime256v1",
         "-nodes",
         "-days",
         "2",
         "-subj",
         "/CN=localhost",
         "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout",
         key,
         "-out",
         cert,
         NULL,
  };
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    return NULL;
  test_skip_exit_leak_check (); /* the test is about to run TLS */
  return g_steal_pointer (&cert);
}
