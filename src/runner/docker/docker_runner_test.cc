// DockerRunner against the real shared dockerd (scripts/test-dockerd.sh; OUTPOST_TEST_DOCKER_HOST,
// ctest fixture docker_env) and the test image outpost-base:test. The container's entrypoint is
// a shell stand-in for `outpost task` (DockerRunnerConfig::entrypoint): these tests are about
// what the runner does with containers — create, labels, binds, probe, removal, cancel, stop,
// reap, adoption, the channel socket, the egress proxy — not about the task.
#include "runner/docker/docker_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/files.h"
#include "common/ids.h"
#include "runner/docker/channel_relay.h"
#include "runner/netproxy/relay.h"
#include "runner/netproxy/socket_util.h"
#include "runner/runner_test_util.h"
#include "testing/status_matchers.h"

namespace outpost::docker {
namespace {

using ::outpost::testing::StatusIs;
using ::outpost::testing::TempDir;
using ::outpost::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kImage[] = "outpost-base:test";

std::string DockerHost() {
  const char* h = std::getenv("OUTPOST_TEST_DOCKER_HOST");
  return h ? h : "";
}

// A unix socket relayed to the test dockerd's: the Engine as the runner sees it, which the test
// takes away (Stop: every connection closed, the socket removed) and brings back (Start).
class EngineRelay {
 public:
  EngineRelay(std::string path, std::string target)
      : path_(std::move(path)), target_(std::move(target)) {}
  ~EngineRelay() { Stop(); }

  Status Start() {
    auto listener = netproxy::ListenUnix(path_, 0600);
    if (!listener.ok()) return listener.status();
    listener_ = std::move(*listener);
    stop_ = netproxy::UniqueFd(::eventfd(0, EFD_CLOEXEC));
    acceptor_ = std::thread([this] {
      std::vector<std::thread> sessions;
      for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0) break;
        netproxy::UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) continue;
        sessions.emplace_back([this, c = std::move(client)] {
          auto up = netproxy::ConnectUnix(target_);
          if (!up.ok() || !netproxy::SetNonBlocking(c.get()).ok() ||
              !netproxy::SetNonBlocking(up->get()).ok()) {
            return;
          }
          netproxy::RelayOptions o;
          o.stop_fd = stop_.get();
          netproxy::Relay(c.get(), up->get(), o);
        });
      }
      for (std::thread& t : sessions) t.join();
    });
    return Status::Ok();
  }
  void Stop() {
    if (!acceptor_.joinable()) return;
    std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    acceptor_.join();
    listener_.reset();
    ::unlink(path_.c_str());
  }

 private:
  const std::string path_, target_;
  netproxy::UniqueFd listener_, stop_;
  std::thread acceptor_;
};

class DockerRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string host = DockerHost();
    ASSERT_FALSE(host.empty()) << "OUTPOST_TEST_DOCKER_HOST is not set (the ctest fixture "
                                  "docker_env sets it: scripts/test-dockerd.sh start)";
    auto endpoint = EngineEndpoint::Resolve(host, {});
    ASSERT_OK(endpoint.status());
    engine_ = std::make_unique<DockerEngine>(*endpoint);
    ASSERT_OK(engine_->Ping()) << "the test dockerd does not answer at " << host;
    ASSERT_OK(engine_->InspectImage(kImage))
        << "image " << kImage << " is missing (scripts/build-images.sh --test)";
  }
  void TearDown() override {
    if (!engine_) return;
    for (const RunId& id : started_)
      (void)engine_->RemoveContainer(DockerRunner::ContainerName(id), true);
  }

  std::unique_ptr<DockerRunner> MakeRunner(const std::string& script) {
    DockerRunnerConfig c;
    c.data_dir = data_.path();
    c.default_image = kImage;
    c.entrypoint = {"/bin/sh", "-c", script};
    return std::make_unique<DockerRunner>(*engine_, RealClock::Instance(), c);
  }

  RunSpec Spec() {
    RunSpec s;
    s.id = RunId(NewUlid(RealClock::Instance().Now()));
    s.argv = {"/bin/true"};
    s.channel = ChannelAccess{"http://127.0.0.1:1", s.id.str() + ".token-value-not-for-the-agent"};
    s.image = kImage;
    s.limits.memory_bytes = std::int64_t{256} << 20;
    s.limits.cpu_millicores = 500;
    s.limits.pids_max = 64;
    s.limits.disk_bytes = std::int64_t{1} << 30;  // overlay2 here refuses a size: dropped
    started_.push_back(s.id);
    return s;
  }

  bool ContainerGone(const RunId& id) {
    return engine_->InspectContainer(DockerRunner::ContainerName(id)).status().code() ==
           Code::kNotFound;
  }

  TempDir data_{"outpost-docker-runner", "/var/tmp"};
  std::unique_ptr<DockerEngine> engine_;
  std::vector<RunId> started_;
};

