#include "telemetry/routes.h"

#include "api/envelope.h"
#include "metrics/exposition.h"

namespace outpost::telemetry {

void RegisterTelemetryRoutes(api::Router& router, const ServerMetrics& metrics,
                             const Clock& clock) {
  const ServerMetrics* m = &metrics;
  router.Add("GET", "/metrics", api::Access::Metrics(),
             [m](const api::Request&, const api::PathParams&) {
               api::Response r;
               r.content_type = std::string(metrics::kTextContentType);
               r.body = m->ExposeText();
               return r;
             });
  const Clock* c = &clock;
  router.Add("GET", "/health/slo", api::Access::Scope(api::scope::kStatus),
             [m, c](const api::Request& req, const api::PathParams&) {
               return api::Success(200, m->SloJson(), api::Meta{req.request_id, c->Now()});
             });
}

}  // namespace outpost::telemetry
