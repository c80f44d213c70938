#include "artifacts/local/beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace outpost::artifacts {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Walks `dirs` ("a/b", may be empty) from an open `fd`, which it takes over: the descriptor of
// the last directory, or -1 (errno set).
int WalkDirs(int fd, std::string_view dirs) {
  while (fd >= 0 && !dirs.empty()) {
    const std::size_t slash = dirs.find('/');
    const std::string segment(dirs.substr(0, slash));
    dirs = slash == std::string_view::npos ? std::string_view() : dirs.substr(slash + 1);
    const int next = ::openat(fd, segment.c_str(), kDirFlags);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fd = next;
  }
  return fd;
}

}  // namespace

int OpenParentBeneath(const std::string& root, std::string_view rel, std::string* name) {
  const std::size_t slash = rel.rfind('/');
  *name = std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return WalkDirs(fd, slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash));
}

int OpenBeneath(const std::string& root, std::string_view rel, int flags) {
  std::string name;
  const int dir = OpenParentBeneath(root, rel, &name);
  if (dir < 0) return -1;
  const int fd = ::openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
  const int saved = errno;
  ::close(dir);
  errno = saved;
  return fd;
}

int MakeDirsBeneath(const std::string& root, std::string_view rel_dir) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  while (!rel_dir.empty()) {
    const std::size_t slash = rel_dir.find('/');
    const std::string segment(rel_dir.substr(0, slash));
    rel_dir = slash == std::string_view::npos ? std::string_view() : rel_dir.substr(slash + 1);
    int err = 0;
    if (::mkdirat(fd, segment.c_str(), 0700) != 0 && errno != EEXIST) err = errno;
    const int next = err ? -1 : ::openat(fd, segment.c_str(), kDirFlags);
    if (next < 0 && !err) err = errno;
    ::close(fd);
    if (err) return err;
    fd = next;
  }
  ::close(fd);
  return 0;
}

}  // namespace outpost::artifacts
