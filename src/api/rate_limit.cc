#include "api/rate_limit.h"

#include "http/envelope.h"
#include "quota/quota_policy.h"

namespace outpost::api {
using http::Error;
using http::Meta;
using http::Middleware;
using http::Next;
using http::Request;
using http::Response;

namespace {

void SetHeaders(Response& r, const RateDecision& d) {
  r.headers.Set("X-RateLimit-Limit", std::to_string(d.limit));
  r.headers.Set("X-RateLimit-Remaining", std::to_string(d.remaining));
  r.headers.Set("X-RateLimit-Reset", std::to_string(d.reset_at));
}

}  // namespace

bool IsRateLimitExempt(std::string_view path) {
  return path == "/" || path == "/health" || path.starts_with("/health/") ||
         path.starts_with("/ui/") || path.starts_with("/files/") ||
         path.starts_with("/internal/");  // the run channel pushes back by itself (429)
}

Middleware RateLimitMiddleware(RateLimiter& limiter, const QuotaOptions& quotas,
                               const Clock& clock) {
  return [&limiter, &quotas, &clock](Request& req, const Next& next) {
    if (IsRateLimitExempt(req.path)) return next(req);
    const EffectiveLimit limit =
        ResolveQuotas(quotas, req.identity.tenant, req.identity.key_id).requests_per_minute;
    if (!limit.limited()) return next(req);
    const RateDecision d =
        limiter.Acquire(RateBucket(req.identity.tenant, req.identity.key_id), limit.value);
    if (!d.allowed) {
      Status st(Code::kResourceExhausted,
                "rate limit exceeded: " + std::to_string(d.limit) + " requests per minute (" +
                    limit.source + "); retry in " + std::to_string(d.retry_after_seconds) + " s");
      st.WithDetail("quota", "requests_per_minute")
          .WithDetail("limit", d.limit)
          .WithDetail("current", d.current)
          .WithDetail("retryAfterSeconds", d.retry_after_seconds);
      Response r = Error(st, Meta{req.request_id, clock.Now()});
      SetHeaders(r, d);
      return r;
    }
    Response r = next(req);
    SetHeaders(r, d);
    return r;
  };
}

}  // namespace outpost::api
