// The shim's sandbox chores around the agent, kept out of the event loop: directories and
// ownership, the cgroup's limits, the disk quota check, the network proxy hook.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runner/netproxy/proxy.h"
#include "runner/run_dir.h"
#include "runner/sandbox/cgroup.h"
#include "workspace/git.h"

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

// Audit F5: the run's own file system (sandbox/disk_image.h). Claims an image of
// spec.sandbox.disk_bytes from spec.sandbox.image_pool, mounts it at RunDiskDir(dir), makes
// workspace/ and home/ on it and binds them at spec.workspace and spec.sandbox.home. Returns
// whether the image had to be formatted now (none was free). On error nothing stays mounted.
Result<bool> MountRunDisk(const LaunchSpec& spec, const RunDir& dir);
// Undoes MountRunDisk: unmounts the binds and the image and releases the image to the pool to
// be wiped. The workspace and home are gone after it. Ok when nothing is mounted.
Status ReleaseRunDisk(const LaunchSpec& spec, const RunDir& dir);
std::string RunDiskDir(const RunDir& dir);

// When the run is over its disk limit: the disk_quota message with the figures. With the run's
// own file system (MountRunDisk): when it is full (less than 1 MiB or no inode left); without,
// when a walk of workspace + home counts more than spec.sandbox.disk_bytes. nullopt when under
// (or no quota).
std::optional<std::string> DiskOverQuota(const LaunchSpec& spec, const RunDir& dir);

// Audit F14: the git of a run's change collection, bounded. Every git joins `cgroup` (when
// given: the run's own, empty by then — its memory and pids limits) as soon as it is spawned,
// may write no file larger than max_bytes (RLIMIT_FSIZE), has its stdout capped at max_bytes and
// gets what is left of the budget until `deadline`. failure() then says which bound was met:
// "timeout", "too_large", "oom"; "" for none (git's own errors are the caller's).
class BoundedGit : public workspace::GitExec {
 public:
  BoundedGit(const sandbox::Cgroup* cgroup, std::chrono::steady_clock::time_point deadline,
             std::int64_t max_bytes)
      : cgroup_(cgroup), deadline_(deadline), max_bytes_(max_bytes) {}
  Result<workspace::GitOutput> Run(const workspace::GitCommand& cmd) override;
  const std::string& failure() const { return failure_; }

 private:
  const sandbox::Cgroup* cgroup_;
  std::chrono::steady_clock::time_point deadline_;
  std::int64_t max_bytes_;
  std::string failure_;
};

// Container mode (ContainerSpec): the agent's argv — for allowlist, wrapped in
// `<outpost_exe> sandbox-forward --listen 127.0.0.1:3128 --socket <proxy_socket> --` as the
// sandbox does — and its whole environment: spec.env with HOME, PWD, OUTPOST_RUN_ID and, for
// allowlist, the HTTP(S)_PROXY / NO_PROXY variables the sandbox sets.
std::vector<std::string> ContainerArgv(const LaunchSpec& spec);
std::vector<std::string> ContainerEnv(const LaunchSpec& spec);

// The blocked-attempts log of a run's proxy (one JSON line per refused connection).
std::string BlockedLogPath(const RunDir& dir);

// Starts the allowlist HTTP(S) proxy on sandbox::ProxySocketPath(run dir), admitting
// spec.sandbox.allow, recording every refusal in BlockedLogPath(dir). The caller keeps it
// alive while the agent runs. kInvalidArgument for a malformed allowlist pattern.
Result<std::unique_ptr<netproxy::EgressProxy>> StartNetworkProxy(const LaunchSpec& spec,
                                                                 const RunDir& dir);

}  // namespace outpost::shim
