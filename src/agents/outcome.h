// What an agent's run produced, read back from its captured stdout after it exited: the
// parsed AgentResult and its usage priced with the agent's configured rates.
#pragma once

#include <cstddef>
#include <string>

#include "agents/parsers/parser.h"
#include "config/options.h"
#include "store/run.h"

namespace outpost {

// Only the tail of a huge output is parsed (the result lines come last).
inline constexpr std::size_t kMaxParsedOutputBytes = 64u << 20;

// Parses the last `max_bytes` of `stdout_path` with `agent.parser` (a line cut by the limit is
// dropped). A missing or unreadable file parses as empty output.
AgentResult ReadAgentResult(const AgentOptions& agent, const std::string& stdout_path,
                            std::size_t max_bytes = kMaxParsedOutputBytes);

// Tokens x the agent's USD-per-million rates.
Usage PricedUsage(const AgentOptions& agent, const TokenUsage& tokens);

}  // namespace outpost
