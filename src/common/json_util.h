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

// ParseJson that also refuses a document of more than `max_values` values (each member, element
// and scalar counts one), so that a body within the size limit still cannot make a handler
// walk, validate or answer hundreds of thousands of entries. kInvalidArgument saying which
// limit it broke.
Result<boost::json::value> ParseJsonBounded(std::string_view text, int max_depth,
                                            std::size_t max_values);

// The number of values in `v` (itself included), counting stops past `stop_after`.
std::size_t CountJsonValues(const boost::json::value& v, std::size_t stop_after);

// Serializes compactly, every double in plain decimal notation ("1536.5", "0.0001", "3.0"),
// never in exponent form ("1.5365E3", which Boost.JSON writes and some clients misread);
// NaN and infinities become null. Every JSON document Outpost serves goes through this.
std::string ToJson(const boost::json::value& v);

// Appends `d` as ToJson writes it.
void AppendPlainDouble(double d, std::string& out);

// Field accessors: nullopt when absent; they never throw.
std::optional<std::string> GetString(const boost::json::object& o, std::string_view key);
std::optional<std::int64_t> GetInt(const boost::json::object& o, std::string_view key);
std::optional<bool> GetBool(const boost::json::object& o, std::string_view key);

}  // namespace outpost
