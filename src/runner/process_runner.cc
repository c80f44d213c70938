#include "runner/process_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "common/files.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/proc.h"
#include "runner/sandbox/cgroup.h"

namespace outpost {
namespace {

constexpr int kLeftoverGraceMs = 2000;

// The grandchild: becomes the shim. Only async-signal-safe calls (the server is threaded).
[[noreturn]] void ExecShim(char* const argv[], char* const envp[]) {
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }
  // Nothing of the server (listening sockets, the database) may leak into the run.
  ::close_range(3, ~0U, 0);
  (void)!::chdir("/");
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

// The intermediate child: a new session, then the shim is forked off and orphaned, so it is
// re-parented away from the server at once.
[[noreturn]] void Detach(char* const argv[], char* const envp[]) {
  ::setsid();
  pid_t pid = ::fork();
  if (pid == 0) ExecShim(argv, envp);
  ::_exit(pid < 0 ? 1 : 0);
}

// mtime of a file as wall time; nullopt when it is missing.
std::optional<WallTime> ModTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

}  // namespace

ProcessRunner::ProcessRunner(std::string runs_dir, std::string shim_exe, Clock& clock,
                             Millis start_grace, Mode mode)
    : runs_dir_(std::filesystem::absolute(runs_dir).string()),
      shim_exe_(std::move(shim_exe)),
      clock_(clock),
      start_grace_(start_grace),
      mode_(mode) {}

RunDir ProcessRunner::Dir(const std::string& run_id) const {
  return RunDir(runs_dir_ + "/" + run_id);
}

Status ProcessRunner::Start(const LaunchSpec& spec) {
  if (spec.run_id.empty() || spec.run_id.find('/') != std::string::npos || spec.run_id == "." ||
      spec.run_id == "..") {
    return InvalidArgument("bad run id: " + spec.run_id);
  }
  // A shim that cannot exec would only show up as kLost after the start grace.
  if (::access(shim_exe_.c_str(), X_OK) != 0) {
    return Internal("shim executable " + shim_exe_ + ": " + std::strerror(errno));
  }
  const bool sandbox = mode_ == Mode::kSandbox;
  if (spec.sandbox.enabled != sandbox) {
    return InvalidArgument(sandbox ? "the sandbox runner needs a spec with sandbox.enabled"
                                   : "the process runner cannot run a sandboxed spec");
  }
  RunDir dir = Dir(spec.run_id);
  OUTPOST_RETURN_IF_ERROR(MakeDirs(dir.path(), sandbox ? 0711 : 0700));
  if (FileExists(dir.File("spec.json"))) return Conflict("run already started: " + spec.run_id);
  LaunchSpec full = spec;
  if (full.workspace.empty()) full.workspace = dir.workspace();
  OUTPOST_RETURN_IF_ERROR(dir.WriteSpec(full));
  return Launch(dir.path());
}

// Double fork: the caller waits only for the intermediate child, which exits at once.
Status ProcessRunner::Launch(const std::string& run_dir) const {
  std::string exe = shim_exe_, verb = "shim", path = run_dir;  // built before fork
  char* const argv[] = {exe.data(), verb.data(), path.data(), nullptr};
  // The server's environment minus its secrets (OUTPOST_SECRET_*): the shim gets the values a
  // run needs through spec.json (0600) and would otherwise carry every secret in its environ.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("OUTPOST_SECRET_")) continue;
    env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) Detach(argv, envp.data());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal("could not launch the shim for " + run_dir);
  }
  return Status::Ok();
}

Status ProcessRunner::RequestCancel(const std::string& run_id, const std::string& reason) {
  RunDir dir = Dir(run_id);
  if (!FileExists(dir.path())) return NotFound("no run directory for " + run_id);
  // Idempotent: a repeated cancel keeps the first reason and only re-signals.
  if (!dir.ReadCancel()) OUTPOST_RETURN_IF_ERROR(dir.WriteCancel({reason, clock_.Now()}));
  // Without shim.json the shim has not started yet; it reads cancel.json before the agent.
  Result<ShimInfo> shim = dir.ReadShimInfo();
  if (shim.ok() && proc::IsAlive(*shim)) ::kill(shim->pid, SIGUSR1);
  return Status::Ok();
}

