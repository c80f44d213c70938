#include "config/agent_network.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace outpost::config {
namespace {

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/outpost-agent-net-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

Result<Options> Load(const std::string& toml) {
  Options o = DefaultOptions();
  const std::string path = WriteTemp(toml);
  Status st = ApplyConfigFile(path, o);
  std::remove(path.c_str());
  if (!st.ok()) return st;
  return o;
}

TEST(BaseUrl, ParsesHostAndPortWithSchemeDefaults) {
  auto u = ParseBaseUrl("https://gateway.example.com/anthropic");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->HostPort(), "gateway.example.com:443");
  EXPECT_EQ(ParseBaseUrl("http://127.0.0.2:8080")->HostPort(), "127.0.0.2:8080");
  EXPECT_EQ(ParseBaseUrl("http://[::2]:81/v1")->HostPort(), "[::2]:81");
  EXPECT_EQ(ParseBaseUrl("http://models")->HostPort(), "models:80");
}

TEST(BaseUrl, RefusesWhatIsNotAPlainHttpUrl) {
  for (const char* bad : {"ftp://x", "x.example.com", "http://", "http://:80", "http://h:0",
                          "http://h:99999", "http://h:", "http://u@h", "http://h/?q", "http://h/#f",
                          "http://h/\"", "http://[::1", "http://h x"}) {
    auto u = ParseBaseUrl(bad);
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(AgentNetwork, CodingAgentsDefaultToTheirAllowlistAndShellToNone) {
  Options o = DefaultOptions();
  EXPECT_EQ(DefaultNetwork(o.agents["shell"]), "none");
  for (const char* name : {"claude", "codex", "gemini", "aider", "grok"}) {
    EXPECT_EQ(DefaultNetwork(o.agents[name]), "allowlist") << name;
  }
  EXPECT_EQ(o.agents["claude"].network_allow, std::vector<std::string>{"api.anthropic.com:443"});
}

TEST(AgentNetwork, NetworkKeyIsAPolicyAndHostNeedsTheOperatorsConsent) {
  auto o = Load("[agents.claude]\nnetwork = \"none\"\n");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(DefaultNetwork(o->agents["claude"]), "none");

  auto bad = Load("[agents.claude]\nnetwork = \"open\"\n");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("agents.claude.network: must be one of none | allowlist"),
            std::string::npos)
      << bad.status().message();

  auto host = Load("[agents.claude]\nnetwork = \"host\"\n");
  EXPECT_NE(host.status().message().find("allow_host_network"), std::string::npos)
      << host.status().message();
  auto allowed =
      Load("[sandbox]\nallow_host_network = true\n[agents.claude]\nnetwork = \"host\"\n");
  EXPECT_TRUE(allowed.ok()) << allowed.status().ToString();
}

TEST(AgentNetwork, BaseUrlSetsEachClisOwnSettingAndTheAllowlist) {
  auto o = Load(
      "[agents.claude]\nbase_url = \"http://127.0.0.2:9000\"\n"
      "[agents.gemini]\nbase_url = \"https://gw.example.com/gemini\"\n"
      "[agents.grok]\nbase_url = \"https://gw.example.com/v1\"\nnetwork_allow = [\"x.org:443\"]\n"
      "[agents.codex]\nbase_url = \"http://127.0.0.2:9000/v1\"\n");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const AgentOptions& claude = o->agents["claude"];
  EXPECT_EQ(claude.env.at("ANTHROPIC_BASE_URL"), "http://127.0.0.2:9000");
  EXPECT_EQ(claude.env.at("IS_SANDBOX"), "1");  // the adapter's own env stays
  EXPECT_EQ(claude.network_allow, std::vector<std::string>{"127.0.0.2:9000"});
  EXPECT_EQ(DefaultNetwork(claude), "allowlist");
  EXPECT_EQ(o->agents["gemini"].env.at("GOOGLE_GEMINI_BASE_URL"), "https://gw.example.com/gemini");
  EXPECT_EQ(o->agents["gemini"].network_allow, std::vector<std::string>{"gw.example.com:443"});
  // An explicit network_allow in the same table is kept beside the URL's host.
  EXPECT_EQ(o->agents["grok"].env.at("XAI_BASE_URL"), "https://gw.example.com/v1");
  EXPECT_EQ(o->agents["grok"].network_allow,
            (std::vector<std::string>{"x.org:443", "gw.example.com:443"}));

  const std::vector<std::string>& cmd = o->agents["codex"].command;
  auto exec = std::find(cmd.begin(), cmd.end(), "exec");
  ASSERT_NE(exec, cmd.end());
  ASSERT_GE(cmd.end() - exec, 5);
  EXPECT_EQ(exec[1], "-c");
  EXPECT_EQ(exec[2], "model_provider=outpost");
  EXPECT_EQ(exec[3], "-c");
  EXPECT_EQ(exec[4],
            "model_providers.outpost={name=\"outpost\",base_url=\"http://127.0.0.2:9000/v1\","
            "env_key=\"OPENAI_API_KEY\",wire_api=\"responses\",request_max_retries=2,"
            "stream_max_retries=2}");
  EXPECT_EQ(o->agents["codex"].network_allow, std::vector<std::string>{"127.0.0.2:9000"});
}

TEST(AgentNetwork, BadBaseUrlsAreConfigErrorsNamingTheKey) {
  struct Case {
    std::string toml, want;
  };
  for (const Case& c : std::vector<Case>{
           {"[agents.claude]\nbase_url = \"api.example.com\"\n", "agents.claude.base_url"},
           {"[agents.claude]\nbase_url = 5\n", "agents.claude.base_url: must be a string"},
           {"[agents.aider]\nbase_url = \"http://gw:80\"\n", "not 'aider-text'"},
       }) {
    auto o = Load(c.toml);
    EXPECT_EQ(o.status().code(), Code::kInvalidArgument) << c.toml;
    EXPECT_NE(o.status().message().find(c.want), std::string::npos) << o.status().message();
  }
}

TEST(AgentNetwork, TheSandboxsOwnLoopbackIsNoPlaceForAModelServer) {
  // Valid config (the process runner runs agents on the host, whose loopback it is), but
  // `outpost serve` with the sandbox runner refuses it with this reason.
  for (const char* url : {"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:80"}) {
    auto o = Load(std::string("[agents.claude]\nbase_url = \"") + url + "\"\n");
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_NE(SandboxBaseUrlProblem(o->agents["claude"]).find("the sandbox's own loopback"),
              std::string::npos)
        << url;
  }
  AgentOptions a;
  EXPECT_EQ(SandboxBaseUrlProblem(a), "");
  a.base_url = "http://127.0.0.2:8080";  // another loopback literal: through the proxy
  EXPECT_EQ(SandboxBaseUrlProblem(a), "");
}

}  // namespace
}  // namespace outpost::config
