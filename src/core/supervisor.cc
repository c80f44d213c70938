#include "core/supervisor.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>

#include "agents/outcome.h"
#include "common/json_util.h"
#include "common/log.h"
#include "core/agent_secrets.h"
#include "core/artifact_uploader.h"
#include "core/event_pump.h"
#include "core/retention.h"
#include "core/run_channel.h"
#include "core/run_observer.h"
#include "core/scheduler.h"
#include "runner/notify.h"
#include "workspace/collect.h"
#include "workspace/repo_spec.h"

namespace outpost {
namespace {

// The loop wakes at least this often to notice shims that died without notifying.
constexpr int kTickMs = 500;
constexpr auto kSweepInterval = std::chrono::seconds(5);
// The active runs are listed again when the store's change marker moves, and also: for this long
// after a move (a listing through an eventually consistent index, DynamoDB's, may lag the write
// that moved it), and at least this often (a move a dying writer never made).
constexpr auto kSettle = std::chrono::seconds(2);
constexpr auto kFullListEvery = std::chrono::seconds(30);
// The cancel reason of a stop for maxCostUsd (the rest is the message of the FAILED run).
constexpr std::string_view kBudgetStopPrefix = "budget_exceeded: ";

struct Outcome {
  RunStatus status;
  std::string_view reason;
  std::optional<std::string> message;
};

Outcome Classify(const ExitRecord& rec) {
  if (rec.outcome == ExitOutcome::kExited) {
    if (rec.exit_code && *rec.exit_code == 0)
      return {RunStatus::kCompleted, reason::kSucceeded, {}};
    if (rec.exit_code) {
      return {RunStatus::kFailed, reason::kExitNonzero,
              "exited with code " + std::to_string(*rec.exit_code)};
    }
    std::string sig = rec.signal ? std::to_string(*rec.signal) : "?";
    return {RunStatus::kFailed, reason::kSignaled, "killed by signal " + sig};
  }
  if (rec.outcome == ExitOutcome::kTimeoutTotal) {
    return {RunStatus::kTimeout, reason::kTimeoutTotal, "the run exceeded timeoutSeconds"};
  }
  if (rec.outcome == ExitOutcome::kTimeoutInactive) {
    return {RunStatus::kTimeout, reason::kTimeoutInactive,
            "no output for inactivityTimeoutSeconds"};
  }
  if (rec.outcome == ExitOutcome::kCancelled)
    return {RunStatus::kCancelled, reason::kCancelled, {}};
  if (rec.outcome == ExitOutcome::kRepoError)
    return {RunStatus::kFailed, reason::kRepoError, rec.message};
  if (rec.outcome == ExitOutcome::kOom) {
    return {RunStatus::kFailed, reason::kOom,
            rec.message.empty() ? "killed by the out-of-memory killer (maxMemoryMb)" : rec.message};
  }
  if (rec.outcome == ExitOutcome::kDiskQuota) {
    return {RunStatus::kFailed, reason::kDiskQuota,
            rec.message.empty() ? "the workspace exceeded maxDiskGb" : rec.message};
  }
  return {RunStatus::kFailed, reason::kInfraError,
          rec.message.empty()
              ? "the run could not start (" + std::string(ToString(rec.outcome)) + ")"
              : rec.message};
}

}  // namespace

Supervisor::Supervisor(RunStore& store, Runner& runner, const AgentRegistry& agents, Clock& clock,
                       const Options& opts, const SecretStore* secrets)
    : store_(store),
      runner_(runner),
      agents_(agents),
      clock_(clock),
      opts_(opts),
      secrets_(secrets),
      writer_(store),
      replicas_(store, clock, opts.replica_id, opts.lease_seconds, opts.max_concurrent_runs,
                [this] {
                  std::lock_guard lock(mu_);
                  return snapshot_.running;
                }),
      reaper_(store, runner, clock,
              [this](const RunId& id, const run_state::Ending& e) { return EndRun(id, e); }) {}

Supervisor::~Supervisor() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Supervisor::Start() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Internal("eventfd failed");
  auto sock = NotifySocket::Bind(opts_.data_dir + "/notify.sock");
  if (!sock.ok()) return sock.status();
  notify_ = std::make_unique<NotifySocket>(std::move(*sock));
  if (Status st = Recover(); !st.ok()) return st;
  stop_ = false;
  // Alive from here: /health and /health/fleet asked before the thread's first instruction must
  // not call a server that has just recovered "unhealthy".
  loop_alive_ = true;
  thread_ = std::thread([this] { Loop(); });
  replicas_.StartHeartbeat();
  return Status::Ok();
}

