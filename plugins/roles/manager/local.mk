# manager: the cluster's REST API (libsoup).
plugin_LTLIBRARIES += plugins/roles/manager/manager.la
BUILT_PLUGINS += plugins/roles/manager/manager.la
MANAGER_ROLE_SOURCES = \
	plugins/roles/manager/dfly-manager-api.c \
	plugins/roles/manager/dfly-manager-api.h \
	plugins/roles/manager/dfly-manager-model.c \
	plugins/roles/manager/dfly-manager-model.h \
	plugins/roles/manager/dfly-manager-role.c \
	plugins/roles/manager/dfly-manager-settings.c \
	plugins/roles/manager/dfly-manager-settings.h \
	plugins/roles/manager/dfly-manager-sql.c \
	plugins/roles/manager/dfly-manager-sql.h \
	plugins/roles/manager/dfly-manager-store.c \
	plugins/roles/manager/dfly-manager-store.h \
	plugins/roles/manager/dfly-manager-store-sqlite.c \
	plugins/roles/manager/dfly-manager-store-pg.c
plugins_roles_manager_manager_la_SOURCES = $(MANAGER_ROLE_SOURCES)
plugins_roles_manager_manager_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"dfly-manager\"
plugins_roles_manager_manager_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS) $(JSON_CFLAGS) $(SQLITE_CFLAGS) $(PQ_CFLAGS)
plugins_roles_manager_manager_la_LIBADD = $(PROTO_LIBS) core/libdfly-1.la $(JSON_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) \
	$(GLIB_LIBS)
plugins_roles_manager_manager_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_manager_manager_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/manager/test-manager
TESTS += plugins/roles/manager/test-manager
plugins_roles_manager_test_manager_SOURCES = \
	plugins/roles/manager/test-manager.c \
	$(MANAGER_ROLE_SOURCES) \
	plugins/roles/dfly-role-test.h
plugins_roles_manager_test_manager_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
plugins_roles_manager_test_manager_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS) $(JSON_CFLAGS) $(SQLITE_CFLAGS) $(PQ_CFLAGS)
plugins_roles_manager_test_manager_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(JSON_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) \
	$(GLIB_LIBS)

# The store alone: the SQLite backend on real files, and the model's checks;
# with DFLY_TEST_POSTGRES set to a conninfo, the same cases on PostgreSQL
# (tests/system/test-manager-postgres.sh starts a server and runs it so).
check_PROGRAMS += plugins/roles/manager/test-manager-store
TESTS += plugins/roles/manager/test-manager-store
plugins_roles_manager_test_manager_store_SOURCES = \
	plugins/roles/manager/test-manager-store.c \
	plugins/roles/manager/dfly-manager-model.c \
	plugins/roles/manager/dfly-manager-model.h \
	plugins/roles/manager/dfly-manager-sql.c \
	plugins/roles/manager/dfly-manager-sql.h \
	plugins/roles/manager/dfly-manager-store.c \
	plugins/roles/manager/dfly-manager-store.h \
	plugins/roles/manager/dfly-manager-store-sqlite.c \
	plugins/roles/manager/dfly-manager-store-pg.c
plugins_roles_manager_test_manager_store_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_roles_manager_test_manager_store_CFLAGS = $(TEST_CFLAGS) $(JSON_CFLAGS) $(SQLITE_CFLAGS) $(PQ_CFLAGS)
plugins_roles_manager_test_manager_store_LDADD = core/libdfly-1.la $(JSON_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) $(GLIB_LIBS)
