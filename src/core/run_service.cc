#include "core/run_service.h"

#include <sys/statvfs.h>

#include <boost/json.hpp>
#include <cmath>

#include "common/ids.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
#include "core/agent_secrets.h"
#include "core/auditor.h"
#include "core/dispatch_quotas.h"
#include "core/dispatch_request.h"
#include "core/retention.h"
#include "core/run_observer.h"
#include "core/supervisor.h"

namespace outpost {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxCancelReason = 500;
constexpr const char* kDefaultCancelReason = "Cancelled by user";

json::object Check(std::string_view status, std::string message = {}) {
  json::object c{{"status", status}};
  if (!message.empty()) c["message"] = message;
  return c;
}

// A replica as /health/fleet lists it.
json::object ReplicaToJson(const ReplicaInfo& r) {
  return {{"replicaId", r.id},
          {"host", r.host},
          {"address", r.address},
          {"version", r.version},
          {"startedAt", FormatTime(r.started_at)},
          {"heartbeatAt", FormatTime(r.heartbeat_at)},
          {"running", r.running},
          {"capacity", r.capacity}};
}

}  // namespace

RunService::RunService(RunStore& store, const AgentRegistry& agents, Clock& clock,
                       const Options& opts, Supervisor* supervisor, const SecretStore* secrets)
    : store_(store),
      agents_(agents),
      clock_(clock),
      opts_(opts),
      supervisor_(supervisor),
      secrets_(secrets),
      started_at_(clock.Now()) {}

Result<DispatchOutcome> RunService::Dispatch(const json::value& body,
                                             const std::optional<std::string>& idempotency_header,
                                             const RequestContext& ctx) {
  auto out = DispatchUnaudited(body, idempotency_header, ctx);
  if (auditor_) AuditDispatch(out, ctx);
  if (observer_) ObserveDispatch(body, out);
  // After the record: the supervisor's first transition of the run usually comes after it
  // (its periodic pass may still admit the run a moment before).
  if (out.ok() && out->created && supervisor_) supervisor_->Wake();
  return out;
}

void RunService::ObserveDispatch(const json::value& body, const Result<DispatchOutcome>& out) {
  if (!out.ok()) {
    const json::value* agent = body.is_object() ? body.as_object().if_contains("agent") : nullptr;
    observer_->OnDispatch(agent && agent->is_string() ? std::string_view(agent->get_string()) : "",
                          nullptr, false, out.status());
  } else if (out->group_id) {
    for (const Run& r : out->group) observer_->OnDispatch(r.agent, &r, out->created, Status::Ok());
  } else {
    observer_->OnDispatch(out->run.agent, &out->run, out->created, Status::Ok());
  }
}

// One record per run (a fan-out: each of its runs), or one for a refused dispatch.
void RunService::AuditDispatch(const Result<DispatchOutcome>& out, const RequestContext& ctx) {
  if (!out.ok()) {
    auditor_->Call(ctx, audit_action::kDispatch, "runs", out.status());
    return;
  }
  const std::vector<Run>& runs = out->group_id ? out->group : std::vector<Run>{out->run};
  for (const Run& r : runs) {
    json::object details{{"agent", r.agent}, {"modelId", r.model_id}};
    if (r.group_id) details["groupId"] = *r.group_id;
    if (!r.additional_secrets.empty()) {  // names only: values never leave the secret store
      details["additionalSecrets"] = json::value_from(r.additional_secrets);
    }
    if (!out->created) details["idempotentReplay"] = true;
    auditor_->Call(ctx, audit_action::kDispatch, "run:" + r.id.str(), Status::Ok(),
                   std::move(details));
  }
}

