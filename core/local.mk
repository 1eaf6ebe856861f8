# libdfly-1: the runtime every plugin links, and its installed headers.
lib_LTLIBRARIES += core/libdfly-1.la
core_libdfly_1_la_SOURCES = \
	core/lib/dfly-bus.c \
	core/lib/dfly-cert.c \
	core/lib/dfly-component.c \
	core/lib/dfly-config.c \
	core/lib/dfly-config-private.h \
	core/lib/dfly-config-reader.c \
	core/lib/dfly-config-section.c \
	core/lib/dfly-config-value.c \
	core/lib/dfly-context.c \
	core/lib/dfly-downloader.c \
	core/lib/dfly-enums.c \
	core/lib/dfly-error.c \
	core/lib/dfly-frame.c \
	core/lib/dfly-host-announcer.c \
	core/lib/dfly-identity.c \
	core/lib/dfly-http-body.c \
	core/lib/dfly-http-client.c \
	core/lib/dfly-http-range.c \
	core/lib/dfly-host-info.c \
	core/lib/dfly-peer-info.c \
	core/lib/dfly-piece-digest.c \
	core/lib/dfly-piece-info.c \
	core/lib/dfly-plugin-kind.c \
	core/lib/dfly-role.c \
	core/lib/dfly-scheduler.c \
	core/lib/dfly-source.c \
	core/lib/dfly-source-policy.c \
	core/lib/dfly-source-policy.h \
	core/lib/dfly-storage.c \
	core/lib/dfly-task-id.c \
	core/lib/dfly-task-info.c \
	core/lib/dfly-tls.c
nodist_core_libdfly_1_la_SOURCES = proto/envelope.pb-c.c proto/envelope.pb-c.h
core_libdfly_1_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly\"
core_libdfly_1_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(YAML_CFLAGS) $(XXHASH_CFLAGS) \
	$(SOUP_CFLAGS) $(GNUTLS_CFLAGS)
core_libdfly_1_la_LIBADD = $(GLIB_LIBS) $(PROTOBUF_C_LIBS) $(YAML_LIBS) $(XXHASH_LIBS) $(SOUP_LIBS) \
	$(GNUTLS_LIBS)
# Only dfly_* is public; protobuf-c's generated dfly__v1__* stays inside.
core_libdfly_1_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBDFLY_LT_VERSION) \
	-export-symbols-regex '^dfly_[a-z]' -no-undefined

dflyinclude_HEADERS += \
	core/include/dfly/dfly.h \
	core/include/dfly/dfly-bus.h \
	core/include/dfly/dfly-cert.h \
	core/include/dfly/dfly-component.h \
	core/include/dfly/dfly-config.h \
	core/include/dfly/dfly-config-section.h \
	core/include/dfly/dfly-context.h \
	core/include/dfly/dfly-downloader.h \
	core/include/dfly/dfly-error.h \
	core/include/dfly/dfly-frame.h \
	core/include/dfly/dfly-host-announcer.h \
	core/include/dfly/dfly-identity.h \
	core/include/dfly/dfly-http-body.h \
	core/include/dfly/dfly-http-client.h \
	core/include/dfly/dfly-http-range.h \
	core/include/dfly/dfly-piece-digest.h \
	core/include/dfly/dfly-plugin.h \
	core/include/dfly/dfly-role.h \
	core/include/dfly/dfly-scheduler.h \
	core/include/dfly/dfly-source.h \
	core/include/dfly/dfly-storage.h \
	core/include/dfly/dfly-task-id.h \
	core/include/dfly/dfly-tls.h \
	core/include/dfly/dfly-types.h \
	core/include/dfly/dfly-version.h

# The D-Bus interface description, as code (gdbus-codegen).
DBUS_GENERATED = core/daemon/dfly-dbus-interface.c core/daemon/dfly-dbus-interface.h
core/daemon/dfly-dbus-interface.h: $(top_srcdir)/data/org.dfly.Daemon1.xml
	$(AM_V_GEN)$(MKDIR_P) core/daemon && $(GDBUS_CODEGEN) --interface-prefix org.dfly. \
	  --c-namespace Dfly --interface-info-header --output $@ $<
core/daemon/dfly-dbus-interface.c: $(top_srcdir)/data/org.dfly.Daemon1.xml
	$(AM_V_GEN)$(MKDIR_P) core/daemon && $(GDBUS_CODEGEN) --interface-prefix org.dfly. \
	  --c-namespace Dfly --interface-info-body --output $@ $<
BUILT_SOURCES += $(DBUS_GENERATED)
CLEANFILES += $(DBUS_GENERATED)

# The daemon minus main(), so unit tests can link the loader and engine.
noinst_LTLIBRARIES += core/libdflyd.la
core_libdflyd_la_SOURCES = \
	core/daemon/dfly-dbus-callers.c \
	core/daemon/dfly-dbus-callers.h \
	core/daemon/dfly-dbus-service.c \
	core/daemon/dfly-dbus-service.h \
	core/daemon/dfly-engine.c \
	core/daemon/dfly-engine.h \
	core/daemon/dfly-log.c \
	core/daemon/dfly-log.h \
	core/daemon/dfly-plugin-loader.c \
	core/daemon/dfly-plugin-loader.h
nodist_core_libdflyd_la_SOURCES = $(DBUS_GENERATED)
core_libdflyd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/core/daemon -DG_LOG_DOMAIN=\"dflyd\"
core_libdflyd_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS)

sbin_PROGRAMS += dflyd
dflyd_SOURCES = core/daemon/dflyd.c
dflyd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/core/daemon -DG_LOG_DOMAIN=\"dflyd\"
dflyd_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
dflyd_LDADD = core/libdflyd.la core/libdfly-1.la $(GLIB_LIBS)

bin_PROGRAMS += dflyctl
dflyctl_SOURCES = \
	core/ctl/dflyctl.c \
	core/ctl/dflyctl.h \
	core/ctl/dflyctl-cache.c \
	core/ctl/dflyctl-cert.c \
	core/ctl/dflyctl-get.c \
	core/ctl/dflyctl-manager.c \
	core/ctl/dflyctl-manager-client.c \
	core/ctl/dflyctl-manager-client.h \
	core/ctl/dflyctl-output.c \
	core/ctl/dflyctl-output.h \
	core/ctl/dflyctl-parse.c \
	core/ctl/dflyctl-parse.h \
	core/ctl/dflyctl-progress.c \
	core/ctl/dflyctl-progress.h \
	core/ctl/dflyctl-runtime.c \
	core/ctl/dflyctl-runtime.h \
	core/ctl/dflyctl-runtime-file.c \
	core/ctl/dflyctl-task.c
dflyctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proto -DG_LOG_DOMAIN=\"dflyctl\"
dflyctl_CFLAGS = $(AM_CFLAGS) $(JSON_CFLAGS) $(SOUP_CFLAGS)
dflyctl_LDADD = core/libdfly-1.la $(GLIB_LIBS) $(JSON_LIBS) $(SOUP_LIBS)
