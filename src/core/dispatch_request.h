// Validation of a dispatch body (ARCHITECTURE §3). Every field is checked for type, range, enum
// and length; unknown fields are rejected; all bad fields are reported together.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "common/status.h"
#include "config/options.h"
#include "model/run.h"
#include "secrets/secret_store.h"

namespace outpost {

inline constexpr std::size_t kMaxTaskChars = 50'000;

// A Run carrying the request's fields (not yet id, times, status) and `request_hash`, the
// SHA-256 of the normalized request used for idempotency. kInvalidArgument with
// details.errors[] naming every bad field. `secrets` (null: none configured) decides whether
// the agent's required secrets and the additionalSecrets exist; values are never read into
// the Run.
Result<Run> ParseDispatchRequest(const boost::json::value& body,
                                 const std::optional<std::string>& idempotency_header,
                                 const AgentRegistry& agents, const Options& opts,
                                 const SecretStore* secrets = nullptr);

// A dispatch to one agent or fanned out: "agent" may be a name, a list of names, or "all" (every
// available coding agent). A fan-out gives one Run per agent, the request otherwise the same;
// `modelId` with several agents must be a model of each of them (else ambiguous: 400).
struct ParsedDispatch {
  std::vector<Run> runs;
  bool fan_out = false;
};
Result<ParsedDispatch> ParseDispatchRequests(const boost::json::value& body,
                                             const std::optional<std::string>& idempotency_header,
                                             const AgentRegistry& agents, const Options& opts,
                                             const SecretStore* secrets = nullptr);

// Validates list parameters as they come in a query string. Unknown parameters are rejected.
struct ListQuery;
Result<ListQuery> ParseListParams(const std::multimap<std::string, std::string>& params);

// Number of Unicode code points in valid UTF-8 text.
std::size_t Utf8Length(std::string_view s);

}  // namespace outpost
