#include "runner/shim/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace outpost::shim {
namespace {

// What the child reports through the error pipe when it cannot exec.
struct ChildError {
  int step;  // index into kSteps
  int err;   // errno
};
constexpr const char* kSteps[] = {"setsid",    "open /dev/null", "dup2",        "chdir",
                                  "exec",      "join cgroup",    "setgroups",   "setresgid",
                                  "setresuid", "uid check",      "no_new_privs"};
enum Step {
  kSetsid,
  kDevNull,
  kDup2,
  kChdir,
  kExec,
  kCgroup,
  kSetgroups,
  kSetgid,
  kSetuid,
  kUidCheck,
  kNoNewPrivs
};

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void Fail(int errfd, int step) {
  ChildError e{step, errno};
  (void)!::write(errfd, &e, sizeof e);
  ::_exit(127);
}

// Moves `from` onto `to`; dup2 onto itself would keep O_CLOEXEC, so clear it instead.
bool MoveFd(int from, int to) {
  if (from == to) return ::fcntl(to, F_SETFD, 0) == 0;
  return ::dup2(from, to) == to;
}

// Drops root for good: groups, then gid (needs root), then uid; verified afterwards.
void BecomeUser(const Credentials& u, int errfd) {
  if (::setgroups(0, nullptr) != 0) Fail(errfd, kSetgroups);
  if (::setresgid(u.gid, u.gid, u.gid) != 0) Fail(errfd, kSetgid);
  if (::setresuid(u.uid, u.uid, u.uid) != 0) Fail(errfd, kSetuid);
  if (::getuid() != static_cast<uid_t>(u.uid) || ::geteuid() != static_cast<uid_t>(u.uid) ||
      ::getegid() != static_cast<gid_t>(u.gid)) {
    errno = EPERM;
    Fail(errfd, kUidCheck);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(errfd, kNoNewPrivs);
}

// Runs in the forked child: only async-signal-safe calls from here on (Cgroup::AddPid
// allocates only when it fails, and the shim is single-threaded).
[[noreturn]] void ChildMain(const SpawnRequest& req, char** argv, char** envp, int errfd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if ((req.new_session ? ::setsid() : ::setpgid(0, 0)) < 0) Fail(errfd, kSetsid);
  if (req.cgroup != nullptr && !req.cgroup->AddPid(0).ok()) Fail(errfd, kCgroup);
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull < 0) Fail(errfd, kDevNull);
  int out = req.stdout_fd >= 0 ? req.stdout_fd : devnull;
  int err = req.stderr_fd >= 0 ? req.stderr_fd : devnull;
  // fds 0-2 of the shim are /dev/null already, so sources are never clobbered by earlier dups.
  if (!MoveFd(devnull, 0) || !MoveFd(out, 1) || !MoveFd(err, 2)) Fail(errfd, kDup2);
  if (errfd > 3) ::close_range(3, static_cast<unsigned>(errfd) - 1, 0);
  ::close_range(static_cast<unsigned>(errfd) + 1, ~0U, 0);
  if (!req.cwd.empty() && ::chdir(req.cwd.c_str()) != 0) Fail(errfd, kChdir);
  if (req.user) BecomeUser(*req.user, errfd);
  ::umask(022);  // the service's own 077 is not the agent's: its files follow the usual mode
  // execvp searches the PATH of `environ`, so the agent's own PATH decides.
  environ = envp;
  ::execvp(argv[0], argv);
  Fail(errfd, kExec);
}

// Reads the child's report: nullopt when the pipe closed empty (exec succeeded).
std::optional<ChildError> ReadChildError(int fd) {
  ChildError e{};
  ssize_t n;
  do {
    n = ::read(fd, &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof e)) return e;
  return std::nullopt;
}

}  // namespace

Result<int> Spawn(const SpawnRequest& req) {
  if (req.argv.empty()) return InvalidArgument("empty argv");
  std::vector<char*> argv = CStrings(req.argv);
  std::vector<char*> envp = CStrings(req.env);
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0)
    return Internal(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    Status st = Internal(std::string("fork: ") + std::strerror(errno));
    ::close(errpipe[0]);
    ::close(errpipe[1]);
    return st;
  }
  if (pid == 0) ChildMain(req, argv.data(), envp.data(), errpipe[1]);
  ::close(errpipe[1]);
  std::optional<ChildError> e = ReadChildError(errpipe[0]);
  ::close(errpipe[0]);
  if (!e) return static_cast<int>(pid);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  std::string msg = kSteps[e->step];
  if (e->step == kChdir) msg += " " + req.cwd;
  if (e->step == kExec) msg += " " + req.argv[0];
  msg += ": " + std::string(std::strerror(e->err));
  return Status(e->err == ENOENT ? Code::kNotFound : Code::kInternal, msg);
}

std::vector<std::string> EnvironWith(const std::string& key, const std::string& value) {
  std::vector<std::string> env;
  const std::string prefix = key + "=";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) env.emplace_back(*e);
  }
  env.push_back(prefix + value);
  return env;
}

}  // namespace outpost::shim
