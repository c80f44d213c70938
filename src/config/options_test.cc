#include "config/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace outpost {
namespace {

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/outpost-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

TEST(Options, DefaultsListenOnLoopbackWithTheShellAgent) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.listen, "127.0.0.1:8080");
  EXPECT_EQ(o.data_dir, "./.outpost");
  EXPECT_EQ(o.StoreUrl(), "sqlite://./.outpost/outpost.db");
  ASSERT_TRUE(o.agents.count("shell"));
  EXPECT_EQ(o.agents["shell"].command.front(), "/bin/sh");
}

TEST(Options, ConfigFileOverlaysDefaults) {
  Options o = DefaultOptions();
  std::string path = WriteTemp(R"(
[server]
listen = "127.0.0.1:0"
max_concurrent_runs = 3
[agents.shell]
max_concurrent = 2
)");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.listen, "127.0.0.1:0");
  EXPECT_EQ(o.max_concurrent_runs, 3);
  EXPECT_EQ(o.agents["shell"].max_concurrent, 2);
  std::remove(path.c_str());
}

TEST(Options, UnknownKeysAreRejectedByName) {
  Options o = DefaultOptions();
  std::string path = WriteTemp("[server]\nlisten_port = 3\n");
  Status st = ApplyConfigFile(path, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("server.listen_port"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

TEST(Options, WrongTypesAndRangesNameTheKey) {
  Options o = DefaultOptions();
  std::string path = WriteTemp("[server]\nmax_concurrent_runs = \"many\"\n");
  Status st = ApplyConfigFile(path, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("server.max_concurrent_runs"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Options, MalformedTomlReportsTheLine) {
  Options o = DefaultOptions();
  std::string path = WriteTemp("[server\n");
  Status st = ApplyConfigFile(path, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find(":1:"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

TEST(Options, EnvironmentOverridesAndIsValidated) {
  Options o = DefaultOptions();
  ASSERT_TRUE(
      ApplyEnvironment({{"OUTPOST_LISTEN", "0.0.0.0:9"}, {"OUTPOST_DATA_DIR", "/x"}}, o).ok());
  EXPECT_EQ(o.listen, "0.0.0.0:9");
  EXPECT_EQ(o.data_dir, "/x");
  Status st = ApplyEnvironment({{"OUTPOST_MAX_CONCURRENT_RUNS", "0"}}, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_MAX_CONCURRENT_RUNS"), std::string::npos);
}

TEST(Options, UnknownRunnerIsRejected) {
  Options o = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_RUNNER", "magic"}}, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("runner"), std::string::npos);
}

// Issue 20: [runner] kind, its aliases, [runner.docker], and per agent runner + image.
TEST(Options, RunnerKindDockerAndItsKeysAreRead) {
  Options o = DefaultOptions();
  std::string path = WriteTemp(R"(
[runner]
kind = "docker"
[runner.docker]
host = "unix:///var/tmp/d.sock"
image_tag = "test"
unreachable_grace_seconds = 45
[agents.claude]
image = "registry.example.com/outpost-claude:1.2"
[agents.codex]
runner = "sandbox"
)");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.runner, RunnerKind::kDocker);
  EXPECT_EQ(o.docker.host, "unix:///var/tmp/d.sock");
  EXPECT_EQ(o.docker.unreachable_grace_seconds, 45);
  EXPECT_EQ(DefaultOptions().docker.unreachable_grace_seconds, 300);
  EXPECT_EQ(o.RunnerFor("shell"), RunnerKind::kDocker);
  EXPECT_EQ(o.RunnerFor("codex"), RunnerKind::kSandbox);
  EXPECT_EQ(o.ImageFor("shell"), "outpost-base:test");
  EXPECT_EQ(o.ImageFor("gemini"), "outpost-gemini:test");
  EXPECT_EQ(o.ImageFor("claude"), "registry.example.com/outpost-claude:1.2");
  EXPECT_TRUE(o.UsesRunner(RunnerKind::kSandbox));
  EXPECT_FALSE(o.UsesRunner(RunnerKind::kProcess));
  // The aliases.
  Options e = DefaultOptions();
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_RUNNER", "docker"}}, e).ok());
  EXPECT_EQ(e.runner, RunnerKind::kDocker);
  Options f = DefaultOptions();
  ASSERT_TRUE(ApplyConfigFile(WriteTemp("[server]\nrunner = \"docker\"\n"), f).ok());
  EXPECT_EQ(f.runner, RunnerKind::kDocker);
  EXPECT_EQ(DefaultOptions().ImageFor("shell"), "outpost-base");
}

// Issue 20, remote tasks: [runner.docker] remote and [runner] channel_url.
TEST(Options, RemoteDockerAndTheChannelUrlAreRead) {
  Options o = DefaultOptions();
  EXPECT_FALSE(o.docker.remote);
  EXPECT_EQ(o.channel_url, "");
  ASSERT_TRUE(ApplyConfigFile(WriteTemp("[runner]\nchannel_url = \"https://cp.example.com:8443\"\n"
                                        "[runner.docker]\nremote = true\n"),
                              o)
                  .ok());
  EXPECT_TRUE(o.docker.remote);
  EXPECT_EQ(o.channel_url, "https://cp.example.com:8443");
  for (const auto& [toml, key] : std::vector<std::pair<std::string, std::string>>{
           {"[runner.docker]\nremote = \"yes\"\n", "runner.docker.remote"},
           {"[runner]\nchannel_url = \"cp:8080\"\n", "runner.channel_url"},
           {"[runner]\nchannel_url = \"http://cp:8080/\"\n", "runner.channel_url"},
           {"[runner]\nchannel_url = 8080\n", "runner.channel_url"}}) {
    Options bad = DefaultOptions();
    Status st = ApplyConfigFile(WriteTemp(toml), bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << toml;
    EXPECT_NE(st.message().find(key), std::string::npos) << st.message();
    EXPECT_FALSE(bad.docker.remote);
    EXPECT_EQ(bad.channel_url, "");
  }
}

TEST(Options, BadRunnerValuesAreRefusedNamingTheKey) {
  struct Case {
    std::string toml, key, why;
  };
  const Case cases[] = {
      {"[runner]\nkind = \"ecs\"\n", "runner.ecs.subnets", "no subnets configured"},
      {"[runner]\nkind = \"kubernetes\"\n", "runner.kind", "unknown runner"},
      {"[runner]\nflavour = 1\n", "runner.flavour", "unknown key"},
      {"[runner.docker]\nhost = \"http://x\"\n", "runner.docker.host", "unix:///path"},
      {"[runner.docker]\nimage_tag = \"a b\"\n", "runner.docker.image_tag", "tag"},
      {"[runner.docker]\nsocket = \"x\"\n", "runner.docker.socket", "unknown key"},
      {"[runner.docker]\nunreachable_grace_seconds = 5\n",
       "runner.docker.unreachable_grace_seconds", "10 to 86400"},
      {"[runner.docker]\nunreachable_grace_seconds = \"300\"\n",
       "runner.docker.unreachable_grace_seconds", "integer"},
      {"[agents.shell]\nrunner = \"ecs\"\n", "runner.ecs.subnets", "no subnets configured"},
      {"[runner]\nkind = \"ecs\"\n[runner.ecs]\nsubnets = [\"subnet-0a1b2c3d\"]\n",
       "runner.ecs.cluster", "needs a cluster"},
      {"[runner.ecs]\nsubnets = [\"subnet-x\"]\n", "runner.ecs.subnets", "not a subnet id"},
      {"[runner.ecs]\nsubnets = \"subnet-0a1b2c3d\"\n", "runner.ecs.subnets", "list of strings"},
      {"[runner.ecs]\nsecurity_groups = [\"default\"]\n", "runner.ecs.security_groups",
       "security group id"},
      {"[runner.ecs]\nregion = \"mars\"\n", "runner.ecs.region", "AWS region"},
      {"[runner.ecs]\nassign_public_ip = \"yes\"\n", "runner.ecs.assign_public_ip",
       "true or false"},
      {"[runner.ecs]\nendpoint = \"ecs.local:4000\"\n", "runner.ecs.endpoint", "http(s)://"},
      {"[runner.ecs]\nenv = \"prod env\"\n", "runner.ecs.env", "letters, digits"},
      {"[runner.ecs]\ndescribe_interval_seconds = 0\n", "runner.ecs.describe_interval_seconds",
       "1 to 300"},
      {"[runner.ecs]\ntask_role = \"x\"\n", "runner.ecs.task_role", "unknown key"},
      {"[agents.shell]\nimage = \"Bad Image\"\n", "agents.shell.image", "image name"},
      {"[server]\nrunner = \"process\"\n[agents.shell]\nrunner = \"sandbox\"\n",
       "agents.shell.runner", "cannot both"},
  };
  for (const Case& c : cases) {
    Options o = DefaultOptions();
    Status st = ApplyConfigFile(WriteTemp(c.toml), o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.toml;
    EXPECT_NE(st.message().find(c.key), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.why), std::string::npos) << st.message();
  }
  Options o = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_RUNNER", "kubernetes"}}, o);
  EXPECT_NE(st.message().find("OUTPOST_RUNNER"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("ecs"), std::string::npos) << st.message();
}

// Issue 21: [runner.ecs] and the ecs runner's name everywhere a runner is named.
TEST(Options, EcsRunnerKeysAreRead) {
  Options o = DefaultOptions();
  Status st = ApplyConfigFile(WriteTemp(R"([runner]
kind = "ecs"
[runner.ecs]
region = "eu-west-1"
cluster = "outpost-prod"
subnets = ["subnet-0a1b2c3d", "subnet-4e5f6a7b8c9d0e1f2"]
security_groups = ["sg-0123456789abcdef0"]
assign_public_ip = true
env = "dev"
capacity_provider = "FARGATE_SPOT"
endpoint = "http://127.0.0.1:4100"
describe_interval_seconds = 10
start_timeout_seconds = 900
lost_grace_seconds = 120
)"),
                              o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(o.runner, RunnerKind::kEcs);
  EXPECT_EQ(o.ecs.region, "eu-west-1");
  EXPECT_EQ(o.ecs.cluster, "outpost-prod");
  EXPECT_EQ(o.ecs.subnets.size(), 2u);
  EXPECT_EQ(o.ecs.security_groups, std::vector<std::string>{"sg-0123456789abcdef0"});
  EXPECT_TRUE(o.ecs.assign_public_ip);
  EXPECT_EQ(o.ecs.TaskDefinitionFor("claude"), "outpost-dev-claude");
  EXPECT_EQ(o.ecs.capacity_provider, "FARGATE_SPOT");
  EXPECT_EQ(o.ecs.endpoint, "http://127.0.0.1:4100");
  EXPECT_EQ(o.ecs.describe_interval_seconds, 10);
  EXPECT_EQ(o.ecs.start_timeout_seconds, 900);
  EXPECT_EQ(o.ecs.lost_grace_seconds, 120);
  EXPECT_EQ(DefaultOptions().ecs.TaskDefinitionFor("claude"), "outpost-prod-claude");
  Options e = o;
  e.runner = RunnerKind::kSandbox;
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_RUNNER", "ecs"}}, e).ok());
  EXPECT_EQ(e.runner, RunnerKind::kEcs);
  Options bare = DefaultOptions();
  // What deploy/cdk's control-plane task sets.
  Options cdk = DefaultOptions();
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_RUNNER", "ecs"},
                                {"OUTPOST_ECS_CLUSTER",
                                 "arn:aws:ecs:eu-west-1:123456789012:cluster/outpost-prod"},
                                {"OUTPOST_ECS_SUBNETS", "subnet-0a1b2c3d,subnet-4e5f6a7b"},
                                {"OUTPOST_ECS_SECURITY_GROUPS", "sg-0123456789abcdef0"},
                                {"OUTPOST_ECS_ASSIGN_PUBLIC_IP", "DISABLED"},
                                {"OUTPOST_ECS_TASK_DEFINITION_PREFIX", "outpost-prod-"}},
                               cdk)
                  .ok());
  EXPECT_EQ(cdk.ecs.subnets, (std::vector<std::string>{"subnet-0a1b2c3d", "subnet-4e5f6a7b"}));
  EXPECT_FALSE(cdk.ecs.assign_public_ip);
  EXPECT_EQ(cdk.ecs.TaskDefinitionFor("claude"), "outpost-prod-claude");
  Options bad_env = o;
  Status bad_subnet = ApplyEnvironment({{"OUTPOST_ECS_SUBNETS", "subnet-0a1b2c3d,vpc-1"}}, bad_env);
  EXPECT_EQ(bad_subnet.code(), Code::kInvalidArgument);
  EXPECT_TRUE(bad_subnet.message().starts_with("OUTPOST_ECS_SUBNETS: \"vpc-1\" is not a subnet id"))
      << bad_subnet.message();
  EXPECT_EQ(ApplyEnvironment({{"OUTPOST_ECS_ASSIGN_PUBLIC_IP", "yes"}}, bad_env).code(),
            Code::kInvalidArgument);
  Status no_subnets = ApplyEnvironment({{"OUTPOST_RUNNER", "ecs"}}, bare);
  EXPECT_EQ(no_subnets.code(), Code::kInvalidArgument);
  EXPECT_NE(no_subnets.message().find("runner.ecs.subnets"), std::string::npos)
      << no_subnets.message();
}

TEST(Options, SandboxIsTheDefaultRunnerAndItsKeysAreRead) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.runner, RunnerKind::kSandbox);
  std::string path = WriteTemp(R"(
[sandbox]
uid_min = 300000
uid_max = 300010
pids_max = 128
ro_binds = ["/opt/agents"]
network_allow = ["api.example.com:443"]
allow_host_network = true
[agents.shell]
max_memory_mb = 256
network_allow = ["*.example.org:443"]
)");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.sandbox.uid_min, 300000);
  EXPECT_EQ(o.sandbox.uid_max, 300010);
  EXPECT_EQ(o.sandbox.pids_max, 128);
  EXPECT_EQ(o.sandbox.ro_binds, std::vector<std::string>{"/opt/agents"});
  EXPECT_TRUE(o.sandbox.allow_host_network);
  EXPECT_EQ(o.agents["shell"].max_memory_mb, 256);
  EXPECT_EQ(o.agents["shell"].network_allow, std::vector<std::string>{"*.example.org:443"});
  std::remove(path.c_str());
}

TEST(Options, PrivilegedOrInvertedUidRangesAreRefused) {
  Options o = DefaultOptions();
  std::string path = WriteTemp("[sandbox]\nuid_min = 0\n");
  Status st = ApplyConfigFile(path, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("sandbox.uid_min"), std::string::npos) << st.message();
  std::remove(path.c_str());
  o = DefaultOptions();
  path = WriteTemp("[sandbox]\nuid_min = 5000\nuid_max = 4000\n");
  EXPECT_EQ(ApplyConfigFile(path, o).code(), Code::kInvalidArgument);
  std::remove(path.c_str());
}

// Audit F12: the machine-wide uid lock directory; an absolute path, else refused by name.
TEST(Options, F12_UidLockDirIsReadAndMustBeAbsolute) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.sandbox.uid_lock_dir, "/run/outpost/uids");
  std::string path = WriteTemp("[sandbox]\nuid_lock_dir = \"/var/lib/outpost-uids\"\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.sandbox.uid_lock_dir, "/var/lib/outpost-uids");
  std::remove(path.c_str());
  for (const char* bad : {"\"uids\"", "\"\"", "3"}) {
    o = DefaultOptions();
    path = WriteTemp(std::string("[sandbox]\nuid_lock_dir = ") + bad + "\n");
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("sandbox.uid_lock_dir"), std::string::npos) << st.message();
    EXPECT_EQ(o.sandbox.uid_lock_dir, "/run/outpost/uids");
    std::remove(path.c_str());
  }
}

TEST(Options, AgentKeysForAdaptersAreParsed) {
  Options o = DefaultOptions();
  std::string path = WriteTemp(R"(
[agents.mycli]
command = ["/usr/bin/mycli", "--model", "{model}", "{task}"]
models = ["m-large", "m-small"]
parser = "codex-json"
required_secrets = ["MYCLI_KEY"]
cost_input_per_mtok = 2.5
cost_output_per_mtok = 10
env = { MYCLI_TELEMETRY = "0" }
network_allow = ["api.mycli.dev:443"]
install_dirs = ["/opt/mycli"]
max_concurrent = 2
[agents.claude]
models = ["claude-sonnet-4-5-20250929"]
)");
  Status st = ApplyConfigFile(path, o);
  ASSERT_TRUE(st.ok()) << st.message();
  const AgentOptions& a = o.agents["mycli"];
  EXPECT_EQ(a.parser, "codex-json");
  EXPECT_EQ(a.required_secrets, std::vector<std::string>{"MYCLI_KEY"});
  EXPECT_DOUBLE_EQ(a.cost_input_per_mtok, 2.5);
  EXPECT_DOUBLE_EQ(a.cost_output_per_mtok, 10);
  EXPECT_EQ(a.env.at("MYCLI_TELEMETRY"), "0");
  EXPECT_EQ(a.network_allow, std::vector<std::string>{"api.mycli.dev:443"});
  EXPECT_EQ(a.install_dirs, std::vector<std::string>{"/opt/mycli"});
  EXPECT_EQ(a.models.front(), "m-large");
  EXPECT_EQ(a.max_concurrent, 2);
  // Overriding one key of a default agent keeps the rest of it.
  EXPECT_EQ(o.agents["claude"].models, std::vector<std::string>{"claude-sonnet-4-5-20250929"});
  EXPECT_EQ(o.agents["claude"].parser, "claude-stream-json");
  EXPECT_EQ(o.agents["claude"].required_secrets, std::vector<std::string>{"ANTHROPIC_API_KEY"});
  std::remove(path.c_str());
}

TEST(Options, BadAdapterKeysAreRejectedByName) {
  struct Case {
    const char* toml;
    const char* key;
  } cases[] = {
      {"[agents.claude]\nparser = \"claude-json\"\n", "agents.claude.parser"},
      {"[agents.claude]\ncost_input_per_mtok = -1\n", "agents.claude.cost_input_per_mtok"},
      {"[agents.claude]\ncost_output_per_mtok = \"cheap\"\n", "agents.claude.cost_output_per_mtok"},
      {"[agents.claude]\nrequired_secrets = \"KEY\"\n", "agents.claude.required_secrets"},
      {"[agents.claude]\nsecrets = [\"KEY\"]\n", "agents.claude.secrets"},
      {"[agents.gemini]\nhome_files = { \"../escape\" = \"x\" }\n",
       "agents.gemini.home_files.../escape"},
      {"[agents.gemini]\nhome_files = { \"/etc/x\" = \"x\" }\n", "agents.gemini.home_files./etc/x"},
      {"[agents.gemini]\nhome_files = { \"a.json\" = 1 }\n", "agents.gemini.home_files.a.json"},
      {"[agents.gemini]\nhome_files = \"x\"\n", "agents.gemini.home_files"},
  };
  for (const auto& c : cases) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(c.toml);
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.toml;
    EXPECT_NE(st.message().find(c.key), std::string::npos) << st.message();
    std::remove(path.c_str());
  }
}

TEST(Options, GeminiWritesItsSettingsFileAndHomeFilesAreConfigurable) {
  Options o = DefaultOptions();
  ASSERT_TRUE(o.agents["gemini"].home_files.count(".gemini/settings.json"));
  EXPECT_NE(o.agents["gemini"].home_files[".gemini/settings.json"].find("gemini-api-key"),
            std::string::npos);
  std::string path =
      WriteTemp("[agents.gemini]\nhome_files = { \".gemini/settings.json\" = \"{}\" }\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.agents["gemini"].home_files,
            (std::map<std::string, std::string>{{".gemini/settings.json", "{}"}}));
  std::remove(path.c_str());
}

TEST(Options, PublicUrlMustBeAnHttpBaseWithoutQueryOrTrailingSlash) {
  for (const char* bad : {"ftp://x", "http://x/", "http://x?a=1", "outpost.example.com"}) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(std::string("[server]\npublic_url = \"") + bad + "\"\n");
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("public_url"), std::string::npos) << st.message();
    std::remove(path.c_str());
  }
  Options o = DefaultOptions();
  std::string path = WriteTemp("[server]\npublic_url = \"https://outpost.example.com/api\"\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.public_url, "https://outpost.example.com/api");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

TEST(Options, OutputLimitAndHeartbeatComeFromFileAndEnvironment) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.max_output_bytes, 100 << 20);
  EXPECT_EQ(o.events_heartbeat_ms, 15000);
  std::string path =
      WriteTemp("[server]\nevents_heartbeat_ms = 200\n[limits]\nmax_output_bytes = 5000000000\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.max_output_bytes, 5'000'000'000);
  EXPECT_EQ(o.events_heartbeat_ms, 200);
  std::remove(path.c_str());
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_MAX_OUTPUT_BYTES", "65536"}}, o).ok());
  EXPECT_EQ(o.max_output_bytes, 65536);
  Status st = ApplyEnvironment({{"OUTPOST_MAX_OUTPUT_BYTES", "100"}}, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_MAX_OUTPUT_BYTES"), std::string::npos);
  path = WriteTemp("[limits]\nmax_output = 1\n");
  st = ApplyConfigFile(path, o);
  EXPECT_NE(st.message().find("limits.max_output"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

TEST(Options, DrainSecondsComesFromFileAndEnvironmentAndIsValidated) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.drain_seconds, 25);
  std::string path = WriteTemp("[server]\ndrain_seconds = 90\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.drain_seconds, 90);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_DRAIN_SECONDS", "0"}}, o).ok());
  EXPECT_EQ(o.drain_seconds, 0);
  // Bad values are refused with the key named, and change nothing.
  path = WriteTemp("[server]\ndrain_seconds = 601\n");
  Status st = ApplyConfigFile(path, o);
  std::remove(path.c_str());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("server.drain_seconds: must be an integer from 0 to 600"),
            std::string::npos)
      << st.message();
  st = ApplyEnvironment({{"OUTPOST_DRAIN_SECONDS", "-1"}}, o);
  EXPECT_NE(st.message().find("OUTPOST_DRAIN_SECONDS"), std::string::npos) << st.message();
  path = WriteTemp("[server]\ndrain_seconds = \"25\"\n");
  EXPECT_FALSE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.drain_seconds, 0);
}

