# Unit tests of the configuration parser (core/lib/dfly-config.c).
check_PROGRAMS += tests/test-config
TESTS += tests/test-config
tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_config_CFLAGS = $(TEST_CFLAGS)
tests_test_config_LDADD = core/libdfly-1.la $(GLIB_LIBS)
