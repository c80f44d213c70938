#include "agents/parsers/parser.h"

#include "agents/parsers/formats.h"

namespace outpost {

bool IsKnownParser(std::string_view name) { return MakeParser(name) != nullptr; }

std::unique_ptr<OutputParser> MakeParser(std::string_view name) {
  using namespace parsers;
  if (name == "claude-stream-json") return std::make_unique<ClaudeParser>();
  if (name == "codex-json") return std::make_unique<CodexParser>();
  if (name == "gemini-stream-json") return std::make_unique<GeminiParser>();
  if (name == "aider-text") return std::make_unique<AiderParser>();
  if (name == "grok") return std::make_unique<GrokParser>();
  if (name == "plain") return std::make_unique<PlainParser>();
  return nullptr;
}

AgentResult ParseAgentOutput(std::string_view parser, std::string_view output,
                             std::vector<AgentEvent>* events) {
  std::unique_ptr<OutputParser> p = MakeParser(parser);
  if (!p) p = std::make_unique<parsers::PlainParser>();
  while (!output.empty()) {
    std::size_t nl = output.find('\n');
    p->Line(output.substr(0, nl));
    output = nl == std::string_view::npos ? std::string_view{} : output.substr(nl + 1);
  }
  AgentResult r = p->Finish();
  if (events) *events = p->events();
  return r;
}

}  // namespace outpost
