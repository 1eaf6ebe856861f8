# engine: what the peer and seed roles run (downloads, the swarm child, the
# upload server, the scheduler client), built once as a convenience library
# that both plugins and the tests link, as they link libdfly-proto.
noinst_LTLIBRARIES += plugins/roles/engine/libdfly-peer-engine.la
plugins_roles_engine_libdfly_peer_engine_la_SOURCES = \
	plugins/roles/engine/dfly-download.c \
	plugins/roles/engine/dfly-download.h \
	plugins/roles/engine/dfly-main-call.h \
	plugins/roles/engine/dfly-output.c \
	plugins/roles/engine/dfly-output.h \
	plugins/roles/engine/dfly-parent-links.c \
	plugins/roles/engine/dfly-parent-links.h \
	plugins/roles/engine/dfly-peer-engine.c \
	plugins/roles/engine/dfly-peer-engine.h \
	plugins/roles/engine/dfly-piece-board.c \
	plugins/roles/engine/dfly-piece-board.h \
	plugins/roles/engine/dfly-piece-check.c \
	plugins/roles/engine/dfly-piece-check.h \
	plugins/roles/engine/dfly-piece-fetcher.c \
	plugins/roles/engine/dfly-piece-fetcher.h \
	plugins/roles/engine/dfly-piece-sender.c \
	plugins/roles/engine/dfly-piece-sender.h \
	plugins/roles/engine/dfly-held-boards.c \
	plugins/roles/engine/dfly-held-boards.h \
	plugins/roles/engine/dfly-range-stream.c \
	plugins/roles/engine/dfly-range-stream.h \
	plugins/roles/engine/dfly-rate-limiter.c \
	plugins/roles/engine/dfly-rate-limiter.h \
	plugins/roles/engine/dfly-scheduler-client.c \
	plugins/roles/engine/dfly-scheduler-client.h \
	plugins/roles/engine/dfly-scheduler-directory.c \
	plugins/roles/engine/dfly-scheduler-directory.h \
	plugins/roles/engine/dfly-scheduler-list.c \
	plugins/roles/engine/dfly-scheduler-list.h \
	plugins/roles/engine/dfly-seed-order.c \
	plugins/roles/engine/dfly-seed-order.h \
	plugins/roles/engine/dfly-super-seeding.c \
	plugins/roles/engine/dfly-super-seeding.h \
	plugins/roles/engine/dfly-swarm.c \
	plugins/roles/engine/dfly-swarm.h \
	plugins/roles/engine/dfly-upload-policy.c \
	plugins/roles/engine/dfly-upload-policy.h \
	plugins/roles/engine/dfly-upload-server.c \
	plugins/roles/engine/dfly-upload-server.h \
	plugins/roles/engine/dfly-worker-pool.c \
	plugins/roles/engine/dfly-worker-pool.h
