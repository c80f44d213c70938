// Test support: an AuthStore (a real SQLite one in a temp file) behind a wrapper that counts the
// reads the verifier cares about and fails on demand — the seam for testing caches and store
// outages without a fake of the store's logic.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "store/auth_store.h"
#include "store/sqlite/sqlite_auth_store.h"
#include "testing/temp_dir.h"

namespace outpost::auth::testing {

class CountingAuthStore final : public AuthStore {
 public:
  CountingAuthStore() {
    auto store = SqliteAuthStore::Open(dir_.Join("outpost.db"));
    if (!store.ok()) std::abort();
    inner_ = std::move(*store);
  }
  ~CountingAuthStore() override { inner_.reset(); }

  std::atomic<int> finds{0}, tenant_reads{0}, any_reads{0}, usage_writes{0};
  std::atomic<bool> fail{false};  // every call answers kUnavailable

  Status CreateTenant(const Tenant& t) override {
    return Gate() ? Down() : inner_->CreateTenant(t);
  }
  Result<Tenant> GetTenant(const std::string& id) override {
    ++tenant_reads;
    if (Gate()) return Down();
    return inner_->GetTenant(id);
  }
  Result<std::vector<Tenant>> ListTenants() override {
    if (Gate()) return Down();
    return inner_->ListTenants();
  }
  Result<Tenant> SetTenantStatus(const std::string& id, TenantStatus s) override {
    if (Gate()) return Down();
    return inner_->SetTenantStatus(id, s);
  }
  Status CreateKey(const ApiKeyRecord& k) override {
    return Gate() ? Down() : inner_->CreateKey(k);
  }
  Result<ApiKeyRecord> GetKey(const std::string& id) override {
    if (Gate()) return Down();
    return inner_->GetKey(id);
  }
  Result<std::optional<ApiKeyRecord>> FindKeyByHash(const std::string& hash) override {
    ++finds;
    if (Gate()) return Down();
    return inner_->FindKeyByHash(hash);
  }
  Result<std::vector<ApiKeyRecord>> ListKeys(const std::optional<std::string>& t) override {
    if (Gate()) return Down();
    return inner_->ListKeys(t);
  }
  Result<ApiKeyRecord> RevokeKey(const std::string& id, WallTime at) override {
    if (Gate()) return Down();
    return inner_->RevokeKey(id, at);
  }
  Status RecordUsage(const std::string& id, WallTime last, std::int64_t uses) override {
    ++usage_writes;
    return Gate() ? Down() : inner_->RecordUsage(id, last, uses);
  }
  Result<bool> AnyKeys() override {
    ++any_reads;
    if (Gate()) return Down();
    return inner_->AnyKeys();
  }

 private:
  bool Gate() const { return fail.load(); }
  static Status Down() { return Unavailable("auth store is down (test)"); }

  outpost::testing::TempDir dir_{"outpost-auth-test",
                                 std::filesystem::temp_directory_path().string()};
  std::unique_ptr<SqliteAuthStore> inner_;
};

}  // namespace outpost::auth::testing