TEST(Options, F6_RunLimitDefaultsAndCeilingsComeFromFileAndEnvironment) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.run_limits.default_memory_mb, 4096);
  EXPECT_EQ(o.run_limits.default_cpu_units, 2048);
  EXPECT_EQ(o.run_limits.default_disk_gb, 10);
  EXPECT_EQ(o.sandbox.pids_max, 1024);
  std::string path = WriteTemp(
      "[limits]\ndefault_memory_mb = 2048\nceiling_memory_mb = 2048\nceiling_disk_gb = 20\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.run_limits.default_memory_mb, 2048);
  EXPECT_EQ(o.run_limits.ceiling_memory_mb, 2048);
  EXPECT_EQ(o.run_limits.ceiling_disk_gb, 20);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_DEFAULT_CPU_UNITS", "1024"}}, o).ok());
  EXPECT_EQ(o.run_limits.default_cpu_units, 1024);
  // A default above its ceiling, an agent's default above it, a bad value: each names its key.
  Status st = ApplyEnvironment({{"OUTPOST_DEFAULT_MEMORY_MB", "4096"}}, o);
  EXPECT_NE(st.message().find("limits.default_memory_mb"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("ceiling_memory_mb = 2048"), std::string::npos) << st.message();
  st = ApplyEnvironment({{"OUTPOST_CEILING_DISK_GB", "x"}}, o);
  EXPECT_NE(st.message().find("OUTPOST_CEILING_DISK_GB"), std::string::npos) << st.message();
  Options fresh = DefaultOptions();
  path = WriteTemp("[agents.shell]\nmax_disk_gb = 500\n");
  st = ApplyConfigFile(path, fresh);
  std::remove(path.c_str());
  EXPECT_NE(st.message().find("agents.shell.max_disk_gb"), std::string::npos) << st.message();
  path = WriteTemp("[limits]\nceiling_cpu_units = 10\n");
  st = ApplyConfigFile(path, fresh);
  std::remove(path.c_str());
  EXPECT_NE(st.message().find("limits.ceiling_cpu_units: must be an integer from 64"),
            std::string::npos)
      << st.message();
}

TEST(Options, F14_CollectBudgetAndF5_WorkspaceImagesComeFromFileAndEnvironment) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.collect_timeout_seconds, 300);
  EXPECT_EQ(o.collect_max_bytes, 256 << 20);
  EXPECT_TRUE(o.sandbox.workspace_images);
  std::string path = WriteTemp(
      "[limits]\ncollect_timeout_seconds = 60\ncollect_max_bytes = 1048576\n"
      "[sandbox]\nworkspace_images = false\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.collect_timeout_seconds, 60);
  EXPECT_EQ(o.collect_max_bytes, 1 << 20);
  EXPECT_FALSE(o.sandbox.workspace_images);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_COLLECT_TIMEOUT_SECONDS", "5"},
                                {"OUTPOST_COLLECT_MAX_BYTES", "2097152"},
                                {"OUTPOST_WORKSPACE_IMAGES", "1"}},
                               o)
                  .ok());
  EXPECT_EQ(o.collect_timeout_seconds, 5);
  EXPECT_EQ(o.collect_max_bytes, 2 << 20);
  EXPECT_TRUE(o.sandbox.workspace_images);
  Status st = ApplyEnvironment({{"OUTPOST_COLLECT_MAX_BYTES", "10"}}, o);
  EXPECT_NE(st.message().find("OUTPOST_COLLECT_MAX_BYTES"), std::string::npos) << st.message();
  st = ApplyEnvironment({{"OUTPOST_WORKSPACE_IMAGES", "maybe"}}, o);
  EXPECT_NE(st.message().find("OUTPOST_WORKSPACE_IMAGES"), std::string::npos) << st.message();
  path = WriteTemp("[limits]\ncollect_timeout_seconds = 0\n[sandbox]\nworkspace_images = 1\n");
  st = ApplyConfigFile(path, o);
  std::remove(path.c_str());
  EXPECT_NE(st.message().find("limits.collect_timeout_seconds"), std::string::npos) << st.message();
}

