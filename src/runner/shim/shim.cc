#include "runner/shim/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/encoding.h"
#include "common/files.h"
#include "common/time_util.h"
#include "runner/netproxy/blocked_log.h"
#include "runner/notify.h"
#include "runner/proc.h"
#include "runner/run_dir.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/cgroup.h"
#include "runner/sandbox/probe.h"
#include "runner/shim/deadlines.h"
#include "runner/shim/output_capture.h"
#include "runner/shim/sandbox_prep.h"
#include "runner/shim/scrub.h"
#include "runner/shim/shim_events.h"
#include "runner/shim/spawn.h"
#include "secrets/redactor.h"
#include "workspace/collect.h"
#include "workspace/context.h"
#include "workspace/prepare.h"
#include "workspace/repo_spec.h"

// One process, one thread, one poll loop: the agent's two pipes plus a signalfd. Signals are
// blocked and read from the signalfd so that SIGCHLD/SIGUSR1/SIGTERM are ordinary events of
// the loop (no handlers, no races with the loop's state). The shim is a child subreaper, so
// whatever the agent daemonizes is re-parented to it: Descendants(getpid()) is the whole tree
// and waitpid(-1) reaps it all.
//
// Sandboxed (spec.sandbox.enabled), the agent is bwrap running as the sandbox uid inside the
// run's cgroup, which it joins before exec: the cgroup, not the process tree, is then what has
// to be empty before exit.json is written (Cgroup::KillAll freezes it around every signal
// round, so nothing forks its way out). The pid namespace does the rest: when bwrap's init
// goes, the kernel kills everything left inside.
namespace outpost {
namespace {

constexpr int kLeftoverGraceMs = 2000;    // after a normal exit, daemons get this much
constexpr Millis kDrainLimit{5000};       // pipes left open by a process outside the tree
constexpr std::size_t kTailBytes = 4096;  // of git's stdout/stderr (workspace::Prepare)
constexpr std::size_t kReadChunk = 65536;
constexpr Millis kDiskCheckInterval{2000};
constexpr Millis kProgressInterval{1000};  // progress.json at most this often

// One pipe from a child: its data goes to `sink` as it comes.
struct Stream {
  int fd = -1;    // read end, non-blocking; -1 once at EOF
  int sink = -1;  // an O_APPEND file
  std::int64_t bytes = 0;
  std::string* tail = nullptr;   // keeps the last kTailBytes when set
  Redactor* redactor = nullptr;  // when set, what reaches `sink` is redacted (bytes counts it)
  // The agent's streams: everything goes to `capture` (logs, events, cap) instead of `sink`.
  shim::OutputCapture* capture = nullptr;
  shim::OutStream which = shim::OutStream::kStdout;
  // The verify command's output: only its last kTailBytes (after redaction) are kept, here
  // (then `sink` is -1: nothing is written).
  std::string* kept = nullptr;
};

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           sigabbrev_np(WTERMSIG(status)) + ")";
  }
  return "ended with status " + std::to_string(status);
}

int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

// A pipe whose read end is non-blocking and close-on-exec; the write end goes to a child.
bool MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return true;
}

// The run's secrets (run_dir.h, kSecretsFd): read from the inherited memfd, which is then
// closed, or from the fallback file, which is then removed. "" when the runner gave none.
Result<std::string> TakeSecrets(const RunDir& dir) {
  if (const char* fd_var = std::getenv(std::string(kSecretsFdVariable).c_str())) {
    const int fd = std::atoi(fd_var);
    ::unsetenv(std::string(kSecretsFdVariable).c_str());
    if (fd < 3) return Internal(std::string("bad ") + std::string(kSecretsFdVariable));
    std::string text;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return Internal(std::string("cannot read the run's secrets: ") + std::strerror(err));
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
  }
  const std::string file = dir.File(kSecretsFile);
  Result<std::string> text = ReadFile(file);
  ::unlink(file.c_str());
  if (!text.ok() && text.status().code() == Code::kNotFound) return std::string();
  return text;
}

class Shim {
 public:
  Shim(const std::string& run_dir, Clock& clock) : dir_(run_dir), clock_(clock) {}
  ~Shim();
  int Run();

 private:
  // Setup, in the order the protocol needs.
  Status Setup();
  bool CancelledBeforeStart();
  Status WriteHomeFiles();
  bool Clone();
  Result<workspace::GitOutput> RunGit(const workspace::GitCommand& cmd);
  void AddContext();
  void CollectChanges();
  Status PrepareSandbox();
  Status StartSandbox();
  Status PrepareContainer();
  Status HandOverToAgent();
  bool StartAgent(Stream& out, Stream& err);
  shim::SpawnRequest AgentRequest(int out_fd, int err_fd) const;
  void RunVerify();

  // The event loop.
  // Runs the loop until the watched child is reaped or a stop is decided.
  void Watch(std::vector<Stream*>& streams, bool inactivity);
  void CheckDisk(MonoTime now);
  void Pump(std::vector<Stream*>& streams, int timeout_ms);
  void ReadStream(Stream& s);
  void Emit(Stream& s, std::string_view data);
  void HandleSignals();
  void ReapAll();
  void RequestStop(ExitOutcome outcome, std::string message);
  void OnCancelSignal(bool terminate);

  // Ending.
  int KillTree(int grace_ms, std::vector<Stream*>& streams);
  int KillCgroup(int grace_ms, std::vector<Stream*>& streams);
  void FinishCgroup();
  void EndChild(int pid, std::vector<Stream*>& streams);
  void Drain(std::vector<Stream*>& streams);
  int Finish();
  int StartFailed(std::string message);
  void ScrubSecrets();
  void WriteProgress(bool collecting);
  void RemoveWorkspace();
  bool ProgressPending() const;
  void EmitRefusedConnections();
  void Log(std::string_view line);

