// The pure parts of `outpost task` (runner/task/task.h): options, the agent user, the
// container-mode LaunchSpec. The whole task against a real server: tests/integration/task_test.
#include "runner/task/task.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "testing/status_matchers.h"

namespace outpost::task {
namespace {

using ::outpost::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "agent:x:1000:1000::/home/agent:/bin/sh\n"
    "badgid:x:1001:0::/:/bin/sh\n"
    "broken:x:12a:1:::\n";

TEST(LookUpUser, FindsTheAgentAndRefusesRoot) {
  ASSERT_OK_AND_ASSIGN(AgentUser agent, LookUpUser(kPasswd, "agent"));
  EXPECT_EQ(agent.uid, 1000);
  EXPECT_EQ(agent.gid, 1000);
  ASSERT_OK_AND_ASSIGN(AgentUser nobody, LookUpUser(kPasswd, "nobody"));
  EXPECT_EQ(nobody.uid, 65534);
  EXPECT_THAT(LookUpUser(kPasswd, "root"), StatusIs(Code::kInvalidArgument, HasSubstr("root")));
  EXPECT_THAT(LookUpUser(kPasswd, "badgid"), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(LookUpUser(kPasswd, "broken"),
              StatusIs(Code::kInvalidArgument, HasSubstr("malformed")));
  EXPECT_THAT(LookUpUser(kPasswd, "ghost"), StatusIs(Code::kNotFound, HasSubstr("ghost")));
}

class TaskOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"OUTPOST_RUN_ID", "OUTPOST_TASK_DIR", "OUTPOST_CHANNEL_SOCKET",
                          "OUTPOST_CHANNEL_URL", "OUTPOST_CHANNEL_TOKEN_FILE"}) {
      ::unsetenv(v);
    }
  }
};

TEST_F(TaskOptionsTest, EnvironmentAndFlagsWin) {
  ::setenv("OUTPOST_RUN_ID", "R1", 1);
  ::setenv("OUTPOST_TASK_DIR", "/run/outpost/run", 1);
  ::setenv("OUTPOST_CHANNEL_SOCKET", "/run/outpost/channel/channel.sock", 1);
  ::setenv("OUTPOST_CHANNEL_URL", "http://localhost", 1);
  ASSERT_OK_AND_ASSIGN(TaskOptions env, ResolveTaskOptions({}));
  EXPECT_EQ(env.run_id, "R1");
  EXPECT_EQ(env.channel_socket, "/run/outpost/channel/channel.sock");
  EXPECT_EQ(env.token_file, "/run/outpost/run/channel-token");
  EXPECT_EQ(env.agent_user, "agent");
  EXPECT_EQ(env.workspace, "/workspace");
  TaskFlags f;
  f.run_dir = "/tmp/d";
  f.channel_url = "http://127.0.0.1:9";  // a flag names the channel whole: no env socket
  f.agent_user = "nobody";
  ASSERT_OK_AND_ASSIGN(TaskOptions flags, ResolveTaskOptions(f));
  EXPECT_EQ(flags.run_dir, "/tmp/d");
  EXPECT_EQ(flags.channel_url, "http://127.0.0.1:9");
  EXPECT_EQ(flags.channel_socket, "");
  EXPECT_EQ(flags.token_file, "/tmp/d/channel-token");
  EXPECT_EQ(flags.agent_user, "nobody");
}

TEST_F(TaskOptionsTest, SaysWhatIsMissing) {
  EXPECT_THAT(ResolveTaskOptions({}), StatusIs(Code::kInvalidArgument, HasSubstr("run id")));
  TaskFlags f;
  f.run_id = "R1";
  EXPECT_THAT(ResolveTaskOptions(f), StatusIs(Code::kInvalidArgument, HasSubstr("--run-dir")));
  f.run_dir = "/tmp/d";
  EXPECT_THAT(ResolveTaskOptions(f), StatusIs(Code::kInvalidArgument, HasSubstr("channel")));
  f.channel_url = "ftp://x";
  EXPECT_THAT(ResolveTaskOptions(f), StatusIs(Code::kInvalidArgument, HasSubstr("channel URL")));
  f.channel_url = "http://x";
  f.run_id = "../etc";
  EXPECT_THAT(ResolveTaskOptions(f), StatusIs(Code::kInvalidArgument, HasSubstr("bad run id")));
}

RunSpec Spec() {
  RunSpec s;
  s.id = RunId("R1");
  s.argv = {"/home/ci/.local/bin/claude", "-p", "task"};
  s.env = {{"PATH", "/host/only/bin"}, {"KEY", "v"}};
  s.redact = {"v"};
  s.limits.timeout_seconds = 77;
  s.repo.emplace();
  s.repo->url = "https://github.com/o/r";
  s.repo->cache_dir = "/host/data/repos";
  s.repo->git_token = "ghp";
  return s;
}

TEST(ContainerLaunchSpec, MapsTheSpecIntoTheContainer) {
  TaskOptions opts;
  opts.run_id = "R1";
  ASSERT_OK_AND_ASSIGN(LaunchSpec l,
                       ContainerLaunchSpec(Spec(), opts, {1000, 1000}, "/usr/bin:/bin", "/o"));
  EXPECT_EQ(l.argv[0], "claude");
  EXPECT_EQ(l.env.at("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(l.env.at("HOME"), "/home/agent");
  EXPECT_EQ(l.workspace, "/workspace");
  EXPECT_EQ(l.timeout_seconds, 77);
  EXPECT_EQ(l.repo_cache_dir, "");  // private
  EXPECT_EQ(l.git_token, "ghp");
  EXPECT_TRUE(l.container.enabled);
  EXPECT_FALSE(l.sandbox.enabled);
  EXPECT_EQ(l.container.agent_uid, 1000);
  EXPECT_EQ(l.container.network, "none");
  EXPECT_EQ(l.container.outpost_exe, "");
  RunSpec allow = Spec();
  allow.network = NetworkPolicy::kAllowlist;
  ASSERT_OK_AND_ASSIGN(LaunchSpec a, ContainerLaunchSpec(allow, opts, {1000, 1000}, "", "/o"));
  EXPECT_EQ(a.container.proxy_socket, "/run/outpost/proxy/proxy.sock");
  EXPECT_EQ(a.container.outpost_exe, "/o");
  EXPECT_FALSE(a.env.at("PATH").empty());
  opts.run_id = "R2";
  EXPECT_THAT(ContainerLaunchSpec(Spec(), opts, {1000, 1000}, "", "/o"),
              StatusIs(Code::kInvalidArgument, HasSubstr("R1")));
}

TEST(ChannelExchange, AMissingSocketIsUnavailable) {
  net::HttpRequest req;
  req.method = "GET";
  ASSERT_OK_AND_ASSIGN(req.url, net::ParseUrl("http://localhost/internal/v1/runs/R1/control"));
  EXPECT_THAT(ChannelExchange(req, {}, "/nonexistent/outpost/channel.sock"),
              StatusIs(Code::kUnavailable));
}

}  // namespace
}  // namespace outpost::task
