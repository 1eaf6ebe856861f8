# The P2P protocol: protoc-c generates the C at build time.
PROTO_FILES = proto/envelope.proto proto/common.proto proto/scheduler.proto proto/peer.proto
PROTO_GENERATED = \
	proto/envelope.pb-c.c proto/envelope.pb-c.h \
	proto/common.pb-c.c proto/common.pb-c.h \
	proto/scheduler.pb-c.c proto/scheduler.pb-c.h \
	proto/peer.pb-c.c proto/peer.pb-c.h

$(PROTO_GENERATED): proto/envelope.stamp
proto/envelope.stamp: $(PROTO_FILES)
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(top_srcdir)/proto --c_out=$(top_builddir)/proto $(PROTO_FILES:proto/%=$(top_srcdir)/proto/%) && \
	touch $@

BUILT_SOURCES += $(PROTO_GENERATED)
CLEANFILES += $(PROTO_GENERATED) proto/envelope.stamp
EXTRA_DIST += $(PROTO_FILES) proto/README.md

# libdfly-proto: the generated messages, their checked decoding and their
# transport over libsoup, linked statically into the in-tree roles, tests
# and fuzz targets (not part of the installed plugin API).
noinst_LTLIBRARIES += proto/libdfly-proto.la
proto_libdfly_proto_la_SOURCES = \
	proto/dfly-manager-link.c \
	proto/dfly-json-safe.h \
	proto/dfly-manager-link.h \
	proto/dfly-message.c \
	proto/dfly-message.h \
	proto/dfly-piece-http.c \
	proto/dfly-piece-http.h \
	proto/dfly-wire.c \
	proto/dfly-wire.h \
	proto/dfly-wire-admission.c \
	proto/dfly-wire-admission.h \
	proto/dfly-wire-backlog.c \
	proto/dfly-wire-backlog.h \
	proto/dfly-wire-guard.c \
	proto/dfly-wire-guard.h
nodist_proto_libdfly_proto_la_SOURCES = \
	proto/common.pb-c.c proto/scheduler.pb-c.c proto/peer.pb-c.c
proto_libdfly_proto_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-proto\"
proto_libdfly_proto_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(SOUP_CFLAGS) $(JSON_CFLAGS)
proto_libdfly_proto_la_LIBADD = $(PROTOBUF_C_LIBS) $(SOUP_LIBS) $(JSON_LIBS)
# What a user of libdfly-proto compiles with.
PROTO_CPPFLAGS = -I$(top_srcdir)/proto
PROTO_CFLAGS = $(PROTOBUF_C_CFLAGS) $(SOUP_CFLAGS) $(JSON_CFLAGS)
PROTO_LIBS = proto/libdfly-proto.la $(PROTOBUF_C_LIBS) $(SOUP_LIBS) $(JSON_LIBS)
