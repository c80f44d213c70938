// DockerRunner: the Runner (runner.h) whose runs are containers on a Docker Engine
// (ARCHITECTURE.md §8; engine.h is how it talks to the daemon). Each run is the container
// `outpost-run-<runId lowercase>` of the agent's image (RunSpec::image), whose entrypoint
// (tini -- outpost task) fetches the RunSpec over the run channel, runs the shim in container
// mode and reports the run's events and its exit record over the channel.
//
// On this machine, per run, the host run directory <data_dir>/containers/<runId>/ (0700 root),
// bind-mounted at /run/outpost/run: the runner writes only `channel-token` there (0600); the
// task and its shim write the rest as the process runner's shim does (run_dir.h), so every
// reader (outputs, events journal, progress, changes, exit.json) is RunFiles' (run_files.h), as
// for ProcessRunner. workspace/ and home/ in it are bound at /workspace and /home/agent.
//
// The container: labels outpost.run=<runId>, outpost.runner=docker, outpost.data-dir=<abs data
// dir> (plus the run's timeout, grace and network, read back after a restart); user 0:0 (the
// task drops the agent to the image's `agent` user); env without secrets (OUTPOST_RUN_ID,
// OUTPOST_CHANNEL_URL=http://localhost, OUTPOST_CHANNEL_SOCKET, OUTPOST_TASK_DIR); read-only
// root, tmpfs /tmp, no-new-privileges, every capability dropped but SETUID SETGID KILL CHOWN
// DAC_OVERRIDE FOWNER (the task's and its shim's, never the agent's);
// Memory, NanoCpus, PidsLimit from RunLimits; StorageOpt size only where the storage driver
// takes it (a create refused for it is retried without, and the runner remembers); network
// "none" for none and allowlist ("host" only when allow_host_network).
//
// The run channel's socket: <data_dir>/channel/channel.sock (ChannelRelay, relayed to the
// control plane's listener), the directory bound at /run/outpost/channel. A run with network
// allowlist gets its EgressProxy on <run dir>/proxy/proxy.sock (bound at /run/outpost/proxy),
// its refusals in <run dir>/network-blocked.jsonl; started by Start, started again by Probe for
// a running container that has none (adopted after a restart), stopped when the run ends.
//
// Remote mode (DockerRunnerConfig::remote: a tcp:// daemon, or [runner.docker] remote = true):
// the container shares NO files with this machine — no bind mount at all. Its env is
// OUTPOST_RUN_ID, OUTPOST_CHANNEL_URL (ChannelAccess::url), OUTPOST_BOOTSTRAP_TOKEN (the one-use
// token `outpost task` exchanges for the channel token; never the channel token itself) and
// OUTPOST_TASK_DIR; the task dir, /workspace and /home/agent are tmpfs (size: the disk limit);
// label outpost.remote=true. The task reaches the channel URL over the container's network, so
// only network `host` runs ([sandbox] allow_host_network) are taken: `none` and `allowlist`
// cannot be kept by a container that must reach the control plane (refused, kInvalidArgument).
// The task delivers its outputs over the channel (OutputsOverChannel: true, remembered in the
// local bookkeeping dir containers/<runId>/ as the file `remote`, so it survives restarts) and
// its exit too: Probe of an ended container says kLost (core then takes the channel's exit), or
// kExited oom. A cancel reaches the task through the channel's control (cancel.json is kept
// here only for the stop-after-grace).
//
// Probe: a container created but never started (the control plane died in between) is started;
// running -> kRunning (and a container still running grace+15 s after a cancel
// or after its deadline is stopped here); exited -> it is removed first, then kExited with the
// run dir's exit.json (OOMKilled makes a failed record's outcome oom); exited without exit.json
// and without any sign of the task (no event journal) -> kExited, outcome start_failed (core:
// infra_error) with the container's exit code and the Engine's error; otherwise kLost. No
// container and no run dir -> kNotStarted. The Engine unreachable -> kRunning (nothing is
// decided while dockerd is down) for unreachable_grace_seconds since the first failed inspect
// of that run, then kLost with the Engine's error as its message (core takes the exit the task
// posted over the channel, if any). Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "runner/docker/channel_relay.h"
#include "runner/docker/engine.h"
#include "runner/netproxy/proxy.h"
#include "runner/run_files.h"
#include "runner/runner.h"

