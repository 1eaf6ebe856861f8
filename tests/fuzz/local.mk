# Fuzz targets. `make check` replays each seed corpus through the target
# built with the normal compiler; tests/fuzz/run.sh builds the same target
# with libFuzzer and sanitizers and fuzzes it for real.
check_PROGRAMS += tests/fuzz/fuzz-config-replay
tests_fuzz_fuzz_config_replay_SOURCES = \
	tests/fuzz/fuzz-config.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_config_replay_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_config_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_config_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)

TESTS += tests/fuzz/replay-config.sh

# A directory in EXTRA_DIST is copied whole: every seed corpus ships.
EXTRA_DIST += \
	tests/fuzz/README.md \
	tests/fuzz/replay-config.sh \
	tests/fuzz/run.sh \
	tests/fuzz/corpus

check_PROGRAMS += tests/fuzz/fuzz-frame-replay
tests_fuzz_fuzz_frame_replay_SOURCES = \
	tests/fuzz/fuzz-frame.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_frame_replay_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_frame_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_frame_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-frame.sh
EXTRA_DIST += tests/fuzz/replay-frame.sh

check_PROGRAMS += tests/fuzz/fuzz-url-replay
tests_fuzz_fuzz_url_replay_SOURCES = \
	tests/fuzz/fuzz-url.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_url_replay_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_url_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_url_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-url.sh
EXTRA_DIST += tests/fuzz/replay-url.sh

check_PROGRAMS += tests/fuzz/fuzz-message-replay
tests_fuzz_fuzz_message_replay_SOURCES = \
	tests/fuzz/fuzz-message.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_message_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_fuzz_fuzz_message_replay_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
tests_fuzz_fuzz_message_replay_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-message.sh
EXTRA_DIST += tests/fuzz/replay-message.sh

check_PROGRAMS += tests/fuzz/fuzz-wire-replay
tests_fuzz_fuzz_wire_replay_SOURCES = \
	tests/fuzz/fuzz-wire.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_wire_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_fuzz_fuzz_wire_replay_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
tests_fuzz_fuzz_wire_replay_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-wire.sh
EXTRA_DIST += tests/fuzz/replay-wire.sh

check_PROGRAMS += tests/fuzz/fuzz-piece-http-replay
tests_fuzz_fuzz_piece_http_replay_SOURCES = \
	tests/fuzz/fuzz-piece-http.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_piece_http_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_fuzz_fuzz_piece_http_replay_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
tests_fuzz_fuzz_piece_http_replay_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-piece-http.sh
EXTRA_DIST += tests/fuzz/replay-piece-http.sh

check_PROGRAMS += tests/fuzz/fuzz-http-range-replay
tests_fuzz_fuzz_http_range_replay_SOURCES = \
	tests/fuzz/fuzz-http-range.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_http_range_replay_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_http_range_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_http_range_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-http-range.sh
EXTRA_DIST += tests/fuzz/replay-http-range.sh

# The plugin's parsers are compiled in, as its unit test does.
check_PROGRAMS += tests/fuzz/fuzz-s3-xml-replay
tests_fuzz_fuzz_s3_xml_replay_SOURCES = \
	tests/fuzz/fuzz-s3-xml.c \
	tests/fuzz/standalone-main.c \
	plugins/sources/s3/dfly-s3-xml.c \
	plugins/sources/s3/dfly-s3-xml.h
tests_fuzz_fuzz_s3_xml_replay_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_s3_xml_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_s3_xml_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-s3-xml.sh
EXTRA_DIST += tests/fuzz/replay-s3-xml.sh

check_PROGRAMS += tests/fuzz/fuzz-oci-replay
tests_fuzz_fuzz_oci_replay_SOURCES = \
	tests/fuzz/fuzz-oci.c \
	tests/fuzz/standalone-main.c \
	$(OCI_SOURCES)
tests_fuzz_fuzz_oci_replay_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_oci_replay_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS) $(JSON_CFLAGS)
tests_fuzz_fuzz_oci_replay_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(JSON_LIBS) $(GLIB_LIBS)
TESTS += tests/fuzz/replay-oci.sh
EXTRA_DIST += tests/fuzz/replay-oci.sh