Result<DispatchOutcome> RunService::DispatchUnaudited(
    const json::value& body, const std::optional<std::string>& idempotency_header,
    const RequestContext& ctx) {
  auto parsed = ParseDispatchRequests(body, idempotency_header, agents_, opts_, secrets_);
  if (!parsed.ok()) return parsed.status();
  const EffectiveQuotas quotas = ResolveQuotas(opts_.quotas, ctx.tenant, ctx.key_id);
  OUTPOST_RETURN_IF_ERROR(ApplyTimeoutQuota(body, quotas.timeout_seconds, parsed->runs));
  // Refused, not queued: a run admitted now could only fail for lack of space.
  if (disk_ && disk_->Low()) {
    return Unavailable("free disk space in the data dir is below " +
                       std::to_string(opts_.min_free_disk_mb) +
                       " MB; no runs are admitted until space is freed");
  }
  const Admission admission = AdmissionFor(quotas);
  if (parsed->fan_out) return DispatchGroup(std::move(parsed->runs), admission, ctx);
  Run run = std::move(parsed->runs.front());
  run.created_at = clock_.Now();
  run.id = RunId(NewUlid(run.created_at));
  run.tenant = ctx.tenant;
  run.key_id = ctx.key_id;
  run.status = RunStatus::kPending;
  run.phase = std::string(kPhaseQueued);
  run.owner = opts_.replica_id;  // admitted here while this replica lives (Supervisor)
  auto created = store_.CreateAll({run}, admission);
  if (!created.ok()) return WithRetryAfter(created.status(), run.created_at);
  CreateResult& c = created->front();
  if (c.created) {
    spdlog::info("run {} dispatched: agent={} model={} request={}", run.id.str(), run.agent,
                 run.model_id, ctx.request_id);
  }
  return DispatchOutcome{std::move(c.run), c.created, std::nullopt, {}};
}

// All of a fan-out or none: the store admits and creates the runs together (CreateAll), "held"
// (the supervisor does not admit them), then they are released together. Should a store leave
// some created after a failure (one without transactions, interrupted), those are cancelled
// here — they never start — and the caller gets the error.
Result<DispatchOutcome> RunService::DispatchGroup(std::vector<Run> runs, const Admission& admission,
                                                  const RequestContext& ctx) {
  WallTime now = clock_.Now();
  std::string group = NewUlid(now);
  DispatchOutcome out;
  out.created = false;
  std::vector<RunId> held;
  auto abandon = [&](const Status& why) {
    for (const RunId& id : held) {
      for (int attempt = 0; attempt < 20; ++attempt) {
        auto cur = store_.Get(id);
        if (!cur.ok() || IsTerminal(cur->status)) break;
        Run r = *cur;
        r.status = RunStatus::kCancelled;
        r.reason = std::string(reason::kCancelled);
        r.phase = std::string(kPhaseDone);
        r.cancel_reason = "the fan-out it belonged to could not be created: " + why.message();
        r.ended_at = clock_.Now();
        r.progress = 100;
        if (supervisor_) r.artifacts_state = supervisor_->EndedArtifactsState();
        auto u = store_.Update(r);
        if (u.ok()) {
          if (auditor_) auditor_->Transition(*cur, *u, &ctx);
          if (supervisor_) supervisor_->OnRunEnded(id);
          break;
        }
        if (u.status().code() != Code::kConflict) break;
      }
    }
    return why;
  };
  for (Run& run : runs) {
    run.created_at = now;
    run.id = RunId(NewUlid(now));
    run.tenant = ctx.tenant;
    run.key_id = ctx.key_id;
    run.status = RunStatus::kPending;
    run.phase = std::string(kPhaseHeld);
    run.owner = opts_.replica_id;
    run.group_id = group;
  }
  auto created = store_.CreateAll(runs, admission);
  if (!created.ok()) {
    const Code code = created.status().code();
    // Refusals create nothing; anything else may have left some of the runs behind.
    if (code != Code::kResourceExhausted && code != Code::kConflict &&
        code != Code::kInvalidArgument) {
      for (const Run& r : runs) held.push_back(r.id);
      return abandon(created.status());
    }
    return WithRetryAfter(created.status(), now);
  }
  for (CreateResult& c : *created) {
    if (c.created) {
      held.push_back(c.run.id);
      spdlog::info("run {} dispatched: agent={} model={} group={} request={}", c.run.id.str(),
                   c.run.agent, c.run.model_id, group, ctx.request_id);
    }
    out.created |= c.created;
    if (!out.group_id) out.group_id = c.run.group_id.value_or(group);
    out.group.push_back(std::move(c.run));
  }
  // Release: every run of the group exists now.
  for (Run& r : out.group) {
    if (r.phase != kPhaseHeld) continue;
    for (int attempt = 0; attempt < 20; ++attempt) {
      Run next = r;
      next.phase = std::string(kPhaseQueued);
      auto u = store_.Update(next);
      if (u.ok()) {
        r = *u;
        break;
      }
      if (u.status().code() != Code::kConflict) return abandon(u.status());
      auto cur = store_.Get(r.id);  // cancelled meanwhile, say
      if (!cur.ok()) return abandon(cur.status());
      r = *cur;
      if (r.phase != kPhaseHeld) break;
    }
  }
  out.run = out.group.front();
  return out;
}