  RunDir dir_;
  Clock& clock_;
  LaunchSpec spec_;
  shim::Deadlines deadlines_{};
  MonoTime last_output_{};
  int sigfd_ = -1;
  int log_fd_ = -1;
  int watched_pid_ = -1;               // git, then the agent
  std::optional<int> watched_status_;  // its wait status once reaped
  std::optional<ExitOutcome> stop_;    // the stop outcome once decided
  ExitRecord rec_;
  std::optional<workspace::Prepared> prepared_;  // once the checkout is made
  // Sandbox only.
  std::string bwrap_;                             // absolute, resolved at start
  std::optional<sandbox::Cgroup> cgroup_;         // once created
  std::unique_ptr<netproxy::EgressProxy> proxy_;  // allowlist runs: alive until the shim ends
  bool agent_in_cgroup_ = false;                  // the watched child is the sandboxed agent
  shim::ShimEvents events_;                       // events.jsonl, until just before exit.json
  std::unique_ptr<shim::OutputCapture> capture_;  // the agent's output, once it starts
  MonoTime next_disk_check_{};
  bool disk_mounted_ = false;        // the run's own file system (audit F5) is mounted
  std::int64_t progress_turns_ = 0;  // in the last progress.json
  bool changes_collected_ = false;   // changes.json written: the workspace may go
  TokenUsage progress_usage_;        // in the last progress.json
  std::optional<double> progress_cost_;
  MonoTime next_progress_{};
  std::int64_t blocked_size_ = 0;  // network-blocked.jsonl's size when last read
  std::size_t blocked_seen_ = 0;   // its attempts already sent as events
};

Shim::~Shim() {
  if (sigfd_ >= 0) ::close(sigfd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void Shim::Log(std::string_view line) {
  if (log_fd_ < 0) return;
  (void)WriteAll(log_fd_, FormatTime(clock_.Now()) + " " + std::string(line) + "\n");
}

int Shim::Run() {
  const MonoTime start = clock_.Mono();
  Result<std::string> secrets = TakeSecrets(dir_);  // first: nothing of them stays behind
  // Audit F12: the uid lock stays held for as long as this process lives, by nothing it starts.
  if (const char* fd = std::getenv(std::string(kUidLockFdVariable).c_str()); fd != nullptr) {
    if (std::string_view(fd) == std::to_string(kUidLockFd))
      ::fcntl(kUidLockFd, F_SETFD, FD_CLOEXEC);
    ::unsetenv(std::string(kUidLockFdVariable).c_str());
  }
  log_fd_ = OpenAppend(dir_.File("shim.log"));
  // First: the space of the exit record (issue 18 item 10).
  if (Status st = dir_.ReserveExit(); !st.ok()) Log("exit record not reserved: " + st.message());
  Result<LaunchSpec> spec = dir_.ReadSpec();
  if (!spec.ok()) return StartFailed("cannot read spec: " + spec.status().message());
  spec_ = std::move(spec).value();
  if (!secrets.ok()) return StartFailed(secrets.status().message());
  if (!secrets->empty()) {
    if (Status st = MergeSecrets(*secrets, spec_); !st.ok()) return StartFailed(st.message());
  }
  events_.Open(dir_, clock_, [this](std::string_view line) { Log(line); });
  deadlines_ = shim::MakeDeadlines(start, spec_.timeout_seconds, spec_.inactivity_timeout_seconds);
  if (Status st = Setup(); !st.ok()) return StartFailed(st.message());
  if (CancelledBeforeStart()) return Finish();
  Status dirs = spec_.sandbox.enabled     ? PrepareSandbox()
                : spec_.container.enabled ? PrepareContainer()
                                          : MakeDirs(spec_.workspace, 0755);
  if (dirs.ok() && !spec_.sandbox.enabled && !spec_.container.enabled) {
    dirs = MakeDirs(dir_.File("home"), 0700);
  }
  if (dirs.ok()) dirs = WriteHomeFiles();
  if (!dirs.ok()) return StartFailed(dirs.message());
  if (spec_.repo_url && !Clone()) return Finish();
  AddContext();
  if (spec_.sandbox.enabled) {
    if (Status st = StartSandbox(); !st.ok()) return StartFailed(st.message());
  }
  if (spec_.container.enabled) {
    if (Status st = HandOverToAgent(); !st.ok()) return StartFailed(st.message());
  }
  Stream out, err;
  // One per stream: a secret split between two reads of the same pipe is still caught.
  Redactor out_redactor(spec_.redact), err_redactor(spec_.redact);
  out.redactor = &out_redactor;
  err.redactor = &err_redactor;
  if (!StartAgent(out, err)) return Finish();
  std::vector<Stream*> streams{&out, &err};
  Watch(streams, /*inactivity=*/true);
  EndChild(watched_pid_, streams);
  for (Stream* s : streams) Emit(*s, s->redactor->Flush());
  EmitRefusedConnections();
  capture_->Finish();
  rec_.stdout_bytes = capture_->totals(shim::OutStream::kStdout).bytes;
  rec_.stderr_bytes = capture_->totals(shim::OutStream::kStderr).bytes;
  rec_.stdout_dropped_bytes = capture_->totals(shim::OutStream::kStdout).dropped;
  rec_.stderr_dropped_bytes = capture_->totals(shim::OutStream::kStderr).dropped;
  RunVerify();
  events_.Phase("collecting");
  WriteProgress(/*collecting=*/true);
  // A run over its disk quota loses its workspace at once, uncollected: collecting would
  // need more of the space it ran out of.
  if (stop_ == ExitOutcome::kDiskQuota) {
    RemoveWorkspace();
  } else {
    CollectChanges();
  }
  events_.Artifacts(dir_);
  return Finish();
}

// The agent's configuration files (AgentOptions::home_files) in its home: the sandbox's private
// home, or $HOME for the unisolated runner. Paths were validated with the config (relative, no
// "..").
Status Shim::WriteHomeFiles() {
  if (spec_.home_files.empty()) return Status::Ok();
  auto home_env = spec_.env.find("HOME");
  const std::string home = spec_.sandbox.enabled         ? spec_.sandbox.home
                           : spec_.container.enabled     ? spec_.container.home
                           : home_env != spec_.env.end() ? home_env->second
                                                         : "";
  if (home.empty() || home.front() != '/') return Internal("the agent has no home directory");
  for (const auto& [rel, content] : spec_.home_files) {
    if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos) {
      return InvalidArgument("home file " + rel + " is not a plain relative path");
    }
    const std::string path = home + "/" + rel;
    const std::string parent = path.substr(0, path.rfind('/'));
    OUTPOST_RETURN_IF_ERROR(MakeDirs(parent, 0700));
    OUTPOST_RETURN_IF_ERROR(WriteFileAtomic(path, content, 0600));
    if (spec_.sandbox.enabled) {
      OUTPOST_RETURN_IF_ERROR(shim::ChownTree(home, spec_.sandbox.uid, spec_.sandbox.gid));
    }
  }
  return Status::Ok();
}

// Signals are blocked before shim.json exists: the server sends SIGUSR1 only once it can read
// shim.json, and by then the signal lands in the signalfd instead of killing us.
Status Shim::Setup() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return Internal(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno));
  }
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return Internal(std::string("sigprocmask: ") + std::strerror(errno));
  }
  sigfd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd_ < 0) return Internal(std::string("signalfd: ") + std::strerror(errno));
  std::optional<std::uint64_t> start_time = proc::StartTime(::getpid());
  if (!start_time) return Internal("cannot read own /proc/self/stat");
  return dir_.WriteShimInfo({::getpid(), *start_time});
}

