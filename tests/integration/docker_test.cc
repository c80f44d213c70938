// Issue 20 end to end: `outpost serve --runner docker` against the real shared dockerd
// (scripts/test-dockerd.sh, OUTPOST_TEST_DOCKER_HOST; ctest fixture docker_env, which builds
// outpost-base:test from this build's outpost). Shell runs in containers to every terminal status,
// adoption after kill -9, cancel of a TERM-ignoring forking agent, a control plane down while a
// run prints, the escape checks adapted to containers, and the bad input of the issue. After
// every run: no container of it is left.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"
#include "tests/agents/fake_model_server.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

std::string DockerHost() {
  const char* h = std::getenv("OUTPOST_TEST_DOCKER_HOST");
  return h ? h : "";
}

std::string ShellBody(const std::string& task, int timeout = 60, json::object extra = {}) {
  json::object o{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}};
  for (auto& [k, v] : extra) o[k] = v;
  return json::serialize(o);
}

// The test images' tag: `test` (the ctest fixture's), or OUTPOST_TEST_IMAGE_TAG (images built
// from another build's outpost: scripts/build-images.sh --test with OUTPOST_IMAGE_TAG).
std::string ImageTag() {
  const char* t = std::getenv("OUTPOST_TEST_IMAGE_TAG");
  return t && *t ? t : "test";
}

// The dockerd's answer to GET path (curl over its unix socket).
std::string Engine(const std::string& path) {
  std::string sock = DockerHost().substr(std::string("unix://").size());
  return Sh("curl -s --unix-socket " + sock + " 'http://docker/v1.41" + path + "'");
}

class DockerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_FALSE(DockerHost().empty())
        << "OUTPOST_TEST_DOCKER_HOST is not set (ctest fixture docker_env)";
    ASSERT_EQ(Engine("/_ping"), "OK") << "the test dockerd does not answer at " << DockerHost();
    cfg_ = dir_ + "/outpost.toml";
    WriteConfig("");
  }
  void TearDown() override {
    // Whatever a failed test left: its containers (by this data dir's label).
    const std::string ids =
        Sh("curl -s --unix-socket " + DockerHost().substr(7) +
           " 'http://docker/v1.41/containers/json?all=1' | "
           "python3 -c 'import json,sys; [print(c[\"Id\"]) for c in "
           "json.load(sys.stdin) if c[\"Labels\"].get(\"outpost.data-dir\",\"\")"
           ".startswith(\"" +
           dir_ + "\")]'");
    for (std::size_t at = 0; at < ids.size();) {
      std::size_t nl = ids.find('\n', at);
      std::string id = ids.substr(at, nl - at);
      if (!id.empty()) {
        Sh("curl -s -X DELETE --unix-socket " + DockerHost().substr(7) +
           " 'http://docker/v1.41/containers/" + id + "?force=1'");
      }
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    ServerTest::TearDown();
  }
  void WriteConfig(const std::string& more) {
    std::ofstream(cfg_) << "[runner]\nkind = \"docker\"\n[runner.docker]\nhost = \"" +
                               DockerHost() + "\"\nimage_tag = \"" + ImageTag() + "\"\n" + more;
  }
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("OUTPOST_CONFIG", cfg_);
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    server_ = ServerProcess::Start(dir_, env);
    ASSERT_NE(server_, nullptr);
  }
  // Whether a container of the run exists (any state).
  bool ContainerExists(const std::string& run_id) {
    std::string name = "outpost-run-" + run_id;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Engine("/containers/" + name + "/json").find("\"Id\"") != std::string::npos;
  }
  std::string Stdout(const std::string& id) {
    std::string out;
    json::object page =
        server_->Get("/runs/" + id + "/logs?limit=1000").Json().at("data").as_object();
    for (const auto& e : page.at("entries").as_array()) {
      if (e.at("stream") == "stdout") out += std::string(e.at("message").as_string()) + "\n";
    }
    return out;
  }
  std::string cfg_;
};

