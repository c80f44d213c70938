// What an agent's run produced: its AgentResult (the shim parses the output as it comes and
// puts the result in the exit record; ReadAgentResult reads it back from the captured stdout
// for records of an older shim) and its usage priced with the agent's configured rates.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/parsers/parser.h"
#include "config/options.h"
#include "model/run.h"

namespace outpost {

// Only the tail of a huge output is parsed (the result lines come last).
inline constexpr std::size_t kMaxParsedOutputBytes = 64u << 20;

// Parses the last `max_bytes` of `stdout_path` with `agent.parser` (a line cut by the limit is
// dropped). A missing or unreadable file parses as empty output.
AgentResult ReadAgentResult(const AgentOptions& agent, const std::string& stdout_path,
                            std::size_t max_bytes = kMaxParsedOutputBytes);

// The run's usage: its tokens, and its cost as the agent reported it (cost_source "agent")
// or else tokens x the agent's USD-per-million rates (cost_source "rates").
Usage PricedUsage(const AgentOptions& agent, const TokenUsage& tokens,
                  std::optional<double> agent_cost_usd = std::nullopt);

// "$0.25", "$12", "$0.000123": a USD amount for messages (at most 6 decimals, no trailing 0s).
std::string FormatUsd(double usd);

// Why a run that did not succeed may have had no way to its model API, for its errorMessage;
// nullopt when the network had no part in it. `blocked`: what the allowlist proxy refused.
// A sandboxed run with network "none" of an agent that has hosts to reach says so too (its
// CLI only sees "connection refused" or a failed lookup, and may retry until its timeout).
std::optional<std::string> NetworkRefusalNote(const AgentOptions& agent, NetworkPolicy network,
                                              const std::vector<BlockedConnection>& blocked,
                                              bool sandboxed);

}  // namespace outpost
