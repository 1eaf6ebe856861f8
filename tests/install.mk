# Packaging tests: the installed tree, the data files, the D-Bus policy, and a
# third-party plugin built against the installed headers with pkg-config only.

TESTS += \
	tests/system/test-data.sh \
	tests/system/test-policy.sh \
	tests/system/test-third-party.sh

EXTRA_DIST += \
	tests/system/test-data.sh \
	tests/system/test-policy.sh \
	tests/system/test-third-party.sh \
	tests/third-party/Makefile \
	tests/third-party/hello-role.c \
	tests/third-party/hello-source.c

# Where `make install` puts things, so that test-third-party.sh finds them
# under its DESTDIR whatever the configure options were.
AM_TESTS_ENVIRONMENT += \
	export DFLY_INSTALL_prefix='$(prefix)' DFLY_INSTALL_bindir='$(bindir)'; \
	export DFLY_INSTALL_sbindir='$(sbindir)' DFLY_INSTALL_libdir='$(libdir)'; \
	export DFLY_INSTALL_includedir='$(includedir)' DFLY_INSTALL_plugindir='$(plugindir)'; \
	export DFLY_INSTALL_sysconfdir='$(sysconfdir)' DFLY_INSTALL_datadir='$(datadir)'; \
	export DFLY_INSTALL_pkgdatadir='$(pkgdatadir)' DFLY_INSTALL_mandir='$(mandir)'; \
	export DFLY_INSTALL_localedir='$(localedir)'; \
	export DFLY_INSTALL_systemdsystemunitdir='$(systemdsystemunitdir)'; \
	export DFLY_INSTALL_dbuspolicydir='$(dbuspolicydir)' DFLY_INSTALL_sysusersdir='$(sysusersdir)';
