#include "common/json_util.h"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <vector>

namespace outpost {

Result<boost::json::value> ParseJson(std::string_view text, int max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec == boost::json::error::too_deep) {
    return InvalidArgument("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  }
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  return v;
}

std::size_t CountJsonValues(const boost::json::value& root, std::size_t stop_after) {
  // Iterative: a document is as deep as its parser allowed, but this must not rely on it.
  std::vector<const boost::json::value*> todo{&root};
  std::size_t n = 0;
  while (!todo.empty() && n <= stop_after) {
    const boost::json::value* v = todo.back();
    todo.pop_back();
    ++n;
    if (const auto* o = v->if_object()) {
      for (const auto& member : *o) todo.push_back(&member.value());
    } else if (const auto* a = v->if_array()) {
      for (const auto& element : *a) todo.push_back(&element);
    }
  }
  return n;
}

Result<boost::json::value> ParseJsonBounded(std::string_view text, int max_depth,
                                            std::size_t max_values) {
  Result<boost::json::value> v = ParseJson(text, max_depth);
  if (v.ok() && CountJsonValues(*v, max_values) > max_values) {
    return InvalidArgument("JSON document has more than " + std::to_string(max_values) + " values");
  }
  return v;
}

namespace {

bool HasDouble(const boost::json::value& v) {
  if (v.is_double()) return true;
  if (const auto* o = v.if_object()) {
    for (const auto& member : *o) {
      if (HasDouble(member.value())) return true;
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& element : *a) {
      if (HasDouble(element)) return true;
    }
  }
  return false;
}

void WritePlain(const boost::json::value& v, std::string& out) {
  if (v.is_double()) {
    AppendPlainDouble(v.get_double(), out);
  } else if (const auto* o = v.if_object()) {
    out += '{';
    bool first = true;
    for (const auto& member : *o) {
      if (!first) out += ',';
      first = false;
      out += boost::json::serialize(member.key());
      out += ':';
      WritePlain(member.value(), out);
    }
    out += '}';
  } else if (const auto* a = v.if_array()) {
    out += '[';
    bool first = true;
    for (const auto& element : *a) {
      if (!first) out += ',';
      first = false;
      WritePlain(element, out);
    }
    out += ']';
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

void AppendPlainDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  // Fixed notation, the shortest that reads back as the same double (1e308 has 309 digits,
  // the smallest subnormal about 330 characters).
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out += text;
  if (text.find('.') == std::string_view::npos) out += ".0";  // still reads back as a double
}

std::string ToJson(const boost::json::value& v) {
  if (!HasDouble(v)) return boost::json::serialize(v);
  std::string out;
  WritePlain(v, out);
  return out;
}

std::optional<std::string> GetString(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

std::optional<std::int64_t> GetInt(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64() && it->value().get_uint64() <= INT64_MAX) {
    return static_cast<std::int64_t>(it->value().get_uint64());
  }
  return std::nullopt;
}

std::optional<bool> GetBool(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().get_bool();
}

}  // namespace outpost
