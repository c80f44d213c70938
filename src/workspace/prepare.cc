#include "workspace/prepare.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/address_policy.h"
#include "common/crypto.h"
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

  // Replaces (or adds) one variable of the environment every later git runs with.
  void SetEnv(const std::string& name, const std::string& value) {
    std::erase_if(env_, [&](const std::string& v) { return v.starts_with(name + "="); });
    env_.push_back(name + "=" + value);
  }

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

struct CloneHost {
  std::string scheme;  // "http", "https", "git", "ssh" (scp-like too)
  std::string host;    // lower case, IPv6 without brackets
  std::string port;
};

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host a network URL connects to; nullopt for a local path (and anything unparsable,
// which git then refuses itself — it is checked below as a failure, never let through).
std::optional<CloneHost> CloneHostOf(std::string_view url) {
  if (url.starts_with('/') || url.starts_with("file://")) return std::nullopt;
  CloneHost h;
  std::string_view authority;
  if (std::size_t sep = url.find("://"); sep != std::string_view::npos) {
    h.scheme = Lower(url.substr(0, sep));
    authority = url.substr(sep + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
  } else {  // user@host:path
    h.scheme = "ssh";
    std::size_t at = url.find('@');
    std::size_t colon = url.find(':', at == std::string_view::npos ? 0 : at);
    if (colon == std::string_view::npos) return CloneHost{};
    authority = url.substr(at == std::string_view::npos ? 0 : at + 1,
                           colon - (at == std::string_view::npos ? 0 : at + 1));
    h.host = Lower(authority);
    h.port = "22";
    return h;
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return CloneHost{};
    h.host = Lower(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else {
    std::size_t colon = authority.find(':');
    h.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (!port.empty()) {
    h.port = std::string(port);
  } else {
    h.port = h.scheme == "https"  ? "443"
             : h.scheme == "http" ? "80"
             : h.scheme == "git"  ? "9418"
                                  : "22";
  }
  return h;
}

bool Listed(const CloneHost& h, const std::vector<std::string>& allowed) {
  const std::string bare = h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
  for (const std::string& a : allowed) {
    if (a == bare || a == bare + ":" + h.port) return true;
  }
  return false;
}

// `url` up to the end of its authority ("git://host:9418"), for url.<new>.insteadOf.
std::string_view Origin(std::string_view url) {
  const std::size_t sep = url.find("://");
  return url.substr(0, url.find_first_of("/?#", sep + 3));
}

// Audit F10: the plan for a clone or fetch of `url` — nothing for a local path — after checking
// every address its host resolves to. Each scheme is pinned to the checked address, so a second
// DNS answer (rebinding) cannot take git elsewhere: http(s) through curl's CURLOPT_RESOLVE (and
// no redirect, whose target would not be checked); git:// by rewriting the URL to the address
// (url.<address>.insteadOf: git then sends the address, not the name, as the daemon's host=);
// ssh by `-o HostName=<address>` with `HostKeyAlias=<name>`, so the host key is still looked up
// under the name. Audit F9: ssh never runs with root's keys, agent or config (SshCommand).
Result<NetPlan> CheckHost(const std::string& url, const std::vector<std::string>& allowed,
                          const std::string& ssh_known_hosts) {
  std::optional<CloneHost> h = CloneHostOf(url);
  if (!h) return NetPlan{};
  if (h->host.empty() || h->port.empty() ||
      h->port.find_first_not_of("0123456789") != std::string::npos) {
    return FailedPrecondition("cannot tell which host repo " + WithoutCredentials(url) + " names");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(h->host.c_str(), h->port.c_str(), &hints, &res); rc != 0) {
    return FailedPrecondition("cannot resolve repo host " + h->host + ": " + ::gai_strerror(rc));
  }
  const bool listed = Listed(*h, allowed);
  std::string addrs;
  std::string first;  // the address ssh and git:// connect to (bare, IPv6 without brackets)
  std::string refused;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        ai->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    ::inet_ntop(ai->ai_family, raw, text, sizeof(text));
    const std::string addr = ai->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : text;
    if (std::string reason = RefusedAddressReason(ai->ai_addr, false);
        !reason.empty() && !listed && refused.empty()) {
      refused = "repo host " + h->host + " " + reason + " (" + text +
                "); clones reach public addresses only unless the operator lists the host in "
                "[git] allow_private_hosts";
    }
    if (first.empty()) first = text;
    if (addrs.find(addr) == std::string::npos) addrs += (addrs.empty() ? "" : ",") + addr;
  }
  ::freeaddrinfo(res);
  if (!refused.empty()) return FailedPrecondition(refused);
  if (h->scheme == "ssh" && ssh_known_hosts.empty()) {
    return FailedPrecondition("repo " + WithoutCredentials(url) +
                              " is an ssh URL: ssh clones need the host keys to trust, which "
                              "the operator sets with [git] ssh_known_hosts");
  }
  if (first.empty()) return FailedPrecondition("repo host " + h->host + " has no address");
  const bool v6 = first.find(':') != std::string::npos;
  if (h->scheme == "ssh") {
    // known_hosts spells a host on another port "[host]:port"; the alias replaces both.
    const std::string alias = h->port == "22" ? h->host : "[" + h->host + "]:" + h->port;
    return NetPlan{{}, SshCommand(ssh_known_hosts, first, alias)};
  }
  if (h->scheme == "git") {
    const std::string pinned = "git://" + (v6 ? "[" + first + "]" : first) + ":" + h->port + "/";
    return NetPlan{{"-c", "url." + pinned + ".insteadOf=" + std::string(Origin(url)) + "/"}, {}};
  }
  if (h->scheme != "http" && h->scheme != "https") return NetPlan{};
  const std::string name = h->host.find(':') != std::string::npos ? "[" + h->host + "]" : h->host;
  return NetPlan{{"-c", "http.curloptResolve=" + name + ":" + h->port + ":" + addrs, "-c",
                  "http.followRedirects=false"},
                 {}};
}

std::vector<std::string> With(std::vector<std::string> pre, std::vector<std::string> args) {
  pre.insert(pre.end(), args.begin(), args.end());
  return pre;
}

// A fresh mirror is cloned beside its final place and renamed, so a failed clone leaves no
// half mirror behind for the next run to trust.
Result<std::string> UpdateMirror(Steps& git, const PrepareRequest& req, const std::string& cache,
                                 bool& created) {
  created = !FileExists(cache + "/HEAD");
  Result<NetPlan> plan = CheckHost(req.url, req.allow_private_hosts, req.ssh_known_hosts);
  if (!plan.ok()) return plan.status();
  if (plan->ssh_command) git.SetEnv("GIT_SSH_COMMAND", *plan->ssh_command);
  const std::vector<std::string>* net = &plan->args;
  if (created) {
    const std::string tmp = cache + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::remove_all(cache, ec);
    auto cloned = git.Git(With(*net, {"clone", "--mirror", "--quiet", "--", req.url, tmp}));
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
        git.Git(With(*net, {"-C", cache, "fetch", "--prune", "--quiet", "origin"})).status());
  }
  if (req.branch) return *req.branch;
  // The remote's default branch may have changed since the mirror was made.
  if (!created) {
    auto ls = git.Git(With(*net, {"-C", cache, "ls-remote", "--symref", "origin", "HEAD"}));
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

Result<NetPlan> CheckedHost(const std::string& url, const std::vector<std::string>& allowed,
                            const std::string& ssh_known_hosts) {
  return CheckHost(url, allowed, ssh_known_hosts);
}

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
