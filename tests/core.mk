# Unit tests of the runtime library and the daemon's loader and engine.
CORE_TESTS = tests/test-bus tests/test-engine tests/test-error tests/test-frame tests/test-loader \
	tests/test-piece-digest tests/test-task-id tests/test-message tests/test-http-range tests/test-wire \
	tests/test-wire-limits \
	tests/test-tls tests/test-piece-http tests/test-http-client tests/test-cert
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)
CORE_TEST_LDADD = core/libdflyd.la core/libdfly-1.la $(GLIB_LIBS)

tests_test_cert_SOURCES = tests/test-cert.c
tests_test_cert_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_cert_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(GNUTLS_CFLAGS)
tests_test_cert_LDADD = $(CORE_TEST_LDADD) $(SOUP_LIBS) $(GNUTLS_LIBS)
tests_test_bus_SOURCES = tests/test-bus.c
tests_test_bus_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_bus_LDADD = $(CORE_TEST_LDADD)
tests_test_engine_SOURCES = tests/test-engine.c
tests_test_engine_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_engine_LDADD = $(CORE_TEST_LDADD)
tests_test_error_SOURCES = tests/test-error.c
tests_test_error_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_error_LDADD = $(CORE_TEST_LDADD)
tests_test_frame_SOURCES = tests/test-frame.c
tests_test_frame_CPPFLAGS = $(TEST_CPPFLAGS)
nodist_tests_test_frame_SOURCES = proto/envelope.pb-c.c
tests_test_frame_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_test_frame_LDADD = $(CORE_TEST_LDADD) $(PROTOBUF_C_LIBS)
tests_test_message_SOURCES = tests/test-message.c
tests_test_message_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_test_message_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
tests_test_message_LDADD = $(PROTO_LIBS) $(CORE_TEST_LDADD)
tests_test_wire_limits_SOURCES = tests/test-wire-limits.c
tests_test_wire_limits_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_test_wire_limits_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
tests_test_wire_limits_LDADD = $(PROTO_LIBS) $(CORE_TEST_LDADD)
tests_test_wire_SOURCES = tests/test-wire.c
tests_test_wire_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_test_wire_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
tests_test_wire_LDADD = $(PROTO_LIBS) $(CORE_TEST_LDADD)
tests_test_tls_SOURCES = tests/test-tls.c
tests_test_tls_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_test_tls_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
tests_test_tls_LDADD = $(PROTO_LIBS) $(CORE_TEST_LDADD)
tests_test_piece_http_SOURCES = tests/test-piece-http.c
tests_test_piece_http_CPPFLAGS = $(TEST_CPPFLAGS) $(PROTO_CPPFLAGS)
tests_test_piece_http_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
tests_test_piece_http_LDADD = $(PROTO_LIBS) $(CORE_TEST_LDADD)
tests_test_piece_digest_SOURCES = tests/test-piece-digest.c
tests_test_piece_digest_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_piece_digest_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS) $(GNUTLS_CFLAGS)
tests_test_piece_digest_LDADD = $(CORE_TEST_LDADD) $(XXHASH_LIBS) $(GNUTLS_LIBS)
# Not a test: tests/bench/bench-digest.sh runs it.
check_PROGRAMS += tests/bench/bench-digest
tests_bench_bench_digest_SOURCES = tests/bench/bench-digest.c
tests_bench_bench_digest_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_digest_LDADD = $(CORE_TEST_LDADD)
tests_test_task_id_SOURCES = tests/test-task-id.c
tests_test_task_id_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_task_id_LDADD = $(CORE_TEST_LDADD)
tests_test_http_client_SOURCES = tests/test-http-client.c tests/test-origin.h \
	tests/test-soup-server.h
tests_test_http_client_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_http_client_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
tests_test_http_client_LDADD = $(CORE_TEST_LDADD) $(SOUP_LIBS)
tests_test_http_range_SOURCES = tests/test-http-range.c
tests_test_http_range_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_http_range_LDADD = $(CORE_TEST_LDADD)
tests_test_loader_SOURCES = tests/test-loader.c
tests_test_loader_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_loader_LDADD = $(CORE_TEST_LDADD)

# Plugins export exactly one symbol: prove it on every built plugin.
TESTS += tests/check-plugin-exports.sh
EXTRA_DIST += tests/check-plugin-exports.sh

# The style rules a machine can check (HACKING.md, "Style").
TESTS += tests/check-style.sh
EXTRA_DIST += tests/check-style.sh tests/test-log.h

# Every C source as clang-format writes it with the top .clang-format.
TESTS += tests/check-format.sh
EXTRA_DIST += tests/check-format.sh

# source.allow and source.deny: the private matcher of libdfly's HTTP client.
check_PROGRAMS += tests/test-source-policy
TESTS += tests/test-source-policy
tests_test_source_policy_SOURCES = tests/test-source-policy.c
tests_test_source_policy_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/core/lib
tests_test_source_policy_LDADD = $(CORE_TEST_LDADD)