TEST_F(DockerRunnerTest, StartCreatesTheLockedDownContainerWithOnlyTheTokenInTheRunDir) {
  auto runner = MakeRunner("sleep 60");
  RunSpec spec = Spec();
  ASSERT_OK(runner->Start(spec));
  ASSERT_OK_AND_ASSIGN(ContainerState st,
                       engine_->InspectContainer(DockerRunner::ContainerName(spec.id)));
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.labels.at(kLabelRun), spec.id.str());
  EXPECT_EQ(st.labels.at(kLabelRunner), "docker");
  EXPECT_EQ(st.labels.at(kLabelDataDir),
            std::filesystem::path(data_.path()).lexically_normal().string());
  // Only the token (0600) and the two mount points in the run dir; no spec, no secrets.
  const RunDir dir = runner->Dir(spec.id);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("channel-token", "workspace", "home"));
  struct stat sb;
  ASSERT_EQ(::stat(dir.File("channel-token").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.path().c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0700u);
  // What was asked of the daemon (ContainerFor is what Start sends).
  ContainerSpec c = runner->ContainerFor(spec);
  EXPECT_EQ(c.user, "0:0");
  EXPECT_TRUE(c.read_only_rootfs);
  EXPECT_TRUE(c.no_new_privileges);
  EXPECT_EQ(c.network_mode, "none");
  EXPECT_THAT(c.cap_drop, ::testing::ElementsAre("ALL"));
  EXPECT_THAT(c.cap_add, ::testing::UnorderedElementsAre("SETUID", "SETGID", "KILL", "CHOWN",
                                                         "DAC_OVERRIDE", "FOWNER"));
  EXPECT_EQ(c.memory_bytes, std::int64_t{256} << 20);
  EXPECT_EQ(c.nano_cpus, std::int64_t{500'000'000});
  EXPECT_EQ(c.pids_limit, 64);
  for (const std::string& e : c.env) EXPECT_THAT(e, ::testing::Not(HasSubstr("token-value")));
  // Starting it again is a conflict; the runner says it runs.
  EXPECT_THAT(runner->Start(spec), StatusIs(Code::kConflict));
  EXPECT_EQ(runner->Probe(spec.id).state, ShimState::kRunning);
  EXPECT_THAT(runner->LiveRuns(), ::testing::Contains(spec.id));
  // Reap removes it.
  EXPECT_EQ(runner->Reap(spec.id), 1);
  EXPECT_TRUE(ContainerGone(spec.id));
}

TEST_F(DockerRunnerTest,
       AnImageThatDoesNotExistFailsTheStartWithTheEnginesMessageAndLeavesNothing) {
  auto runner = MakeRunner("true");
  RunSpec spec = Spec();
  spec.image = "outpost-no-such-image:test";
  Status st = runner->Start(spec);
  EXPECT_THAT(st, StatusIs(Code::kNotFound, HasSubstr("outpost-no-such-image")));
  EXPECT_TRUE(ContainerGone(spec.id));
  EXPECT_FALSE(FileExists(runner->Dir(spec.id).path()));
  EXPECT_EQ(runner->proxies(), 0);
  EXPECT_EQ(runner->Probe(spec.id).state, ShimState::kNotStarted);
}

