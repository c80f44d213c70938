// Validation of a dispatch (ARCHITECTURE §3): the values of a decoded DispatchRequest
// (wire/dispatch_request_json.h judged the JSON) are checked for range, enum and length, the
// agent, model, repo policy and secrets; all bad fields are reported together.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "common/status.h"
#include "config/options.h"
#include "model/dispatch_request.h"
#include "model/run.h"
#include "secrets/secret_store.h"

namespace outpost {

inline constexpr std::size_t kMaxTaskChars = 50'000;
// The dispatch's `verify` command line, in characters.
inline constexpr std::size_t kMaxVerifyChars = 4096;

// A Run carrying the request's fields (not yet id, times, status) and `request_hash`, the
// SHA-256 of the normalized request used for idempotency. kInvalidArgument with
// details.errors[] naming every bad field, the decoder's (DispatchRequest::errors) with these,
// in field order. `secrets` (null: none configured) decides whether the agent's required secrets
// and the additionalSecrets exist; values are never read into the Run.
Result<Run> ValidateDispatchRequest(const DispatchRequest& request, const AgentRegistry& agents,
                                    const Options& opts, const SecretStore* secrets = nullptr);

// A dispatch to one agent or fanned out: "agent" may be a name, a list of names, or "all" (every
// available coding agent). A fan-out gives one Run per agent, the request otherwise the same;
// `modelId` with several agents must be a model of each of them (else ambiguous: 400).
struct ParsedDispatch {
  std::vector<Run> runs;
  bool fan_out = false;
};
Result<ParsedDispatch> ValidateDispatchRequests(const DispatchRequest& request,
                                                const AgentRegistry& agents, const Options& opts,
                                                const SecretStore* secrets = nullptr);

// Number of Unicode code points in valid UTF-8 text.
std::size_t Utf8Length(std::string_view s);

}  // namespace outpost
