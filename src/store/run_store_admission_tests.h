// The admission part of RunStoreConformance (store/run_store.h, CreateAll): quotas checked
// atomically with creation. Included by run_store_conformance.h only.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "common/time_util.h"
#include "store/run_store.h"

namespace outpost {
namespace admission_testing {

inline Admission Concurrent(int max, RunQuota::Scope scope = RunQuota::Scope::kTenant) {
  Admission a;
  a.concurrent = RunQuota{scope, max};
  return a;
}

inline Admission PerDay(int max, RunQuota::Scope scope = RunQuota::Scope::kTenant) {
  Admission a;
  a.per_day = RunQuota{scope, max};
  return a;
}

// The refusal as the contract has it: kResourceExhausted with details {quota, limit, current}.
inline void ExpectRefused(const Status& st, std::string_view quota, int limit, int current) {
  EXPECT_EQ(st.code(), Code::kResourceExhausted) << st.ToString();
  const auto& d = st.details();
  ASSERT_TRUE(d.contains("quota") && d.contains("limit") && d.contains("current")) << st.ToString();
  EXPECT_EQ(d.at("quota").as_string(), quota);
  EXPECT_EQ(d.at("limit").to_number<int>(), limit);
  EXPECT_EQ(d.at("current").to_number<int>(), current);
}

}  // namespace admission_testing

using namespace admission_testing;  // NOLINT: test-only helpers

TEST_P(RunStoreConformance, AdmissionBurstCreatesExactlyTheLimit) {
  constexpr int kBurst = 12, kLimit = 3;
  std::vector<Run> runs;
  for (int i = 0; i < kBurst; ++i) runs.push_back(NewRun());
  std::atomic<int> created{0}, refused{0}, other{0};
  std::latch start(kBurst);
  std::vector<std::thread> threads;
  for (const Run& r : runs) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      auto c = store_->CreateAll({r}, Concurrent(kLimit));
      if (c.ok()) {
        ++created;
      } else if (c.status().code() == Code::kResourceExhausted) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << c.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kLimit);
  EXPECT_EQ(refused.load(), kBurst - kLimit);
  EXPECT_EQ(other.load(), 0);
  auto active = store_->ListActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(active->size(), static_cast<std::size_t>(kLimit));
}

TEST_P(RunStoreConformance, AdmissionRefusalNamesTheQuotaAndCreatesNothing) {
  ASSERT_TRUE(store_->CreateAll({NewRun()}, Concurrent(1)).ok());
  Run second = NewRun();
  auto refused = store_->CreateAll({second}, Concurrent(1));
  ExpectRefused(refused.status(), kQuotaConcurrentRuns, 1, 1);
  EXPECT_EQ(store_->Get(second.id).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, AdmissionCountsPendingAndRunningAndTerminalWritesFreeRoom) {
  Run a = NewRun(), b = NewRun();
  ASSERT_TRUE(store_->CreateAll({a}, Concurrent(2)).ok());
  ASSERT_TRUE(store_->CreateAll({b}, Concurrent(2)).ok());
  a = *store_->Get(a.id);
  a.status = RunStatus::kRunning;  // queued or running: both occupy the quota
  a = MustUpdate(a);
  ExpectRefused(store_->CreateAll({NewRun()}, Concurrent(2)).status(), kQuotaConcurrentRuns, 2, 2);
  a.status = RunStatus::kCompleted;
  a.ended_at = clock_.Now();
  MustUpdate(a);
  b = *store_->Get(b.id);
  b.status = RunStatus::kCancelled;
  MustUpdate(b);
  Run c = NewRun(), d = NewRun();
  ASSERT_TRUE(store_->CreateAll({c}, Concurrent(2)).ok());
  ASSERT_TRUE(store_->CreateAll({d}, Concurrent(2)).ok());
  ExpectRefused(store_->CreateAll({NewRun()}, Concurrent(2)).status(), kQuotaConcurrentRuns, 2, 2);
}

TEST_P(RunStoreConformance, AdmissionIdempotentReplaysDoNotCount) {
  Run first = NewRun();
  first.idempotency_key = "k1";
  first.request_hash = "h1";
  Admission both = Concurrent(1);
  both.per_day = RunQuota{RunQuota::Scope::kTenant, 1};
  auto made = store_->CreateAll({first}, both);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(made->front().created);
  for (int i = 0; i < 3; ++i) {  // at the limit, yet a replay is answered with the stored run
    Run again = NewRun();
    again.idempotency_key = "k1";
    again.request_hash = "h1";
    again.created_at = first.created_at;
    auto replay = store_->CreateAll({again}, both);
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    EXPECT_FALSE(replay->front().created);
    EXPECT_EQ(replay->front().run.id, first.id);
  }
  first = *store_->Get(first.id);
  first.status = RunStatus::kCompleted;
  MustUpdate(first);
  // The replays did not raise the day's count: still 1, not 4.
  Run next = NewRun();
  next.created_at = first.created_at;
  ExpectRefused(store_->CreateAll({next}, both).status(), kQuotaRunsPerDay, 1, 1);
}

TEST_P(RunStoreConformance, AdmissionOfAFanOutIsWholeOrNothing) {
  ASSERT_TRUE(store_->CreateAll({NewRun()}, Concurrent(3)).ok());
  std::vector<Run> group;
  for (int i = 0; i < 3; ++i) {
    Run r = NewRun("agent-" + std::to_string(i));
    r.created_at = group.empty() ? r.created_at : group.front().created_at;
    r.group_id = "g1";
    group.push_back(r);
  }
  ExpectRefused(store_->CreateAll(group, Concurrent(3)).status(), kQuotaConcurrentRuns, 3, 1);
  for (const Run& r : group) EXPECT_EQ(store_->Get(r.id).status().code(), Code::kNotFound);
  group.pop_back();
  auto made = store_->CreateAll(group, Concurrent(3));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->size(), 2u);
  EXPECT_EQ((*made)[0].run.id, group[0].id);
  EXPECT_EQ((*made)[1].run.id, group[1].id);
  EXPECT_TRUE((*made)[0].created && (*made)[1].created);
  ExpectRefused(store_->CreateAll({NewRun()}, Concurrent(3)).status(), kQuotaConcurrentRuns, 3, 3);
}