namespace outpost::docker {

// Paths inside the container.
inline constexpr char kTaskDir[] = "/run/outpost/run";
inline constexpr char kChannelDir[] = "/run/outpost/channel";
inline constexpr char kChannelSocket[] = "/run/outpost/channel/channel.sock";
inline constexpr char kProxyDir[] = "/run/outpost/proxy";
inline constexpr char kChannelTokenFile[] = "channel-token";
// Remote mode: the bookkeeping files in the local run dir (which is never bound): `remote` marks
// the run as such (OutputsOverChannel), `created` says its container was created.
inline constexpr char kRemoteMarker[] = "remote";
inline constexpr char kCreatedMarker[] = "created";

// Labels of a run's container.
inline constexpr char kLabelRun[] = "outpost.run";
inline constexpr char kLabelRunner[] = "outpost.runner";
inline constexpr char kLabelDataDir[] = "outpost.data-dir";
inline constexpr char kLabelTimeout[] = "outpost.timeout-seconds";
inline constexpr char kLabelGrace[] = "outpost.grace-seconds";
inline constexpr char kLabelNetwork[] = "outpost.network";
inline constexpr char kLabelAllow[] = "outpost.allow";    // allowlist patterns, comma-separated
inline constexpr char kLabelRemote[] = "outpost.remote";  // "true": a remote-mode run

struct DockerRunnerConfig {
  std::string data_dir;                        // made absolute; containers/ and channel/ in it
  std::string default_image = "outpost-base";  // for a RunSpec without one
  bool allow_host_network = false;             // [sandbox] allow_host_network
  // A container still running this long after grace past its cancel or deadline is stopped.
  int stop_after_grace_seconds = 15;
  // [runner.docker] unreachable_grace_seconds: how long Probe says kRunning for a run whose
  // container the Engine cannot inspect (dockerd down); then kLost with the Engine's error.
  int unreachable_grace_seconds = 300;
  // Extra environment of every container (non-secret; tests: ASAN_OPTIONS).
  std::vector<std::string> extra_env;
  // Remote mode (see above): no bind mounts, the bootstrap token, outputs over the channel.
  bool remote = false;
  // Tests only: the container's entrypoint instead of the image's (a stand-in for outpost task).
  std::vector<std::string> entrypoint;
};

class DockerRunner final : public Runner {
 public:
  using Config = DockerRunnerConfig;

  // `engine` must outlive the runner.
  DockerRunner(const DockerEngine& engine, Clock& clock, Config config);
  ~DockerRunner() override;

  RunnerKind kind() const override { return RunnerKind::kDocker; }
  bool ReportsOverChannel(const RunId& /*id*/) override { return true; }
  // A remote-mode run (its `remote` marker here).
  bool OutputsOverChannel(const RunId& id) override;

  // The run channel's socket (ChannelRelay), relayed to the control plane's listener at
  // host:port. Call once the listener is bound; again (a new address) replaces it.
  Status StartChannel(const std::string& host, int port);
  // Stops the relay and every egress proxy (runs go on; a restarted runner starts them again).
  void Stop();
  // Whether the Engine answers (Ping), with its reason when it does not.
  Status Reachable() const;
  // Whether `image` is there (InspectImage): kNotFound with the Engine's message otherwise.
  Status ImagePresent(const std::string& image) const;

  // Creates the run dir, the token file and the container, then starts it. kInvalidArgument:
  // a bad id, no channel, network host not allowed; kConflict: started before; the Engine's
  // errors as engine.h maps them (its message kept). After an error nothing of the run is left
  // (no container, no run dir, no proxy).
  Status Start(const RunSpec& spec) override;
  // cancel.json in the run dir (the first reason wins), then SIGUSR1 to the container (tini ->
  // outpost task -> the shim's cancel).
  Status RequestCancel(const RunId& id, const std::string& reason) override;
  ShimProbe Probe(const RunId& id) override;
  std::optional<WallTime> Started(const RunId& id) override { return files_.Started(id); }
  RunProgress Progress(const RunId& id) override { return files_.Progress(id); }
  std::optional<Changes> ChangesOf(const RunId& id) override { return files_.ChangesOf(id); }
  std::vector<BlockedConnection> Blocked(const RunId& id) override { return files_.Blocked(id); }
  // Reap.
  int KillLeftovers(const RunId& id) override { return Reap(id); }
  // Runs with a container (any state) labelled with this data dir.
  std::vector<RunId> LiveRuns() override;
  // Removes the run's container (force) and stops its proxy; 1 when a container was removed.
  int Reap(const RunId& id) override;
  std::vector<KeptRun> KeptRuns() override { return files_.KeptRuns(); }
  // Reap, then the run dir.
  Status Discard(const RunId& id) override;
  Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after,
                                std::size_t max_bytes) override {
    return files_.ReadEvents(id, after, max_bytes);
  }
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& id,
                                                  std::function<void()> wake) override {
    return files_.WatchEvents(id, std::move(wake));
  }
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& id, RunOutput what) override {
    return files_.OpenOutput(id, what);
  }

  // The container create request of a run (pure; tests look at it).
  ContainerSpec ContainerFor(const RunSpec& spec) const;
  static std::string ContainerName(const RunId& id);
  RunDir Dir(const RunId& id) const { return files_.Dir(id.str()); }
  const std::string& channel_socket() const { return channel_socket_; }
  // Egress proxies running now (tests).
  int proxies() const;

 private:
  Status StartRemote(const RunSpec& spec);
  // CreateContainer, again without StorageOpt when the storage driver refuses it (remembered).
  Result<std::string> Create(ContainerSpec& c);
  Status StartProxy(const RunId& id, const std::vector<std::string>& allow);
  void StopProxy(const RunId& id);
  void EnforceDeadline(const RunId& id, const ContainerState& state);
  ShimProbe Ended(const RunId& id, const std::optional<ContainerState>& state);
  void Cleanup(const RunId& id);

  const DockerEngine& engine_;
  Clock& clock_;
  Config config_;
  RunFiles files_;
  std::string channel_socket_;
  mutable std::mutex mu_;
  std::unique_ptr<ChannelRelay> relay_;                                    // guarded by mu_
  std::map<std::string, std::unique_ptr<netproxy::EgressProxy>> proxies_;  // guarded by mu_
  // guarded by mu_: since when the Engine has failed every inspect of a run (cleared by an answer)
  std::map<std::string, MonoTime> unreachable_since_;
  std::atomic<bool> storage_opt_refused_{false};
};

}  // namespace outpost::docker
