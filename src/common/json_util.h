// Helpers for reading Boost.JSON documents with precise, per-field errors.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "common/status.h"

namespace outpost {

// Parses `text` as JSON; kInvalidArgument naming the position when malformed. `max_depth`
// bounds nesting so hostile input cannot exhaust the stack.
Result<boost::json::value> ParseJson(std::string_view text, int max_depth = 32);

// Serializes compactly.
std::string ToJson(const boost::json::value& v);

// Field accessors: nullopt when absent; they never throw.
std::optional<std::string> GetString(const boost::json::object& o, std::string_view key);
std::optional<std::int64_t> GetInt(const boost::json::object& o, std::string_view key);
std::optional<bool> GetBool(const boost::json::object& o, std::string_view key);

}  // namespace outpost
