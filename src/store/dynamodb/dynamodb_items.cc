#include "store/dynamodb/dynamodb_items.h"

#include <algorithm>

#include "aws/sigv4.h"
#include "common/encoding.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_schema.h"
#include "store/run_doc.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace {

constexpr std::string_view kCursorPrefix = "d1:";
constexpr std::size_t kMaxCursorLength = 256;

void PutOptS(ddb::Item& item, std::string_view name, const std::optional<std::string>& v) {
  if (v && !v->empty()) item[name] = ddb::S(*v);
}

void PutOptMillis(ddb::Item& item, std::string_view name, const std::optional<WallTime>& t) {
  if (t) item[name] = ddb::N(ToMillis(*t));
}

}  // namespace

ddb::Item RunToItem(const Run& run, Millis retention) {
  ddb::Item item{
      {attr::kId, ddb::S(run.id.str())},     {attr::kDoc, ddb::S(ToJson(RunToDoc(run)))},
      {attr::kVersion, ddb::N(run.version)}, {attr::kKind, ddb::S(kRunKind)},
      {attr::kTenant, ddb::S(run.tenant)},   {attr::kStatus, ddb::S(ToString(run.status))},
      {attr::kAgent, ddb::S(run.agent)},     {attr::kCreatedMs, ddb::N(ToMillis(run.created_at))},
  };
  PutOptS(item, attr::kRepo, run.repo);
  PutOptS(item, attr::kGroupId, run.group_id);
  PutOptS(item, attr::kOwner, run.owner);
  PutOptS(item, attr::kArtifactsState, std::string(ToString(run.artifacts_state)));
  PutOptS(item, attr::kIdempotencyKey, run.idempotency_key);
  PutOptMillis(item, attr::kStartedMs, run.started_at);
  PutOptMillis(item, attr::kEndedMs, run.ended_at);
  if (run.ended_at && retention.count() > 0) {
    item[attr::kExpiresAt] = ddb::N(ToMillis(*run.ended_at + retention) / 1000);
  }
  return item;
}

Result<Run> RunFromItem(const ddb::Item& item) {
  auto doc_text = ddb::GetS(item, attr::kDoc);
  auto version = ddb::GetN(item, attr::kVersion);
  if (!doc_text || !version) return Internal("corrupt run item in the DynamoDB run store");
  auto doc = ParseJson(*doc_text, 64);
  if (!doc.ok() || !doc->is_object()) return Internal("corrupt run document in DynamoDB");
  OUTPOST_ASSIGN_OR_RETURN(Run run, RunFromDoc(doc->get_object()));
  run.version = *version;
  return run;
}

std::string IdempotencyKey(std::string_view tenant, std::string_view key) {
  return aws::UriEncode(tenant) + "#" + std::string(key);
}

std::string EncodeCursor(std::string_view last_id) {
  std::string text = Base64Encode(std::string(kCursorPrefix) + std::string(last_id));
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (text.ends_with('=')) text.pop_back();
  return text;
}

Result<std::string> DecodeCursor(std::string_view cursor) {
  const Status bad = InvalidArgument("invalid cursor");
  if (cursor.empty() || cursor.size() > kMaxCursorLength) return bad;
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

std::string MinUlidAt(WallTime t) {
  if (t.time_since_epoch().count() < 0) t = WallTime{};
  return NewUlid(t).substr(0, 10) + std::string(16, '0');
}

}  // namespace outpost::dynamodb
