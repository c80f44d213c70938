// Runner: the contract between the control plane (core/) and whatever executes runs.
//
// Core hands a Runner a RunSpec — what to run (agent argv/env, secrets, limits, network
// policy, repo@branch) — and learns how the run goes through the typed results of the methods
// below. It never sees how the runner isolates the run, where it keeps the run's files, which
// uid the agent runs as or which cgroup holds it. The one implementation today is
// ProcessRunner (process_runner.h): a detached `outpost shim` per run on this machine, plain
// (RunnerKind::kProcess) or in bubblewrap + cgroups (kSandbox). A container runner (Docker,
// ECS: ARCHITECTURE.md §8) implements the same methods.
//
// The run's supervisor (the shim) outlives the control plane. So every method but Start is
// valid for any run id, including runs started by an earlier control-plane process (adopted
// after a restart, or after an upgrade: records written by an older shim read as well), and
// for ids the runner never saw (then they answer "nothing": kNotStarted, nullopt, empty, 0).
//
// Thread-safety: every method may be called from any thread, concurrently, also for the same
// run; the runner keeps no per-run state that a call could race on beyond what each method
// documents. None of them waits for the run itself; what each may block on is said below.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agents/parsers/parser.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "model/run.h"

namespace outpost {

// RunnerKind (how runs execute: [server] runner / --runner) and NetworkPolicy (what the agent may
// reach) are in model/run.h. kAllowlist: only RunSpec::allow, through a proxy that records what
// it refused (Runner::Blocked). An unisolated runner (kProcess) cannot restrict and gives kHost
// always.

// The limits of one run. nullopt: no limit of that kind. The runner enforces what it can
// (an unisolated runner: the deadlines and the output cap only).
struct RunLimits {
  int timeout_seconds = 600;                      // total deadline, from the run's start
  std::optional<int> inactivity_timeout_seconds;  // no output for this long
  int grace_seconds = 10;                         // SIGTERM -> SIGKILL on cancel/timeout
  std::optional<std::int64_t> memory_bytes;
  std::optional<int> cpu_millicores;
  std::optional<std::int64_t> disk_bytes;  // workspace + home
  int pids_max = 512;
  std::int64_t max_output_bytes = 100 << 20;  // output cap (head + tail kept, middle dropped)
};

// The repository the run works in, cloned before the agent starts (outside any sandbox: git
// credentials never reach the agent).
struct RepoCheckout {
  std::string url;
  std::optional<std::string> branch;
  // A fan-out's group id: every run of the group checks out the commit the first one found.
  std::optional<std::string> pin;
  std::string cache_dir;  // the mirror cache root (<data_dir>/repos); "" = a private one
  // The HTTPS token git gets through its environment only (never the agent's), with the one
  // origin it is for ("https://github.com"; a token without one is never used).
  std::optional<std::string> git_token;
  std::optional<std::string> git_token_url;
  std::vector<std::string> allow_private_hosts;  // [git] allow_private_hosts
  // A local url is cloned only when its real path lies under one of these and not under
  // data_dir (workspace::ResolveLocalRepo).
  std::vector<std::string> local_repo_roots;
  std::string data_dir;
  std::string context_level;  // "" = no context prepended to the task
  // Which argv element holds the task (the context is prepended there).
  std::optional<int> task_arg_index;
};

// Everything a runner needs to run one run; nothing of how it does so.
struct RunSpec {
  RunId id;
  std::vector<std::string> argv;           // argv[0] resolved through PATH
  std::map<std::string, std::string> env;  // the agent's environment (secret values included)
  // Names of the secrets whose values are in env (for logs: names only, never values).
  std::vector<std::string> secrets;
  // Values replaced by [REDACTED] in everything the run outputs. Never logged.
  std::vector<std::string> redact;
  // Host directories the agent's command needs to see read-only (its install dirs).
  std::vector<std::string> agent_dirs;
  // Files written into the agent's home before it starts (path relative to $HOME -> content).
  std::map<std::string, std::string> home_files;
  // How stdout is parsed into agent events and the AgentResult (AgentOptions::parser).
  std::string parser = "plain";
  RunLimits limits;
  NetworkPolicy network = NetworkPolicy::kNone;
  std::vector<std::string> allow;  // kAllowlist: "host:port" patterns ("*.example.com:443")
  std::optional<RepoCheckout> repo;
};

// How a run ended (ExitRecord::outcome). kNone: not decided yet (a record being built; one
// read with an empty outcome). kOom: the memory cgroup OOM-killed it; kDiskQuota: workspace over
// disk_bytes.
enum class ExitOutcome {
  kNone,
  kExited,
  kTimeoutTotal,
  kTimeoutInactive,
  kCancelled,
  kStartFailed,
  kRepoError,
  kOom,
  kDiskQuota,
};
// Each outcome's name in exit.json. A new outcome: its enumerator above and one row here.
inline constexpr std::pair<ExitOutcome, std::string_view> kExitOutcomeNames[] = {
    {ExitOutcome::kNone, ""},
    {ExitOutcome::kExited, "exited"},
    {ExitOutcome::kTimeoutTotal, "timeout_total"},
    {ExitOutcome::kTimeoutInactive, "timeout_inactive"},
    {ExitOutcome::kCancelled, "cancelled"},
    {ExitOutcome::kStartFailed, "start_failed"},
    {ExitOutcome::kRepoError, "repo_error"},
    {ExitOutcome::kOom, "oom"},
    {ExitOutcome::kDiskQuota, "disk_quota"},
};
std::string_view ToString(ExitOutcome outcome);
// nullopt for a name not in kExitOutcomeNames.
std::optional<ExitOutcome> ParseExitOutcome(std::string_view name);

// How a run ended, as seen by its supervisor.
struct ExitRecord {
  ExitOutcome outcome = ExitOutcome::kNone;
  std::optional<int> exit_code;        // when the agent exited by itself
  std::optional<int> signal;           // when the agent was killed by a signal
  std::optional<WallTime> started_at;  // the agent process started
  WallTime ended_at;
  std::string message;  // human-readable detail (errors, git's message)
  std::optional<std::string> cancel_reason;
  // Processes other than the agent itself that were still alive when the agent exited (or
  // when the run was stopped) and that the supervisor had to kill.
  int leftover_processes_killed = 0;
  std::int64_t stdout_bytes = 0;  // what the agent wrote (after redaction)
  std::int64_t stderr_bytes = 0;
  std::int64_t stdout_dropped_bytes = 0;  // of those, dropped by the output cap
  std::int64_t stderr_dropped_bytes = 0;
  std::string cgroup_version;  // "v1" | "v2" | "" (no cgroup)
  std::optional<std::int64_t> peak_memory_bytes;
  // What the agent's output said (RunSpec::parser over all of its stdout): final message,
  // usage, the agent's own error. Runner::Probe always fills it (from the output, for a record
  // of an older shim that did not carry it); nullopt only in a record read raw.
  std::optional<AgentResult> agent;
  int agent_turns = 0;  // assistant messages
};

enum class ShimState {
  kRunning,  // the run's supervisor is alive (or still starting)
  kExited,   // its exit record is there
  kLost,     // the supervisor is gone and left no exit record
  // Nothing of the run exists: the runner never launched it, so nothing of it ran (a control
  // plane that died between admitting a run and starting it). Start it again.
  kNotStarted,
};

struct ShimProbe {
  ShimState state = ShimState::kRunning;
  std::optional<ExitRecord> exit;  // with kExited
};

// How far a running run got, as its supervisor reports it.
struct RunProgress {
  int turns = 0;            // the agent's assistant messages so far
  bool collecting = false;  // the agent is done; its changes are being collected
};

// What a run leaves behind for the control plane to read: its output, its event stream and
// the files of its result.
enum class RunOutput {
  kStdout,   // the agent's stdout (redacted, capped)
  kStderr,   // its stderr
  kEvents,   // the event stream (runner/event_log.h); the control plane appends the end
  kContext,  // the context prepended to the task
  kDiff,     // diff.patch
  kBundle,   // changes.bundle
};

// Where the outputs of runs are, for the readers of logs, events and artifacts.
class RunOutputs {
 public:
  virtual ~RunOutputs() = default;
  // The file on this machine that holds `what` of run `id`, whether or not it exists yet
  // (it may never: a run that never started has none). Its directory exists once the run was
  // started. Pure: does not touch the file system. Valid for runs of earlier processes.
  virtual std::string OutputFile(const RunId& id, RunOutput what) const = 0;
};

class Runner : public RunOutputs {
 public:
  ~Runner() override = default;
  virtual RunnerKind kind() const = 0;

