# bandwidth: parents ranked by the useful bytes per second they can send;
# shares default's scoring terms for its tie-breaks.
plugin_LTLIBRARIES += plugins/schedulers/bandwidth/bandwidth.la
BUILT_PLUGINS += plugins/schedulers/bandwidth/bandwidth.la
plugins_schedulers_bandwidth_bandwidth_la_SOURCES = \
	plugins/schedulers/bandwidth/dfly-bandwidth-scheduler.c \
	plugins/schedulers/default/dfly-parent-score.c \
	plugins/schedulers/default/dfly-parent-weights.c \
	plugins/schedulers/default/dfly-parent-score.h
plugins_schedulers_bandwidth_bandwidth_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-bandwidth\"
plugins_schedulers_bandwidth_bandwidth_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
plugins_schedulers_bandwidth_bandwidth_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_schedulers_bandwidth_bandwidth_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The plugin's sources are compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/schedulers/bandwidth/test-bandwidth-scheduler
TESTS += plugins/schedulers/bandwidth/test-bandwidth-scheduler
plugins_schedulers_bandwidth_test_bandwidth_scheduler_SOURCES = \
	plugins/schedulers/bandwidth/test-bandwidth-scheduler.c \
	plugins/schedulers/default/test-scheduler-fixture.h \
	$(plugins_schedulers_bandwidth_bandwidth_la_SOURCES)
plugins_schedulers_bandwidth_test_bandwidth_scheduler_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_schedulers_bandwidth_test_bandwidth_scheduler_CFLAGS = $(TEST_CFLAGS)
plugins_schedulers_bandwidth_test_bandwidth_scheduler_LDADD = core/libdfly-1.la $(GLIB_LIBS)
