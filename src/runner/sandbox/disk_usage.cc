#include "runner/sandbox/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <utility>

// Walks with openat/fstatat relative to the open parent, so the walk needs no path strings
// (no PATH_MAX limit) and is not confused by a directory renamed to a symlink mid-walk
// (O_NOFOLLOW on every descent).
namespace outpost::sandbox {
namespace {

constexpr int kMaxDepth = 1000;

struct Walk {
  std::int64_t bytes = 0;
  std::set<std::pair<dev_t, ino_t>> linked;  // multiply-linked files already counted
};

void Count(Walk& w, const struct stat& st) {
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !w.linked.emplace(st.st_dev, st.st_ino).second) {
    return;
  }
  w.bytes += static_cast<std::int64_t>(st.st_blocks) * 512;
}

// Counts the entries of the open directory `dfd` (takes ownership of it).
void WalkDir(Walk& w, int dfd, int depth) {
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    Count(w, st);
    if (!S_ISDIR(st.st_mode) || depth >= kMaxDepth) continue;
    int sub = ::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) WalkDir(w, sub, depth + 1);
  }
  ::closedir(d);
}

}  // namespace

std::int64_t DiskUsage(const std::string& root) {
  Walk w;
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) return 0;
  Count(w, st);
  if (!S_ISDIR(st.st_mode)) return w.bytes;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) WalkDir(w, fd, 1);
  return w.bytes;
}

}  // namespace outpost::sandbox
