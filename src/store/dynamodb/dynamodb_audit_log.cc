#include "store/dynamodb/dynamodb_audit_log.h"

#include "common/json_util.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_items.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace {

constexpr int kMaxPageItems = 1000;

bool Matches(const AuditRecord& r, const AuditQuery& q) {
  return (!q.since || r.at >= *q.since) && (!q.action || r.action == *q.action) &&
         (!q.resource || r.resource == *q.resource);
}

// The key condition: the partition, and the id range the cursor and `since` leave.
aws::Expression KeyCondition(const AuditQuery& q, const std::optional<std::string>& after) {
  aws::Expression e;
  e.names = {{"#h", q.tenant ? attr::kTenant : attr::kKind}};
  e.values = {{":h", ddb::S(q.tenant ? *q.tenant : std::string(kAuditKind))}};
  e.text = "#h = :h";
  std::optional<std::string> lo;
  if (q.since) lo = MinUlidAt(*q.since - kIdClockSlack);
  if (q.oldest_first) {
    if (after) {  // `since` was met by the page the cursor ends
      e.text += " AND #id > :c";
      e.values[":c"] = ddb::S(*after);
    } else if (lo) {
      e.text += " AND #id >= :lo";
      e.values[":lo"] = ddb::S(*lo);
    }
  } else if (after && lo) {
    e.text += " AND #id BETWEEN :lo AND :c";  // inclusive: the cursor's own id is skipped
    e.values[":lo"] = ddb::S(*lo);
    e.values[":c"] = ddb::S(*after);
  } else if (after) {
    e.text += " AND #id < :c";
    e.values[":c"] = ddb::S(*after);
  } else if (lo) {
    e.text += " AND #id >= :lo";
    e.values[":lo"] = ddb::S(*lo);
  }
  if (e.text.find("#id") != std::string::npos) e.names["#id"] = attr::kId;
  return e;
}

}  // namespace

Result<std::unique_ptr<DynamoDbAuditLog>> DynamoDbAuditLog::Open(const DynamoDbRunStore& store,
                                                                 const Clock& clock,
                                                                 DynamoDbAuditOptions options) {
  EnsureOptions ensure = options.ensure;
  ensure.create = ensure.create || options.create_table;
  OUTPOST_RETURN_IF_ERROR(
      EnsureTable(store.client(), AuditTableSpec(store.tables().audit), ensure, clock));
  return std::unique_ptr<DynamoDbAuditLog>(
      new DynamoDbAuditLog(store.client(), store.tables().audit, options.retention));
}

Status DynamoDbAuditLog::Append(const AuditRecord& r) {
  ddb::Item item{{attr::kTenant, ddb::S(r.tenant)},
                 {attr::kId, ddb::S(r.id)},
                 {attr::kKind, ddb::S(kAuditKind)},
                 {attr::kAction, ddb::S(r.action)},
                 {attr::kResource, ddb::S(r.resource.empty() ? "-" : r.resource)},
                 {attr::kAtMs, ddb::N(ToMillis(r.at))},
                 {attr::kDoc, ddb::S(ToJson(AuditRecordToJson(r)))}};
  if (retention_.count() > 0) {
    item[attr::kExpiresAt] = ddb::N((ToMillis(r.at) + retention_.count()) / 1000);
  }
  const aws::Expression absent{"attribute_not_exists(#id)", {{"#id", attr::kId}}, {}};
  Status st = client_.PutItem(table_, item, absent);
  if (st.code() == Code::kConflict) return Conflict("audit record " + r.id + " already exists");
  return st;
}

Result<AuditPage> DynamoDbAuditLog::List(const AuditQuery& q) {
  if (q.limit < 1 || q.limit > 1000) {
    return Status::Invalid({{"limit", "must be an integer from 1 to 1000"}});
  }
  std::optional<std::string> after;
  if (q.cursor) {
    auto id = DecodeAuditCursor(*q.cursor);
    if (!id.ok()) return id.status();
    after = *id;
  }
  aws::QueryRequest request;
  request.table = table_;
  if (!q.tenant) request.index = std::string(kIndexAll);
  request.key_condition = KeyCondition(q, after);
  request.forward = q.oldest_first;
  request.limit = kMaxPageItems;
  const std::size_t want = static_cast<std::size_t>(q.limit) + 1;
  AuditPage page;
  while (page.records.size() < want) {
    auto items = client_.Query(request);
    if (!items.ok()) return items.status();
    for (const auto& item : items->items) {
      auto doc = ParseJson(ddb::GetS(item, attr::kDoc).value_or(""));
      if (!doc.ok() || !doc->is_object()) return Internal("corrupt audit record in DynamoDB");
      auto rec = AuditRecordFromJson(doc->get_object());
      if (!rec.ok()) return rec.status();
      if ((after && rec->id == *after) || !Matches(*rec, q)) continue;
      page.records.push_back(std::move(*rec));
      if (page.records.size() == want) break;
    }
    if (!items->last_key) break;
    request.start_key = items->last_key;
  }
  if (page.records.size() == want) {
    page.records.pop_back();
    page.next_cursor = EncodeAuditCursor(page.records.back().id);
  }
  return page;
}

}  // namespace outpost::dynamodb
