// Writing model-proposed files strictly inside the workspace.
//
// The model's paths are untrusted input. A path is refused when it is absolute, has a ".."
// component, or meets a symlink anywhere (a parent directory that is a symlink, whether it
// resolves outside the workspace or not, or a final component that is one): files are never
// written through a link. Parents are walked with openat(O_NOFOLLOW|O_DIRECTORY) from a
// descriptor of the workspace root and created with mkdirat, so a link swapped in between the
// check and the write is refused too (ELOOP/ENOTDIR), not followed.
//
// Thread-safety: a Workspace is immutable after Open; WriteFile may be called from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::agents::grok {

class Workspace {
 public:
  // `root` must be an existing directory; it is canonicalised (realpath) once.
  static Result<Workspace> Open(const std::string& root);
  ~Workspace();
  Workspace(Workspace&& other) noexcept;
  Workspace& operator=(Workspace&&) = delete;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const std::string& root() const { return root_; }

  // Creates or truncates `path` (relative to the root) with `content`, creating parent
  // directories (0755; the file 0644). Returns the bytes written. kPermissionDenied when the
  // path is refused (the message is the reason), kInternal on an I/O error.
  Result<std::size_t> WriteFile(std::string_view path, std::string_view content) const;

 private:
  Workspace(std::string root, int fd) : root_(std::move(root)), fd_(fd) {}
  Status RefuseSymlink(const std::string& prefix) const;

  std::string root_;
  int fd_ = -1;  // O_DIRECTORY descriptor of root_
};

}  // namespace outpost::agents::grok
