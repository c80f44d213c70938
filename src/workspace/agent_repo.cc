#include "workspace/agent_repo.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace outpost::workspace {
namespace {

constexpr std::size_t kMaxRefFile = 4096;
constexpr std::size_t kMaxPackedRefs = 64 << 20;
constexpr int kMaxSymbolicSteps = 5;

// An fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// `name` (one component) below `dir`, a real directory: never a link.
Fd OpenDir(int dir, const char* name) {
  return Fd(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// A regular file (not a link, FIFO or device) below `dir`: its fd, or -1.
Fd OpenRegular(int dir, const char* name) {
  Fd fd(::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Fd();
  return fd;
}

std::optional<std::string> ReadRegular(int dir, const char* name, std::size_t max) {
  Fd fd = OpenRegular(dir, name);
  if (!fd.ok()) return std::nullopt;
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max) return std::nullopt;
  }
}

// <workspace>/.git, only when both are real directories.
Fd OpenGitDir(const std::string& workspace) {
  Fd ws(::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!ws.ok()) return Fd();
  return OpenDir(ws.get(), ".git");
}

bool IsObjectId(std::string_view s) {
  return (s.size() == 40 || s.size() == 64) && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

// "refs/heads/x": components of safe characters, none empty or starting with '.'.
bool IsSafeRefName(std::string_view ref) {
  if (!ref.starts_with("refs/") || ref.size() > 1024) return false;
  std::size_t start = 0;
  while (start <= ref.size()) {
    std::size_t end = std::min(ref.find('/', start), ref.size());
    std::string_view part = ref.substr(start, end - start);
    if (part.empty() || part.front() == '.' || part.ends_with(".lock")) return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
          c != '+' && c != '@') {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

// The content of the loose ref file, walking each directory with O_NOFOLLOW.
std::optional<std::string> ReadLooseRef(int git_dir, std::string_view ref) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= ref.size()) {
    std::size_t end = std::min(ref.find('/', start), ref.size());
    parts.emplace_back(ref.substr(start, end - start));
    start = end + 1;
  }
  Fd dir = OpenDir(git_dir, parts[0].c_str());
  for (std::size_t i = 1; dir.ok() && i + 1 < parts.size(); ++i) {
    dir = OpenDir(dir.get(), parts[i].c_str());
  }
  if (!dir.ok()) return std::nullopt;
  return ReadRegular(dir.get(), parts.back().c_str(), kMaxRefFile);
}

std::optional<std::string> ReadPackedRef(int git_dir, std::string_view ref) {
  auto text = ReadRegular(git_dir, "packed-refs", kMaxPackedRefs);
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = TrimLine(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.starts_with("#") || line.starts_with("^")) continue;
    if (line.substr(sp + 1) == ref && IsObjectId(line.substr(0, sp))) {
      return std::string(line.substr(0, sp));
    }
  }
  return std::nullopt;
}

// Hard-links the open regular file `src` to `to`; copies it when linking is not possible
// (another filesystem). A file already there is kept (objects are named by content).
Status Import(const Fd& src, const std::string& to) {
  const std::string proc = "/proc/self/fd/" + std::to_string(src.get());
  if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) == 0 ||
      errno == EEXIST) {
    return Status::Ok();
  }
  Fd dst(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400));
  if (!dst.ok()) {
    if (errno == EEXIST) return Status::Ok();
    return Internal("cannot write " + to + ": " + std::strerror(errno));
  }
  while (true) {
    ssize_t n = ::sendfile(dst.get(), src.get(), nullptr, 1 << 20);
    if (n == 0) return Status::Ok();
    if (n < 0 && errno != EINTR)
      return Internal("cannot copy to " + to + ": " + std::strerror(errno));
  }
}

// Entry names of the directory `dir` (its own fd is duplicated: `dir` stays open).
std::vector<std::string> Names(int dir) {
  std::vector<std::string> out;
  int fd = ::dup(dir);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return out;
  }
  while (dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

bool IsHex(std::string_view s, std::size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return Internal("cannot create " + path + ": " + std::strerror(errno));
}

}  // namespace

std::optional<std::string> ReadAgentHead(const std::string& workspace) {
  Fd git = OpenGitDir(workspace);
  if (!git.ok()) return std::nullopt;
  auto head = ReadRegular(git.get(), "HEAD", kMaxRefFile);
  for (int step = 0; head && step <= kMaxSymbolicSteps; ++step) {
    std::string_view v = TrimLine(*head);
    if (IsObjectId(v)) return std::string(v);
    if (!v.starts_with("ref: ")) return std::nullopt;
    const std::string ref(v.substr(5));  // a copy: `head` is replaced below
    if (!IsSafeRefName(ref)) return std::nullopt;
    head = ReadLooseRef(git.get(), ref);
    if (!head) return ReadPackedRef(git.get(), ref);
  }
  return std::nullopt;
}

Status ImportAgentObjects(const std::string& workspace, const std::string& objects_dir) {
  Fd git = OpenGitDir(workspace);
  if (!git.ok()) return Status::Ok();
  Fd objects = OpenDir(git.get(), "objects");
  if (!objects.ok()) return Status::Ok();
  for (const std::string& sub : Names(objects.get())) {
    if (IsHex(sub, 2)) {
      Fd dir = OpenDir(objects.get(), sub.c_str());
      if (!dir.ok()) continue;
      const std::string to = objects_dir + "/" + sub;
      bool made = false;
      for (const std::string& name : Names(dir.get())) {
        if (!IsHex(name, 38) && !IsHex(name, 62)) continue;
        Fd src = OpenRegular(dir.get(), name.c_str());
        if (!src.ok()) continue;  // a link, a FIFO, gone: no object of the agent's
        if (!made) OUTPOST_RETURN_IF_ERROR(MakeDir(to));
        made = true;
        OUTPOST_RETURN_IF_ERROR(Import(src, to + "/" + name));
      }
    } else if (sub == "pack") {
      Fd dir = OpenDir(objects.get(), "pack");
      if (!dir.ok()) continue;
      const std::string to = objects_dir + "/pack";
      OUTPOST_RETURN_IF_ERROR(MakeDir(to));
      for (const std::string& name : Names(dir.get())) {
        if (!name.starts_with("pack-") || !name.ends_with(".pack")) continue;
        const std::string idx = name.substr(0, name.size() - 5) + ".idx";
        Fd pack = OpenRegular(dir.get(), name.c_str());
        Fd index = OpenRegular(dir.get(), idx.c_str());
        if (!pack.ok() || !index.ok()) continue;  // both real files, or neither
        OUTPOST_RETURN_IF_ERROR(Import(pack, to + "/" + name));
        OUTPOST_RETURN_IF_ERROR(Import(index, to + "/" + idx));
      }
    }
  }
  return Status::Ok();
}

}  // namespace outpost::workspace
