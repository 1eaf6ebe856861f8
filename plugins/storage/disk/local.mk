# disk: content files under daemon.cache_dir, metadata in SQLite.
plugin_LTLIBRARIES += plugins/storage/disk/disk.la
BUILT_PLUGINS += plugins/storage/disk/disk.la
plugins_storage_disk_disk_la_SOURCES = \
	plugins/storage/disk/dfly-disk-storage.c \
	plugins/storage/disk/dfly-disk-index.c \
	plugins/storage/disk/dfly-disk-index.h \
	plugins/storage/disk/dfly-disk-files.c \
	plugins/storage/disk/dfly-disk-files.h
plugins_storage_disk_disk_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"dfly-disk\"
plugins_storage_disk_disk_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
plugins_storage_disk_disk_la_LIBADD = core/libdfly-1.la $(GLIB_LIBS) $(SQLITE_LIBS)
plugins_storage_disk_disk_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_plugins_storage_disk_disk_la_DEPENDENCIES = $(top_srcdir)/core/dfly-plugin.map

# The plugin's sources are compiled into the test, not dlopen()ed.
check_PROGRAMS += plugins/storage/disk/test-disk-storage
TESTS += plugins/storage/disk/test-disk-storage
plugins_storage_disk_test_disk_storage_SOURCES = \
	plugins/storage/disk/test-disk-storage.c \
	$(plugins_storage_disk_disk_la_SOURCES)
plugins_storage_disk_test_disk_storage_CPPFLAGS = $(TEST_CPPFLAGS)
plugins_storage_disk_test_disk_storage_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
plugins_storage_disk_test_disk_storage_LDADD = core/libdfly-1.la $(GLIB_LIBS) $(SQLITE_LIBS)
