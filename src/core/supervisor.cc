#include "core/supervisor.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>

#include "agents/outcome.h"
#include "common/log.h"
#include "core/agent_secrets.h"
#include "core/artifact_uploader.h"
#include "core/auditor.h"
#include "core/retention.h"
#include "core/run_observer.h"
#include "runner/notify.h"
#include "workspace/repo_spec.h"

namespace outpost {
namespace {

// The loop wakes at least this often to notice shims that died without notifying.
constexpr int kTickMs = 500;
constexpr auto kSweepInterval = std::chrono::seconds(5);

struct Outcome {
  RunStatus status;
  std::string_view reason;
  std::optional<std::string> message;
};

Outcome Classify(const ExitRecord& rec) {
  if (rec.outcome == "exited") {
    if (rec.exit_code && *rec.exit_code == 0)
      return {RunStatus::kCompleted, reason::kSucceeded, {}};
    if (rec.exit_code) {
      return {RunStatus::kFailed, reason::kExitNonzero,
              "exited with code " + std::to_string(*rec.exit_code)};
    }
    std::string sig = rec.signal ? std::to_string(*rec.signal) : "?";
    return {RunStatus::kFailed, reason::kSignaled, "killed by signal " + sig};
  }
  if (rec.outcome == "timeout_total") {
    return {RunStatus::kTimeout, reason::kTimeoutTotal, "the run exceeded timeoutSeconds"};
  }
  if (rec.outcome == "timeout_inactive") {
    return {RunStatus::kTimeout, reason::kTimeoutInactive,
            "no output for inactivityTimeoutSeconds"};
  }
  if (rec.outcome == "cancelled") return {RunStatus::kCancelled, reason::kCancelled, {}};
  if (rec.outcome == "repo_error") return {RunStatus::kFailed, reason::kRepoError, rec.message};
  if (rec.outcome == "oom") {
    return {RunStatus::kFailed, reason::kOom,
            rec.message.empty() ? "killed by the out-of-memory killer (maxMemoryMb)" : rec.message};
  }
  if (rec.outcome == "disk_quota") {
    return {RunStatus::kFailed, reason::kDiskQuota,
            rec.message.empty() ? "the workspace exceeded maxDiskGb" : rec.message};
  }
  return {RunStatus::kFailed, reason::kInfraError,
          rec.message.empty() ? "the run could not start (" + rec.outcome + ")" : rec.message};
}

}  // namespace

Supervisor::Supervisor(RunStore& store, Runner& runner, const AgentRegistry& agents, Clock& clock,
                       const Options& opts, const SecretStore* secrets)
    : store_(store),
      runner_(runner),
      agents_(agents),
      clock_(clock),
      opts_(opts),
      secrets_(secrets) {}

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

  started_at_ = clock_.Now();
  // Announce ourselves first: other replicas must not judge us lost while we recover.
  WriteHeartbeat();
  RefreshReplicas(/*force=*/true);
  // Recovery: whatever ran while we were away is settled before new work is admitted.
  auto active = store_.ListActive();
  if (!active.ok()) return active.status();
  int running = 0;
  for (const Run& r : *active) {
    if (r.status == RunStatus::kRunning && Mine(r)) ++running;
  }
  Reconcile(*active);
  {
    std::lock_guard lock(mu_);
    snapshot_.reaper.adopted_on_start =
        running - snapshot_.reaper.recovered_on_start - snapshot_.reaper.supervisor_lost;
  }
  if (running > 0) spdlog::info("recovery: {} running run(s) found at start", running);
  stop_ = false;
  // Alive from here: /health and /health/fleet asked before the thread's first instruction must
  // not call a server that has just recovered "unhealthy" (Reconcile above reads the old value).
  loop_alive_ = true;
  thread_ = std::thread([this] { Loop(); });
  hb_stop_ = false;
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  return Status::Ok();
}

