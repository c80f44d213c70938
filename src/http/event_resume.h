// Where a client's event stream resumes (GET /runs/{id}/events, ARCHITECTURE §3): after the
// sequence number in the Last-Event-ID header, which wins (a reconnecting EventSource sends it
// with the old URL), else after `?after=N`, else from the start (0).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "http/http_types.h"

namespace outpost::http {

// A non-negative decimal integer that fits in int64; nullopt for anything else (signs,
// spaces, other digits, overflow, empty).
std::optional<std::int64_t> ParseCount(std::string_view s);

// The sequence number to resume after. kInvalidArgument with details.errors[] naming "after"
// or "Last-Event-ID" when the one that decides is not a count. An empty Last-Event-ID is
// absent (EventSource sends it so when it has seen no id).
Result<std::int64_t> ResumeAfter(const Request& req);

}  // namespace outpost::http
