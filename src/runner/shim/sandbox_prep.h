// The shim's sandbox chores around the agent, kept out of the event loop: directories and
// ownership, the cgroup's limits, the disk quota check, the network proxy hook.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "runner/netproxy/proxy.h"
#include "runner/run_dir.h"
#include "runner/sandbox/cgroup.h"

namespace outpost::shim {

// Fills the defaults of a sandbox spec: home <run-dir>/home; the cgroup is always
// "outpost/<run id>" (audit F3: never another name from spec.json).
void DefaultSandboxPaths(LaunchSpec& spec, const RunDir& dir);

// Makes the run dir traversable by the sandbox uid (0711: bwrap, running as that uid, must
// reach the workspace and home below it, but may not list it) and creates the workspace and
// home 0700, owned by uid:gid. kInvalidArgument for uid/gid 0 (a root sandbox is no sandbox),
// kInternal when a directory cannot be made or chowned.
Status PrepareSandboxDirs(const LaunchSpec& spec, const RunDir& dir);

// lchown of every entry under root (root included), not following symlinks: the clone ran
// as root and its files must belong to the agent. kInternal on the first failure.
Status ChownTree(const std::string& root, int uid, int gid);

sandbox::CgroupLimits LimitsOf(const SandboxSpec& s);

// When workspace + home use more than spec.sandbox.disk_bytes: the disk_quota message with
// the figures. nullopt when under (or no quota).
std::optional<std::string> DiskOverQuota(const LaunchSpec& spec);

// The blocked-attempts log of a run's proxy (one JSON line per refused connection).
std::string BlockedLogPath(const RunDir& dir);

// Starts the allowlist HTTP(S) proxy on sandbox::ProxySocketPath(run dir), admitting
// spec.sandbox.allow, recording every refusal in BlockedLogPath(dir). The caller keeps it
// alive while the agent runs. kInvalidArgument for a malformed allowlist pattern.
Result<std::unique_ptr<netproxy::EgressProxy>> StartNetworkProxy(const LaunchSpec& spec,
                                                                 const RunDir& dir);

}  // namespace outpost::shim