void Supervisor::Stop() {
  if (heartbeat_thread_.joinable()) {
    {
      std::lock_guard lock(hb_mu_);
      hb_stop_ = true;
    }
    hb_cv_.notify_all();
    heartbeat_thread_.join();
  }
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

std::string Supervisor::EndedArtifactsState() const {
  return uploader_ ? std::string(artifacts_state::kPending) : "";
}

void Supervisor::OnRunEnded(const RunId& id) {
  RecordEnd(id);  // events.jsonl gets its end before anything is uploaded
  if (uploader_) uploader_->Enqueue(id);
  if (observer_) {
    if (auto run = store_.Get(id); run.ok()) observer_->OnEnded(*run);
  }
}

SupervisorSnapshot Supervisor::Snapshot() const {
  std::lock_guard lock(mu_);
  SupervisorSnapshot s = snapshot_;
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

void Supervisor::Tick() {
  auto active = store_.ListActive();
  if (!active.ok()) {
    spdlog::warn("supervisor: cannot list active runs: {}", active.status().ToString());
    return;
  }
  RefreshReplicas(/*force=*/false);
  Reconcile(*active);
  // Re-read: reconciling may have finished runs and freed capacity.
  active = store_.ListActive();
  if (active.ok()) Admit(*active);
  if (clock_.Mono() >= next_sweep_) {
    next_sweep_ = clock_.Mono() + kSweepInterval;
    Sweep();
  }
}

void Supervisor::Sweep() {
  std::set<std::string> suspects;
  for (const RunId& run_id : runner_.LiveRuns()) {
    const std::string& id = run_id.str();
    auto run = store_.Get(run_id);
    bool over = run.ok() ? IsTerminal(run->status) : run.status().code() == Code::kNotFound;
    if (!over) continue;
    if (!orphan_suspects_.count(id)) {
      suspects.insert(id);
      continue;
    }
    int killed = runner_.Reap(run_id);
    spdlog::warn("reaper: run {} is over in the store but had {} live process(es): killed", id,
                 killed);
    std::lock_guard lock(mu_);
    ++snapshot_.reaper.orphan_runs_reaped;
    snapshot_.reaper.orphan_processes_killed += killed;
  }
  orphan_suspects_ = std::move(suspects);
}

void Supervisor::Reconcile(const std::vector<Run>& active) {
  for (const Run& run : active) {
    if (run.status != RunStatus::kRunning) continue;
    if (!Mine(run)) {
      // Another replica's run: its business while that replica lives; its supervisor (and the
      // shim's files) are out of reach once it is lost.
      if (!OwnedByLiveOther(run.owner)) FailNodeLost(run);
      continue;
    }
    ShimProbe probe = runner_.Probe(run.id);
    if (probe.state == ShimState::kExited) {
      if (!loop_alive_) {
        std::lock_guard lock(mu_);
        ++snapshot_.reaper.recovered_on_start;
      }
      Finalize(run, *probe.exit);
    } else if (probe.state == ShimState::kLost) {
      FailLost(run);
    } else if (probe.state == ShimState::kNotStarted) {
      // Admitted, then the control plane died before it launched the shim: nothing ran, so
      // it is started now rather than failed.
      spdlog::warn(
          "run {}: admitted but never started (the server stopped in between): starting it",
          run.id.str());
      Launch(run);
    } else {
      DeliverCancel(run);
      if (run.phase != kPhaseRunning) {
        if (auto at = runner_.Started(run.id)) MarkStarted(run, *at);
      }
      RefreshBlocked(run);
      RefreshProgress(run);
    }
  }
  // Forget delivered cancels of runs that are over.
  std::set<std::string> still;
  for (const Run& run : active) {
    if (cancels_delivered_.count(run.id.str())) still.insert(run.id.str());
  }
  cancels_delivered_ = std::move(still);
}

// The cancel request is in the store; the signal may not have reached the shim: the request
// came through another replica (only this one can reach the shim), or between this replica
// marking the run RUNNING and creating its run directory. Delivered here, once.
void Supervisor::DeliverCancel(const Run& run) {
  if (!run.cancel_requested_at || cancels_delivered_.count(run.id.str())) return;
  Status st = runner_.RequestCancel(run.id, run.cancel_reason.value_or("Cancelled by user"));
  if (st.ok()) {
    cancels_delivered_.insert(run.id.str());
  } else {
    spdlog::warn("run {}: cannot deliver its cancel: {}", run.id.str(), st.ToString());
  }
}

void Supervisor::Admit(const std::vector<Run>& active) {
  std::map<std::string, int> running, queued;
  int total_running = 0;
  // Limits are per replica: each counts the runs it supervises.
  for (const Run& r : active) {
    if (r.status == RunStatus::kRunning && Mine(r)) {
      ++running[r.agent];
      ++total_running;
    }
  }
  const bool disk_low = disk_ && disk_->Low();
  for (const Run& run : active) {  // oldest first: FIFO
    if (run.status != RunStatus::kPending) continue;
    if (run.phase == kPhaseHeld) {  // its fan-out is still being created...
      // ...unless the server that was creating it died meanwhile: it never starts.
      if (Mine(run) && clock_.Now() - run.created_at > std::chrono::seconds(60)) {
        bool cancelled = UpdateRun(run.id, [&](Run& r) {
          if (r.status != RunStatus::kPending || r.phase != kPhaseHeld) return false;
          r.status = RunStatus::kCancelled;
          r.reason = std::string(reason::kCancelled);
          r.phase = std::string(kPhaseDone);
          r.cancel_reason = "the fan-out dispatch that created it was interrupted";
          r.ended_at = clock_.Now();
          r.progress = 100;
          r.artifacts_state = EndedArtifactsState();
          return true;
        });
        if (cancelled) OnRunEnded(run.id);
      }
      continue;
    }
    if (!Mine(run) && OwnedByLiveOther(run.owner)) continue;  // queued at a live replica
    const bool takeover = !Mine(run);
    if (disk_low) {  // they wait; they do not fail
      ++queued[run.agent];
      continue;
    }
    const AgentOptions* agent = agents_.Find(run.agent);
    int limit = agent ? agent->max_concurrent : 0;
    if (total_running >= opts_.max_concurrent_runs || running[run.agent] >= limit) {
      ++queued[run.agent];
      continue;
    }
    WallTime now = clock_.Now();
    const std::string expected_owner = run.owner;
    bool admitted = UpdateRun(run.id, [&](Run& r) {
      // Conditional on the owner too: of replicas taking over a lost one's queue, one wins.
      if (r.status != RunStatus::kPending || r.owner != expected_owner) return false;
      r.status = RunStatus::kRunning;
      r.phase = std::string(kPhasePreparing);
      r.started_at = now;
      r.owner = opts_.replica_id;
      r.progress = 2;
      return true;
    });
    if (!admitted) continue;  // cancelled or taken meanwhile
    if (takeover) {
      spdlog::warn("run {}: taken over from lost replica {}", run.id.str(), run.owner);
      std::lock_guard lock(mu_);
      ++snapshot_.taken_over;
    }
    ++running[run.agent];
    ++total_running;
    Launch(run);
  }
  std::lock_guard lock(mu_);
  snapshot_.running_by_agent = running;
  snapshot_.queued_by_agent = queued;
  snapshot_.running = total_running;
  snapshot_.queued = 0;
  for (const auto& [_, n] : queued) snapshot_.queued += n;
}

void Supervisor::Launch(const Run& run) {
  Status st = runner_.Start(SpecFor(run));
  if (!st.ok()) {
    spdlog::error("run {}: cannot start: {}", run.id.str(), st.ToString());
    bool failed = UpdateRun(run.id, [&](Run& r) {
      if (IsTerminal(r.status)) return false;
      r.status = RunStatus::kFailed;
      r.reason = std::string(reason::kInfraError);
      r.error_message = "the run could not be started: " + st.message();
      r.ended_at = clock_.Now();
      r.phase = std::string(kPhaseDone);
      r.progress = 100;
      r.artifacts_state = EndedArtifactsState();
      return true;
    });
    if (failed) OnRunEnded(run.id);
  }
}

RunSpec Supervisor::SpecFor(const Run& run) const {
  AgentCommand cmd = agents_.CommandFor(run);
  const AgentOptions* agent = agents_.Find(run.agent);
  RunSpec spec;
  spec.id = run.id;
  spec.argv = std::move(cmd.argv);
  spec.env = std::move(cmd.env);
  spec.agent_dirs = std::move(cmd.ro_binds);
  spec.limits.timeout_seconds = run.timeout_seconds;
  spec.limits.inactivity_timeout_seconds = run.inactivity_timeout_seconds;
  spec.limits.grace_seconds = opts_.cancel_grace_seconds;
  spec.limits.max_output_bytes = opts_.max_output_bytes;
  spec.limits.pids_max = opts_.sandbox.pids_max;
  if (run.resources.max_memory_mb)
    spec.limits.memory_bytes = std::int64_t{*run.resources.max_memory_mb} << 20;
  if (run.resources.max_cpu_units)
    spec.limits.cpu_millicores = *run.resources.max_cpu_units * 1000 / 1024;
  if (run.resources.max_disk_gb)
    spec.limits.disk_bytes = std::int64_t{*run.resources.max_disk_gb} << 30;
  if (run.repo) {
    RepoCheckout& co = spec.repo.emplace();
    // Validated at dispatch; a repo that no longer parses (the operator turned local repos
    // off since) is left to the shim's clone to fail as repo_error.
    auto repo = workspace::ParseRepoSpec(*run.repo, opts_.allow_local_repos);
    co.url = repo.ok() ? repo->url : *run.repo;
    co.branch = run.branch;
    co.cache_dir = std::filesystem::absolute(opts_.data_dir + "/repos").string();
    co.allow_private_hosts = opts_.git_allow_private_hosts;
    co.local_repo_roots = opts_.local_repo_roots;
    co.data_dir = std::filesystem::absolute(opts_.data_dir).string();
    co.pin = run.group_id;  // a fan-out's agents all work on one commit
    // A shell task is a command line, not a prompt: context would be run as shell code.
    if (run.agent != "shell") co.context_level = run.context;
    // The task is one whole argv element (agents/): the shim prepends the context there.
    auto task = std::find(spec.argv.begin(), spec.argv.end(), run.task);
    if (task != spec.argv.end()) co.task_arg_index = static_cast<int>(task - spec.argv.begin());
    // The token of the repo's host only (README "Security model"): an https URL on a host of
    // [git.hosts] (github.com by default); any other repo clones anonymously.
    if (auto ref = workspace::TokenFor(co.url, opts_.git_hosts); ref && secrets_ != nullptr) {
      if (auto token = secrets_->Get(ref->secret); token.ok()) {
        co.git_token = *token;
        co.git_token_url = ref->url;
      }
    }
  }
  if (agent) {
    spec.parser = agent->parser;
    spec.home_files = agent->home_files;
    spec.agent_dirs.insert(spec.agent_dirs.end(), agent->install_dirs.begin(),
                           agent->install_dirs.end());
    spec.allow = agent->network_allow;
  }
  spec.network = ParseNetworkPolicy(run.network).value_or(NetworkPolicy::kNone);
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
  if (run.network != "allowlist") return;  // only an allowlist proxy refuses anything
  auto blocked = runner_.Blocked(run.id);
  if (blocked.size() == run.network_blocked.size()) return;
  UpdateRun(run.id, [&](Run& r) {
    if (r.network_blocked.size() == blocked.size()) return false;
    r.network_blocked = blocked;
    return true;
  });
}

void Supervisor::MarkStarted(Run run, WallTime at) {
  // Until now started_at is the admission time (Admit).
  const std::optional<WallTime> admitted = run.started_at;
  bool marked = UpdateRun(run.id, [&](Run& r) {
    if (r.status != RunStatus::kRunning || r.phase == kPhaseRunning) return false;
    r.phase = std::string(kPhaseRunning);
    r.started_at = at;
    r.progress = std::max(r.progress, 5);
    return true;
  });
  if (marked && observer_ && admitted) observer_->OnStarted(run, *admitted, at);
}

void Supervisor::Finalize(Run run, const ExitRecord& rec) {
  Outcome out = Classify(rec);
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
                                         runner_.kind() == RunnerKind::kSandbox)) {
        out.message = out.message ? *out.message + "; " + *note : *note;
      }
    }
  }
  std::optional<Changes> changes = runner_.ChangesOf(run.id);
  bool ended = UpdateRun(run.id, [&](Run& r) {
    r.network_blocked = blocked;
    if (IsTerminal(r.status)) return false;
    r.artifacts_state = EndedArtifactsState();
    if (changes) r.changes = changes;
    r.status = out.status;
    r.reason = std::string(out.reason);
    r.phase = std::string(kPhaseDone);
    r.progress = 100;
    r.exit_code = rec.exit_code;
    if (out.message) r.error_message = out.message;
    if (usage) r.usage = usage;
    if (result && !result->final_message.empty()) r.final_message = result->final_message;
    if (rec.started_at) r.started_at = rec.started_at;
    if (!r.started_at) r.started_at = rec.ended_at;
    r.ended_at = rec.ended_at;
    if (out.status == RunStatus::kCancelled) {
      r.cancel_reason = rec.cancel_reason ? rec.cancel_reason : r.cancel_reason;
    }
    return true;
  });
  // A run that ended before the loop saw it start: its start is observed now, once.
  if (ended && observer_ && run.phase != kPhaseRunning && run.started_at && rec.started_at) {
    observer_->OnStarted(run, *run.started_at, *rec.started_at);
  }
  if (ended) OnRunEnded(run.id);
  spdlog::info("run {} {} ({})", run.id.str(), ToString(out.status), out.reason);
}

