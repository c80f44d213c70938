#include "runner/shim/scrub.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/files.h"
#include "secrets/redactor.h"

namespace outpost::shim {
namespace {

constexpr std::size_t kMinSecret = 4;  // as the Redactor
constexpr off_t kMaxRewrite = off_t{64} << 20;
constexpr std::size_t kChunk = 1 << 16;

struct Walk {
  std::vector<std::string> secrets;  // of kMinSecret bytes or more
  std::vector<std::string> remove;
  std::size_t longest = 0;
  ScrubStats stats;

  bool Holds(std::string_view text) const {
    return std::any_of(secrets.begin(), secrets.end(),
                       [text](const std::string& s) { return text.find(s) != text.npos; });
  }
  void Error(const std::string& rel, std::string_view what) {
    stats.errors.push_back(rel + ": " + std::string(what) + ": " + std::strerror(errno));
  }
};

// Removes the entry `name` of `dfd` and everything below it, never following links.
void RemoveAt(int dfd, const std::string& name, const std::string& rel, Walk& w);

void RemoveChildren(int fd, const std::string& rel, Walk& w) {
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    w.Error(rel, "fdopendir");
    ::close(fd);
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
  }
  for (const auto& n : names) RemoveAt(::dirfd(d), n, rel + "/" + n, w);
  ::closedir(d);
}

void RemoveAt(int dfd, const std::string& name, const std::string& rel, Walk& w) {
  struct stat st;
  if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return w.Error(rel, "open");
    RemoveChildren(fd, rel, w);
    if (::unlinkat(dfd, name.c_str(), AT_REMOVEDIR) != 0) return w.Error(rel, "rmdir");
  } else if (::unlinkat(dfd, name.c_str(), 0) != 0) {
    return w.Error(rel, "unlink");
  }
  ++w.stats.entries_removed;
}

// Whether the open file holds a value: read in chunks that overlap by longest-1 bytes.
bool FileHolds(int fd, Walk& w) {
  std::string window;
  char buf[kChunk];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += n;
    window.append(buf, static_cast<std::size_t>(n));
    if (w.Holds(window)) return true;
    if (window.size() >= w.longest) window.erase(0, window.size() - (w.longest - 1));
  }
}

void ScrubFile(int dfd, const std::string& name, const std::string& rel, Walk& w) {
  int fd = ::openat(dfd, name.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return w.Error(rel, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  if (!FileHolds(fd, w)) {
    ::close(fd);
    return;
  }
  if (st.st_nlink > 1 || st.st_size > kMaxRewrite) {
    // Another name may be outside the tree; a huge file is not rewritten in memory.
    ::close(fd);
    if (::unlinkat(dfd, name.c_str(), 0) != 0) return w.Error(rel, "unlink");
    ++w.stats.entries_removed;
    return;
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  std::string clean = Redactor::RedactAll(text, w.secrets);
  if (::ftruncate(fd, 0) != 0 || !WriteAll(fd, clean).ok()) {
    w.Error(rel, "rewrite");
    ::close(fd);
    // What could not be rewritten must not stay.
    if (::unlinkat(dfd, name.c_str(), 0) == 0) ++w.stats.entries_removed;
    return;
  }
  ::close(fd);
  ++w.stats.files_redacted;
}

void ScrubDir(int fd, const std::string& rel, Walk& w) {
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    w.Error(rel, "fdopendir");
    ::close(fd);
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
  }
  const int dfd = ::dirfd(d);
  for (std::string name : names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (std::find(w.remove.begin(), w.remove.end(), child) != w.remove.end()) {
      RemoveAt(dfd, name, child, w);
      continue;
    }
    if (w.Holds(name)) {
      std::string clean = Redactor::RedactAll(name, w.secrets);
      std::replace(clean.begin(), clean.end(), '/', '_');
      if (::renameat(dfd, name.c_str(), dfd, clean.c_str()) == 0) {
        ++w.stats.entries_renamed;
        name = clean;
      } else {
        RemoveAt(dfd, name, child, w);
        continue;
      }
    }
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        w.Error(child, "open");
        continue;
      }
      ScrubDir(sub, child, w);
    } else if (S_ISREG(st.st_mode) && !w.secrets.empty()) {
      ScrubFile(dfd, name, child, w);
    } else if (S_ISLNK(st.st_mode) && !w.secrets.empty()) {
      // A link's target is text too.
      char target[4096];
      ssize_t n = ::readlinkat(dfd, name.c_str(), target, sizeof target);
      if (n > 0 && w.Holds(std::string_view(target, static_cast<std::size_t>(n)))) {
        RemoveAt(dfd, name, child, w);
      }
    }
  }
  ::closedir(d);
}

}  // namespace

ScrubStats ScrubTree(const std::string& root, const std::vector<std::string>& secrets,
                     const std::vector<std::string>& remove) {
  Walk w;
  for (const auto& s : secrets) {
    if (s.size() < kMinSecret) continue;
    w.secrets.push_back(s);
    w.longest = std::max(w.longest, s.size());
  }
  w.remove = remove;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) w.Error(root, "open");
    return w.stats;
  }
  ScrubDir(fd, "", w);
  return w.stats;
}

}  // namespace outpost::shim