TEST_F(DockerTest, ShellRunsInContainersReachEveryTerminalStatusAndLeaveNoContainer) {
  StartServer();
  const std::string ok = server_->Dispatch(ShellBody("echo hello from $(hostname); echo oops >&2"));
  const std::string failed = server_->Dispatch(ShellBody("exit 3"));
  const std::string timeout = server_->Dispatch(ShellBody("sleep 60", 2));
  const std::string cancelled = server_->Dispatch(ShellBody("echo up; sleep 60"));
  const std::string oom = server_->Dispatch(
      ShellBody("head -c 400m /dev/zero | tail > /dev/null", 60,
                json::object{{"resourceConstraints", json::object{{"maxMemoryMb", 64}}}}));
  for (const std::string& id : {ok, failed, timeout, cancelled, oom}) ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return Stdout(cancelled) == "up\n"; }, seconds(60)));
  EXPECT_EQ(server_->Post("/runs/" + cancelled + "/cancel", R"({"reason":"enough"})").status, 202);

  json::object run = server_->WaitTerminal(ok, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(ok).rfind("hello from ", 0), 0u) << Stdout(ok);
  run = server_->WaitTerminal(failed, seconds(120));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "exit_nonzero");
  run = server_->WaitTerminal(timeout, seconds(120));
  EXPECT_EQ(Str(run, "status"), "TIMEOUT") << json::serialize(run);
  run = server_->WaitTerminal(cancelled, seconds(120));
  EXPECT_EQ(Str(run, "status"), "CANCELLED") << json::serialize(run);
  EXPECT_EQ(Str(run, "cancelReason"), "enough");
  run = server_->WaitTerminal(oom, seconds(120));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "oom") << json::serialize(run);
  // The terminal status is written once the container is gone.
  for (const std::string& id : {ok, failed, timeout, cancelled, oom}) {
    EXPECT_FALSE(ContainerExists(id)) << id;
  }
}

// Remote mode ([runner.docker] remote = true; a tcp:// daemon does the same): the container
// shares NO file with the control plane — no mount at all; the task bootstraps its channel token
// with the one-use token of its environment (which is not the channel token, and is refused a
// second time), delivers its outputs over the channel as the run's artifacts and its exit; a
// cancel reaches it through the channel. The test's "remote" daemon is this machine's, so the
// container's host network reaches the control plane's loopback port (README "Container runs").
TEST_F(DockerTest, ARemoteRunSharesNoFileAndDeliversOutputArtifactsAndExitOverTheChannel) {
  WriteConfig("remote = true\n[sandbox]\nallow_host_network = true\n");
  StartServer();
  const std::string id = server_->Dispatch(
      ShellBody("echo hello-remote; echo boot=${OUTPOST_BOOTSTRAP_TOKEN:-none}; echo oops >&2; "
                "while [ ! -e /workspace/go ]; do sleep 0.2; done; echo done",
                120, json::object{{"network", "host"}}));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return Stdout(id).find("boot=") != std::string::npos; }, seconds(90)))
      << Stdout(id);
  EXPECT_EQ(Stdout(id), "hello-remote\nboot=none\n");
  std::string name = "outpost-run-" + id;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const json::object c = json::parse(Engine("/containers/" + name + "/json")).as_object();
  EXPECT_TRUE(c.at("Mounts").as_array().empty()) << json::serialize(c.at("Mounts"));
  EXPECT_TRUE(c.at("HostConfig").at("Binds").is_null() ||
              c.at("HostConfig").at("Binds").as_array().empty());
  EXPECT_EQ(c.at("Config").at("Labels").at("outpost.remote"), "true");
  std::string bootstrap;
  for (const auto& e : c.at("Config").at("Env").as_array()) {
    const std::string kv(e.as_string());
    EXPECT_EQ(kv.find("CHANNEL_TOKEN"), std::string::npos) << kv;
    if (kv.rfind("OUTPOST_BOOTSTRAP_TOKEN=", 0) == 0) bootstrap = kv.substr(kv.find('=') + 1);
  }
  ASSERT_FALSE(bootstrap.empty()) << json::serialize(c.at("Config").at("Env"));
  const std::string base = "/internal/v1/runs/" + id;
  // Used once already (by the task): refused; and it is no channel token.
  EXPECT_EQ(Http(server_->address(), "POST", base + "/bootstrap", "",
                 {{"Authorization", "Bearer " + bootstrap}})
                .status,
            401);
  EXPECT_EQ(Http(server_->address(), "GET", base + "/control", "",
                 {{"Authorization", "Bearer " + bootstrap}})
                .status,
            401);
  // Nothing of the run is on this machine but the runner's bookkeeping.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id + "/stdout.log"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id + "/workspace"));
  // Let it finish: only through the container itself (an exec), there is no shared file.
  const std::string sock = DockerHost().substr(7);
  const std::string exec = Sh("curl -s --unix-socket " + sock +
                              " -H 'Content-Type: application/json' -d "
                              "'{\"Cmd\":[\"touch\",\"/workspace/go\"],\"User\":\"0\"}' "
                              "'http://docker/v1.41/containers/" +
                              name + "/exec'");
  const std::string exec_id = std::string(json::parse(exec).at("Id").as_string());
  Sh("curl -s --unix-socket " + sock +
     " -H 'Content-Type: application/json' -d '{\"Detach\":true}' "
     "'http://docker/v1.41/exec/" +
     exec_id + "/start'");
  json::object run = server_->WaitTerminal(id, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(id), "hello-remote\nboot=none\ndone\n");
  EXPECT_FALSE(ContainerExists(id));
  // The artifacts: what the channel stored, recorded by the upload.
  json::object arts;
  ASSERT_TRUE(WaitFor(
      [&] {
        arts = server_->Get("/runs/" + id + "/artifacts").Json().at("data").as_object();
        return arts.at("artifactsStatus") == "stored";
      },
      seconds(60)))
      << json::serialize(arts);
  std::map<std::string, std::int64_t> sizes;
  for (const auto& a : arts.at("artifacts").as_array()) {
    sizes[std::string(a.at("name").as_string())] = a.at("sizeBytes").as_int64();
  }
  EXPECT_EQ(sizes["output.log"], 28) << json::serialize(arts);  // hello-remote, boot=none, done
  EXPECT_EQ(sizes["stderr.log"], 5) << json::serialize(arts);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id + "/stdout.log"));

  // A cancel reaches the remote task through the channel.
  const std::string cancelled =
      server_->Dispatch(ShellBody("echo up; sleep 120", 180, json::object{{"network", "host"}}));
  ASSERT_TRUE(WaitFor([&] { return Stdout(cancelled) == "up\n"; }, seconds(90)));
  EXPECT_EQ(server_->Post("/runs/" + cancelled + "/cancel", R"({"reason":"enough"})").status, 202);
  run = server_->WaitTerminal(cancelled, seconds(90));
  EXPECT_EQ(Str(run, "status"), "CANCELLED") << json::serialize(run);
  EXPECT_EQ(Str(run, "cancelReason"), "enough");
  EXPECT_FALSE(ContainerExists(cancelled));
}

