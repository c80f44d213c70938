// End-to-end: ProcessRunner in sandbox mode + the real shim + real bubblewrap + real cgroups.
// Needs root (the shim drops to uids from 200000 up). Every wait polls a condition.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>

#include "common/files.h"
#include "common/ids.h"
#include "runner/process_runner.h"
#include "runner/runner_test_util.h"
#include "runner/sandbox/bwrap.h"
#include "runner/sandbox/probe.h"
#include "runner/shim/spawn.h"

namespace outpost {
namespace {

using testing::Slurp;
using testing::TempDir;
using testing::WaitFor;

int NextUid() {
  static std::atomic<int> next{200000 + (::getpid() % 1000) * 16};
  return next++;
}

int CountOf(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// Every cgroup directory a run could have left, in either layout.
std::vector<std::string> CgroupDirs(const std::string& id) {
  std::vector<std::string> out;
  for (const char* h : {"memory/", "pids/", "freezer/", "cpu/", ""}) {
    out.push_back(std::string("/sys/fs/cgroup/") + h + "outpost/" + id);
  }
  return out;
}

class SandboxRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u)
        << "the sandbox runner "
        << "needs root (make test runs as root: the integration tests' servers need it too)";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0711), 0);  // the sandbox uid must traverse it
    Status usable = sandbox::CheckSandboxUsable(200000);
    ASSERT_TRUE(usable.ok()) << usable.ToString();
  }

  // A ULID per name: the reaper's side (RunProcesses, KillLeftovers) knows runs by ULIDs only.
  std::string Id(const std::string& name) {
    auto [it, fresh] = ids_.try_emplace(name);
    if (fresh) it->second = NewUlid(RealClock::Instance().Now());
    return it->second;
  }
  std::map<std::string, std::string> ids_;

  LaunchSpec Spec(const std::string& name, const std::string& script) {
    LaunchSpec spec;
    spec.run_id = Id(name);
    spec.argv = {"bash", "-c", script};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.timeout_seconds = 30;
    spec.grace_seconds = 1;
    spec.sandbox.enabled = true;
    spec.sandbox.uid = spec.sandbox.gid = NextUid();
    return spec;
  }

  std::optional<ExitRecord> WaitExit(const std::string& id) {
    std::optional<ExitRecord> rec;
    WaitFor(
        [&] {
          ShimProbe p = runner_.Probe(RunId(id));
          if (p.state == ShimState::kExited) rec = p.exit;
          return p.state != ShimState::kRunning;
        },
        std::chrono::seconds(60));
    return rec;
  }

  // Runs to the end; checks that nothing of the run is left: no cgroup, no process.
  ExitRecord Run(const LaunchSpec& spec) {
    Status st = runner_.StartLaunch(spec);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::optional<ExitRecord> rec = WaitExit(spec.run_id);
    EXPECT_TRUE(rec.has_value()) << "no exit record for " << spec.run_id;
    ExpectNothingLeft(spec.run_id);
    return rec.value_or(ExitRecord{});
  }

  void ExpectNothingLeft(const std::string& id) {
    for (const std::string& d : CgroupDirs(id)) EXPECT_FALSE(FileExists(d)) << d;
    EXPECT_TRUE(proc::FindByEnvMarker("OUTPOST_RUN_ID=" + id).empty()) << id;
  }

  std::string Out(const std::string& name) {
    return Slurp(runner_.Dir(Id(name)).File("stdout.log"));
  }
  std::string Err(const std::string& name) {
    return Slurp(runner_.Dir(Id(name)).File("stderr.log"));
  }
  std::string Ws(const std::string& name) { return runner_.Dir(Id(name)).workspace(); }

  TempDir tmp_;
  ProcessRunner runner_{tmp_.path() + "/runs", OUTPOST_TEST_SHIM, RealClock::Instance(),
                        Millis(10'000), ProcessRunner::Mode::kSandbox};
};

TEST_F(SandboxRunnerTest, HomeFilesAreInTheAgentsHomeOwnedByItAndNotInTheWorkspace) {
  LaunchSpec spec = Spec("homefiles",
                         "cat $HOME/.cli/settings.json; stat -c '%u %a' $HOME/.cli/settings.json; "
                         "ls -A /work | wc -l");
  spec.home_files = {{".cli/settings.json", "{\"auth\":\"key\"}"}};
  const int uid = spec.sandbox.uid;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(rec.exit_code, 0) << rec.message << Err("homefiles");
  EXPECT_EQ(Out("homefiles"), "{\"auth\":\"key\"}" + std::to_string(uid) + " 600\n0\n");
}

TEST_F(SandboxRunnerTest, AgentRunsAsTheSandboxUidInWorkWithAPrivateHome) {
  LaunchSpec spec =
      Spec("whoami", "id -u; id -g; pwd; echo $HOME; touch /work/f /home/agent/g && echo ok");
  const int uid = spec.sandbox.uid;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(rec.exit_code, 0);
  EXPECT_EQ(Out("whoami"),
            std::to_string(uid) + "\n" + std::to_string(uid) + "\n/work\n/home/agent\nok\n");
  struct stat st;
  ASSERT_EQ(::stat((Ws("whoami") + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, static_cast<uid_t>(uid));
  EXPECT_EQ(rec.cgroup_version, "v1");
  ASSERT_TRUE(rec.peak_memory_bytes.has_value());
  EXPECT_GT(*rec.peak_memory_bytes, 0);
  ASSERT_EQ(::stat(runner_.Dir(Id("whoami")).path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  ASSERT_EQ(::stat(runner_.Dir(Id("whoami")).File("exit.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(SandboxRunnerTest, HostSecretsAreUnreadable) {
  ExitRecord rec = Run(Spec("shadow", "cat /etc/shadow"));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_NE(rec.exit_code, 0);
  // /etc/shadow is not even bound (audit F15); were it, the uid could not read it.
  EXPECT_NE(Err("shadow").find("No such file or directory"), std::string::npos) << Err("shadow");
  EXPECT_EQ(Out("shadow"), "");
}

TEST_F(SandboxRunnerTest, RunDirDataDirAndOtherRunsAreNotVisible) {
  ASSERT_TRUE(MakeDirs(tmp_.path() + "/runs/other/workspace").ok());
  ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/runs/other/workspace/secret.txt", "x").ok());
  const std::string run_dir = runner_.Dir(Id("peek")).path();
  ExitRecord rec =
      Run(Spec("peek", "ls " + run_dir + "; ls " + tmp_.path() + "; cat " + tmp_.path() +
                           "/runs/other/workspace/secret.txt; ls /work/.."));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_EQ(CountOf(Err("peek"), "No such file or directory"), 3) << Err("peek");
  EXPECT_EQ(Out("peek").find("spec.json"), std::string::npos);
}

TEST_F(SandboxRunnerTest, OnlySandboxProcessesAreVisibleAndHostProcessesUnreachable) {
  ExitRecord rec = Run(Spec("ps", "ps ax -o pid=,comm=; kill -0 " + std::to_string(::getpid()) +
                                      " || echo host-pid-unreachable"));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  const std::string out = Out("ps");
  EXPECT_NE(out.find("host-pid-unreachable"), std::string::npos) << out;
  EXPECT_EQ(out.find("runner_test"), std::string::npos) << out;
  EXPECT_EQ(out.find("outpost_test_shim"), std::string::npos) << out;
  EXPECT_LE(CountOf(out, "\n"), 5) << out;  // bwrap (init), bash, ps, maybe a subshell
}

class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_, 16) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string ProbeTcp(int port) {
  return "if bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
         "' 2>/dev/null; then echo reached; else echo unreachable; fi";
}

TEST_F(SandboxRunnerTest, HostLoopbackIsUnreachableWithNetworkNoneAndReachableWithHost) {
  Listener l;
  ASSERT_GT(l.port(), 0);
  ExitRecord none = Run(Spec("netnone", ProbeTcp(l.port())));
  EXPECT_EQ(ToString(none.outcome), "exited");
  EXPECT_EQ(Out("netnone"), "unreachable\n");
  LaunchSpec host = Spec("nethost", ProbeTcp(l.port()));
  host.sandbox.network = "host";
  Run(host);
  EXPECT_EQ(Out("nethost"), "reached\n");  // the probe itself works
}

TEST_F(SandboxRunnerTest, WritesOutsideWorkAndHomeFailOrStayInTheSandbox) {
  const std::string tmpname = "/tmp/outpost-sbx-" + std::to_string(::getpid());
  ExitRecord rec = Run(
      Spec("writes", "touch /usr/x; touch /etc/x; touch " + tmpname + " && echo tmp-ok; touch /x"));
  EXPECT_EQ(ToString(rec.outcome), "exited");
  EXPECT_EQ(CountOf(Err("writes"), "Read-only file system"), 3) << Err("writes");
  EXPECT_NE(Out("writes").find("tmp-ok"), std::string::npos);
  EXPECT_FALSE(FileExists("/usr/x"));
  EXPECT_FALSE(FileExists("/etc/x"));
  EXPECT_FALSE(FileExists(tmpname));  // the sandbox's /tmp is its own tmpfs
}

TEST_F(SandboxRunnerTest, DaemonIgnoringSigtermIsGoneAfterTheRunEnds) {
  const std::string daemon =
      "trap \"\" TERM; echo $$ > /work/d.tmp; mv /work/d.tmp /work/daemon; exec sleep 100";
  LaunchSpec spec = Spec("daemon", "(setsid bash -c '" + daemon +
                                       "' &); while [ ! -s /work/daemon ]; do sleep 0.02; done");
  ExitRecord rec = Run(spec);  // checks no process carries the run's marker any more
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(rec.exit_code, 0);
  EXPECT_TRUE(FileExists(Ws("daemon") + "/daemon"));
}

TEST_F(SandboxRunnerTest, CancelKillsASandboxedAgentIgnoringSigtermAfterTheGrace) {
  LaunchSpec spec = Spec("cancel", "trap '' TERM; touch /work/ready; while :; do sleep 0.1; done");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return FileExists(Ws("cancel") + "/ready"); }));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runner_.RequestCancel(RunId(spec.run_id), "stop it").ok());
  std::optional<ExitRecord> rec = WaitExit(spec.run_id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(ToString(rec->outcome), "cancelled");
  EXPECT_EQ(rec->signal, SIGKILL);
  ExpectNothingLeft(spec.run_id);
}

TEST_F(SandboxRunnerTest, ShimKilledMidRunLeavesNothingAfterKillLeftovers) {
  LaunchSpec spec = Spec("lost", "touch /work/ready; exec sleep 100");
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return FileExists(Ws("lost") + "/ready"); }));
  Result<ShimInfo> shim = runner_.Dir(spec.run_id).ReadShimInfo();
  ASSERT_TRUE(shim.ok());
  ASSERT_EQ(::kill(shim->pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return runner_.Probe(RunId(spec.run_id)).state == ShimState::kLost; }));
  // --die-with-parent takes the sandbox down with the shim; the cgroup directory stays.
  ASSERT_TRUE(
      WaitFor([&] { return proc::FindByEnvMarker("OUTPOST_RUN_ID=" + spec.run_id).empty(); }));
  EXPECT_TRUE(FileExists(CgroupDirs(spec.run_id)[0]));
  runner_.KillLeftovers(RunId(spec.run_id));
  ExpectNothingLeft(spec.run_id);
}