TEST(Options, AuthTableAndEnvironmentSetInsecureAndTheMetricsToken) {
  Options o = DefaultOptions();
  EXPECT_FALSE(o.insecure);
  EXPECT_EQ(o.metrics_token, "");
  std::string path = WriteTemp("[auth]\ninsecure = true\nmetrics_token = \"0123456789abcdef\"\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_TRUE(o.insecure);
  EXPECT_EQ(o.metrics_token, "0123456789abcdef");
  ASSERT_TRUE(
      ApplyEnvironment(
          {{"OUTPOST_INSECURE", "0"}, {"OUTPOST_METRICS_TOKEN", "prometheus-scrape-token"}}, o)
          .ok());
  EXPECT_FALSE(o.insecure);
  EXPECT_EQ(o.metrics_token, "prometheus-scrape-token");
}

TEST(Options, BadAuthSettingsNameTheKey) {
  auto file_error = [](const std::string& toml) {
    Options o = DefaultOptions();
    return ApplyConfigFile(WriteTemp(toml), o).message();
  };
  EXPECT_NE(file_error("[auth]\ninsecure = \"yes\"\n").find("auth.insecure"), std::string::npos);
  EXPECT_NE(file_error("[auth]\nmetrics_token = 5\n").find("auth.metrics_token"),
            std::string::npos);
  EXPECT_NE(file_error("[auth]\nmetrics_token = \"short\"\n").find("auth.metrics_token"),
            std::string::npos);
  EXPECT_NE(file_error("[auth]\ntoken = \"x\"\n").find("auth.token"), std::string::npos);
  Options o = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_INSECURE", "yes"}}, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_INSECURE"), std::string::npos);
  st = ApplyEnvironment({{"OUTPOST_METRICS_TOKEN", "has spaces in it, sixteen+"}}, o);
  EXPECT_NE(st.message().find("metrics_token"), std::string::npos);
  EXPECT_FALSE(o.insecure);
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

