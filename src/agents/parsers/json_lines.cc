#include "agents/parsers/json_lines.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "agents/parsers/parser.h"

namespace outpost::parsers {
namespace json = boost::json;

std::optional<json::object> ParseObjectLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty() || line.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

std::int64_t Int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  const json::value& v = it->value();
  if (v.is_int64()) return std::max<std::int64_t>(0, v.get_int64());
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double() && v.get_double() > 0) return static_cast<std::int64_t>(v.get_double());
  return 0;
}

bool Bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

const json::object* Obj(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

std::string Summary(const json::value& v, std::size_t max) {
  std::string s = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "…";
  }
  return s;
}

std::string JsonText(const json::value& v) { return json::serialize(v); }

std::string JsonField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? "" : json::serialize(it->value());
}

bool AttemptOf(std::string_view s, std::int64_t& attempt, std::int64_t& max) {
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::size_t start = slash;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(s[start - 1]))) --start;
  std::size_t end = slash + 1;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
  if (start == slash || end == slash + 1 || end - start > 12) return false;
  attempt = std::stoll(std::string(s.substr(start, slash - start)));
  max = std::stoll(std::string(s.substr(slash + 1, end - slash - 1)));
  return true;
}

std::string FinalMessage(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  if (s.size() > kMaxFinalMessageBytes) {
    std::size_t start = s.size() - kMaxFinalMessageBytes;
    while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
    s.remove_prefix(start);
  }
  return std::string(s);
}

}  // namespace outpost::parsers