// A cancel that arrived before shim.json existed was not signalled: look for the file. Also
// consumes any signal already queued (a cancel during the clone is handled by the loop).
bool Shim::CancelledBeforeStart() {
  if (std::optional<CancelRequest> c = dir_.ReadCancel()) {
    rec_.cancel_reason = c->reason;
    RequestStop(ExitOutcome::kCancelled, "cancelled before the agent started");
  }
  HandleSignals();
  if (!stop_) return false;
  rec_.outcome = *stop_;
  return true;
}

// The checkout (workspace::Prepare) runs every git through RunGit, i.e. through this loop, so
// a cancel or the total deadline stops a long clone. It runs as root, outside the sandbox:
// the token never enters it.
bool Shim::Clone() {
  struct LoopGit : workspace::GitExec {
    explicit LoopGit(Shim& s) : shim(s) {}
    Result<workspace::GitOutput> Run(const workspace::GitCommand& c) override {
      return shim.RunGit(c);
    }
    Shim& shim;
  } git(*this);
  const std::string cache =
      spec_.repo_cache_dir.empty() ? dir_.File("repo-cache") : spec_.repo_cache_dir;
  Log("preparing " + workspace::WithoutCredentials(*spec_.repo_url));
  std::optional<workspace::GitCredential> credential;
  if (spec_.git_token && spec_.git_token_url) {
    credential = workspace::GitCredential{*spec_.git_token_url, *spec_.git_token};
  }
  std::string url = *spec_.repo_url;
  if (url.starts_with('/')) {
    // Audit F9: checked at dispatch; again here, and the real path is what is cloned.
    Result<std::string> real =
        workspace::ResolveLocalRepo(url, spec_.local_repo_roots, spec_.data_dir);
    if (!real.ok()) {
      rec_.outcome = ExitOutcome::kRepoError;
      rec_.message = real.status().message();
      return false;
    }
    url = *real;
  }
  Result<workspace::Prepared> p =
      workspace::Prepare(git, {url, spec_.branch, cache, spec_.workspace, credential, spec_.pin,
                               spec_.git_allow_private_hosts, spec_.git_ssh_known_hosts});
  if (stop_) return false;  // cancelled or timed out during the clone: outcome already set
  if (!p.ok()) {
    rec_.outcome = ExitOutcome::kRepoError;
    rec_.message = p.status().message();
    return false;
  }
  prepared_ = *p;
  Log("checked out " + p->branch + " at " + p->before_sha +
      (p->pinned          ? " (the commit of its fan-out group)"
       : p->cache_created ? " (new mirror)"
                          : " (mirror fetched)"));
  return true;
}