// Tests only: from the environment (or the hidden flag), never from the config file.
TEST(Options, FaultInjectionIsOffByDefaultAndOnlyFromTheEnvironment) {
  Options o = DefaultOptions();
  EXPECT_FALSE(o.enable_fault_injection);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_ENABLE_FAULT_INJECTION", "1"}}, o).ok());
  EXPECT_TRUE(o.enable_fault_injection);
  Options bad = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_ENABLE_FAULT_INJECTION", "yes"}}, bad);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "OUTPOST_ENABLE_FAULT_INJECTION: must be 1, 0, true or false");
  EXPECT_FALSE(bad.enable_fault_injection);
  std::string path = WriteTemp("[server]\nenable_fault_injection = true\n");
  Options file = DefaultOptions();
  EXPECT_EQ(ApplyConfigFile(path, file).code(), Code::kInvalidArgument);
  EXPECT_FALSE(file.enable_fault_injection);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

TEST(Options, HostileInputLimitsComeFromFileAndEnvironment) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.header_timeout_ms, 10'000);
  EXPECT_EQ(o.max_connections, 1024);
  std::string path = WriteTemp(
      "[server]\nheader_timeout_ms = 1500\nbody_timeout_ms = 2000\n"
      "body_min_bytes_per_second = 0\nidle_timeout_ms = 5000\nwrite_timeout_ms = 7000\n"
      "max_connections = 8\nmax_header_bytes = 4096\nmax_header_fields = 20\n"
      "max_header_line_bytes = 1024\nmax_target_bytes = 2048\nhandler_threads = 4\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.header_timeout_ms, 1500);
  EXPECT_EQ(o.body_timeout_ms, 2000);
  EXPECT_EQ(o.body_min_bytes_per_second, 0);
  EXPECT_EQ(o.idle_timeout_ms, 5000);
  EXPECT_EQ(o.write_timeout_ms, 7000);
  EXPECT_EQ(o.max_connections, 8);
  EXPECT_EQ(o.max_header_bytes, 4096);
  EXPECT_EQ(o.max_header_fields, 20);
  EXPECT_EQ(o.max_header_line_bytes, 1024);
  EXPECT_EQ(o.max_target_bytes, 2048);
  EXPECT_EQ(o.handler_threads, 4);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_MAX_CONNECTIONS", "16"}}, o).ok());
  EXPECT_EQ(o.max_connections, 16);
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_HANDLER_THREADS", "0"}}, o).ok());
  EXPECT_EQ(o.handler_threads, 0);
  EXPECT_EQ(DefaultOptions().handler_threads, 16);
}

TEST(Options, HostileInputLimitsAreValidatedByName) {
  struct Case {
    const char* toml;
    const char* names;
  };
  for (const Case& c : {
           Case{"header_timeout_ms = 0", "server.header_timeout_ms"},
           Case{"max_connections = 0", "server.max_connections"},
           Case{"max_connections = \"many\"", "server.max_connections"},
           Case{"body_min_bytes_per_second = -1", "server.body_min_bytes_per_second"},
           Case{"max_header_fields = 1", "server.max_header_fields"},
           Case{"max_target_bytes = 100", "server.max_target_bytes"},
           Case{"write_timeout_ms = 3600001", "server.write_timeout_ms"},
           Case{"handler_threads = -1", "server.handler_threads"},
           Case{"handler_threads = 1025", "server.handler_threads"},
       }) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(std::string("[server]\n") + c.toml + "\n");
    Status st = ApplyConfigFile(path, o);
    std::remove(path.c_str());
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.toml;
    EXPECT_NE(st.message().find(c.names), std::string::npos) << st.message();
  }
  Options o = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_HEADER_TIMEOUT_MS", "10s"}}, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_HEADER_TIMEOUT_MS"), std::string::npos) << st.message();
}