// Remote mode refuses what a container that must reach the control plane cannot keep.
TEST_F(DockerTest, ARemoteRunWithNetworkNoneFailsInfraErrorSayingWhy) {
  WriteConfig("remote = true\n");
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo never"));
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id, seconds(60));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "infra_error");
  EXPECT_NE(Str(run, "errorMessage").find("remote"), std::string::npos) << json::serialize(run);
  EXPECT_FALSE(ContainerExists(id));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id));
}

TEST_F(DockerTest, KilledControlPlaneAdoptsItsRunningContainerAfterARestart) {
  StartServer();
  const std::string id = server_->Dispatch(
      ShellBody("echo before; while [ ! -e /workspace/go ]; do sleep 0.2; done; echo after", 120));
  ASSERT_TRUE(WaitFor([&] { return Stdout(id) == "before\n"; }, seconds(60)));
  ASSERT_TRUE(ContainerExists(id));
  server_->Signal(SIGKILL);
  server_->Wait();
  ASSERT_TRUE(ContainerExists(id));  // the run goes on without its control plane
  StartServer();
  std::ofstream(dir_ + "/containers/" + id + "/workspace/go") << "";
  json::object run = server_->WaitTerminal(id, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(id), "before\nafter\n");
  EXPECT_FALSE(ContainerExists(id));
}

TEST_F(DockerTest, CancelOfATermIgnoringForkingAgentLeavesNoContainer) {
  StartServer();
  const std::string id = server_->Dispatch(ShellBody(
      "trap '' TERM; (setsid sh -c 'trap \"\" TERM; sleep 300' &); echo started; sleep 300", 300));
  ASSERT_TRUE(
      WaitFor([&] { return Stdout(id).find("started") != std::string::npos; }, seconds(60)));
  EXPECT_EQ(server_->Post("/runs/" + id + "/cancel", R"({"reason":"stubborn"})").status, 202);
  json::object run = server_->WaitTerminal(id, seconds(90));
  EXPECT_EQ(Str(run, "status"), "CANCELLED") << json::serialize(run);
  EXPECT_FALSE(ContainerExists(id));
}