// git's status is not the agent's: it is kept out of the exit record.
Result<workspace::GitOutput> Shim::RunGit(const workspace::GitCommand& cmd) {
  int ofd[2], efd[2];
  if (!MakePipe(ofd)) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (!MakePipe(efd)) {
    ::close(ofd[0]);
    ::close(ofd[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  Result<int> pid =
      shim::Spawn({cmd.argv, cmd.env, cmd.cwd, ofd[1], efd[1], /*new_session=*/false});
  ::close(ofd[1]);
  ::close(efd[1]);
  workspace::GitOutput result;
  Stream out{ofd[0], log_fd_, 0, &result.out};
  Stream err{efd[0], log_fd_, 0, &result.err};
  std::vector<Stream*> streams{&out, &err};
  if (pid.ok()) {
    watched_pid_ = *pid;
    Watch(streams, /*inactivity=*/false);
    EndChild(*pid, streams);
  }
  for (Stream* s : streams) {
    if (s->fd >= 0) ::close(s->fd);
  }
  const std::optional<int> status = watched_status_;
  watched_pid_ = -1;
  watched_status_.reset();
  if (!pid.ok()) return pid.status();
  if (stop_) return Unavailable("stopped: " + rec_.message);
  result.exit_code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return result;
}

// The original's v1 context injection: sections of the checked-out repository, prepended to
// the task in the argv element that holds it, and kept as context.md.
void Shim::AddContext() {
  if (!prepared_ || spec_.context_level.empty() || !spec_.task_arg_index) return;
  const auto index = static_cast<std::size_t>(*spec_.task_arg_index);
  if (index >= spec_.argv.size()) return;
  auto repo = workspace::ParseRepoSpec(*spec_.repo_url, /*allow_local=*/true);
  workspace::Context c =
      workspace::AssembleContext(spec_.workspace, repo.ok() ? repo->name : "repo",
                                 spec_.context_level, clock_.Now(), spec_.run_id);
  if (Status st = WriteFileAtomic(dir_.File("context.md"), c.text, 0600); !st.ok()) {
    Log("context.md not written: " + st.message());
  }
  spec_.argv[index] = workspace::EnrichTask(c.text, spec_.argv[index]);
  Log("context " + spec_.context_level + ": " + std::to_string(c.tokens) + "/" +
      std::to_string(c.budget) + " tokens, " + std::to_string(c.sections.size()) + " sections, " +
      std::to_string(c.redactions) + " redactions");
}

// After the agent (and everything it started) is gone, also after a timeout or cancel: the
// partial work is kept. The workspace is the agent's now; workspace::Collect never runs
// anything from it.
void Shim::CollectChanges() {
  if (!prepared_) return;
  // Audit F14: within a budget — the whole collection's time, the size of every file and git
  // output it makes — and its git in the run's cgroup (the run's memory and pids limits), so
  // a workspace made to be huge ends as a typed failure, never as a hung or OOM-killed shim.
  shim::BoundedGit git(
      cgroup_ ? &*cgroup_ : nullptr,
      std::chrono::steady_clock::now() + std::chrono::seconds(spec_.collect_timeout_seconds),
      spec_.collect_max_bytes);
  Result<workspace::ChangeSet> c = workspace::Collect(
      git,
      {spec_.workspace, prepared_->before_sha, dir_.path(), prepared_->cache_dir, spec_.redact});
  if (!c.ok() && git.failure().empty()) {
    Log("changes not collected: " + c.status().message());
    return;
  }
  workspace::ChangeSet cs;
  if (!c.ok()) {
    cs.kind = "uncollected";
    cs.before_sha = prepared_->before_sha;
    cs.failure = git.failure();
    cs.failure_message = c.status().message();
  } else {
    cs = std::move(*c);
    std::error_code ec;
    const auto patch_bytes = std::filesystem::file_size(dir_.File("diff.patch"), ec);
    if (cs.patch && !ec && static_cast<std::int64_t>(patch_bytes) > spec_.collect_max_bytes) {
      cs.failure = "too_large";
      cs.failure_message = "diff.patch is larger than " + std::to_string(spec_.collect_max_bytes) +
                           " bytes ([limits] collect_max_bytes)";
    }
  }
  if (!cs.failure.empty()) {
    Log("changes not collected (" + cs.failure + "): " + cs.failure_message);
    std::error_code ec;
    std::filesystem::remove(dir_.File("diff.patch"), ec);
    std::filesystem::remove(dir_.File("changes.bundle"), ec);
    cs.patch = cs.bundle = false;
  }
  // The patch is served and kept like the logs: secrets the agent wrote into files are
  // replaced there too, and the bundle that would carry them is withheld. (It is at most
  // collect_max_bytes: read whole.)
  if (cs.patch) {
    if (Status st = workspace::RedactPatch(dir_.path(), spec_.redact, cs); !st.ok()) {
      Log("diff.patch not redacted, removed: " + st.message());
      std::error_code ec;
      std::filesystem::remove(dir_.File("diff.patch"), ec);
      std::filesystem::remove(dir_.File("changes.bundle"), ec);
      cs.patch = cs.bundle = false;
    }
  }
  if (cs.redacted) Log("changes.bundle withheld: " + cs.redaction);
  if (Status st = workspace::WriteChanges(dir_.File("changes.json"), cs); !st.ok()) {
    Log("changes.json not written: " + st.message());
    return;
  }
  changes_collected_ = true;
  Log("changes: " + cs.kind + ", " + std::to_string(cs.files_changed.size()) + " files");
}

Status Shim::PrepareSandbox() {
  shim::DefaultSandboxPaths(spec_, dir_);
  Result<std::string> bwrap = sandbox::FindExecutable("bwrap");
  if (!bwrap.ok()) return FailedPrecondition("bubblewrap is not installed (no bwrap on PATH)");
  bwrap_ = *bwrap;
  // Audit F5: the workspace and home on a file system of the run's disk limit, so nothing the
  // agent does (a file deleted while open, a tree too deep to walk) uses more than it.
  if (!spec_.sandbox.image_pool.empty() && spec_.sandbox.disk_bytes) {
    Result<bool> fresh = shim::MountRunDisk(spec_, dir_);
    if (fresh.ok()) {
      disk_mounted_ = true;
      Log("workspace image of " + std::to_string(*spec_.sandbox.disk_bytes) + " bytes mounted" +
          (*fresh ? " (formatted now: none was free)" : ""));
    } else {
      Log("WARNING: no workspace image (" + fresh.status().message() +
          "): the disk limit falls back to the polling watchdog");
    }
  }
  return shim::PrepareSandboxDirs(spec_, dir_);
}

// Container mode: the workspace and the agent's home exist (bind mounts, or made here); the
// agent's identity must be unprivileged.
Status Shim::PrepareContainer() {
  const ContainerSpec& c = spec_.container;
  if (c.agent_uid <= 0 || c.agent_gid <= 0) {
    return InvalidArgument("the agent's uid/gid must be unprivileged, got " +
                           std::to_string(c.agent_uid) + ":" + std::to_string(c.agent_gid));
  }
  if (c.home.empty() || c.home.front() != '/') return InvalidArgument("the agent has no home");
  if (c.network == "allowlist" && (c.proxy_socket.empty() || c.outpost_exe.empty())) {
    return InvalidArgument("an allowlist run needs the proxy socket and the outpost binary");
  }
  OUTPOST_RETURN_IF_ERROR(MakeDirs(spec_.workspace, 0700));
  return MakeDirs(c.home, 0700);
}

// Container mode, after the clone (which ran as root, with the token): the workspace and home
// become the agent's.
Status Shim::HandOverToAgent() {
  const ContainerSpec& c = spec_.container;
  OUTPOST_RETURN_IF_ERROR(shim::ChownTree(spec_.workspace, c.agent_uid, c.agent_gid));
  OUTPOST_RETURN_IF_ERROR(shim::ChownTree(c.home, c.agent_uid, c.agent_gid));
  for (const std::string& d : {spec_.workspace, c.home}) {
    if (::chmod(d.c_str(), 0700) != 0) {
      return Internal("chmod " + d + ": " + std::strerror(errno));
    }
  }
  Log("workspace and home handed to uid " + std::to_string(c.agent_uid));
  return Status::Ok();
}

// After the clone (which ran as root): hand the workspace over, make the cgroup, start the
// proxy. The cgroup exists from here on, so Finish removes it whatever happens next.
Status Shim::StartSandbox() {
  if (spec_.repo_url) {
    OUTPOST_RETURN_IF_ERROR(shim::ChownTree(spec_.workspace, spec_.sandbox.uid, spec_.sandbox.gid));
  }
  Result<sandbox::Cgroup> cg =
      sandbox::Cgroup::Create(spec_.sandbox.cgroup_name, shim::LimitsOf(spec_.sandbox));
  if (!cg.ok()) return cg.status();
  cgroup_ = *cg;
  Log("cgroup " + cgroup_->version() + " " + spec_.sandbox.cgroup_name);
  if (spec_.sandbox.network == "allowlist") {
    auto proxy = shim::StartNetworkProxy(spec_, dir_);
    if (!proxy.ok()) return proxy.status();
    proxy_ = std::move(*proxy);
    Log("egress proxy on " + proxy_->socket_path());
  }
  next_disk_check_ = clock_.Mono();
  return Status::Ok();
}

// The environment goes through envp, never argv: bwrap hands it on to the agent.
shim::SpawnRequest Shim::AgentRequest(int out_fd, int err_fd) const {
  if (spec_.container.enabled) {
    shim::SpawnRequest req{
        shim::ContainerArgv(spec_), shim::ContainerEnv(spec_), spec_.workspace, out_fd, err_fd,
        /*new_session=*/true};
    req.user = shim::Credentials{spec_.container.agent_uid, spec_.container.agent_gid};
    return req;
  }
  if (!cgroup_) {
    std::vector<std::string> env;
    for (const auto& [k, v] : spec_.env) env.push_back(k + "=" + v);
    env.push_back(std::string(proc::kRunIdVariable) + "=" +
                  spec_.run_id);  // how KillLeftovers finds strays
    return {spec_.argv, env, spec_.workspace, out_fd, err_fd, /*new_session=*/true};
  }
  shim::SpawnRequest req{sandbox::BwrapArgv(spec_, {bwrap_, dir_.path(), {}}),
                         sandbox::SandboxEnv(spec_),
                         "",
                         out_fd,
                         err_fd,
                         /*new_session=*/true};
  req.cgroup = &*cgroup_;
  req.user = shim::Credentials{spec_.sandbox.uid, spec_.sandbox.gid};
  return req;
}

// Issue 23: the run's check command (spec.verify), once the agent exited by itself and before
// its changes are collected: `/bin/sh -c` of it started like the agent (the same sandbox — bwrap
// in the run's cgroup as its uid, or the container's agent user — env, network and workspace),
// its stdout and stderr together, redacted, of which the last kTailBytes are kept. It runs
// through this loop: the run's total deadline stops it (then it is timed_out, and the run's
// outcome stays the agent's), and so does a cancel (then the run is cancelled). A fact about
// the result (ExitRecord::verification): it never changes the run's outcome.
void Shim::RunVerify() {
  if (!spec_.verify || stop_ || !watched_status_) return;
  // A cancel that came while the agent was ending (the loop no longer acts on one then) is
  // one of the run, which is not over until its check is.
  if (std::optional<CancelRequest> c = dir_.ReadCancel()) {
    rec_.cancel_reason = c->reason;
    RequestStop(ExitOutcome::kCancelled, "cancelled: " + c->reason + " (before verify)");
    return;
  }
  const std::optional<int> agent_status = watched_status_;
  const int agent_pid = watched_pid_;
  const std::string agent_message = rec_.message;
  watched_status_.reset();
  Verification v;
  std::string tail;
  Redactor redactor(spec_.redact);
  Stream out;
  out.redactor = &redactor;
  out.kept = &tail;
  int fds[2];
  if (!MakePipe(fds)) {
    tail = std::string("verify not started: pipe: ") + std::strerror(errno);
  } else {
    std::vector<std::string> agent_argv = std::move(spec_.argv);
    spec_.argv = {"/bin/sh", "-c", *spec_.verify};
    const shim::SpawnRequest req = AgentRequest(fds[1], fds[1]);
    spec_.argv = std::move(agent_argv);
    Result<int> pid = shim::Spawn(req);
    ::close(fds[1]);
    out.fd = fds[0];
    std::vector<Stream*> streams{&out};
    if (!pid.ok()) {
      ::close(fds[0]);
      tail = "verify not started: " + pid.status().message();
    } else {
      watched_pid_ = *pid;
      Log("verify started, pid " + std::to_string(*pid));
      Watch(streams, /*inactivity=*/false);
      EndChild(*pid, streams);
      Emit(out, redactor.Flush());
    }
  }
  // Stopped (deadline or cancel): no exit code of its own (a sandbox's bwrap reports its
  // killed child as 128+signal).
  const bool stopped = stop_.has_value();
  if (stop_ == ExitOutcome::kTimeoutTotal) {  // the deadline ended the check, not the run
    v.timed_out = true;
    if (!tail.empty() && tail.back() != '\n') tail += '\n';
    tail += "[verify stopped: " + rec_.message + "]\n";
    stop_.reset();
    rec_.message = agent_message;
  }
  if (!stopped && watched_status_ && WIFEXITED(*watched_status_)) {
    v.exit_code = WEXITSTATUS(*watched_status_);
  }
  v.passed = v.exit_code == 0;
  if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
  // Cut at a character: skip the continuation bytes the cut left at the front.
  std::size_t start = 0;
  while (start < tail.size() && start < 4 &&
         (static_cast<unsigned char>(tail[start]) & 0xC0) == 0x80)
    ++start;
  v.tail = ToValidUtf8(std::string_view(tail).substr(start));
  Log("verify " + std::string(v.passed ? "passed" : "failed") +
      (v.exit_code   ? " (exit code " + std::to_string(*v.exit_code) + ")"
       : v.timed_out ? " (timed out)"
                     : " (stopped)"));
  rec_.verification = std::move(v);
  watched_status_ = agent_status;
  watched_pid_ = agent_pid;
}

bool Shim::StartAgent(Stream& out, Stream& err) {
  int ofd[2], efd[2];
  // Every parser (plain too: its result is the output's tail) sees all of stdout; the
  // result goes into exit.json, so the server need not parse the output again.
  std::unique_ptr<OutputParser> parser = MakeParser(spec_.parser);
  if (!parser) parser = MakeParser("plain");
  capture_ = std::make_unique<shim::OutputCapture>(dir_, events_.writer(), std::move(parser),
                                                   spec_.max_output_bytes,
                                                   [this](std::string_view line) { Log(line); });
  out.capture = err.capture = capture_.get();
  err.which = shim::OutStream::kStderr;
  if (!capture_->Open().ok() || !MakePipe(ofd) || !MakePipe(efd)) {
    rec_.outcome = ExitOutcome::kStartFailed;
    rec_.message = std::string("cannot set up output: ") + std::strerror(errno);
    return false;
  }
  Result<int> pid = shim::Spawn(AgentRequest(ofd[1], efd[1]));
  ::close(ofd[1]);
  ::close(efd[1]);
  out.fd = ofd[0];
  err.fd = efd[0];
  if (!pid.ok()) {
    rec_.outcome = ExitOutcome::kStartFailed;
    rec_.message = pid.status().message();
    Log("agent did not start: " + rec_.message);
    return false;
  }
  watched_pid_ = *pid;
  agent_in_cgroup_ = cgroup_.has_value();
  rec_.started_at = clock_.Now();
  last_output_ = clock_.Mono();
  Log("agent started, pid " + std::to_string(*pid));
  events_.Phase("running");
  if (Status st = dir_.WriteStarted(*rec_.started_at, *pid); !st.ok()) Log(st.message());
  Notify(spec_.notify_socket, spec_.run_id);
  return true;
}

void Shim::Watch(std::vector<Stream*>& streams, bool inactivity) {
  while (!watched_status_ && !stop_) {
    const MonoTime now = clock_.Mono();
    switch (shim::CheckDeadlines(deadlines_, now, last_output_, inactivity)) {
      case shim::Expired::kTotal:
        RequestStop(ExitOutcome::kTimeoutTotal,
                    "total timeout of " + std::to_string(spec_.timeout_seconds) + " s exceeded");
        break;
      case shim::Expired::kInactive:
        RequestStop(ExitOutcome::kTimeoutInactive,
                    "no output for " + std::to_string(*spec_.inactivity_timeout_seconds) + " s");
        break;
      case shim::Expired::kNone:
        if (inactivity) CheckDisk(now);
        if (!stop_) Pump(streams, shim::PollTimeoutMs(deadlines_, now, last_output_, inactivity));
        break;
    }
  }
}

// The disk watchdog: a sandboxed agent over spec.sandbox.disk_bytes is stopped. The poll
// timeout is capped at 1 s, so a check is at most that late.
void Shim::CheckDisk(MonoTime now) {
  if (!cgroup_ || !spec_.sandbox.disk_bytes || now < next_disk_check_) return;
  // statvfs of the run's own file system is cheap; a walk of the tree is not.
  next_disk_check_ = now + (disk_mounted_ ? kDiskCheckInterval / 4 : kDiskCheckInterval);
  if (std::optional<std::string> over = shim::DiskOverQuota(spec_, dir_))
    RequestStop(ExitOutcome::kDiskQuota, *over);
}

// New turns, or new usage (the server stops a run over its maxCostUsd from it), not yet in
// progress.json.
bool Shim::ProgressPending() const {
  if (!capture_) return false;
  const AgentResult live = capture_->live();
  return capture_->turns() != progress_turns_ || live.usage != progress_usage_ ||
         live.cost_usd != progress_cost_;
}

void Shim::Pump(std::vector<Stream*>& streams, int timeout_ms) {
  // A pending progress.json is written when its interval is over, output or not.
  if (ProgressPending()) {
    const auto wait = std::chrono::duration_cast<Millis>(next_progress_ - clock_.Mono()).count();
    timeout_ms = std::min(timeout_ms, std::max(0, static_cast<int>(wait) + 1));
  }
  std::vector<pollfd> fds{{sigfd_, POLLIN, 0}};
  std::vector<Stream*> polled;
  for (Stream* s : streams) {
    if (s->fd < 0) continue;
    fds.push_back({s->fd, POLLIN, 0});
    polled.push_back(s);
  }
  int n = ::poll(fds.data(), fds.size(), timeout_ms);
  if (n > 0) {  // else timeout or EINTR: the caller re-checks its deadlines
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (fds[i + 1].revents != 0) ReadStream(*polled[i]);
    }
    if (fds[0].revents != 0) HandleSignals();
  }
  if (ProgressPending() && clock_.Mono() >= next_progress_) WriteProgress(/*collecting=*/false);
  EmitRefusedConnections();
}

// The proxy's refusals (its threads append them to network-blocked.jsonl) as events, each once;
// read when the file grew, so a wake-up costs one stat.
void Shim::EmitRefusedConnections() {
  if (!proxy_ || !capture_) return;
  const std::string path = shim::BlockedLogPath(dir_);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == blocked_size_) return;
  blocked_size_ = st.st_size;
  auto attempts = netproxy::ReadBlocked(path);
  if (!attempts.ok()) return;
  for (; blocked_seen_ < attempts->size(); ++blocked_seen_) {
    const netproxy::BlockedAttempt& a = (*attempts)[blocked_seen_];
    capture_->NetworkRefused(a.host, a.port, a.reason);
  }
}

// progress.json, for the server's progress estimate: at most every kProgressInterval while
// the agent runs, and once when it is done.
void Shim::WriteProgress(bool collecting) {
  progress_turns_ = capture_ ? capture_->turns() : 0;
  next_progress_ = clock_.Mono() + kProgressInterval;
  RunProgress p;
  p.turns = static_cast<int>(progress_turns_);
  p.collecting = collecting;
  if (capture_) {
    // Once Finish ran, the full result; before, the parser's live view.
    const AgentResult r = collecting ? capture_->result() : capture_->live();
    p.has_usage = r.has_usage;
    p.usage = progress_usage_ = r.usage;
    p.cost_usd = progress_cost_ = r.cost_usd;
  }
  Status st = dir_.WriteProgress(p);
  if (!st.ok()) Log("progress not written: " + st.message());
}

// One read per wake-up keeps both pipes and the signalfd served fairly.
void Shim::ReadStream(Stream& s) {
  char buf[kReadChunk];
  ssize_t n = ::read(s.fd, buf, sizeof buf);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    n = 0;  // a broken pipe reads as EOF
  }
  if (n == 0) {
    ::close(s.fd);
    s.fd = -1;
    return;
  }
  std::string_view data(buf, static_cast<std::size_t>(n));
  if (s.redactor != nullptr) {
    Emit(s, s.redactor->Feed(data));
  } else {
    Emit(s, data);
  }
  last_output_ = clock_.Mono();
  if (s.tail != nullptr) {
    s.tail->append(data);
    if (s.tail->size() > kTailBytes) s.tail->erase(0, s.tail->size() - kTailBytes);
  }
}

