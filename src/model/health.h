// What GET /health, /health/ready and /health/fleet report (and the MCP health and
// fleet_status tools), as core decides it (RunService::Health, Ready, Fleet). The adapters
// format it (wire/health_json.h).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace outpost {

// What another component adds to GET /health: one entry of `checks` (status pass|warn|fail,
// warn making the report degraded and fail unhealthy) and fields at the top level of the body
// (e.g. auth's "insecure": true). Its JSON is the component's own: core reads only the status.
struct HealthContribution {
  std::string name;
  boost::json::object check;
  boost::json::object top_level;
};
using HealthSource = std::function<HealthContribution()>;

// One built-in check: status pass|warn|fail and an optional message.
struct HealthCheck {
  std::string status;
  std::string message;  // "": none
};

struct HealthReport {
  std::string status;  // healthy | degraded | unhealthy
  bool failing = false;
  std::string version;
  std::int64_t uptime_seconds = 0;
  WallTime timestamp;
  HealthCheck store;
  std::optional<HealthCheck> supervisor;  // when there is one
  struct Runner {
    HealthCheck check;
    std::string runner;                 // sandbox | process
    std::optional<std::string> cgroup;  // the sandbox's cgroup version, "none"
  } runner;
  struct Audit {
    HealthCheck check;
    std::int64_t write_failures = 0;
  };
  std::optional<Audit> audit;  // when audited
  struct Disk {
    HealthCheck check;
    std::optional<double> free_gb;  // one decimal
    std::int64_t min_free_mb = 0;
  };
  std::optional<Disk> disk;  // when guarded
  std::vector<HealthContribution> contributions;
};

struct ReadyReport {
  bool ready = false;
  std::vector<std::string> reasons;  // why not
  bool draining = false;             // SIGTERM: this replica takes no new work (status "draining")
};

struct FleetAgent {
  std::string agent;
  std::string runner;  // sandbox | process | docker | ecs: which runner runs it
  bool available = false;
  std::string model_id;
  int active = 0;
  int queued = 0;
  int max_concurrent = 0;
  // Per-run figures (FleetReport::per_run): nullopt is JSON null (no finished run in the hour).
  std::optional<int> success_rate;
  std::optional<std::int64_t> avg_duration_ms;
  std::optional<std::string> reason;  // why not available
  // ecs runs: how its network policy holds on Fargate (app/runners.h EcsNetworkEnforcement).
  std::optional<std::string> network_enforcement;
};

struct FleetReplica {
  std::string id;
  std::string host;
  std::string address;
  std::string version;
  WallTime started_at;
  WallTime heartbeat_at;
  int running = 0;
  int capacity = 0;
  bool self = false;
  bool live = false;
  // serving | draining | left (exited after a drain) | lost (no heartbeat within the lease)
  std::string state;
};

struct FleetReport {
  std::string status;  // healthy | degraded | unhealthy
  std::vector<FleetAgent> agents;
  int max_concurrent = 0;
  int running = 0;
  int queued = 0;
  // The caller's tenant's dispatches of the last hour; false for an anonymous caller (then
  // neither `dispatches` nor the agents' per-run figures are reported).
  bool per_run = false;
  std::int64_t last_hour_total = 0;
  // By status, lower case, in the order pending, running, completed, failed, timeout, cancelled.
  std::vector<std::pair<std::string, std::int64_t>> by_status;
  struct Reaper {
    std::int64_t supervisor_lost = 0;
    std::int64_t leftovers_killed = 0;
    std::int64_t recovered_on_start = 0;
    std::int64_t adopted_on_start = 0;
    std::int64_t orphan_runs_reaped = 0;
    std::int64_t orphan_processes_killed = 0;
    std::int64_t sweeps = 0;  // orphan sweeps done since start
  } reaper;
  std::string replica;
  WallTime timestamp;
  std::vector<FleetReplica> live;
  std::vector<FleetReplica> lost;
  // Fleet-wide, every tenant (capacity.*): summed over the live replicas' heartbeats; queued is
  // every PENDING run in the store. max_concurrent/running/queued above are this replica's.
  struct Fleetwide {
    int max_concurrent = 0;  // live replicas that take work (not draining)
    int running = 0;         // live replicas, draining ones included
    int available = 0;       // room left on the replicas that take work
    int queued = 0;
    std::vector<FleetReplica> replicas;  // every record: live, draining, left and lost
  } fleet;
  int lease_seconds = 0;
  int live_capacity = 0;
  int live_running = 0;
  std::int64_t node_lost = 0;
  std::int64_t taken_over = 0;
  std::optional<std::string> error;  // the store's, when it failed

  bool failing() const { return status == "unhealthy"; }
};

}  // namespace outpost
