# seed: this machine as a seed peer (Dragonfly host type "super"), on the
# engine (plugins/roles/engine).
plugin_LTLIBRARIES += plugins/roles/seed/seed.la
BUILT_PLUGINS += plugins/roles/seed/seed.la
plugins_roles_seed_seed_la_SOURCES = \
	plugins/roles/seed/dfly-seed-role.c
plugins_roles_seed_seed_la_CPPFLAGS = $(AM_CPPFLAGS) $(ENGINE_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-seed\"
plugins_roles_seed_seed_la_CFLAGS = $(AM_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_seed_seed_la_LIBADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_seed_seed_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_seed_seed_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map
EXTRA_DIST += plugins/roles/seed/README.md

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/seed/test-seed
TESTS += plugins/roles/seed/test-seed
plugins_roles_seed_test_seed_SOURCES = \
	plugins/roles/seed/test-seed.c \
	plugins/roles/seed/dfly-seed-role.c \
	plugins/roles/dfly-role-test.h
plugins_roles_seed_test_seed_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_seed_test_seed_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_seed_test_seed_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)