  // Launches the run and returns without waiting for it; the run goes on if the control plane
  // exits. Blocks on the file system and a fork (milliseconds). Call once per run id: kConflict
  // when the run was started before (unless Probe has since said kNotStarted). Errors also:
  // kInvalidArgument (a bad id), kUnavailable (no free sandbox uid), kInternal (could not
  // launch). After an error nothing of the run runs.
  virtual Status Start(const RunSpec& spec) = 0;
  // Asks the run to stop (idempotent; the first reason is kept). Returns at once; the run ends
  // within its grace period and Probe then says kExited with outcome "cancelled". kNotFound
  // when the run was never started. A run started but not yet running sees it before its agent.
  virtual Status RequestCancel(const RunId& id, const std::string& reason) = 0;
  // Where the run stands; with kExited, its exit record (ExitRecord::agent filled). Reads a few
  // small files and /proc; for a record without the agent's result, parses the tail of its
  // stdout (up to 64 MiB). A run launched less than the start grace ago counts as kRunning
  // until its supervisor shows up. After kExited the runner forgets the run's uid.
  virtual ShimProbe Probe(const RunId& id) = 0;
  // When the agent process started; nullopt while it has not (or never will).
  virtual std::optional<WallTime> Started(const RunId& id) = 0;
  // How far the run got; zero progress when it reported none.
  virtual RunProgress Progress(const RunId& id) = 0;
  // What the agent changed in the repository, once the run collected it (after it ended);
  // nullopt without a repository or before.
  virtual std::optional<Changes> ChangesOf(const RunId& id) = 0;
  // Egress attempts the run's allowlist proxy refused so far (empty without a proxy).
  virtual std::vector<BlockedConnection> Blocked(const RunId& /*id*/) { return {}; }
  // Kills every process left by a run whose supervisor is gone (Probe said kLost); returns
  // how many it killed. Blocks up to a few seconds (SIGTERM, grace, SIGKILL, verified).
  virtual int KillLeftovers(const RunId& id) = 0;
  // Runs (of this runner) that have live processes on this machine: supervisors or agents,
  // whoever started them. The reaper compares them with the store. Scans /proc.
  virtual std::vector<RunId> LiveRuns() = 0;
  // Kills the run's supervisor and every process of the run (for orphans the store says are
  // over). Returns how many processes were killed. Blocks like KillLeftovers.
  virtual int Reap(const RunId& id) = 0;

  // Runs of which the runner keeps files on this machine (whoever started them), with when
  // they last changed. For retention. Lists a directory.
  struct KeptRun {
    RunId id;
    WallTime modified;
  };
  virtual std::vector<KeptRun> KeptRuns() = 0;
  // Deletes everything the runner keeps of a run that is over (its outputs included). Blocks
  // on the file system. kInternal when something could not be removed.
  virtual Status Discard(const RunId& id) = 0;
};

}  // namespace outpost