TEST_P(RunStoreConformance, AdmissionPerDayCountsEachRunOfTheUtcDay) {
  // 23:59:00 UTC of some day; the next run a minute later is on the next day.
  const std::int64_t day = (ToMillis(clock_.Now()) / 86'400'000 + 1) * 86'400'000;
  auto at = [&](std::int64_t ms) {
    Run r = NewRun();
    r.created_at = FromMillis(ms);
    return r;
  };
  std::vector<Run> two{at(day - 60'000), at(day - 60'000)};
  two[1].group_id = two[0].group_id = "g";
  ASSERT_TRUE(store_->CreateAll(two, PerDay(3)).ok());  // a fan-out counts each run
  ExpectRefused(store_->CreateAll({at(day - 59'000), at(day - 59'000)}, PerDay(3)).status(),
                kQuotaRunsPerDay, 3, 2);
  Run third = at(day - 1);
  ASSERT_TRUE(store_->CreateAll({third}, PerDay(3)).ok());
  third = *store_->Get(third.id);
  third.status = RunStatus::kFailed;  // ending frees no daily quota
  MustUpdate(third);
  ExpectRefused(store_->CreateAll({at(day - 1)}, PerDay(3)).status(), kQuotaRunsPerDay, 3, 3);
  EXPECT_TRUE(store_->CreateAll({at(day)}, PerDay(3)).ok());  // a new UTC day
}

TEST_P(RunStoreConformance, AdmissionCountsEachTenantAndKeyApart) {
  auto of = [&](std::string tenant, std::string key) {
    Run r = NewRun();
    r.tenant = std::move(tenant);
    r.key_id = std::move(key);
    return r;
  };
  const auto kKey = RunQuota::Scope::kKey;
  ASSERT_TRUE(store_->CreateAll({of("a", "k1")}, Concurrent(1)).ok());
  ExpectRefused(store_->CreateAll({of("a", "k2")}, Concurrent(1)).status(), kQuotaConcurrentRuns, 1,
                1);
  EXPECT_TRUE(store_->CreateAll({of("b", "k3")}, Concurrent(1)).ok());  // another tenant
  // Key-scoped: only that key's runs count (tenant a has one run, key k2 none).
  EXPECT_TRUE(store_->CreateAll({of("a", "k2")}, Concurrent(1, kKey)).ok());
  ExpectRefused(store_->CreateAll({of("a", "k2")}, Concurrent(1, kKey)).status(),
                kQuotaConcurrentRuns, 1, 1);
  EXPECT_TRUE(store_->CreateAll({of("a", "k4")}, PerDay(1, kKey)).ok());
  ExpectRefused(store_->CreateAll({of("a", "k4")}, PerDay(1, kKey)).status(), kQuotaRunsPerDay, 1,
                1);
}

TEST_P(RunStoreConformance, AdmissionRejectsMalformedBatches) {
  EXPECT_EQ(store_->CreateAll({}, {}).status().code(), Code::kInvalidArgument);
  Run a = NewRun(), b = NewRun();
  b.tenant = "other";
  EXPECT_EQ(store_->CreateAll({a, b}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->CreateAll({a}, Concurrent(1, RunQuota::Scope::kKey)).status().code(),
            Code::kInvalidArgument);  // a key-scoped quota for a run without a key
  EXPECT_EQ(store_->Get(a.id).status().code(), Code::kNotFound);
}

TEST_P(RunStoreConformance, AdmissionWithNothingStaleReleasesNothing) {
  Run a = NewRun();
  ASSERT_TRUE(store_->CreateAll({a}, Concurrent(1)).ok());
  auto freed = store_->ReleaseStaleQuota();
  ASSERT_TRUE(freed.ok()) << freed.status().ToString();
  EXPECT_EQ(*freed, 0);
  ExpectRefused(store_->CreateAll({NewRun()}, Concurrent(1)).status(), kQuotaConcurrentRuns, 1, 1);
}

}  // namespace outpost