TEST_F(DockerRunnerTest, ADockerdThatRefusesFailsTheStartAsUnavailableAndLeavesNothing) {
  auto endpoint = EngineEndpoint::Resolve("unix://" + data_.path() + "/no-dockerd.sock", {});
  ASSERT_OK(endpoint.status());
  DockerEngine refusing(*endpoint);
  DockerRunnerConfig c;
  c.data_dir = data_.path();
  DockerRunner runner(refusing, RealClock::Instance(), c);
  RunSpec spec = Spec();
  spec.network = NetworkPolicy::kAllowlist;
  spec.allow = {"example.com:443"};
  EXPECT_THAT(runner.Start(spec), StatusIs(Code::kUnavailable));
  EXPECT_THAT(runner.Reachable(), StatusIs(Code::kUnavailable));
  EXPECT_FALSE(FileExists(runner.Dir(spec.id).path()));
  EXPECT_EQ(runner.proxies(), 0);
}

TEST_F(DockerRunnerTest, AContainerThatExitsBeforeTheTaskReportsEndsStartFailedOnceRemoved) {
  auto runner = MakeRunner("echo broken >&2; exit 3");
  RunSpec spec = Spec();
  ASSERT_OK(runner->Start(spec));
  ASSERT_OK(engine_->WaitContainer(DockerRunner::ContainerName(spec.id), std::chrono::seconds(30))
                .status());
  ShimProbe p = runner->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  ASSERT_TRUE(p.exit.has_value());
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kStartFailed);
  EXPECT_THAT(p.exit->message, HasSubstr("code 3"));
  EXPECT_TRUE(ContainerGone(spec.id));  // the terminal answer comes after the removal
}

TEST_F(DockerRunnerTest, TheTasksExitRecordIsTheRunsExitOnceTheContainerIsGone) {
  // The stand-in writes exit.json into the bind-mounted run dir and exits.
  auto runner = MakeRunner(
      "test -d /workspace -a -d /home/agent -a -S /run/outpost/channel/channel.sock || "
      "{ echo missing mounts >&2; exit 9; }; "
      "printf '%s' '{\"outcome\":\"exited\",\"exit_code\":0,\"ended_at\":\"2026-12-06T16:00:00Z\"}'"
      " > /run/outpost/run/exit.json");
  ASSERT_OK(runner->StartChannel("127.0.0.1", 9));
  RunSpec spec = Spec();
  ASSERT_OK(runner->Start(spec));
  ASSERT_OK_AND_ASSIGN(int code, engine_->WaitContainer(DockerRunner::ContainerName(spec.id),
                                                        std::chrono::seconds(30)));
  EXPECT_EQ(code, 0);
  ShimProbe p = runner->Probe(spec.id);
  ASSERT_EQ(p.state, ShimState::kExited);
  EXPECT_EQ(p.exit->outcome, ExitOutcome::kExited);
  EXPECT_EQ(p.exit->exit_code, 0);
  EXPECT_TRUE(ContainerGone(spec.id));
  ASSERT_OK(runner->Discard(spec.id));
  EXPECT_FALSE(FileExists(runner->Dir(spec.id).path()));
}

TEST_F(DockerRunnerTest, CancelWritesCancelJsonAndSignalsTheContainer) {
  // tini is not in the way here: the shell is pid 1 and traps USR1.
  auto runner = MakeRunner(
      "trap 'test -f /run/outpost/run/cancel.json && exit 42' USR1; "
      "while :; do sleep 0.1; done");
  RunSpec spec = Spec();
  ASSERT_OK(runner->Start(spec));
  // The shim is there (it writes shim.json first): the signal is sent.
  ASSERT_OK(WriteFileAtomic(runner->Dir(spec.id).File("shim.json"), "{}", 0600));
  ASSERT_OK(runner->RequestCancel(spec.id, "stop it"));
  ASSERT_OK(runner->RequestCancel(spec.id, "second reason"));  // idempotent
  ASSERT_OK_AND_ASSIGN(int code, engine_->WaitContainer(DockerRunner::ContainerName(spec.id),
                                                        std::chrono::seconds(30)));
  EXPECT_EQ(code, 42);
  EXPECT_EQ(runner->Dir(spec.id).ReadCancel()->reason, "stop it");
  EXPECT_THAT(runner->RequestCancel(RunId(NewUlid(RealClock::Instance().Now())), "x"),
              StatusIs(Code::kNotFound));
}

