// Replicas on simulated time: the heartbeat (a PeriodicTask on the clock) writes a record every
// lease/3 and no sooner, and another replica judges it by the lease — live while its heartbeat
// is younger, lost once it is not.
#include "core/replicas.h"

#include <gtest/gtest.h>

#include <chrono>

#include "store/sqlite/sqlite_run_store.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using namespace std::chrono_literals;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteRunStore::Open(dir_.Join("runs.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // The stored heartbeat of `id` (nullopt: no record).
  std::optional<WallTime> HeartbeatOf(const std::string& id) {
    auto all = store_->ListReplicas();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (!all.ok()) return std::nullopt;
    for (const ReplicaInfo& r : *all) {
      if (r.id == id) return r.heartbeat_at;
    }
    return std::nullopt;
  }
  // Waits (in real time, bounded) until the stored heartbeat of `id` is `at`.
  bool AwaitHeartbeat(const std::string& id, WallTime at) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (HeartbeatOf(id) == at) return true;
      std::this_thread::yield();
    }
    return false;
  }

  testing::TempDir dir_{"replicas"};
  std::unique_ptr<SqliteRunStore> store_;
  SimulatedClock clock_;
};

TEST_F(ReplicasTest, TheHeartbeatBeatsEveryThirdOfTheLeaseOnTheClock) {
  Replicas a(*store_, clock_, "replica-a", /*lease_seconds=*/30, /*capacity=*/4, [] { return 2; });
  const WallTime t0 = clock_.Now();
  a.StartHeartbeat();
  ASSERT_TRUE(AwaitHeartbeat("replica-a", t0));  // the first beat is at start
  ASSERT_TRUE(clock_.AwaitBlocked(1));           // then it waits on the clock

  clock_.Advance(9999ms);  // not yet a third of the lease
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(HeartbeatOf("replica-a"), t0);

  clock_.Advance(1ms);
  EXPECT_TRUE(AwaitHeartbeat("replica-a", t0 + 10s));
  a.StopHeartbeat();
  clock_.Advance(60s);
  EXPECT_EQ(HeartbeatOf("replica-a"), t0 + 10s);  // stopped: no more beats
}

TEST_F(ReplicasTest, AnotherReplicaIsLiveUntilItsHeartbeatIsALeaseOld) {
  Replicas a(*store_, clock_, "replica-a", 30, 4, nullptr);
  Replicas b(*store_, clock_, "replica-b", 30, 4, nullptr);
  a.Beat();
  b.Beat();
  EXPECT_TRUE(b.OwnedByLiveOther("replica-a"));
  EXPECT_FALSE(b.OwnedByLiveOther("replica-b"));  // its own runs are its own business

  clock_.Advance(29s);  // a is silent, but its lease has not run out
  EXPECT_TRUE(b.OwnedByLiveOther("replica-a"));
  clock_.Advance(2s);  // now it has: judged on a fresh read
  EXPECT_FALSE(b.OwnedByLiveOther("replica-a"));

  a.Beat();  // back
  clock_.Advance(1s);
  EXPECT_TRUE(b.OwnedByLiveOther("replica-a"));
}

}  // namespace
}  // namespace outpost
