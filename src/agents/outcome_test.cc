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
