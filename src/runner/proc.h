// Process utilities over /proc (Linux only): identity that survives pid reuse, process trees,
// which run a process belongs to, and a kill that verifies nothing is left.
//
// All functions are thread-safe (they hold no state) and never throw. A process that vanishes
// while it is being inspected is simply treated as gone. Zombies are never listed: they are
// dead already, and only their parent can remove them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "runner/run_dir.h"

namespace outpost::proc {

// The fields of /proc/<pid>/stat that we use.
struct StatInfo {
  char state = '?';  // R, S, D, Z, T, ...
  int ppid = 0;
  std::uint64_t start_time = 0;  // field 22: clock ticks since boot
};

// Parses the content of /proc/<pid>/stat. The command name (field 2) may contain spaces and
// parentheses, so fields are counted after the last ')'. nullopt when malformed.
std::optional<StatInfo> ParseStat(std::string_view stat);

// nullopt when the process does not exist (or /proc cannot be read).
std::optional<StatInfo> ReadStat(int pid);
std::optional<std::uint64_t> StartTime(int pid);
std::optional<int> ParentOf(int pid);

// The pid of `pid` in the innermost pid namespace it belongs to (the last NSpid field of
// /proc/<pid>/status): 1 for a sandbox's init, 2 for the command bwrap started. nullopt when
// the process is gone.
std::optional<int> InnermostNsPid(int pid);

// The variable every process of a run carries in its environment (its value: the run id), set
// by the shim and the sandbox. The unisolated `process` runner finds a run's strays by it; a
// sandboxed process can set it to anything, so it is never trusted from one (audit F3).
inline constexpr std::string_view kRunIdVariable = "OUTPOST_RUN_ID";

// Every live (non-zombie) transitive descendant of root_pid, from one scan of /proc.
std::vector<int> Descendants(int root_pid);

// Every live process whose initial environment contains exactly the entry `marker`
// (e.g. "OUTPOST_RUN_ID=01J..."). Only processes we may read (same uid) are seen.
std::vector<int> FindByEnvMarker(std::string_view marker);

// True when info.pid exists, is not a zombie and has the recorded start time (so a recycled
// pid is not mistaken for the shim).
bool IsAlive(const ShimInfo& info);

struct KillHooks {
  // Called for every listed process that turned out to be our child and was reaped here.
  std::function<void(int pid, int wait_status)> on_reap;
  // Waits between scans; defaults to sleeping on the clock. The shim uses it to keep pumping
  // output.
  std::function<void(Millis)> wait;
};

// Stops every process `list` returns: SIGTERM to each, then up to grace_ms for them to go
// (re-listing, SIGTERM to newcomers, reaping our own children), then SIGKILL in a loop —
// re-list and kill until the list is empty — so a process that forks between a scan and the
// kill is still caught. Returns how many distinct processes were signalled. Gives up after
// kHardLimit of SIGKILL rounds (an unkillable process, e.g. stuck in D state); callers that
// need certainty re-check the list. Blocks the calling thread. `clock` measures the grace and
// the limit and is slept on between scans (unless hooks.wait is set, which then must let it
// advance).
int KillAndVerify(const std::function<std::vector<int>()>& list, int grace_ms, Clock& clock,
                  const KillHooks& hooks = {});

inline constexpr Millis kHardLimit{30'000};

// The run a process belongs to by its cgroup: `<id>` when one of the paths in /proc/<pid>/cgroup
// has the segments `outpost/<id>` with <id> a ULID. Only root moves a process between cgroups,
// so a sandboxed process cannot forge this. nullopt when it is in no such group.
std::optional<std::string> RunOfCgroup(std::string_view proc_pid_cgroup);

// Live processes that belong to runs, by run id (always a ULID: anything else is ignored), from
// one scan of /proc (audit F3):
//  - every member of a cgroup `outpost/<ULID>` (the sandbox runner's agents), by membership;
//  - processes outside every `outpost/` cgroup running as our own uid (never a sandbox uid):
//    shims of run dirs under `runs_dir` (argv `<exe> shim <runs_dir>/<ULID>`), and with
//    `env_markers` (the unisolated process runner, whose agents run as our uid anyway) every
//    process carrying an OUTPOST_RUN_ID=<ULID> marker.
std::map<std::string, std::vector<int>> RunProcesses(std::string_view runs_dir,
                                                     bool env_markers = true);

// The real uids in [lo, hi] of live (non-zombie) processes, from one scan of /proc.
std::set<int> UidsInUse(int lo, int hi);

}  // namespace outpost::proc
