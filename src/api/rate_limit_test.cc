// The requests-per-minute middleware through the router, stepped with a simulated clock.
#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/envelope.h"

namespace outpost::api {
using http::HandleRequest;
using http::Next;
using http::PathParams;
using http::Request;
using http::Response;
using http::Router;

namespace {

namespace json = boost::json;

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    quotas_.defaults.requests_per_minute = 2;
    quotas_.keys["fast"].requests_per_minute = 5;
    for (const char* path : {"/runs", "/health", "/health/fleet", "/files/{key...}", "/"}) {
      router_.Add("GET", path, [](const Request& req, const PathParams&) {
        Response r;
        r.body = "ok " + req.identity.key_id;
        return r;
      });
    }
    // Authentication's stand-in: the key from a header.
    router_.Use([](Request& req, const Next& next) {
      req.identity.key_id = req.headers.Get("X-Test-Key").value_or("");
      return next(req);
    });
    router_.Use(RateLimitMiddleware(limiter_, quotas_, clock_));
  }

  Response Get(const std::string& target, const std::string& key = "") {
    Request req;
    req.method = "GET";
    req.target = target;
    req.request_id = "rid-" + std::to_string(++n_);
    if (!key.empty()) req.headers.Set("X-Test-Key", key);
    return HandleRequest(router_, req, clock_);
  }

  SimulatedClock clock_;  // wall time 1'700'000'000 s
  QuotaOptions quotas_;
  RateLimiter limiter_{clock_};
  Router router_;
  int n_ = 0;
};

TEST_F(RateLimitTest, LimitedResponsesCarryTheHeadersAndTheExcessIs429WithRetryAfter) {
  Response first = Get("/runs");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.Get("X-RateLimit-Limit"), "2");
  EXPECT_EQ(first.headers.Get("X-RateLimit-Remaining"), "1");
  EXPECT_EQ(first.headers.Get("X-RateLimit-Reset"), "1700000030");
  EXPECT_EQ(Get("/runs").headers.Get("X-RateLimit-Remaining"), "0");
  Response refused = Get("/runs");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Retry-After"), "30");
  EXPECT_EQ(refused.headers.Get("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(refused.headers.Get("X-RateLimit-Reset"), "1700000060");
  json::value body = json::parse(refused.body);
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("error").at("code"), "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(body.at("error").at("details"),
            json::parse(R"({"quota":"requests_per_minute","limit":2,"current":2,)"
                        R"("retryAfterSeconds":30})"));
  EXPECT_EQ(body.at("meta").at("requestId"), "rid-3");
  clock_.Advance(Millis(29'999));
  EXPECT_EQ(Get("/runs").headers.Get("Retry-After"), "1");
  clock_.Advance(Millis(1));
  EXPECT_EQ(Get("/runs").status, 200);
}

TEST_F(RateLimitTest, HealthProbesTheDashboardAndSignedFilesAreNotLimited) {
  for (int i = 0; i < 5; ++i) {
    for (const char* path : {"/health", "/health/fleet", "/files/a/b", "/"}) {
      Response r = Get(path);
      EXPECT_EQ(r.status, 200) << path;
      EXPECT_FALSE(r.headers.Has("X-RateLimit-Limit")) << path;
    }
  }
  EXPECT_EQ(Get("/runs").headers.Get("X-RateLimit-Remaining"), "1");
}

TEST_F(RateLimitTest, EachKeyHasItsOwnBucketAndItsOwnLimit) {
  ASSERT_EQ(Get("/runs").status, 200);
  ASSERT_EQ(Get("/runs").status, 200);
  EXPECT_EQ(Get("/runs").status, 429);          // the tenant's bucket (no key) is empty
  EXPECT_EQ(Get("/runs", "slow").status, 200);  // a key: a bucket of its own, default limit
  Response fast = Get("/runs", "fast");
  EXPECT_EQ(fast.status, 200);
  EXPECT_EQ(fast.headers.Get("X-RateLimit-Limit"), "5");  // [quotas.keys.fast]
}

TEST_F(RateLimitTest, NoLimitConfiguredMeansNoHeaders) {
  quotas_.defaults.requests_per_minute.reset();
  for (int i = 0; i < 5; ++i) {
    Response r = Get("/runs");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.headers.Has("X-RateLimit-Limit"));
  }
}

}  // namespace
}  // namespace outpost::api
