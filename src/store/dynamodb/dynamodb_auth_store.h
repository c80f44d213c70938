// DynamoDbAuthStore: tenants and API keys on DynamoDB (store/auth_store.h for the contract),
// beside the run store's tables under the same prefix, created by --create-tables like them:
//
// <prefix>-tenants — one item per tenant (on-demand billing):
//   id (S, partition key);  name, status (S);  created_ms (N)
// <prefix>-api-keys — one item per key:
//   key_id (S, partition key);  tenant, name, prefix, hash, scopes (S, comma-joined), status (S);
//   created_ms (N);  expires_ms, revoked_ms, last_used_ms (N, when set);  use_count (N)
//   GSI key-hash (hash), projection KEYS_ONLY: the lookup of a presented key.
//
// FindKeyByHash reads the GSI for the key id, then the item itself with a strongly consistent
// GetItem: a GSI lags its table on AWS, and a revocation must not be read stale from it.
// RecordUsage is one UpdateItem (ADD use_count, SET last_used_ms when newer); a retry of an
// update whose first attempt landed counts those uses twice (usage is advisory). Lists are Scans
// (admin commands on small tables). AnyKeys is a Scan with Limit 1.
//
// Errors as the contract; throttling and 5xx are retried (aws/retry.h) and then kUnavailable;
// a missing table at Open is kFailedPrecondition naming it. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/retry.h"
#include "common/clock.h"
#include "net/http_transport.h"
#include "store/auth_store.h"
#include "store/dynamodb/dynamodb_schema.h"

namespace outpost::dynamodb {

inline constexpr std::string_view kIndexKeyHash = "key-hash";

struct AuthTableNames {
  std::string tenants;
  std::string api_keys;
  static AuthTableNames For(std::string_view prefix);
};

boost::json::object TenantsTableSpec(const std::string& name);
boost::json::object ApiKeysTableSpec(const std::string& name);

struct DynamoDbAuthStoreOptions {
  bool create_tables = false;  // create missing tables (also the URL's createTables=true)
  EnsureOptions tables;
  aws::RetryPolicy retry;
  net::HttpSender sender;  // null: the real transport
};

class DynamoDbAuthStore final : public AuthStore {
 public:
  // The URL of the run store (dynamodb_url.h). Errors as DynamoDbRunStore::Open.
  static Result<std::unique_ptr<DynamoDbAuthStore>> Open(std::string_view url,
                                                         const aws::EnvMap& env, const Clock& clock,
                                                         DynamoDbAuthStoreOptions options = {});

  Status CreateTenant(const Tenant& tenant) override;
  Result<Tenant> GetTenant(const std::string& id) override;
  Result<std::vector<Tenant>> ListTenants() override;
  Result<Tenant> SetTenantStatus(const std::string& id, TenantStatus status) override;

  Status CreateKey(const ApiKeyRecord& key) override;
  Result<ApiKeyRecord> GetKey(const std::string& key_id) override;
  Result<std::optional<ApiKeyRecord>> FindKeyByHash(const std::string& hash) override;
  Result<std::vector<ApiKeyRecord>> ListKeys(const std::optional<std::string>& tenant) override;
  Result<ApiKeyRecord> RevokeKey(const std::string& key_id, WallTime at) override;
  Status RecordUsage(const std::string& key_id, WallTime last_used, std::int64_t uses) override;
  Result<bool> AnyKeys() override;

  const AuthTableNames& tables() const { return tables_; }

 private:
  DynamoDbAuthStore(AuthTableNames tables, std::unique_ptr<aws::DynamoDbClient> client)
      : tables_(std::move(tables)), client_(std::move(client)) {}

  // UpdateItem with ReturnValues ALL_NEW; kConflict when `condition` fails.
  Result<aws::ddb::Item> Update(const std::string& table, const aws::ddb::Item& key,
                                const std::string& update, const aws::Expression& expr) const;
  Result<std::vector<aws::ddb::Item>> ScanAll(const std::string& table,
                                              const aws::Expression& filter) const;

  const AuthTableNames tables_;
  const std::unique_ptr<aws::DynamoDbClient> client_;
};

}  // namespace outpost::dynamodb