TEST(Options, F1_GitTokenHostsDefaultToGithubAndTakeMoreFromTheFile) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.git_hosts, (std::map<std::string, std::string>{{"github.com", "GITHUB_TOKEN"}}));
  std::string path = WriteTemp(R"(
[git.hosts."ghe.example.com"]
token_secret = "GHE_TOKEN"
)");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.git_hosts, (std::map<std::string, std::string>{{"github.com", "GITHUB_TOKEN"},
                                                             {"ghe.example.com", "GHE_TOKEN"}}));
  std::remove(path.c_str());
}

TEST(Options, F1_BadGitHostsNameTheKeyAndChangeNothing) {
  const std::pair<const char*, const char*> cases[] = {
      {"[git.hosts.\"https://ghe.example.com\"]\ntoken_secret = \"T\"\n",
       "git.hosts.\"https://ghe.example.com\""},
      {"[git.hosts.\"ghe.example.com:8443\"]\ntoken_secret = \"T\"\n", "host name"},
      {"[git.hosts.\"GHE.example.com\"]\ntoken_secret = \"T\"\n", "lower-case"},
      {"[git.hosts.\"ghe.example.com\"]\ntoken_secret = \"lower\"\n", "token_secret"},
      {"[git.hosts.\"ghe.example.com\"]\n", ".token_secret: is required"},
      {"[git.hosts.\"ghe.example.com\"]\ntoken = \"T\"\n", "\".token: unknown key"},
      {"[git]\nhost = 1\n", "git.host: unknown key"},
  };
  for (const auto& [text, want] : cases) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(text);
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(st.message().find(want), std::string::npos) << st.message();
    EXPECT_EQ(o.git_hosts.size(), 1u) << text;
    std::remove(path.c_str());
  }
}

