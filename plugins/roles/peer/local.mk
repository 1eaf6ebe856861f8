# peer: this machine as a normal host of the swarm, on the engine
# (plugins/roles/engine).
plugin_LTLIBRARIES += plugins/roles/peer/peer.la
BUILT_PLUGINS += plugins/roles/peer/peer.la
plugins_roles_peer_peer_la_SOURCES = plugins/roles/peer/dfly-peer-role.c
plugins_roles_peer_peer_la_CPPFLAGS = $(AM_CPPFLAGS) $(ENGINE_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-peer\"
plugins_roles_peer_peer_la_CFLAGS = $(AM_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_peer_peer_la_LIBADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_peer_peer_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_peer_peer_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/peer/test-peer
TESTS += plugins/roles/peer/test-peer
plugins_roles_peer_test_peer_SOURCES = \
	plugins/roles/peer/test-peer.c \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/dfly-role-test.h
plugins_roles_peer_test_peer_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_peer_test_peer_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_peer_test_peer_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# Downloads end to end: the role, the real http source and disk storage, and
# nginx (tests/test-origin.h). Each plugin defines dfly_plugin_query, so the
# two services are compiled into convenience libraries with it renamed (their
# source lists come from the plugins' own local.mk, included after this one).
check_LTLIBRARIES += plugins/roles/peer/libtest-http.la plugins/roles/peer/libtest-disk.la
plugins_roles_peer_libtest_http_la_SOURCES = $(plugins_sources_http_http_la_SOURCES)
plugins_roles_peer_libtest_http_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-http\" \
	-Ddfly_plugin_query=dfly_test_http_plugin_query
plugins_roles_peer_libtest_http_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
plugins_roles_peer_libtest_disk_la_SOURCES = $(plugins_storage_disk_disk_la_SOURCES)
plugins_roles_peer_libtest_disk_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-disk\" \
	-Ddfly_plugin_query=dfly_test_disk_plugin_query
plugins_roles_peer_libtest_disk_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)

check_PROGRAMS += plugins/roles/peer/test-download
TESTS += plugins/roles/peer/test-download
plugins_roles_peer_test_download_SOURCES = \
	plugins/roles/peer/test-download.c \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/dfly-role-test.h \
	tests/test-origin.h
plugins_roles_peer_test_download_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_peer_test_download_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_peer_test_download_LDADD = \
	plugins/roles/peer/libtest-http.la plugins/roles/peer/libtest-disk.la \
	$(ENGINE_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(SQLITE_LIBS) $(GLIB_LIBS)
EXTRA_DIST += plugins/roles/peer/README.md