// A cancel at once, before the container's task is ready for it: cancel.json waits for the shim
// (no signal until shim.json), the run ends CANCELLED, never infra_error.
TEST_F(DockerTest, ACancelBeforeTheAgentStartsIsCancelled) {
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo should-not-run; sleep 60"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(server_->Post("/runs/" + id + "/cancel", R"({"reason":"at once"})").status / 100, 2);
  json::object run = server_->WaitTerminal(id, seconds(90));
  EXPECT_EQ(Str(run, "status"), "CANCELLED") << json::serialize(run);
  EXPECT_FALSE(ContainerExists(id));
}

TEST_F(DockerTest, ARunWhoseControlPlaneIsDownForTenSecondsLosesNothing) {
  StartServer();
  const std::string id =
      server_->Dispatch(ShellBody("for i in $(seq 1 30); do echo line-$i; sleep 0.5; done", 120));
  ASSERT_TRUE(WaitFor([&] { return Stdout(id).find("line-2") != std::string::npos; }, seconds(60)));
  server_->Signal(SIGKILL);
  server_->Wait();
  // Down 10 s while the run prints; the task's journal buffers, then it reports again.
  const auto back = std::chrono::steady_clock::now() + seconds(10);
  WaitFor([&] { return std::chrono::steady_clock::now() >= back; }, seconds(11));
  StartServer();
  json::object run = server_->WaitTerminal(id, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  std::string expected;
  for (int i = 1; i <= 30; ++i) expected += "line-" + std::to_string(i) + "\n";
  EXPECT_EQ(Stdout(id), expected);
}

// The sandbox escape checks, adapted: from inside a run's container, other runs' files, the host's
// loopback (the control plane's own port), the Docker socket, the metadata address and the
// run channel's token are all out of reach.
TEST_F(DockerTest, EscapesFromAContainerAreBlocked) {
  StartServer();
  const std::string other =
      server_->Dispatch(ShellBody("echo secret-of-other > mine.txt; sleep 120", 180));
  ASSERT_TRUE(
      WaitFor([&] { return Str(server_->Run(other), "status") == "RUNNING"; }, seconds(60)));
  const std::string port = server_->address().substr(server_->address().rfind(':') + 1);
  const std::string probe =
      "r=''; "
      "cat /run/outpost/run/channel-token >/dev/null 2>&1 && r=\"$r token\"; "
      "ls /run/outpost/channel/ >/dev/null 2>&1 && r=\"$r channel-dir\"; "
      "ls " +
      dir_ + "/containers/" + other +
      " >/dev/null 2>&1 && r=\"$r other-run\"; "
      "grep -rq secret-of-other / --exclude-dir=proc --exclude-dir=sys 2>/dev/null && r=\"$r "
      "other-files\"; "
      "test -S /var/run/docker.sock && r=\"$r docker-sock\"; "
      "(exec 3<>/dev/tcp/127.0.0.1/" +
      port +
      ") 2>/dev/null && r=\"$r loopback\"; "
      "(exec 3<>/dev/tcp/169.254.169.254/80) 2>/dev/null && r=\"$r metadata\"; "
      "echo \"reached:$r\"";
  const std::string id = server_->Dispatch(ShellBody("bash -c '" + probe + "'", 120));
  json::object run = server_->WaitTerminal(id, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(id), "reached:\n");
  server_->Post("/runs/" + other + "/cancel", "{}");
  server_->WaitTerminal(other, seconds(90));
}

// Network allowlist: the container has no network of its own; the agent reaches the egress proxy
// (run by the control plane on the run's bind-mounted socket) as 127.0.0.1:3128, which refuses a
// host off the list and reports it in network.blocked[].
TEST_F(DockerTest, AnAllowlistRunsRefusedHostIsReportedAndItsProxyGoesWithIt) {
  WriteConfig("[agents.shell]\nnetwork_allow = [\"allowed.example.com:443\"]\n");
  StartServer();
  const std::string id = server_->Dispatch(
      ShellBody("echo proxy=$HTTPS_PROXY; git ls-remote https://blocked.example.org/r.git; exit 0",
                60, json::object{{"network", "allowlist"}}));
  json::object run = server_->WaitTerminal(id, seconds(120));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Stdout(id), "proxy=http://127.0.0.1:3128\n");
  const json::array& blocked = run.at("network").at("blocked").as_array();
  ASSERT_FALSE(blocked.empty()) << json::serialize(run);
  EXPECT_EQ(blocked.at(0).at("host"), "blocked.example.org");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id + "/proxy/proxy.sock"));
  EXPECT_FALSE(ContainerExists(id));
}

