# peer: this machine as a normal host of the swarm.
plugin_LTLIBRARIES += plugins/roles/peer/peer.la
BUILT_PLUGINS += plugins/roles/peer/peer.la
plugins_roles_peer_peer_la_SOURCES = \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-download.h \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h
plugins_roles_peer_peer_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-peer\"
plugins_roles_peer_peer_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_peer_peer_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_peer_peer_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/peer/test-peer
TESTS += plugins/roles/peer/test-peer
plugins_roles_peer_test_peer_SOURCES = \
	plugins/roles/peer/test-peer.c \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-download.h \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h \
	plugins/roles/dfly-role-test.h
plugins_roles_peer_test_peer_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_peer_test_peer_CFLAGS = $(TEST_CFLAGS)
plugins_roles_peer_test_peer_LDADD = core/libdfly-1.la $(GLIB_LIBS)
