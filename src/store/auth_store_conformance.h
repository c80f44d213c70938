// AuthStoreConformance: the AuthStore contract (store/auth_store.h) as one value-parameterized
// gtest suite that every backend runs. A backend's test instantiates it with a factory whose
// every call returns a fresh, empty store:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, AuthStoreConformance,
//                            ::testing::Values(AuthStoreFactory(&NewTempSqliteAuthStore)));
//
// The header defines tests: include it from exactly one .cc per test binary.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/auth_store.h"

namespace outpost {

using AuthStoreFactory = std::function<std::unique_ptr<AuthStore>()>;

inline void PrintTo(const AuthStoreFactory&, std::ostream* os) { *os << "AuthStoreFactory"; }

class AuthStoreConformance : public ::testing::TestWithParam<AuthStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr);
  }

  // Ids and times strictly increase (whole milliseconds, the precision records are kept with).
  WallTime Tick() {
    clock_.Advance(std::chrono::seconds(1));
    return clock_.Now();
  }

  Tenant NewTenant(std::string name = "acme") {
    WallTime t = Tick();
    return Tenant{NewUlid(t), std::move(name), TenantStatus::kActive, t};
  }

  ApiKeyRecord NewKey(const std::string& tenant) {
    WallTime t = Tick();
    ApiKeyRecord k;
    k.key_id = NewUlid(t);
    k.tenant = tenant;
    k.name = "ci";
    k.hash = std::string(64 - k.key_id.size(), '0') + k.key_id;  // unique, as a digest is
    k.prefix = "otp_" + k.key_id.substr(0, 8);
    k.scopes = {"dispatch", "status"};
    k.created_at = t;
    return k;
  }

  // A key with every optional field set.
  ApiKeyRecord FullKey(const std::string& tenant) {
    ApiKeyRecord k = NewKey(tenant);
    k.scopes = {"dispatch", "status", "list", "cancel", "admin"};
    k.expires_at = k.created_at + std::chrono::hours(24);
    k.last_used_at = k.created_at + std::chrono::seconds(5);
    k.use_count = 7;
    return k;
  }

  SimulatedClock clock_;
  std::unique_ptr<AuthStore> store_;
};

TEST_P(AuthStoreConformance, TenantRoundTripsAndIsNeverOverwritten) {
  Tenant t = NewTenant();
  ASSERT_TRUE(store_->CreateTenant(t).ok());
  auto got = store_->GetTenant(t.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, t);

  Tenant other = t;
  other.name = "someone else";
  EXPECT_EQ(store_->CreateTenant(other).code(), Code::kConflict);
  EXPECT_EQ(store_->GetTenant(t.id)->name, "acme");
  EXPECT_EQ(store_->GetTenant(NewUlid(Tick())).status().code(), Code::kNotFound);
}

TEST_P(AuthStoreConformance, TenantsAreListedInIdOrder) {
  auto empty = store_->ListTenants();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  Tenant a = NewTenant("a"), b = NewTenant("b"), c = NewTenant("c");
  for (const Tenant* t : {&b, &c, &a}) ASSERT_TRUE(store_->CreateTenant(*t).ok());
  auto list = store_->ListTenants();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], a);
  EXPECT_EQ((*list)[1], b);
  EXPECT_EQ((*list)[2], c);
}

TEST_P(AuthStoreConformance, SuspendingATenantChangesOnlyItsStatus) {
  Tenant t = NewTenant();
  ASSERT_TRUE(store_->CreateTenant(t).ok());
  auto suspended = store_->SetTenantStatus(t.id, TenantStatus::kSuspended);
  ASSERT_TRUE(suspended.ok()) << suspended.status().ToString();
  EXPECT_EQ(suspended->status, TenantStatus::kSuspended);
  EXPECT_EQ(suspended->name, t.name);
  EXPECT_EQ(suspended->created_at, t.created_at);
  EXPECT_EQ(store_->GetTenant(t.id)->status, TenantStatus::kSuspended);
  EXPECT_EQ(store_->SetTenantStatus(t.id, TenantStatus::kActive)->status, TenantStatus::kActive);
  EXPECT_EQ(store_->SetTenantStatus(NewUlid(Tick()), TenantStatus::kSuspended).status().code(),
            Code::kNotFound);
}

TEST_P(AuthStoreConformance, KeyWithEveryFieldRoundTrips) {
  ApiKeyRecord k = FullKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  auto got = store_->GetKey(k.key_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, k);
  auto found = store_->FindKeyByHash(k.hash);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, k);
}

