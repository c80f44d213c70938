// The index is the one whose partition is likely smallest: an active status (few runs), then a
// dispatch group, a tenant, a finished status, and failing all those every run (all-newest).
// Everything else is filtered after reading, which costs the same read capacity as a DynamoDB
// FilterExpression would, and keeps one definition of each filter (Matches).
#include "store/dynamodb/dynamodb_list.h"

#include <algorithm>

#include "common/time_util.h"
#include "store/dynamodb/dynamodb_items.h"
#include "store/dynamodb/dynamodb_run_store.h"
#include "store/dynamodb/dynamodb_schema.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace {

struct IndexChoice {
  std::string_view index;
  std::string_view hash_attr;
  std::string hash;
};

IndexChoice ChooseIndex(const ListQuery& q) {
  if (q.status && !IsTerminal(*q.status)) {
    return {kIndexStatus, attr::kStatus, std::string(ToString(*q.status))};
  }
  if (q.group_id) return {kIndexGroup, attr::kGroupId, *q.group_id};
  if (q.tenant) return {kIndexTenant, attr::kTenant, *q.tenant};
  if (q.status) return {kIndexStatus, attr::kStatus, std::string(ToString(*q.status))};
  return {kIndexAll, attr::kKind, std::string(kRunKind)};
}

}  // namespace

Result<ListPlan> PlanList(const ListQuery& q) {
  if (q.limit < 1) return InvalidArgument("limit must be at least 1");
  ListPlan plan;
  if (q.cursor) {
    auto after = DecodeCursor(*q.cursor);
    if (!after.ok()) return after.status();
    plan.after = *after;
  }
  const IndexChoice choice = ChooseIndex(q);
  aws::Expression& key = plan.query.key_condition;
  key.text = "#h = :h";
  key.names["#h"] = choice.hash_attr;
  key.values[":h"] = ddb::S(choice.hash);
  std::optional<std::string> low;
  if (q.since) low = MinUlidAt(*q.since - kIdClockSlack);
  if (low || plan.after) key.names["#id"] = attr::kId;
  if (low && plan.after) {
    if (*low > *plan.after) plan.empty = true;
    key.text += " AND #id BETWEEN :lo AND :hi";
    key.values[":lo"] = ddb::S(*low);
    key.values[":hi"] = ddb::S(*plan.after);
  } else if (plan.after) {
    key.text += " AND #id < :hi";
    key.values[":hi"] = ddb::S(*plan.after);
  } else if (low) {
    key.text += " AND #id >= :lo";
    key.values[":lo"] = ddb::S(*low);
  }
  plan.query.index = std::string(choice.index);
  plan.query.forward = false;
  const int implied = (choice.index == kIndexAll ? 0 : 1);
  const int filters = (q.tenant ? 1 : 0) + (q.status ? 1 : 0) + (q.group_id ? 1 : 0) +
                      (q.agent ? 1 : 0) + (q.repo ? 1 : 0) + (q.since ? 1 : 0) +
                      (q.artifacts_state ? 1 : 0) + static_cast<int>(q.tags.size());
  plan.filters_beyond_index = filters > implied;
  return plan;
}

bool Matches(const Run& r, const ListQuery& q) {
  if (q.tenant && r.tenant != *q.tenant) return false;
  if (q.status && r.status != *q.status) return false;
  if (q.agent && r.agent != *q.agent) return false;
  if (q.repo && r.repo != *q.repo) return false;
  if (q.group_id && r.group_id != *q.group_id) return false;
  if (q.since && r.created_at < *q.since) return false;
  if (q.artifacts_state && r.artifacts_state != *q.artifacts_state) return false;
  return std::all_of(q.tags.begin(), q.tags.end(), [&](const auto& kv) {
    auto it = r.tags.find(kv.first);
    return it != r.tags.end() && it->second == kv.second;
  });
}

}  // namespace outpost::dynamodb
