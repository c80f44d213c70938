// GET /groups/{id}: a fan-out group's runs side by side (issue 23 item 3, without `verify`):
// each run's status, duration, usage and cost, files changed, insertions and deletions, and its
// promotion. Scope `list`; another tenant's group is 404 like one that does not exist.
#pragma once

#include "common/clock.h"
#include "core/run_service.h"
#include "http/router.h"

namespace outpost::api {

void RegisterGroupRoutes(http::Router& router, RunService& service, Clock& clock);

}  // namespace outpost::api