Result<Run> RunService::Load(std::string_view given, const RequestContext& ctx) {
  if (!IsUlid(given)) {
    return Status::Invalid({{"runId", "run ids are 26-character ULIDs"}}, "Invalid run id");
  }
  const std::string id = CanonicalUlid(given);  // a lower-case id is the same run
  auto run = store_.Get(RunId(id));
  if (!run.ok()) {
    if (run.status().code() == Code::kNotFound)
      return NotFound("Run not found: " + std::string(id));
    return run.status();
  }
  // Another tenant's run is indistinguishable from a missing one.
  if (run->tenant != ctx.tenant) return NotFound("Run not found: " + std::string(id));
  return run;
}

Result<Run> RunService::Get(std::string_view id, const RequestContext& ctx) {
  return Load(id, ctx);
}

Result<RunPage> RunService::List(const std::multimap<std::string, std::string>& params,
                                 const RequestContext& ctx) {
  auto q = ParseListParams(params);
  if (!q.ok()) return q.status();
  q->tenant = ctx.tenant;
  return store_.List(*q);
}

Result<CancelOutcome> RunService::Cancel(std::string_view id,
                                         const std::optional<std::string>& reason,
                                         const RequestContext& ctx) {
  auto out = CancelUnaudited(id, reason, ctx);
  if (auditor_) {
    json::object details;
    if (out.ok()) {
      details = {{"status", ToString(out->run.status)}, {"inProgress", out->in_progress}};
    } else if (const json::value* cur = out.status().details().if_contains("currentStatus")) {
      details["currentStatus"] = *cur;
    }
    auditor_->Call(ctx, audit_action::kCancel, "run:" + (IsUlid(id) ? CanonicalUlid(id) : "-"),
                   out.status(), std::move(details));
  }
  return out;
}

Result<CancelOutcome> RunService::CancelUnaudited(std::string_view id,
                                                  const std::optional<std::string>& reason_in,
                                                  const RequestContext& ctx) {
  if (reason_in && Utf8Length(*reason_in) > kMaxCancelReason) {
    return Status::Invalid({{"reason", "reason must be at most 500 characters"}});
  }
  std::string why = reason_in && !reason_in->empty() ? *reason_in : kDefaultCancelReason;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto loaded = Load(id, ctx);
    if (!loaded.ok()) return loaded.status();
    Run run = *loaded;
    if (run.status == RunStatus::kCancelled) return CancelOutcome{run, false};
    if (IsTerminal(run.status)) {
      Status st = Conflict("Run " + run.id.str() + " already ended with status " +
                           std::string(ToString(run.status)));
      st.WithDetail("runId", json::value(run.id.str()))
          .WithDetail("currentStatus", json::value(ToString(run.status)));
      return st;
    }
    WallTime now = clock_.Now();
    bool running = run.status == RunStatus::kRunning;
    if (running && run.cancel_requested_at) {
      // Already being cancelled: nudge the shim again (idempotent) and report progress.
      Status st = supervisor_ ? supervisor_->RequestCancel(run) : Status::Ok();
      if (!st.ok()) spdlog::warn("run {}: cancel signal: {}", run.id.str(), st.ToString());
      return CancelOutcome{run, true};
    }
    run.cancel_reason = why;
    run.cancel_requested_at = now;
    if (!running) {  // PENDING: it never starts
      run.status = RunStatus::kCancelled;
      run.reason = std::string(reason::kCancelled);
      run.phase = std::string(kPhaseDone);
      run.ended_at = now;
      run.progress = 100;
      if (supervisor_) run.artifacts_state = supervisor_->EndedArtifactsState();
    }
    auto updated = store_.Update(run);
    if (!updated.ok()) {
      if (updated.status().code() == Code::kConflict) continue;  // raced: look again
      return updated.status();
    }
    spdlog::info("run {} cancel requested ({}): {}", run.id.str(), ToString(run.status), why);
    if (!running && auditor_) auditor_->Transition(*loaded, *updated, &ctx);
    if (!running) {
      if (supervisor_) supervisor_->OnRunEnded(run.id);
      return CancelOutcome{*updated, false};
    }
    if (supervisor_) {
      Status st = supervisor_->RequestCancel(*updated);
      if (!st.ok()) spdlog::warn("run {}: cancel signal: {}", run.id.str(), st.ToString());
    }
    return CancelOutcome{*updated, true};
  }
  return Unavailable("the run kept changing; try again");
}

