#include "agents/grok/workspace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace outpost::agents::grok {
namespace {

Status Refuse(std::string reason) { return {Code::kPermissionDenied, std::move(reason)}; }

std::string Errno(int e) { return std::strerror(e); }

// Splits a relative path, dropping "" and "." components; refuses absolute paths and "..".
Result<std::vector<std::string>> Components(std::string_view path) {
  if (path.empty()) return Refuse("empty path");
  if (path.find('\0') != std::string_view::npos) return Refuse("NUL byte in path");
  if (path.front() == '/') return Refuse("absolute path");
  std::vector<std::string> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    std::string part(path.substr(0, slash));
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part == "..") return Refuse("'..' component");
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
  }
  if (parts.empty()) return Refuse("path names the workspace itself");
  return parts;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal("write failed: " + Errno(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Result<Workspace> Workspace::Open(const std::string& root) {
  char buf[PATH_MAX];
  if (!::realpath(root.c_str(), buf)) {
    return InvalidArgument("workspace '" + root + "': " + Errno(errno));
  }
  int fd = ::open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return InvalidArgument("workspace '" + root + "': " + Errno(errno));
  return Workspace(buf, fd);
}

Workspace::Workspace(Workspace&& other) noexcept
    : root_(std::move(other.root_)), fd_(std::exchange(other.fd_, -1)) {}

Workspace::~Workspace() {
  if (fd_ >= 0) ::close(fd_);
}

// Says where the link leads, since "outside the workspace" is the case worth flagging.
Status Workspace::RefuseSymlink(const std::string& prefix) const {
  char buf[PATH_MAX];
  std::string full = root_ + "/" + prefix;
  if (::realpath(full.c_str(), buf)) {
    std::string target(buf);
    if (target != root_ && !target.starts_with(root_ + "/")) {
      return Refuse("symlink '" + prefix + "' resolves outside the workspace");
    }
  }
  return Refuse("symlink '" + prefix + "' in path (never written through)");
}

Result<std::size_t> Workspace::WriteFile(std::string_view path, std::string_view content) const {
  auto parts = Components(path);
  if (!parts.ok()) return parts.status();
  Fd dir(::dup(fd_));
  if (dir.get() < 0) return Internal("dup: " + Errno(errno));
  std::string prefix;
  for (std::size_t i = 0; i + 1 < parts->size(); ++i) {
    const std::string& name = (*parts)[i];
    prefix += (prefix.empty() ? "" : "/") + name;
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return Internal("stat '" + prefix + "': " + Errno(errno));
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        return Internal("mkdir '" + prefix + "': " + Errno(errno));
      }
    } else if (S_ISLNK(st.st_mode)) {
      return RefuseSymlink(prefix);
    } else if (!S_ISDIR(st.st_mode)) {
      return Refuse("'" + prefix + "' is not a directory");
    }
    int next = ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && (errno == ELOOP || errno == ENOTDIR)) return RefuseSymlink(prefix);
    if (next < 0) return Internal("open '" + prefix + "': " + Errno(errno));
    dir.Reset(next);
  }
  const std::string& leaf = parts->back();
  struct stat st {};
  if (::fstatat(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return Refuse("is a symlink (never written through)");
    if (!S_ISREG(st.st_mode)) return Refuse("exists and is not a regular file");
    if (st.st_nlink > 1) return Refuse("is a hard link (never written through)");
  }
  Fd file(::openat(dir.get(), leaf.c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
  if (file.get() < 0 && errno == ELOOP) return Refuse("is a symlink (never written through)");
  if (file.get() < 0) return Internal("open '" + std::string(path) + "': " + Errno(errno));
  OUTPOST_RETURN_IF_ERROR(WriteAll(file.get(), content));
  return content.size();
}

}  // namespace outpost::agents::grok