plugins_roles_engine_libdfly_peer_engine_la_CPPFLAGS = $(AM_CPPFLAGS) $(PROTO_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"dfly-engine\"
plugins_roles_engine_libdfly_peer_engine_la_CFLAGS = $(AM_CFLAGS) $(PROTO_CFLAGS)
EXTRA_DIST += plugins/roles/engine/README.md
# What a user of the engine compiles and links with.
ENGINE_CPPFLAGS = -I$(top_srcdir)/plugins/roles/engine $(PROTO_CPPFLAGS)
ENGINE_CFLAGS = $(PROTO_CFLAGS)
ENGINE_LIBS = plugins/roles/engine/libdfly-peer-engine.la $(PROTO_LIBS)

# dfly-output alone: checking, placing and committing outputs.
check_PROGRAMS += plugins/roles/engine/test-output
TESTS += plugins/roles/engine/test-output
plugins_roles_engine_test_output_SOURCES = plugins/roles/engine/test-output.c
plugins_roles_engine_test_output_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_output_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_output_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-rate-limiter alone: the shared token bucket.
check_PROGRAMS += plugins/roles/engine/test-rate-limiter
TESTS += plugins/roles/engine/test-rate-limiter
plugins_roles_engine_test_rate_limiter_SOURCES = plugins/roles/engine/test-rate-limiter.c
plugins_roles_engine_test_rate_limiter_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_rate_limiter_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_rate_limiter_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-piece-fetcher alone, against a raw parent that answers scripted bytes.
check_PROGRAMS += plugins/roles/engine/test-piece-fetcher
TESTS += plugins/roles/engine/test-piece-fetcher
plugins_roles_engine_test_piece_fetcher_SOURCES = plugins/roles/engine/test-piece-fetcher.c
plugins_roles_engine_test_piece_fetcher_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_piece_fetcher_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_piece_fetcher_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-piece-board alone: the next piece, priorities, counters, digests.
check_PROGRAMS += plugins/roles/engine/test-piece-board
TESTS += plugins/roles/engine/test-piece-board
plugins_roles_engine_test_piece_board_SOURCES = plugins/roles/engine/test-piece-board.c
plugins_roles_engine_test_piece_board_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_piece_board_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_piece_board_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# dfly-upload-server alone, on the real disk storage (built for the peer's
# tests): the default policy's announces and ranges, a policy that reveals
# later, and the one-shot /v1/download-piece.
check_PROGRAMS += plugins/roles/engine/test-upload-server
TESTS += plugins/roles/engine/test-upload-server
plugins_roles_engine_test_upload_server_SOURCES = \
	plugins/roles/engine/test-upload-server.c \
	plugins/roles/dfly-role-test.h
plugins_roles_engine_test_upload_server_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_upload_server_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_upload_server_LDADD = plugins/roles/peer/libtest-disk.la \
	$(ENGINE_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(SQLITE_LIBS) $(GLIB_LIBS)

# dfly-piece-check alone, on the real disk storage: an accused parent's look
# at a piece (intact, rotten, not the reference, not checkable, not held).
check_PROGRAMS += plugins/roles/engine/test-piece-check
TESTS += plugins/roles/engine/test-piece-check
plugins_roles_engine_test_piece_check_SOURCES = \
	plugins/roles/engine/test-piece-check.c \
	plugins/roles/dfly-role-test.h
plugins_roles_engine_test_piece_check_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_piece_check_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_piece_check_LDADD = plugins/roles/peer/libtest-disk.la \
	$(ENGINE_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(SQLITE_LIBS) $(GLIB_LIBS)

# dfly-seed-order alone: who may order a seed, with identities attached as
# the TLS listener attaches them.
check_PROGRAMS += plugins/roles/engine/test-seed-order
TESTS += plugins/roles/engine/test-seed-order
plugins_roles_engine_test_seed_order_SOURCES = plugins/roles/engine/test-seed-order.c \
	tests/test-soup-server.h
plugins_roles_engine_test_seed_order_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS) -I$(top_srcdir)/tests
plugins_roles_engine_test_seed_order_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS) $(SOUP_CFLAGS)
plugins_roles_engine_test_seed_order_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(SOUP_LIBS) $(GLIB_LIBS)

# The super-seeding policy alone: turns, reveals, the 429 window, memory.
check_PROGRAMS += plugins/roles/engine/test-super-seeding
TESTS += plugins/roles/engine/test-super-seeding
plugins_roles_engine_test_super_seeding_SOURCES = plugins/roles/engine/test-super-seeding.c
plugins_roles_engine_test_super_seeding_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_super_seeding_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_super_seeding_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)

# A manager's list of schedulers, and the cached one, read with hostile input.
check_PROGRAMS += plugins/roles/engine/test-scheduler-directory
TESTS += plugins/roles/engine/test-scheduler-directory
plugins_roles_engine_test_scheduler_directory_SOURCES = plugins/roles/engine/test-scheduler-directory.c
plugins_roles_engine_test_scheduler_directory_CPPFLAGS = $(TEST_CPPFLAGS) $(ENGINE_CPPFLAGS)
plugins_roles_engine_test_scheduler_directory_CFLAGS = $(TEST_CFLAGS) $(ENGINE_CFLAGS)
plugins_roles_engine_test_scheduler_directory_LDADD = $(ENGINE_LIBS) core/libdfly-1.la $(GLIB_LIBS)
