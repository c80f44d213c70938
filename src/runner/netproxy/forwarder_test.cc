#include "runner/netproxy/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runner/netproxy/proxy.h"
#include "runner/netproxy/test_servers.h"
#include "testing/temp_dir.h"

namespace outpost::netproxy {
namespace {

using testing::TestServer;

Result<ForwardArgs> Parse(std::vector<std::string> args) { return ParseForwardArgs(args); }

TEST(ForwardArgs, ParsesFlagsAndCommand) {
  auto a = Parse({"--listen", "127.0.0.1:3128", "--socket=/run/p.sock", "--", "claude", "-p", "x"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->listen.host, "127.0.0.1");
  EXPECT_EQ(a->listen.port, 3128);
  EXPECT_EQ(a->socket, "/run/p.sock");
  EXPECT_EQ(a->command, (std::vector<std::string>{"claude", "-p", "x"}));
}

TEST(ForwardArgs, RejectsBadArguments) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--socket", "/s", "--", "cmd"},
           {"--listen", "127.0.0.1:3128", "--", "cmd"},
           {"--listen", "127.0.0.1:3128", "--socket", "/s"},
           {"--listen", "127.0.0.1:3128", "--socket", "/s", "--"},
           {"--listen", "localhost:3128", "--socket", "/s", "--", "cmd"},
           {"--listen", "127.0.0.1", "--socket", "/s", "--", "cmd"},
           {"--listen", "127.0.0.1:99999", "--socket", "/s", "--", "cmd"},
           {"--bogus", "--listen", "127.0.0.1:1", "--socket", "/s", "--", "cmd"},
           {"--listen"}}) {
    auto a = Parse(args);
    EXPECT_EQ(a.status().code(), Code::kInvalidArgument) << ::testing::PrintToString(args);
  }
}

TEST(SandboxForward, BadArgumentsExit127WithoutForking) {
  const char* argv[] = {"outpost", "sandbox-forward", "--listen", "127.0.0.1:1", "--", "true"};
  EXPECT_EQ(RunSandboxForward(6, const_cast<char**>(argv)), 127);
}

// Runs the helper binary (`sandbox-forward` as its own process) with stdout to `out_path`;
// returns its wait status, or -1 if it did not finish within the deadline.
int RunHelper(const std::vector<std::string>& args, const std::string& out_path) {
  std::vector<std::string> all{OUTPOST_FORWARD_HELPER};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string path_env = "PATH=/usr/bin:/bin";
  char* envp[] = {path_env.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

bool Connectable(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

class SandboxForwardTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  std::string ReadOut() {
    std::ifstream f(dir_ + "/out");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  outpost::testing::TempDir tmp_{"outpost-fwd"};
  std::string dir_;
};

TEST_F(SandboxForwardTest, UnexecutableCommandExits127) {
  int status = RunHelper({"--listen", "127.0.0.1:" + std::to_string(testing::UnusedPort()),
                          "--socket", dir_ + "/p.sock", "--", "/nonexistent/agent"},
                         dir_ + "/out");
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 127);
}

TEST_F(SandboxForwardTest, AgentReachesAllowedHostsOnlyThroughTheProxy) {
  ASSERT_EQ(::access("/usr/bin/curl", X_OK), 0)
      << "curl is not installed (no /usr/bin/curl): run scripts/install-deps.sh test";
  TestServer origin(TestServer::Mode::kHttp, "allowed-body");
  TestServer other(TestServer::Mode::kHttp, "should-not-see");
  std::mutex mu;
  std::vector<BlockedAttempt> blocked;
  auto allow = Allowlist::Create({"127.0.0.1:" + std::to_string(origin.port())});
  ASSERT_TRUE(allow.ok());
  auto proxy = EgressProxy::Start(dir_ + "/proxy.sock", std::move(allow).value(),
                                  [&](const BlockedAttempt& a) {
                                    std::lock_guard lock(mu);
                                    blocked.push_back(a);
                                  });
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();

  int listen_port = testing::UnusedPort();
  std::string curl = "curl -s --noproxy '' -x http://127.0.0.1:" + std::to_string(listen_port);
  std::string script =
      curl + " http://127.0.0.1:" + std::to_string(origin.port()) + "/plain; echo; " + curl +
      " -p http://127.0.0.1:" + std::to_string(origin.port()) + "/tunnel; echo; " + curl +
      " -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(other.port()) +
      "/; echo; exit 7";
  int status = RunHelper({"sandbox-forward", "--listen", "127.0.0.1:" + std::to_string(listen_port),
                          "--socket", dir_ + "/proxy.sock", "--", "/bin/sh", "-c", script},
                         dir_ + "/out");

  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);  // the agent's own exit status
  EXPECT_EQ(ReadOut(), "allowed-body\nallowed-body\n403\n");
  EXPECT_EQ(origin.heads().size(), 2u);
  EXPECT_TRUE(other.heads().empty());
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(blocked.size(), 1u);
    EXPECT_EQ(blocked[0].port, other.port());
  }
  // The forwarder child dies with the agent: its listener goes away.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Connectable(listen_port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(Connectable(listen_port));
}

}  // namespace
}  // namespace outpost::netproxy
