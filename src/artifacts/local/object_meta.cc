#include "artifacts/local/object_meta.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace outpost::artifacts {
namespace json = boost::json;

std::string EncodeObjectMeta(const ObjectMeta& meta) {
  return json::serialize(json::object{{"v", 1},
                                      {"sha256", meta.sha256},
                                      {"contentType", meta.content_type},
                                      {"size", meta.size},
                                      {"inode", meta.inode}});
}

std::optional<ObjectMeta> DecodeObjectMeta(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  const json::value* version = o.if_contains("v");
  const json::value* sha = o.if_contains("sha256");
  const json::value* type = o.if_contains("contentType");
  const json::value* size = o.if_contains("size");
  const json::value* inode = o.if_contains("inode");
  if (!version || !version->is_int64() || version->as_int64() != 1 || !sha || !sha->is_string() ||
      !type || !type->is_string() || !size || !size->is_int64() || !inode ||
      !(inode->is_uint64() || inode->is_int64())) {
    return std::nullopt;
  }
  ObjectMeta meta;
  meta.sha256 = std::string(sha->as_string());
  meta.content_type = std::string(type->as_string());
  meta.size = size->as_int64();
  meta.inode =
      inode->is_uint64() ? inode->as_uint64() : static_cast<std::uint64_t>(inode->as_int64());
  return meta;
}

}  // namespace outpost::artifacts
