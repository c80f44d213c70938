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

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agents/parsers/parser.h"
#include "common/byte_source.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "model/run.h"
#include "model/run_event.h"

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
  std::string ssh_known_hosts;                   // [git] ssh_known_hosts ("": ssh refused)
  // A local url is cloned only when its real path lies under one of these and not under
  // data_dir (workspace::ResolveLocalRepo).
  std::vector<std::string> local_repo_roots;
  std::string data_dir;
  std::string context_level;  // "" = no context prepended to the task
  // Which argv element holds the task (the context is prepended there).
  std::optional<int> task_arg_index;
};

// The run channel (ARCHITECTURE.md §8, core/run_channel.h): where a supervisor that runs far
// from the control plane reports (POST /internal/v1/runs/{id}/events and …/exit, GET …/control)
// and the per-attempt token it authenticates with (sent only as a header). A secret: a runner
// that uses it keeps it from the agent (never in the agent's env, files or argv); a runner whose
// supervisor reports through its replica (ProcessRunner) ignores it and stores it nowhere.
struct ChannelAccess {
  std::string url;    // the control plane's base URL ("http://host:port")
  std::string token;  // "<runId>.<43 base64url chars>"; the run record keeps only its SHA-256
  // A one-use token that a task launched far away (a remote Docker daemon, ECS) exchanges for
  // `token` over the channel (POST …/bootstrap) — what such a runner passes in the task's launch
  // (its environment, ECS container overrides, which CloudTrail records) instead of `token`.
  // "" when core issued none.
  std::string bootstrap_token = {};
};

// The environment a runner that launches a remote task (no shared files) gives it: the run's
// id, the control plane's URL, the one-use bootstrap token (ChannelAccess::bootstrap_token).
inline constexpr char kTaskEnvRunId[] = "OUTPOST_RUN_ID";
inline constexpr char kTaskEnvChannelUrl[] = "OUTPOST_CHANNEL_URL";
inline constexpr char kTaskEnvBootstrapToken[] = "OUTPOST_BOOTSTRAP_TOKEN";

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
  // Set by core for every attempt it starts (Supervisor::Launch).
  std::optional<ChannelAccess> channel;
  // Which runner runs it (the agent's, Options::RunnerFor): a RunnerRouter (runner_router.h)
  // starts it there; a single runner ignores it.
  std::optional<RunnerKind> runner;
  // A container runner's image (Options::ImageFor); "" = the runner's default. Others ignore it.
  std::string image;
  // The check command (the dispatch's `verify`): `/bin/sh -c` of it, run by the supervisor
  // after the agent (when it exited by itself) and before the changes are collected, in the
  // same sandbox, as the agent, in the workspace, with its env and limits, within what is left
  // of the total deadline; how it ended is ExitRecord::verification. nullopt: none.
  std::optional<std::string> verify;
  // The run's agent and tenant, for a runner that names or tags the run's task by them (the ecs
  // runner: task definition outpost-{env}-{agent}, tags agent and tenant). Not in the JSON form
  // below (the task does not need them); others ignore them.
  std::string agent = {};
  std::string tenant = {};
};

// The one JSON form of a RunSpec: the body of the run channel's GET …/spec (core/run_channel.h),
// which a container's `outpost task` (runner/task/task.h) runs from. Every field is written
// (nullopt as null), secret values included (env, redact, repo.git_token, channel.token): a
// secret document, never logged or stored. RunSpecFromJson reads what RunSpecToJson wrote and
// refuses anything else — an unknown, missing or mistyped field — with kInvalidArgument naming
// the field ("run spec: limits.memory_bytes: must be an integer or null").
boost::json::object RunSpecToJson(const RunSpec& spec);
Result<RunSpec> RunSpecFromJson(const boost::json::object& o);

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
  // What the agent changed (the shim's changes.json, workspace/collect.h), when a supervisor
  // that shares no files with the control plane reports it with its exit (run channel 1.1:
  // `outpost task` of a run whose outputs go over the channel). nullopt otherwise.
  std::optional<boost::json::object> changes;
  // How RunSpec::verify ended; nullopt when the run had none or it did not run (the agent was
  // stopped, or never started).
  std::optional<Verification> verification;
};

// The one JSON form of an exit record: the shim's exit.json (RunDir) and the body of the run
// channel's POST …/exit (core/run_channel.h). ExitRecordFromJson reads what ExitRecordToJson
// wrote, ignores fields it does not know (written by a newer version) and refuses a record
// without a known outcome or ended_at (kInvalidArgument naming the field, prefixed `where`).
boost::json::object ExitRecordToJson(const ExitRecord& rec);
Result<ExitRecord> ExitRecordFromJson(const boost::json::object& o, std::string_view where);

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
  std::string message = {};        // with kLost: why, when the runner knows ("" otherwise)
};

