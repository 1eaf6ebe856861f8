# The P2P protocol: protoc-c generates the C at build time.
PROTO_FILES = proto/envelope.proto
PROTO_GENERATED = proto/envelope.pb-c.c proto/envelope.pb-c.h

proto/envelope.pb-c.c proto/envelope.pb-c.h: proto/envelope.stamp
proto/envelope.stamp: $(PROTO_FILES)
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(top_srcdir)/proto --c_out=$(top_builddir)/proto $(PROTO_FILES:proto/%=$(top_srcdir)/proto/%) && \
	touch $@

BUILT_SOURCES += $(PROTO_GENERATED)
CLEANFILES += $(PROTO_GENERATED) proto/envelope.stamp
EXTRA_DIST += $(PROTO_FILES) proto/README.md
