// The requests-per-minute quota on the HTTP API, as a router middleware (http/router.h) over
// quota/rate_limiter.h.
//
// Every matched route is limited except the health probes (/health, /health/...), the dashboard
// (/ and /ui/...) and signed artifact URLs (/files/...). The limit is the caller's effective
// requests_per_minute (quota/quota_policy.h: key, tenant, default); its bucket is the key, or the
// tenant without one — as authentication, an earlier middleware, set them on the request.
// Limited responses carry X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (epoch
// seconds when the bucket is full again); a refused one is 429 RATE_LIMIT_EXCEEDED with
// Retry-After (seconds, rounded up) and details {quota: "requests_per_minute", limit, current,
// retryAfterSeconds}. In memory, per replica: N replicas admit up to N times the rate.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "config/quota_options.h"
#include "http/router.h"
#include "quota/rate_limiter.h"

namespace outpost::api {

// True for the paths no rate limit applies to (see above).
bool IsRateLimitExempt(std::string_view path);

// `limiter`, `quotas` and `clock` must outlive the router.
http::Middleware RateLimitMiddleware(RateLimiter& limiter, const QuotaOptions& quotas,
                                     const Clock& clock);

}  // namespace outpost::api