TEST_F(DockerRunnerTest, AContainerRunningPastItsDeadlineIsStoppedByProbe) {
  // Ignores TERM and forks: only the runner's stop (KILL after 2 s) ends it.
  auto runner = MakeRunner("trap '' TERM USR1; (trap '' TERM; sleep 300) & sleep 300");
  DockerRunnerConfig c;
  RunSpec spec = Spec();
  spec.limits.timeout_seconds = 1;
  spec.limits.grace_seconds = 0;
  ASSERT_OK(runner->Start(spec));
  // Deadline 1 s + grace 0 + 15 s: Probe keeps saying kRunning until then, then stops it.
  EXPECT_TRUE(WaitFor(
      [&] {
        ShimProbe p = runner->Probe(spec.id);
        return p.state != ShimState::kRunning;
      },
      std::chrono::seconds(40)));
  EXPECT_TRUE(ContainerGone(spec.id));
}

TEST_F(DockerRunnerTest, AContainerCreatedButNeverStartedIsStartedByProbe) {
  // The control plane died between create and start: what it left is what Start makes.
  auto runner = MakeRunner("sleep 60");
  RunSpec spec = Spec();
  const RunDir dir = runner->Dir(spec.id);
  for (const std::string& d :
       {dir.path(), dir.workspace(), dir.File("home"), data_.path() + "/channel"}) {
    ASSERT_OK(MakeDirs(d, 0700));
  }
  ASSERT_OK(WriteFileAtomic(dir.File("channel-token"), spec.channel->token, 0600));
  ContainerSpec c = runner->ContainerFor(spec);
  c.storage_bytes.reset();
  ASSERT_OK(engine_->CreateContainer(c).status());
  EXPECT_EQ(runner->Probe(spec.id).state, ShimState::kRunning);
  ASSERT_OK_AND_ASSIGN(ContainerState st,
                       engine_->InspectContainer(DockerRunner::ContainerName(spec.id)));
  EXPECT_TRUE(st.running);
  EXPECT_EQ(runner->Reap(spec.id), 1);
}

TEST_F(DockerRunnerTest, AnAllowlistRunGetsItsProxyAgainAfterARestart) {
  auto runner =
      MakeRunner("while [ ! -S /run/outpost/proxy/proxy.sock ]; do sleep 0.1; done; sleep 60");
  RunSpec spec = Spec();
  spec.network = NetworkPolicy::kAllowlist;
  spec.allow = {"example.com:443"};
  ASSERT_OK(runner->Start(spec));
  EXPECT_EQ(runner->proxies(), 1);
  EXPECT_TRUE(FileExists(runner->Dir(spec.id).File("proxy/proxy.sock")));
  runner.reset();  // the control plane goes away: the proxy with it, the container runs on
  EXPECT_FALSE(FileExists(data_.path() + "/containers/" + spec.id.str() + "/proxy/proxy.sock"));
  auto again = MakeRunner("unused");
  EXPECT_EQ(again->Probe(spec.id).state, ShimState::kRunning);  // adopted
  EXPECT_EQ(again->proxies(), 1);
  EXPECT_TRUE(FileExists(again->Dir(spec.id).File("proxy/proxy.sock")));
  EXPECT_EQ(again->Reap(spec.id), 1);
  EXPECT_EQ(again->proxies(), 0);
}

TEST_F(DockerRunnerTest, ARunWithoutAChannelOrWithHostNetworkIsRefused) {
  auto runner = MakeRunner("true");
  RunSpec spec = Spec();
  spec.channel.reset();
  EXPECT_THAT(runner->Start(spec), StatusIs(Code::kInvalidArgument, HasSubstr("channel")));
  RunSpec host = Spec();
  host.network = NetworkPolicy::kHost;
  EXPECT_THAT(runner->Start(host),
              StatusIs(Code::kInvalidArgument, HasSubstr("allow_host_network")));
  EXPECT_FALSE(FileExists(runner->Dir(spec.id).path()));
  EXPECT_FALSE(FileExists(runner->Dir(host.id).path()));
}

