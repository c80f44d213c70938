// AuthStore: the durable record of tenants and their API keys, kept on the configured store
// beside the runs (the same SQLite file; for DynamoDB, <prefix>-tenants and <prefix>-api-keys).
// Implementations: sqlite/sqlite_auth_store.h and dynamodb/dynamodb_auth_store.h; one
// conformance suite (auth_store_conformance.h) holds both to this contract.
//
// Only a key's SHA-256 is ever stored (auth/api_key.h); the key itself is shown once, at
// creation, and exists nowhere else.
//
// Contract:
//  - CreateTenant / CreateKey never overwrite: an existing id is kConflict.
//  - FindKeyByHash looks a key up by its hash (an index), and returns the authoritative record
//    (status, tenant and scopes as last written), or nullopt.
//  - SetTenantStatus and RevokeKey change one record; kNotFound when there is none. Revoking a
//    revoked key is Ok (it stays revoked, with its first revocation time).
//  - RecordUsage adds `uses` to the key's use count and raises last_used_at to `last_used`
//    (never lowers it: replicas flush in any order). A key that does not exist is kNotFound.
//  - AnyKeys: whether any key record exists, in any status (a store whose keys were all revoked
//    is not "without keys": the server does not fall back to open mode).
//  - Lists: tenants by id, keys by key id (ids are ULIDs: creation order).
//  - Errors: kNotFound, kConflict, kUnavailable (busy/transient), kInternal. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost {

enum class TenantStatus { kActive, kSuspended };
enum class KeyStatus { kActive, kRevoked };

std::string_view ToString(TenantStatus s);
std::string_view ToString(KeyStatus s);
std::optional<TenantStatus> ParseTenantStatus(std::string_view s);
std::optional<KeyStatus> ParseKeyStatus(std::string_view s);

struct Tenant {
  std::string id;  // ULID
  std::string name;
  TenantStatus status = TenantStatus::kActive;
  WallTime created_at;
  bool operator==(const Tenant&) const = default;
};

struct ApiKeyRecord {
  std::string key_id;  // ULID, public: what `admin key list|revoke` and logs name
  std::string tenant;  // Tenant::id
  std::string name;    // the operator's label, may be empty
  std::string prefix;  // the key's first characters ("otp_1a2b3c4d"), for humans
  std::string hash;    // lowercase hex SHA-256 of the whole key
  std::vector<std::string> scopes;
  KeyStatus status = KeyStatus::kActive;
  WallTime created_at;
  std::optional<WallTime> expires_at;
  std::optional<WallTime> revoked_at;
  std::optional<WallTime> last_used_at;
  std::int64_t use_count = 0;
  bool operator==(const ApiKeyRecord&) const = default;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  virtual Status CreateTenant(const Tenant& tenant) = 0;
  virtual Result<Tenant> GetTenant(const std::string& id) = 0;
  virtual Result<std::vector<Tenant>> ListTenants() = 0;
  virtual Result<Tenant> SetTenantStatus(const std::string& id, TenantStatus status) = 0;

  virtual Status CreateKey(const ApiKeyRecord& key) = 0;
  virtual Result<ApiKeyRecord> GetKey(const std::string& key_id) = 0;
  virtual Result<std::optional<ApiKeyRecord>> FindKeyByHash(const std::string& hash) = 0;
  // Every key, or the keys of one tenant.
  virtual Result<std::vector<ApiKeyRecord>> ListKeys(const std::optional<std::string>& tenant) = 0;
  virtual Result<ApiKeyRecord> RevokeKey(const std::string& key_id, WallTime at) = 0;
  virtual Status RecordUsage(const std::string& key_id, WallTime last_used, std::int64_t uses) = 0;
  virtual Result<bool> AnyKeys() = 0;
};

}  // namespace outpost