TEST_F(SandboxRunnerTest, ForkBombIsContainedByPidsMax) {
  LaunchSpec spec = Spec("bomb", "bomb() { bomb | bomb & }; bomb; sleep 100");
  spec.sandbox.pids_max = 64;
  spec.timeout_seconds = 3;
  const auto t0 = std::chrono::steady_clock::now();
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "timeout_total") << rec.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  EXPECT_EQ(std::system("true"), 0);  // the host can still fork
}

TEST_F(SandboxRunnerTest, AllocatingPastTheMemoryLimitIsOom) {
  LaunchSpec spec = Spec("oom", "head -c 200M /dev/zero | tail > /dev/null");
  spec.sandbox.memory_bytes = 64 << 20;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "oom") << rec.message << " exit " << rec.exit_code.value_or(-1);
  ASSERT_TRUE(rec.peak_memory_bytes.has_value());
  EXPECT_GE(*rec.peak_memory_bytes, 32 << 20);
  EXPECT_LE(*rec.peak_memory_bytes, 64 << 20);
}

TEST_F(SandboxRunnerTest, WritingPastTheDiskQuotaIsDiskQuota) {
  LaunchSpec spec =
      Spec("disk", "dd if=/dev/zero of=/work/big bs=1M count=40 2>/dev/null; sleep 100");
  spec.sandbox.disk_bytes = 20 << 20;
  const auto t0 = std::chrono::steady_clock::now();
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "disk_quota") << rec.message;
  EXPECT_NE(rec.message.find("20971520"), std::string::npos) << rec.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
}

