/* dfly-version.h — the plugin ABI a header set describes */
#pragma once

/* Bumped when a public struct layout, a vfunc table or a signal signature
 * changes incompatibly. Plugins built against another major are refused. */
#define DFLY_PLUGIN_ABI_MAJOR 1
