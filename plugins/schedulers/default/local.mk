# default: the scheduling algorithm of Dragonfly v2.2's evaluator. Its
# scoring terms (dfly-parent-score.c) are compiled into bandwidth too.
plugin_LTLIBRARIES += plugins/schedulers/default/default.la
BUILT_PLUGINS += plugins/schedulers/default/default.la
plugins_schedulers_default_default_la_SOURCES = \
	plugins/schedulers/default/dfly-default-scheduler.c \
	plugins/schedulers/default/dfly-parent-score.c \
	plugins/schedulers/default/dfly-parent-weights.c \
	plugins/schedulers/default/dfly-parent-score.h
plugins_schedulers_default_default_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-default\"
plugins_schedulers_default_default_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
plugins_schedulers_default_default_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_schedulers_default_default_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The plugin's sources are compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/schedulers/default/test-default-scheduler
TESTS += plugins/schedulers/default/test-default-scheduler
plugins_schedulers_default_test_default_scheduler_SOURCES = \
	plugins/schedulers/default/test-default-scheduler.c \
	plugins/schedulers/default/test-scheduler-fixture.h \
	$(plugins_schedulers_default_default_la_SOURCES)
plugins_schedulers_default_test_default_scheduler_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_schedulers_default_test_default_scheduler_CFLAGS = $(TEST_CFLAGS)
plugins_schedulers_default_test_default_scheduler_LDADD = core/libdfly-1.la $(GLIB_LIBS)