TEST_F(SandboxRunnerTest, SecretsReachTheAgentEnvButNoCommandLine) {
  const std::string secret = "s3cr3t-" + std::to_string(::getpid()) + "-value";
  LaunchSpec spec = Spec("secret",
                         "echo \"$SECRET_TOKEN\" > /work/seen.tmp && mv /work/seen.tmp /work/seen; "
                         "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done "
                         "> /work/inside; while [ ! -e /work/go ]; do sleep 0.05; done");
  spec.env["SECRET_TOKEN"] = secret;
  ASSERT_TRUE(runner_.StartLaunch(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return FileExists(Ws("secret") + "/seen"); }));
  EXPECT_EQ(Slurp(Ws("secret") + "/seen"), secret + "\n");
  ASSERT_TRUE(WaitFor([&] { return FileExists(Ws("secret") + "/inside"); }));
  // Every process on the host, the sandbox's included (the run is still going).
  int with_marker = 0;
  for (int pid : proc::FindByEnvMarker("OUTPOST_RUN_ID=" + spec.run_id)) {
    ++with_marker;
    EXPECT_EQ(Slurp("/proc/" + std::to_string(pid) + "/cmdline").find(secret), std::string::npos);
  }
  EXPECT_GE(with_marker, 3);  // bwrap, its init, the agent
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    if (std::isdigit(e.path().filename().string()[0])) all += Slurp(e.path().string() + "/cmdline");
  }
  EXPECT_EQ(all.find(secret), std::string::npos);
  EXPECT_EQ(Slurp(Ws("secret") + "/inside").find(secret), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(Ws("secret") + "/go", "").ok());
  std::optional<ExitRecord> rec = WaitExit(spec.run_id);
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(ToString(rec->outcome), "exited");
  ExpectNothingLeft(spec.run_id);
}

