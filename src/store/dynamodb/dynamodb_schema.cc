// Tables are created on demand (PAY_PER_REQUEST), never altered: an existing table missing one
// of our indexes is reported rather than changed behind the operator's back.
#include "store/dynamodb/dynamodb_schema.h"

#include <algorithm>

#include "common/json_util.h"

namespace outpost::dynamodb {
namespace json = boost::json;
namespace {

json::object KeySchema(std::string_view hash, std::string_view range = {}) {
  json::array keys{json::object{{"AttributeName", hash}, {"KeyType", "HASH"}}};
  if (!range.empty()) keys.push_back(json::object{{"AttributeName", range}, {"KeyType", "RANGE"}});
  return {{"KeySchema", std::move(keys)}};
}

json::object Gsi(std::string_view name, std::string_view hash, std::string_view range) {
  json::object index = KeySchema(hash, range);
  index["IndexName"] = name;
  index["Projection"] = json::object{{"ProjectionType", "ALL"}};
  return index;
}

json::object AttributeDef(std::string_view name) {
  return {{"AttributeName", name}, {"AttributeType", "S"}};
}

std::vector<std::string> SpecIndexes(const json::object& spec) {
  std::vector<std::string> names;
  if (auto it = spec.find("GlobalSecondaryIndexes"); it != spec.end()) {
    for (const auto& g : it->value().as_array()) {
      names.push_back(GetString(g.as_object(), "IndexName").value_or(""));
    }
  }
  return names;
}

bool AllActive(const aws::TableInfo& info) {
  return info.status == "ACTIVE" &&
         std::all_of(info.index_statuses.begin(), info.index_statuses.end(),
                     [](const std::string& s) { return s == "ACTIVE"; });
}

}  // namespace

TableNames TableNames::For(std::string_view prefix) {
  const std::string p(prefix);
  return {p + "-runs",   p + "-idempotency", p + "-replicas",
          p + "-quotas", p + "-audit",       p + "-events"};
}

json::object RunsTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kId);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] =
      json::array{AttributeDef(attr::kId), AttributeDef(attr::kKind), AttributeDef(attr::kTenant),
                  AttributeDef(attr::kStatus), AttributeDef(attr::kGroupId)};
  spec["GlobalSecondaryIndexes"] = json::array{
      Gsi(kIndexAll, attr::kKind, attr::kId), Gsi(kIndexTenant, attr::kTenant, attr::kId),
      Gsi(kIndexStatus, attr::kStatus, attr::kId), Gsi(kIndexGroup, attr::kGroupId, attr::kId)};
  return spec;
}

json::object IdempotencyTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kKey);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] = json::array{AttributeDef(attr::kKey)};
  return spec;
}

json::object ReplicasTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kId);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] = json::array{AttributeDef(attr::kId)};
  return spec;
}

json::object QuotasTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kPk, attr::kSk);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] = json::array{AttributeDef(attr::kPk), AttributeDef(attr::kSk)};
  return spec;
}

json::object AuditTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kTenant, attr::kId);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] =
      json::array{AttributeDef(attr::kTenant), AttributeDef(attr::kId), AttributeDef(attr::kKind)};
  spec["GlobalSecondaryIndexes"] = json::array{Gsi(kIndexAll, attr::kKind, attr::kId)};
  return spec;
}

json::object EventsTableSpec(const std::string& name) {
  json::object spec = KeySchema(attr::kRunId, attr::kFirstSeq);
  spec["TableName"] = name;
  spec["BillingMode"] = "PAY_PER_REQUEST";
  spec["AttributeDefinitions"] =
      json::array{AttributeDef(attr::kRunId),
                  json::object{{"AttributeName", attr::kFirstSeq}, {"AttributeType", "N"}}};
  return spec;
}

Status EnsureTable(const aws::DynamoDbClient& client, const json::object& spec,
                   const EnsureOptions& options, const Clock& clock) {
  const std::string table = GetString(spec, "TableName").value_or("");
  auto info = client.DescribeTable(table);
  if (info.status().code() == Code::kNotFound) {
    if (!options.create) {
      return FailedPrecondition("DynamoDB table '" + table +
                                "' does not exist; create it, or start with --create-tables "
                                "(OUTPOST_CREATE_TABLES=true) to have it created");
    }
    Status created = client.CreateTable(spec);
    // kConflict: another replica created it meanwhile, which is as good.
    if (!created.ok() && created.code() != Code::kConflict) return created;
    info = client.DescribeTable(table);
  }
  if (!info.ok()) return info.status();
  for (const std::string& index : SpecIndexes(spec)) {
    if (std::find(info->index_names.begin(), info->index_names.end(), index) ==
        info->index_names.end()) {
      return FailedPrecondition("DynamoDB table '" + table + "' has no global secondary index '" +
                                index + "' (it was not created by this version of Outpost)");
    }
  }
  const MonoTime deadline = clock.Mono() + options.wait;
  while (!AllActive(*info)) {
    if (clock.Mono() >= deadline) {
      return Unavailable("DynamoDB table '" + table + "' is " + info->status +
                         ", not ACTIVE, after waiting");
    }
    clock.SleepFor(options.poll);
    info = client.DescribeTable(table);
    if (!info.ok()) return info.status();
  }
  return Status::Ok();
}

}  // namespace outpost::dynamodb
