// The run directory: the only channel between `outpost serve` and a run's shim, so that either
// side can die and the other (or its successor) can pick up from the files alone.
//
//   <data>/runs/<runId>/
//     spec.json     written by ProcessRunner::Start before the shim starts (LaunchSpec: the
//                   RunSpec plus the sandbox — binds, uid, home, cgroup name)
//     shim.json     written by the shim when it starts: pid + kernel start time (pid reuse safe)
//     started.json  written by the shim when the agent process is running
//     cancel.json   written by the server to request a cancel (the shim is also sent SIGUSR1)
//     stdout.log    the agent's stdout, appended as it comes
//     stderr.log    the agent's stderr, appended as it comes
//     events.jsonl  the run's event stream: output, phases, agent events, status, end
//                   (runner/event_log.h); stdout.tail/stderr.tail: output tails while over the cap
//     shim.log      the shim's own diagnostics
//     progress.json written by the shim as the agent goes: its turns, its usage so far (tokens,
//                   the agent's own cost when reported), and when it collects
//     exit.json     written last, atomically, by the shim: how the run ended (ExitRecord, with
//                   the agent's parsed result; a record of an older shim has none)
//     context.md    the context prepended to the task (runs with a repo)
//     changes.json  what the agent changed, with diff.patch and changes.bundle (workspace/)
//     workspace/    the agent's working directory
//
// Every JSON file is written with WriteFileAtomic, so a reader sees all of it or none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "runner/runner.h"

namespace outpost {

// How the shim isolates the agent. With enabled=false the agent is a plain child in its own
// session (the unisolated `process` runner).
struct SandboxSpec {
  bool enabled = false;
  int uid = 0;  // unprivileged uid/gid the sandbox runs as (unique per concurrent run)
  int gid = 0;
  std::string home;                   // host dir bound at /home/agent (created, chowned)
  std::vector<std::string> ro_binds;  // extra host dirs bound read-only at the same path
  std::string network = "none";       // none (loopback only) | allowlist | host
  std::vector<std::string> allow;     // allowlist: "host:port" patterns ("*.example.com:443")
  std::string outpost_exe;            // bound into the sandbox to run the proxy forwarder
  bool disable_userns = false;        // bwrap --disable-userns (bubblewrap >= 0.8)
  // Limits (cgroups). nullopt: no limit of that kind.
  std::optional<std::int64_t> memory_bytes;
  int pids_max = 512;
  std::optional<int> cpu_millicores;       // CFS quota: maxCpuUnits/1024 cores = units*1000/1024
  std::optional<std::int64_t> disk_bytes;  // workspace + home, enforced by a watchdog
  std::string cgroup_name;                 // e.g. "outpost/<runId>" under each hierarchy
};

struct LaunchSpec {
  std::string run_id;
  std::vector<std::string> argv;                  // argv[0] resolved through PATH
  std::map<std::string, std::string> env;         // the agent's whole environment
  std::string workspace;                          // absolute; created by the shim
  int timeout_seconds = 600;                      // total deadline, from shim start
  std::optional<int> inactivity_timeout_seconds;  // no output for this long
  int grace_seconds = 10;                         // SIGTERM -> SIGKILL on cancel/timeout
  std::optional<std::string> repo_url;            // cloned into the workspace before the agent runs
  std::optional<std::string> branch;
  // A fan-out's group id: every run of the group checks out the commit the first one found
  // (workspace::PrepareRequest::pin).
  std::optional<std::string> pin;
  // Repository checkout (workspace/): the mirror cache root (<data_dir>/repos), the HTTPS token
  // git gets through its environment only (spec.json is 0600; never in the agent's env) with
  // the one origin it is for ("https://github.com"; a token without one is never used), the
  // context level ("" = no context) and which argv element holds the task (it is replaced by
  // the task with the context prepended).
  std::string repo_cache_dir;
  std::optional<std::string> git_token;
  std::optional<std::string> git_token_url;
  // [git] allow_private_hosts: clone hosts that may resolve to loopback/private addresses.
  std::vector<std::string> git_allow_private_hosts;
  // Audit F9: a local repo_url is cloned only when its real path lies under one of these and
  // not under data_dir (workspace::ResolveLocalRepo).
  std::vector<std::string> local_repo_roots;
  std::string data_dir;
  std::string context_level;
  std::optional<int> task_arg_index;
  std::string notify_socket;  // unix datagram socket of the server ("" = none)
  // Secret values in env: replaced by [REDACTED] in stdout.log/stderr.log (secrets/redactor.h).
  // Never logged; spec.json is 0600.
  std::vector<std::string> redact;
  // Files written into the agent's home before it starts (path relative to $HOME -> content),
  // e.g. a CLI's settings file. Owned by the sandbox uid, mode 0600.
  std::map<std::string, std::string> home_files;
  // Output cap (runner/shim/output_capture.h) and how stdout is parsed into agent events
  // (AgentOptions::parser; "plain": none).
  std::int64_t max_output_bytes = 100 << 20;
  std::string parser = "plain";
  SandboxSpec sandbox;
};

struct ShimInfo {
  int pid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat
};

struct CancelRequest {
  std::string reason;
  WallTime requested_at;
};

// Reads and writes the files of one run directory. Stateless apart from the path, so any
// number of RunDir values for the same directory may be used from any thread or process;
// writers are atomic (write + rename), readers see a whole file or kNotFound/nullopt.
// Errors: kNotFound when the file is absent, kInternal when it is unreadable or malformed.
class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }
  std::string workspace() const { return File("workspace"); }

  Status WriteSpec(const LaunchSpec& spec) const;
  Result<LaunchSpec> ReadSpec() const;
  Status WriteShimInfo(const ShimInfo& info) const;
  Result<ShimInfo> ReadShimInfo() const;
  Status WriteStarted(WallTime at, int agent_pid) const;
  // nullopt while the agent has not started (or never will).
  std::optional<WallTime> ReadStarted() const;
  std::optional<int> ReadStartedPid() const;
  Status WriteCancel(const CancelRequest& req) const;
  // nullopt when no cancel was requested.
  std::optional<CancelRequest> ReadCancel() const;
  Status WriteExit(const ExitRecord& rec) const;
  // kNotFound while the shim has not finished. ExitRecord::agent is nullopt when the record
  // does not carry the agent's result (written by an older shim).
  Result<ExitRecord> ReadExit() const;
  Status WriteProgress(const RunProgress& p) const;
  // nullopt when the shim has written none (yet, or an older shim).
  std::optional<RunProgress> ReadProgress() const;

 private:
  std::string path_;
};

}  // namespace outpost