TEST_P(AuthStoreConformance, KeyWithoutOptionalFieldsRoundTrips) {
  ApiKeyRecord k = NewKey("tenant-1");
  k.name = "";
  k.scopes = {"list"};
  ASSERT_TRUE(store_->CreateKey(k).ok());
  auto got = store_->GetKey(k.key_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, k);
  EXPECT_FALSE(got->expires_at.has_value());
  EXPECT_FALSE(got->last_used_at.has_value());
  EXPECT_EQ(got->use_count, 0);
}

TEST_P(AuthStoreConformance, UnknownKeysAreNotFound) {
  auto found = store_->FindKeyByHash(std::string(64, 'a'));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(store_->GetKey(NewUlid(Tick())).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->RevokeKey(NewUlid(Tick()), Tick()).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->RecordUsage(NewUlid(Tick()), Tick(), 1).code(), Code::kNotFound);
}

TEST_P(AuthStoreConformance, KeyIsNeverOverwritten) {
  ApiKeyRecord k = NewKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  ApiKeyRecord again = k;
  again.tenant = "tenant-2";
  again.hash = std::string(64, 'b');
  EXPECT_EQ(store_->CreateKey(again).code(), Code::kConflict);
  EXPECT_EQ(store_->GetKey(k.key_id)->tenant, "tenant-1");
}

TEST_P(AuthStoreConformance, KeysAreListedAllOrPerTenantInIdOrder) {
  ApiKeyRecord a1 = NewKey("a"), b1 = NewKey("b"), a2 = NewKey("a");
  for (const ApiKeyRecord* k : {&a2, &b1, &a1}) ASSERT_TRUE(store_->CreateKey(*k).ok());
  auto all = store_->ListKeys(std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key_id, a1.key_id);
  EXPECT_EQ((*all)[1].key_id, b1.key_id);
  EXPECT_EQ((*all)[2].key_id, a2.key_id);
  auto of_a = store_->ListKeys(std::string("a"));
  ASSERT_TRUE(of_a.ok());
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0], a1);
  EXPECT_EQ((*of_a)[1], a2);
  EXPECT_TRUE(store_->ListKeys(std::string("nobody"))->empty());
}

TEST_P(AuthStoreConformance, RevokedKeyStaysRevokedWithItsFirstRevocationTime) {
  ApiKeyRecord k = NewKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  WallTime first = Tick();
  auto revoked = store_->RevokeKey(k.key_id, first);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->status, KeyStatus::kRevoked);
  EXPECT_EQ(revoked->revoked_at, first);
  auto again = store_->RevokeKey(k.key_id, Tick());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revoked_at, first);
  auto found = store_->FindKeyByHash(k.hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->status, KeyStatus::kRevoked);
  EXPECT_EQ((*found)->scopes, k.scopes);
}

TEST_P(AuthStoreConformance, UsageAddsUpAndLastUsedNeverGoesBack) {
  ApiKeyRecord k = NewKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  WallTime early = Tick(), late = Tick();
  ASSERT_TRUE(store_->RecordUsage(k.key_id, late, 3).ok());
  ASSERT_TRUE(store_->RecordUsage(k.key_id, early, 2).ok());  // an older flush arriving late
  auto got = store_->GetKey(k.key_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->use_count, 5);
  EXPECT_EQ(got->last_used_at, late);
}

TEST_P(AuthStoreConformance, ConcurrentUsageIsNotLost) {
  ApiKeyRecord k = NewKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  const WallTime t = Tick();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 5; ++j) {
        EXPECT_TRUE(
            store_->RecordUsage(k.key_id, t + std::chrono::milliseconds(i * 10 + j), 1).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto got = store_->GetKey(k.key_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->use_count, 20);
  EXPECT_EQ(got->last_used_at, t + std::chrono::milliseconds(34));
}

TEST_P(AuthStoreConformance, AnyKeysCountsRevokedKeysToo) {
  auto none = store_->AnyKeys();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(store_->CreateTenant(NewTenant()).ok());
  EXPECT_FALSE(*store_->AnyKeys());  // tenants alone are not keys
  ApiKeyRecord k = NewKey("tenant-1");
  ASSERT_TRUE(store_->CreateKey(k).ok());
  EXPECT_TRUE(*store_->AnyKeys());
  ASSERT_TRUE(store_->RevokeKey(k.key_id, Tick()).ok());
  EXPECT_TRUE(*store_->AnyKeys());
}

}  // namespace outpost