TEST_F(SandboxRunnerTest, ClonedWorkspaceBelongsToTheSandboxUid) {
  const std::string repo = tmp_.path() + "/repo";
  std::string setup = "set -e; git init -q " + repo + " && cd " + repo +
                      " && echo content > file.txt && git add file.txt && "
                      "git -c user.name=t -c user.email=t@t commit -q -m init";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  LaunchSpec spec = Spec("clone", "stat -c %u file.txt; echo more >> file.txt && echo writable");
  spec.repo_url = repo;
  spec.local_repo_roots = {tmp_.path()};
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "exited") << rec.message;
  EXPECT_EQ(Out("clone"), std::to_string(spec.sandbox.uid) + "\nwritable\n");
}

TEST_F(SandboxRunnerTest, AllowlistWithAMalformedPatternIsStartFailed) {
  LaunchSpec spec = Spec("allow", "echo ran");
  spec.sandbox.network = "allowlist";
  spec.sandbox.allow = {"no port here"};
  spec.sandbox.outpost_exe = OUTPOST_TEST_SHIM;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "start_failed");
  EXPECT_EQ(Out("allow"), "");  // the agent never ran
}

TEST_F(SandboxRunnerTest, RootSandboxUidIsStartFailed) {
  LaunchSpec spec = Spec("root", "echo ran");
  spec.sandbox.uid = spec.sandbox.gid = 0;
  ExitRecord rec = Run(spec);
  EXPECT_EQ(ToString(rec.outcome), "start_failed");
  EXPECT_NE(rec.message.find("unprivileged"), std::string::npos) << rec.message;
}