void Supervisor::SetAddress(std::string address) {
  std::lock_guard lock(mu_);
  address_ = std::move(address);
}

void Supervisor::WriteHeartbeat() {
  ReplicaInfo me;
  me.id = opts_.replica_id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  me.host = host;
  {
    std::lock_guard lock(mu_);
    me.address = address_;
    me.running = snapshot_.running;
  }
  me.version = OUTPOST_VERSION;
  me.started_at = started_at_;
  me.heartbeat_at = clock_.Now();
  me.capacity = opts_.max_concurrent_runs;
  if (Status st = store_.Heartbeat(me); !st.ok()) {
    spdlog::warn("replica heartbeat not written: {}", st.ToString());
  }
}

// Its own thread, so that a slow supervisor pass (a large backlog, a slow store) never makes
// this replica look lost to the others.
void Supervisor::HeartbeatLoop() {
  const auto interval = std::chrono::milliseconds(opts_.lease_seconds * 1000 / 3);
  std::unique_lock lock(hb_mu_);
  while (!hb_stop_) {
    lock.unlock();
    WriteHeartbeat();
    lock.lock();
    hb_cv_.wait_for(lock, interval, [&] { return hb_stop_; });
  }
}

bool Supervisor::RefreshReplicas(bool force) {
  const MonoTime now = clock_.Mono();
  if (!force && now < next_replicas_refresh_) return false;
  // A forced re-read (before judging a replica lost) happens at most every 500 ms: a lost
  // replica's many queued runs must not cost one store scan each.
  if (force && last_replicas_read_ && now - *last_replicas_read_ < std::chrono::milliseconds(500)) {
    return false;
  }
  last_replicas_read_ = now;
  next_replicas_refresh_ = now + std::chrono::milliseconds(opts_.lease_seconds * 1000 / 3);
  auto all = store_.ListReplicas();
  if (!all.ok()) {
    spdlog::warn("replicas not listed: {}", all.status().ToString());
    return false;
  }
  others_.clear();
  std::vector<ReplicaView> views;
  const WallTime cutoff = clock_.Now() - std::chrono::seconds(opts_.lease_seconds);
  for (ReplicaInfo& r : *all) {
    const bool self = r.id == opts_.replica_id;
    views.push_back({r, self || r.heartbeat_at >= cutoff, self});
    if (!self) others_[r.id] = r;
  }
  std::lock_guard lock(mu_);
  snapshot_.replicas = std::move(views);
  return true;
}

