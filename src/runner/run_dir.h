// The run directory: the only channel between `outpost serve` and a run's shim, so that either
// side can die and the other (or its successor) can pick up from the files alone.
//
//   <data>/runs/<runId>/
//     spec.json     written by ProcessRunner::Start before the shim starts (LaunchSpec: the
//                   RunSpec plus the sandbox — binds, uid, home, cgroup name), without its
//                   secrets: those reach the shim in memory only (SecretsToJson below)
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
//     exit.json.reserve  preallocated by the shim when it starts (kExitReserveBytes): the exit
//                   record is written into it in place and renamed to exit.json, so a full
//                   disk cannot keep a run from ending with its outcome (issue 18 item 10)
//     context.md    the context prepended to the task (runs with a repo)
//     changes.json  what the agent changed, with diff.patch and changes.bundle (workspace/)
//     workspace/    the agent's working directory
//
// Every JSON file is written with WriteFileAtomic, so a reader sees all of it or none. Every
// file is read with ReadRunFile (audit F3): the server and the shim run as root, and a run
// directory is next to what the agent controls.
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
  std::optional<std::int64_t> disk_bytes;  // workspace + home
  // Audit F5: the image pool (<data_dir>/images, sandbox/disk_image.h) the workspace and home
  // get a file system of disk_bytes from; "": none, disk_bytes is a polling watchdog's.
  std::string image_pool;
  std::string cgroup_name;  // e.g. "outpost/<runId>" under each hierarchy
};

// Container mode (`outpost task`, runner/task/task.h): the shim runs inside a container that is
// the sandbox — no bwrap, no cgroup (the container has the limits). The agent is spawned as
// agent_uid:agent_gid (never root; setgroups/setresgid/setresuid + no_new_privs) in the
// workspace with HOME=home; the workspace and home are handed to it (chown) after the clone
// (which runs as root: the git token never reaches the agent). Allowlist: the agent runs under
// `<outpost_exe> sandbox-forward --listen 127.0.0.1:3128 --socket <proxy_socket> --` with the
// proxy variables the sandbox sets. Leftovers: the process-mode tree kill (the shim is the
// subreaper). Exclusive with sandbox.enabled.
struct ContainerSpec {
  bool enabled = false;
  int agent_uid = 0;
  int agent_gid = 0;
  std::string home;              // the agent's home (/home/agent), created, chowned
  std::string network = "none";  // none | allowlist | host
  std::string proxy_socket;      // allowlist: the egress proxy's unix socket
  std::string outpost_exe;       // allowlist: the binary that runs sandbox-forward
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
  // git gets through its environment only (never in spec.json, nor in the agent's env) with
  // the one origin it is for ("https://github.com"; a token without one is never used), the
  // context level ("" = no context) and which argv element holds the task (it is replaced by
  // the task with the context prepended).
  std::string repo_cache_dir;
  std::optional<std::string> git_token;
  std::optional<std::string> git_token_url;
  // [git] allow_private_hosts: clone hosts that may resolve to loopback/private addresses.
  std::vector<std::string> git_allow_private_hosts;
  std::string git_ssh_known_hosts;  // [git] ssh_known_hosts ("": ssh URLs are refused)
  // Audit F9: a local repo_url is cloned only when its real path lies under one of these and
  // not under data_dir (workspace::ResolveLocalRepo).
  std::vector<std::string> local_repo_roots;
  std::string data_dir;
  std::string context_level;
  std::optional<int> task_arg_index;
  std::string notify_socket;  // unix datagram socket of the server ("" = none)
  // Secret values in env: replaced by [REDACTED] in stdout.log/stderr.log (secrets/redactor.h).
  // Never logged, never in spec.json (SecretsToJson).
  std::vector<std::string> redact;
  // Files written into the agent's home before it starts (path relative to $HOME -> content),
  // e.g. a CLI's settings file. Owned by the sandbox uid, mode 0600.
  std::map<std::string, std::string> home_files;
  // Output cap (runner/shim/output_capture.h) and how stdout is parsed into agent events
  // (AgentOptions::parser; "plain": none).
  std::int64_t max_output_bytes = 100 << 20;
  std::string parser = "plain";
  // Audit F14: the change collection's budget — its whole time, and the largest file or git
  // output it may make (git runs in the run's cgroup when there is one). Past either the
  // changes say why (workspace::ChangeSet::failure); the run's outcome is unchanged.
  // RunSpec::verify: run after the agent, before the changes are collected (verify.log).
  std::optional<std::string> verify;
  int collect_timeout_seconds = 300;
  std::int64_t collect_max_bytes = std::int64_t{256} << 20;
  SandboxSpec sandbox;
  ContainerSpec container;
};

