#include "core/run_service.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>

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
#include "model/run_state.h"

namespace outpost {
namespace json = boost::json;
namespace {

// What `none` and `allowlist` mean for an agent whose runs are ECS tasks (/health/fleet
// networkEnforcement): never more than holds there.
std::string EcsNetworkEnforcement(const std::string& network) {
  if (network == "allowlist") {
    return "allowlist: only as strong as the task's security groups ([runner.ecs] "
           "security_groups) and the egress proxy they route through; Outpost sets no firewall "
           "inside a Fargate task (no NET_ADMIN there) and does not check either";
  }
  if (network == "host") return "host: whatever the task's security groups and routes allow";
  return "none: NOT enforced by Outpost on Fargate (every task has a network interface and needs "
         "the control plane); egress is what the task's security groups ([runner.ecs] "
         "security_groups) and the subnets' routes allow";
}

constexpr const char* kDefaultCancelReason = "Cancelled by user";

// What a cancel found in the latest copy of its run when it wrote nothing: the run was
// already cancelled, already being cancelled, or already over otherwise.
enum class Seen { kWritten, kCancelled, kCancelling, kEnded };

// The cancel on the latest copy: a RUNNING run gets the request (its shim stops it), a
// PENDING one ends CANCELLED at once.
Status ApplyCancel(Run& run, const std::string& why, WallTime now, ArtifactsState ended_state,
                   Seen& seen) {
  const bool running = run.status == RunStatus::kRunning;
  seen = run.status == RunStatus::kCancelled  ? Seen::kCancelled
         : IsTerminal(run.status)             ? Seen::kEnded
         : running && run.cancel_requested_at ? Seen::kCancelling
                                              : Seen::kWritten;
  if (seen != Seen::kWritten) return FailedPrecondition("nothing to write");
  if (Status st = run_state::RequestCancel(run, why, now); !st.ok()) return st;
  if (running) return Status::Ok();
  return run_state::End(
      run, {RunStatus::kCancelled, reason::kCancelled, std::nullopt, now, ended_state});
}

Status AlreadyEnded(const Run& run) {
  Status st = Conflict("Run " + run.id.str() + " already ended with status " +
                       std::string(ToString(run.status)));
  st.WithDetail("runId", json::value(run.id.str()))
      .WithDetail("currentStatus", json::value(ToString(run.status)));
  return st;
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

Result<DispatchOutcome> RunService::Dispatch(const DispatchRequest& request,
                                             const RequestContext& ctx) {
  auto out = DispatchUnaudited(request, ctx);
  if (auditor_) AuditDispatch(out, ctx);
  if (observer_) ObserveDispatch(request, out);
  // After the record: the supervisor's first transition of the run usually comes after it
  // (its periodic pass may still admit the run a moment before).
  if (out.ok() && out->created && supervisor_) supervisor_->Wake();
  if (out.ok()) {
    Shown(out->run);
    for (Run& r : out->group) Shown(r);
  }
  return out;
}

void RunService::Shown(Run& run, const SecretStore* secrets) const {
  if (run.task.empty()) return;
  run.task = RedactedTask(opts_, agents_.Find(run.agent), run, secrets ? secrets : secrets_);
}

namespace {

// The secret store as one page of runs reads it: each name once (a page of 100 claude runs
// needs ANTHROPIC_API_KEY once, not 100 times).
class PageSecrets final : public SecretStore {
 public:
  explicit PageSecrets(const SecretStore* inner) : inner_(inner) {}
  Result<std::string> Get(std::string_view name) const override {
    auto [it, fresh] = seen_.try_emplace(std::string(name), NotFound("no secret store"));
    if (fresh && inner_) it->second = inner_->Get(name);
    return it->second;
  }
  std::vector<std::string> Names() const override {
    return inner_ ? inner_->Names() : std::vector<std::string>{};
  }

 private:
  const SecretStore* inner_;
  mutable std::map<std::string, Result<std::string>, std::less<>> seen_;
};

}  // namespace

void RunService::ObserveDispatch(const DispatchRequest& request,
                                 const Result<DispatchOutcome>& out) {
  if (!out.ok()) {
    observer_->OnDispatch(request.agent.value_or(""), nullptr, false, out.status());
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

Result<DispatchOutcome> RunService::DispatchUnaudited(const DispatchRequest& request,
                                                      const RequestContext& ctx) {
  auto parsed = ValidateDispatchRequests(request, agents_, opts_, secrets_);
  if (!parsed.ok()) return parsed.status();
  const EffectiveQuotas quotas = ResolveQuotas(opts_.quotas, ctx.tenant, ctx.key_id);
  OUTPOST_RETURN_IF_ERROR(
      ApplyTimeoutQuota(request.timeout_seconds, quotas.timeout_seconds, parsed->runs));
  // Refused, not queued: a run admitted now could only fail for lack of space.
  if (disk_ && disk_->Low()) {
    return Unavailable("free disk space in the data dir is below " +
                       std::to_string(opts_.min_free_disk_mb) +
                       " MB; no runs are admitted until space is freed");
  }
  OUTPOST_RETURN_IF_ERROR(
      CheckDailyBudget(store_, quotas.cost_usd_per_day, ctx.tenant, clock_.Now()));
  const Admission admission = AdmissionFor(quotas);
  if (parsed->fan_out) return DispatchGroup(std::move(parsed->runs), admission, ctx);
  Run run = std::move(parsed->runs.front());
  run.created_at = clock_.Now();
  run.id = RunId(NewUlid(run.created_at));
  run.tenant = ctx.tenant;
  run.key_id = ctx.key_id;
  run.status = RunStatus::kPending;
  run.phase = RunPhase::kQueued;
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
    const ArtifactsState ended_state =
        supervisor_ ? supervisor_->EndedArtifactsState() : ArtifactsState::kNone;
    for (const RunId& id : held) {
      auto ended = writer_.Update(
          id,
          [&](Run& r) {
            r.cancel_reason = "the fan-out it belonged to could not be created: " + why.message();
            return run_state::End(r, {RunStatus::kCancelled, reason::kCancelled, std::nullopt,
                                      clock_.Now(), ended_state});
          },
          &ctx);
      if (ended.ok() && supervisor_) supervisor_->OnRunEnded(id);
    }
    return why;
  };
  for (Run& run : runs) {
    run.created_at = now;
    run.id = RunId(NewUlid(now));
    run.tenant = ctx.tenant;
    run.key_id = ctx.key_id;
    run.status = RunStatus::kPending;
    run.phase = RunPhase::kHeld;
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
    if (r.phase != RunPhase::kHeld) continue;
    std::optional<Run> moved;  // the latest copy, when it left "held" meanwhile (cancelled, say)
    auto released = writer_.Update(r.id, [&](Run& cur) {
      if (cur.phase != RunPhase::kHeld) {
        moved = cur;
        return FailedPrecondition("no longer held");
      }
      moved.reset();
      return run_state::Release(cur);
    });
    if (released.ok()) {
      r = *released;
    } else if (moved) {
      r = *moved;
    } else {
      return abandon(released.status());
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
  Result<Run> run = Load(id, ctx);
  if (run.ok()) Shown(*run);
  return run;
}

Result<RunPage> RunService::List(ListQuery query, const RequestContext& ctx) {
  query.tenant = ctx.tenant;
  Result<RunPage> page = store_.List(query);
  if (page.ok()) {
    const PageSecrets secrets(secrets_);
    for (Run& r : page->runs) Shown(r, &secrets);
  }
  return page;
}

Result<CancelOutcome> RunService::Cancel(std::string_view id,
                                         const std::optional<std::string>& reason,
                                         const RequestContext& ctx) {
  auto out = CancelUnaudited(id, reason, ctx);
  if (out.ok()) Shown(out->run);
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
    return Status::Invalid(
        {{"reason", "must be at most " + std::to_string(kMaxCancelReason) + " characters"}});
  }
  std::string why = reason_in && !reason_in->empty() ? *reason_in : kDefaultCancelReason;
  auto loaded = Load(id, ctx);
  if (!loaded.ok()) return loaded.status();
  Seen seen = Seen::kWritten;
  Run latest;  // the copy the last attempt saw
  const ArtifactsState ended_state =
      supervisor_ ? supervisor_->EndedArtifactsState() : ArtifactsState::kNone;
  auto updated = writer_.Update(
      loaded->id,
      [&](Run& run) {
        latest = run;
        return ApplyCancel(run, why, clock_.Now(), ended_state, seen);
      },
      &ctx);
  if (seen == Seen::kCancelled) return CancelOutcome{latest, false};
  if (seen == Seen::kEnded) return AlreadyEnded(latest);
  if (seen == Seen::kCancelling) {
    // Already being cancelled: nudge the shim again (idempotent) and report progress.
    Status st = supervisor_ ? supervisor_->RequestCancel(latest) : Status::Ok();
    if (!st.ok()) spdlog::warn("run {}: cancel signal: {}", latest.id.str(), st.ToString());
    return CancelOutcome{latest, true};
  }
  if (!updated.ok()) {
    if (updated.status().code() == Code::kNotFound) {
      return NotFound("Run not found: " + loaded->id.str());
    }
    return updated.status();
  }
  spdlog::info("run {} cancel requested ({}): {}", updated->id.str(), ToString(updated->status),
               why);
  if (IsTerminal(updated->status)) {  // it was PENDING: it never starts
    if (supervisor_) supervisor_->OnRunEnded(updated->id);
    return CancelOutcome{*updated, false};
  }
  if (supervisor_) {
    Status st = supervisor_->RequestCancel(*updated);
    if (!st.ok()) spdlog::warn("run {}: cancel signal: {}", updated->id.str(), st.ToString());
  }
  return CancelOutcome{*updated, true};
}

HealthReport RunService::Health() {
  HealthReport h;
  bool fail = false, warn = false;
  Status ping = store_.Ping();
  h.store = ping.ok() ? HealthCheck{"pass", opts_.StoreUrl().substr(0, opts_.StoreUrl().find(':'))}
                      : HealthCheck{"fail", ping.message()};
  fail |= !ping.ok();
  if (supervisor_) {
    SupervisorSnapshot s = supervisor_->Snapshot();
    h.supervisor = s.loop_alive ? HealthCheck{"pass", std::to_string(s.running) + " running, " +
                                                          std::to_string(s.queued) + " queued"}
                                : HealthCheck{"fail", "the supervisor loop is not running"};
    fail |= !s.loop_alive;
  }
  if (opts_.runner == RunnerKind::kSandbox) {
    h.runner = {{"pass", "bubblewrap sandbox, unprivileged uid, cgroup limits"},
                "sandbox",
                opts_.cgroup_version.empty() ? "none" : opts_.cgroup_version};
  } else if (opts_.runner == RunnerKind::kEcs) {
    h.runner = {{"pass",
                 "ECS tasks (Fargate), one per run; network limits are the tasks' security "
                 "groups, not Outpost's (/health/fleet networkEnforcement)"},
                "ecs",
                std::nullopt};
  } else if (opts_.runner == RunnerKind::kDocker) {
    // Whether the Engine answers: the `docker` check (app/serve.cc).
    h.runner = {{"pass",
                 "docker containers: read-only root, no-new-privileges, capabilities "
                 "dropped but those the task needs"},
                "docker",
                std::nullopt};
  } else {
    h.runner = {{"warn", "runs are NOT isolated: the process runner was chosen"},
                std::string(ToString(opts_.runner)),
                std::nullopt};
    warn = true;
  }
  if (auditor_) {  // a failed audit write never fails the operation: it is counted here
    // Warns while the latest write failed (issue 18 item 10: not for good once one had).
    const bool failing = auditor_->failing();
    h.audit = {
        {failing ? "warn" : "pass", failing ? "audit records cannot be written (see the log)" : ""},
        auditor_->write_failures()};
    warn |= failing;
  }
  if (disk_) {
    std::optional<std::int64_t> free = disk_->free_bytes();
    const bool low = disk_->Low();
    warn |= low;
    HealthReport::Disk disk{
        {low ? "warn" : "pass",
         low ? "free space below the threshold: new runs are refused (503)" : ""},
        std::nullopt,
        opts_.min_free_disk_mb};
    if (free) disk.free_gb = std::round(static_cast<double>(*free) / (1 << 30) * 10) / 10;
    h.disk = std::move(disk);
  }
  for (const HealthSource& source : health_sources_) {
    HealthContribution c = source();
    const std::string st = GetString(c.check, "status").value_or("pass");
    fail |= st == "fail";
    warn |= st == "warn";
    h.contributions.push_back(std::move(c));
  }
  h.status = fail ? "unhealthy" : warn ? "degraded" : "healthy";
  h.failing = fail;
  h.version = OUTPOST_VERSION;
  h.uptime_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - started_at_).count();
  h.timestamp = clock_.Now();
  return h;
}

ReadyReport RunService::Ready() {
  ReadyReport r;
  if (Status ping = store_.Ping(); !ping.ok()) r.reasons.push_back("store: " + ping.message());
  if (supervisor_ && !supervisor_->Snapshot().loop_alive) {
    r.reasons.push_back("supervisor: not running");
  }
  if (supervisor_ && supervisor_->Draining()) {  // SIGTERM: the balancer routes elsewhere
    r.draining = true;
    r.reasons.push_back("draining: this replica is shutting down and takes no new work");
  }
  r.ready = r.reasons.empty();
  return r;
}

namespace {

FleetReplica ToFleetReplica(const ReplicaView& v) {
  const ReplicaInfo& i = v.info;
  const char* state = i.left ? "left" : !v.live ? "lost" : i.draining ? "draining" : "serving";
  return {i.id,      i.host,     i.address, i.version, i.started_at, i.heartbeat_at,
          i.running, i.capacity, v.self,    v.live,    state};
}

}  // namespace

FleetReport RunService::Fleet(const RequestContext& ctx) {
  FleetReport f;
  f.timestamp = clock_.Now();
  // An anonymous caller sees capacity only: per-run counts would tell it about tenants' runs.
  f.per_run = !ctx.tenant.empty();
  Result<RunStats> stats = f.per_run ? store_.Stats(f.timestamp - std::chrono::hours(1), ctx.tenant)
                                     : Result<RunStats>(RunStats{});
  Status store_status = f.per_run ? stats.status() : store_.Ping();
  SupervisorSnapshot snap = supervisor_ ? supervisor_->Snapshot() : SupervisorSnapshot{};
  f.by_status = {{"pending", 0}, {"running", 0}, {"completed", 0},
                 {"failed", 0},  {"timeout", 0}, {"cancelled", 0}};
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
    FleetAgent agent;
    agent.agent = name;
    agent.model_id = a->models.front();
    agent.active = snap.running_by_agent[name];
    agent.queued = snap.queued_by_agent[name];
    agent.max_concurrent = a->max_concurrent;
    int completed = st.by_status[RunStatus::kCompleted];
    int failed = st.by_status[RunStatus::kFailed] + st.by_status[RunStatus::kTimeout];
    // No finished run in the hour: no rate (not a perfect 100).
    if (completed + failed > 0) {
      agent.success_rate = (completed * 100 + (completed + failed) / 2) / (completed + failed);
    }
    if (st.completed_count) {
      agent.avg_duration_ms = st.completed_duration_ms_total / st.completed_count;
    }
    agent.runner = std::string(ToString(agents_.RunnerOf(*a)));
    if (agents_.RunnerOf(*a) == RunnerKind::kEcs) {
      agent.network_enforcement = EcsNetworkEnforcement(a->network);
    }
    agent.available = agent.active < a->max_concurrent;
    agent.reason = MissingSecretReason(*a, secrets_, opts_.secrets_dir);
    if (agent.reason) agent.available = false;
    if (AgentAvailability inst = agents_.Availability(*a); !inst.available) {
      agent.available = false;
      agent.reason = inst.reason;  // not installed: that comes first
    }
    const bool counts = name != "shell" || shell_only;
    counted += counts;
    available += counts && agent.available;
    if (counts && f.per_run && agent.success_rate) {
      ++rated;
      rate_sum += *agent.success_rate;
    }
    f.agents.push_back(std::move(agent));
    for (const auto& [status, n] : st.by_status) {
      std::string key(ToString(status));
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto& [k, count] : f.by_status) {
        if (k == key) count += n;
      }
      f.last_hour_total += n;
    }
  }
  const bool store_ok = store_status.ok();
  // As the original (outpost-original-spec "GET /health/fleet"): none of the fleet available →
  // unhealthy; some not available, or a mean success rate (of the agents that have one) under
  // 80 % → degraded.
  f.status = "healthy";
  if (!store_ok || !snap.loop_alive || available == 0) {
    f.status = "unhealthy";
  } else if (available < counted || (rated > 0 && rate_sum < 80 * rated)) {
    f.status = "degraded";
  }
  f.max_concurrent = opts_.max_concurrent_runs;
  f.running = snap.running;
  f.queued = snap.queued;
  const ReaperStats& r = snap.reaper;
  f.reaper = {r.supervisor_lost,
              r.leftovers_killed,
              r.recovered_on_start,
              r.adopted_on_start,
              r.orphan_runs_reaped,
              r.orphan_processes_killed,
              r.sweeps};
  f.replica = opts_.replica_id;
  // Every replica sharing the store: capacity and activity summed over the live ones.
  for (const ReplicaView& v : snap.replicas) {
    // capacity: fleet-wide, all tenants (README "GET /health/fleet").
    // This replica's own figures as of now, not as of its last heartbeat.
    ReplicaView now = v;
    if (v.self) {
      now.info.running = snap.running;
      now.info.draining = supervisor_ && supervisor_->Draining();
    }
    f.fleet.replicas.push_back(ToFleetReplica(now));
    if (now.live) {
      f.fleet.running += now.info.running;
      if (!now.info.draining) {
        f.fleet.max_concurrent += now.info.capacity;
        f.fleet.available += std::max(0, now.info.capacity - now.info.running);
      }
    }
    if (v.live) {
      f.live_capacity += v.info.capacity;
      f.live_running += v.info.running;
      f.live.push_back(ToFleetReplica(v));
    } else {
      f.lost.push_back(ToFleetReplica(v));
    }
  }
  if (auto active = store_.ListActive(); active.ok()) {
    for (const Run& r : *active) f.fleet.queued += r.status == RunStatus::kPending;
  }
  f.lease_seconds = opts_.lease_seconds;
  f.node_lost = snap.node_lost;
  f.taken_over = snap.taken_over;
  if (!store_ok) f.error = store_status.message();
  return f;
}

}  // namespace outpost