// Bad input (issue 20): an image that does not exist, and one the Engine cannot run (no
// command: it exits before any outpost task reports) -> FAILED infra_error with the Engine's
// message, nothing left behind.
TEST_F(DockerTest, AnImageThatDoesNotExistFailsInfraErrorWithTheEnginesMessage) {
  WriteConfig("[agents.shell]\nimage = \"outpost-no-such-image:test\"\n");
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo never"));
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id, seconds(60));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "infra_error");
  EXPECT_NE(Str(run, "errorMessage").find("outpost-no-such-image"), std::string::npos)
      << json::serialize(run);
  EXPECT_FALSE(ContainerExists(id));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id));
}

TEST_F(DockerTest, AContainerThatExitsBeforeTheTaskReportsFailsInfraErrorAndLeavesNothing) {
  // The bare Debian rootfs image: no entrypoint, no command.
  WriteConfig("[agents.shell]\nimage = \"outpost-debian:bookworm\"\n");
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo never"));
  json::object run = server_->WaitTerminal(id, seconds(60));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "infra_error") << json::serialize(run);
  EXPECT_NE(Str(run, "errorMessage").find("before outpost task reported"), std::string::npos)
      << json::serialize(run);
  EXPECT_FALSE(ContainerExists(id));
  // Its run dir stays for retention, without the channel token.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers/" + id + "/channel-token"));
}

// A RunSpec the task cannot use (issue 20 "Bad input"): the agent's command is not in the
// image's PATH. The task gets the spec over the channel, its shim cannot start the agent: the run
// ends FAILED infra_error naming the command, and no container is left.
TEST_F(DockerTest, AnAgentCommandNotInTheImageFailsInfraErrorNamingItAndLeavesNoContainer) {
  WriteConfig("[agents.shell]\ncommand = [\"outpost-no-such-agent-binary\", \"{task}\"]\n");
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo never"));
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id, seconds(90));
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "infra_error") << json::serialize(run);
  EXPECT_NE(Str(run, "errorMessage").find("outpost-no-such-agent-binary"), std::string::npos)
      << json::serialize(run);
  EXPECT_EQ(Stdout(id), "");
  EXPECT_FALSE(ContainerExists(id));
}

