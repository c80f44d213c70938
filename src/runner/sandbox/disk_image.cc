#include "runner/sandbox/disk_image.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include "common/files.h"

namespace outpost::sandbox {
namespace {

constexpr std::int64_t kMinImageBytes = 1 << 20;

// Runs argv (no shell) with stdin and stdout on /dev/null; its stderr (the tail) is the error.
Status RunTool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return Internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the shim blocks SIGCHLD & co; the tool must not
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  // A fixed search path: these run as root, whatever the caller's PATH says.
  std::string exe;
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    if (::access((dir + argv[0]).c_str(), X_OK) == 0) {
      exe = dir + argv[0];
      break;
    }
  }
  if (exe.empty()) {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return FailedPrecondition(argv[0] + " is not installed (in /usr/sbin, /usr/bin, /sbin, /bin)");
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &fa, &attr, args.data(), const_cast<char**>(env));
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return Internal(argv[0] + ": " + std::strerror(rc));
  }
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    err.append(buf, static_cast<std::size_t>(n));
    if (err.size() > 4096) err.erase(0, err.size() - 4096);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  return Internal(argv[0] + " failed (" +
                  (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status))) +
                  (err.empty() ? ")" : "): " + err));
}

// Entries of a directory ending in ".img".
std::vector<std::string> Images(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.ends_with(".img")) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

std::string UniqueName(std::int64_t bytes) {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::to_string(bytes) + "-" + std::to_string(::getpid()) + "-" + std::to_string(now) +
         "-" + std::to_string(counter++) + ".img";
}

// The size class of a free image ("<bytes>-..."); -1 for another name.
std::int64_t SizeOf(const std::string& name) {
  std::size_t dash = name.find('-');
  if (dash == std::string::npos || dash == 0) return -1;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

Status Dirs(const std::string& root) {
  for (const char* sub : {"", "/free", "/busy", "/dirty"}) {
    OUTPOST_RETURN_IF_ERROR(MakeDirs(root + sub, 0700));
  }
  return Status::Ok();
}

}  // namespace

std::string ImagePoolDir(const std::string& data_dir) { return data_dir + "/images"; }

