# s3: the S3 source (libsoup, AWS Signature Version 4 with GLib).
plugin_LTLIBRARIES += plugins/sources/s3/s3.la
BUILT_PLUGINS += plugins/sources/s3/s3.la
S3_SOURCES = \
	plugins/sources/s3/dfly-s3-call.c \
	plugins/sources/s3/dfly-s3-call.h \
	plugins/sources/s3/dfly-s3-settings.c \
	plugins/sources/s3/dfly-s3-settings.h \
	plugins/sources/s3/dfly-s3-signer.c \
	plugins/sources/s3/dfly-s3-signer.h \
	plugins/sources/s3/dfly-s3-xml.c \
	plugins/sources/s3/dfly-s3-xml.h
plugins_sources_s3_s3_la_SOURCES = plugins/sources/s3/dfly-s3-source.c $(S3_SOURCES)
plugins_sources_s3_s3_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-s3\"
plugins_sources_s3_s3_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
plugins_sources_s3_s3_la_LIBADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
plugins_sources_s3_s3_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_sources_s3_s3_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The signer against fixed vectors, the XML parsers against hostile input,
# error mapping; the source itself is compiled in. The real server is
# tests/system/test-s3.sh's s3rver.
check_PROGRAMS += plugins/sources/s3/test-s3-source
TESTS += plugins/sources/s3/test-s3-source
plugins_sources_s3_test_s3_source_SOURCES = \
	plugins/sources/s3/test-s3-source.c \
	plugins/sources/s3/dfly-s3-source.c \
	$(S3_SOURCES)
plugins_sources_s3_test_s3_source_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_sources_s3_test_s3_source_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
plugins_sources_s3_test_s3_source_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