// Issue 18 item 8, secrets at rest. The secret part of a launch spec: git_token, redact, and
// every env entry and home file whose value holds one of the redact values. WriteSpec leaves
// it out of spec.json; the runner hands it to the shim through an inherited memfd (fd
// kSecretsFd, named by the kSecretsFdVariable environment variable) that the shim reads and
// closes before anything else runs. Where no memfd can be made, through kSecretsFile in the
// run directory, which the shim removes as soon as it has read it.
inline constexpr int kSecretsFd = 3;
inline constexpr std::string_view kSecretsFdVariable = "OUTPOST_SHIM_SECRETS_FD";
inline constexpr std::string_view kSecretsFile = "secrets.json";
std::string SecretsToJson(const LaunchSpec& spec);
// Puts the secret part `text` (from SecretsToJson) back into `spec`. kInternal when malformed.
Status MergeSecrets(std::string_view text, LaunchSpec& spec);
// A sealed memfd holding `content` (the secret part), above the fds a shim inherits and
// close-on-exec, for the shim's fd kSecretsFd; -1 when none can be made (process_runner.cc).
int SecretsMemfd(std::string_view content);

struct ShimInfo {
  int pid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat
};

struct CancelRequest {
  std::string reason;
  WallTime requested_at;
};

// Audit F12: a sandbox run's shim inherits the flock'd file of its uid as this fd (and this
// variable in its environment says so); it keeps it, close-on-exec, until it exits.
inline constexpr int kUidLockFd = 4;
inline constexpr std::string_view kUidLockFdVariable = "OUTPOST_UID_LOCK_FD";

// The one way the root side reads a file of a run directory (audit F3): opened without
// following a link (O_NOFOLLOW), without blocking (O_NONBLOCK: a FIFO never hangs the reader),
// only when fstat says it is a regular file (not a device such as /dev/zero), and only up to
// max_bytes (a larger file is refused, not read). kNotFound when absent, kInternal otherwise.
inline constexpr std::size_t kMaxRunFileBytes = 16 << 20;
Result<std::string> ReadRunFile(const std::string& path, std::size_t max_bytes = kMaxRunFileBytes);
// True when `path` is itself a regular file (lstat: a link to one does not count).
bool IsRegularFile(const std::string& path);

// Reads and writes the files of one run directory. Stateless apart from the path, so any
// number of RunDir values for the same directory may be used from any thread or process;
// writers are atomic (write + rename), readers see a whole file or kNotFound/nullopt.
// Errors: kNotFound when the file is absent, kInternal when it is unreadable or malformed.
// What ReserveExit preallocates: a record holds at most a 16 KiB final message, which JSON
// escaping may grow six-fold.
inline constexpr std::int64_t kExitReserveBytes = 256 * 1024;

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
  // Reserves the space of the exit record (exit.json.reserve, kExitReserveBytes, allocated with
  // fallocate): once this succeeded, WriteExit needs no free space. An error when the file
  // system has no room (or cannot preallocate); WriteExit then writes a new file as before.
  Status ReserveExit() const;
  // Into the reserve when there is one (written in place, truncated to the record, fsynced,
  // renamed to exit.json), else a new file; durable either way.
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