bool Supervisor::OwnedByLiveOther(const std::string& owner) {
  if (owner.empty() || owner == opts_.replica_id) return false;
  auto live = [&] {
    auto it = others_.find(owner);
    // No record: it never announced itself (or its record is gone): nobody supervises it.
    return it != others_.end() &&
           it->second.heartbeat_at >= clock_.Now() - std::chrono::seconds(opts_.lease_seconds);
  };
  if (live()) return true;
  // Judged lost on what we read earlier: read again before anything irreversible is done, and
  // without a fresh read, leave it for a later pass.
  if (!RefreshReplicas(/*force=*/true)) return true;
  return live();
}

void Supervisor::FailNodeLost(const Run& run) {
  const std::string owner = run.owner;
  bool failed = UpdateRun(run.id, [&](Run& r) {
    if (IsTerminal(r.status) || r.owner != owner) return false;
    r.status = RunStatus::kFailed;
    r.reason = std::string(reason::kNodeLost);
    r.error_message = "replica " + owner + " that supervised this run stopped heartbeating for " +
                      "more than " + std::to_string(opts_.lease_seconds) +
                      " s; its shim is out of reach (if it comes back, it stops the run)";
    r.ended_at = clock_.Now();
    r.phase = std::string(kPhaseDone);
    r.progress = 100;
    r.artifacts_state = EndedArtifactsState();
    return true;
  });
  if (!failed) return;
  OnRunEnded(run.id);
  std::lock_guard lock(mu_);
  ++snapshot_.node_lost;
  spdlog::warn("run {} FAILED (node_lost): replica {} is lost", run.id.str(), owner);
}