// How far a running run got, as its supervisor reports it.
struct RunProgress {
  int turns = 0;            // the agent's assistant messages so far
  bool collecting = false;  // the agent is done; its changes are being collected
  // The usage the agent's output reported so far (its parser's live view, AgentResult): tokens,
  // and its own cost figure when it gave one (claude's total_cost_usd, in its last line).
  bool has_usage = false;
  TokenUsage usage;
  std::optional<double> cost_usd;
};

// What a run leaves behind for the control plane to read: its output, its event stream and
// the files of its result.
enum class RunOutput {
  kStdout,   // the agent's stdout (redacted, capped)
  kStderr,   // its stderr
  kEvents,   // the event stream as JSON lines, one event a line (runner/event_log.h)
  kContext,  // the context prepended to the task
  kDiff,     // diff.patch
  kBundle,   // changes.bundle
};

// A subscription to a run's new events (RunOutputs::WatchEvents). Destroying it ends it: once
// the destructor has returned, its callback is never called again. Must not outlive the runner.
class EventWatch {
 public:
  virtual ~EventWatch() = default;
};

// The events and outputs of runs, for the readers of logs, events and artifacts. Core reads a
// run's story only through these methods (it never learns where the runner keeps it: a run
// directory on this machine, or — for a container — what the run's supervisor reported over the
// run channel, ARCHITECTURE.md §8).
//
// Like every method of the Runner, valid for runs started by an earlier control-plane process
// (what its shim wrote reads the same), and for ids the runner never saw: then there is
// nothing (ReadEvents: no events, not ended; OpenOutput: kNotFound).
class RunOutputs {
 public:
  virtual ~RunOutputs() = default;

  // The run's events with seq > `after` that are there now, oldest first: about `max_bytes` of
  // them (of their json), and at least one when any is there. Never waits for more (see
  // WatchEvents). The stream grows while the run goes on; an event once returned is returned
  // the same (seq, type, bytes) by every later call, also after a control-plane restart. The
  // control plane copies it into the shared event log with the same seqs (core/event_pump.h)
  // and appends the terminal `status` and `end` there (core/run_events.h), not here; ended says
  // that an `end` was read (a journal of an older server's run may hold one). Blocks on the file
  // system only: cost O(log size + returned) for a local run. Errors: kInvalidArgument (after < 0),
  // kInternal (I/O).
  virtual Result<EventBatch> ReadEvents(const RunId& id, std::int64_t after,
                                        std::size_t max_bytes) = 0;

  // Calls `wake` (on a thread of the runner's, quickly: it must not call back into the runner)
  // whenever the run's events may have grown. A hint: it may be spurious, several appends may
  // wake it once, so the subscriber reads with ReadEvents and never counts wakes. kNotFound
  // while the run has no stream yet (not started: subscribe again later); kUnavailable when
  // this runner cannot notify (then poll). Blocks briefly (a watch on the file system).
  virtual Result<std::unique_ptr<EventWatch>> WatchEvents(const RunId& id,
                                                          std::function<void()> wake) = 0;

  // One output of the run, to read (and store as an artifact). Opened now: its size is fixed
  // at the open, later growth is not part of it. kNotFound when the run has none (never made,
  // or not yet: ask after the run ended). kInternal (I/O). Blocks on opening it (a local file;
  // a container runner's may be a fetch).
  virtual Result<std::unique_ptr<ByteSource>> OpenOutput(const RunId& id, RunOutput what) = 0;
};

class Runner : public RunOutputs {
 public:
  ~Runner() override = default;
  virtual RunnerKind kind() const = 0;
  // Whether a run goes on (and can be supervised from another machine) when this machine goes
  // away. Local runners: false (a run's shim lives here; a draining replica keeps its lease and
  // waits). A runner answering true has its runs' leases handed to another replica on drain.
  virtual bool RunsOutliveMachine() const { return false; }
  // Whether the run's supervisor reports its events over the run channel itself (a container's
  // `outpost task`, ARCHITECTURE.md §8): core's EventPump does not follow such a run while it
  // runs (the channel appends to the shared log), and copies at its end only the seqs the log
  // does not have yet (ReadEvents still serves the run's journal). Per run: a RunnerRouter
  // answers for the runner that holds it.
  virtual bool ReportsOverChannel(const RunId& /*id*/) { return false; }
  // Whether the run's supervisor also delivers its outputs over the run channel (stdout,
  // stderr, context, diff, bundle, its changes and progress: a task that shares no files with
  // this machine, on a remote Docker daemon or ECS): the runner keeps none of them (its
  // RunOutputs, Started, Progress and ChangesOf answer nothing) and core reads them where the
  // channel stored them. Implies ReportsOverChannel. Per run, like it.
  virtual bool OutputsOverChannel(const RunId& /*id*/) { return false; }

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