void Shim::Emit(Stream& s, std::string_view data) {
  if (data.empty()) return;
  if (s.capture != nullptr) {
    s.capture->Write(s.which, data);
    return;
  }
  if (s.kept != nullptr) {
    s.kept->append(data);
    if (s.kept->size() > 2 * kTailBytes) s.kept->erase(0, s.kept->size() - kTailBytes);
    s.bytes += static_cast<std::int64_t>(data.size());
    return;
  }
  if (Status st = WriteAll(s.sink, data); !st.ok()) Log("cannot write output: " + st.message());
  s.bytes += static_cast<std::int64_t>(data.size());
}

void Shim::HandleSignals() {
  signalfd_siginfo si;
  while (::read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    switch (si.ssi_signo) {
      case SIGCHLD:
        ReapAll();
        break;
      case SIGUSR1:
        OnCancelSignal(/*terminate=*/false);
        break;
      default:  // SIGTERM, SIGINT, SIGHUP
        OnCancelSignal(/*terminate=*/true);
        break;
    }
  }
}

// Reaps every exited child (the agent, git, and orphans re-parented to us); remembers only
// the status of the one being watched.
void Shim::ReapAll() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == watched_pid_) watched_status_ = status;
  }
}

// SIGUSR1 without cancel.json is spurious; SIGTERM without it is the operator (or the OS)
// telling the shim itself to go, which still has to take the agent down first.
void Shim::OnCancelSignal(bool terminate) {
  std::optional<CancelRequest> c = dir_.ReadCancel();
  if (!c && !terminate) return;
  if (stop_ || watched_status_) return;  // already stopping, or the agent is gone anyway
  rec_.cancel_reason = c ? c->reason : "shim terminated";
  Log("cancel requested: " + *rec_.cancel_reason);
  RequestStop(ExitOutcome::kCancelled, "cancelled: " + *rec_.cancel_reason);
}

