# Test plugins: one source built once per variant the loader and engine must handle.
TEST_PLUGIN_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath /nowhere

check_LTLIBRARIES += tests/plugins/test-good.la
tests_plugins_test_good_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_good_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_GOOD -DPLUGIN_NAME=\"test-good\"
tests_plugins_test_good_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_good_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-other.la
tests_plugins_test_other_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_other_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_GOOD -DPLUGIN_NAME=\"test-other\"
tests_plugins_test_other_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_other_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-fail.la
tests_plugins_test_fail_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_fail_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_FAIL -DPLUGIN_NAME=\"test-fail\"
tests_plugins_test_fail_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_fail_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-slow.la
tests_plugins_test_slow_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_slow_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_SLOW -DPLUGIN_NAME=\"test-slow\"
tests_plugins_test_slow_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_slow_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-abi.la
tests_plugins_test_abi_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_abi_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_ABI -DPLUGIN_NAME=\"test-abi\"
tests_plugins_test_abi_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_abi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-nosym.la
tests_plugins_test_nosym_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_nosym_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_NOSYM -DPLUGIN_NAME=\"test-nosym\"
tests_plugins_test_nosym_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_nosym_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-mismatch.la
tests_plugins_test_mismatch_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_mismatch_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_MISMATCH -DPLUGIN_NAME=\"test-mismatch\"
tests_plugins_test_mismatch_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_mismatch_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-wrongkind.la
tests_plugins_test_wrongkind_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_wrongkind_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_WRONGKIND -DPLUGIN_NAME=\"test-wrongkind\"
tests_plugins_test_wrongkind_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_wrongkind_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-small.la
tests_plugins_test_small_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_small_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_SMALL -DPLUGIN_NAME=\"test-small\"
tests_plugins_test_small_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_small_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-null.la
tests_plugins_test_null_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_null_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_NULL -DPLUGIN_NAME=\"test-null\"
tests_plugins_test_null_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_null_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-settings.la
tests_plugins_test_settings_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_settings_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_SETTINGS -DPLUGIN_NAME=\"test-settings\"
tests_plugins_test_settings_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_settings_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-overflow.la
tests_plugins_test_overflow_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_overflow_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_OVERFLOW -DPLUGIN_NAME=\"test-overflow\"
tests_plugins_test_overflow_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_overflow_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-twice.la
tests_plugins_test_twice_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_twice_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_TWICE -DPLUGIN_NAME=\"test-twice\"
tests_plugins_test_twice_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_twice_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-default.la
tests_plugins_test_default_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_default_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_DEFAULT -DPLUGIN_NAME=\"test-default\"
tests_plugins_test_default_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_default_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_LTLIBRARIES += tests/plugins/test-check.la
tests_plugins_test_check_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_check_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_CHECK -DPLUGIN_NAME=\"test-check\"
tests_plugins_test_check_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_check_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# Named "download" (installed as download.so by the test): dflyd's own section.
check_LTLIBRARIES += tests/plugins/test-own.la
tests_plugins_test_own_la_SOURCES = tests/plugins/test-role.c
tests_plugins_test_own_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-test-plugin\" -DVARIANT=VARIANT_OWN -DPLUGIN_NAME=\"download\"
tests_plugins_test_own_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)
tests_plugins_test_own_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