HealthReport RunService::Health() {
  json::object checks;
  bool fail = false, warn = false;
  Status ping = store_.Ping();
  checks["store"] = ping.ok()
                        ? Check("pass", opts_.StoreUrl().substr(0, opts_.StoreUrl().find(':')))
                        : Check("fail", ping.message());
  fail |= !ping.ok();
  if (supervisor_) {
    SupervisorSnapshot s = supervisor_->Snapshot();
    checks["supervisor"] = s.loop_alive ? Check("pass", std::to_string(s.running) + " running, " +
                                                            std::to_string(s.queued) + " queued")
                                        : Check("fail", "the supervisor loop is not running");
    fail |= !s.loop_alive;
  }
  if (opts_.runner == "sandbox") {
    json::object r = Check("pass", "bubblewrap sandbox, unprivileged uid, cgroup limits");
    r["runner"] = "sandbox";
    r["cgroup"] = opts_.cgroup_version.empty() ? "none" : opts_.cgroup_version;
    checks["runner"] = std::move(r);
  } else {
    json::object r = Check("warn", "runs are NOT isolated: the process runner was chosen");
    r["runner"] = opts_.runner;
    checks["runner"] = std::move(r);
    warn = true;
  }
  if (auditor_) {  // a failed audit write never fails the operation: it is counted here
    const std::int64_t failures = auditor_->write_failures();
    json::object audit = Check(failures > 0 ? "warn" : "pass");
    audit["writeFailures"] = failures;
    if (failures > 0) audit["message"] = "audit records could not be written (see the log)";
    warn |= failures > 0;
    checks["audit"] = std::move(audit);
  }
  if (disk_) {
    std::optional<std::int64_t> free = disk_->free_bytes();
    const bool low = disk_->Low();
    warn |= low;
    json::object disk = Check(low ? "warn" : "pass");
    if (free) disk["freeGb"] = std::round(static_cast<double>(*free) / (1 << 30) * 10) / 10;
    disk["minFreeMb"] = opts_.min_free_disk_mb;
    if (low) disk["message"] = "free space below the threshold: new runs are refused (503)";
    checks["disk"] = std::move(disk);
  }
  json::object top_level;
  for (const HealthSource& source : health_sources_) {
    HealthContribution c = source();
    const std::string st = GetString(c.check, "status").value_or("pass");
    fail |= st == "fail";
    warn |= st == "warn";
    checks[c.name] = std::move(c.check);
    for (auto& kv : c.top_level) top_level[kv.key()] = std::move(kv.value());
  }
  std::string status = fail ? "unhealthy" : warn ? "degraded" : "healthy";
  json::object body{
      {"status", status},
      {"version", OUTPOST_VERSION},
      {"uptimeSeconds",
       std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - started_at_).count()},
      {"timestamp", FormatTime(clock_.Now())},
      {"checks", std::move(checks)}};
  for (auto& kv : top_level) body[kv.key()] = std::move(kv.value());
  return {std::move(body), fail};
}

HealthReport RunService::Ready() {
  json::array reasons;
  if (Status ping = store_.Ping(); !ping.ok()) reasons.emplace_back("store: " + ping.message());
  if (supervisor_ && !supervisor_->Snapshot().loop_alive) {
    reasons.emplace_back("supervisor: not running");
  }
  if (reasons.empty()) return {json::object{{"status", "ready"}}, false};
  return {json::object{{"status", "not_ready"}, {"reasons", std::move(reasons)}}, true};
}