// The real claude CLI in outpost-claude:test against the fake model server, which listens on
// the host's loopback (127.0.0.2). The container has no network: claude reaches it only through
// the run's egress proxy (HTTPS_PROXY=127.0.0.1:3128 in the container, the proxy in the control
// plane). Loopback is allowed for that one host because the allowlist names it as an IP literal:
// base_url derives the entry 127.0.0.2:PORT, and the proxy connects an IP literal the allowlist
// named as given (only names that resolve to loopback are refused), as in the sandbox's
// agent_cli_test. The scripted Write shows up in the run's diff.patch of a local repository.
TEST_F(DockerTest, ClaudeInItsImageWritesThroughTheEgressProxyIntoDiffPatch) {
  std::unique_ptr<FakeModelServer> fake;
  try {
    fake = FakeModelServer::Start(std::string(OUTPOST_SOURCE_DIR) +
                                  "/tests/fake_model_server/server.js");
  } catch (const std::exception& e) {
    FAIL() << "the fake model server does not start (node): " << e.what();
  }
  ASSERT_NE(Engine("/images/outpost-claude:test/json").find("\"Id\""), std::string::npos)
      << "image outpost-claude:test is missing (scripts/build-images.sh --test)";
  ASSERT_TRUE(fake->SetScript(
      json::array{json::object{{"type", "write_file"},
                               {"path", "hello.txt"},
                               {"content", "hello from the fake model\n"},
                               {"usage", {{"input_tokens", 111}, {"output_tokens", 22}}}},
                  json::object{{"type", "text"},
                               {"text", "Wrote hello.txt."},
                               {"usage", {{"input_tokens", 133}, {"output_tokens", 7}}}}}));
  // Beside the data dir, never in it (a local repository root excludes the data dir).
  TempDir repos("outpost-docker-repo", "/var/tmp");
  const std::string repo = repos.path() + "/repo";
  std::filesystem::create_directories(repo);
  std::ofstream(repo + "/README.md") << "seed\n";
  const std::string git = "git -C " + repo + " -c user.name=t -c user.email=t@example.com ";
  ASSERT_EQ(
      Sh(git + "init -q -b main && " + git + "add -A && " + git + "commit -q -m seed && echo ok"),
      "ok");
  WriteConfig("[agents.claude]\nbase_url = \"" + fake->url() +
              "\"\nenv = { CLAUDE_CODE_MAX_RETRIES = \"0\" }\n");
  StartServer({{"OUTPOST_SECRET_ANTHROPIC_API_KEY", "sk-fake-claude"},
               {"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
               {"OUTPOST_LOCAL_REPO_ROOTS", repos.path()},
               {"OUTPOST_WORKSPACE_IMAGES", "0"}});
  HttpResponse d =
      server_->Post("/dispatch", json::serialize(json::object{{"agent", "claude"},
                                                              {"task", "Create hello.txt."},
                                                              {"timeoutSeconds", 180},
                                                              {"repo", repo}}));
  ASSERT_EQ(d.status / 100, 2) << d.body;
  const std::string id(d.Json().at("data").at("runId").as_string());
  json::object run = server_->WaitTerminal(id, seconds(300));
  const std::string rundir = dir_ + "/containers/" + id;
  auto tail = [&](const std::string& f) {
    std::ifstream in(rundir + "/" + f);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return "\n--- " + f + " ---\n" + (s.size() > 3000 ? s.substr(s.size() - 3000) : s);
  };
  ASSERT_EQ(Str(run, "status"), "COMPLETED")
      << json::serialize(run) << tail("stdout.log") << tail("stderr.log");
  EXPECT_EQ(Str(run.at("network").as_object(), "policy"), "allowlist") << json::serialize(run);
  std::ifstream in(rundir + "/diff.patch");
  const std::string patch((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(patch.find("hello.txt"), std::string::npos) << patch;
  EXPECT_NE(patch.find("+hello from the fake model"), std::string::npos) << patch;
  // Every model turn reached the fake server (only through the proxy: the container has no
  // network), with the key.
  int model_calls = 0;
  for (const auto& r : fake->Requests()) {
    if (Str(r.as_object(), "path").find("/__") == std::string::npos &&
        Str(r.as_object(), "method") == "POST") {
      ++model_calls;
    }
  }
  EXPECT_GE(model_calls, 2) << json::serialize(fake->Requests());
  EXPECT_FALSE(ContainerExists(id));
}

// A dockerd that refuses: the agent is unavailable with the Engine's reason (/health/fleet,
// /health), and a dispatch to it is refused 400 with that reason. Nothing is created.
TEST_F(DockerTest, ADockerdThatRefusesMakesItsAgentsUnavailableWithTheReason) {
  std::ofstream(cfg_) << "[runner]\nkind = \"docker\"\n[runner.docker]\nhost = \"unix://" + dir_ +
                             "/no-dockerd.sock\"\n";
  StartServer();
  json::object fleet = server_->Get("/health/fleet").Json().as_object();
  bool seen = false;
  for (const auto& a : fleet.at("agents").as_array()) {
    if (a.at("agent") != "shell") continue;
    seen = true;
    EXPECT_EQ(a.at("runner"), "docker");
    EXPECT_EQ(a.at("available"), false);
    EXPECT_NE(std::string(a.at("reason").as_string()).find("unreachable"), std::string::npos)
        << json::serialize(a);
  }
  EXPECT_TRUE(seen) << json::serialize(fleet);
  const std::string health = json::serialize(server_->Get("/health").Json());
  EXPECT_NE(health.find("\"docker\""), std::string::npos) << health;
  EXPECT_NE(health.find("unreachable"), std::string::npos) << health;
  HttpResponse r = server_->Post("/dispatch", ShellBody("echo never"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("unreachable"), std::string::npos) << r.body;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/containers"));
}

// /health/fleet says which runner each agent uses: one agent in the sandbox, the rest docker.
TEST_F(DockerTest, FleetShowsEachAgentsRunner) {
  WriteConfig("[agents.codex]\nrunner = \"sandbox\"\n");
  StartServer();
  json::object fleet = server_->Get("/health/fleet").Json().as_object();
  std::map<std::string, std::string> runners;
  for (const auto& a : fleet.at("agents").as_array()) {
    runners[std::string(a.at("agent").as_string())] = std::string(a.at("runner").as_string());
  }
  EXPECT_EQ(runners["shell"], "docker");
  EXPECT_EQ(runners["codex"], "sandbox");
  EXPECT_EQ(runners["claude"], "docker");
}

}  // namespace
}  // namespace outpost::testing