// F9 item 2: a tenant's own git tokens and the operator's shared ones, from the file.
TEST(Options, F9_TenantGitTokensAndSharedHostsComeFromTheFile) {
  Options o = DefaultOptions();
  EXPECT_TRUE(o.git_shared_hosts.empty());  // the operator's token is not shared by default
  EXPECT_TRUE(o.git_tenant_hosts.empty());
  std::string path = WriteTemp(R"(
[git.hosts."github.com"]
token_secret = "GITHUB_TOKEN"
shared = true
[git.tenants."01JA0000000000000000000000".hosts."github.com"]
token_secret = "ACME_GITHUB_TOKEN"
[git.tenants.default.hosts."ghe.example.com"]
token_secret = "OPS_GHE"
)");
  Status st = ApplyConfigFile(path, o);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(o.git_shared_hosts, (std::set<std::string>{"github.com"}));
  EXPECT_EQ(o.git_tenant_hosts.at("01JA0000000000000000000000").at("github.com"),
            "ACME_GITHUB_TOKEN");
  EXPECT_EQ(o.git_tenant_hosts.at("default").at("ghe.example.com"), "OPS_GHE");
  std::remove(path.c_str());
}

TEST(Options, F9_BadTenantGitTokensNameTheKeyAndChangeNothing) {
  const std::pair<const char*, const char*> cases[] = {
      {"[git.tenants.acme.hosts.\"github.com\"]\ntoken_secret = \"T\"\n",
       "git.tenants.\"acme\": must be a tenant id"},
      {"[git.tenants.\"01JA0000000000000000000000\".hosts.\"github.com\"]\ntoken_secret = "
       "\"t\"\n",
       "git.tenants.\"01JA0000000000000000000000\".hosts.\"github.com\".token_secret"},
      {"[git.tenants.\"01JA0000000000000000000000\".hosts.\"github.com\"]\ntoken_secret = "
       "\"T\"\nshared = true\n",
       ".shared: unknown key"},
      {"[git.tenants.\"01JA0000000000000000000000\"]\nhost = 1\n", ".host: unknown key"},
      {"[git.hosts.\"github.com\"]\ntoken_secret = \"T\"\nshared = \"yes\"\n",
       "git.hosts.\"github.com\".shared: must be true or false"},
  };
  for (const auto& [text, want] : cases) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(text);
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(st.message().find(want), std::string::npos) << st.message();
    EXPECT_TRUE(o.git_tenant_hosts.empty()) << text;
    EXPECT_TRUE(o.git_shared_hosts.empty()) << text;
    EXPECT_EQ(o.git_hosts.at("github.com"), "GITHUB_TOKEN") << text;
    std::remove(path.c_str());
  }
}

