#include "wire/health_json.h"

#include <boost/json.hpp>

#include "common/time_util.h"

namespace outpost::wire {
namespace json = boost::json;
namespace {

json::object Check(const HealthCheck& c) {
  json::object o{{"status", c.status}};
  if (!c.message.empty()) o["message"] = c.message;
  return o;
}

json::object ReplicaToJson(const FleetReplica& r) {
  return {{"replicaId", r.id},
          {"host", r.host},
          {"address", r.address},
          {"version", r.version},
          {"startedAt", FormatTime(r.started_at)},
          {"heartbeatAt", FormatTime(r.heartbeat_at)},
          {"running", r.running},
          {"capacity", r.capacity},
          {"self", r.self},
          {"live", r.live},
          {"draining", r.state == "draining"},
          {"state", r.state}};
}

json::array Replicas(const std::vector<FleetReplica>& replicas) {
  json::array out;
  for (const FleetReplica& r : replicas) out.push_back(ReplicaToJson(r));
  return out;
}

}  // namespace

json::object HealthToJson(const HealthReport& h) {
  json::object checks;
  checks["store"] = Check(h.store);
  if (h.supervisor) checks["supervisor"] = Check(*h.supervisor);
  json::object runner = Check(h.runner.check);
  runner["runner"] = h.runner.runner;
  if (h.runner.cgroup) runner["cgroup"] = *h.runner.cgroup;
  checks["runner"] = std::move(runner);
  if (h.audit) {
    json::object audit{{"status", h.audit->check.status}};
    audit["writeFailures"] = h.audit->write_failures;
    if (!h.audit->check.message.empty()) audit["message"] = h.audit->check.message;
    checks["audit"] = std::move(audit);
  }
  if (h.disk) {
    json::object disk{{"status", h.disk->check.status}};
    if (h.disk->free_gb) disk["freeGb"] = *h.disk->free_gb;
    disk["minFreeMb"] = h.disk->min_free_mb;
    if (!h.disk->check.message.empty()) disk["message"] = h.disk->check.message;
    checks["disk"] = std::move(disk);
  }
  for (const HealthContribution& c : h.contributions) checks[c.name] = c.check;
  json::object body{{"status", h.status},
                    {"version", h.version},
                    {"uptimeSeconds", h.uptime_seconds},
                    {"timestamp", FormatTime(h.timestamp)},
                    {"checks", std::move(checks)}};
  for (const HealthContribution& c : h.contributions) {
    for (const auto& kv : c.top_level) body[kv.key()] = kv.value();
  }
  return body;
}

json::object ReadyToJson(const ReadyReport& r) {
  if (r.ready) return {{"status", "ready"}};
  json::array reasons;
  for (const std::string& reason : r.reasons) reasons.emplace_back(reason);
  return {{"status", r.draining ? "draining" : "not_ready"}, {"reasons", std::move(reasons)}};
}

json::object FleetToJson(const FleetReport& f) {
  json::array agents;
  for (const FleetAgent& a : f.agents) {
    json::object agent{{"agent", a.agent},
                       {"runner", a.runner},
                       {"available", a.available},
                       {"modelId", a.model_id},
                       {"active", a.active},
                       {"queued", a.queued},
                       {"maxConcurrent", a.max_concurrent}};
    if (f.per_run) {
      agent["successRate"] = a.success_rate ? json::value(*a.success_rate) : json::value(nullptr);
      agent["avgDurationMs"] =
          a.avg_duration_ms ? json::value(*a.avg_duration_ms) : json::value(nullptr);
    }
    if (a.reason) agent["reason"] = *a.reason;
    if (a.network_enforcement) agent["networkEnforcement"] = *a.network_enforcement;
    agents.push_back(std::move(agent));
  }
  json::object by_status;
  for (const auto& [status, n] : f.by_status) by_status[status] = n;
  json::object body{
      {"status", f.status},
      {"healthy", f.status != "unhealthy"},
      {"agents", std::move(agents)},
      // Fleet-wide (every live replica, every tenant); thisReplica: the answering one's own.
      {"capacity",
       {{"scope", "fleet"},
        {"maxConcurrent", f.fleet.max_concurrent},
        {"running", f.fleet.running},
        {"queued", f.fleet.queued},
        {"available", f.fleet.available},
        {"thisReplica",
         {{"maxConcurrent", f.max_concurrent},
          {"running", f.running},
          {"queued", f.queued},
          {"available", std::max(0, f.max_concurrent - f.running)}}},
        {"replicas", Replicas(f.fleet.replicas)}}},
      {"dispatches", {{"lastHourTotal", f.last_hour_total}, {"byStatus", std::move(by_status)}}},
      {"reaper",
       {{"supervisorLost", f.reaper.supervisor_lost},
        {"leftoverProcessesKilled", f.reaper.leftovers_killed},
        {"recoveredOnStart", f.reaper.recovered_on_start},
        {"adoptedOnStart", f.reaper.adopted_on_start},
        {"orphanRunsReaped", f.reaper.orphan_runs_reaped},
        {"orphanProcessesKilled", f.reaper.orphan_processes_killed},
        {"sweeps", f.reaper.sweeps}}},
      {"replica", f.replica},
      {"timestamp", FormatTime(f.timestamp)}};
  // erase, not stable_erase: the last key takes its place, as the body has always been laid out.
  if (!f.per_run) body.erase("dispatches");
  body["replicas"] = {{"live", Replicas(f.live)},        {"lost", Replicas(f.lost)},
                      {"leaseSeconds", f.lease_seconds}, {"capacity", f.live_capacity},
                      {"running", f.live_running},       {"nodeLostRuns", f.node_lost},
                      {"takenOver", f.taken_over}};
  if (f.error) body["error"] = *f.error;
  return body;
}

}  // namespace outpost::wire
