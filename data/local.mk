# data/: what a distro package ships besides the binaries — the default
# config, the systemd unit, the sysusers.d entry, the D-Bus policy and
# interface description, the pkg-config file for plugin authors, man pages.

# The default configuration, documented key by key.
dflyconfdir = $(sysconfdir)/dfly
dist_dflyconf_DATA = data/dflyd.yaml

# The D-Bus system bus policy and the introspection XML of org.dfly.Daemon1.
dist_dbuspolicy_DATA = data/org.dfly.Daemon1.conf
dbusinterfacesdir = $(datadir)/dbus-1/interfaces
dist_dbusinterfaces_DATA = data/org.dfly.Daemon1.xml

# The linker version script every plugin links with: one exported symbol.
dist_pkgdata_DATA = core/dfly-plugin.map

dist_man_MANS = data/dflyd.8 data/dflyctl.1 data/dflyd.yaml.5

# Files generated at make time, not configure time, as the GNU Coding
# Standards ask: configure leaves ${prefix} unexpanded in the directories.
dfly_data_subst = $(SED) \
	-e 's|@prefix[@]|$(prefix)|g' \
	-e 's|@exec_prefix[@]|$(exec_prefix)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@includedir[@]|$(includedir)|g' \
	-e 's|@datarootdir[@]|$(datarootdir)|g' \
	-e 's|@datadir[@]|$(datadir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@plugindir[@]|$(plugindir)|g' \
	-e 's|@DFLY_API_VERSION[@]|$(DFLY_API_VERSION)|g' \
	-e 's|@VERSION[@]|$(VERSION)|g'

systemdsystemunit_DATA = data/dflyd.service
data/dflyd.service: $(srcdir)/data/dflyd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) data && \
	$(dfly_data_subst) $(srcdir)/data/dflyd.service.in > $@.tmp && mv -f $@.tmp $@

# In the .pc every directory under the prefix is written relative to
# ${prefix}, so that redefining prefix relocates the whole file.
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = data/dfly-plugin-$(DFLY_API_VERSION).pc
data/dfly-plugin-$(DFLY_API_VERSION).pc: $(srcdir)/data/dfly-plugin-1.pc.in Makefile
	$(AM_V_GEN)$(MKDIR_P) data && \
	$(dfly_data_subst) $(srcdir)/data/dfly-plugin-1.pc.in | \
	  $(SED) -e '/^prefix=/!s|=$(prefix)/|=$${prefix}/|' \
	         -e '/^prefix=/!s|=$(prefix)$$|=$${prefix}|' > $@.tmp && mv -f $@.tmp $@

CLEANFILES += data/dflyd.service data/dfly-plugin-$(DFLY_API_VERSION).pc
EXTRA_DIST += \
	data/dflyd.service.in \
	data/dfly-plugin-1.pc.in \
	data/dfly.sysusers.conf

# The sysusers.d entry is installed as dfly.conf. The loader only loads *.so,
# but libtool's .la files must not ship in the plugin directory: drop them
# after installing, and drop the .so files by hand on uninstall, since
# `libtool --mode=uninstall` finds them only through the .la.
install-data-hook: install-dfly-data-hook
install-dfly-data-hook:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)'
	$(INSTALL_DATA) $(srcdir)/data/dfly.sysusers.conf '$(DESTDIR)$(sysusersdir)/dfly.conf'
	@for la in $(plugin_LTLIBRARIES); do \
	  base=$$(basename "$$la"); \
	  echo " rm -f '$(DESTDIR)$(plugindir)/$$base'"; \
	  rm -f "$(DESTDIR)$(plugindir)/$$base"; \
	done

uninstall-hook: uninstall-dfly-data-hook
uninstall-dfly-data-hook:
	rm -f '$(DESTDIR)$(sysusersdir)/dfly.conf'
	@for la in $(plugin_LTLIBRARIES); do \
	  base=$$(basename "$$la" .la); \
	  echo " rm -f '$(DESTDIR)$(plugindir)/$$base.so'"; \
	  rm -f "$(DESTDIR)$(plugindir)/$$base.so" "$(DESTDIR)$(plugindir)/$$base.so".*; \
	done

.PHONY: install-dfly-data-hook uninstall-dfly-data-hook

