# seed: this machine as a seed peer (Dragonfly host type "super"): the peer
# role's source, built with DFLY_PEER_ROLE_SEED.
plugin_LTLIBRARIES += plugins/roles/seed/seed.la
BUILT_PLUGINS += plugins/roles/seed/seed.la
plugins_roles_seed_seed_la_SOURCES = \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-download.h \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h
plugins_roles_seed_seed_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-seed\" -DDFLY_PEER_ROLE_SEED
plugins_roles_seed_seed_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_seed_seed_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_seed_seed_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/seed/test-seed
TESTS += plugins/roles/seed/test-seed
plugins_roles_seed_test_seed_SOURCES = \
	plugins/roles/seed/test-seed.c \
	plugins/roles/peer/dfly-peer-role.c \
	plugins/roles/peer/dfly-download.c \
	plugins/roles/peer/dfly-download.h \
	plugins/roles/peer/dfly-output.c \
	plugins/roles/peer/dfly-output.h \
	plugins/roles/dfly-role-test.h
plugins_roles_seed_test_seed_CPPFLAGS = $(TEST_CPPFLAGS) -DDFLY_PEER_ROLE_SEED
plugins_roles_seed_test_seed_CFLAGS = $(TEST_CFLAGS)
plugins_roles_seed_test_seed_LDADD = core/libdfly-1.la $(GLIB_LIBS)