// The allowlist mount layout, with a stand-in forwarder (skips to "--" and execs the rest)
// and a listening unix socket in place of the proxy, which another component provides.
TEST_F(SandboxRunnerTest, AllowlistLayoutMountsTheForwarderAndTheProxySocket) {
  const std::string run_dir = tmp_.path() + "/al";
  ASSERT_TRUE(MakeDirs(run_dir, 0711).ok());
  const int uid = NextUid();
  // connect(2) through the read-only bind works (sockets are exempt from MS_RDONLY); the
  // socket file itself must be writable by the sandbox uid.
  LaunchSpec spec = Spec("al",
                         "python3 -c \"import socket; socket.socket(socket.AF_UNIX)"
                         ".connect('/run/outpost/proxy.sock')\" && echo \"socket $HTTPS_PROXY\"");
  spec.workspace = run_dir + "/workspace";
  spec.sandbox.home = run_dir + "/home";
  spec.sandbox.network = "allowlist";
  spec.sandbox.outpost_exe = tmp_.path() + "/forwarder";
  ASSERT_TRUE(WriteFileAtomic(
                  spec.sandbox.outpost_exe,
                  "#!/bin/sh\nwhile [ \"$1\" != -- ]; do shift; done; shift; exec \"$@\"\n", 0755)
                  .ok());
  for (const std::string& d : {spec.workspace, spec.sandbox.home}) {
    ASSERT_TRUE(MakeDirs(d, 0700).ok());
    ASSERT_EQ(::chown(d.c_str(), uid, uid), 0);
  }
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = sandbox::ProxySocketPath(run_dir);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(sock, 4), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  shim::SpawnRequest req{sandbox::BwrapArgv(spec, {"bwrap", run_dir, {}}),
                         sandbox::SandboxEnv(spec),
                         "",
                         out[1],
                         -1,
                         true};
  req.user = shim::Credentials{uid, uid};
  Result<int> pid = shim::Spawn(req);
  ::close(out[1]);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  ::close(sock);
  EXPECT_EQ(got, "socket http://127.0.0.1:3128\n");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SandboxRunnerMode, NamesAndSpecsMustMatchTheMode) {
  TempDir tmp;
  ProcessRunner process(tmp.path() + "/p", OUTPOST_TEST_SHIM, RealClock::Instance());
  ProcessRunner sandboxed(tmp.path() + "/s", OUTPOST_TEST_SHIM, RealClock::Instance(),
                          Millis(10'000), ProcessRunner::Mode::kSandbox);
  EXPECT_EQ(process.kind(), RunnerKind::kProcess);
  EXPECT_EQ(sandboxed.kind(), RunnerKind::kSandbox);
  EXPECT_EQ(ToString(process.kind()), "process");
  EXPECT_EQ(ToString(sandboxed.kind()), "sandbox");
  LaunchSpec spec;
  spec.run_id = "r1";
  spec.argv = {"true"};
  EXPECT_EQ(sandboxed.StartLaunch(spec).code(), Code::kInvalidArgument);
  spec.sandbox.enabled = true;
  EXPECT_EQ(process.StartLaunch(spec).code(), Code::kInvalidArgument);
}

TEST(SandboxProbe, WorksHereAndReportsAMissingBwrap) {
  ASSERT_EQ(::geteuid(), 0u)
      << "needs root (make test runs as root: the integration tests' servers need it too)";
  EXPECT_TRUE(sandbox::CheckSandboxUsable(200000).ok());
  EXPECT_TRUE(sandbox::FindExecutable("bwrap").ok());
  EXPECT_EQ(sandbox::FindExecutable("bwrap", "/nonexistent").status().code(), Code::kNotFound);
  const std::string path = std::getenv("PATH");
  ::setenv("PATH", "/nonexistent", 1);
  Status st = sandbox::CheckSandboxUsable(200000);
  ::setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("bubblewrap is not installed"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace outpost
