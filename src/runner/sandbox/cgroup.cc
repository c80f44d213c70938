#include "runner/sandbox/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <sstream>

#include "common/files.h"
#include "runner/sandbox/cgroup_files.h"

// Making groups and writing limits. Every file is written with one write(2): the kernel
// parses each write on its own. Freezing, killing and reading back are in cgroup_kill.cc.
namespace outpost::sandbox {
namespace {

const char* const kV2Controllers[] = {"memory", "pids", "cpu"};

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

// Makes dir and its missing parents (cgroupfs gives each new directory its interface files).
Status MkdirAll(const std::string& base, const std::string& rel) {
  std::string cur = base;
  std::istringstream parts(rel);
  std::string part;
  while (std::getline(parts, part, '/')) {
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return Internal("mkdir " + cur + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

// v2: lets every level from root down to name's parent hand +memory +pids +cpu to its
// children (only those the level has), then makes the group.
Status MakeV2(const std::string& root, const std::string& name) {
  std::string cur = root;
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    Result<std::string> avail = ReadFile(cur + "/cgroup.controllers");
    std::istringstream words(avail.ok() ? *avail : "");
    std::string w, enable;
    while (words >> w) {
      if (std::find(std::begin(kV2Controllers), std::end(kV2Controllers), w) !=
          std::end(kV2Controllers)) {
        enable += (enable.empty() ? "+" : " +") + w;
      }
    }
    if (!enable.empty())
      OUTPOST_RETURN_IF_ERROR(cgfs::Write(cur + "/cgroup.subtree_control", enable));
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return Internal("mkdir " + cur + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

bool HasController(const std::string& root, std::string_view ctrl) {
  Result<std::string> avail = ReadFile(root + "/cgroup.controllers");
  if (!avail.ok()) return false;
  std::istringstream words(*avail);
  std::string w;
  while (words >> w) {
    if (w == ctrl) return true;
  }
  return false;
}

Status WriteLimitsV1(const std::string& root, const std::string& name, const CgroupLimits& l) {
  const std::string mem = root + "/memory/" + name;
  if (l.memory_bytes) {
    const std::string v = std::to_string(*l.memory_bytes);
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(mem + "/memory.limit_in_bytes", v));
    // memsw >= limit must hold, so it comes second; equal means no swap at all.
    if (FileExists(mem + "/memory.memsw.limit_in_bytes")) {
      OUTPOST_RETURN_IF_ERROR(cgfs::Write(mem + "/memory.memsw.limit_in_bytes", v));
    }
  }
  if (l.pids_max) {
    OUTPOST_RETURN_IF_ERROR(
        cgfs::Write(root + "/pids/" + name + "/pids.max", std::to_string(*l.pids_max)));
  }
  if (l.cpu_millicores) {
    const std::string cpu = root + "/cpu/" + name;
    if (!IsDir(cpu)) return FailedPrecondition("cgroup v1 cpu controller is not mounted");
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(cpu + "/cpu.cfs_period_us", "100000"));
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(cpu + "/cpu.cfs_quota_us",
                                        std::to_string(std::max(1000, *l.cpu_millicores * 100))));
  }
  return Status::Ok();
}

Status WriteLimitsV2(const std::string& dir, const CgroupLimits& l) {
  if (l.memory_bytes) {
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(dir + "/memory.max", std::to_string(*l.memory_bytes)));
    if (FileExists(dir + "/memory.swap.max")) {
      OUTPOST_RETURN_IF_ERROR(cgfs::Write(dir + "/memory.swap.max", "0"));
    }
  }
  if (l.pids_max)
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(dir + "/pids.max", std::to_string(*l.pids_max)));
  if (l.cpu_millicores) {
    const std::string quota = std::to_string(std::max(1000, *l.cpu_millicores * 100));
    OUTPOST_RETURN_IF_ERROR(cgfs::Write(dir + "/cpu.max", quota + " 100000"));
  }
  return Status::Ok();
}

}  // namespace

Cgroup::Cgroup(std::string version, std::vector<std::string> dirs, std::string memory_dir,
               std::string freezer_dir)
    : version_(std::move(version)),
      dirs_(std::move(dirs)),
      memory_dir_(std::move(memory_dir)),
      freezer_dir_(std::move(freezer_dir)) {}

Result<Cgroup> Cgroup::Open(const std::string& name, std::string root) {
  if (!ValidName(name)) return InvalidArgument("bad cgroup name: " + name);
  if (FileExists(root + "/cgroup.controllers")) {
    const std::string dir = root + "/" + name;
    if (!IsDir(dir)) return NotFound("no cgroup " + dir);
    return Cgroup("v2", {dir}, dir, dir);
  }
  for (const char* ctrl : {"memory", "pids", "freezer"}) {
    if (!IsDir(root + "/" + ctrl)) {
      return FailedPrecondition(std::string("no cgroup v2 tree and no v1 ") + ctrl +
                                " hierarchy under " + root);
    }
  }
  std::vector<std::string> dirs;
  for (const char* ctrl : {"memory", "pids", "freezer", "cpu"}) {
    if (IsDir(root + "/" + ctrl)) dirs.push_back(root + "/" + ctrl + "/" + name);
  }
  if (!IsDir(dirs[0])) return NotFound("no cgroup " + dirs[0]);
  return Cgroup("v1", dirs, dirs[0], dirs[2]);
}

Result<Cgroup> Cgroup::Create(const std::string& name, const CgroupLimits& limits,
                              std::string root) {
  if (!ValidName(name)) return InvalidArgument("bad cgroup name: " + name);
  if (FileExists(root + "/cgroup.controllers")) {
    for (const char* ctrl : {"memory", "pids"}) {
      if (!HasController(root, ctrl)) {
        return FailedPrecondition(std::string("cgroup v2 has no ") + ctrl + " controller");
      }
    }
    OUTPOST_RETURN_IF_ERROR(MakeV2(root, name));
    OUTPOST_RETURN_IF_ERROR(WriteLimitsV2(root + "/" + name, limits));
    return Open(name, root);
  }
  for (const char* ctrl : {"memory", "pids", "freezer", "cpu"}) {
    if (IsDir(root + "/" + ctrl)) OUTPOST_RETURN_IF_ERROR(MkdirAll(root + "/" + ctrl, name));
  }
  Result<Cgroup> cg = Open(name, root);
  if (!cg.ok()) return cg.status();
  OUTPOST_RETURN_IF_ERROR(WriteLimitsV1(root, name, limits));
  return cg;
}

Status Cgroup::AddPid(int pid) const {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, pid);
  for (const std::string& dir : dirs_) {
    // Built without allocating: the path lives in the member strings.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = dfd < 0 ? -1 : ::openat(dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : ::write(fd, buf, static_cast<std::size_t>(end - buf));
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (dfd >= 0) ::close(dfd);
    if (n != end - buf) {
      return Internal("add pid to " + dir + "/cgroup.procs: " + std::strerror(err));
    }
  }
  (void)ec;
  return Status::Ok();
}

std::vector<int> Cgroup::Pids() const {
  std::vector<int> pids;
  for (const std::string& dir : dirs_) {
    Result<std::string> text = ReadFile(dir + "/cgroup.procs");
    if (!text.ok()) continue;
    std::istringstream in(*text);
    int pid = 0;
    while (in >> pid) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

std::string DetectCgroupVersion(const std::string& root) {
  if (FileExists(root + "/cgroup.controllers")) {
    return HasController(root, "memory") && HasController(root, "pids") ? "v2" : "";
  }
  for (const char* ctrl : {"memory", "pids", "freezer"}) {
    if (!IsDir(root + "/" + ctrl)) return "";
  }
  return "v1";
}

}  // namespace outpost::sandbox