Status Supervisor::Recover() {
  // Announce ourselves first: other replicas must not judge us lost while we recover.
  replicas_.Beat();
  replicas_.Refresh(/*force=*/true);
  // Recovery: whatever ran while we were away is settled before new work is admitted.
  auto active = store_.ListActive();
  if (!active.ok()) return active.status();
  int running = 0;
  for (const Run& r : *active) {
    if (r.status == RunStatus::kRunning && Mine(r)) ++running;
  }
  recovering_ = true;
  Reconcile(*active);
  recovering_ = false;
  const ReaperStats stats = reaper_.Stats();
  reaper_.SetAdopted(running - stats.recovered_on_start - stats.supervisor_lost);
  if (running > 0) spdlog::info("recovery: {} running run(s) found at start", running);
  return Status::Ok();
}

void Supervisor::Stop() {
  replicas_.StopHeartbeat();
  if (!thread_.joinable()) return;
  stop_ = true;
  Wake();
  thread_.join();
}

void Supervisor::Wake() {
  if (wake_fd_ < 0) return;
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

Status Supervisor::RequestCancel(const Run& run) {
  Status st = runner_.RequestCancel(run.id, run.cancel_reason.value_or("Cancelled by user"));
  Wake();
  return st;
}

ArtifactsState Supervisor::EndedArtifactsState() const {
  return uploader_ ? ArtifactsState::kPending : ArtifactsState::kNone;
}

void Supervisor::OnRunEnded(const RunId& id) {
  RecordEnd(id);  // events.jsonl gets its end before anything is uploaded
  if (uploader_) uploader_->Enqueue(id);
  if (observer_) {
    if (auto run = store_.Get(id); run.ok()) observer_->OnEnded(*run);
  }
}

SupervisorSnapshot Supervisor::Snapshot() const {
  SupervisorSnapshot s;
  {
    std::lock_guard lock(mu_);
    s = snapshot_;
  }
  s.reaper = reaper_.Stats();
  s.replicas = replicas_.Views();
  s.loop_alive = loop_alive_;
  return s;
}

void Supervisor::Loop() {
  loop_alive_ = true;
  while (!stop_) {
    Tick();
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {notify_->fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, kTickMs);
    if (n > 0) {
      std::uint64_t v;
      while (::read(wake_fd_, &v, sizeof v) > 0) {
      }
      notify_->Drain();  // which run does not matter: Tick looks at all of them
    }
  }
  loop_alive_ = false;
}

bool Supervisor::RefreshActive() {
  const MonoTime now = clock_.Mono();
  bool relist = !have_active_ || now >= full_list_due_ || now < settle_until_;
  auto marker = store_.ChangeMarker();
  {
    std::lock_guard lock(mu_);
    ++snapshot_.marker_reads;
  }
  if (!marker.ok()) {
    spdlog::warn("supervisor: cannot read the runs' change marker: {}", marker.status().ToString());
    return false;
  }
  if (!marker->has_value() || *marker != seen_marker_) {
    relist = true;
    // A move seen (not the first reading): list again for a while, the index may lag it.
    if (seen_marker_ && marker->has_value()) settle_until_ = now + kSettle;
  }
  if (!relist) return true;
  // The marker was read before the listing: a change after it moves it again for the next pass.
  auto active = store_.ListActive();
  {
    std::lock_guard lock(mu_);
    ++snapshot_.active_listings;
  }
  if (!active.ok()) {
    spdlog::warn("supervisor: cannot list active runs: {}", active.status().ToString());
    return false;
  }
  active_ = std::move(*active);
  have_active_ = true;
  seen_marker_ = *marker;
  full_list_due_ = now + kFullListEvery;
  return true;
}

void Supervisor::Tick() {
  {
    std::lock_guard lock(mu_);
    ++snapshot_.ticks;
  }
  if (!RefreshActive()) return;
  replicas_.Refresh(/*force=*/false);
  const std::int64_t writes_before = own_writes_;
  Reconcile(active_);
  AdoptOrphanedUploads();
  // Re-read when reconciling wrote (it may have finished runs and freed capacity): the marker
  // then moved, and the runs are listed again.
  bool fresh = true;
  if (own_writes_ != writes_before) fresh = RefreshActive();
  if (fresh) {
    if (draining_) {
      DrainPass(active_);  // admits nothing (supervisor_drain.cc)
    } else {
      Admit(active_);
    }
  }
  if (clock_.Mono() >= next_sweep_) {
    next_sweep_ = clock_.Mono() + kSweepInterval;
    reaper_.Sweep();
  }
}

void Supervisor::Reconcile(const std::vector<Run>& active) {
  for (const Run& run : active) {
    if (run.status != RunStatus::kRunning) continue;
    if (!Mine(run)) {
      // Another replica's run: its business while that replica lives; its supervisor (and the
      // shim's files) are out of reach once it is lost.
      if (!replicas_.OwnedByLiveOther(run.owner)) FailNodeLost(run);
      continue;
    }
    ShimProbe probe = runner_.Probe(run.id);
    // The exit its supervisor reported over the run channel (any replica stored it) is the
    // run's exit only when the runner lost the run (kLost: its supervisor gone without a record
    // here). While the runner says kRunning the container is still there, and the terminal
    // status waits until it is gone; its own record, OOM and stop reason included, wins.
    std::optional<std::string> channel_exit = run.channel_exit;
    if (probe.state == ShimState::kLost && !channel_exit) {
      // The exit may have come after this tick listed the runs (a remote task posts it, then
      // its container exits): the record now, before the run is called lost.
      if (auto now = store_.Get(run.id); now.ok()) channel_exit = now->channel_exit;
    }
    if (probe.state == ShimState::kLost && channel_exit) {
      auto doc = ParseJson(*channel_exit);
      auto rec = doc.ok() && doc->is_object()
                     ? ExitRecordFromJson(doc->as_object(), "channel exit")
                     : Result<ExitRecord>(Internal("channel exit: not a JSON object"));
      if (rec.ok()) {
        probe = {ShimState::kExited, std::move(*rec)};
      } else {
        spdlog::error("run {}: unreadable channel exit: {}", run.id.str(), rec.status().ToString());
      }
    }
    if (probe.state == ShimState::kExited) {
      if (!PumpToEnd(run.id)) continue;
      if (recovering_) reaper_.CountRecovered();
      Finalize(run, *probe.exit);
    } else if (probe.state == ShimState::kLost) {
      if (!PumpToEnd(run.id)) continue;
      reaper_.FailLost(run, probe.message);
    } else if (probe.state == ShimState::kNotStarted) {
      // Admitted, then the control plane died before it launched the shim: nothing ran, so
      // it is started now rather than failed.
      spdlog::warn(
          "run {}: admitted but never started (the server stopped in between): starting it",
          run.id.str());
      Launch(run);
    } else {
      // A run reporting over the channel is in the log already; its journal is copied at the
      // end (PumpToEnd) for what the log does not have.
      if (pump_ && !runner_.ReportsOverChannel(run.id)) pump_->Track(run.id);
      DeliverCancel(run);
      // A run whose outputs go over the channel: the runner has none of its files (no spend,
      // start or progress to read there; its exit brings them).
      const bool over_channel = OutputsOverChannel(run);
      if (!over_channel) CheckSpend(run);
      if (run.phase != RunPhase::kRunning && !over_channel) {
        if (auto at = runner_.Started(run.id)) MarkStarted(run, *at);
      }
      RefreshBlocked(run);
      RefreshProgress(run, over_channel);
    }
  }
  // Forget delivered cancels (and budget stops) of runs that are over, and stop pumping them.
  std::set<std::string> still, still_stopping, pumped;
  for (const Run& run : active) {
    if (run.status == RunStatus::kRunning && Mine(run)) pumped.insert(run.id.str());
    if (cancels_delivered_.count(run.id.str())) still.insert(run.id.str());
    if (budget_stops_.count(run.id.str())) still_stopping.insert(run.id.str());
  }
  cancels_delivered_ = std::move(still);
  budget_stops_ = std::move(still_stopping);
  if (pump_) pump_->Retain(pumped);
}

void Supervisor::DeliverCancel(const Run& run) {
  if (!run.cancel_requested_at || cancels_delivered_.count(run.id.str())) return;
  Status st = runner_.RequestCancel(run.id, run.cancel_reason.value_or("Cancelled by user"));
  if (st.ok()) {
    cancels_delivered_.insert(run.id.str());
  } else {
    spdlog::warn("run {}: cannot deliver its cancel: {}", run.id.str(), st.ToString());
  }
}

void Supervisor::CheckSpend(const Run& run) {
  const AgentOptions* agent = agents_.Find(run.agent);
  if (!agent) return;
  const RunProgress p = runner_.Progress(run.id);
  if (!p.has_usage && !p.cost_usd) return;
  const Usage usage = PricedUsage(*agent, p.usage, p.cost_usd);
  if (usage != run.usage) {  // live usage on the record: the API, the tenant's daily spend
    UpdateRun(run.id, [&](Run& r) {
      if (r.status != RunStatus::kRunning || r.usage == usage) return FailedPrecondition("same");
      r.usage = usage;
      return Status::Ok();
    });
  }
  if (!run.max_cost_usd || usage.cost_usd <= *run.max_cost_usd) return;
  if (!budget_stops_.insert(run.id.str()).second) return;
  const std::string why =
      "the run's cost reached " + FormatUsd(usage.cost_usd) +
      (usage.cost_source == "agent"
           ? " (as the agent reported it)"
           : " (" + std::to_string(usage.input_tokens) + " input + " +
                 std::to_string(usage.output_tokens) + " output tokens at the agent's rates)") +
      ", over its maxCostUsd of " + FormatUsd(*run.max_cost_usd);
  spdlog::warn("run {}: stopping it: {}", run.id.str(), why);
  Status st = runner_.RequestCancel(run.id, std::string(kBudgetStopPrefix) + why);
  if (!st.ok()) {
    budget_stops_.erase(run.id.str());  // asked again next pass
    spdlog::warn("run {}: cannot stop it for its budget: {}", run.id.str(), st.ToString());
  }
}

void Supervisor::Admit(const std::vector<Run>& active) {
  SchedulerLimits limits;
  limits.self = opts_.replica_id;
  limits.max_concurrent_runs = opts_.max_concurrent_runs;
  limits.disk_low = disk_ && disk_->Low();
  for (const Run& r : active) {
    if (const AgentOptions* agent = agents_.Find(r.agent))
      limits.per_agent[r.agent] = agent->max_concurrent;
  }
  // A draining (or departed) replica's queue is anyone's at once.
  auto live_other = [this](const std::string& owner) {
    return replicas_.QueueHeldByLiveOther(owner);
  };
  // The plan is over this snapshot; a run whose admission loses a race (cancelled or taken
  // meanwhile) leaves it, and the rest is planned again without it.
  std::vector<Run> snapshot = active;
  AdmissionPlan plan = PlanAdmission(snapshot, limits, clock_.Now(), live_other);
  for (const RunId& id : plan.expired_held) {
    EndRun(id, {RunStatus::kCancelled, reason::kCancelled, std::nullopt, clock_.Now(), {}},
           [](Run& r) {
             if (r.status != RunStatus::kPending || r.phase != RunPhase::kHeld) {
               return FailedPrecondition("no longer held");
             }
             r.cancel_reason = "the fan-out dispatch that created it was interrupted";
             return Status::Ok();
           });
  }
  for (std::size_t i = 0; i < plan.admit.size(); ++i) {
    const AdmissionPlan::Admit a = plan.admit[i];
    auto it =
        std::find_if(snapshot.begin(), snapshot.end(), [&](const Run& r) { return r.id == a.id; });
    const Run run = *it;
    const std::string expected_owner = run.owner;
    const WallTime now = clock_.Now();
    bool admitted = UpdateRun(run.id, [&](Run& r) {
      // Conditional on the owner too: of replicas taking over a lost one's queue, one wins.
      if (r.owner != expected_owner) return Conflict("taken by " + r.owner);
      return run_state::Admit(r, opts_.replica_id, now);
    });
    if (!admitted) {  // cancelled or taken meanwhile: its room goes to the next in line
      snapshot.erase(it);
      plan = PlanAdmission(snapshot, limits, clock_.Now(), live_other);
      i = static_cast<std::size_t>(-1);
      continue;
    }
    it->status = RunStatus::kRunning;
    it->owner = opts_.replica_id;
    if (a.takeover) {
      spdlog::warn("run {}: taken over from lost replica {}", run.id.str(), expected_owner);
      std::lock_guard lock(mu_);
      ++snapshot_.taken_over;
    }
    Launch(run);
  }
  std::lock_guard lock(mu_);
  snapshot_.running_by_agent = plan.running_by_agent;
  snapshot_.queued_by_agent = plan.queued_by_agent;
  snapshot_.running = plan.running;
  snapshot_.queued = plan.queued;
}

void Supervisor::Launch(const Run& run) {
  RunSpec spec = SpecFor(run);
  // A new attempt, a new run-channel token (core/run_channel.h): the record keeps its hash.
  ++own_writes_;
  // And a one-use bootstrap token, for a runner that launches the task far away (it passes that,
  // not the token, in the launch: RunChannel::Bootstrap).
  Result<ChannelTokens> tokens = IssueChannelTokens(writer_, run.id);
  Status st = tokens.status();
  if (tokens.ok()) {
    std::lock_guard lock(mu_);
    spec.channel =
        ChannelAccess{channel_url_, std::move(tokens->token), std::move(tokens->bootstrap)};
  }
  if (st.ok()) st = runner_.Start(spec);
  if (st.ok() && runner_.OutputsOverChannel(run.id)) {
    // Remembered on the record: the artifact upload and the end read its outputs where the
    // channel stored them, whatever the runner knows of it later.
    UpdateRun(run.id, [](Run& r) {
      if (r.channel_outputs) return FailedPrecondition("already");
      r.channel_outputs = true;
      return Status::Ok();
    });
  }
  if (!st.ok()) {
    spdlog::error("run {}: cannot start: {}", run.id.str(), st.ToString());
    EndRun(run.id, {RunStatus::kFailed,
                    reason::kInfraError,
                    "the run could not be started: " + st.message(),
                    clock_.Now(),
                    {}});
  } else if (pump_ && !runner_.ReportsOverChannel(run.id)) {
    pump_->Track(run.id);
  }
}

RunSpec Supervisor::SpecFor(const Run& run) const {
  AgentCommand cmd = agents_.CommandFor(run);
  const AgentOptions* agent = agents_.Find(run.agent);
  RunSpec spec;
  spec.id = run.id;
  spec.runner = opts_.RunnerFor(run.agent);
  spec.image = opts_.ImageFor(run.agent);
  spec.agent = run.agent;
  spec.tenant = run.tenant;
  spec.argv = std::move(cmd.argv);
  spec.env = std::move(cmd.env);
  spec.agent_dirs = std::move(cmd.ro_binds);
  spec.limits.timeout_seconds = run.timeout_seconds;
  spec.limits.inactivity_timeout_seconds = run.inactivity_timeout_seconds;
  spec.limits.grace_seconds = opts_.cancel_grace_seconds;
  spec.limits.max_output_bytes = opts_.max_output_bytes;
  spec.limits.pids_max = opts_.sandbox.pids_max;
  // Dispatch fills every limit (audit F6); a run admitted by an older server may lack them.
  const RunLimitOptions& rl = opts_.run_limits;
  spec.limits.memory_bytes =
      std::int64_t{run.resources.max_memory_mb.value_or(rl.default_memory_mb)} << 20;
  spec.limits.cpu_millicores =
      run.resources.max_cpu_units.value_or(rl.default_cpu_units) * 1000 / 1024;
  spec.limits.disk_bytes = std::int64_t{run.resources.max_disk_gb.value_or(rl.default_disk_gb)}
                           << 30;
  if (run.repo) {
    RepoCheckout& co = spec.repo.emplace();
    // Validated at dispatch; a repo that no longer parses (the operator turned local repos
    // off since) is left to the shim's clone to fail as repo_error.
    auto repo = workspace::ParseRepoSpec(*run.repo, opts_.allow_local_repos);
    co.url = repo.ok() ? repo->url : *run.repo;
    co.branch = run.branch;
    // Audit F9: a mirror per tenant — one fetched with a tenant's token serves only its runs.
    co.cache_dir = workspace::TenantCacheRoot(
        std::filesystem::absolute(opts_.data_dir + "/repos").string(), run.tenant);
    co.allow_private_hosts = opts_.git_allow_private_hosts;
    co.ssh_known_hosts = opts_.git_ssh_known_hosts;
    co.local_repo_roots = opts_.local_repo_roots;
    co.data_dir = std::filesystem::absolute(opts_.data_dir).string();
    co.pin = run.group_id;  // a fan-out's agents all work on one commit
    // A shell task is a command line, not a prompt: context would be run as shell code.
    if (run.agent != "shell") co.context_level = run.context;
    // The task is one whole argv element (agents/): the shim prepends the context there.
    auto task = std::find(spec.argv.begin(), spec.argv.end(), run.task);
    if (task != spec.argv.end()) co.task_arg_index = static_cast<int>(task - spec.argv.begin());
    // The token of the repo's host only, and the run's tenant's (README "Security model"): an
    // https URL on a host of the tenant's [git.tenants] or — for tenant "default" or a shared
    // host — of [git.hosts] (github.com by default); any other repo clones anonymously.
    if (auto cred = GitCredentialFor(opts_, secrets_, run.tenant, co.url)) {
      co.git_token = cred->token;
      co.git_token_url = cred->url;
    }
  }
  if (agent) {
    spec.parser = agent->parser;
    spec.home_files = agent->home_files;
    spec.agent_dirs.insert(spec.agent_dirs.end(), agent->install_dirs.begin(),
                           agent->install_dirs.end());
    spec.allow = agent->network_allow;
  }
  spec.network = run.network;
  spec.verify = run.verify;
  spec.allow.insert(spec.allow.end(), opts_.sandbox.network_allow.begin(),
                    opts_.sandbox.network_allow.end());
  // Values go to env and spec.redact only; names, never values, are logged.
  for (const auto& name : InjectSecrets(agent, run, secrets_, spec)) {
    spdlog::warn("run {}: secret {} is no longer configured; the agent starts without it",
                 run.id.str(), name);
  }
  return spec;
}

void Supervisor::RefreshBlocked(const Run& run) {
  if (run.network != NetworkPolicy::kAllowlist) return;  // only an allowlist proxy refuses anything
  auto blocked = runner_.Blocked(run.id);
  if (blocked.size() == run.network_blocked.size()) return;
  UpdateRun(run.id, [&](Run& r) {
    if (r.network_blocked.size() == blocked.size()) return FailedPrecondition("unchanged");
    r.network_blocked = blocked;
    return Status::Ok();
  });
}

void Supervisor::MarkStarted(Run run, WallTime at) {
  // Until now started_at is the admission time (Admit).
  const std::optional<WallTime> admitted = run.started_at;
  bool marked = UpdateRun(run.id, [&](Run& r) { return run_state::MarkStarted(r, at); });
  if (marked && observer_ && admitted) observer_->OnStarted(run, *admitted, at);
}

void Supervisor::Finalize(Run run, const ExitRecord& rec) {
  Outcome out = Classify(rec);
  // Stopped by CheckSpend (and not cancelled by anyone): over its maxCostUsd.
  if (out.status == RunStatus::kCancelled && !run.cancel_requested_at && rec.cancel_reason &&
      rec.cancel_reason->starts_with(kBudgetStopPrefix)) {
    out = {RunStatus::kFailed, reason::kBudgetExceeded,
           rec.cancel_reason->substr(kBudgetStopPrefix.size())};
  }
  std::optional<AgentResult> result;
  std::optional<Usage> usage;
  auto blocked = runner_.Blocked(run.id);
  if (const AgentOptions* agent = agents_.Find(run.agent)) {
    result = rec.agent.value_or(AgentResult{});  // the shim's parse of the agent's output
    if (result->has_usage) usage = PricedUsage(*agent, result->usage, result->cost_usd);
    // Exit code 0 is not success when the agent itself reported a failure or a refused
    // permission: the job was not done.
    if (out.status == RunStatus::kCompleted && result->error) {
      out = {RunStatus::kFailed, reason::kAgentError, *result->error};
    }
    // A non-zero exit that the agent explained (an API error, say): keep its words.
    if (out.reason == reason::kExitNonzero && result->error) {
      out = {RunStatus::kFailed, reason::kAgentError,
             *result->error + " (" + out.message.value_or("exited non-zero") + ")"};
    }
    // An agent refused the network fails as "connection refused" at best: say why.
    const bool agent_failed =
        out.reason == reason::kExitNonzero || out.reason == reason::kAgentError ||
        out.reason == reason::kSignaled || out.reason == reason::kTimeoutTotal ||
        out.reason == reason::kTimeoutInactive;
    if (agent_failed) {
      if (auto note = NetworkRefusalNote(*agent, run.network, blocked,
                                         runner_.kind() != RunnerKind::kProcess)) {
        out.message = out.message ? *out.message + "; " + *note : *note;
      }
    }
  }
  // A run whose outputs go over the channel reports its changes with its exit (run channel 1.1).
  std::optional<Changes> changes;
  if (rec.changes) {
    auto cs = workspace::ChangeSetFromJson(*rec.changes, "the exit record's changes");
    if (cs.ok()) {
      changes = static_cast<Changes&&>(std::move(*cs));
    } else {
      spdlog::error("run {}: {}", run.id.str(), cs.status().ToString());
    }
  } else if (!OutputsOverChannel(run)) {
    changes = runner_.ChangesOf(run.id);
  }
  bool ended = UpdateRun(run.id, [&](Run& r) {
    r.network_blocked = blocked;
    if (changes) r.changes = changes;
    if (Status st = run_state::End(
            r, {out.status, out.reason, out.message, rec.ended_at, EndedArtifactsState()});
        !st.ok()) {
      return st;
    }
    r.exit_code = rec.exit_code;
    if (usage) r.usage = usage;
    if (result && !result->final_message.empty()) r.final_message = result->final_message;
    if (rec.verification) r.verification = rec.verification;
    if (rec.started_at) r.started_at = rec.started_at;
    if (!r.started_at) r.started_at = rec.ended_at;
    if (out.status == RunStatus::kCancelled) {
      r.cancel_reason = rec.cancel_reason ? rec.cancel_reason : r.cancel_reason;
    }
    return Status::Ok();
  });
  // A run that ended before the loop saw it start: its start is observed now, once.
  if (ended && observer_ && run.phase != RunPhase::kRunning && run.started_at && rec.started_at) {
    observer_->OnStarted(run, *run.started_at, *rec.started_at);
  }
  if (ended) OnRunEnded(run.id);
  spdlog::info("run {} {} ({})", run.id.str(), ToString(out.status), out.reason);
}

void Supervisor::FailNodeLost(const Run& run) {
  const std::string owner = run.owner;
  bool failed = EndRun(run.id,
                       {RunStatus::kFailed,
                        reason::kNodeLost,
                        "replica " + owner + " that supervised this run stopped heartbeating for " +
                            "more than " + std::to_string(opts_.lease_seconds) +
                            " s; its shim is out of reach (if it comes back, it stops the run)",
                        clock_.Now(),
                        {}},
                       [&](Run& r) {
                         if (r.owner != owner) return Conflict("now owned by " + r.owner);
                         return Status::Ok();
                       });
  if (!failed) return;
  std::lock_guard lock(mu_);
  ++snapshot_.node_lost;
  spdlog::warn("run {} FAILED (node_lost): replica {} is lost", run.id.str(), owner);
}

bool Supervisor::UpdateRun(const RunId& id, const RunWriter::Mutate& mutate) {
  bool refused = false;
  auto stored = writer_.Update(id, [&](Run& r) {
    Status st = mutate(r);
    refused = !st.ok();
    return st;
  });
  if (!refused) ++own_writes_;  // written, or maybe (a store error): the next look re-lists
  if (!stored.ok() && !refused) {
    spdlog::error("run {}: cannot update: {}", id.str(), stored.status().ToString());
  }
  return stored.ok();
}

bool Supervisor::EndRun(const RunId& id, run_state::Ending ending, const RunWriter::Mutate& also) {
  ending.artifacts_state = EndedArtifactsState();
  bool ended = UpdateRun(id, [&](Run& r) {
    if (also) {
      if (Status st = also(r); !st.ok()) return st;
    }
    return run_state::End(r, ending);
  });
  if (ended) OnRunEnded(id);
  return ended;
}

}  // namespace outpost
