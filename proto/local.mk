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
