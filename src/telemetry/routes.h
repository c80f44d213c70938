// GET /metrics (Prometheus text format 0.0.4) and GET /health/slo (the SLO history as JSON in
// the envelope). Both unauthenticated in this version (auth gates them).
#pragma once

#include "common/clock.h"
#include "http/router.h"
#include "telemetry/server_metrics.h"

namespace outpost::telemetry {

// `metrics` and `clock` must outlive the router.
void RegisterTelemetryRoutes(http::Router& router, const ServerMetrics& metrics,
                             const Clock& clock);

}  // namespace outpost::telemetry