void Supervisor::FailLost(Run run) {
  int killed = runner_.KillLeftovers(run.id);
  bool failed = UpdateRun(run.id, [&](Run& r) {
    if (IsTerminal(r.status)) return false;
    r.status = RunStatus::kFailed;
    r.reason = std::string(reason::kSupervisorLost);
    r.error_message = "the run's supervisor (shim) died without an exit record; " +
                      std::to_string(killed) + " leftover process(es) killed";
    r.ended_at = clock_.Now();
    r.phase = std::string(kPhaseDone);
    r.progress = 100;
    r.artifacts_state = EndedArtifactsState();
    return true;
  });
  if (failed) OnRunEnded(run.id);
  std::lock_guard lock(mu_);
  snapshot_.reaper.leftovers_killed += killed;
  if (failed) ++snapshot_.reaper.supervisor_lost;
  spdlog::warn("run {} FAILED (supervisor_lost), {} leftover process(es) killed", run.id.str(),
               killed);
}

bool Supervisor::UpdateRun(const RunId& id, const std::function<bool(Run&)>& mutate) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto cur = store_.Get(id);
    if (!cur.ok()) {
      spdlog::error("run {}: cannot read: {}", id.str(), cur.status().ToString());
      return false;
    }
    Run r = *cur;
    if (!mutate(r)) return false;
    auto st = store_.Update(r);
    if (st.ok()) {
      if (auditor_ && st->status != cur->status) auditor_->Transition(*cur, *st);
      return true;
    }
    if (st.status().code() != Code::kConflict && st.status().code() != Code::kUnavailable) {
      spdlog::error("run {}: cannot update: {}", id.str(), st.status().ToString());
      return false;
    }
  }
  spdlog::error("run {}: gave up updating after repeated conflicts", id.str());
  return false;
}

}  // namespace outpost
