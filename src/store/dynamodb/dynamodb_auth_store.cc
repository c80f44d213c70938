#include "store/dynamodb/dynamodb_auth_store.h"

#include <algorithm>

#include "aws/http.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_url.h"

namespace outpost::dynamodb {
namespace json = boost::json;
namespace ddb = aws::ddb;
namespace {

namespace a {
constexpr std::string_view kId = "id";
constexpr std::string_view kName = "name";
constexpr std::string_view kStatus = "status";
constexpr std::string_view kCreatedMs = "created_ms";
constexpr std::string_view kKeyId = "key_id";
constexpr std::string_view kTenant = "tenant";
constexpr std::string_view kPrefix = "prefix";
constexpr std::string_view kHash = "hash";
constexpr std::string_view kScopes = "scopes";
constexpr std::string_view kExpiresMs = "expires_ms";
constexpr std::string_view kRevokedMs = "revoked_ms";
constexpr std::string_view kLastUsedMs = "last_used_ms";
constexpr std::string_view kUseCount = "use_count";
}  // namespace a

json::object Spec(const std::string& name, std::string_view hash_key) {
  return {
      {"TableName", name},
      {"BillingMode", "PAY_PER_REQUEST"},
      {"KeySchema", json::array{json::object{{"AttributeName", hash_key}, {"KeyType", "HASH"}}}},
      {"AttributeDefinitions",
       json::array{json::object{{"AttributeName", hash_key}, {"AttributeType", "S"}}}}};
}

void SetOpt(ddb::Item& item, std::string_view name, const std::optional<WallTime>& t) {
  if (t) item[name] = ddb::N(ToMillis(*t));
}

std::optional<WallTime> OptTime(const ddb::Item& item, std::string_view name) {
  auto ms = ddb::GetN(item, name);
  return ms ? std::optional<WallTime>(FromMillis(*ms)) : std::nullopt;
}

ddb::Item TenantToItem(const Tenant& t) {
  return {{a::kId, ddb::S(t.id)},
          {a::kName, ddb::S(t.name)},
          {a::kStatus, ddb::S(ToString(t.status))},
          {a::kCreatedMs, ddb::N(ToMillis(t.created_at))}};
}

Result<Tenant> TenantFromItem(const ddb::Item& item) {
  auto id = ddb::GetS(item, a::kId);
  auto status = ParseTenantStatus(ddb::GetS(item, a::kStatus).value_or(""));
  auto created = ddb::GetN(item, a::kCreatedMs);
  if (!id || !status || !created) return Internal("corrupt tenant item in the auth store");
  return Tenant{*id, ddb::GetS(item, a::kName).value_or(""), *status, FromMillis(*created)};
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> SplitScopes(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    auto comma = joined.find(',');
    out.emplace_back(joined.substr(0, comma));
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  return out;
}

// Empty strings are left out: older DynamoDB-compatible servers refuse them.
ddb::Item KeyToItem(const ApiKeyRecord& k) {
  ddb::Item item{{a::kKeyId, ddb::S(k.key_id)},
                 {a::kTenant, ddb::S(k.tenant)},
                 {a::kPrefix, ddb::S(k.prefix)},
                 {a::kHash, ddb::S(k.hash)},
                 {a::kStatus, ddb::S(ToString(k.status))},
                 {a::kCreatedMs, ddb::N(ToMillis(k.created_at))},
                 {a::kUseCount, ddb::N(k.use_count)}};
  if (!k.name.empty()) item[a::kName] = ddb::S(k.name);
  if (!k.scopes.empty()) item[a::kScopes] = ddb::S(JoinScopes(k.scopes));
  SetOpt(item, a::kExpiresMs, k.expires_at);
  SetOpt(item, a::kRevokedMs, k.revoked_at);
  SetOpt(item, a::kLastUsedMs, k.last_used_at);
  return item;
}

Result<ApiKeyRecord> KeyFromItem(const ddb::Item& item) {
  ApiKeyRecord k;
  auto id = ddb::GetS(item, a::kKeyId);
  auto tenant = ddb::GetS(item, a::kTenant);
  auto hash = ddb::GetS(item, a::kHash);
  auto status = ParseKeyStatus(ddb::GetS(item, a::kStatus).value_or(""));
  auto created = ddb::GetN(item, a::kCreatedMs);
  if (!id || !tenant || !hash || !status || !created) {
    return Internal("corrupt API key item in the auth store");
  }
  k.key_id = *id;
  k.tenant = *tenant;
  k.hash = *hash;
  k.status = *status;
  k.created_at = FromMillis(*created);
  k.name = ddb::GetS(item, a::kName).value_or("");
  k.prefix = ddb::GetS(item, a::kPrefix).value_or("");
  k.scopes = SplitScopes(ddb::GetS(item, a::kScopes).value_or(""));
  k.expires_at = OptTime(item, a::kExpiresMs);
  k.revoked_at = OptTime(item, a::kRevokedMs);
  k.last_used_at = OptTime(item, a::kLastUsedMs);
  k.use_count = ddb::GetN(item, a::kUseCount).value_or(0);
  return k;
}

aws::Expression NotExists(std::string_view attribute) {
  return {"attribute_not_exists(#k)", {{"#k", attribute}}, {}};
}

}  // namespace

AuthTableNames AuthTableNames::For(std::string_view prefix) {
  const std::string p(prefix);
  return {p + "-tenants", p + "-api-keys"};
}

json::object TenantsTableSpec(const std::string& name) { return Spec(name, a::kId); }

json::object ApiKeysTableSpec(const std::string& name) {
  json::object spec = Spec(name, a::kKeyId);
  spec["AttributeDefinitions"].as_array().push_back(
      json::object{{"AttributeName", a::kHash}, {"AttributeType", "S"}});
  spec["GlobalSecondaryIndexes"] = json::array{json::object{
      {"IndexName", kIndexKeyHash},
      {"KeySchema", json::array{json::object{{"AttributeName", a::kHash}, {"KeyType", "HASH"}}}},
      {"Projection", json::object{{"ProjectionType", "KEYS_ONLY"}}}}};
  return spec;
}

Result<std::unique_ptr<DynamoDbAuthStore>> DynamoDbAuthStore::Open(
    std::string_view url, const aws::EnvMap& env, const Clock& clock,
    DynamoDbAuthStoreOptions options) {
  auto connected = ConnectDynamoDb(url, env, clock, {options.retry, options.sender});
  if (!connected.ok()) return connected.status();
  AuthTableNames tables = AuthTableNames::For(connected->location.table_prefix);
  EnsureOptions ensure = options.tables;
  ensure.create = options.create_tables || connected->location.create_tables;
  for (const auto& spec : {TenantsTableSpec(tables.tenants), ApiKeysTableSpec(tables.api_keys)}) {
    OUTPOST_RETURN_IF_ERROR(EnsureTable(*connected->client, spec, ensure, clock));
  }
  return std::unique_ptr<DynamoDbAuthStore>(
      new DynamoDbAuthStore(std::move(tables), std::move(connected->client)));
}

Result<ddb::Item> DynamoDbAuthStore::Update(const std::string& table, const ddb::Item& key,
                                            const std::string& update,
                                            const aws::Expression& expr) const {
  json::object request{{"TableName", table},
                       {"Key", key},
                       {"UpdateExpression", update},
                       {"ConditionExpression", expr.text},
                       {"ReturnValues", "ALL_NEW"}};
  if (!expr.names.empty()) request["ExpressionAttributeNames"] = expr.names;
  if (!expr.values.empty()) request["ExpressionAttributeValues"] = expr.values;
  auto answer = client_->Call("UpdateItem", request, table);
  if (!answer.ok()) return answer.status();
  auto it = answer->find("Attributes");
  if (it == answer->end() || !it->value().is_object()) {
    return Internal("DynamoDB UpdateItem on " + table + " returned no attributes");
  }
  return it->value().get_object();
}

Result<std::vector<ddb::Item>> DynamoDbAuthStore::ScanAll(const std::string& table,
                                                          const aws::Expression& filter) const {
  aws::ScanRequest scan;
  scan.table = table;
  scan.filter = filter;
  std::vector<ddb::Item> out;
  for (;;) {
    auto page = client_->Scan(scan);
    if (!page.ok()) return page.status();
    for (auto& item : page->items) out.push_back(std::move(item));
    if (!page->last_key) return out;
    scan.start_key = page->last_key;
  }
}

Status DynamoDbAuthStore::CreateTenant(const Tenant& t) {
  Status st = client_->PutItem(tables_.tenants, TenantToItem(t), NotExists(a::kId));
  if (st.code() == Code::kConflict) return Conflict("tenant " + t.id + " already exists");
  return st;
}

Result<Tenant> DynamoDbAuthStore::GetTenant(const std::string& id) {
  auto item = client_->GetItem(tables_.tenants, {{a::kId, ddb::S(id)}});
  if (!item.ok()) return item.status();
  if (!*item) return NotFound("no tenant " + id);
  return TenantFromItem(**item);
}

Result<std::vector<Tenant>> DynamoDbAuthStore::ListTenants() {
  auto items = ScanAll(tables_.tenants, {});
  if (!items.ok()) return items.status();
  std::vector<Tenant> out;
  for (const auto& item : *items) {
    auto t = TenantFromItem(item);
    if (!t.ok()) return t.status();
    out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const Tenant& x, const Tenant& y) { return x.id < y.id; });
  return out;
}

Result<Tenant> DynamoDbAuthStore::SetTenantStatus(const std::string& id, TenantStatus status) {
  auto item = Update(tables_.tenants, {{a::kId, ddb::S(id)}}, "SET #s = :s",
                     {"attribute_exists(#id)",
                      {{"#s", a::kStatus}, {"#id", a::kId}},
                      {{":s", ddb::S(ToString(status))}}});
  if (item.status().code() == Code::kConflict) return NotFound("no tenant " + id);
  if (!item.ok()) return item.status();
  return TenantFromItem(*item);
}

Status DynamoDbAuthStore::CreateKey(const ApiKeyRecord& k) {
  Status st = client_->PutItem(tables_.api_keys, KeyToItem(k), NotExists(a::kKeyId));
  if (st.code() == Code::kConflict) return Conflict("API key " + k.key_id + " already exists");
  return st;
}

Result<ApiKeyRecord> DynamoDbAuthStore::GetKey(const std::string& key_id) {
  auto item = client_->GetItem(tables_.api_keys, {{a::kKeyId, ddb::S(key_id)}});
  if (!item.ok()) return item.status();
  if (!*item) return NotFound("no API key " + key_id);
  return KeyFromItem(**item);
}

Result<std::optional<ApiKeyRecord>> DynamoDbAuthStore::FindKeyByHash(const std::string& hash) {
  aws::QueryRequest q;
  q.table = tables_.api_keys;
  q.index = std::string(kIndexKeyHash);
  q.key_condition = {"#h = :h", {{"#h", a::kHash}}, {{":h", ddb::S(hash)}}};
  auto page = client_->Query(q);
  if (!page.ok()) return page.status();
  for (const auto& entry : page->items) {
    auto id = ddb::GetS(entry, a::kKeyId);
    if (!id) continue;
    auto key = GetKey(*id);  // the authoritative, strongly consistent record
    if (key.status().code() == Code::kNotFound) continue;
    if (!key.ok()) return key.status();
    if (key->hash == hash) return std::optional<ApiKeyRecord>(std::move(*key));
  }
  return std::optional<ApiKeyRecord>();
}

Result<std::vector<ApiKeyRecord>> DynamoDbAuthStore::ListKeys(
    const std::optional<std::string>& tenant) {
  aws::Expression filter;
  if (tenant) filter = {"#t = :t", {{"#t", a::kTenant}}, {{":t", ddb::S(*tenant)}}};
  auto items = ScanAll(tables_.api_keys, filter);
  if (!items.ok()) return items.status();
  std::vector<ApiKeyRecord> out;
  for (const auto& item : *items) {
    auto k = KeyFromItem(item);
    if (!k.ok()) return k.status();
    out.push_back(std::move(*k));
  }
  std::sort(out.begin(), out.end(),
            [](const ApiKeyRecord& x, const ApiKeyRecord& y) { return x.key_id < y.key_id; });
  return out;
}

Result<ApiKeyRecord> DynamoDbAuthStore::RevokeKey(const std::string& key_id, WallTime at) {
  auto item = Update(
      tables_.api_keys, {{a::kKeyId, ddb::S(key_id)}},
      "SET #s = :revoked, #r = if_not_exists(#r, :at)",
      {"attribute_exists(#id)",
       {{"#s", a::kStatus}, {"#r", a::kRevokedMs}, {"#id", a::kKeyId}},
       {{":revoked", ddb::S(ToString(KeyStatus::kRevoked))}, {":at", ddb::N(ToMillis(at))}}});
  if (item.status().code() == Code::kConflict) return NotFound("no API key " + key_id);
  if (!item.ok()) return item.status();
  return KeyFromItem(*item);
}

// Two attempts at most: with last_used raised (when it is newer), else only the count.
Status DynamoDbAuthStore::RecordUsage(const std::string& key_id, WallTime last_used,
                                      std::int64_t uses) {
  const ddb::Item key{{a::kKeyId, ddb::S(key_id)}};
  auto raised = Update(tables_.api_keys, key, "ADD #n :n SET #u = :u",
                       {"attribute_exists(#id) AND (attribute_not_exists(#u) OR #u < :u)",
                        {{"#n", a::kUseCount}, {"#u", a::kLastUsedMs}, {"#id", a::kKeyId}},
                        {{":n", ddb::N(uses)}, {":u", ddb::N(ToMillis(last_used))}}});
  if (raised.ok()) return Status::Ok();
  if (raised.status().code() != Code::kConflict) return raised.status();
  auto counted = Update(tables_.api_keys, key, "ADD #n :n",
                        {"attribute_exists(#id)",
                         {{"#n", a::kUseCount}, {"#id", a::kKeyId}},
                         {{":n", ddb::N(uses)}}});
  if (counted.status().code() == Code::kConflict) return NotFound("no API key " + key_id);
  return counted.status();
}

Result<bool> DynamoDbAuthStore::AnyKeys() {
  aws::ScanRequest scan;
  scan.table = tables_.api_keys;
  scan.limit = 1;
  scan.projection = std::string(a::kKeyId);  // not a reserved word: no placeholder needed
  auto page = client_->Scan(scan);
  if (!page.ok()) return page.status();
  return !page->items.empty();
}

}  // namespace outpost::dynamodb