# A real upload server in the process, on the real disk storage (built for
# the peer's tests), spoken to over loopback.
check_PROGRAMS += tests/fuzz/fuzz-upload-server-replay
tests_fuzz_fuzz_upload_server_replay_SOURCES = \
	tests/fuzz/fuzz-upload-server.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_upload_server_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_upload_server_replay_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
tests_fuzz_fuzz_upload_server_replay_LDADD = plugins/roles/peer/libtest-disk.la \
	$(ENGINE_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(SQLITE_LIBS) $(GLIB_LIBS)
TESTS += tests/fuzz/replay-upload-server.sh
EXTRA_DIST += tests/fuzz/replay-upload-server.sh

# The scheduler's schedule and the default algorithm are compiled in, as
# the scheduler role's unit tests do.
check_PROGRAMS += tests/fuzz/fuzz-scheduler-replay
tests_fuzz_fuzz_scheduler_replay_SOURCES = \
	tests/fuzz/fuzz-scheduler.c \
	tests/fuzz/standalone-main.c \
	plugins/roles/scheduler/dfly-schedule.c \
	plugins/roles/scheduler/dfly-parent-ranking.c \
	plugins/roles/scheduler/dfly-accusations.c \
	plugins/roles/scheduler/dfly-scheduler-settings.c \
	$(plugins_schedulers_default_default_la_SOURCES)
tests_fuzz_fuzz_scheduler_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_scheduler_replay_CFLAGS = $(TEST_CFLAGS) $(PROTO_CFLAGS)
tests_fuzz_fuzz_scheduler_replay_LDADD = $(PROTO_LIBS) core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-scheduler.sh
EXTRA_DIST += tests/fuzz/replay-scheduler.sh

# The identity a peer's certificate names, and "dflyctl cert show".
check_PROGRAMS += tests/fuzz/fuzz-cert-replay
tests_fuzz_fuzz_cert_replay_SOURCES = \
	tests/fuzz/fuzz-cert.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_cert_replay_CPPFLAGS = $(TEST_CPPFLAGS)
tests_fuzz_fuzz_cert_replay_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
tests_fuzz_fuzz_cert_replay_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
TESTS += tests/fuzz/replay-cert.sh
EXTRA_DIST += tests/fuzz/replay-cert.sh

# source.allow / source.deny: the HTTP client's matcher (private to libdfly).
check_PROGRAMS += tests/fuzz/fuzz-source-policy-replay
tests_fuzz_fuzz_source_policy_replay_SOURCES = \
	tests/fuzz/fuzz-source-policy.c \
	tests/fuzz/standalone-main.c
tests_fuzz_fuzz_source_policy_replay_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_source_policy_replay_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_fuzz_source_policy_replay_LDADD = core/libdfly-1.la $(GLIB_LIBS)
TESTS += tests/fuzz/replay-source-policy.sh
EXTRA_DIST += tests/fuzz/replay-source-policy.sh

# The proxy role's parsers are compiled in, as its unit test does.
check_PROGRAMS += tests/fuzz/fuzz-proxy-replay
tests_fuzz_fuzz_proxy_replay_SOURCES = \
	tests/fuzz/fuzz-proxy.c \
	tests/fuzz/standalone-main.c \
	$(PROXY_PARSER_SOURCES)
tests_fuzz_fuzz_proxy_replay_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_proxy_replay_CFLAGS = $(TEST_CFLAGS) $(SOUP_CFLAGS)
tests_fuzz_fuzz_proxy_replay_LDADD = core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)
TESTS += tests/fuzz/replay-proxy.sh
EXTRA_DIST += tests/fuzz/replay-proxy.sh

check_PROGRAMS += tests/fuzz/fuzz-manager-json-replay
tests_fuzz_fuzz_manager_json_replay_SOURCES = \
	tests/fuzz/fuzz-manager-json.c \
	tests/fuzz/standalone-main.c \
	plugins/roles/manager/dfly-manager-model.c \
	plugins/roles/engine/dfly-scheduler-list.c
tests_fuzz_fuzz_manager_json_replay_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_manager_json_replay_CFLAGS = $(TEST_CFLAGS) $(JSON_CFLAGS)
tests_fuzz_fuzz_manager_json_replay_LDADD = core/libdfly-1.la $(JSON_LIBS) $(GLIB_LIBS)
TESTS += tests/fuzz/replay-manager-json.sh
EXTRA_DIST += tests/fuzz/replay-manager-json.sh
