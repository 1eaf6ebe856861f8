# Unit tests of the configuration (core/lib/dfly-config*.c), with the key
# tables of every in-tree plugin that has settings: the shipped dflyd.yaml
# and dflyd.yaml(5) are checked against all of them.
check_PROGRAMS += tests/test-config
TESTS += tests/test-config
tests_test_config_SOURCES = \
	tests/test-config.c \
	plugins/roles/manager/dfly-manager-settings.c \
	plugins/roles/proxy/dfly-proxy-settings.c \
	plugins/roles/proxy/dfly-proxy-rules.c \
	plugins/roles/scheduler/dfly-scheduler-settings.c \
	plugins/schedulers/default/dfly-parent-weights.c \
	plugins/sources/oci/dfly-oci-settings.c \
	plugins/sources/s3/dfly-s3-settings.c
tests_test_config_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/plugins
tests_test_config_CFLAGS = $(TEST_CFLAGS)
tests_test_config_LDADD = core/libdfly-1.la $(GLIB_LIBS)
