# scheduler: the table of the swarm's hosts.
plugin_LTLIBRARIES += plugins/roles/scheduler/scheduler.la
BUILT_PLUGINS += plugins/roles/scheduler/scheduler.la
plugins_roles_scheduler_scheduler_la_SOURCES = plugins/roles/scheduler/dfly-scheduler-role.c
plugins_roles_scheduler_scheduler_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-scheduler\"
plugins_roles_scheduler_scheduler_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_scheduler_scheduler_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_scheduler_scheduler_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed; test-scheduler.c
# also #includes the peer role to run both on one bus.
check_PROGRAMS += plugins/roles/scheduler/test-scheduler
TESTS += plugins/roles/scheduler/test-scheduler
plugins_roles_scheduler_test_scheduler_SOURCES = \
	plugins/roles/scheduler/test-scheduler.c \
	plugins/roles/scheduler/dfly-scheduler-role.c \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/dfly-role-test.h
plugins_roles_scheduler_test_scheduler_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_scheduler_test_scheduler_CFLAGS = $(TEST_CFLAGS)
plugins_roles_scheduler_test_scheduler_LDADD = core/libdfly-1.la $(GLIB_LIBS)
