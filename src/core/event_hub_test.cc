#include "core/event_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "store/sqlite/sqlite_event_log.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

RunEvent Ev(std::int64_t seq) {
  return {seq, "phase",
          "{\"seq\":" + std::to_string(seq) + R"(,"ts":"t","type":"phase","phase":"running"})"};
}

class EventHubTest : public ::testing::Test {
 protected:
  void Append(const std::string& run, std::int64_t seq) {
    ASSERT_TRUE(log_->Append(run, {Ev(seq)}).ok());
  }
  // Polls what is due after `d`.
  void After(Millis d) {
    clock_.Advance(d);
    hub_.PollDue();
  }

  testing::TempDir tmp_{"ehub"};
  SimulatedClock clock_;
  std::unique_ptr<SqliteEventLog> log_ = SqliteEventLog::Open(tmp_.path() + "/runs.db").value();
  EventHub hub_{*log_, clock_};
};

// 100 followers of one run cost one Tail per poll, not 100; every one is woken when the log
// moves; the poll backs off from 25 ms to 1 s while nothing happens.
TEST_F(EventHubTest, OneWatcherPerRunHoweverManyFollowersWithAnAdaptivePoll) {
  std::atomic<int> wakes{0};
  std::vector<std::unique_ptr<EventHub::Subscription>> subs;
  for (int i = 0; i < 100; ++i) subs.push_back(hub_.Subscribe("r1", [&] { ++wakes; }));
  EXPECT_EQ(hub_.watched(), 1u);
  hub_.PollDue();  // the first look: where the log stands
  EXPECT_EQ(hub_.tail_calls(), 1);
  EXPECT_EQ(wakes, 100);
  // Idle: 25, 50, 100, 200, 400, 800 ms, then every second.
  wakes = 0;
  std::int64_t calls = hub_.tail_calls();
  for (Millis step : {Millis(25), Millis(50), Millis(100), Millis(200), Millis(400), Millis(800),
                      Millis(1000), Millis(1000)}) {
    After(step - Millis(1));
    EXPECT_EQ(hub_.tail_calls(), calls) << "polled before " << step.count() << " ms";
    After(Millis(1));
    EXPECT_EQ(hub_.tail_calls(), ++calls) << "not polled after " << step.count() << " ms";
  }
  EXPECT_EQ(wakes, 0);
  // Another replica appends: seen at the next poll, and the poll is fast again.
  Append("r1", 1);
  After(Millis(1000));
  EXPECT_EQ(wakes, 100);
  EXPECT_EQ(hub_.tail_calls(), ++calls);
  After(Millis(25));
  EXPECT_EQ(hub_.tail_calls(), ++calls);
  // An idle minute costs about 60 Tail calls for the 100 followers together.
  const std::int64_t before = hub_.tail_calls();
  for (int i = 0; i < 60 * 40; ++i) After(Millis(25));
  EXPECT_LE(hub_.tail_calls() - before, 66);
  EXPECT_GE(hub_.tail_calls() - before, 58);
  // The last follower gone: the run is not polled any more.
  subs.clear();
  EXPECT_EQ(hub_.watched(), 0u);
  EXPECT_EQ(hub_.PollDue(), MonoTime::max());
}

// A local appender's Notify wakes the run's followers at once, without a store call, and only
// those of that run; followers of 100 runs cost one Tail per run per poll.
TEST_F(EventHubTest, NotifyWakesAtOnceWithoutAStoreCallAndEachRunIsPolledOnce) {
  std::vector<int> wakes(100, 0);
  std::vector<std::unique_ptr<EventHub::Subscription>> subs;
  for (int i = 0; i < 100; ++i) {
    subs.push_back(hub_.Subscribe("run" + std::to_string(i), [&wakes, i] { ++wakes[i]; }));
  }
  hub_.PollDue();
  EXPECT_EQ(hub_.tail_calls(), 100);
  std::fill(wakes.begin(), wakes.end(), 0);
  Append("run7", 1);
  hub_.Notify("run7", 1);
  EXPECT_EQ(wakes[7], 1);
  EXPECT_EQ(wakes[8], 0);
  EXPECT_EQ(hub_.tail_calls(), 100);
  // The poll after it finds what Notify said: no second wake for the same event.
  After(Millis(25));
  EXPECT_EQ(wakes[7], 1);
  hub_.Notify("nobody-follows-this", 3);  // ignored
  EXPECT_EQ(hub_.watched(), 100u);
}

// With its thread: a follower subscribed on one thread is woken by an append another thread
// notifies, and by one it only finds by polling (the clock advanced past the poll).
TEST_F(EventHubTest, TheThreadPollsOnTheClockAndWakesFollowers) {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  auto sub = hub_.Subscribe("r", [&] {
    std::lock_guard lock(mu);
    ++wakes;
    cv.notify_all();
  });
  hub_.Start();
  auto await_wakes = [&](int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return wakes >= n; });
  };
  ASSERT_TRUE(await_wakes(1));  // the first look
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  Append("r", 1);
  clock_.Advance(Millis(25));
  ASSERT_TRUE(await_wakes(2));
  hub_.Notify("r", 1);
  ASSERT_TRUE(await_wakes(3));
  hub_.Stop();
}

}  // namespace
}  // namespace outpost
