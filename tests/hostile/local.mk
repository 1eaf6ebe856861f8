# dfly-hostile: the attacker the trust tests run against real daemons
# (see tests/hostile/dfly-hostile.h). Built with the tests, never installed.
check_PROGRAMS += tests/hostile/dfly-hostile
tests_hostile_dfly_hostile_SOURCES = \
	tests/hostile/dfly-hostile.c \
	tests/hostile/dfly-hostile.h \
	tests/hostile/hostile-announce.c \
	tests/hostile/hostile-announce.h \
	tests/hostile/hostile-claim-source.c \
	tests/hostile/hostile-fake-hosts.c \
	tests/hostile/hostile-lengths.c \
	tests/hostile/hostile-lying-scheduler.c \
	tests/hostile/hostile-spoof-host.c \
	tests/hostile/hostile-forge-parent.c \
	tests/hostile/hostile-accuse.c \
	tests/hostile/hostile-trickle.c \
	tests/hostile/hostile-ws-noread.c
tests_hostile_dfly_hostile_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) -I$(builddir)/proto \
	-DG_LOG_DOMAIN=\"dfly-hostile\"
tests_hostile_dfly_hostile_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS) $(GNUTLS_CFLAGS)
tests_hostile_dfly_hostile_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS) $(GNUTLS_LIBS)
