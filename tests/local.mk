# Tests: GTest unit tests and shell system tests, all speaking TAP.
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(top_srcdir)/tests/run-gtest.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
# GIO_MODULE_DIR: of the host's GIO modules the tests load the TLS backend
# only, not libproxy or dconf. Loopback traffic must never follow a
# desktop's proxy settings, and those modules' once-per-process objects read
# as leaks to LeakSanitizer under G_SLICE=always-malloc (with no stack
# through GLib to suppress them by).
AM_TESTS_ENVIRONMENT = \
	export top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)'; \
	export DFLYD='$(abs_top_builddir)/dflyd' DFLYCTL='$(abs_top_builddir)/dflyctl'; \
	export DFLY_HOSTILE='$(abs_top_builddir)/tests/hostile/dfly-hostile'; \
	export DFLY_PLUGIN_BUILD_DIR='$(abs_top_builddir)/build-plugins'; \
	export G_DEBUG=fatal-warnings G_SLICE=always-malloc; \
	export LC_ALL=C.UTF-8 LANGUAGE=; \
	export GIO_MODULE_DIR='$(abs_top_builddir)/tests/gio-modules'; mkdir -p "$$GIO_MODULE_DIR"; \
	ln -sf '$(GIO_SYSTEM_MODULE_DIR)/libgiognutls.so' "$$GIO_MODULE_DIR/"; \
	export ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions='$(abs_top_srcdir)/tests/lsan.supp' UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;

EXTRA_DIST += tests/run-gtest.sh tests/lsan.supp tests/valgrind.supp tests/lib.sh tests/test-origin.h \
	tests/registry-token.py \
	tests/bench/bench-download.sh tests/bench/bench-swarm.sh tests/bench/bench-digest.sh \
	tests/demo.sh tests/setup.sh tests/run-all.sh

TEST_CFLAGS = $(AM_CFLAGS)
TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/core/daemon -I$(top_srcdir)/core/daemon \
	-DG_LOG_DOMAIN=\"dfly-test\" -DTEST_SRCDIR=\"$(abs_top_srcdir)/tests\" \
	-DTEST_BUILDDIR=\"$(abs_top_builddir)/tests\"

include tests/core.mk
include tests/config.mk
include tests/plugins/local.mk
include tests/system.mk
include tests/install.mk
include tests/fuzz/local.mk
include tests/hostile/local.mk
