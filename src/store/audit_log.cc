#include "store/audit_log.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost {
namespace json = boost::json;
namespace {

json::value OrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

constexpr std::string_view kCursorPrefix = "a1:";

}  // namespace

std::string EncodeAuditCursor(std::string_view last_id) {
  std::string text = Base64Encode(std::string(kCursorPrefix) + std::string(last_id));
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (text.ends_with('=')) text.pop_back();
  return text;
}

Result<std::string> DecodeAuditCursor(std::string_view cursor) {
  const Status bad = Status::Invalid({{"cursor", "invalid cursor"}});
  if (cursor.empty() || cursor.size() > 128) return bad;
  std::string text(cursor);
  if (text.find_first_of("+/=") != std::string::npos) return bad;
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text.push_back('=');
  auto raw = Base64Decode(text);
  if (!raw || !raw->starts_with(kCursorPrefix)) return bad;
  std::string id = raw->substr(kCursorPrefix.size());
  if (!IsUlid(id)) return bad;
  return id;
}

json::object AuditRecordToJson(const AuditRecord& r) {
  return {{"id", r.id},
          {"at", FormatTime(r.at)},
          {"tenant", r.tenant},
          {"keyId", OrNull(r.key_id)},
          {"action", r.action},
          {"resource", r.resource},
          {"requestId", OrNull(r.request_id)},
          {"clientAddress", OrNull(r.client_address)},
          {"outcome", r.outcome},
          {"errorCode", OrNull(r.error_code)},
          {"details", r.details}};
}

Result<AuditRecord> AuditRecordFromJson(const json::object& o) {
  AuditRecord r;
  auto id = GetString(o, "id");
  auto at = GetString(o, "at");
  auto action = GetString(o, "action");
  if (!id || !at || !action || !ParseTime(*at)) return Internal("corrupt audit record");
  r.id = *id;
  r.at = *ParseTime(*at);
  r.action = *action;
  r.tenant = GetString(o, "tenant").value_or("");
  r.key_id = GetString(o, "keyId").value_or("");
  r.resource = GetString(o, "resource").value_or("");
  r.request_id = GetString(o, "requestId").value_or("");
  r.client_address = GetString(o, "clientAddress").value_or("");
  r.outcome = GetString(o, "outcome").value_or("");
  r.error_code = GetString(o, "errorCode").value_or("");
  if (auto it = o.find("details"); it != o.end() && it->value().is_object()) {
    r.details = it->value().get_object();
  }
  return r;
}

}  // namespace outpost