HealthReport RunService::Fleet(const RequestContext& ctx) {
  WallTime now = clock_.Now();
  // An anonymous caller sees capacity only: per-run counts would tell it about tenants' runs.
  const bool per_run = !ctx.tenant.empty();
  Result<RunStats> stats = per_run ? store_.Stats(now - std::chrono::hours(1), ctx.tenant)
                                   : Result<RunStats>(RunStats{});
  Status store_status = per_run ? stats.status() : store_.Ping();
  SupervisorSnapshot snap = supervisor_ ? supervisor_->Snapshot() : SupervisorSnapshot{};
  json::array agents;
  json::object by_status{{"pending", 0}, {"running", 0}, {"completed", 0},
                         {"failed", 0},  {"timeout", 0}, {"cancelled", 0}};
  std::int64_t last_hour = 0;
  // The fleet is the coding agents: `shell` counts only when it is the only agent enabled.
  const std::vector<std::string> names = agents_.Names();
  const bool shell_only = names.size() == 1 && names.front() == "shell";
  int counted = 0, available = 0, rated = 0, rate_sum = 0;
  for (const auto& name : names) {  // installed or not: say why not
    const AgentOptions* a = agents_.Find(name);
    AgentStats st;
    if (stats.ok()) {
      if (auto it = stats->by_agent.find(name); it != stats->by_agent.end()) st = it->second;
    }
    int completed = st.by_status[RunStatus::kCompleted];
    int failed = st.by_status[RunStatus::kFailed] + st.by_status[RunStatus::kTimeout];
    // No finished run in the hour: no rate (not a perfect 100).
    std::optional<int> success_rate;
    if (completed + failed > 0) {
      success_rate = (completed * 100 + (completed + failed) / 2) / (completed + failed);
    }
    int active = snap.running_by_agent[name];
    bool is_available = active < a->max_concurrent;
    std::optional<std::string> no_secret = MissingSecretReason(*a, secrets_, opts_.secrets_dir);
    if (no_secret) is_available = false;
    if (AgentAvailability inst = agents_.Availability(*a); !inst.available) {
      is_available = false;
      no_secret = inst.reason;  // not installed: that comes first
    }
    const bool counts = name != "shell" || shell_only;
    counted += counts;
    available += counts && is_available;
    if (counts && per_run && success_rate) {
      ++rated;
      rate_sum += *success_rate;
    }
    json::object agent{{"agent", name},
                       {"available", is_available},
                       {"modelId", a->models.front()},
                       {"active", active},
                       {"queued", snap.queued_by_agent[name]},
                       {"maxConcurrent", a->max_concurrent}};
    if (per_run) {
      agent["successRate"] = success_rate ? json::value(*success_rate) : json::value(nullptr);
      agent["avgDurationMs"] =
          st.completed_count ? json::value(st.completed_duration_ms_total / st.completed_count)
                             : json::value(nullptr);
    }
    if (no_secret) agent["reason"] = *no_secret;
    agents.push_back(std::move(agent));
    for (const auto& [status, n] : st.by_status) {
      std::string key(ToString(status));
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      by_status[key] = by_status[key].as_int64() + n;
      last_hour += n;
    }
  }
  bool store_ok = store_status.ok();
  // As the original (outpost-original-spec "GET /health/fleet"): none of the fleet available →
  // unhealthy; some not available, or a mean success rate (of the agents that have one) under
  // 80 % → degraded.
  std::string status = "healthy";
  if (!store_ok || !snap.loop_alive || available == 0) {
    status = "unhealthy";
  } else if (available < counted || (rated > 0 && rate_sum < 80 * rated)) {
    status = "degraded";
  }
  json::object body{
      {"status", status},
      {"healthy", status != "unhealthy"},
      {"agents", std::move(agents)},
      {"capacity",
       {{"maxConcurrent", opts_.max_concurrent_runs},
        {"running", snap.running},
        {"queued", snap.queued},
        {"available", std::max(0, opts_.max_concurrent_runs - snap.running)}}},
      {"dispatches", {{"lastHourTotal", last_hour}, {"byStatus", std::move(by_status)}}},
      {"reaper",
       {{"supervisorLost", snap.reaper.supervisor_lost},
        {"leftoverProcessesKilled", snap.reaper.leftovers_killed},
        {"recoveredOnStart", snap.reaper.recovered_on_start},
        {"adoptedOnStart", snap.reaper.adopted_on_start},
        {"orphanRunsReaped", snap.reaper.orphan_runs_reaped},
        {"orphanProcessesKilled", snap.reaper.orphan_processes_killed}}},
      {"replica", opts_.replica_id},
      {"timestamp", FormatTime(now)}};
  if (!per_run) body.erase("dispatches");
  // Every replica sharing the store: capacity and activity summed over the live ones.
  json::array live, lost;
  int live_capacity = 0, live_running = 0;
  for (const ReplicaView& v : snap.replicas) {
    json::object r = ReplicaToJson(v.info);
    r["self"] = v.self;
    if (v.live) {
      live_capacity += v.info.capacity;
      live_running += v.info.running;
      live.push_back(std::move(r));
    } else {
      lost.push_back(std::move(r));
    }
  }
  body["replicas"] = {{"live", std::move(live)},
                      {"lost", std::move(lost)},
                      {"leaseSeconds", opts_.lease_seconds},
                      {"capacity", live_capacity},
                      {"running", live_running},
                      {"nodeLostRuns", snap.node_lost},
                      {"takenOver", snap.taken_over}};
  if (!store_ok) body["error"] = store_status.message();
  return {std::move(body), status == "unhealthy"};
}

}  // namespace outpost
