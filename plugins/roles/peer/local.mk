# peer: this machine as a normal host of the swarm. PEER_SUPPORT_SOURCES is
# all but the role's own file, which some tests #include.
PEER_SUPPORT_SOURCES = \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-download.h \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h \
	plugins/roles/peer/dfly-parent-links.c \
	plugins/roles/peer/dfly-parent-links.h \
	plugins/roles/peer/dfly-piece-fetcher.c \
	plugins/roles/peer/dfly-piece-fetcher.h \
	plugins/roles/peer/dfly-piece-sender.c \
	plugins/roles/peer/dfly-piece-sender.h \
	plugins/roles/peer/dfly-rate-limiter.c \
	plugins/roles/peer/dfly-rate-limiter.h \
	plugins/roles/peer/dfly-scheduler-client.c \
	plugins/roles/peer/dfly-scheduler-client.h \
	plugins/roles/peer/dfly-swarm.c \
	plugins/roles/peer/dfly-swarm.h \
	plugins/roles/peer/dfly-upload-server.c \
	plugins/roles/peer/dfly-upload-server.h
PEER_ROLE_SOURCES = plugins/roles/peer/dfly-peer-role.c $(PEER_SUPPORT_SOURCES)
plugin_LTLIBRARIES += plugins/roles/peer/peer.la
BUILT_PLUGINS += plugins/roles/peer/peer.la
plugins_roles_peer_peer_la_SOURCES = $(PEER_ROLE_SOURCES)
plugins_roles_peer_peer_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-peer\"
plugins_roles_peer_peer_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_peer_peer_la_LIBADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_peer_peer_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_peer_peer_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/peer/test-peer
TESTS += plugins/roles/peer/test-peer
plugins_roles_peer_test_peer_SOURCES = \
	plugins/roles/peer/test-peer.c \
	$(PEER_ROLE_SOURCES) \
	plugins/roles/dfly-role-test.h
plugins_roles_peer_test_peer_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_peer_test_peer_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_peer_test_peer_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-output alone: checking, placing and committing outputs.
check_PROGRAMS += plugins/roles/peer/test-output
TESTS += plugins/roles/peer/test-output
plugins_roles_peer_test_output_SOURCES = \
	plugins/roles/peer/test-output.c \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h
plugins_roles_peer_test_output_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_peer_test_output_CFLAGS = $(TEST_CFLAGS)
plugins_roles_peer_test_output_LDADD = core/libdfly-1.la $(GLIB_LIBS)

# dfly-rate-limiter alone: the shared token bucket.
check_PROGRAMS += plugins/roles/peer/test-rate-limiter
TESTS += plugins/roles/peer/test-rate-limiter
plugins_roles_peer_test_rate_limiter_SOURCES = \
	plugins/roles/peer/test-rate-limiter.c \
	plugins/roles/peer/dfly-rate-limiter.c \
	plugins/roles/peer/dfly-rate-limiter.h
plugins_roles_peer_test_rate_limiter_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_peer_test_rate_limiter_CFLAGS = $(TEST_CFLAGS)
plugins_roles_peer_test_rate_limiter_LDADD = $(GLIB_LIBS)

# dfly-piece-fetcher alone, against a raw parent that answers scripted bytes.
check_PROGRAMS += plugins/roles/peer/test-piece-fetcher
TESTS += plugins/roles/peer/test-piece-fetcher
plugins_roles_peer_test_piece_fetcher_SOURCES = \
	plugins/roles/peer/test-piece-fetcher.c \
	plugins/roles/peer/dfly-piece-fetcher.c \
	plugins/roles/peer/dfly-piece-fetcher.h
plugins_roles_peer_test_piece_fetcher_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_peer_test_piece_fetcher_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_peer_test_piece_fetcher_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)

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
	$(PEER_ROLE_SOURCES) \
	plugins/roles/dfly-role-test.h \
	tests/test-origin.h
plugins_roles_peer_test_download_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_peer_test_download_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_peer_test_download_LDADD = \
	plugins/roles/peer/libtest-http.la plugins/roles/peer/libtest-disk.la \
	$(PROTO_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(SQLITE_LIBS) $(GLIB_LIBS)
