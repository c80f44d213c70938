#include "workspace/prepare.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/files.h"
#include "workspace/repo_spec.h"

// Why a mirror and a copy: the mirror keeps every later run of a repository to one `fetch`,
// and `clone --no-hardlinks` from it gives the agent a workspace sharing no file with the
// cache (the agent's uid owns it afterwards and could otherwise write into the mirror's
// objects). Every git here runs as root against a URL the caller chose, so the environment is
// GitEnv's: no system/global config, no prompts, the token only in the environment.
namespace outpost::workspace {
namespace {

namespace fs = std::filesystem;

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// An exclusive flock held for the object's lifetime (released by close, also when we die).
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Internal("cannot lock " + path + ": " + std::strerror(err));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

class Steps {
 public:
  Steps(GitExec& git, std::vector<std::string> env) : git_(git), env_(std::move(env)) {}

  // Runs git; a failure becomes kFailedPrecondition with git's message.
  Result<std::string> Git(std::vector<std::string> args) {
    args.insert(args.begin(), "git");
    GitCommand cmd{std::move(args), env_, ""};
    Result<GitOutput> out = git_.Run(cmd);
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) return FailedPrecondition(Describe(cmd, *out));
    return std::move(out->out);
  }

 private:
  GitExec& git_;
  std::vector<std::string> env_;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// "ref: refs/heads/trunk\tHEAD" from `ls-remote --symref origin HEAD`.
std::optional<std::string> SymrefBranch(std::string_view out) {
  constexpr std::string_view kPrefix = "ref: refs/heads/";
  std::size_t at = out.find(kPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t start = at + kPrefix.size();
  std::size_t end = out.find_first_of("\t\n", start);
  return std::string(out.substr(start, end - start));
}

// A fresh mirror is cloned beside its final place and renamed, so a failed clone leaves no
// half mirror behind for the next run to trust.
Result<std::string> UpdateMirror(Steps& git, const PrepareRequest& req, const std::string& cache,
                                 bool& created) {
  created = !FileExists(cache + "/HEAD");
  if (created) {
    const std::string tmp = cache + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::remove_all(cache, ec);
    auto cloned = git.Git({"clone", "--mirror", "--quiet", "--", req.url, tmp});
    if (!cloned.ok()) {
      fs::remove_all(tmp, ec);
      return cloned.status();
    }
    fs::rename(tmp, cache, ec);
    if (ec) return Internal("cannot move the new mirror into place: " + ec.message());
  } else {
    OUTPOST_RETURN_IF_ERROR(
        git.Git({"-C", cache, "remote", "set-url", "origin", req.url}).status());
    OUTPOST_RETURN_IF_ERROR(
        git.Git({"-C", cache, "fetch", "--prune", "--quiet", "origin"}).status());
  }
  if (req.branch) return *req.branch;
  // The remote's default branch may have changed since the mirror was made.
  if (!created) {
    auto ls = git.Git({"-C", cache, "ls-remote", "--symref", "origin", "HEAD"});
    if (ls.ok()) {
      if (std::optional<std::string> b = SymrefBranch(*ls)) {
        (void)git.Git({"-C", cache, "symbolic-ref", "HEAD", "refs/heads/" + *b});
        return *b;
      }
    }
  }
  auto head = git.Git({"-C", cache, "symbolic-ref", "--short", "HEAD"});
  if (!head.ok()) return head.status();
  return Trim(*head);
}

bool ValidPin(const std::string& pin) {
  if (pin.empty() || pin.size() > 128) return false;
  for (char ch : pin) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') return false;
  }
  return true;
}

struct Pin {
  std::string branch;
  std::string sha;
};

// "<branch> <sha>\n", as RecordPin writes it; nullopt when there is none (or it is unreadable:
// then this run records its own).
std::optional<Pin> ReadPin(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  std::string_view s = *text;
  const std::size_t space = s.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  std::string sha(Trim(std::string(s.substr(space + 1))));
  if (sha.size() < 40 || sha.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  return Pin{std::string(s.substr(0, space)), std::move(sha)};
}

// Pins outlive their group's runs by days: a queued run of a group may start much later.
void PrunePins(const std::string& dir) {
  constexpr auto kKeep = std::chrono::hours(24 * 7);
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code mec;
    const auto mtime = it->last_write_time(mec);
    if (!mec && now - mtime > kKeep) fs::remove(it->path(), mec);
  }
}

}  // namespace

std::string CacheDirFor(const std::string& cache_root, const std::string& url) {
  return cache_root + "/" + Sha256Hex(url);
}

Result<Prepared> Prepare(GitExec& git, const PrepareRequest& req) {
  OUTPOST_RETURN_IF_ERROR(MakeDirs(req.cache_root, 0700));
  OUTPOST_RETURN_IF_ERROR(MakeDirs(req.cache_root + "/.home", 0700));
  Prepared p;
  p.cache_dir = CacheDirFor(req.cache_root, req.url);
  Result<FileLock> lock = FileLock::Acquire(p.cache_dir + ".lock");
  if (!lock.ok()) return lock.status();
  // safe.directory: a local source repository may belong to another user.
  Steps steps(git, GitEnv(req.cache_root + "/.home", req.credential, {"safe.directory=*"}));
  if (req.pin && !ValidPin(*req.pin)) return InvalidArgument("invalid checkout pin");
  const std::string pins = p.cache_dir + ".pins";
  const std::string pin_file = req.pin ? pins + "/" + *req.pin : "";
  std::optional<Pin> pin;
  if (req.pin && FileExists(p.cache_dir + "/HEAD")) pin = ReadPin(pin_file);
  if (pin) {
    // The group's first run fetched; the commit is in the mirror whatever its branch is now.
    p.branch = pin->branch;
    p.pinned = true;
  } else {
    Result<std::string> branch = UpdateMirror(steps, req, p.cache_dir, p.cache_created);
    if (!branch.ok()) return branch.status();
    p.branch = *branch;
  }
  // The copy is made under the lock too: a concurrent fetch --prune could drop its refs.
  OUTPOST_RETURN_IF_ERROR(steps
                              .Git({"clone", "--no-hardlinks", "--quiet", "--branch", p.branch,
                                    "--", p.cache_dir, req.workspace})
                              .status());
  if (pin) {
    // The branch, as the copy made it, at the group's commit; the tree matches it.
    OUTPOST_RETURN_IF_ERROR(
        steps.Git({"-C", req.workspace, "reset", "--hard", "--quiet", pin->sha}).status());
  }
  OUTPOST_RETURN_IF_ERROR(
      steps.Git({"-C", req.workspace, "remote", "set-url", "origin", WithoutCredentials(req.url)})
          .status());
  Result<std::string> head = steps.Git({"-C", req.workspace, "rev-parse", "HEAD"});
  if (!head.ok()) return head.status();
  p.before_sha = Trim(*head);
  if (req.pin && !pin) {
    OUTPOST_RETURN_IF_ERROR(MakeDirs(pins, 0700));
    PrunePins(pins);
    OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(pin_file, p.branch + " " + p.before_sha + "\n", 0600));
  }
  return p;
}

}  // namespace outpost::workspace
