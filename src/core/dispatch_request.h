// Validation of a dispatch body (ARCHITECTURE §3). Every field is checked for type, range, enum
// and length; unknown fields are rejected; all bad fields are reported together.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>

#include "agents/agent.h"
#include "common/status.h"
#include "config/options.h"
#include "store/run.h"

namespace outpost {

inline constexpr std::size_t kMaxTaskChars = 50'000;

// A Run carrying the request's fields (not yet id, times, status) and `request_hash`, the
// SHA-256 of the normalized request used for idempotency. kInvalidArgument with
// details.errors[] naming every bad field.
Result<Run> ParseDispatchRequest(const boost::json::value& body,
                                 const std::optional<std::string>& idempotency_header,
                                 const AgentRegistry& agents, const Options& opts);

// Validates list parameters as they come in a query string. Unknown parameters are rejected.
struct ListQuery;
Result<ListQuery> ParseListParams(const std::multimap<std::string, std::string>& params);

// Number of Unicode code points in valid UTF-8 text.
std::size_t Utf8Length(std::string_view s);

}  // namespace outpost
