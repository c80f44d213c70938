// Helpers shared by the JSON-lines parsers (claude, codex, gemini, grok).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::parsers {

// The line as a JSON object; nullopt for anything else (text, a partial line, an array).
std::optional<boost::json::object> ParseObjectLine(std::string_view line);
// o[key] as a string ("" when absent or not a string).
std::string Str(const boost::json::object& o, std::string_view key);
// o[key] as a non-negative integer (0 when absent or not a number).
std::int64_t Int(const boost::json::object& o, std::string_view key);
bool Bool(const boost::json::object& o, std::string_view key);
const boost::json::object* Obj(const boost::json::object& o, std::string_view key);
// A short one-line rendering of a tool's input, for the event text.
std::string Summary(const boost::json::value& v, std::size_t max = 200);
// v as compact JSON text.
std::string JsonText(const boost::json::value& v);
// o[key] as compact JSON text ("" when absent).
std::string JsonField(const boost::json::object& o, std::string_view key);
// "N/M" at the start of `s` (after `prefix`): codex's "Reconnecting... 2/5 (…)"; false otherwise.
bool AttemptOf(std::string_view s, std::int64_t& attempt, std::int64_t& max);
// The tail of `s` that fits kMaxFinalMessageBytes, cut at a UTF-8 boundary, trimmed.
std::string FinalMessage(std::string_view s);

}  // namespace outpost::parsers
