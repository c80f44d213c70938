#include <gtest/gtest.h>

#include "agents/parsers/parser.h"

namespace outpost {
namespace {

TEST(AiderParser, TokenLinesAreSummedAndTheTextIsTheFinalMessage) {
  AgentResult r = ParseAgentOutput("aider-text", R"(Aider v0.86.1
Model: deepseek/deepseek-coder with diff edit format
Git repo: .git with 3 files
hello.txt
<<<<<<< SEARCH
=======
hi
>>>>>>> REPLACE

Tokens: 4,532 sent, 1,234 received. Cost: $0.0012 message, $0.0012 session.
Applied edit to hello.txt
Tokens: 5.1k sent, 12 received. Cost: $0.0008 message, $0.0020 session.
)");
  EXPECT_FALSE(r.error);
  ASSERT_TRUE(r.has_usage);
  EXPECT_EQ(r.usage.input, 4532 + 5100);
  EXPECT_EQ(r.usage.output, 1234 + 12);
  EXPECT_NE(r.final_message.find("Applied edit to hello.txt"), std::string::npos);
  EXPECT_EQ(r.final_message.find("Tokens:"), std::string::npos);
}

TEST(AiderParser, CacheCountsAreNotOutputAndKSuffixesScale) {
  AgentResult r = ParseAgentOutput(
      "aider-text", "Tokens: 12k sent, 2.5k cache hit, 1.2k received. Cost: $0.01 message.\n");
  EXPECT_EQ(r.usage.input, 12000);
  EXPECT_EQ(r.usage.output, 1200);
}

TEST(AiderParser, LitellmErrorIsAnAgentError) {
  AgentResult r = ParseAgentOutput("aider-text", R"(Aider v0.86.1
litellm.AuthenticationError: AuthenticationError: DeepseekException - Authentication Fails (no such user)
The API provider is not able to authenticate you. Check your API key.
)");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("Authentication Fails"), std::string::npos);
  EXPECT_FALSE(r.has_usage);
}

TEST(AiderParser, AppliedEditsAreToolCallsWithResultsAndRetriesAreRetryEvents) {
  std::vector<AgentEvent> events;
  AgentResult r = ParseAgentOutput("aider-text",
                                   "litellm.InternalServerError: OpenAIException - boom\n"
                                   "Retrying in 0.2 seconds...\n"
                                   "Applied edit to hello.txt\n"
                                   "Tokens: 1.2k sent, 30 received.\n",
                                   &events);
  EXPECT_FALSE(r.error);  // retried, then it went on
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].kind, AgentEvent::Kind::kError);
  EXPECT_EQ(events[1].kind, AgentEvent::Kind::kRetry);
  EXPECT_EQ(events[1].delay_ms, 200);
  EXPECT_EQ(events[2].kind, AgentEvent::Kind::kToolCall);
  EXPECT_EQ(events[2].tool_name, "edit");
  EXPECT_EQ(events[2].tool_input, R"({"path":"hello.txt"})");
  EXPECT_EQ(events[3].kind, AgentEvent::Kind::kToolResult);
  EXPECT_EQ(events[3].tool_id, events[2].tool_id);
  EXPECT_EQ(events[3].text, "Applied edit to hello.txt");
}

TEST(PlainParser, FinalMessageIsTheTrimmedOutputWithoutUsageOrError) {
  AgentResult r = ParseAgentOutput("plain", "\nhello\nworld\n\n");
  EXPECT_EQ(r.final_message, "hello\nworld");
  EXPECT_FALSE(r.has_usage);
  EXPECT_FALSE(r.error);
}

TEST(PlainParser, LongOutputKeepsOnlyItsTail) {
  std::string big(3 * kMaxFinalMessageBytes, 'x');
  big += "\nthe end";
  AgentResult r = ParseAgentOutput("plain", big);
  EXPECT_LE(r.final_message.size(), kMaxFinalMessageBytes);
  EXPECT_TRUE(r.final_message.ends_with("the end"));
}

TEST(Parsers, UnknownNamesAreRejectedAndParseAsPlain) {
  EXPECT_FALSE(IsKnownParser("claude-json"));
  for (auto n :
       {"claude-stream-json", "codex-json", "gemini-stream-json", "aider-text", "grok", "plain"}) {
    EXPECT_TRUE(IsKnownParser(n)) << n;
  }
  EXPECT_EQ(ParseAgentOutput("nope", "x\n").final_message, "x");
}

}  // namespace
}  // namespace outpost
