#include "runner/shim/sandbox_prep.h"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>

#include "common/files.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/disk_image.h"
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

std::string RunDiskDir(const RunDir& dir) { return dir.File("disk"); }

Result<bool> MountRunDisk(const LaunchSpec& spec, const RunDir& dir) {
  const SandboxSpec& s = spec.sandbox;
  if (s.image_pool.empty() || !s.disk_bytes) return InvalidArgument("no image pool or disk limit");
  sandbox::ImagePool pool(s.image_pool);
  // Whole MiBs (mkfs's unit is 1 KiB blocks; a limit is GiBs in production).
  const std::int64_t bytes = (*s.disk_bytes + (1 << 20) - 1) / (1 << 20) * (1 << 20);
  Result<sandbox::ImagePool::Claimed> image = pool.Claim(spec.run_id, bytes);
  if (!image.ok()) return image.status();
  const std::string disk = RunDiskDir(dir);
  Status st = MakeDirs(disk, 0700);
  if (st.ok()) st = sandbox::MountImage(image->path, disk);
  if (!st.ok()) {
    (void)pool.Release(spec.run_id);
    return st;
  }
  if (::chmod(disk.c_str(), 0700) != 0)
    st = Internal("chmod " + disk + ": " + std::strerror(errno));
  const std::pair<std::string, std::string> binds[] = {{"workspace", spec.workspace},
                                                       {"home", s.home}};
  for (const auto& [sub, target] : binds) {
    if (!st.ok()) break;
    st = MakeDirs(disk + "/" + sub, 0700);
    if (st.ok()) st = MakeDirs(target, 0700);
    if (st.ok() && ::mount((disk + "/" + sub).c_str(), target.c_str(), nullptr,
                           MS_BIND | MS_NOSUID | MS_NODEV, nullptr) != 0) {
      st = Internal("bind " + target + ": " + std::strerror(errno));
    }
  }
  if (!st.ok()) {
    (void)ReleaseRunDisk(spec, dir);
    return st;
  }
  return image->fresh;
}

Status ReleaseRunDisk(const LaunchSpec& spec, const RunDir& dir) {
  Status first = Status::Ok();
  for (const std::string& path : {spec.workspace, spec.sandbox.home, RunDiskDir(dir)}) {
    if (path.empty() || !sandbox::IsMountPoint(path)) continue;
    if (Status st = sandbox::Unmount(path); !st.ok() && first.ok()) first = st;
  }
  if (!first.ok()) return first;  // an image still mounted is not handed back
  // The mount points, empty now: nothing of the run's file system stays (issue 18 item 10).
  for (const std::string& path : {spec.workspace, spec.sandbox.home, RunDiskDir(dir)}) {
    if (!path.empty()) ::rmdir(path.c_str());
  }
  if (spec.sandbox.image_pool.empty()) return Status::Ok();
  return sandbox::ImagePool(spec.sandbox.image_pool).Release(spec.run_id);
}

std::optional<std::string> DiskOverQuota(const LaunchSpec& spec, const RunDir& dir) {
  if (!spec.sandbox.disk_bytes) return std::nullopt;
  if (const std::string disk = RunDiskDir(dir); sandbox::IsMountPoint(disk)) {
    struct statvfs fs;
    if (::statvfs(disk.c_str(), &fs) != 0) return std::nullopt;
    const std::int64_t unit = static_cast<std::int64_t>(fs.f_frsize);
    const std::int64_t avail = static_cast<std::int64_t>(fs.f_bavail) * unit;
    if (avail >= (1 << 20) && fs.f_favail > 0) return std::nullopt;
    const std::int64_t used = static_cast<std::int64_t>(fs.f_blocks - fs.f_bfree) * unit;
    return "disk quota exceeded: the run's file system (workspace + home) of " +
           std::to_string(*spec.sandbox.disk_bytes) + " bytes is full (" + std::to_string(used) +
           " bytes, " + std::to_string(fs.f_files - fs.f_ffree) + " of " +
           std::to_string(fs.f_files) + " inodes used)";
  }
  const std::int64_t ws = sandbox::DiskUsage(spec.workspace);
  const std::int64_t home = sandbox::DiskUsage(spec.sandbox.home);
  if (ws + home <= *spec.sandbox.disk_bytes) return std::nullopt;
  return "disk quota exceeded: " + std::to_string(ws + home) + " bytes used (workspace " +
         std::to_string(ws) + " + home " + std::to_string(home) + ") > limit " +
         std::to_string(*spec.sandbox.disk_bytes) + " bytes";
}

std::vector<std::string> ContainerArgv(const LaunchSpec& spec) {
  std::vector<std::string> a;
  if (spec.container.network == "allowlist") {
    a = {spec.container.outpost_exe,
         "sandbox-forward",
         "--listen",
         sandbox::kProxyListen,
         "--socket",
         spec.container.proxy_socket,
         "--"};
  }
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

std::vector<std::string> ContainerEnv(const LaunchSpec& spec) {
  std::map<std::string, std::string> env = spec.env;
  env["HOME"] = spec.container.home;
  env["PWD"] = spec.workspace;
  env["OUTPOST_RUN_ID"] = spec.run_id;
  if (spec.container.network == "allowlist") {
    for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
      env[k] = sandbox::kProxyUrl;
    }
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1";
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

Result<workspace::GitOutput> BoundedGit::Run(const workspace::GitCommand& cmd) {
  using std::chrono::steady_clock;
  const auto left = std::chrono::ceil<std::chrono::seconds>(deadline_ - steady_clock::now());
  const std::string budget = " (the change collection's budget: [limits] collect_timeout_seconds)";
  if (left.count() <= 0) {
    failure_ = "timeout";
    return Unavailable("out of time" + budget);
  }
  workspace::SpawnGitExec git(left);
  git.on_start = [this](int pid) {
    if (cgroup_) (void)cgroup_->AddPid(pid);
    const rlimit fsize{static_cast<rlim_t>(max_bytes_), static_cast<rlim_t>(max_bytes_)};
    (void)::prlimit(pid, RLIMIT_FSIZE, &fsize, nullptr);
  };
  workspace::GitCommand bounded = cmd;
  const std::size_t cap = static_cast<std::size_t>(max_bytes_);
  const bool capped_here = bounded.max_out == 0 || bounded.max_out > cap;
  if (capped_here) bounded.max_out = cap;
  Result<workspace::GitOutput> out = git.Run(bounded);
  const std::string size =
      " (over " + std::to_string(max_bytes_) + " bytes: [limits] collect_max_bytes)";
  if (!out.ok()) {
    if (steady_clock::now() >= deadline_) {
      failure_ = "timeout";
      return Unavailable(out.status().message() + budget);
    }
    return out;
  }
  if (out->truncated && capped_here) {
    failure_ = "too_large";
    return Status(Code::kResourceExhausted, "git's output" + size);
  }
  if (out->term_signal == SIGXFSZ) {
    failure_ = "too_large";
    return Status(Code::kResourceExhausted, "git wrote a file" + size);
  }
  if (out->term_signal == SIGKILL && cgroup_ && cgroup_->OomKilled()) {
    failure_ = "oom";
    return Status(Code::kResourceExhausted, "git was killed at the run's memory limit");
  }
  return out;
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
