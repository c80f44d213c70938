#include "runner/shim/sandbox_prep.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/disk_usage.h"

namespace outpost::shim {
namespace {

Status OwnedDir(const std::string& path, int uid, int gid) {
  OUTPOST_RETURN_IF_ERROR(MakeDirs(path, 0700));
  if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), 0700) != 0) {
    return Internal("chown " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

void DefaultSandboxPaths(LaunchSpec& spec, const RunDir& dir) {
  if (spec.sandbox.home.empty()) spec.sandbox.home = dir.File("home");
  // Audit F3: the group is always outpost/<run id>, whatever the file says, so that the group
  // the shim makes is the one the reaper kills.
  spec.sandbox.cgroup_name = "outpost/" + spec.run_id;
}

Status PrepareSandboxDirs(const LaunchSpec& spec, const RunDir& dir) {
  const SandboxSpec& s = spec.sandbox;
  if (s.uid <= 0 || s.gid <= 0) {
    return InvalidArgument("sandbox uid/gid must be unprivileged, got " + std::to_string(s.uid) +
                           ":" + std::to_string(s.gid));
  }
  if (::chmod(dir.path().c_str(), 0711) != 0) {
    return Internal("chmod " + dir.path() + ": " + std::strerror(errno));
  }
  OUTPOST_RETURN_IF_ERROR(OwnedDir(spec.workspace, s.uid, s.gid));
  return OwnedDir(s.home, s.uid, s.gid);
}

Status ChownTree(const std::string& root, int uid, int gid) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (::lchown(root.c_str(), uid, gid) != 0) {
    return Internal("chown " + root + ": " + std::strerror(errno));
  }
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return Internal("chown " + it->path().string() + ": " + std::strerror(errno));
    }
  }
  if (ec) return Internal("walk " + root + ": " + ec.message());
  return Status::Ok();
}

sandbox::CgroupLimits LimitsOf(const SandboxSpec& s) {
  return {s.memory_bytes, s.pids_max > 0 ? std::optional<int>(s.pids_max) : std::nullopt,
          s.cpu_millicores};
}

std::optional<std::string> DiskOverQuota(const LaunchSpec& spec) {
  if (!spec.sandbox.disk_bytes) return std::nullopt;
  const std::int64_t ws = sandbox::DiskUsage(spec.workspace);
  const std::int64_t home = sandbox::DiskUsage(spec.sandbox.home);
  if (ws + home <= *spec.sandbox.disk_bytes) return std::nullopt;
  return "disk quota exceeded: " + std::to_string(ws + home) + " bytes used (workspace " +
         std::to_string(ws) + " + home " + std::to_string(home) + ") > limit " +
         std::to_string(*spec.sandbox.disk_bytes) + " bytes";
}

std::string BlockedLogPath(const RunDir& dir) { return dir.File("network-blocked.jsonl"); }

Result<std::unique_ptr<netproxy::EgressProxy>> StartNetworkProxy(const LaunchSpec& spec,
                                                                 const RunDir& dir) {
  auto allow = netproxy::Allowlist::Create(spec.sandbox.allow);
  if (!allow.ok()) return allow.status();
  auto log = netproxy::BlockedLog::Open(BlockedLogPath(dir));
  if (!log.ok()) return log.status();
  // Shared: connection threads may still record while the proxy is being stopped.
  std::shared_ptr<netproxy::BlockedLog> sink = std::move(*log);
  return netproxy::EgressProxy::Start(
      sandbox::ProxySocketPath(dir.path()), std::move(*allow),
      [sink](const netproxy::BlockedAttempt& a) { (void)sink->Append(a); });
}

}  // namespace outpost::shim
