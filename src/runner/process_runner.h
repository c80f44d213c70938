// ProcessRunner: the Runner (runner.h) of this machine: each run's shim is a plain detached
// process. Kind kProcess (runner "process"): the shim runs the agent unisolated. Kind kSandbox
// (runner "sandbox"): the shim runs it in bubblewrap + a cgroup as a uid of its own
// (ARCHITECTURE.md §5). This class turns a RunSpec into the shim's LaunchSpec (spec.json: bind
// mounts, home, uid, cgroup name, the in-sandbox path of the outpost binary), launches the
// shim and reads the run directory (run_dir.h) for everything else; the shim isolates.
//
// Start launches `<shim_exe> shim <run-dir>` in its own session, double-forked so that it is
// not the server's child (the server never reaps it and may exit before it). Thread-safe: it
// holds no mutable state; concurrent calls for the same run are as safe as the file protocol
// (atomic writes) makes them.
//
// Sandbox uids (audit F12) are unique per machine, across servers and restarts: Start takes an
// flock on <uid_lock_dir>/<uid> for a uid no live process runs as, and hands the locked file
// to the shim (fd kUidLockFd), which holds it until it exits. A uid is free again once its
// shim is gone and nothing runs as it any more: at the run's end, or for a lost run once the
// reaper (KillLeftovers/Reap) has killed what the run left.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "runner/dir_watch.h"
#include "runner/event_log.h"
#include "runner/run_dir.h"
#include "runner/run_files.h"
#include "runner/runner.h"

namespace outpost {

// How the runner launches and isolates, beyond the kind ([sandbox] of the config).
struct ProcessRunnerConfig {
  std::string notify_socket;  // the server's datagram socket, told of starts/exits ("": none)
  // The outpost binary on the host: bound into the sandbox (the proxy forwarder), and an argv
  // element equal to it is replaced by its in-sandbox path (sandbox::kOutpostExe).
  std::string outpost_exe;
  int uid_min = 200000;  // each concurrent sandboxed run gets its own uid/gid from here
  int uid_max = 200999;
  // Machine-wide: every server on the machine must name the same directory ([sandbox]
  // uid_lock_dir). Created 0700 at the first sandbox start.
  std::string uid_lock_dir = "/run/outpost/uids";
  std::vector<std::string> ro_binds;  // extra host dirs bound read-only into every sandbox
  bool disable_userns = false;        // bwrap --disable-userns (bubblewrap >= 0.8)
  // Audit F5: the workspace image pool (sandbox/disk_image.h); "": workspaces on the data
  // dir's file system, the disk limit a polling watchdog's.
  std::string image_pool;
  // Audit F14: the change collection's budget ([limits] collect_*; LaunchSpec).
  int collect_timeout_seconds = 300;
  std::int64_t collect_max_bytes = std::int64_t{256} << 20;
};

class ProcessRunner final : public Runner {
 public:
  using Mode = RunnerKind;
  using Config = ProcessRunnerConfig;

  // runs_dir: parent of the run directories (made absolute). shim_exe: the executable that
  // understands `shim <run-dir>` (the outpost binary itself in production). start_grace: how
  // long a run whose shim has not written shim.json yet still counts as running.
  ProcessRunner(std::string runs_dir, std::string shim_exe, Clock& clock,
                Millis start_grace = Millis(10'000), Mode mode = Mode::kProcess,
                Config config = {});

  RunnerKind kind() const override { return mode_; }
  // LaunchFor(spec) with a fresh sandbox uid (locked, see above), then StartLaunch. kUnavailable
  // when every uid of [uid_min, uid_max] is taken on the machine.
  Status Start(const RunSpec& spec) override;
  // Writes cancel.json (the first reason wins) and signals a live shim with SIGUSR1.
  Status RequestCancel(const RunId& id, const std::string& reason) override;
  ShimProbe Probe(const RunId& id) override;
  std::optional<WallTime> Started(const RunId& id) override;
  // progress.json; for a shim that writes none (an older one), what the tail of events.jsonl
  // says.
  RunProgress Progress(const RunId& id) override;
  std::optional<Changes> ChangesOf(const RunId& id) override;
  // Reap.
  int KillLeftovers(const RunId& id) override;
  // Runs (ULIDs) with live processes (proc::RunProcesses) and a spec.json in this runs dir.
  std::vector<RunId> LiveRuns() override;
  // Kills the run's processes (SIGTERM, 2 s grace, SIGKILL until none is left) as
  // proc::RunProcesses attributes them — never by a marker a sandboxed process can set — and
  // in sandbox mode what is left in the cgroup outpost/<id>, which it removes. 0 for an id
  // that is not a ULID. Blocks up to a few seconds.
  int Reap(const RunId& id) override;
  std::vector<BlockedConnection> Blocked(const RunId& id) override;
  // RunOutputs: from the run directory's events.jsonl and output files (RunFiles, run_files.h).
  Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after,
                                std::size_t max_bytes) override;
  Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& id,
                                                  std::function<void()> wake) override;
  Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& id, RunOutput what) override;
  // The run directories, by their mtime (seconds).
  std::vector<KeptRun> KeptRuns() override;
  // Removes the run directory.
  Status Discard(const RunId& id) override;

  // The shim's spec for a run (pure; uid 0: StartLaunch's caller sets it): workspace and home
  // in the run directory, and in sandbox mode the sandbox (binds, network, limits, cgroup name,
  // HOME=/home/agent, argv's outpost binary at its in-sandbox path).
  LaunchSpec LaunchFor(const RunSpec& spec) const;
  // Creates the run dir (0700; 0711 in sandbox mode, so the sandbox uid can reach its
  // workspace and home), writes spec.json (workspace defaults to <run-dir>/workspace) and
  // launches the shim; returns without waiting for the run. kInvalidArgument when
  // spec.sandbox.enabled does not match the mode (a sandbox run never silently runs
  // unisolated), kConflict when the run was started before (spec.json exists), kInternal when
  // the directory or the fork failed.
  // uid_lock_fd: the locked uid file handed to the shim (-1: none).
  Status StartLaunch(const LaunchSpec& spec, int uid_lock_fd = -1);
  // The run directory of a run (this runner's own business; tests look into it).
  RunDir Dir(const std::string& run_id) const;

 private:
  struct UidLock {
    int uid;
    int fd;  // the caller closes it once the shim has its copy
  };
  // `secrets`: SecretsToJson of the spec, handed to the shim in memory (run_dir.h).
  Status Launch(const std::string& run_dir, const std::string& secrets, int uid_lock_fd) const;
  int KillCgroup(const std::string& run_id);
  void DropUnscrubbed(const RunDir& dir);
  Result<UidLock> LockFreeUid(const std::string& run_id);

  RunFiles files_;  // reading the run directories (shared with DockerRunner)
  std::string runs_dir_;
  std::string shim_exe_;
  Clock& clock_;
  Millis start_grace_;
  Mode mode_;
  Config config_;
};

}  // namespace outpost
