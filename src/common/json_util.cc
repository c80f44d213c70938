#include "common/json_util.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace outpost {

Result<boost::json::value> ParseJson(std::string_view text, int max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  return v;
}

std::string ToJson(const boost::json::value& v) { return boost::json::serialize(v); }

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
