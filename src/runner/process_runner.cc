#include "runner/process_runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <vector>

#include "agents/outcome.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "runner/event_log.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/proc.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/cgroup.h"
#include "runner/shim/sandbox_prep.h"
#include "workspace/collect.h"

namespace outpost {
namespace {

constexpr int kLeftoverGraceMs = 2000;

// The grandchild: becomes the shim. Only async-signal-safe calls (the server is threaded).
// `secrets_fd` (a memfd above 2, or -1) becomes the shim's fd kSecretsFd; `uid_lock_fd` (the
// run's uid lock, or -1) its fd kUidLockFd. Both are above kUidLockFd here (Launch), so the
// dup2s cannot clobber one another.
[[noreturn]] void ExecShim(char* const argv[], char* const envp[], int secrets_fd,
                           int uid_lock_fd) {
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }
  // dup2 leaves the copies without close-on-exec.
  if (secrets_fd >= 0 && ::dup2(secrets_fd, kSecretsFd) < 0) ::_exit(127);
  if (uid_lock_fd >= 0 && ::dup2(uid_lock_fd, kUidLockFd) < 0) ::_exit(127);
  if (secrets_fd < 0) ::close(kSecretsFd);
  if (uid_lock_fd < 0) ::close(kUidLockFd);
  // Nothing of the server (listening sockets, the database) may leak into the run.
  ::close_range(kUidLockFd + 1, ~0U, 0);
  (void)!::chdir("/");
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

// The intermediate child: a new session, then the shim is forked off and orphaned, so it is
// re-parented away from the server at once.
[[noreturn]] void Detach(char* const argv[], char* const envp[], int secrets_fd, int uid_lock_fd) {
  ::setsid();
  pid_t pid = ::fork();
  if (pid == 0) ExecShim(argv, envp, secrets_fd, uid_lock_fd);
  ::_exit(pid < 0 ? 1 : 0);
}

// mtime of a file as wall time; nullopt when it is missing.
std::optional<WallTime> ModTime(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

// Audit F5: a run whose shim is gone may have left its workspace image mounted: unmounted and
// handed back to the pool (a no-op for a run without one).
void ReleaseLeftDisk(const RunDir& dir) {
  Result<LaunchSpec> spec = dir.ReadSpec();
  if (!spec.ok() || spec->sandbox.image_pool.empty()) return;
  if (spec->sandbox.home.empty()) spec->sandbox.home = dir.File("home");
  // A failure leaves it mounted: Discard then cannot remove the run dir, and says so.
  (void)shim::ReleaseRunDisk(*spec, dir);
}

}  // namespace

ProcessRunner::ProcessRunner(std::string runs_dir, std::string shim_exe, Clock& clock,
                             Millis start_grace, Mode mode, Config config)
    : files_(runs_dir),
      runs_dir_(files_.runs_dir()),
      shim_exe_(std::move(shim_exe)),
      clock_(clock),
      start_grace_(start_grace),
      mode_(mode),
      config_(std::move(config)) {}

RunDir ProcessRunner::Dir(const std::string& run_id) const { return files_.Dir(run_id); }

Result<EventBatch> ProcessRunner::ReadEvents(const RunId& id, std::int64_t after,
                                             std::size_t max_bytes) {
  return files_.ReadEvents(id, after, max_bytes);
}

Result<std::unique_ptr<EventWatch>> ProcessRunner::WatchEvents(const RunId& id,
                                                               std::function<void()> wake) {
  return files_.WatchEvents(id, std::move(wake));
}

Result<std::unique_ptr<ByteSource>> ProcessRunner::OpenOutput(const RunId& id, RunOutput what) {
  return files_.OpenOutput(id, what);
}

std::optional<Changes> ProcessRunner::ChangesOf(const RunId& id) { return files_.ChangesOf(id); }

RunProgress ProcessRunner::Progress(const RunId& id) { return files_.Progress(id); }

std::vector<BlockedConnection> ProcessRunner::Blocked(const RunId& id) {
  return files_.Blocked(id);
}

std::vector<Runner::KeptRun> ProcessRunner::KeptRuns() { return files_.KeptRuns(); }

LaunchSpec ProcessRunner::LaunchFor(const RunSpec& in) const {
  // in.channel (the run-channel token) is deliberately not passed on: the shim reports through
  // this replica (its journal), and nothing the sandboxed agent can reach may hold the token.
  RunDir dir = Dir(in.id.str());
  LaunchSpec spec;
  spec.run_id = in.id.str();
  spec.argv = in.argv;
  spec.env = in.env;
  spec.workspace = dir.workspace();
  // The agent's own home, outside the workspace: its config and caches never show in the diff.
  spec.env["HOME"] = dir.File("home");
  spec.timeout_seconds = in.limits.timeout_seconds;
  spec.inactivity_timeout_seconds = in.limits.inactivity_timeout_seconds;
  spec.grace_seconds = in.limits.grace_seconds;
  if (in.repo) {
    spec.repo_url = in.repo->url;
    spec.branch = in.repo->branch;
    spec.pin = in.repo->pin;
    spec.repo_cache_dir = in.repo->cache_dir;
    spec.git_token = in.repo->git_token;
    spec.git_token_url = in.repo->git_token_url;
    spec.git_allow_private_hosts = in.repo->allow_private_hosts;
    spec.git_ssh_known_hosts = in.repo->ssh_known_hosts;
    spec.local_repo_roots = in.repo->local_repo_roots;
    spec.data_dir = in.repo->data_dir;
    spec.context_level = in.repo->context_level;
    spec.task_arg_index = in.repo->task_arg_index;
  }
  spec.max_output_bytes = in.limits.max_output_bytes;
  spec.collect_timeout_seconds = config_.collect_timeout_seconds;
  spec.collect_max_bytes = config_.collect_max_bytes;
  spec.parser = in.parser;
  spec.home_files = in.home_files;
  spec.notify_socket = config_.notify_socket;
  spec.redact = in.redact;
  spec.verify = in.verify;
  if (mode_ != Mode::kSandbox) return spec;

  SandboxSpec& sb = spec.sandbox;
  sb.enabled = true;
  sb.home = dir.File("home");
  sb.ro_binds = config_.ro_binds;
  sb.ro_binds.insert(sb.ro_binds.end(), in.agent_dirs.begin(), in.agent_dirs.end());
  sb.network = std::string(ToString(in.network));
  sb.allow = in.allow;
  sb.outpost_exe = config_.outpost_exe;
  sb.disable_userns = config_.disable_userns;
  // "{outpost}" (a built-in agent) runs this binary at its fixed path inside the sandbox: its
  // host path may lie under a directory the sandbox mounts over (/work, /tmp).
  if (!config_.outpost_exe.empty()) {
    std::replace(spec.argv.begin(), spec.argv.end(), config_.outpost_exe,
                 std::string(sandbox::kOutpostExe));
  }
  sb.memory_bytes = in.limits.memory_bytes;
  sb.cpu_millicores = in.limits.cpu_millicores;
  sb.disk_bytes = in.limits.disk_bytes;
  sb.image_pool = config_.image_pool;
  sb.pids_max = in.limits.pids_max;
  sb.cgroup_name = "outpost/" + in.id.str();
  spec.env["HOME"] = "/home/agent";
  return spec;
}

Status ProcessRunner::Start(const RunSpec& spec) {
  LaunchSpec launch = LaunchFor(spec);
  if (mode_ != Mode::kSandbox) return StartLaunch(launch);
  Result<UidLock> lock = LockFreeUid(launch.run_id);
  if (!lock.ok()) return lock.status();
  launch.sandbox.uid = launch.sandbox.gid = lock->uid;
  Status st = StartLaunch(launch, lock->fd);
  // The shim holds the lock now (or nothing of the run runs: the uid is free again).
  ::close(lock->fd);
  return st;
}

// Audit F12: a uid is free when no process on the machine runs as it and nobody holds the
// flock on <uid_lock_dir>/<uid> — the shim of a live run, on this server or any other.
Result<ProcessRunner::UidLock> ProcessRunner::LockFreeUid(const std::string& run_id) {
  const std::string& dir = config_.uid_lock_dir;
  if (Status st = MakeDirs(dir, 0700); !st.ok()) {
    return Unavailable("sandbox uid lock directory: " + st.message());
  }
  const std::set<int> busy = proc::UidsInUse(config_.uid_min, config_.uid_max);
  for (int uid = config_.uid_min; uid <= config_.uid_max; ++uid) {
    if (busy.count(uid)) continue;
    const std::string path = dir + "/" + std::to_string(uid);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    // Under the lock, again: a shim that died just now may have left processes (the reaper
    // frees the uid by killing them).
    if (proc::UidsInUse(uid, uid).count(uid)) {
      ::close(fd);
      continue;
    }
    // Who holds it, for an operator (the lock is the flock, not the content).
    const std::string holder = run_id + "\n";
    (void)!::ftruncate(fd, 0);
    (void)!::pwrite(fd, holder.data(), holder.size(), 0);
    return UidLock{uid, fd};
  }
  return Unavailable("no free sandbox uid in [" + std::to_string(config_.uid_min) + ", " +
                     std::to_string(config_.uid_max) + "] (locks in " + dir + ")");
}

Status ProcessRunner::StartLaunch(const LaunchSpec& spec, int uid_lock_fd) {
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
  OUTPOST_RETURN_IF_ERROR(dir.WriteSpec(full));  // without the secrets
  return Launch(dir.path(), SecretsToJson(full), uid_lock_fd);
}

// A sealed memfd holding `content`, above fd 2 and close-on-exec; -1 when none can be made.
int SecretsMemfd(std::string_view content) {
  int raw = ::memfd_create("outpost-secrets", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (raw < 0) return -1;
  int fd = ::fcntl(raw, F_DUPFD_CLOEXEC, kUidLockFd + 1);
  ::close(raw);
  if (fd < 0) return -1;
  if (!WriteAll(fd, content).ok() || ::lseek(fd, 0, SEEK_SET) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

// Double fork: the caller waits only for the intermediate child, which exits at once.
Status ProcessRunner::Launch(const std::string& run_dir, const std::string& secrets,
                             int uid_lock_fd) const {
  std::string exe = shim_exe_, verb = "shim", path = run_dir;  // built before fork
  char* const argv[] = {exe.data(), verb.data(), path.data(), nullptr};
  // The server's environment minus its secrets (OUTPOST_SECRET_*): the shim gets the values a
  // run needs from `secrets` and would otherwise carry every secret in its environ.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view var(*e);
    if (var.starts_with("OUTPOST_SECRET_") || var.starts_with(kSecretsFdVariable) ||
        var.starts_with(kUidLockFdVariable)) {
      continue;
    }
    env_strings.emplace_back(*e);
  }
  if (uid_lock_fd >= 0) {
    env_strings.push_back(std::string(kUidLockFdVariable) + "=" + std::to_string(kUidLockFd));
  }
  // The run's secrets, in memory only: a memfd the shim inherits (it outlives this process,
  // so a server that dies now loses nothing). Without memfds, a 0600 file the shim removes.
  const int secrets_fd = SecretsMemfd(secrets);
  if (secrets_fd >= 0) {
    env_strings.push_back(std::string(kSecretsFdVariable) + "=" + std::to_string(kSecretsFd));
  } else {
    OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(RunDir(run_dir).File(kSecretsFile), secrets, 0600));
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  auto drop_secrets_file = [&] {
    if (secrets_fd < 0) ::unlink(RunDir(run_dir).File(kSecretsFile).c_str());
  };
  // The lock's copy for the shim, above the fds the shim gets (the caller closes its own).
  const int lock_fd = uid_lock_fd >= 0 ? ::fcntl(uid_lock_fd, F_DUPFD_CLOEXEC, kUidLockFd + 1) : -1;
  auto close_fds = [&] {
    if (secrets_fd >= 0) ::close(secrets_fd);
    if (lock_fd >= 0) ::close(lock_fd);
  };
  if (uid_lock_fd >= 0 && lock_fd < 0) {
    const int err = errno;
    close_fds();
    drop_secrets_file();
    return Internal(std::string("dup uid lock: ") + std::strerror(err));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    close_fds();
    drop_secrets_file();
    return Internal(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) Detach(argv, envp.data(), secrets_fd, lock_fd);
  close_fds();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    drop_secrets_file();
    return Internal("could not launch the shim for " + run_dir);
  }
  return Status::Ok();
}

Status ProcessRunner::RequestCancel(const RunId& id, const std::string& reason) {
  RunDir dir = Dir(id.str());
  if (!FileExists(dir.path())) return NotFound("no run directory for " + id.str());
  // Idempotent: a repeated cancel keeps the first reason and only re-signals.
  if (!dir.ReadCancel()) OUTPOST_RETURN_IF_ERROR(dir.WriteCancel({reason, clock_.Now()}));
  // Without shim.json the shim has not started yet; it reads cancel.json before the agent.
  Result<ShimInfo> shim = dir.ReadShimInfo();
  if (shim.ok() && proc::IsAlive(*shim)) ::kill(shim->pid, SIGUSR1);
  return Status::Ok();
}

ShimProbe ProcessRunner::Probe(const RunId& id) {
  const std::string& run_id = id.str();
  RunDir dir = Dir(run_id);
  auto exited = [&]() -> std::optional<ShimProbe> {
    std::optional<ExitRecord> rec = files_.ReadExit(id);
    if (!rec) return std::nullopt;
    // The fallback secrets file of a shim that died before reading it (run_dir.h).
    ::unlink(dir.File(kSecretsFile).c_str());
    return ShimProbe{ShimState::kExited, std::move(*rec)};
  };
  if (auto p = exited()) return *p;
  Result<ShimInfo> shim = dir.ReadShimInfo();
  if (shim.ok()) {
    if (proc::IsAlive(*shim)) return {ShimState::kRunning, std::nullopt};
    // The shim may have written exit.json between our two reads, then exited.
    if (auto p = exited()) return *p;
    ::unlink(dir.File(kSecretsFile).c_str());
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
  if (proc::RunProcesses(runs_dir_, mode_ != Mode::kSandbox).count(run_id) == 0) {
    ::unlink(dir.File(kSecretsFile).c_str());  // no shim came to read it
    std::error_code ec;
    std::filesystem::rename(dir.File("spec.json"), dir.File("spec.json.unlaunched"), ec);
    if (!ec) return {ShimState::kNotStarted, std::nullopt};
  }
  return {ShimState::kLost, std::nullopt};
}

std::optional<WallTime> ProcessRunner::Started(const RunId& id) {
  return Dir(id.str()).ReadStarted();
}

int ProcessRunner::KillLeftovers(const RunId& id) { return Reap(id); }

// Audit F3: the group is exactly outpost/<ULID> (never a name read from a file); its members
// are killed and it is removed.
int ProcessRunner::KillCgroup(const std::string& run_id) {
  if (!IsUlid(run_id)) return 0;
  Result<sandbox::Cgroup> cg = sandbox::Cgroup::Open("outpost/" + run_id);
  if (!cg.ok()) return 0;
  int killed = cg->KillAll(kLeftoverGraceMs, clock_);
  (void)cg->Remove(clock_);
  return killed;
}

Status ProcessRunner::Discard(const RunId& id) {
  if (id.empty() || id.str().find('/') != std::string::npos || id.str() == "." ||
      id.str() == "..") {
    return InvalidArgument("bad run id: " + id.str());
  }
  ReleaseLeftDisk(Dir(id.str()));
  return files_.Discard(id);
}

std::vector<RunId> ProcessRunner::LiveRuns() {
  std::vector<RunId> out;
  // Ids are ULIDs (RunProcesses): a path built from one stays in this runs dir.
  for (const auto& [id, pids] : proc::RunProcesses(runs_dir_, mode_ != Mode::kSandbox)) {
    if (IsRegularFile(runs_dir_ + "/" + id + "/spec.json")) out.emplace_back(id);
  }
  return out;
}

// Every process attributed to the run (proc::RunProcesses: by cgroup, the shim by its argv,
// OUTPOST_RUN_ID only for the unisolated runner), then in sandbox mode its cgroup. Its uid is
// free again once nothing runs as it (LockFreeUid).
int ProcessRunner::Reap(const RunId& id) {
  const std::string& run_id = id.str();
  if (!IsUlid(run_id)) return 0;
  const bool markers = mode_ != Mode::kSandbox;
  int killed = proc::KillAndVerify(
      [&] {
        auto all = proc::RunProcesses(runs_dir_, markers);
        auto it = all.find(run_id);
        return it == all.end() ? std::vector<int>{} : it->second;
      },
      kLeftoverGraceMs, clock_);
  if (mode_ == Mode::kSandbox) killed += KillCgroup(run_id);
  ReleaseLeftDisk(Dir(run_id));
  DropUnscrubbed(Dir(run_id));
  return killed;
}

// Issue 18 item 8: a run that left no exit record lost its shim before the shim could scrub
// the agent's home and workspace of secret values (only the shim held them), so once nothing
// of the run is left both go whole. Links are removed, never followed.
void ProcessRunner::DropUnscrubbed(const RunDir& dir) {
  if (FileExists(dir.File("exit.json"))) return;
  for (const std::string& path : {dir.File("home"), dir.workspace()}) {
    std::error_code ec;
    if (std::filesystem::remove_all(path, ec) > 0 && !ec) {
      spdlog::info("removed {} of a run its shim did not end (it may hold secrets)", path);
    } else if (ec) {
      spdlog::warn("{} not removed: {}", path, ec.message());
    }
  }
}

}  // namespace outpost
