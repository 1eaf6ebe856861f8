# oci: the OCI registry source (libsoup, json-glib).
plugin_LTLIBRARIES += plugins/sources/oci/oci.la
BUILT_PLUGINS += plugins/sources/oci/oci.la
OCI_SOURCES = \
	plugins/sources/oci/dfly-oci-auth.c \
	plugins/sources/oci/dfly-oci-auth.h \
	plugins/sources/oci/dfly-oci-manifest.c \
	plugins/sources/oci/dfly-oci-manifest.h \
	plugins/sources/oci/dfly-oci-ref.c \
	plugins/sources/oci/dfly-oci-ref.h \
	plugins/sources/oci/dfly-oci-settings.c \
	plugins/sources/oci/dfly-oci-settings.h
plugins_sources_oci_oci_la_SOURCES = plugins/sources/oci/dfly-oci-source.c $(OCI_SOURCES)
plugins_sources_oci_oci_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-oci\"
plugins_sources_oci_oci_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(JSON_CFLAGS)
plugins_sources_oci_oci_la_LIBADD = core/libdfly-1.la $(SOUP_LIBS) $(JSON_LIBS) $(GLIB_LIBS)
plugins_sources_oci_oci_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_sources_oci_oci_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The source is compiled into the test; the registry is a real
# docker-registry on loopback, with a SoupServer for what it cannot do.
check_PROGRAMS += plugins/sources/oci/test-oci-source
TESTS += plugins/sources/oci/test-oci-source
plugins_sources_oci_test_oci_source_SOURCES = \
	plugins/sources/oci/test-oci-source.c \
	plugins/sources/oci/dfly-oci-source.c \
	$(OCI_SOURCES) \
	tests/test-origin.h \
	tests/test-soup-server.h
plugins_sources_oci_test_oci_source_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_sources_oci_test_oci_source_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS) $(JSON_CFLAGS)
plugins_sources_oci_test_oci_source_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(JSON_LIBS) $(GLIB_LIBS)
