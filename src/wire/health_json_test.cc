#include "wire/health_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/time_util.h"

namespace outpost::wire {
namespace {

namespace json = boost::json;

std::vector<std::string> Keys(const json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o) out.emplace_back(kv.key());
  return out;
}

WallTime At() { return *ParseTime("2026-01-13T00:00:00Z"); }

TEST(HealthToJson, ChecksInTheirOrderWithContributions) {
  HealthReport h;
  h.status = "degraded";
  h.version = "1.2.3";
  h.uptime_seconds = 7;
  h.timestamp = At();
  h.store = {"pass", "sqlite"};
  h.supervisor = HealthCheck{"pass", "0 running, 0 queued"};
  h.runner = {{"warn", "runs are NOT isolated: the process runner was chosen"}, "process", {}};
  h.audit = HealthReport::Audit{{"warn", "audit records could not be written (see the log)"}, 3};
  h.disk = HealthReport::Disk{{"pass", ""}, 12.5, 512};
  h.contributions.push_back(
      {"auth", json::object{{"status", "pass"}, {"mode", "keys"}}, {{"insecure", false}}});
  EXPECT_EQ(
      json::serialize(HealthToJson(h)),
      R"j({"status":"degraded","version":"1.2.3","uptimeSeconds":7,)j"
      R"j("timestamp":"2026-01-13T00:00:00.000Z","checks":{"store":{"status":"pass",)j"
      R"j("message":"sqlite"},"supervisor":{"status":"pass","message":"0 running, 0 queued"},)j"
      R"j("runner":{"status":"warn","message":"runs are NOT isolated: the process runner )j"
      R"j(was chosen","runner":"process"},"audit":{"status":"warn","writeFailures":3,)j"
      R"j("message":"audit records could not be written (see the log)"},"disk":)j"
      R"j({"status":"pass","freeGb":1.25E1,"minFreeMb":512},"auth":{"status":"pass",)j"
      R"j("mode":"keys"}},"insecure":false})j");
}

TEST(ReadyToJson, ReadyOrTheReasons) {
  EXPECT_EQ(json::serialize(ReadyToJson({true, {}})), R"j({"status":"ready"})j");
  EXPECT_EQ(json::serialize(ReadyToJson({false, {"store: down"}})),
            R"j({"status":"not_ready","reasons":["store: down"]})j");
}

FleetReport Fleet(bool per_run) {
  FleetReport f;
  f.status = "degraded";
  f.per_run = per_run;
  FleetAgent a;
  a.agent = "shell";
  a.available = true;
  a.model_id = "shell";
  a.max_concurrent = 4;
  f.agents.push_back(a);
  f.by_status = {{"pending", 1}, {"running", 0}};
  f.last_hour_total = 1;
  f.max_concurrent = 2;
  f.running = 3;  // more than the maximum: none available, never negative
  f.replica = "r1";
  f.timestamp = At();
  FleetReplica self{"r1", "h", "http://h:1", "v", At(), At(), 3, 2, true, true, "serving"};
  f.live.push_back(self);
  FleetReplica other{"r2", "h2", "http://h2:1", "v", At(), At(), 1, 4, false, true, "draining"};
  f.fleet = {2, 4, 0, 5, {self, other}};
  f.live_capacity = 2;
  f.live_running = 3;
  f.lease_seconds = 30;
  f.error = "store down";
  return f;
}

TEST(FleetToJson, PerRunFiguresAreNullWithoutFinishedRuns) {
  json::object o = FleetToJson(Fleet(true));
  EXPECT_EQ(Keys(o),
            (std::vector<std::string>{"status", "healthy", "agents", "capacity", "dispatches",
                                      "reaper", "replica", "timestamp", "replicas", "error"}));
  const json::object& agent = o.at("agents").as_array()[0].as_object();
  EXPECT_TRUE(agent.at("successRate").is_null());
  EXPECT_TRUE(agent.at("avgDurationMs").is_null());
  EXPECT_EQ(o.at("healthy"), true);
  EXPECT_EQ(o.at("capacity").at("available"), 0);
  EXPECT_EQ(json::serialize(o.at("dispatches")),
            R"j({"lastHourTotal":1,"byStatus":{"pending":1,"running":0}})j");
  EXPECT_EQ(json::serialize(o.at("replicas").at("live")),
            R"j([{"replicaId":"r1","host":"h","address":"http://h:1","version":"v",)j"
            R"j("startedAt":"2026-01-13T00:00:00.000Z","heartbeatAt":"2026-01-13T00:00:00.000Z",)j"
            R"j("running":3,"capacity":2,"self":true,"live":true,"draining":false,)j"
            R"j("state":"serving"}])j");
}

// capacity: fleet-wide (every live replica, every tenant), the answering replica's own under
// thisReplica, and each replica with its state.
TEST(FleetToJson, CapacityIsFleetWideWithThisReplicasOwnAndEachReplica) {
  json::object o = FleetToJson(Fleet(false));
  const json::object& c = o.at("capacity").as_object();
  EXPECT_EQ(Keys(c), (std::vector<std::string>{"scope", "maxConcurrent", "running", "queued",
                                               "available", "thisReplica", "replicas"}));
  EXPECT_EQ(c.at("scope"), "fleet");
  EXPECT_EQ(c.at("maxConcurrent"), 2);
  EXPECT_EQ(c.at("running"), 4);
  EXPECT_EQ(c.at("queued"), 5);
  EXPECT_EQ(json::serialize(c.at("thisReplica")),
            R"j({"maxConcurrent":2,"running":3,"queued":0,"available":0})j");
  const json::array& replicas = c.at("replicas").as_array();
  ASSERT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas[1].at("replicaId"), "r2");
  EXPECT_EQ(replicas[1].at("draining"), true);
  EXPECT_EQ(replicas[1].at("state"), "draining");
  EXPECT_EQ(replicas[1].at("live"), true);
}

// Issue 21: an ECS agent says how its network policy holds on Fargate; other agents have no key.
TEST(FleetToJson, AnEcsAgentCarriesItsNetworkEnforcement) {
  FleetReport f = Fleet(false);
  FleetAgent ecs = f.agents[0];
  ecs.agent = "claude";
  ecs.runner = "ecs";
  ecs.network_enforcement = "none: NOT enforced by Outpost on Fargate";
  f.agents.push_back(ecs);
  json::object o = FleetToJson(f);
  const json::array& agents = o.at("agents").as_array();
  EXPECT_FALSE(agents[0].as_object().contains("networkEnforcement"));
  EXPECT_EQ(agents[1].at("networkEnforcement"), "none: NOT enforced by Outpost on Fargate");
  EXPECT_EQ(agents[1].at("runner"), "ecs");
}

TEST(ReadyToJson, DrainingSaysSo) {
  EXPECT_EQ(json::serialize(ReadyToJson({false, {"draining: shutting down"}, true})),
            R"j({"status":"draining","reasons":["draining: shutting down"]})j");
}

TEST(FleetToJson, AnAnonymousCallerGetsCapacityOnlyInTheLayoutItAlwaysHad) {
  json::object o = FleetToJson(Fleet(false));
  // The body has always dropped "dispatches" with an unordered erase: "timestamp" took its place.
  EXPECT_EQ(Keys(o),
            (std::vector<std::string>{"status", "healthy", "agents", "capacity", "timestamp",
                                      "reaper", "replica", "replicas", "error"}));
  EXPECT_FALSE(o.at("agents").as_array()[0].as_object().contains("successRate"));
}

}  // namespace
}  // namespace outpost::wire
