#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "agents/agent.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

AgentOptions Agent(std::string name, std::vector<std::string> command) {
  AgentOptions a;
  a.name = std::move(name);
  a.command = std::move(command);
  a.models = {"m1", "m2"};
  return a;
}

TEST(AgentRegistry, DefaultCodingAgentsAreConfiguredWithTheirHeadlessCommands) {
  Options o = DefaultOptions();
  for (auto name : {"shell", "claude", "codex", "gemini", "aider", "grok"}) {
    ASSERT_TRUE(o.agents.count(name)) << name;
  }
  const AgentOptions& claude = o.agents["claude"];
  EXPECT_EQ(claude.models.front(), "claude-opus-4-5-20251101");
  EXPECT_EQ(claude.parser, "claude-stream-json");
  EXPECT_EQ(claude.required_secrets, std::vector<std::string>{"ANTHROPIC_API_KEY"});
  EXPECT_EQ(claude.network_allow, std::vector<std::string>{"api.anthropic.com:443"});
  EXPECT_EQ(claude.env.at("IS_SANDBOX"), "1");
  // Where `make run` installs the pinned CLIs (deploy/agents), under /usr (bound in every
  // sandbox), comes first on each npm CLI's PATH.
  for (const char* cli : {"claude", "codex", "gemini"}) {
    EXPECT_TRUE(o.agents[cli].env.at("PATH").starts_with(
        "/usr/local/lib/outpost/agents/node_modules/.bin:"))
        << cli;
  }
  // Anthropic's list price for claude-opus-4-5: $5 / $25 per million input / output tokens.
  EXPECT_EQ(claude.cost_input_per_mtok, 5);
  EXPECT_EQ(claude.cost_output_per_mtok, 25);
  EXPECT_EQ(
      o.agents["codex"].command,
      (std::vector<std::string>{"codex", "exec", "--json", "--skip-git-repo-check", "-m", "{model}",
                                "--dangerously-bypass-approvals-and-sandbox", "{task}"}));
  EXPECT_EQ(o.agents["codex"].models.front(), "gpt-5.2-codex");
  EXPECT_EQ(o.agents["gemini"].models.front(), "gemini-3-pro-preview");
  EXPECT_EQ(o.agents["gemini"].env.at("GEMINI_CLI_TRUST_WORKSPACE"), "true");
  EXPECT_EQ(o.agents["aider"].models.front(), "deepseek/deepseek-coder");
  EXPECT_EQ(o.agents["aider"].parser, "aider-text");
  EXPECT_EQ(o.agents["grok"].models.front(), "grok-4.1");
  EXPECT_EQ(o.agents["grok"].required_secrets, std::vector<std::string>{"XAI_API_KEY"});
  EXPECT_EQ(o.agents["grok"].network_allow, std::vector<std::string>{"api.x.ai:443"});
}

TEST(AgentRegistry, AgentWhoseProgramIsMissingIsUnavailableWithAReason) {
  Options o;
  o.agents["shell"] = Agent("shell", {"/bin/sh", "-c", "{task}"});
  o.agents["ghost"] = Agent("ghost", {"outpost-no-such-cli-xyz", "{task}"});
  o.agents["gone"] = Agent("gone", {"/nonexistent/bin/cli", "{task}"});
  o.agents["dir"] = Agent("dir", {"/usr/bin", "{task}"});
  AgentRegistry reg(o);
  EXPECT_EQ(reg.Available(), std::vector<std::string>{"shell"});
  EXPECT_EQ(reg.Names().size(), 4u);
  AgentAvailability ghost = reg.Availability(*reg.Find("ghost"));
  EXPECT_FALSE(ghost.available);
  EXPECT_NE(ghost.reason.find("outpost-no-such-cli-xyz is not installed"), std::string::npos)
      << ghost.reason;
  EXPECT_FALSE(reg.Availability(*reg.Find("gone")).available);
  EXPECT_FALSE(reg.Availability(*reg.Find("dir")).available);
  EXPECT_TRUE(reg.AvailableCodingAgents().empty());
}

TEST(AgentRegistry, BareNamesAreLookedUpInTheAgentsOwnPath) {
  testing::TempDir tmp("outpost-agents");
  const std::string dir = tmp.path();
  std::string bin = dir + "/fakecli";
  std::ofstream(bin) << "#!/bin/sh\n";
  ::chmod(bin.c_str(), 0755);
  Options o;
  o.agents["fake"] = Agent("fake", {"fakecli", "{task}"});
  EXPECT_TRUE(AgentRegistry(o).Available().empty());  // not on the default PATH
  o.agents["fake"].env["PATH"] = dir + ":/usr/bin";
  EXPECT_EQ(AgentRegistry(o).Available(), std::vector<std::string>{"fake"});
  EXPECT_EQ(AgentRegistry(o).AvailableCodingAgents(), std::vector<std::string>{"fake"});
}

TEST(AgentRegistry, CommandSubstitutesWholeElementPlaceholdersAndThisBinary) {
  Options o = DefaultOptions();
  o.self_exe = "/usr/local/bin/outpost";
  AgentRegistry reg(o);
  EXPECT_TRUE(reg.Availability(*reg.Find("grok")).available);
  outpost::Run run;
  run.agent = "grok";
  run.model_id = "grok-4.1";
  run.task = "write {model} here; rm -rf /";
  AgentCommand cmd = reg.CommandFor(run);
  EXPECT_EQ(cmd.argv, (std::vector<std::string>{"/usr/local/bin/outpost", "grok-agent", "--model",
                                                "grok-4.1", "--", "write {model} here; rm -rf /"}));
  EXPECT_EQ(cmd.ro_binds, std::vector<std::string>{"/usr/local/bin/outpost"});
  run.agent = "claude";
  run.model_id = "claude-sonnet-4-5-20250929";
  cmd = reg.CommandFor(run);
  EXPECT_EQ(cmd.argv[2], run.task);
  EXPECT_EQ(cmd.argv[7], "claude-sonnet-4-5-20250929");
  EXPECT_EQ(cmd.env.at("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"), "1");
}

}  // namespace
}  // namespace outpost