Status FormatImage(const std::string& path, std::int64_t bytes) {
  if (bytes < kMinImageBytes) {
    return InvalidArgument("an image must be at least 1 MiB, got " + std::to_string(bytes));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("open " + path + ": " + std::strerror(errno));
  const bool sized = ::ftruncate(fd, bytes) == 0;
  const int err = errno;
  ::close(fd);
  if (!sized) return Internal("truncate " + path + ": " + std::strerror(err));
  // No journal and no reserved blocks: the whole image is the run's, and a throwaway file
  // system needs no crash consistency. lazy_itable_init keeps the file sparse (the kernel
  // zeroes the inode tables as holes).
  return RunTool({"mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-E",
                  "lazy_itable_init=1,lazy_journal_init=1,nodiscard", "--", path});
}

Status MountImage(const std::string& image, const std::string& dir) {
  return RunTool({"mount", "-t", "ext4", "-o", "loop,nosuid,nodev", "--", image, dir});
}

Status Unmount(const std::string& dir) {
  if (::umount2(dir.c_str(), UMOUNT_NOFOLLOW) == 0) return Status::Ok();
  if (errno == EINVAL || errno == ENOENT) return Status::Ok();  // not a mount point
  if (errno == EBUSY && ::umount2(dir.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    return Status::Ok();
  }
  return Internal("umount " + dir + ": " + std::strerror(errno));
}

bool IsMountPoint(const std::string& dir) {
  struct stat self, parent;
  if (::lstat(dir.c_str(), &self) != 0 || !S_ISDIR(self.st_mode)) return false;
  if (::lstat((dir + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

Status CheckImagesUsable(const std::string& scratch_dir) {
  if (::geteuid() != 0) return FailedPrecondition("not running as root");
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    return FailedPrecondition(std::string("/dev/loop-control: ") + std::strerror(errno));
  }
  OUTPOST_RETURN_IF_ERROR(MakeDirs(scratch_dir, 0700));
  const std::string image = scratch_dir + "/probe.img";
  const std::string mnt = scratch_dir + "/probe.mnt";
  OUTPOST_RETURN_IF_ERROR(MakeDirs(mnt, 0700));
  Status st = FormatImage(image, 4 << 20);
  if (st.ok()) st = MountImage(image, mnt);
  if (st.ok()) st = Unmount(mnt);
  ::unlink(image.c_str());
  ::rmdir(mnt.c_str());
  if (!st.ok()) return FailedPrecondition(st.message());
  return Status::Ok();
}

Result<ImagePool::Claimed> ImagePool::Claim(std::string_view run_id, std::int64_t bytes) const {
  OUTPOST_RETURN_IF_ERROR(Dirs(dir_));
  const std::string busy = dir_ + "/busy/" + std::string(run_id) + ".img";
  for (const std::string& name : Images(dir_ + "/free")) {
    if (SizeOf(name) != bytes) continue;
    if (::rename((dir_ + "/free/" + name).c_str(), busy.c_str()) == 0) return Claimed{busy, false};
    // ENOENT: another run took it first.
  }
  OUTPOST_RETURN_IF_ERROR(FormatImage(busy, bytes));
  return Claimed{busy, true};
}

Status ImagePool::Release(std::string_view run_id) const {
  const std::string name = std::string(run_id) + ".img";
  const std::string busy = dir_ + "/busy/" + name;
  if (!FileExists(busy)) return Status::Ok();
  // The run's data goes now, not at the next recycle: a dirty image holds nothing of the run
  // (its secrets, issue 18 item 8; its disk use). The size stays: it names the size class.
  if (int fd = ::open(busy.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC); fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size) != 0) {
      (void)::ftruncate(fd, 0);  // no hole punching here: empty it, size class lost
    }
    ::close(fd);
  }
  OUTPOST_RETURN_IF_ERROR(MakeDirs(dir_ + "/dirty", 0700));
  if (::rename(busy.c_str(), (dir_ + "/dirty/" + name).c_str()) != 0) {
    return Internal("release " + busy + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

int ImagePool::FreeCount(std::int64_t bytes) const {
  int n = 0;
  for (const std::string& name : Images(dir_ + "/free")) n += SizeOf(name) == bytes;
  return n;
}

int ImagePool::Recycle(std::int64_t spare_bytes, int spare, int max_free) const {
  if (!Dirs(dir_).ok()) return 0;
  int formatted = 0;
  std::map<std::int64_t, int> free;
  for (const std::string& name : Images(dir_ + "/free")) ++free[SizeOf(name)];
  for (const std::string& name : Images(dir_ + "/dirty")) {
    const std::string path = dir_ + "/dirty/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const std::int64_t bytes = st.st_size;
    // Wiped in place (truncate + mkfs), then published: a claim never sees a half-made image.
    if (free[bytes] >= max_free || bytes < kMinImageBytes || !FormatImage(path, bytes).ok()) {
      ::unlink(path.c_str());
      continue;
    }
    ++formatted;
    if (::rename(path.c_str(), (dir_ + "/free/" + UniqueName(bytes)).c_str()) == 0) {
      ++free[bytes];
    } else {
      ::unlink(path.c_str());
    }
  }
  while (spare_bytes >= kMinImageBytes && free[spare_bytes] < spare) {
    const std::string tmp = dir_ + "/dirty/new-" + UniqueName(spare_bytes);
    if (!FormatImage(tmp, spare_bytes).ok()) {
      ::unlink(tmp.c_str());
      break;
    }
    ++formatted;
    if (::rename(tmp.c_str(), (dir_ + "/free/" + UniqueName(spare_bytes)).c_str()) != 0) {
      ::unlink(tmp.c_str());
      break;
    }
    ++free[spare_bytes];
  }
  return formatted;
}

}  // namespace outpost::sandbox
