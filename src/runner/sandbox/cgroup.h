// Cgroup: one run's control group — limits, membership, freezing, a verified kill, and the
// figures read back afterwards (OOM kills, peak memory).
//
// Two layouts are supported, detected from `root` (normally /sys/fs/cgroup):
//   v1  one hierarchy per controller (root/memory, root/pids, root/cpu, root/freezer); the
//       group is a directory `name` in each of them (cpu only when mounted).
//   v2  a unified tree (root/cgroup.controllers exists); the group is root/`name`, and
//       +memory +pids +cpu are enabled in the subtree_control of every ancestor.
// `name` is a relative path such as "outpost/<runId>": groups live under the hierarchy root's
// "outpost" directory, never under the caller's own cgroup (which may itself be limited).
//
// A Cgroup is a handle (the paths): copying it does not copy the group, destroying it does
// not remove it — Remove() does. Not thread-safe; the shim uses it from its one thread.
// Errors: kFailedPrecondition when the layout or a needed controller is missing (the machine
// cannot sandbox), kInternal when a cgroup file cannot be written, kUnavailable when the
// group did not freeze or drain in time (retry).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::sandbox {

struct CgroupLimits {
  std::optional<std::int64_t> memory_bytes;  // hard limit; swap is disallowed where possible
  std::optional<int> pids_max;
  std::optional<int> cpu_millicores;  // CFS quota over a 100 ms period
};

struct KillOptions {
  // Waits between polls; defaults to sleeping. The shim keeps pumping output and reaping here.
  std::function<void(Millis)> wait;
  // Pids spared the SIGTERM of the polite phase (they still get SIGKILL): the shim's direct
  // bwrap child, whose death would take the whole sandbox down at once and void the grace.
  std::set<int> no_sigterm;
  // When set, receives every pid that was sent a signal.
  std::set<int>* signalled = nullptr;
};

class Cgroup {
 public:
  // Makes the group (parents as needed; an existing group is reused) and writes the limits.
  static Result<Cgroup> Create(const std::string& name, const CgroupLimits& limits,
                               std::string root = "/sys/fs/cgroup");
  // A handle on an existing group (for cleanup after a shim died); kNotFound when absent.
  static Result<Cgroup> Open(const std::string& name, std::string root = "/sys/fs/cgroup");

  const std::string& version() const { return version_; }  // "v1" | "v2"
  // The group's directories (one per v1 hierarchy, or the single v2 one).
  const std::vector<std::string>& dirs() const { return dirs_; }

  // Moves `pid` (0 = the calling process) into the group, in every hierarchy. Allocates only
  // on failure, so a forked child of a single-threaded parent may call it before exec.
  Status AddPid(int pid) const;
  // Live members, from cgroup.procs (the union over hierarchies), sorted.
  std::vector<int> Pids() const;
  // Freeze waits (up to ~1 s of `clock`) until the kernel reports the group frozen.
  Status Freeze(Clock& clock, const std::function<void(Millis)>& wait = {}) const;
  Status Thaw() const;

  // The verified kill: freeze, SIGTERM every member, thaw; wait up to grace_ms for the group
  // to empty; then {freeze, SIGKILL every member, thaw} until Pids() is empty. Returns how
  // many distinct pids were signalled. Loops until empty: the caller gets control back only
  // with an empty group (a process stuck in D state keeps it here, logged by the caller).
  int KillAll(int grace_ms, Clock& clock, const KillOptions& opts = {}) const;

  // Whether the kernel OOM-killed a member (v1 memory.oom_control / v2 memory.events).
  bool OomKilled() const;
  // High-water mark of memory use; nullopt when the kernel does not report one.
  std::optional<std::int64_t> PeakMemory() const;
  // rmdir of every directory, retrying for ~2 s while the kernel drains it. kNotFound-free:
  // an already removed directory counts as removed.
  Status Remove(Clock& clock) const;

 private:
  Cgroup(std::string version, std::vector<std::string> dirs, std::string memory_dir,
         std::string freezer_dir);
  std::string version_;
  std::vector<std::string> dirs_;
  std::string memory_dir_;   // where memory.* lives
  std::string freezer_dir_;  // v1 freezer.state / v2 cgroup.freeze
};

// Which layout Create would use under `root`: "v2" (cgroup.controllers with memory and pids),
// "v1" (separate memory, pids and freezer hierarchies), or "" when neither is usable.
std::string DetectCgroupVersion(const std::string& root = "/sys/fs/cgroup");

}  // namespace outpost::sandbox
