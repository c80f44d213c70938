#include "agents/outcome.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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

Usage PricedUsage(const AgentOptions& agent, const TokenUsage& tokens,
                  std::optional<double> agent_cost_usd) {
  Usage u;
  u.input_tokens = tokens.input;
  u.output_tokens = tokens.output;
  if (agent_cost_usd && *agent_cost_usd >= 0) {
    u.cost_usd = std::round(*agent_cost_usd * 1e6) / 1e6;
    u.cost_source = "agent";
    return u;
  }
  u.cost_source = "rates";
  double cost = static_cast<double>(tokens.input) * agent.cost_input_per_mtok / 1e6 +
                static_cast<double>(tokens.output) * agent.cost_output_per_mtok / 1e6;
  u.cost_usd = std::round(cost * 1e6) / 1e6;  // micro-dollars, as the original
  return u;
}

std::string FormatUsd(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", usd);
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return "$" + s;
}

std::optional<std::string> NetworkRefusalNote(const AgentOptions& agent, NetworkPolicy network,
                                              const std::vector<BlockedConnection>& blocked,
                                              bool sandboxed) {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  if (!blocked.empty()) {
    std::vector<std::string> seen;
    for (const auto& b : blocked) {
      std::string hp = b.host + ":" + std::to_string(b.port);
      if (std::find(seen.begin(), seen.end(), hp) == seen.end()) seen.push_back(hp);
    }
    return "the sandbox refused network to " + join(seen) + " (not in the run's allowlist: " +
           (agent.network_allow.empty()
                ? std::string("[sandbox] network_allow only")
                : join(agent.network_allow) + " + [sandbox] network_allow") +
           ")";
  }
  if (sandboxed && network == NetworkPolicy::kNone && !agent.network_allow.empty()) {
    return "the run had no network (network 'none'), so the agent could not reach " +
           join(agent.network_allow) + "; dispatch with network 'allowlist' or set [agents." +
           agent.name + "] network";
  }
  return std::nullopt;
}

}  // namespace outpost
