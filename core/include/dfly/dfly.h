/* dfly.h — everything a plugin may include from dfly */
#pragma once

#define DFLY_INSIDE
#include "dfly-version.h"
#include "dfly-error.h"
#include "dfly-types.h"
#include "dfly-config.h"
#include "dfly-bus.h"
#include "dfly-context.h"
#include "dfly-plugin.h"
#include "dfly-component.h"
#include "dfly-role.h"
#include "dfly-source.h"
#include "dfly-storage.h"
#include "dfly-scheduler.h"
#include "dfly-host-announcer.h"
#include "dfly-http-range.h"
#include "dfly-frame.h"
#include "dfly-piece-digest.h"
#include "dfly-downloader.h"
#include "dfly-task-id.h"
#undef DFLY_INSIDE