TEST(Options, F9_LocalRepoRootsComeFromFileAndEnvironmentAndMustBeAbsolute) {
  Options o = DefaultOptions();
  EXPECT_TRUE(o.local_repo_roots.empty());
  std::string path = WriteTemp("[server]\nlocal_repo_roots = [\"/srv/git\", \"/home/ci/repos\"]\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.local_repo_roots, (std::vector<std::string>{"/srv/git", "/home/ci/repos"}));
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_LOCAL_REPO_ROOTS", "/a:/b c"}}, o).ok());
  EXPECT_EQ(o.local_repo_roots, (std::vector<std::string>{"/a", "/b c"}));
  Options b = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_LOCAL_REPO_ROOTS", "/a:relative"}}, b);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_LOCAL_REPO_ROOTS"), std::string::npos) << st.message();
  EXPECT_TRUE(b.local_repo_roots.empty());
  std::string bad = WriteTemp("[server]\nlocal_repo_roots = [\"repos\"]\n");
  Options c = DefaultOptions();
  st = ApplyConfigFile(bad, c);
  std::remove(bad.c_str());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("server.local_repo_roots"), std::string::npos) << st.message();
}

TEST(Options, F10_PrivateCloneHostsComeFromFileAndEnvironmentAndAreValidated) {
  Options o = DefaultOptions();
  EXPECT_TRUE(o.git_allow_private_hosts.empty());
  std::string path = WriteTemp(
      "[git]\nallow_private_hosts = [\"git.internal\", \"10.0.0.5:8443\", \"[fd00::1]:443\"]\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.git_allow_private_hosts,
            (std::vector<std::string>{"git.internal", "10.0.0.5:8443", "[fd00::1]:443"}));
  ASSERT_TRUE(
      ApplyEnvironment({{"OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", "127.0.0.1, localhost"}}, o).ok());
  EXPECT_EQ(o.git_allow_private_hosts, (std::vector<std::string>{"127.0.0.1", "localhost"}));
  for (const char* bad : {"http://git.internal", "Git.Internal", "git.internal:0",
                          "git.internal:", "[fd00::1", "a b", "host:99999"}) {
    Options b = DefaultOptions();
    Status st = ApplyEnvironment({{"OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", bad}}, b);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("OUTPOST_GIT_ALLOW_PRIVATE_HOSTS"), std::string::npos) << bad;
    EXPECT_TRUE(b.git_allow_private_hosts.empty()) << bad;
  }
  std::string bad_file = WriteTemp("[git]\nallow_private_hosts = \"localhost\"\n");
  Options c = DefaultOptions();
  Status st = ApplyConfigFile(bad_file, c);
  std::remove(bad_file.c_str());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("git.allow_private_hosts"), std::string::npos) << st.message();
}

// F9 item 3: the known_hosts file ssh clones check host keys against; none by default (ssh
// URLs are then refused).
TEST(Options, F9_SshKnownHostsComeFromFileAndEnvironmentAndMustBeAbsolute) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.git_ssh_known_hosts, "");
  std::string path = WriteTemp("[git]\nssh_known_hosts = \"/etc/outpost/known_hosts\"\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.git_ssh_known_hosts, "/etc/outpost/known_hosts");
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_GIT_SSH_KNOWN_HOSTS", "/srv/kh"}}, o).ok());
  EXPECT_EQ(o.git_ssh_known_hosts, "/srv/kh");
  Options b = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_GIT_SSH_KNOWN_HOSTS", "known_hosts"}}, b);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_GIT_SSH_KNOWN_HOSTS"), std::string::npos) << st.message();
  EXPECT_EQ(b.git_ssh_known_hosts, "");
  for (const char* text :
       {"[git]\nssh_known_hosts = \"rel/kh\"\n", "[git]\nssh_known_hosts = 1\n"}) {
    Options c = DefaultOptions();
    std::string bad = WriteTemp(text);
    st = ApplyConfigFile(bad, c);
    std::remove(bad.c_str());
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(st.message().find("git.ssh_known_hosts"), std::string::npos) << st.message();
    EXPECT_EQ(c.git_ssh_known_hosts, "") << text;
  }
}

// Promote: the GitHub API pull requests go through, and extra CAs for its git.
TEST(Options, PromoteKeysComeFromFileAndEnvironmentAndAreValidated) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.github_api_url, "https://api.github.com");
  EXPECT_EQ(o.git_push_ca_file, "");
  std::string path = WriteTemp(
      "[git]\ngithub_api_url = \"https://ghe.example.com/api/v3/\"\npush_ca_file = "
      "\"/etc/ca.pem\"\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  std::remove(path.c_str());
  EXPECT_EQ(o.github_api_url, "https://ghe.example.com/api/v3");
  EXPECT_EQ(o.git_push_ca_file, "/etc/ca.pem");
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_GITHUB_API_URL", "http://127.0.0.1:9000/api"},
                                {"OUTPOST_GIT_PUSH_CA_FILE", "/srv/ca.pem"}},
                               o)
                  .ok());
  EXPECT_EQ(o.github_api_url, "http://127.0.0.1:9000/api");
  EXPECT_EQ(o.git_push_ca_file, "/srv/ca.pem");
  for (const char* text : {"[git]\ngithub_api_url = \"http://api.example.com\"\n",
                           "[git]\ngithub_api_url = \"ftp://x\"\n", "[git]\ngithub_api_url = 3\n",
                           "[git]\npush_ca_file = \"ca.pem\"\n"}) {
    Options c = DefaultOptions();
    std::string bad = WriteTemp(text);
    Status st = ApplyConfigFile(bad, c);
    std::remove(bad.c_str());
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << text;
    const bool url = std::string_view(text).find("github_api_url") != std::string_view::npos;
    EXPECT_NE(st.message().find(url ? "git.github_api_url" : "git.push_ca_file"), std::string::npos)
        << st.message();
    EXPECT_EQ(c.github_api_url, "https://api.github.com") << text;
  }
  Options b = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_GITHUB_API_URL", "http://10.0.0.1/api"}}, b);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("OUTPOST_GITHUB_API_URL"), std::string::npos) << st.message();
}

