#include "telemetry/routes.h"

#include "http/envelope.h"
#include "metrics/exposition.h"

namespace outpost::telemetry {

void RegisterTelemetryRoutes(http::Router& router, const ServerMetrics& metrics,
                             const Clock& clock) {
  const ServerMetrics* m = &metrics;
  router.Add("GET", "/metrics", http::Access::Metrics(),
             [m](const http::Request&, const http::PathParams&) {
               http::Response r;
               r.content_type = std::string(metrics::kTextContentType);
               r.body = m->ExposeText();
               return r;
             });
  const Clock* c = &clock;
  router.Add("GET", "/health/slo", http::Access::Scope(http::scope::kStatus),
             [m, c](const http::Request& req, const http::PathParams&) {
               return http::Success(200, m->SloJson(), http::Meta{req.request_id, c->Now()});
             });
}

}  // namespace outpost::telemetry