void Shim::RequestStop(ExitOutcome outcome, std::string message) {
  if (stop_) return;
  stop_ = outcome;
  rec_.message = std::move(message);
  Log("stopping: " + rec_.message);
}

// Kills everything below the shim; returns how many processes other than the watched one
// had to be signalled. While waiting, output keeps flowing to the logs (a dying agent may
// still write), and children are reaped as they go.
int Shim::KillTree(int grace_ms, std::vector<Stream*>& streams) {
  std::set<int> listed;
  auto list = [&listed] {
    std::vector<int> pids = proc::Descendants(::getpid());
    listed.insert(pids.begin(), pids.end());
    return pids;
  };
  proc::KillHooks hooks;
  hooks.on_reap = [this](int pid, int status) {
    if (pid == watched_pid_) watched_status_ = status;
  };
  hooks.wait = [this, &streams](Millis d) { Pump(streams, static_cast<int>(d.count())); };
  proc::KillAndVerify(list, grace_ms, clock_, hooks);
  ReapAll();
  return static_cast<int>(listed.size() - listed.count(watched_pid_));
}

// The child is done (exited, or a stop was decided): nothing may outlive it. A stop starts
// with SIGTERM to its process group, then every descendant gets the full grace period; after
// a normal exit, daemons it left get a short one.
void Shim::EndChild(int pid, std::vector<Stream*>& streams) {
  int grace_ms = std::min(spec_.grace_seconds * 1000, kLeftoverGraceMs);
  if (stop_) {
    grace_ms = spec_.grace_seconds * 1000;
    // Sandboxed, KillCgroup sends the SIGTERMs (bwrap itself must not get one).
    if (!watched_status_ && !agent_in_cgroup_) ::kill(-pid, SIGTERM);
  }
  int killed = agent_in_cgroup_ ? KillCgroup(grace_ms, streams) : KillTree(grace_ms, streams);
  rec_.leftover_processes_killed += killed;
  if (killed > 0) Log("killed " + std::to_string(killed) + " leftover processes");
  if (!proc::Descendants(::getpid()).empty()) Log("WARNING: processes survived SIGKILL");
  Drain(streams);
}