TEST(Options, F4_AllowedHostsComeFromFileAndEnvironmentAndAreValidated) {
  Options o = DefaultOptions();
  EXPECT_TRUE(o.allowed_hosts.empty());
  std::string path =
      WriteTemp("[server]\nallowed_hosts = [\"outpost.internal\", \"10.0.0.5:8080\"]\n");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.allowed_hosts, (std::vector<std::string>{"outpost.internal", "10.0.0.5:8080"}));
  std::remove(path.c_str());
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_ALLOWED_HOSTS", "a.example, [fd00::1]:9000"}}, o).ok());
  EXPECT_EQ(o.allowed_hosts, (std::vector<std::string>{"a.example", "[fd00::1]:9000"}));
  for (const char* bad : {"http://a.example", "*.example.com", "a.example/x", "a b"}) {
    Options b = DefaultOptions();
    Status st = ApplyEnvironment({{"OUTPOST_ALLOWED_HOSTS", bad}}, b);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("allowed_hosts"), std::string::npos) << st.message();
  }
  path = WriteTemp("[server]\nallowed_hosts = \"a.example\"\n");
  EXPECT_EQ(ApplyConfigFile(path, o).code(), Code::kInvalidArgument);
  std::remove(path.c_str());
}

TEST(Options, SecretsTableSelectsSecretsManager) {
  Options o = DefaultOptions();
  EXPECT_EQ(o.secrets.backend, "local");
  EXPECT_EQ(o.secrets.cache_ttl_seconds, 300);
  EXPECT_EQ(o.log_format, "text");
  std::string path = WriteTemp(R"(
[server]
log_format = "json"
[secrets]
backend = "aws-secretsmanager"
region = "eu-west-3"
endpoint = "https://vpce-1.secretsmanager.eu-west-3.vpce.amazonaws.com"
prefix = "outpost/prod/"
cache_ttl_seconds = 60
)");
  ASSERT_TRUE(ApplyConfigFile(path, o).ok());
  EXPECT_EQ(o.log_format, "json");
  EXPECT_EQ(o.secrets.backend, "aws-secretsmanager");
  EXPECT_EQ(o.secrets.region, "eu-west-3");
  EXPECT_EQ(o.secrets.endpoint, "https://vpce-1.secretsmanager.eu-west-3.vpce.amazonaws.com");
  EXPECT_EQ(o.secrets.prefix, "outpost/prod/");
  EXPECT_EQ(o.secrets.cache_ttl_seconds, 60);
  std::remove(path.c_str());
}

TEST(Options, BadSecretsAndLogFormatValuesNameTheKey) {
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"[secrets]\nbackend = \"vault\"\n", "secrets.backend"},
           {"[secrets]\nbackend = \"aws-secretsmanager\"\nregion = \"US East\"\n",
            "secrets.region"},
           {"[secrets]\nbackend = \"aws-secretsmanager\"\nendpoint = \"http://x/path\"\n",
            "secrets.endpoint"},
           {"[secrets]\nbackend = \"aws-secretsmanager\"\nprefix = \"a b\"\n", "secrets.prefix"},
           {"[secrets]\ncache_ttl_seconds = -1\n", "secrets.cache_ttl_seconds"},
           {"[secrets]\ncache_ttl_seconds = \"5m\"\n", "secrets.cache_ttl_seconds"},
           {"[secrets]\nprefix = \"outpost/\"\n", "secrets.backend"},  // prefix without AWS
           {"[secrets]\nkms_key = \"x\"\n", "secrets.kms_key"},
           {"[server]\nlog_format = \"xml\"\n", "log_format"},
       }) {
    Options o = DefaultOptions();
    std::string path = WriteTemp(text);
    Status st = ApplyConfigFile(path, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(st.message().find(key), std::string::npos) << st.message();
    std::remove(path.c_str());
  }
}

TEST(Options, SecretsAndLogFormatFromTheEnvironment) {
  Options o = DefaultOptions();
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_SECRETS_BACKEND", "aws-secretsmanager"},
                                {"OUTPOST_SECRETS_PREFIX", "outpost/dev/"},
                                {"OUTPOST_SECRETS_REGION", "us-east-1"},
                                {"OUTPOST_SECRETS_ENDPOINT", "http://127.0.0.1:4566"},
                                {"OUTPOST_SECRETS_CACHE_TTL_SECONDS", "0"},
                                {"OUTPOST_LOG_FORMAT", "json"}},
                               o)
                  .ok());
  EXPECT_EQ(o.secrets.backend, "aws-secretsmanager");
  EXPECT_EQ(o.secrets.prefix, "outpost/dev/");
  EXPECT_EQ(o.secrets.region, "us-east-1");
  EXPECT_EQ(o.secrets.endpoint, "http://127.0.0.1:4566");
  EXPECT_EQ(o.secrets.cache_ttl_seconds, 0);
  EXPECT_EQ(o.log_format, "json");
  Options bad = DefaultOptions();
  Status st = ApplyEnvironment({{"OUTPOST_SECRETS_CACHE_TTL_SECONDS", "forever"}}, bad);
  EXPECT_NE(st.message().find("OUTPOST_SECRETS_CACHE_TTL_SECONDS"), std::string::npos);
  st = ApplyEnvironment({{"OUTPOST_SECRETS_BACKEND", "vault"}}, bad);
  EXPECT_NE(st.message().find("secrets.backend"), std::string::npos) << st.message();
  const std::set<std::string> read = EnvironmentVariablesRead();
  for (const char* v :
       {"OUTPOST_SECRETS_BACKEND", "OUTPOST_SECRETS_REGION", "OUTPOST_SECRETS_ENDPOINT",
        "OUTPOST_SECRETS_PREFIX", "OUTPOST_SECRETS_CACHE_TTL_SECONDS", "OUTPOST_LOG_FORMAT"}) {
    EXPECT_TRUE(read.count(v)) << v;
  }
}

}  // namespace
}  // namespace outpost
