// `outpost task` (runner/task/task.h) as a process on this host, against a real HTTP server with
// the real run-channel routes (RunChannel over real SQLite stores) — the container's view without
// docker: --run-dir a temp dir (0700 root, holding the token), the agent as `nobody`. What the
// control plane gets is checked in its stores: the shared event log holds the shim's journal
// with the shim's seqs, the run record the exit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "api/channel_routes.h"
#include "artifacts/local/local_artifact_store.h"
#include "common/clock.h"
#include "common/ids.h"
#include "core/run_channel.h"
#include "core/run_writer.h"
#include "http/http_server.h"
#include "http/router.h"
#include "runner/event_log.h"
#include "runner/netproxy/allowlist.h"
#include "runner/netproxy/proxy.h"
#include "runner/netproxy/relay.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/fake_http_server.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

// `outpost task ARGS` running; stderr to a file.
class TaskProcess {
 public:
  TaskProcess(const std::vector<std::string>& args, const std::string& stderr_path,
              const std::map<std::string, std::string>& env = {})
      : stderr_path_(stderr_path) {
    std::vector<std::string> argv{OutpostBin(), "task"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      // Nothing of this process (the test server's listening socket) goes with the task.
      ::close_range(3, ~0U, 0);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> a;
      for (std::string& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
  }
  ~TaskProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // The exit code once it exited within `timeout`; -1 otherwise.
  int Wait(std::chrono::milliseconds timeout) {
    WaitFor(
        [&] {
          int st = 0;
          if (!status_ && ::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
          return status_.has_value();
        },
        timeout);
    if (!status_) return -1;
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
  }
  std::string Stderr() const { return ReadAll(stderr_path_); }
  void Signal(int sig) { ::kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stderr_path_;
};

// A unix socket relayed to a TCP port (what the docker runner's channel socket does for a
// container): each connection is copied both ways (netproxy::Relay) on a thread of its own.
class UnixRelay {
 public:
  UnixRelay(const std::string& path, std::uint16_t port) : port_(port) {
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ok_ = ::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(listen_, 16) == 0 && ::pipe2(stop_, O_CLOEXEC) == 0;
    if (ok_) thread_ = std::thread([this] { Loop(); });
  }
  ~UnixRelay() {
    ::shutdown(listen_, SHUT_RDWR);
    if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
    for (std::thread& t : workers_) t.join();
    ::close(listen_);
  }
  bool ok() const { return ok_; }
  int connections() const { return connections_; }

 private:
  void Loop() {
    for (;;) {
      const int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) return;
      ++connections_;
      const int t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(port_);
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(t, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
        ::close(c);
        ::close(t);
        continue;
      }
      ::fcntl(t, F_SETFL, O_NONBLOCK);
      workers_.emplace_back([this, c, t] {
        netproxy::RelayOptions o;
        o.stop_fd = stop_[0];
        netproxy::Relay(c, t, o);
        ::close(c);
        ::close(t);
      });
    }
  }

  std::uint16_t port_;
  int listen_ = -1;
  int stop_[2] = {-1, -1};
  bool ok_ = false;
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

class TaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    ASSERT_EQ(::chmod(base_.c_str(), 0755), 0);  // only the run dir's own mode keeps the agent out
    auto store = SqliteRunStore::Open(base_ + "/outpost.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto log = SqliteEventLog::Open(base_ + "/outpost.db");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    channel_ = std::make_unique<RunChannel>(*store_, *log_, RunChannel::Notify{},
                                            [this](const outpost::Run& run) -> Result<RunSpec> {
                                              std::lock_guard lock(mu_);
                                              auto it = specs_.find(run.id.str());
                                              if (it == specs_.end())
                                                return NotFound("no spec for " + run.id.str());
                                              return it->second;
                                            });
    api::RegisterChannelRoutes(router_, *channel_, RealClock::Instance());
    StartServer(0);
  }
  void TearDown() override {
    server_.reset();
    if (!base_.empty()) {
      KillRunsUnder(base_);
      std::error_code ec;
      fs::remove_all(base_, ec);
    }
  }
  void StartServer(std::uint16_t port) {
    http::HttpServerOptions o;
    o.port = port;
    o.shutdown_grace = std::chrono::milliseconds(200);
    server_ = std::make_unique<http::HttpServer>(router_, o);
    const Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << "port " << port << ": " << st.ToString();
    const std::string bound = server_->BoundAddress();
    port_ = static_cast<std::uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
  }
  void StopServer() {
    server_->Stop();
    server_.reset();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // A RUNNING run with a channel token and the spec the channel serves for it: `script` under
  // sh -c, as `outpost task` gets it from Supervisor::SpecFor. Makes its task dir (0700, the
  // token 0600), workspace and home.
  struct TestRun {
    RunId id;
    std::string token, dir, workspace, home;
  };
  TestRun NewRun(const std::string& script) {
    TestRun t;
    outpost::Run r;
    r.id = RunId(NewUlid(RealClock::Instance().Now()));
    r.agent = "shell";
    r.model_id = "shell";
    r.task = script;
    r.timeout_seconds = 120;
    r.created_at = RealClock::Instance().Now();
    r.status = RunStatus::kRunning;
    r.phase = RunPhase::kRunning;
    r.started_at = r.created_at;
    EXPECT_TRUE(store_->Create(r).ok());
    RunWriter writer(*store_);
    auto token = IssueChannelToken(writer, r.id);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    t.id = r.id;
    t.token = token.ok() ? *token : "";
    t.dir = base_ + "/run-" + r.id.str();
    t.workspace = base_ + "/ws-" + r.id.str();
    t.home = base_ + "/home-" + r.id.str();
    fs::create_directory(t.dir);
    ::chmod(t.dir.c_str(), 0700);
    {
      std::ofstream f(t.dir + "/channel-token");
      f << t.token << "\n";
    }
    ::chmod((t.dir + "/channel-token").c_str(), 0600);
    RunSpec spec;
    spec.id = r.id;
    spec.argv = {"/host/path/does/not/exist/sh", "-c", script};
    spec.env = {{"OUTPOST_TASK_DIR", t.dir}, {"PATH", "/host/only"}};
    spec.limits.timeout_seconds = 120;
    spec.limits.grace_seconds = 2;
    {
      std::lock_guard lock(mu_);
      specs_[r.id.str()] = spec;
    }
    return t;
  }
  // Through `channel` (flags; default: --channel-url of the server).
  std::unique_ptr<TaskProcess> StartTask(const TestRun& t, std::vector<std::string> channel = {},
                                         const std::map<std::string, std::string>& env = {}) {
    if (channel.empty()) channel = {"--channel-url", Url()};
    std::vector<std::string> args{"--run-id", t.id.str(),    "--run-dir", t.dir,    "--agent-user",
                                  "nobody",   "--workspace", t.workspace, "--home", t.home};
    args.insert(args.end(), channel.begin(), channel.end());
    return std::make_unique<TaskProcess>(args, base_ + "/task-" + t.id.str() + ".err", env);
  }
  std::vector<RunEvent> Stored(const RunId& id) {
    auto b = log_->Read(id.str(), 0, 10000);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->events : std::vector<RunEvent>{};
  }
  // The journal the shim wrote in the task dir.
  std::vector<RunEvent> Journal(const TestRun& t) {
    EventLogReader reader(t.dir + "/" + std::string(kEventsFile), 0);
    std::vector<RunEvent> out;
    for (;;) {
      const std::size_t before = out.size();
      EXPECT_TRUE(reader.Read(out).ok());
      if (out.size() == before) return out;
    }
  }
  std::string StdoutOf(const std::vector<RunEvent>& events) {
    std::string out;
    for (const RunEvent& e : events) {
      if (e.type != "output") continue;
      const json::object o = json::parse(e.json).as_object();
      if (o.at("stream").as_string() == "stdout") out += std::string(o.at("data").as_string());
    }
    return out;
  }
  outpost::Run Record(const RunId& id) {
    auto r = store_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : outpost::Run{};
  }
  json::object ChannelExit(const RunId& id) {
    const outpost::Run r = Record(id);
    if (!r.channel_exit) return {};
    return json::parse(*r.channel_exit).as_object();
  }
  // The whole journal reached the shared log, seq for seq, byte for byte.
  void ExpectJournalDelivered(const TestRun& t) {
    const std::vector<RunEvent> journal = Journal(t);
    const std::vector<RunEvent> stored = Stored(t.id);
    ASSERT_FALSE(journal.empty());
    ASSERT_EQ(stored.size(), journal.size());
    for (std::size_t i = 0; i < journal.size(); ++i) {
      EXPECT_EQ(stored[i].seq, static_cast<std::int64_t>(i + 1));
      EXPECT_EQ(stored[i].seq, journal[i].seq);
      EXPECT_EQ(stored[i].json, journal[i].json) << "seq " << journal[i].seq;
    }
  }

  std::string base_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteEventLog> log_;
  std::unique_ptr<RunChannel> channel_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::map<std::string, RunSpec> specs_;
};

TEST_F(TaskTest, AShellRunsEventsAndExitReachTheControlPlane) {
  TestRun t = NewRun("for i in 1 2 3; do echo line-$i; done; echo oops >&2; pwd; echo HOME=$HOME");
  auto task = StartTask(t);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  ExpectJournalDelivered(t);
  const std::string out = StdoutOf(Stored(t.id));
  EXPECT_NE(out.find("line-1\nline-2\nline-3\n"), std::string::npos) << out;
  EXPECT_NE(out.find(t.workspace + "\n"), std::string::npos) << out;  // cwd: the workspace
  EXPECT_NE(out.find("HOME=" + t.home + "\n"), std::string::npos) << out;
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "exited") << json::serialize(exit);
  EXPECT_EQ(exit.at("exit_code").as_int64(), 0);
  // The shim ran in container mode and handed the workspace to the agent.
  struct stat st {};
  ASSERT_EQ(::stat(t.workspace.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

TEST_F(TaskTest, TheAgentRunsAsItsUserAndCannotReadTheTokenOrTheSpec) {
  TestRun t = NewRun(
      "id -u; cat $OUTPOST_TASK_DIR/channel-token; echo token-rc=$?; "
      "cat $OUTPOST_TASK_DIR/spec.json; echo spec-rc=$?; ls $OUTPOST_TASK_DIR; echo ls-rc=$?");
  auto task = StartTask(t);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  const std::vector<RunEvent> events = Stored(t.id);
  const std::string out = StdoutOf(events);
  EXPECT_NE(out.find("65534\n"), std::string::npos) << out;
  EXPECT_NE(out.find("token-rc=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("spec-rc=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ls-rc=2\n"), std::string::npos) << out;
  for (const RunEvent& e : events) {
    EXPECT_EQ(e.json.find(t.token), std::string::npos) << "the token reached the output";
  }
  EXPECT_EQ(task->Stderr().find(t.token), std::string::npos);
}

TEST_F(TaskTest, NothingIsLostOrDuplicatedWhileTheControlPlaneIsAway) {
  // The agent prints until the test lets it finish (a file the test creates).
  const std::string go = base_ + "/go";
  TestRun t = NewRun("i=0; while [ ! -e " + go +
                     " ]; do i=$((i+1)); echo tick-$i; sleep 0.05; done; echo last-line");
  auto task = StartTask(t);
  ASSERT_TRUE(WaitFor([&] { return Stored(t.id).size() >= 3; }, seconds(30))) << task->Stderr();
  StopServer();
  // Away while the agent goes on printing: its journal grows by 20 events undelivered.
  const std::size_t at_stop = Journal(t).size();
  ASSERT_TRUE(WaitFor([&] { return Journal(t).size() >= at_stop + 20; }, seconds(30)));
  StartServer(port_);  // the same address again
  ASSERT_TRUE(WaitFor([&] { return Stored(t.id).size() >= at_stop + 20; }, seconds(30)))
      << task->Stderr();
  { std::ofstream(go.c_str()) << "\n"; }
  ::chmod(go.c_str(), 0644);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  ExpectJournalDelivered(t);
  const std::string out = StdoutOf(Stored(t.id));
  // Every tick once, in order.
  int expected = 1;
  for (std::size_t at = 0; (at = out.find("tick-", at)) != std::string::npos; at += 5) {
    const int n = std::stoi(out.substr(at + 5));
    ASSERT_EQ(n, expected) << out;
    ++expected;
  }
  EXPECT_GT(expected, 20);
  EXPECT_NE(out.find("last-line\n"), std::string::npos);
  EXPECT_EQ(Str(ChannelExit(t.id), "outcome"), "exited");
}

TEST_F(TaskTest, ACancelOnTheControlPlaneStopsTheRun) {
  TestRun t = NewRun("echo started; sleep 120; echo never");
  auto task = StartTask(t);
  ASSERT_TRUE(WaitFor([&] { return StdoutOf(Stored(t.id)).find("started") != std::string::npos; },
                      seconds(30)))
      << task->Stderr();
  RunWriter writer(*store_);
  ASSERT_TRUE(writer
                  .Update(t.id,
                          [](outpost::Run& r) {
                            r.cancel_requested_at = RealClock::Instance().Now();
                            r.cancel_reason = "user asked";
                            return Status::Ok();
                          })
                  .ok());
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "cancelled") << json::serialize(exit);
  EXPECT_EQ(Str(exit, "cancel_reason"), "user asked");
  EXPECT_EQ(StdoutOf(Stored(t.id)).find("never"), std::string::npos);
  ExpectJournalDelivered(t);
}

// What the agent leaves behind — a child that ignores SIGTERM, detached into its own session —
// is killed before the exit is written (the shim's process tree kill as the subreaper).
TEST_F(TaskTest, LeftoversOfTheAgentAreKilledBeforeTheExit) {
  const std::string pidfile = base_ + "/leftover.pid";
  TestRun t = NewRun("setsid sh -c 'trap \"\" TERM; echo $$ > " + pidfile +
                     "; exec sleep 300' & while [ ! -s " + pidfile +
                     " ]; do sleep 0.01; done; echo detached");
  ::chmod(base_.c_str(), 0777);  // the agent (nobody) writes the pid file
  auto task = StartTask(t);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  ::chmod(base_.c_str(), 0755);
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "exited") << json::serialize(exit);
  EXPECT_GE(exit.at("leftover_processes_killed").as_int64(), 1) << json::serialize(exit);
  const int pid = std::stoi(ReadAll(pidfile));
  ASSERT_GT(pid, 1);
  EXPECT_NE(::kill(pid, 0), 0) << "the leftover " << pid << " is still alive";
}

// The agent never runs as root: a root agent user is a start failure, reported as such.
TEST_F(TaskTest, ARootAgentUserIsAReportedStartFailure) {
  TestRun t = NewRun("echo must-not-run");
  std::vector<std::string> args{"--run-id",     t.id.str(), "--run-dir",     t.dir,
                                "--agent-user", "root",     "--workspace",   t.workspace,
                                "--home",       t.home,     "--channel-url", Url()};
  TaskProcess task(args, base_ + "/root.err");
  EXPECT_EQ(task.Wait(seconds(60)), 0) << task.Stderr();  // the failure was delivered
  EXPECT_NE(task.Stderr().find("never runs as root"), std::string::npos) << task.Stderr();
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "start_failed") << json::serialize(exit);
  EXPECT_EQ(StdoutOf(Stored(t.id)).find("must-not-run"), std::string::npos);
  ExpectJournalDelivered(t);  // the error event
}

// network allowlist: the agent reaches only what the run's egress proxy admits, through the
// forwarder on 127.0.0.1:3128 and the proxy's unix socket; a refusal is recorded.
TEST_F(TaskTest, AnAllowlistRunGoesOutThroughTheProxySocketOnly) {
  FakeHttpServer target([](const FakeRequest&) { return FakeResponse{200, "allowed-body", {}}; });
  ASSERT_EQ(RunShell("command -v curl").first, 0) << "this test needs curl (the agent uses it)";
  const std::string proxy_dir = base_ + "/proxy";
  fs::create_directory(proxy_dir);
  auto allow = netproxy::Allowlist::Create({"127.0.0.1:" + std::to_string(target.port())});
  ASSERT_TRUE(allow.ok()) << allow.status().ToString();
  std::mutex mu;
  std::vector<std::string> blocked;
  netproxy::EgressProxyOptions po;
  po.allow_resolved_loopback = true;
  auto proxy = netproxy::EgressProxy::Start(
      proxy_dir + "/proxy.sock", std::move(*allow),
      [&](const netproxy::BlockedAttempt& a) {
        std::lock_guard lock(mu);
        blocked.push_back(a.host + ":" + std::to_string(a.port));
      },
      po);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  // NO_PROXY names 127.0.0.1 (as in the sandbox): the agent names the proxy it was given.
  TestRun t = NewRun("echo proxy=$HTTP_PROXY; curl -s -x \"$HTTP_PROXY\" http://127.0.0.1:" +
                     std::to_string(target.port()) +
                     "/ok; echo; curl -s -o /dev/null -w 'blocked=%{http_code}\\n' -x "
                     "\"$HTTP_PROXY\" http://127.0.0.2:9/no");
  {
    std::lock_guard lock(mu_);
    specs_[t.id.str()].network = NetworkPolicy::kAllowlist;
  }
  auto task = StartTask(t, {"--channel-url", Url(), "--proxy-socket", proxy_dir + "/proxy.sock"});
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  const std::string out = StdoutOf(Stored(t.id));
  EXPECT_NE(out.find("proxy=http://127.0.0.1:3128\n"), std::string::npos) << out;
  EXPECT_NE(out.find("allowed-body"), std::string::npos) << out;
  EXPECT_NE(out.find("blocked=403"), std::string::npos) << out;
  std::lock_guard lock(mu);
  EXPECT_EQ(blocked, std::vector<std::string>{"127.0.0.2:9"});
}

// A run with a repository: cloned as root, then the workspace is the agent's; what it changed is
// collected into the task directory (diff.patch) and reported.
TEST_F(TaskTest, ARepositoryIsClonedHandedToTheAgentAndItsChangesCollected) {
  const std::string repos = base_ + "/repos";
  const std::string origin = repos + "/origin";
  Sh("mkdir -p " + repos + " && git init -q -b trunk " + origin + " && cd " + origin +
     " && echo hello > README.md && git add README.md && "
     "git -c user.name=t -c user.email=t@e commit -q -m init");
  TestRun t = NewRun("id -u; cat README.md; echo from-the-agent > NEW.txt; echo done");
  {
    std::lock_guard lock(mu_);
    RepoCheckout& co = specs_[t.id.str()].repo.emplace();
    co.url = origin;
    co.local_repo_roots = {repos};
    co.data_dir = base_ + "/data";
  }
  auto task = StartTask(t);
  ASSERT_EQ(task->Wait(seconds(90)), 0) << task->Stderr();
  const std::string out = StdoutOf(Stored(t.id));
  EXPECT_NE(out.find("65534\nhello\ndone\n"), std::string::npos) << out;
  EXPECT_EQ(Str(ChannelExit(t.id), "outcome"), "exited");
  const std::string patch = ReadAll(t.dir + "/diff.patch");
  EXPECT_NE(patch.find("+from-the-agent"), std::string::npos)
      << patch << ReadAll(t.dir + "/shim.log");
  EXPECT_NE(ReadAll(t.dir + "/changes.json").find("NEW.txt"), std::string::npos);
  ExpectJournalDelivered(t);
}

// A task that shares no files with the control plane (a remote Docker daemon, ECS): no token
// file, only the one-use bootstrap token in its environment. It exchanges it for the channel
// token, delivers its outputs as the run's artifacts and its changes with the exit; the agent
// never sees the bootstrap token, and it serves nothing a second time.
TEST_F(TaskTest, ARemoteTaskBootstrapsAndDeliversItsOutputsAndChangesOverTheChannel) {
  auto signer = artifacts::UrlSigner::LoadOrCreate(base_);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto art = artifacts::OpenLocalArtifactStore(base_ + "/artifacts", *signer,
                                               [] { return std::string("http://cp"); });
  ASSERT_TRUE(art.ok()) << art.status().ToString();
  channel_->SetOutputs(art->get(), 1 << 20);
  const std::string repos = base_ + "/repos";
  const std::string origin = repos + "/origin";
  Sh("mkdir -p " + repos + " && git init -q -b trunk " + origin + " && cd " + origin +
     " && echo hello > README.md && git add README.md && "
     "git -c user.name=t -c user.email=t@e commit -q -m init");
  TestRun t = NewRun(
      "cat README.md; echo boot=${OUTPOST_BOOTSTRAP_TOKEN:-none}; echo oops >&2; "
      "echo from-the-agent > NEW.txt; echo done");
  {
    std::lock_guard lock(mu_);
    RepoCheckout& co = specs_[t.id.str()].repo.emplace();
    co.url = origin;
    co.local_repo_roots = {repos};
    co.data_dir = base_ + "/data";
  }
  fs::remove(t.dir + "/channel-token");
  RunWriter writer(*store_);
  auto issued = IssueChannelTokens(writer, t.id);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  auto task = StartTask(t, {}, {{"OUTPOST_BOOTSTRAP_TOKEN", issued->bootstrap}});
  ASSERT_EQ(task->Wait(seconds(90)), 0) << task->Stderr();
  EXPECT_EQ(task->Stderr().find(issued->bootstrap), std::string::npos);
  // The outputs, where the end-of-run upload would have put them.
  const std::string key = "dispatches/" + t.id.str() + "/";
  auto out = (*art)->Get(key + "output.log");
  ASSERT_TRUE(out.ok()) << out.status().ToString() << task->Stderr();
  EXPECT_EQ(*out, "hello\nboot=none\ndone\n");
  auto err = (*art)->Get(key + "stderr.log");
  EXPECT_EQ(err.ok() ? *err : err.status().ToString(), "oops\n");
  auto diff = (*art)->Get(key + "diff.patch");
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_NE(diff->find("+from-the-agent"), std::string::npos) << *diff;
  // The changes with the exit (channel 1.1).
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "exited") << json::serialize(exit);
  ASSERT_TRUE(exit.contains("changes")) << json::serialize(exit);
  EXPECT_EQ(json::serialize(exit.at("changes").at("files_changed")), R"(["NEW.txt"])");
  ExpectJournalDelivered(t);
  // One use: the record keeps no bootstrap hash, and the launch's token is not the run's.
  const outpost::Run r = Record(t.id);
  EXPECT_EQ(r.channel_bootstrap_sha256, "");
  EXPECT_NE(r.channel_token_sha256, ChannelTokenHash(issued->token));
  EXPECT_EQ(channel_->Bootstrap(t.id, issued->bootstrap).status().code(),
            outpost::Code::kUnauthenticated);
}

// A remote task whose bootstrap token was used already (or forged) gets nothing and runs nothing.
TEST_F(TaskTest, ARemoteTaskWithAUsedBootstrapTokenStopsWithAClearMessage) {
  TestRun t = NewRun("echo must-not-run");
  fs::remove(t.dir + "/channel-token");
  RunWriter writer(*store_);
  auto issued = IssueChannelTokens(writer, t.id);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ASSERT_TRUE(channel_->Bootstrap(t.id, issued->bootstrap).ok());
  auto task = StartTask(t, {}, {{"OUTPOST_BOOTSTRAP_TOKEN", issued->bootstrap}});
  ASSERT_EQ(task->Wait(seconds(60)), 1) << task->Stderr();
  EXPECT_NE(task->Stderr().find("bootstrap token was refused"), std::string::npos)
      << task->Stderr();
  EXPECT_FALSE(fs::exists(t.dir + "/spec.json"));
  EXPECT_TRUE(Stored(t.id).empty());
}

// The container's way: the channel through a unix socket (http://localhost as the URL).
TEST_F(TaskTest, TheChannelThroughAUnixSocket) {
  const std::string sock = base_ + "/channel.sock";
  UnixRelay relay(sock, port_);
  ASSERT_TRUE(relay.ok()) << std::strerror(errno);
  TestRun t = NewRun("echo over-the-socket");
  auto task = StartTask(t, {"--channel-socket", sock});
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  EXPECT_GT(relay.connections(), 0);
  ExpectJournalDelivered(t);
  EXPECT_NE(StdoutOf(Stored(t.id)).find("over-the-socket\n"), std::string::npos);
  EXPECT_EQ(Str(ChannelExit(t.id), "outcome"), "exited");
}

// docker stop: tini hands SIGTERM to the task, which hands it to the shim (its cancel protocol);
// the exit is still reported.
TEST_F(TaskTest, SigtermToTheTaskStopsTheRunAndItsExitIsReported) {
  TestRun t = NewRun("echo started; sleep 120; echo never");
  auto task = StartTask(t);
  ASSERT_TRUE(WaitFor([&] { return StdoutOf(Stored(t.id)).find("started") != std::string::npos; },
                      seconds(30)))
      << task->Stderr();
  task->Signal(SIGTERM);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "cancelled") << json::serialize(exit);
  EXPECT_EQ(Str(exit, "cancel_reason"), "shim terminated");
  ExpectJournalDelivered(t);
}

// A cancel already on the record when the task starts: the first control poll signals the shim
// at once, which may be before it is ready for signals — it must still end as cancelled.
TEST_F(TaskTest, ACancelBeforeTheAgentStartsEndsTheRunCancelled) {
  TestRun t = NewRun("echo must-not-run");
  RunWriter writer(*store_);
  ASSERT_TRUE(writer
                  .Update(t.id,
                          [](outpost::Run& r) {
                            r.cancel_requested_at = RealClock::Instance().Now();
                            r.cancel_reason = "changed my mind";
                            return Status::Ok();
                          })
                  .ok());
  auto task = StartTask(t);
  ASSERT_EQ(task->Wait(seconds(60)), 0) << task->Stderr();
  const json::object exit = ChannelExit(t.id);
  EXPECT_EQ(Str(exit, "outcome"), "cancelled") << json::serialize(exit);
  EXPECT_EQ(Str(exit, "cancel_reason"), "changed my mind");
  EXPECT_EQ(StdoutOf(Stored(t.id)).find("must-not-run"), std::string::npos);
}

// A run that ended before its task came up (cancelled while the container started): the spec is
// refused with the run's status, and nothing is started.
TEST_F(TaskTest, ARunThatIsNoLongerRunningGetsNoSpecAndNothingStarts) {
  TestRun t = NewRun("echo must-not-run");
  RunWriter writer(*store_);
  ASSERT_TRUE(writer
                  .Update(t.id,
                          [](outpost::Run& r) {
                            r.status = RunStatus::kCancelled;
                            r.phase = RunPhase::kDone;
                            r.ended_at = RealClock::Instance().Now();
                            return Status::Ok();
                          })
                  .ok());
  auto task = StartTask(t);
  EXPECT_EQ(task->Wait(seconds(60)), 1);
  EXPECT_NE(task->Stderr().find("CANCELLED"), std::string::npos) << task->Stderr();
  EXPECT_NE(task->Stderr().find("409"), std::string::npos) << task->Stderr();
  EXPECT_FALSE(fs::exists(t.dir + "/spec.json"));
  EXPECT_TRUE(Stored(t.id).empty());
}

TEST_F(TaskTest, ATokenTheServerRefusesEndsTheTaskWithAClearMessage) {
  TestRun t = NewRun("echo must-not-run");
  {
    std::ofstream f(t.dir + "/channel-token");
    f << t.id.str() << "." << std::string(43, 'A') << "\n";  // forged
  }
  auto task = StartTask(t);
  EXPECT_EQ(task->Wait(seconds(60)), 1);
  EXPECT_NE(task->Stderr().find("refused this run's token"), std::string::npos) << task->Stderr();
  EXPECT_NE(task->Stderr().find("401"), std::string::npos) << task->Stderr();
  EXPECT_TRUE(Stored(t.id).empty());
  EXPECT_FALSE(Record(t.id).channel_exit.has_value());
  EXPECT_FALSE(fs::exists(t.dir + "/spec.json"));  // nothing was started
}

TEST_F(TaskTest, AMalformedSpecIsAClearErrorAndIsReportedAsStartFailed) {
  std::mutex mu;
  std::vector<std::string> events_bodies, exit_bodies;
  FakeHttpServer fake([&](const FakeRequest& req) {
    std::lock_guard lock(mu);
    if (req.method == "GET" && req.target.ends_with("/spec")) {
      // A spec whose argv is a string and with a field no version knows.
      return FakeResponse{200, Envelope(R"({"id":"R1","argv":"sh -c true","surprise":1})"), {}};
    }
    if (req.target.ends_with("/events")) {
      events_bodies.push_back(req.body);
      return FakeResponse{200, Envelope(R"({"lastSeq":1,"stored":1})"), {}};
    }
    if (req.target.ends_with("/exit")) {
      exit_bodies.push_back(req.body);
      return FakeResponse{200, Envelope(R"({"stored":true})"), {}};
    }
    return FakeResponse{404, "{}", {}};
  });
  const std::string dir = base_ + "/run-R1";
  fs::create_directory(dir);
  { std::ofstream(dir + "/channel-token") << "R1." << std::string(43, 'x') << "\n"; }
  TaskProcess task(
      {"--run-id", "R1", "--run-dir", dir, "--channel-url", fake.endpoint(), "--agent-user",
       "nobody", "--workspace", base_ + "/ws", "--home", base_ + "/home"},
      base_ + "/malformed.err");
  EXPECT_EQ(task.Wait(seconds(60)), 1);
  const std::string err = task.Stderr();
  EXPECT_NE(err.find("run spec is malformed"), std::string::npos) << err;
  EXPECT_NE(err.find("surprise: unknown field"), std::string::npos) << err;
  std::lock_guard lock(mu);
  ASSERT_EQ(events_bodies.size(), 1u) << err;
  EXPECT_NE(events_bodies[0].find(R"("type":"error")"), std::string::npos) << events_bodies[0];
  EXPECT_NE(events_bodies[0].find("surprise"), std::string::npos) << events_bodies[0];
  ASSERT_EQ(exit_bodies.size(), 1u) << err;
  EXPECT_NE(exit_bodies[0].find(R"("outcome":"start_failed")"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/spec.json"));  // nothing was started
}

}  // namespace
}  // namespace outpost::testing
