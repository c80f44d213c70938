#include "wire/list_query.h"

#include <boost/json.hpp>
#include <charconv>
#include <vector>

#include "common/ids.h"
#include "common/time_util.h"

namespace outpost::wire {
namespace json = boost::json;
namespace {

// One parameter at a time, every error kept.
class ListParser {
 public:
  void Limit(int n) {
    if (n < 1 || n > 100) {
      errors_.push_back({"limit", "limit must be an integer from 1 to 100"});
    } else {
      q_.limit = n;
    }
  }

  void Tag(std::string key, std::string value) {
    if (key.empty() || q_.tags.size() >= 20) {
      errors_.push_back({"tag", "tag must be key:value (at most 20)"});
    } else {
      q_.tags.emplace_back(std::move(key), std::move(value));
    }
  }

  // A parameter given as text.
  void Set(const std::string& key, const std::string& value) {
    if (key == "limit") {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      Limit(ec != std::errc() || p != value.data() + value.size() ? 0 : n);
    } else if (key == "cursor") {
      if (value.empty() || value.size() > 512) {
        errors_.push_back({"cursor", "invalid cursor"});
      } else {
        q_.cursor = value;
      }
    } else if (key == "status") {
      std::string up = value;
      for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (auto st = ParseRunStatus(up)) {
        q_.status = st;
      } else {
        errors_.push_back(
            {"status",
             "status must be one of PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED"});
      }
    } else if (key == "agent" || key == "repo" || key == "group") {
      if (value.empty() || value.size() > 500) {
        errors_.push_back({key, key + " must be 1 to 500 characters"});
      } else {
        // A group id is a ULID: any case names the same group.
        (key == "agent"  ? q_.agent
         : key == "repo" ? q_.repo
                         : q_.group_id) = key == "group" ? CanonicalUlid(value) : value;
      }
    } else if (key == "since") {
      if (auto t = ParseTime(value)) {
        q_.since = t;
      } else {
        errors_.push_back({"since", "since must be an ISO 8601 time, e.g. 2026-01-13T00:00:00Z"});
      }
    } else if (key == "tag") {
      auto colon = value.find(':');
      if (colon == std::string::npos) {
        Tag("", "");
      } else {
        Tag(value.substr(0, colon), value.substr(colon + 1));
      }
    } else {
      errors_.push_back({key, "unknown parameter"});
    }
  }

  Result<ListQuery> Done() {
    if (!errors_.empty()) return Status::Invalid(errors_);
    return std::move(q_);
  }

 private:
  ListQuery q_;
  std::vector<FieldError> errors_;
};

}  // namespace

Result<ListQuery> ListQueryFromParams(const std::multimap<std::string, std::string>& params) {
  ListParser p;
  for (const auto& [key, value] : params) p.Set(key, value);
  return p.Done();
}

Result<ListQuery> ListQueryFromArgs(const json::object& args) {
  ListParser p;
  for (const auto& kv : args) {
    const std::string key(kv.key());
    const json::value& v = kv.value();
    if (key == "tags" && v.is_object()) {
      for (const auto& tag : v.get_object()) {
        const json::value& value = tag.value();
        p.Tag(std::string(tag.key()),
              value.is_string() ? std::string(value.get_string()) : json::serialize(value));
      }
    } else if (key == "limit" && v.is_int64()) {
      p.Limit(static_cast<int>(std::clamp<std::int64_t>(v.get_int64(), 0, 101)));
    } else if (v.is_string()) {
      p.Set(key, std::string(v.get_string()));
    } else {
      p.Set(key, json::serialize(v));
    }
  }
  return p.Done();
}

}  // namespace outpost::wire
