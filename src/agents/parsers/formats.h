// The parser of each output format; each .cc documents its format. Use MakeParser (parser.h).
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <set>
#include <string>

#include "agents/parsers/parser.h"

namespace outpost::parsers {

class ClaudeParser : public OutputParser {  // claude-stream-json
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;
  // Before its result line: the per-message usage so far.
  AgentResult Live() const override;

 private:
  void Message(const boost::json::object& o, bool assistant);
  void Result(const boost::json::object& o);

  std::string last_text_;
  std::string last_message_id_;
  TokenUsage message_usage_;
  bool saw_result_ = false;
};

class CodexParser : public OutputParser {  // codex-json
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;

 private:
  void Item(const boost::json::object& item, bool completed);

  std::string last_message_;
  std::optional<std::string> pending_error_;  // an `error` event not (yet) followed by success
  bool started_ = false;                      // a thread.started line was seen
  std::set<std::string> open_calls_;          // item ids whose tool_call was emitted
};

class GeminiParser : public OutputParser {  // gemini-stream-json
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;

 private:
  void Result(const boost::json::object& o);
  void EndMessage();

  std::map<std::string, std::string> calls_;  // tool id -> name, until its result
  std::string current_;                       // assistant deltas since the last non-assistant event
  std::string last_message_;                  // the last complete assistant message
};

class AiderParser : public OutputParser {  // aider-text
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;

 private:
  std::string text_;  // everything but the token lines, for the final message
};

class GrokParser : public OutputParser {  // grok (agents/grok_events.h)
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;

 private:
  std::string last_message_;
};

class PlainParser : public OutputParser {  // plain: the output's tail is the final message
 public:
  void Line(std::string_view line) override;
  AgentResult Finish() override;

 private:
  std::string tail_;
};

}  // namespace outpost::parsers