// The cgroup version of KillTree. Not counted as leftovers: bwrap (the watched child), the
// sandbox's init (namespace pid 1) and the agent (namespace pid 2, bwrap's first child).
// SIGTERM skips bwrap, whose death would SIGKILL the sandbox at once (--die-with-parent).
int Shim::KillCgroup(int grace_ms, std::vector<Stream*>& streams) {
  std::set<int> core{watched_pid_};
  for (int pid : cgroup_->Pids()) {
    std::optional<int> ns_pid = proc::InnermostNsPid(pid);
    if (ns_pid == 1 || ns_pid == 2) core.insert(pid);
  }
  std::set<int> signalled;
  sandbox::KillOptions opts;
  opts.wait = [this, &streams](Millis d) { Pump(streams, static_cast<int>(d.count())); };
  opts.no_sigterm = {watched_pid_};
  opts.signalled = &signalled;
  cgroup_->KillAll(grace_ms, clock_, opts);
  ReapAll();
  return static_cast<int>(std::count_if(signalled.begin(), signalled.end(),
                                        [&core](int pid) { return !core.contains(pid); }));
}

// Every writer is dead now, so the pipes reach EOF; the limit only guards against a pipe fd
// smuggled to a process outside the tree.
void Shim::Drain(std::vector<Stream*>& streams) {
  const MonoTime limit = clock_.Mono() + kDrainLimit;
  auto open = [&] {
    return std::any_of(streams.begin(), streams.end(), [](Stream* s) { return s->fd >= 0; });
  };
  while (open() && clock_.Mono() < limit) Pump(streams, 100);
  for (Stream* s : streams) {
    if (s->fd >= 0) ::close(s->fd);
    s->fd = -1;
  }
}

