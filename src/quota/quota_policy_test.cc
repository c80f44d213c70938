#include "quota/quota_policy.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

QuotaOptions Example() {
  QuotaOptions q;
  q.defaults.max_concurrent_runs = 5;
  q.defaults.max_runs_per_day = 100;
  q.tenants["acme"].max_concurrent_runs = 20;
  q.tenants["acme"].requests_per_minute = 600;
  q.keys["k1"].max_concurrent_runs = 2;
  q.keys["k1"].max_runs_per_day = 0;  // set to unlimited: overrides the default's 100
  return q;
}

TEST(QuotaPolicy, TheMostSpecificLevelSetDecidesAndSaysWhatIsCounted) {
  const EffectiveQuotas k1 = ResolveQuotas(Example(), "acme", "k1");
  EXPECT_EQ(k1.concurrent_runs.value, 2);
  EXPECT_EQ(k1.concurrent_runs.scope, RunQuota::Scope::kKey);
  EXPECT_EQ(k1.concurrent_runs.source, "quotas.keys.k1");
  EXPECT_FALSE(k1.runs_per_day.limited());
  EXPECT_EQ(k1.runs_per_day.source, "quotas.keys.k1");
  EXPECT_EQ(k1.requests_per_minute.value, 600);
  EXPECT_EQ(k1.requests_per_minute.source, "quotas.tenants.acme");

  const EffectiveQuotas other = ResolveQuotas(Example(), "acme", "k2");
  EXPECT_EQ(other.concurrent_runs.value, 20);
  EXPECT_EQ(other.concurrent_runs.scope, RunQuota::Scope::kTenant);
  EXPECT_EQ(other.runs_per_day.value, 100);
  EXPECT_EQ(other.runs_per_day.source, "quotas");

  const EffectiveQuotas plain = ResolveQuotas(Example(), "default", "");
  EXPECT_EQ(plain.concurrent_runs.value, 5);
  EXPECT_FALSE(plain.timeout_seconds.limited());
  EXPECT_EQ(plain.timeout_seconds.source, "");
}

TEST(QuotaPolicy, AdmissionCarriesOnlyTheLimitedOnes) {
  Admission a = AdmissionFor(ResolveQuotas(Example(), "acme", "k1"));
  ASSERT_TRUE(a.concurrent.has_value());
  EXPECT_EQ(a.concurrent->max, 2);
  EXPECT_EQ(a.concurrent->scope, RunQuota::Scope::kKey);
  EXPECT_FALSE(a.per_day.has_value());
  EXPECT_TRUE(AdmissionFor(ResolveQuotas(QuotaOptions{}, "default", "")).empty());
}

TEST(QuotaPolicy, RateBucketsArePerKeyElsePerTenant) {
  EXPECT_EQ(RateBucket("acme", "k1"), "key:k1");
  EXPECT_EQ(RateBucket("acme", ""), "tenant:acme");
}

}  // namespace
}  // namespace outpost
