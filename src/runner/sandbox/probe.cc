#include "runner/sandbox/probe.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/files.h"
#include "runner/shim/spawn.h"

// The probe runs the same way the shim starts an agent (shim::Spawn with dropped credentials),
// so what it proves is what the runs will need: bwrap executable by that uid and allowed to
// create a user namespace from there.
namespace outpost::sandbox {
namespace {

constexpr int kProbeTimeoutMs = 10'000;

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? "no error output" : line;
}

// "0" in either knob means no unprivileged user namespaces at all.
std::optional<std::string> UsernsKnobOff() {
  for (const char* knob :
       {"/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces"}) {
    Result<std::string> v = ReadFile(knob);
    if (v.ok() && FirstLine(*v) == "0") return std::string(knob) + " is 0";
  }
  return std::nullopt;
}

// Reads the child's stderr until EOF or the timeout, then reaps it (killing it on timeout).
std::pair<std::string, int> Collect(int pid, int fd) {
  std::string err;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  bool eof = false;
  while (!eof && ::poll(&p, 1, kProbeTimeoutMs) > 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    eof = n <= 0;
    if (n > 0) err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!eof) ::kill(pid, SIGKILL);  // hung: it is our unreaped child, so the pid is still ours
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {err, status};
}

}  // namespace

Result<std::string> FindExecutable(const std::string& name, std::string path) {
  if (path.empty()) path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string file = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(file.c_str(), X_OK) == 0) {
      return file;
    }
  }
  return NotFound(name + " is not on PATH");
}

Status CheckSandboxUsable(int uid) {
  Result<std::string> bwrap = FindExecutable("bwrap");
  if (!bwrap.ok()) return FailedPrecondition("bubblewrap is not installed (no bwrap on PATH)");
  if (auto off = UsernsKnobOff()) {
    return FailedPrecondition("unprivileged user namespaces are disabled: " + *off);
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Internal("pipe failed");
  shim::SpawnRequest req{{*bwrap,
                          "--unshare-all",
                          "--die-with-parent",
                          "--ro-bind",
                          "/usr",
                          "/usr",
                          "--symlink",
                          "usr/bin",
                          "/bin",
                          "--symlink",
                          "usr/lib",
                          "/lib",
                          "--symlink",
                          "usr/lib64",
                          "/lib64",
                          "--proc",
                          "/proc",
                          "--dev",
                          "/dev",
                          "--",
                          "/bin/true"},
                         {"PATH=/usr/bin:/bin"},
                         "/",
                         -1,
                         fds[1],
                         /*new_session=*/true};
  req.user = shim::Credentials{uid, uid};
  Result<int> pid = shim::Spawn(req);
  ::close(fds[1]);
  if (!pid.ok()) {
    ::close(fds[0]);
    return FailedPrecondition("bubblewrap cannot start as uid " + std::to_string(uid) + ": " +
                              pid.status().message());
  }
  auto [err, status] = Collect(*pid, fds[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  const std::string line = FirstLine(err);
  if (line.find("namespace") != std::string::npos || line.find("uid map") != std::string::npos) {
    return FailedPrecondition("unprivileged user namespaces are disabled: " + line);
  }
  return FailedPrecondition("bubblewrap cannot start a sandbox: " + line);
}

bool SupportsDisableUserns(const std::string& bwrap) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  shim::SpawnRequest req{{bwrap, "--version"}, {"PATH=/usr/bin:/bin"}, "/", fds[1], fds[1],
                         /*new_session=*/true};
  Result<int> pid = shim::Spawn(req);
  ::close(fds[1]);
  if (!pid.ok()) {
    ::close(fds[0]);
    return false;
  }
  auto [out, status] = Collect(*pid, fds[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  int major = 0, minor = 0;  // "bubblewrap 0.8.0"
  if (std::sscanf(FirstLine(out).c_str(), "bubblewrap %d.%d", &major, &minor) != 2) return false;
  return major > 0 || minor >= 8;
}

}  // namespace outpost::sandbox