ShimProbe ProcessRunner::Probe(const std::string& run_id) {
  RunDir dir = Dir(run_id);
  auto exited = [&dir]() -> std::optional<ShimProbe> {
    Result<ExitRecord> rec = dir.ReadExit();
    if (!rec.ok()) return std::nullopt;
    return ShimProbe{ShimState::kExited, std::move(rec).value()};
  };
  if (auto p = exited()) return *p;
  Result<ShimInfo> shim = dir.ReadShimInfo();
  if (shim.ok()) {
    if (proc::IsAlive(*shim)) return {ShimState::kRunning, std::nullopt};
    // The shim may have written exit.json between our two reads, then exited.
    if (auto p = exited()) return *p;
    return {ShimState::kLost, std::nullopt};
  }
  std::optional<WallTime> spec_time = ModTime(dir.File("spec.json"));
  // Start writes spec.json before it launches the shim: without one, no shim ever came.
  if (!spec_time) return {ShimState::kNotStarted, std::nullopt};
  if (clock_.Now() - *spec_time < start_grace_) {
    return {ShimState::kRunning, std::nullopt};
  }
  if (auto p = exited()) return *p;  // a shim that failed before writing shim.json
  // No shim.json, no exit record, and nothing of the run alive: the server died between
  // writing spec.json and forking the shim (or the shim died before its first step). Nothing
  // of the run ran, since the shim writes shim.json before anything else: it is started
  // again rather than failed. The spec is set aside, so that Start writes a fresh one.
  if (proc::RunProcesses(runs_dir_).count(run_id) == 0) {
    std::error_code ec;
    std::filesystem::rename(dir.File("spec.json"), dir.File("spec.json.unlaunched"), ec);
    if (!ec) return {ShimState::kNotStarted, std::nullopt};
  }
  return {ShimState::kLost, std::nullopt};
}

int ProcessRunner::KillLeftovers(const std::string& run_id) {
  const std::string marker = std::string(proc::kRunIdVariable) + "=" + run_id;
  int killed = proc::KillAndVerify([&marker] { return proc::FindByEnvMarker(marker); },
                                   kLeftoverGraceMs, clock_);
  if (mode_ == Mode::kSandbox) killed += KillCgroup(run_id);
  return killed;
}

// The cgroup a dead shim left (its name is in spec.json); kills its members, removes it.
int ProcessRunner::KillCgroup(const std::string& run_id) {
  Result<LaunchSpec> spec = Dir(run_id).ReadSpec();
  if (!spec.ok()) return 0;
  const std::string name =
      spec->sandbox.cgroup_name.empty() ? "outpost/" + run_id : spec->sandbox.cgroup_name;
  Result<sandbox::Cgroup> cg = sandbox::Cgroup::Open(name);
  if (!cg.ok()) return 0;
  int killed = cg->KillAll(kLeftoverGraceMs, clock_);
  (void)cg->Remove(clock_);
  return killed;
}

std::vector<BlockedConnection> ProcessRunner::Blocked(const std::string& run_id) {
  std::vector<BlockedConnection> out;
  auto attempts = netproxy::ReadBlocked(runs_dir_ + "/" + run_id + "/network-blocked.jsonl");
  if (!attempts.ok()) return out;
  for (const auto& a : *attempts) out.push_back({a.host, a.port, a.at});
  return out;
}

std::vector<std::string> ProcessRunner::LiveRuns() {
  std::vector<std::string> out;
  for (const auto& [id, pids] : proc::RunProcesses(runs_dir_)) {
    if (FileExists(runs_dir_ + "/" + id + "/spec.json")) out.push_back(id);
  }
  return out;
}

int ProcessRunner::Reap(const std::string& run_id) {
  int killed = proc::KillAndVerify(
      [&] {
        auto all = proc::RunProcesses(runs_dir_);
        auto it = all.find(run_id);
        return it == all.end() ? std::vector<int>{} : it->second;
      },
      kLeftoverGraceMs, clock_);
  if (mode_ == Mode::kSandbox) killed += KillCgroup(run_id);
  return killed;
}

}  // namespace outpost