TEST_F(DockerRunnerTest, ARunWhoseEngineStopsAnsweringIsLostAfterTheGraceWithTheEnginesError) {
  // The runner's Engine is a relay to the test dockerd that the test takes away.
  const std::string host = DockerHost();
  ASSERT_TRUE(host.starts_with("unix://")) << host;
  EngineRelay relay(data_.path() + "/engine.sock", host.substr(7));
  ASSERT_OK(relay.Start());
  auto endpoint = EngineEndpoint::Resolve("unix://" + data_.path() + "/engine.sock", {});
  ASSERT_OK(endpoint.status());
  DockerEngine through(*endpoint, EngineOptions{std::chrono::seconds(10), std::chrono::seconds(2)});
  SimulatedClock clock;
  DockerRunnerConfig c;
  c.data_dir = data_.path();
  c.default_image = kImage;
  c.entrypoint = {"/bin/sh", "-c", "sleep 120"};
  c.unreachable_grace_seconds = 60;
  DockerRunner runner(through, clock, c);
  RunSpec spec = Spec();
  spec.network = NetworkPolicy::kAllowlist;
  spec.allow = {"example.com:443"};
  ASSERT_OK(runner.Start(spec));
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);
  EXPECT_EQ(runner.proxies(), 1);

  // dockerd away for less than the grace, then back: the count starts again.
  relay.Stop();
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);
  clock.Advance(std::chrono::seconds(50));
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);
  ASSERT_OK(relay.Start());
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);

  // Away again: kRunning until the grace is over, then kLost naming the Engine's error.
  relay.Stop();
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);
  clock.Advance(std::chrono::seconds(59));
  EXPECT_EQ(runner.Probe(spec.id).state, ShimState::kRunning);
  clock.Advance(std::chrono::seconds(1));
  ShimProbe lost = runner.Probe(spec.id);
  EXPECT_EQ(lost.state, ShimState::kLost);
  EXPECT_FALSE(lost.exit.has_value());
  EXPECT_THAT(lost.message, HasSubstr("unreachable_grace_seconds"));
  EXPECT_THAT(lost.message, HasSubstr("docker inspect"));
  EXPECT_EQ(runner.proxies(), 0);
  // The container is still there (dockerd was only out of reach): the reaper's business.
  ASSERT_OK_AND_ASSIGN(ContainerState st,
                       engine_->InspectContainer(DockerRunner::ContainerName(spec.id)));
  EXPECT_TRUE(st.running);
}

// The channel socket relays to a TCP listener (the control plane's).
TEST(ChannelRelayTest, RelaysAUnixConnectionToTheTcpListener) {
  TempDir dir;
  auto listener = netproxy::ListenTcp("127.0.0.1", 0);
  ASSERT_OK(listener.status());
  ASSERT_OK_AND_ASSIGN(int port, netproxy::LocalPort(listener->get()));
  ASSERT_OK_AND_ASSIGN(auto relay,
                       ChannelRelay::Start(dir.path() + "/channel/channel.sock", "0.0.0.0", port));
  struct stat sb;
  ASSERT_EQ(::stat((dir.path() + "/channel").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0700u);
  ASSERT_OK_AND_ASSIGN(auto client, netproxy::ConnectUnix(relay->socket_path()));
  ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
  netproxy::UniqueFd server(::accept(listener->get(), nullptr, nullptr));
  ASSERT_TRUE(server);
  char buf[4];
  ASSERT_EQ(::recv(server.get(), buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_EQ(::send(server.get(), "pong", 4, MSG_NOSIGNAL), 4);
  ASSERT_EQ(::recv(client.get(), buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");
  relay->Stop();
  EXPECT_FALSE(FileExists(dir.path() + "/channel/channel.sock"));
}

}  // namespace
}  // namespace outpost::docker
