// KeyVerifier over a real SQLite AuthStore, with a simulated clock: the caches' bounds to the
// millisecond, exact expiry, usage batching and store outages.
#include "auth/key_verifier.h"

#include <gtest/gtest.h>

#include "auth/admin_service.h"
#include "auth/api_key.h"
#include "auth/testing/counting_auth_store.h"
#include "common/time_util.h"

namespace outpost::auth {
namespace {

using testing::CountingAuthStore;

class KeyVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = admin_.CreateTenant("acme");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tenant_ = *t;
    auto k = admin_.CreateKey({tenant_.id, std::vector<std::string>{"status", "list"}, "ci", {}});
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    key_ = *k;
    store_.finds = 0;
    store_.tenant_reads = 0;
  }

  KeyCheck Check(const std::string& key) {
    auto v = verifier_.Verify(key);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->check : KeyCheck::kUnknown;
  }

  SimulatedClock clock_;
  CountingAuthStore store_;
  AdminService admin_{store_, clock_};
  KeyVerifier verifier_{store_, clock_};
  Tenant tenant_;
  CreatedKey key_;
};

TEST_F(KeyVerifierTest, AValidKeyGivesItsTenantAndScopes) {
  auto v = verifier_.Verify(key_.key);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->check, KeyCheck::kOk);
  EXPECT_EQ(v->tenant, tenant_.id);
  EXPECT_EQ(v->key_id, key_.record.key_id);
  EXPECT_EQ(v->scopes, (std::vector<std::string>{"status", "list"}));
}

TEST_F(KeyVerifierTest, AMalformedKeyNeverReachesTheStore) {
  EXPECT_EQ(Check("otp_short"), KeyCheck::kMalformed);
  EXPECT_EQ(Check("Bearer " + key_.key), KeyCheck::kMalformed);
  EXPECT_EQ(Check(key_.key + " "), KeyCheck::kMalformed);
  EXPECT_EQ(store_.finds, 0);
}

TEST_F(KeyVerifierTest, AVerifiedKeyIsReadFromTheStoreOncePerTtl) {
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  EXPECT_EQ(store_.finds, 1);
  EXPECT_EQ(store_.tenant_reads, 1);
  clock_.Advance(Millis(4999));
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  EXPECT_EQ(store_.finds, 1);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  EXPECT_EQ(store_.finds, 2);
}

TEST_F(KeyVerifierTest, AnUnknownKeyIsCachedSoRepeatsCostNoStoreRead) {
  const std::string garbage = GenerateApiKey();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Check(garbage), KeyCheck::kUnknown);
  EXPECT_EQ(store_.finds, 1);
  clock_.Advance(Millis(5000));
  EXPECT_EQ(Check(garbage), KeyCheck::kUnknown);
  EXPECT_EQ(store_.finds, 2);
}

TEST_F(KeyVerifierTest, RevocationTakesEffectWithinTheCacheTtl) {
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  ASSERT_TRUE(admin_.RevokeKey(key_.record.key_id).ok());
  clock_.Advance(Millis(4999));
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);  // the bound, not sooner: it is cached
  clock_.Advance(Millis(1));
  EXPECT_EQ(Check(key_.key), KeyCheck::kRevoked);
}

TEST_F(KeyVerifierTest, ASuspendedTenantsKeysStopWithinTheCacheTtl) {
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  ASSERT_TRUE(admin_.SuspendTenant(tenant_.id).ok());
  clock_.Advance(Millis(5000));
  EXPECT_EQ(Check(key_.key), KeyCheck::kTenantSuspended);
  ASSERT_TRUE(admin_.ActivateTenant(tenant_.id).ok());
  clock_.Advance(Millis(5000));
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
}

TEST_F(KeyVerifierTest, ExpiryIsExactEvenWhileCached) {
  auto k = admin_.CreateKey({tenant_.id, std::nullopt, "", clock_.Now() + Millis(2000)});
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(Check(k->key), KeyCheck::kOk);
  clock_.Advance(Millis(1999));
  EXPECT_EQ(Check(k->key), KeyCheck::kOk);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Check(k->key), KeyCheck::kExpired);
}

TEST_F(KeyVerifierTest, UsageIsBatchedIntoOneWritePerKeyPerFlush) {
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(Millis(10));
    EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  }
  const WallTime last = clock_.Now();
  EXPECT_EQ(Check("otp_nope"), KeyCheck::kMalformed);  // refusals are not uses
  EXPECT_EQ(store_.usage_writes, 0);
  ASSERT_TRUE(verifier_.Flush().ok());
  EXPECT_EQ(store_.usage_writes, 1);
  auto stored = store_.GetKey(key_.record.key_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->use_count, 7);
  EXPECT_EQ(stored->last_used_at, FromMillis(ToMillis(last)));
  ASSERT_TRUE(verifier_.Flush().ok());
  EXPECT_EQ(store_.usage_writes, 1);  // nothing new: no write
}

