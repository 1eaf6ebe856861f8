# proxy: the HTTP proxy and registry mirror in front of the peer (libsoup).
plugin_LTLIBRARIES += plugins/roles/proxy/proxy.la
BUILT_PLUGINS += plugins/roles/proxy/proxy.la
# The parsers a client's request reaches: the role's, and compiled into the
# unit test and the fuzz target (tests/fuzz/fuzz-proxy.c) as well.
PROXY_PARSER_SOURCES = \
	plugins/roles/proxy/dfly-proxy.h \
	plugins/roles/proxy/dfly-proxy-settings.c \
	plugins/roles/proxy/dfly-proxy-settings.h \
	plugins/roles/proxy/dfly-proxy-rules.c \
	plugins/roles/proxy/dfly-proxy-rules.h \
	plugins/roles/proxy/dfly-proxy-target.c \
	plugins/roles/proxy/dfly-proxy-target.h \
	plugins/roles/proxy/dfly-proxy-headers.c \
	plugins/roles/proxy/dfly-proxy-headers.h \
	plugins/roles/proxy/dfly-proxy-range.c \
	plugins/roles/proxy/dfly-proxy-range.h
PROXY_ROLE_SOURCES = \
	$(PROXY_PARSER_SOURCES) \
	plugins/roles/proxy/dfly-proxy-role.c \
	plugins/roles/proxy/dfly-proxy-cache.c \
	plugins/roles/proxy/dfly-proxy-cache.h \
	plugins/roles/proxy/dfly-proxy-pump.c \
	plugins/roles/proxy/dfly-proxy-pump.h \
	plugins/roles/proxy/dfly-proxy-relay.c \
	plugins/roles/proxy/dfly-proxy-relay.h \
	plugins/roles/proxy/dfly-proxy-prefetch.c \
	plugins/roles/proxy/dfly-proxy-prefetch.h \
	plugins/roles/proxy/dfly-proxy-p2p.c \
	plugins/roles/proxy/dfly-proxy-p2p.h \
	plugins/roles/proxy/dfly-proxy-tunnel.c \
	plugins/roles/proxy/dfly-proxy-tunnel.h \
	plugins/roles/proxy/dfly-proxy-leaves.c \
	plugins/roles/proxy/dfly-proxy-leaves.h
plugins_roles_proxy_proxy_la_SOURCES = $(PROXY_ROLE_SOURCES)
plugins_roles_proxy_proxy_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"dfly-proxy\"
plugins_roles_proxy_proxy_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_proxy_proxy_la_LIBADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_proxy_proxy_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_proxy_proxy_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map
EXTRA_DIST += plugins/roles/proxy/README.md

# The parsers, with real assertions (tests/fuzz/fuzz-proxy.c fuzzes them).
check_PROGRAMS += plugins/roles/proxy/test-proxy
TESTS += plugins/roles/proxy/test-proxy
plugins_roles_proxy_test_proxy_SOURCES = \
	plugins/roles/proxy/test-proxy.c \
	tests/test-soup-server.h \
	$(PROXY_PARSER_SOURCES)
plugins_roles_proxy_test_proxy_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_proxy_test_proxy_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
plugins_roles_proxy_test_proxy_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)

# The interception CA's leaf cache, with real certificates.
check_PROGRAMS += plugins/roles/proxy/test-proxy-leaves
TESTS += plugins/roles/proxy/test-proxy-leaves
plugins_roles_proxy_test_proxy_leaves_SOURCES = \
	plugins/roles/proxy/test-proxy-leaves.c \
	plugins/roles/proxy/dfly-proxy-leaves.c \
	plugins/roles/proxy/dfly-proxy-leaves.h
plugins_roles_proxy_test_proxy_leaves_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_proxy_test_proxy_leaves_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
plugins_roles_proxy_test_proxy_leaves_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
