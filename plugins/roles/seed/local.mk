# seed: this machine as a seed peer (Dragonfly host type "super"): the peer
# role's source, built with DFLY_PEER_ROLE_SEED.
plugin_LTLIBRARIES += plugins/roles/seed/seed.la
BUILT_PLUGINS += plugins/roles/seed/seed.la
plugins_roles_seed_seed_la_SOURCES = $(PEER_ROLE_SOURCES)
plugins_roles_seed_seed_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-seed\" \
	-DDFLY_PEER_ROLE_SEED
plugins_roles_seed_seed_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_seed_seed_la_LIBADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
plugins_roles_seed_seed_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_roles_seed_seed_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The role's source is compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/roles/seed/test-seed
TESTS += plugins/roles/seed/test-seed
plugins_roles_seed_test_seed_SOURCES = \
	plugins/roles/seed/test-seed.c \
	$(PEER_ROLE_SOURCES) \
	plugins/roles/dfly-role-test.h
plugins_roles_seed_test_seed_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS) -DDFLY_PEER_ROLE_SEED
plugins_roles_seed_test_seed_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
plugins_roles_seed_test_seed_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