// Workspaces are ephemeral, and what filled a disk must not stay on it until the retention
// sweep (issue 18 item 10). Removed: once the changes are collected (a run with a repository:
// changes.json, diff.patch and changes.bundle keep them); at once for a run stopped for
// disk_quota (uncollected, with its sandbox home: the quota counts it); and for any run that
// ends with the workspace's file system full (under 1 % free). Otherwise (a run without a
// repository on a disk with room) the workspace stays until the retention sweep.
void Shim::RemoveWorkspace() {
  // Only the run directory's own: a workspace elsewhere (a test's) is not ours to remove.
  if (spec_.workspace != dir_.workspace() || !FileExists(spec_.workspace)) return;
  if (disk_mounted_) return;  // the run's own file system: released (wiped) with its image
  const bool quota = stop_ == ExitOutcome::kDiskQuota;
  struct statvfs fs {};
  const bool full = ::statvfs(spec_.workspace.c_str(), &fs) == 0 && fs.f_blocks > 0 &&
                    fs.f_bavail < fs.f_blocks / 100;
  if (!quota && !changes_collected_ && !full) return;
  std::vector<std::string> paths{spec_.workspace};
  if (quota && spec_.sandbox.enabled) paths.push_back(spec_.sandbox.home);
  for (const std::string& path : paths) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    Log((ec ? "workspace not removed: " + ec.message() + ": " : "removed ") + path +
        (quota  ? " (disk quota)"
         : full ? " (disk full)"
                : " (changes collected)"));
  }
}

int Shim::Finish() {
  RemoveWorkspace();  // before the record: the server sees the space back with the outcome
  if (stop_) {
    rec_.outcome = *stop_;
  } else if (rec_.outcome == ExitOutcome::kNone) {
    rec_.outcome = ExitOutcome::kExited;
    rec_.message = "agent " + DescribeStatus(watched_status_.value_or(0));
  }
  if (watched_status_ && WIFEXITED(*watched_status_))
    rec_.exit_code = WEXITSTATUS(*watched_status_);
  if (watched_status_ && WIFSIGNALED(*watched_status_)) rec_.signal = WTERMSIG(*watched_status_);
  if (cgroup_) FinishCgroup();
  ScrubSecrets();
  if (disk_mounted_) {  // the changes are collected: the workspace and home go with the image
    if (Status st = shim::ReleaseRunDisk(spec_, dir_); !st.ok()) {
      Log("WARNING: workspace image not released: " + st.message());
    }
  }
  rec_.ended_at = clock_.Now();
  if (rec_.outcome == ExitOutcome::kStartFailed || rec_.outcome == ExitOutcome::kRepoError) {
    events_.Error(rec_.message);
  }
  // What the agent said, parsed once, here (the server reads it from the record).
  rec_.agent = capture_ ? capture_->result() : ParseAgentOutput(spec_.parser, "");
  rec_.agent_turns = capture_ ? static_cast<int>(capture_->turns()) : 0;
  events_.Close();  // the server appends the terminal status once it has read exit.json
  Status st = dir_.WriteExit(rec_);
  Log("exit record: " + std::string(ToString(rec_.outcome)) + " " + rec_.message +
      (st.ok() ? "" : " NOT WRITTEN: " + st.message()));
  Notify(spec_.notify_socket, spec_.run_id);
  return st.ok() ? 0 : 1;
}

// An agent SIGKILLed (bwrap reports it as exit 137) while the cgroup counted an OOM kill ran
// out of memory. Then the group must be empty (it is, unless the agent never started: then
// it never had members) before its figures are read and it is removed.
void Shim::FinishCgroup() {
  const bool killed = rec_.signal == SIGKILL || rec_.exit_code == 128 + SIGKILL;
  if (rec_.outcome == ExitOutcome::kExited && killed && cgroup_->OomKilled()) {
    rec_.outcome = ExitOutcome::kOom;
    rec_.message = "out of memory: the agent was OOM-killed at the limit of " +
                   std::to_string(spec_.sandbox.memory_bytes.value_or(0)) + " bytes";
  }
  if (!cgroup_->Pids().empty()) {
    Log("WARNING: cgroup not empty at the end; killing what is left");
    cgroup_->KillAll(0, clock_);
    ReapAll();
  }
  rec_.cgroup_version = cgroup_->version();
  rec_.peak_memory_bytes = cgroup_->PeakMemory();
  if (Status st = cgroup_->Remove(clock_); !st.ok()) Log("cgroup not removed: " + st.message());
}

// Issue 18 item 8: once nothing of the agent runs (and its changes are collected, redacted),
// no secret value may stay in what is kept of its home and workspace (shim/scrub.h). Only the
// run directory's own, or a container's (both bound from its run directory): a workspace
// elsewhere (a test's) is not ours to rewrite.
void Shim::ScrubSecrets() {
  const std::string home = spec_.container.enabled ? spec_.container.home : dir_.File("home");
  const std::vector<std::string> remove = shim::kSecretCacheDirs;
  shim::ScrubStats h = shim::ScrubTree(home, spec_.redact, remove);
  shim::ScrubStats ws;
  // Git objects the agent made (from its start on) are looked into too; the clone's are not.
  std::int64_t since = -1;
  if (rec_.started_at) {
    since =
        std::chrono::duration_cast<std::chrono::nanoseconds>(rec_.started_at->time_since_epoch())
            .count();
  }
  if (spec_.workspace == dir_.workspace() || spec_.container.enabled) {
    ws = shim::ScrubTree(spec_.workspace, spec_.redact, {}, since);
  }
  for (const shim::ScrubStats* s : {&h, &ws}) {
    if (s->files_redacted + s->entries_removed + s->entries_renamed > 0) {
      Log(std::string(s == &h ? "home" : "workspace") +
          " scrubbed of secrets: " + std::to_string(s->files_redacted) + " files redacted, " +
          std::to_string(s->entries_removed) + " removed, " + std::to_string(s->entries_renamed) +
          " renamed");
    }
    for (const auto& e : s->errors) Log("WARNING: not scrubbed: " + e);
  }
}

int Shim::StartFailed(std::string message) {
  rec_.outcome = ExitOutcome::kStartFailed;
  rec_.message = std::move(message);
  return Finish();
}

// fds 0-2 must be taken before any pipe is made, or a pipe could land on them.
void EnsureStdFds() {
  for (;;) {
    int fd = ::open("/dev/null", O_RDWR);
    if (fd < 0 || fd > 2) {
      if (fd > 2) ::close(fd);
      return;
    }
  }
}

}  // namespace

int RunShim(const std::string& run_dir) {
  EnsureStdFds();
  Shim shim(run_dir, RealClock::Instance());
  return shim.Run();
}

}  // namespace outpost
