#include "runner/docker/docker_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "runner/netproxy/allowlist.h"
#include "runner/netproxy/blocked_log.h"

namespace outpost::docker {
namespace {

constexpr std::int64_t kNanoCpusPerMillicore = 1'000'000;

std::string Join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : std::string(1, sep)) + s;
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int LabelInt(const std::map<std::string, std::string>& labels, const char* key, int fallback) {
  auto it = labels.find(key);
  if (it == labels.end()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (...) {
    return fallback;
  }
}

// A local repository (an absolute path or file:// url) the run clones: bound read-only at the
// same path so that the task's clone finds it. "" for a remote one.
std::string LocalRepoPath(const RunSpec& spec) {
  if (!spec.repo) return "";
  const std::string& url = spec.repo->url;
  if (url.starts_with("file://")) return url.substr(7);
  if (url.starts_with("/")) return url;
  return "";
}

}  // namespace

DockerRunner::DockerRunner(const DockerEngine& engine, Clock& clock, Config config)
    : engine_(engine),
      clock_(clock),
      config_(std::move(config)),
      files_(std::filesystem::absolute(config_.data_dir).string() + "/containers") {
  config_.data_dir = std::filesystem::absolute(config_.data_dir).lexically_normal().string();
  if (config_.data_dir.size() > 1 && config_.data_dir.back() == '/') config_.data_dir.pop_back();
  channel_socket_ = config_.data_dir + "/channel/channel.sock";
}

DockerRunner::~DockerRunner() { Stop(); }

std::string DockerRunner::ContainerName(const RunId& id) {
  std::string name = "outpost-run-" + id.str();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

Status DockerRunner::StartChannel(const std::string& host, int port) {
  std::lock_guard lock(mu_);
  if (relay_) relay_->Stop();  // a new address: the same socket path, listened on anew
  relay_.reset();
  auto relay = ChannelRelay::Start(channel_socket_, host, port);
  if (!relay.ok()) return relay.status();
  relay_ = std::move(*relay);
  return Status::Ok();
}

void DockerRunner::Stop() {
  std::unique_ptr<ChannelRelay> relay;
  std::map<std::string, std::unique_ptr<netproxy::EgressProxy>> proxies;
  {
    std::lock_guard lock(mu_);
    relay = std::move(relay_);
    proxies.swap(proxies_);
  }
  if (relay) relay->Stop();
  for (auto& [id, p] : proxies) p->Stop();
}

Status DockerRunner::Reachable() const { return engine_.Ping(); }

Status DockerRunner::ImagePresent(const std::string& image) const {
  return engine_.InspectImage(image);
}

int DockerRunner::proxies() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(proxies_.size());
}

bool DockerRunner::OutputsOverChannel(const RunId& id) {
  return IsUlid(id.str()) && FileExists(files_.Dir(id.str()).File(kRemoteMarker));
}

ContainerSpec DockerRunner::ContainerFor(const RunSpec& spec) const {
  const RunDir dir = files_.Dir(spec.id.str());
  ContainerSpec c;
  c.name = ContainerName(spec.id);
  c.image = spec.image.empty() ? config_.default_image : spec.image;
  c.user = "0:0";
  c.entrypoint = config_.entrypoint;
  c.labels = {{kLabelRun, spec.id.str()},
              {kLabelRunner, "docker"},
              {kLabelDataDir, config_.data_dir},
              {kLabelTimeout, std::to_string(spec.limits.timeout_seconds)},
              {kLabelGrace, std::to_string(spec.limits.grace_seconds)},
              {kLabelNetwork, std::string(ToString(spec.network))}};
  if (spec.network == NetworkPolicy::kAllowlist) c.labels[kLabelAllow] = Join(spec.allow, ',');
  // Nothing secret: dockerd keeps a container's environment in its own files.
  c.env = {"OUTPOST_RUN_ID=" + spec.id.str(), "OUTPOST_CHANNEL_URL=http://localhost",
           std::string("OUTPOST_CHANNEL_SOCKET=") + kChannelSocket,
           std::string("OUTPOST_TASK_DIR=") + kTaskDir};
  c.env.insert(c.env.end(), config_.extra_env.begin(), config_.extra_env.end());
  c.binds = {{dir.path(), kTaskDir, false},
             {config_.data_dir + "/channel", kChannelDir, false},
             {dir.workspace(), "/workspace", false},
             {dir.File("home"), "/home/agent", false}};
  if (spec.network == NetworkPolicy::kAllowlist) {
    c.binds.push_back({dir.File("proxy"), kProxyDir, false});
  }
  if (std::string repo = LocalRepoPath(spec); !repo.empty()) c.binds.push_back({repo, repo, true});
  c.tmpfs = {{"/tmp", "rw,nosuid,nodev,mode=1777"}};
  c.network_mode = spec.network == NetworkPolicy::kHost ? "host" : "none";
  if (config_.remote) {
    // Nothing of this machine: the task bootstraps over the network (the token it exchanges is
    // one-use; the channel token itself is never in dockerd's config), its files are tmpfs.
    c.labels[kLabelRemote] = "true";
    c.env = {"OUTPOST_RUN_ID=" + spec.id.str(),
             std::string(kTaskEnvChannelUrl) + "=" + (spec.channel ? spec.channel->url : ""),
             std::string(kTaskEnvBootstrapToken) + "=" +
                 (spec.channel ? spec.channel->bootstrap_token : ""),
             std::string("OUTPOST_TASK_DIR=") + kTaskDir};
    c.env.insert(c.env.end(), config_.extra_env.begin(), config_.extra_env.end());
    c.binds.clear();
    const std::string size =
        spec.limits.disk_bytes ? ",size=" + std::to_string(*spec.limits.disk_bytes) : "";
    c.tmpfs[kTaskDir] = "rw,nosuid,nodev,mode=0700";
    c.tmpfs["/workspace"] = "rw,exec,nosuid,nodev,mode=0755" + size;
    c.tmpfs["/home/agent"] = "rw,exec,nosuid,nodev,mode=0755" + size;
  }
  c.read_only_rootfs = true;
  c.no_new_privileges = true;
  c.cap_drop = {"ALL"};
  // CHOWN: the task hands /workspace and /home/agent to the agent user. DAC_OVERRIDE, FOWNER:
  // the shim (root) collects and scrubs what the agent made there, its own modes whatever they
  // are. The agent holds none of them (a non-root uid after setresuid, no-new-privileges).
  c.cap_add = {"SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"};
  c.memory_bytes = spec.limits.memory_bytes;
  if (spec.limits.cpu_millicores) {
    c.nano_cpus = std::int64_t{*spec.limits.cpu_millicores} * kNanoCpusPerMillicore;
  }
  c.pids_limit = spec.limits.pids_max;
  if (!storage_opt_refused_.load()) c.storage_bytes = spec.limits.disk_bytes;
  return c;
}

Status DockerRunner::StartProxy(const RunId& id, const std::vector<std::string>& allow) {
  {
    std::lock_guard lock(mu_);
    if (proxies_.count(id.str())) return Status::Ok();
  }
  const RunDir dir = files_.Dir(id.str());
  // 0711: the agent's forwarder connects to proxy.sock; it may list nothing.
  OUTPOST_RETURN_IF_ERROR(MakeDirs(dir.File("proxy"), 0711));
  ::chmod(dir.File("proxy").c_str(), 0711);
  auto list = netproxy::Allowlist::Create(allow);
  if (!list.ok()) return list.status();
  auto log = netproxy::BlockedLog::Open(dir.File("network-blocked.jsonl"));
  if (!log.ok()) return log.status();
  std::shared_ptr<netproxy::BlockedLog> sink = std::move(*log);
  auto proxy = netproxy::EgressProxy::Start(
      dir.File("proxy/proxy.sock"), std::move(*list),
      [sink](const netproxy::BlockedAttempt& a) { (void)sink->Append(a); });
  if (!proxy.ok()) return proxy.status();
  std::lock_guard lock(mu_);
  proxies_.emplace(id.str(), std::move(*proxy));
  return Status::Ok();
}

void DockerRunner::StopProxy(const RunId& id) {
  std::unique_ptr<netproxy::EgressProxy> proxy;
  {
    std::lock_guard lock(mu_);
    auto it = proxies_.find(id.str());
    if (it == proxies_.end()) return;
    proxy = std::move(it->second);
    proxies_.erase(it);
  }
  proxy->Stop();
}

// Everything of a run that failed to start: its container, its proxy, its run dir.
void DockerRunner::Cleanup(const RunId& id) {
  (void)engine_.RemoveContainer(ContainerName(id), /*force=*/true);
  StopProxy(id);
  (void)files_.Discard(id);
}

Result<std::string> DockerRunner::Create(ContainerSpec& c) {
  Result<std::string> created = engine_.CreateContainer(c);
  // dockerd 20.10 answers 500 ("--storage-opt is supported only for overlay over xfs with
  // 'pquota' mount option"), others 400: the message says which.
  if (!created.ok() && c.storage_bytes && created.status().code() != Code::kNotFound &&
      created.status().message().find("storage-opt") != std::string::npos) {
    // This storage driver cannot limit a container's size: the disk limit is the shim's
    // watchdog (README "Container runs").
    spdlog::warn("docker: the storage driver refuses a size limit ({}); disk limits are polled",
                 created.status().message());
    storage_opt_refused_ = true;
    c.storage_bytes.reset();
    created = engine_.CreateContainer(c);
  }
  return created;
}

Status DockerRunner::Start(const RunSpec& spec) {
  const std::string& run_id = spec.id.str();
  if (!IsUlid(run_id)) return InvalidArgument("bad run id: " + run_id);
  if (!spec.channel || spec.channel->token.empty()) {
    return InvalidArgument("a container run needs the run channel (RunSpec::channel)");
  }
  if (spec.network == NetworkPolicy::kHost && !config_.allow_host_network) {
    return InvalidArgument(
        "network 'host' for a container needs [sandbox] allow_host_network = true");
  }
  if (spec.argv.empty()) return InvalidArgument("a run needs a command (argv is empty)");
  if (config_.remote) return StartRemote(spec);
  const RunDir dir = files_.Dir(run_id);
  OUTPOST_RETURN_IF_ERROR(MakeDirs(files_.runs_dir(), 0700));
  if (::mkdir(dir.path().c_str(), 0700) != 0) {
    if (errno == EEXIST) return Conflict("run already started: " + run_id);
    return Internal("cannot create " + dir.path() + ": " + std::strerror(errno));
  }
  auto fail = [&](Status st) {
    Cleanup(spec.id);
    return st;
  };
  if (Status st = WriteFileAtomic(dir.File(kChannelTokenFile), spec.channel->token, 0600);
      !st.ok()) {
    return fail(st);
  }
  for (const char* sub : {"workspace", "home"}) {
    if (Status st = MakeDirs(dir.File(sub), 0755); !st.ok()) return fail(st);
  }
  if (Status st = MakeDirs(config_.data_dir + "/channel", 0700); !st.ok()) return fail(st);
  if (spec.network == NetworkPolicy::kAllowlist) {
    if (Status st = StartProxy(spec.id, spec.allow); !st.ok()) {
      return fail(Status(st.code(), "egress proxy: " + st.message()));
    }
  }
  ContainerSpec c = ContainerFor(spec);
  Result<std::string> created = Create(c);
  if (!created.ok()) return fail(created.status());
  if (Status st = engine_.StartContainer(*created); !st.ok()) return fail(st);
  spdlog::info("run {}: container {} of {} started", run_id, c.name, c.image);
  return Status::Ok();
}

Status DockerRunner::StartRemote(const RunSpec& spec) {
  const std::string& run_id = spec.id.str();
  if (spec.channel->bootstrap_token.empty() || spec.channel->url.empty()) {
    return InvalidArgument(
        "a remote container run needs the run channel's URL and a bootstrap token "
        "(RunSpec::channel)");
  }
  if (spec.network != NetworkPolicy::kHost) {
    return InvalidArgument("network '" + std::string(ToString(spec.network)) +
                           "' cannot be kept by a remote container (its task reaches the run "
                           "channel over the network): remote Docker runs take network 'host' "
                           "only ([sandbox] allow_host_network = true)");
  }
  const RunDir dir = files_.Dir(run_id);
  OUTPOST_RETURN_IF_ERROR(MakeDirs(files_.runs_dir(), 0700));
  if (::mkdir(dir.path().c_str(), 0700) != 0) {
    if (errno == EEXIST) return Conflict("run already started: " + run_id);
    return Internal("cannot create " + dir.path() + ": " + std::strerror(errno));
  }
  auto fail = [&](Status st) {
    Cleanup(spec.id);
    return st;
  };
  if (Status st = WriteFileAtomic(dir.File(kRemoteMarker), "1\n", 0600); !st.ok()) return fail(st);
  ContainerSpec c = ContainerFor(spec);
  Result<std::string> created = Create(c);
  if (!created.ok()) return fail(created.status());
  if (Status st = WriteFileAtomic(dir.File(kCreatedMarker), *created + "\n", 0600); !st.ok()) {
    return fail(st);
  }
  if (Status st = engine_.StartContainer(*created); !st.ok()) return fail(st);
  spdlog::info("run {}: remote container {} of {} started", run_id, c.name, c.image);
  return Status::Ok();
}

Status DockerRunner::RequestCancel(const RunId& id, const std::string& reason) {
  if (!IsUlid(id.str())) return InvalidArgument("bad run id: " + id.str());
  const RunDir dir = files_.Dir(id.str());
  if (!FileExists(dir.path())) return NotFound("no run directory for " + id.str());
  if (!dir.ReadCancel()) OUTPOST_RETURN_IF_ERROR(dir.WriteCancel({reason, clock_.Now()}));
  // A remote task learns of it through the channel's control (the run record's cancel).
  if (OutputsOverChannel(id)) return Status::Ok();
  // tini forwards it to outpost task, which hands it to the shim (its cancel protocol). Only
  // once the shim is there (shim.json): before, the task may not handle SIGUSR1 yet (its
  // default kills it), and the shim reads cancel.json before it starts the agent.
  if (!FileExists(dir.File("shim.json"))) return Status::Ok();
  Status st = engine_.KillContainer(ContainerName(id), "SIGUSR1");
  if (!st.ok() && st.code() != Code::kConflict && st.code() != Code::kNotFound) {
    spdlog::warn("run {}: cancel signal to its container: {}", id.str(), st.ToString());
  }
  return Status::Ok();
}

// A container still running grace + stop_after_grace_seconds after its cancel or its deadline:
// the task did not end it; it is stopped (TERM, 2 s, KILL).
void DockerRunner::EnforceDeadline(const RunId& id, const ContainerState& state) {
  const int grace = LabelInt(state.labels, kLabelGrace, 10);
  const auto slack = std::chrono::seconds(grace + config_.stop_after_grace_seconds);
  const WallTime now = clock_.Now();
  std::optional<WallTime> due;
  if (auto cancel = files_.Dir(id.str()).ReadCancel()) due = cancel->requested_at + slack;
  if (state.started_at) {
    const int timeout = LabelInt(state.labels, kLabelTimeout, 0);
    if (timeout > 0) {
      const WallTime at = *state.started_at + std::chrono::seconds(timeout) + slack;
      if (!due || at < *due) due = at;
    }
  }
  if (!due || now < *due) return;
  spdlog::warn("run {}: its container is still running past its cancel/deadline: stopping it",
               id.str());
  if (Status st = engine_.StopContainer(state.id, 2); !st.ok()) {
    spdlog::warn("run {}: docker stop: {}", id.str(), st.ToString());
  }
}

ShimProbe DockerRunner::Ended(const RunId& id, const std::optional<ContainerState>& state) {
  // The run is over: its channel token serves nothing any more (the channel takes it only for
  // a RUNNING run), and is not kept at rest.
  ::unlink(files_.Dir(id.str()).File(kChannelTokenFile).c_str());
  if (OutputsOverChannel(id)) {
    // Its exit came (or did not) over the channel: core takes it from the run record.
    if (state && state->oom_killed) {
      ExitRecord oom;
      oom.outcome = ExitOutcome::kOom;
      oom.ended_at = state->finished_at.value_or(clock_.Now());
      oom.message = "the container was killed by the out-of-memory killer (maxMemoryMb)";
      oom.agent = AgentResult{};
      return {ShimState::kExited, std::move(oom)};
    }
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = state ? "the remote container exited (code " + std::to_string(state->exit_code) +
                               ") without an exit record over the run channel" +
                               (state->error.empty() ? "" : ": " + state->error)
                         : "the remote container is gone without an exit record over the run "
                           "channel";
    return lost;
  }
  std::optional<ExitRecord> rec = files_.ReadExit(id);
  if (rec) {
    if (state && state->oom_killed && rec->outcome != ExitOutcome::kCancelled &&
        !(rec->outcome == ExitOutcome::kExited && rec->exit_code == 0)) {
      rec->outcome = ExitOutcome::kOom;
      if (rec->message.empty()) rec->message = "killed by the out-of-memory killer (maxMemoryMb)";
    }
    StopProxy(id);
    return {ShimState::kExited, std::move(rec)};
  }
  const RunDir dir = files_.Dir(id.str());
  const bool task_reported = FileExists(dir.File(kEventsFile)) || FileExists(dir.File("shim.json"));
  StopProxy(id);
  if (state && state->oom_killed) {
    ExitRecord oom;
    oom.outcome = ExitOutcome::kOom;
    oom.ended_at = state->finished_at.value_or(clock_.Now());
    oom.message = "the container was killed by the out-of-memory killer (maxMemoryMb)";
    oom.agent = AgentResult{};
    return {ShimState::kExited, std::move(oom)};
  }
  if (!task_reported && state) {
    // The container never got as far as `outpost task` reporting anything: its image's
    // entrypoint failed, or the task gave up (a RunSpec it could not read).
    ExitRecord failed;
    failed.outcome = ExitOutcome::kStartFailed;
    failed.ended_at = state->finished_at.value_or(clock_.Now());
    failed.message = "the container exited (code " + std::to_string(state->exit_code) +
                     ") before outpost task reported";
    if (!state->error.empty()) failed.message += ": " + state->error;
    failed.agent = AgentResult{};
    return {ShimState::kExited, std::move(failed)};
  }
  return {ShimState::kLost, std::nullopt};
}

ShimProbe DockerRunner::Probe(const RunId& id) {
  if (!IsUlid(id.str())) return {ShimState::kNotStarted, std::nullopt};
  const RunDir dir = files_.Dir(id.str());
  Result<ContainerState> state = engine_.InspectContainer(ContainerName(id));
  if (!state.ok() && state.status().code() != Code::kNotFound) {
    // dockerd down or refusing: nothing can be decided now; asked again next tick, until the
    // grace is over.
    const MonoTime now = clock_.Mono();
    MonoTime since;
    {
      std::lock_guard lock(mu_);
      since = unreachable_since_.emplace(id.str(), now).first->second;
    }
    if (now - since < std::chrono::seconds(config_.unreachable_grace_seconds)) {
      spdlog::warn("run {}: cannot inspect its container: {}", id.str(), state.status().ToString());
      return {ShimState::kRunning, std::nullopt};
    }
    {
      std::lock_guard lock(mu_);
      unreachable_since_.erase(id.str());
    }
    StopProxy(id);
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = "the Docker Engine did not answer for " +
                   std::to_string(config_.unreachable_grace_seconds) +
                   " s ([runner.docker] unreachable_grace_seconds): " + state.status().ToString();
    spdlog::error("run {}: lost: {}", id.str(), lost.message);
    return lost;
  }
  {
    std::lock_guard lock(mu_);
    unreachable_since_.erase(id.str());
  }
  if (state.ok()) {
    if (state->labels.count(kLabelRun) && state->labels.at(kLabelRun) != id.str()) {
      return {ShimState::kLost, std::nullopt};  // not ours (a name clash): never touched
    }
    if (state->status == "created") {
      // Created, never started: the control plane died between the two calls. Started now.
      if (Status st = engine_.StartContainer(state->id); !st.ok()) {
        spdlog::warn("run {}: cannot start its created container: {}", id.str(), st.ToString());
      }
      return {ShimState::kRunning, std::nullopt};
    }
    if (state->running || state->status == "restarting" || state->status == "paused" ||
        state->status == "removing") {
      if (state->running) {
        auto net = state->labels.find(kLabelNetwork);
        if (net != state->labels.end() && net->second == "allowlist") {
          auto allow = state->labels.find(kLabelAllow);
          // Adoption: a restarted control plane runs its proxy again.
          if (Status st = StartProxy(id, allow == state->labels.end() ? std::vector<std::string>{}
                                                                      : Split(allow->second, ','));
              !st.ok()) {
            spdlog::warn("run {}: egress proxy: {}", id.str(), st.ToString());
          }
        }
        EnforceDeadline(id, *state);
      }
      return {ShimState::kRunning, std::nullopt};
    }
    // Exited or dead: the terminal status is written only once the container is gone.
    if (Status st = engine_.RemoveContainer(state->id, /*force=*/true); !st.ok()) {
      spdlog::warn("run {}: cannot remove its container: {}", id.str(), st.ToString());
      return {ShimState::kRunning, std::nullopt};
    }
    return Ended(id, *state);
  }
  // No container.
  if (!FileExists(dir.path())) return {ShimState::kNotStarted, std::nullopt};
  if (OutputsOverChannel(id)) {
    if (FileExists(dir.File(kCreatedMarker))) return Ended(id, std::nullopt);
    // The control plane died before the create: nothing ran; started again.
    (void)files_.Discard(id);
    return {ShimState::kNotStarted, std::nullopt};
  }
  if (files_.ReadExit(id)) return Ended(id, std::nullopt);
  if (!FileExists(dir.File(kEventsFile)) && !FileExists(dir.File("shim.json"))) {
    // The control plane died between making the run dir and creating the container: nothing
    // ran. Started again (Start makes the dir anew).
    StopProxy(id);
    (void)files_.Discard(id);
    return {ShimState::kNotStarted, std::nullopt};
  }
  StopProxy(id);
  return {ShimState::kLost, std::nullopt};
}

std::vector<RunId> DockerRunner::LiveRuns() {
  std::vector<RunId> out;
  auto list = engine_.ListContainers(
      {std::string(kLabelRunner) + "=docker", std::string(kLabelDataDir) + "=" + config_.data_dir});
  if (!list.ok()) {
    spdlog::warn("docker: cannot list run containers: {}", list.status().ToString());
    return out;
  }
  for (const ContainerSummary& c : *list) {
    auto it = c.labels.find(kLabelRun);
    if (it != c.labels.end() && IsUlid(it->second)) out.emplace_back(it->second);
  }
  return out;
}

int DockerRunner::Reap(const RunId& id) {
  if (!IsUlid(id.str())) return 0;
  int removed = 0;
  Result<ContainerState> state = engine_.InspectContainer(ContainerName(id));
  if (state.ok()) {
    auto it = state->labels.find(kLabelDataDir);
    if (it == state->labels.end() || it->second != config_.data_dir) return 0;  // not ours
    Status st = engine_.RemoveContainer(state->id, /*force=*/true);
    if (st.ok()) {
      removed = 1;
    } else {
      spdlog::warn("run {}: cannot remove its container: {}", id.str(), st.ToString());
    }
  }
  StopProxy(id);
  return removed;
}

Status DockerRunner::Discard(const RunId& id) {
  if (!IsPlainRunId(id.str())) return InvalidArgument("bad run id: " + id.str());
  Reap(id);
  return files_.Discard(id);
}

}  // namespace outpost::docker
