#include "agents/outcome.h"

#include <gtest/gtest.h>

#include <fstream>

namespace outpost {
namespace {

TEST(AgentOutcome, UsageIsPricedWithTheAgentsRatesPerMillionTokens) {
  AgentOptions a;
  a.cost_input_per_mtok = 15;
  a.cost_output_per_mtok = 75;
  Usage u = PricedUsage(a, {.input = 2000, .output = 1000});
  EXPECT_EQ(u.input_tokens, 2000);
  EXPECT_EQ(u.output_tokens, 1000);
  EXPECT_DOUBLE_EQ(u.cost_usd, 0.105);  // 2000*15e-6 + 1000*75e-6
  EXPECT_EQ(u.cost_source, "rates");
}

TEST(AgentOutcome, TheAgentsOwnCostIsUsedWhenItReportsOne) {
  AgentOptions a;
  a.cost_input_per_mtok = 15;
  a.cost_output_per_mtok = 75;
  Usage u = PricedUsage(a, {.input = 2000, .output = 1000}, 0.0421);
  EXPECT_EQ(u.input_tokens, 2000);
  EXPECT_DOUBLE_EQ(u.cost_usd, 0.0421);
  EXPECT_EQ(u.cost_source, "agent");
}

TEST(AgentOutcome, ARefusedNetworkIsExplained) {
  AgentOptions a;
  a.name = "claude";
  a.network_allow = {"api.anthropic.com:443"};
  const WallTime t{};
  auto blocked = NetworkRefusalNote(
      a, NetworkPolicy::kAllowlist,
      {{"evil.example", 443, t}, {"evil.example", 443, t}, {"x.org", 80, t}}, true);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(*blocked,
            "the sandbox refused network to evil.example:443, x.org:80 (not in the run's "
            "allowlist: api.anthropic.com:443 + [sandbox] network_allow)");
  auto none = NetworkRefusalNote(a, NetworkPolicy::kNone, {}, true);
  ASSERT_TRUE(none);
  EXPECT_NE(none->find("no network (network 'none')"), std::string::npos) << *none;
  EXPECT_NE(none->find("api.anthropic.com:443"), std::string::npos) << *none;
  EXPECT_NE(none->find("[agents.claude] network"), std::string::npos) << *none;
  // Nothing to say: an allowlist run nothing was refused to, the unisolated runner, an agent
  // with nowhere to go.
  EXPECT_FALSE(NetworkRefusalNote(a, NetworkPolicy::kAllowlist, {}, true));
  EXPECT_FALSE(NetworkRefusalNote(a, NetworkPolicy::kNone, {}, false));
  a.network_allow.clear();
  EXPECT_FALSE(NetworkRefusalNote(a, NetworkPolicy::kNone, {}, true));
}

TEST(AgentOutcome, OnlyTheTailOfAHugeOutputIsParsedAndItsCutLineDropped) {
  std::string path = "/tmp/outpost-outcome-" + std::to_string(::getpid()) + ".log";
  {
    std::ofstream out(path);
    out << R"({"type":"result","is_error":true,"result":"early failure"})"
        << "\n";
    out << std::string(1000, 'x') << "\n";
    out << R"({"type":"result","subtype":"success","is_error":false,"result":"done","usage":{"input_tokens":1,"output_tokens":2}})"
        << "\n";
  }
  AgentOptions a;
  a.parser = "claude-stream-json";
  AgentResult r = ReadAgentResult(a, path, 400);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.final_message, "done");
  EXPECT_EQ(r.usage.output, 2);
  AgentResult all = ReadAgentResult(a, path);
  EXPECT_EQ(all.final_message, "done");
  EXPECT_FALSE(ReadAgentResult(a, path + ".missing").has_usage);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outpost
