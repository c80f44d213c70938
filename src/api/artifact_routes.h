// GET /runs/{id}/artifacts?expiresIn=N and its original-v2 alias GET /artifacts/{id}: a run's
// stored artifacts with URLs that expire (core/run_artifacts.h).
#pragma once

#include "api/router.h"
#include "common/clock.h"
#include "core/run_artifacts.h"

namespace outpost::api {

void RegisterArtifactRoutes(Router& router, RunArtifacts& artifacts, Clock& clock);

}  // namespace outpost::api