TEST_F(KeyVerifierTest, AFailedFlushKeepsTheUsesForTheNextOne) {
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  store_.fail = true;
  EXPECT_EQ(verifier_.Flush().code(), Code::kUnavailable);
  store_.fail = false;
  EXPECT_EQ(Check(key_.key), KeyCheck::kOk);
  ASSERT_TRUE(verifier_.Flush().ok());
  EXPECT_EQ(store_.GetKey(key_.record.key_id)->use_count, 3);
}

TEST_F(KeyVerifierTest, StopFlushesWhatIsPending) {
  {
    KeyVerifier v(store_, clock_);
    v.Start();
    ASSERT_TRUE(v.Verify(key_.key).ok());
    v.Stop();
  }
  EXPECT_EQ(store_.GetKey(key_.record.key_id)->use_count, 1);
}

// The flusher thread on simulated time: usage reaches the store one flush_interval after Start,
// not a millisecond before, and every interval after that.
TEST_F(KeyVerifierTest, TheFlusherWritesUsageEveryFlushIntervalOnTheClock) {
  KeyVerifierOptions o;
  o.flush_interval = Millis(5000);
  KeyVerifier v(store_, clock_, o);
  v.Start();
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // no flush at start: the first is an interval later
  EXPECT_EQ(clock_.NextDeadline(), clock_.Mono() + Millis(5000));
  ASSERT_TRUE(v.Verify(key_.key).ok());
  clock_.Advance(Millis(4999));
  EXPECT_EQ(clock_.blocked(), 1u);
  EXPECT_EQ(store_.usage_writes, 0);
  clock_.Advance(Millis(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // that flush is over
  EXPECT_EQ(store_.usage_writes, 1);
  EXPECT_EQ(store_.GetKey(key_.record.key_id)->use_count, 1);
  ASSERT_TRUE(v.Verify(key_.key).ok());
  ASSERT_TRUE(v.Verify(key_.key).ok());
  clock_.Advance(Millis(5000));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(store_.usage_writes, 2);  // one write per key per flush
  EXPECT_EQ(store_.GetKey(key_.record.key_id)->use_count, 3);
  v.Stop();
  EXPECT_EQ(clock_.blocked(), 0u);
  v.Start();  // a stopped verifier stays stopped
  EXPECT_FALSE(clock_.AwaitBlocked(1, Millis(50)));
}

TEST_F(KeyVerifierTest, AStoreOutageIsAnErrorAndNotCached) {
  const std::string other = GenerateApiKey();
  store_.fail = true;
  auto v = verifier_.Verify(other);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kUnavailable);
  store_.fail = false;
  EXPECT_EQ(Check(other), KeyCheck::kUnknown);
  EXPECT_EQ(store_.finds, 2);
}

TEST_F(KeyVerifierTest, AKeyOfAMissingTenantIsRefused) {
  ApiKeyRecord orphan = key_.record;
  const std::string raw = GenerateApiKey();
  orphan.key_id = "01ORPHAN000000000000000000";
  orphan.tenant = "01NOTENANT0000000000000000";
  orphan.hash = Sha256Hex(raw);
  ASSERT_TRUE(store_.CreateKey(orphan).ok());
  EXPECT_EQ(Check(raw), KeyCheck::kTenantUnknown);
}

TEST(KeyVerifierOpenMode, NoKeysIsRecheckedEverySecondAndKeysAreSticky) {
  SimulatedClock clock;
  CountingAuthStore store;
  KeyVerifier verifier(store, clock);
  EXPECT_FALSE(*verifier.KeysExist());
  EXPECT_FALSE(*verifier.KeysExist());
  EXPECT_EQ(store.any_reads, 1);
  AdminService admin(store, clock);
  auto t = admin.CreateTenant("acme");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(admin.CreateKey({t->id, std::nullopt, "", std::nullopt}).ok());
  clock.Advance(Millis(999));
  EXPECT_FALSE(*verifier.KeysExist());  // the documented window
  clock.Advance(Millis(1));
  EXPECT_TRUE(*verifier.KeysExist());
  EXPECT_EQ(store.any_reads, 2);
  clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(*verifier.KeysExist());
  EXPECT_EQ(store.any_reads, 2);  // sticky: keys are never deleted
}

TEST(KeyVerifierOpenMode, AValidKeyEndsOpenModeAtOnce) {
  SimulatedClock clock;
  CountingAuthStore store;
  KeyVerifier verifier(store, clock);
  EXPECT_FALSE(*verifier.KeysExist());
  AdminService admin(store, clock);
  auto t = admin.CreateTenant("acme");
  auto k = admin.CreateKey({t->id, std::nullopt, "", std::nullopt});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(verifier.Verify(k->key)->check, KeyCheck::kOk);
  EXPECT_TRUE(*verifier.KeysExist());
}

TEST(KeyVerifierOpenMode, AStoreOutageIsReported) {
  SimulatedClock clock;
  CountingAuthStore store;
  KeyVerifier verifier(store, clock);
  store.fail = true;
  EXPECT_EQ(verifier.KeysExist().status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace outpost::auth
