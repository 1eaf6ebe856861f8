# scheduler: the swarm's hosts, tasks and peers, and the service peers talk to.
SCHEDULER_ROLE_SOURCES = \
	plugins/roles/scheduler/dfly-scheduler-role.c \
	plugins/roles/scheduler/dfly-scheduler-service.c \
	plugins/roles/scheduler/dfly-scheduler-service.h \
	plugins/roles/scheduler/dfly-scheduler-settings.c \
	plugins/roles/scheduler/dfly-scheduler-settings.h \
	plugins/roles/scheduler/dfly-schedule.c \
	plugins/roles/scheduler/dfly-schedule.h \
	plugins/roles/scheduler/dfly-schedule-peer.h \
	plugins/roles/scheduler/dfly-parent-ranking.c \
	plugins/roles/scheduler/dfly-parent-ranking.h \
	plugins/roles/scheduler/dfly-accusations.c \
	plugins/roles/scheduler/dfly-accusations.h
plugin_LTLIBRARIES += plugins/roles/scheduler/scheduler.la
BUILT_PLUGINS += plugins/roles/scheduler/scheduler.la
plugins_roles_scheduler_scheduler_la_SOURCES = $(SCHEDULER_ROLE_SOURCES)
plugins_roles_scheduler_scheduler_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"dfly-scheduler\"
plugins_roles_scheduler_scheduler_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_scheduler_scheduler_la_LIBADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_scheduler_scheduler_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_scheduler_scheduler_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed; test-scheduler.c
# also #includes the peer role and the default algorithm to run them on one bus.
check_PROGRAMS += plugins/roles/scheduler/test-scheduler
TESTS += plugins/roles/scheduler/test-scheduler
plugins_roles_scheduler_test_scheduler_SOURCES = \
	plugins/roles/scheduler/test-scheduler.c \
	$(SCHEDULER_ROLE_SOURCES) \
	plugins/roles/dfly-role-test.h \
	tests/test-origin.h
plugins_roles_scheduler_test_scheduler_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_scheduler_test_scheduler_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_scheduler_test_scheduler_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# DflySchedule behind its real service, spoken to over WebSocket and POST
# with a hosts table of the test's own; the default algorithm is #included.
check_PROGRAMS += plugins/roles/scheduler/test-schedule
TESTS += plugins/roles/scheduler/test-schedule
plugins_roles_scheduler_test_schedule_SOURCES = \
	plugins/roles/scheduler/test-schedule.c \
	plugins/roles/scheduler/dfly-scheduler-service.c \
	plugins/roles/scheduler/dfly-scheduler-service.h \
	plugins/roles/scheduler/dfly-scheduler-settings.c \
	plugins/roles/scheduler/dfly-scheduler-settings.h \
	plugins/roles/scheduler/dfly-schedule.c \
	plugins/roles/scheduler/dfly-schedule.h \
	plugins/roles/scheduler/dfly-schedule-peer.h \
	plugins/roles/scheduler/dfly-parent-ranking.c \
	plugins/roles/scheduler/dfly-parent-ranking.h \
	plugins/roles/scheduler/dfly-accusations.c \
	plugins/roles/scheduler/dfly-accusations.h \
	plugins/roles/dfly-role-test.h
plugins_roles_scheduler_test_schedule_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_scheduler_test_schedule_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_scheduler_test_schedule_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-accusations alone: who an accusation counts as (plaintext and TLS
# identities), the check it sends the parent, and what the answer does.
check_PROGRAMS += plugins/roles/scheduler/test-accusations
TESTS += plugins/roles/scheduler/test-accusations
plugins_roles_scheduler_test_accusations_SOURCES = \
	plugins/roles/scheduler/test-accusations.c \
	plugins/roles/scheduler/dfly-accusations.c \
	plugins/roles/scheduler/dfly-accusations.h \
	plugins/roles/scheduler/dfly-schedule-peer.h
plugins_roles_scheduler_test_accusations_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_scheduler_test_accusations_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_scheduler_test_accusations_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
