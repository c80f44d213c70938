#include "agents/outcome.h"

#include <cmath>
#include <fstream>

namespace outpost {

AgentResult ReadAgentResult(const AgentOptions& agent, const std::string& stdout_path,
                            std::size_t max_bytes) {
  std::string text;
  std::ifstream in(stdout_path, std::ios::binary | std::ios::ate);
  if (in) {
    std::streamoff size = in.tellg();
    std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                               ? size - static_cast<std::streamoff>(max_bytes)
                               : 0;
    text.resize(static_cast<std::size_t>(size - start));
    in.seekg(start);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (start > 0) {  // the first line is cut: not a line of the format
      auto nl = text.find('\n');
      text.erase(0, nl == std::string::npos ? text.size() : nl + 1);
    }
  }
  return ParseAgentOutput(agent.parser, text);
}

Usage PricedUsage(const AgentOptions& agent, const TokenUsage& tokens) {
  Usage u;
  u.input_tokens = tokens.input;
  u.output_tokens = tokens.output;
  double cost = static_cast<double>(tokens.input) * agent.cost_input_per_mtok / 1e6 +
                static_cast<double>(tokens.output) * agent.cost_output_per_mtok / 1e6;
  u.cost_usd = std::round(cost * 1e6) / 1e6;  // micro-dollars, as the original
  return u;
}

}  // namespace outpost
