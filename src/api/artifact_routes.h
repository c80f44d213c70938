// GET /runs/{id}/artifacts?expiresIn=N and its original-v2 alias GET /artifacts/{id}: a run's
// stored artifacts with URLs that expire (core/run_artifacts.h).
#pragma once

#include "common/clock.h"
#include "core/run_artifacts.h"
#include "http/router.h"

namespace outpost::api {

void RegisterArtifactRoutes(http::Router& router, RunArtifacts& artifacts, Clock& clock);

}  // namespace outpost::api
