#include "cli/transcript.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace outpost::cli {
namespace {

namespace json = boost::json;

// Feeds events given as their JSON lines ({"type":…,…}).
std::string Render(std::initializer_list<std::string_view> events, TranscriptStyle style = {},
                   std::string_view final_status = "") {
  std::ostringstream out;
  Transcript t(out, style);
  for (std::string_view line : events) {
    json::object o = json::parse(line).as_object();
    t.Event(o.at("type").as_string(), o);
  }
  if (!final_status.empty()) t.Final(final_status);
  return out.str();
}

TEST(Transcript, ToolCallsAndResultsAreOneLineEachWithTheResultFolded) {
  std::string out = Render(
      {R"({"type":"status","status":"RUNNING","phase":"running"})",
       R"({"type":"output","stream":"stdout","data":"{\"type\":\"assistant\"}\n"})",
       R"({"type":"agent_message","text":"I'll write it.\nThen check.","turn":1})",
       R"({"type":"tool_call","id":"toolu_1","name":"Write","input":{"file_path":"hello.txt","content":"hi\n"},"text":"Write …"})",
       R"({"type":"tool_result","id":"toolu_1","output":"File created\nline 2\nline 3","isError":false})",
       R"({"type":"tool_call","id":"t2","name":"Bash","input":{"command":"false"}})",
       R"({"type":"tool_result","id":"t2","output":"","isError":true})",
       R"({"type":"usage","inputTokens":244,"outputTokens":29})",
       R"({"type":"status","status":"COMPLETED","phase":"done","reason":"succeeded","exitCode":0})"},
      {}, "COMPLETED");
  EXPECT_EQ(out,
            "· running\n"
            "● I'll write it. (+1 line)\n"
            "▸ Write hello.txt\n"
            "  ↳ File created (+2 lines)\n"
            "▸ Bash false\n"
            "  ✗ (failed)\n"
            "✓ COMPLETED (succeeded) · 244 in / 29 out tokens\n");
}

TEST(Transcript, RetriesRefusedConnectionsAndErrorsHaveTheirOwnLines) {
  std::string out = Render(
      {R"({"type":"error","message":"HTTP 500 server_error","source":"agent","retrying":true,"attempt":1,"maxAttempts":2,"delayMs":546})",
       R"j({"type":"error","message":"connection to github.com:443 refused by the network allowlist (not in allowlist)","source":"network","host":"github.com","port":443,"reason":"not in allowlist"})j",
       R"({"type":"error","message":"Invalid API key","source":"agent"})",
       R"({"type":"status","status":"FAILED","reason":"agent_error","exitCode":1,"message":"Invalid API key"})"},
      {}, "FAILED");
  EXPECT_EQ(out,
            "↻ retry 1/2 in 0.5 s: HTTP 500 server_error\n"
            "⊘ network: connection to github.com:443 refused by the network allowlist (not in "
            "allowlist)\n"
            "✗ error: Invalid API key\n"
            "✗ FAILED (agent_error), exit code 1: Invalid API key\n");
}

TEST(Transcript, PlainOutputIsShownAndJsonEventLinesAreNot) {
  std::string out =
      Render({R"({"type":"output","stream":"stdout","data":"hel"})",
              R"({"type":"output","stream":"stdout","data":"lo\n{\"type\":\"x\"}\nbye"})",
              R"({"type":"output","stream":"stderr","data":"warn\n"})"},
             {}, "COMPLETED");
  EXPECT_EQ(out, "│ hello\n│ warn\n│ bye\n✓ COMPLETED\n");
}

TEST(Transcript, LongLinesAreCutToTheWidthAndEscapesOfTheAgentDropped) {
  std::string out =
      Render({R"({"type":"agent_message","text":"\u001b[31mred\u001b[0m and a long tail é é é"})"},
             {.color = false, .width = 12});
  EXPECT_EQ(out, "● red and a…\n");
  EXPECT_EQ(Transcript::Cut("ééééé", 5), "ééééé");
  EXPECT_EQ(Transcript::Cut("éééééé", 5), "éééé…");
  EXPECT_EQ(Transcript::Cut("abc", 0), "abc");
}

TEST(Transcript, ColoursOnlyWhenAskedFor) {
  std::string plain = Render({R"({"type":"error","message":"x"})"});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << plain;
  std::string coloured = Render({R"({"type":"error","message":"x"})"}, {.color = true});
  EXPECT_EQ(coloured, "\x1b[31m✗ error: x\x1b[0m\n");
}

TEST(Transcript, NoColorTurnsColoursOffAndAPipeGetsNeitherColourNorCut) {
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(TerminalStyleOf(true).color);
  EXPECT_GT(TerminalStyleOf(true).width, 0);
  ::unsetenv("NO_COLOR");
  EXPECT_TRUE(TerminalStyleOf(true).color);
  TranscriptStyle piped = TerminalStyleOf(false);
  EXPECT_FALSE(piped.color);
  EXPECT_EQ(piped.width, 0);
}

}  // namespace
}  // namespace outpost::cli
