# http: the HTTP(S) source (libsoup).
plugin_LTLIBRARIES += plugins/sources/http/http.la
BUILT_PLUGINS += plugins/sources/http/http.la
plugins_sources_http_http_la_SOURCES = plugins/sources/http/dfly-http-source.c
plugins_sources_http_http_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-http\"
plugins_sources_http_http_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
plugins_sources_http_http_la_LIBADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
plugins_sources_http_http_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_sources_http_http_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The source is compiled into the test, not dlopen()ed; the origin is a real
# nginx (tests/test-origin.h).
check_PROGRAMS += plugins/sources/http/test-http-source
TESTS += plugins/sources/http/test-http-source
plugins_sources_http_test_http_source_SOURCES = \
	plugins/sources/http/test-http-source.c \
	plugins/sources/http/dfly-http-source.c \
	tests/test-origin.h \
	tests/test-soup-server.h
plugins_sources_http_test_http_source_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_sources_http_test_http_source_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
plugins_sources_http_test_http_source_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
