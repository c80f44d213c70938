#include "http/fault_injection.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/envelope.h"

namespace outpost::http {
namespace {

namespace json = boost::json;

struct Seen {
  std::vector<std::string> routes;
  std::vector<int> statuses;
};

class RecordingHook final : public RequestHook {
 public:
  explicit RecordingHook(Seen* seen) : seen_(seen) {}
  void After(const Request&, std::string_view route, const Response& res,
             std::chrono::nanoseconds) override {
    seen_->routes.emplace_back(route);
    seen_->statuses.push_back(res.status);
  }

 private:
  Seen* seen_;
};

Response Ok(const Request&, const PathParams&) { return JsonResponse(200, json::object{}); }

Response Call(Router& router, const Clock& clock, std::string method, std::string target,
              std::string body = "") {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  req.request_id = "rid";
  if (!req.body.empty()) req.headers.Set("Content-Type", "application/json");
  return HandleRequest(router, req, clock);
}

TEST(RequestHook, SeesTheMatchedPatternNeverTheRawPath) {
  SimulatedClock clock;
  Router router;
  router.Add("GET", "/runs/{id}", Ok);
  Seen seen;
  router.AddHook(std::make_shared<RecordingHook>(&seen));
  Call(router, clock, "GET", "/runs/01ABC");
  Call(router, clock, "POST", "/runs/01ABC");  // 405: still the route's pattern
  Call(router, clock, "GET", "/no/such/path");
  Call(router, clock, "GET", "/runs/%zz");  // 400: unparsable target
  EXPECT_EQ(seen.routes,
            (std::vector<std::string>{"/runs/{id}", "/runs/{id}", "unmatched", "unmatched"}));
  EXPECT_EQ(seen.statuses, (std::vector<int>{200, 405, 404, 400}));
}

TEST(FaultConfig, ListsEveryBadFieldAndRejectsUnknownOnes) {
  auto c = ParseFaultConfig(
      json::parse(R"({"errorRate":1.5,"statusCode":404,"latencyMs":-1,"routes":["x",3],)"
                  R"("unresponsive":"yes","bogus":1})"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  std::vector<std::string> paths;
  for (const auto& e : c.status().details().at("errors").as_array()) {
    paths.emplace_back(e.at("path").as_string());
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"bogus", "errorRate", "latencyMs", "routes[0]",
                                             "routes[1]", "statusCode", "unresponsive"}));
}

TEST(FaultSwitch, ErrorRateFailsExactlyThatFractionOfMatchingRoutes) {
  SimulatedClock clock;
  Router router;
  router.Add("GET", "/a", Ok);
  router.Add("GET", "/b", Ok);
  auto faults = EnableFaultInjection(router, clock);
  Response put = Call(router, clock, "PUT", "/admin/faults",
                      R"({"errorRate":0.5,"statusCode":502,"routes":["/a"]})");
  ASSERT_EQ(put.status, 200) << put.body;
  int failed = 0;
  for (int i = 0; i < 10; ++i) {
    Response r = Call(router, clock, "GET", "/a");
    if (r.status == 502) {
      ++failed;
      EXPECT_NE(r.body.find("\"injected\":true"), std::string::npos);
    } else {
      EXPECT_EQ(r.status, 200);
    }
    EXPECT_EQ(Call(router, clock, "GET", "/b").status, 200);  // another route: untouched
  }
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(faults->hits(), 5u);
  EXPECT_EQ(Call(router, clock, "DELETE", "/admin/faults").status, 200);
  EXPECT_EQ(Call(router, clock, "GET", "/a").status, 200);
}

TEST(FaultSwitch, UnresponsiveDropsTheConnectionButNeverItsOwnRoute) {
  SimulatedClock clock;
  Router router;
  router.Add("GET", "/a", Ok);
  EnableFaultInjection(router, clock);
  ASSERT_EQ(Call(router, clock, "PUT", "/admin/faults", R"({"unresponsive":true})").status, 200);
  EXPECT_TRUE(Call(router, clock, "GET", "/a").drop_connection);
  EXPECT_TRUE(Call(router, clock, "GET", "/nowhere").drop_connection);
  Response state = Call(router, clock, "GET", "/admin/faults");
  EXPECT_EQ(state.status, 200);
  EXPECT_FALSE(state.drop_connection);
  EXPECT_NE(state.body.find("\"unresponsive\":true"), std::string::npos);
}

TEST(FaultSwitch, LatencyDelaysMatchingRequests) {
  SimulatedClock clock;
  clock.set_advance_on_sleep(true);  // called inline: the delay moves the clock
  FaultSwitch faults(clock);
  FaultConfig c;
  c.latency_ms = 250;
  c.routes = {"/slow"};
  faults.Set(c);
  Request req;
  EXPECT_FALSE(faults.Before(req, "/slow"));  // delayed, then served
  EXPECT_FALSE(faults.Before(req, "/fast"));
  EXPECT_EQ(clock.sleeps(), (std::vector<Millis>{Millis(250)}));
  EXPECT_EQ(clock.Mono(), MonoTime(Millis(250)));
}

TEST(FaultSwitch, BadBodiesChangeNothing) {
  SimulatedClock clock;
  Router router;
  router.Add("GET", "/a", Ok);
  auto faults = EnableFaultInjection(router, clock);
  Response r = Call(router, clock, "PUT", "/admin/faults", R"({"errorRate":"all"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"path\":\"errorRate\""), std::string::npos);
  EXPECT_EQ(Call(router, clock, "PUT", "/admin/faults", "{not json").status, 400);
  // Nested deeper than the switch's 8 levels: refused before its fields are looked at.
  std::string deep =
      R"({"errorRate":1,"routes":)" + std::string(8, '[') + std::string(8, ']') + "}";
  r = Call(router, clock, "PUT", "/admin/faults", deep);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nested deeper than 8"), std::string::npos) << r.body;
  Request plain;
  plain.method = "PUT";
  plain.target = "/admin/faults";
  plain.body = R"({"errorRate":1})";
  plain.headers.Set("Content-Type", "text/plain");
  EXPECT_EQ(HandleRequest(router, plain, clock).status, 415);
  EXPECT_FALSE(faults->Get().Active());
  EXPECT_EQ(Call(router, clock, "GET", "/a").status, 200);
}

TEST(FaultSwitch, WithoutEnablingThereAreNoRoutes) {
  SimulatedClock clock;
  Router router;
  router.Add("GET", "/a", Ok);
  EXPECT_EQ(Call(router, clock, "PUT", "/admin/faults", R"({"errorRate":1})").status, 404);
}

}  // namespace
}  // namespace outpost::http
