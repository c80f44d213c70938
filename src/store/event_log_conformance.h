// EventLogConformance: the EventLog contract (store/event_log.h) as one value-parameterized gtest
// suite that every backend runs, instantiated with a factory whose every call returns a fresh,
// empty log:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, EventLogConformance,
//                            ::testing::Values(EventLogFactory(&NewTempSqliteEventLog)));
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

#include "store/event_log.h"

namespace outpost {

using EventLogFactory = std::function<std::unique_ptr<EventLog>()>;
inline void PrintTo(const EventLogFactory&, std::ostream* os) { *os << "EventLogFactory"; }

class EventLogConformance : public ::testing::TestWithParam<EventLogFactory> {
 protected:
  void SetUp() override {
    log_ = GetParam()();
    ASSERT_NE(log_, nullptr);
  }

  // An event as the runner writes it.
  static RunEvent Ev(std::int64_t seq, std::string_view type = "output",
                     const std::string& data = "x") {
    return {seq, std::string(type),
            "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"2026-12-06T10:00:00.000Z\",\"type\":\"" +
                std::string(type) + "\",\"data\":\"" + data + "\"}"};
  }
  static std::vector<RunEvent> Evs(std::int64_t first, std::int64_t last,
                                   const std::string& data = "x") {
    std::vector<RunEvent> v;
    for (std::int64_t s = first; s <= last; ++s) v.push_back(Ev(s, "output", data));
    return v;
  }

  EventAppend MustAppend(std::string_view run, const std::vector<RunEvent>& events) {
    auto r = log_->Append(run, events);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : EventAppend{};
  }
  std::vector<RunEvent> All(std::string_view run, std::int64_t after = 0) {
    std::vector<RunEvent> all;
    for (int i = 0; i < 100000; ++i) {
      auto b = log_->Read(run, after, 10000);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok() || b->events.empty()) break;
      after = b->events.back().seq;
      for (auto& e : b->events) all.push_back(std::move(e));
    }
    return all;
  }
  std::int64_t LastSeq(std::string_view run) {
    auto t = log_->Tail(run);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->last_seq : -1;
  }

  std::unique_ptr<EventLog> log_;
};

TEST_P(EventLogConformance, AnUnknownRunHasNoEvents) {
  auto b = log_->Read("r1", 0, 10);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->events.empty());
  EXPECT_FALSE(b->ended);
  auto t = log_->Tail("r1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->last_seq, 0);
  EXPECT_FALSE(t->ended);
}

TEST_P(EventLogConformance, AppendedEventsReadBackInOrderFromAnySeqWithALimit) {
  EXPECT_EQ(MustAppend("r1", Evs(1, 3)).stored, 3);
  EventAppend a = MustAppend("r1", Evs(4, 10));
  EXPECT_EQ(a.stored, 7);
  EXPECT_EQ(a.last_seq, 10);
  EXPECT_EQ(All("r1"), Evs(1, 10));
  auto b = log_->Read("r1", 4, 3);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events, Evs(5, 7));
  EXPECT_FALSE(b->ended);
  auto past = log_->Read("r1", 10, 5);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->events.empty());
  EXPECT_EQ(LastSeq("r1"), 10);
  // Runs are apart.
  EXPECT_EQ(LastSeq("r2"), 0);
  MustAppend("r2", Evs(1, 2, "other"));
  EXPECT_EQ(All("r2"), Evs(1, 2, "other"));
  EXPECT_EQ(All("r1"), Evs(1, 10));
}

TEST_P(EventLogConformance, AByteBudgetStillReturnsOneEvent) {
  MustAppend("r1", Evs(1, 5, std::string(1000, 'a')));
  auto b = log_->Read("r1", 0, 100, 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events, Evs(1, 1, std::string(1000, 'a')));
  auto two = log_->Read("r1", 0, 100, 2 * Ev(1, "output", std::string(1000, 'a')).json.size());
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->events.size(), 2u);
}

TEST_P(EventLogConformance, AGapIsRefusedWithTheNextExpectedSeqAndStoresNothing) {
  MustAppend("r1", Evs(1, 3));
  auto gap = log_->Append("r1", Evs(5, 6));
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(gap.status().details().contains("nextSeq"));
  EXPECT_EQ(gap.status().details().at("nextSeq").to_number<std::int64_t>(), 4);
  auto first = log_->Append("r9", Evs(2, 2));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().details().at("nextSeq").to_number<std::int64_t>(), 1);
  EXPECT_EQ(All("r1"), Evs(1, 3));
  EXPECT_EQ(LastSeq("r9"), 0);
}

TEST_P(EventLogConformance, AnIdenticalResendIsAcknowledgedAndAnOverlapStoresOnlyTheRest) {
  MustAppend("r1", Evs(1, 4));
  EventAppend again = MustAppend("r1", Evs(1, 4));
  EXPECT_EQ(again.stored, 0);
  EXPECT_EQ(again.last_seq, 4);
  EXPECT_EQ(MustAppend("r1", Evs(3, 3)).stored, 0);
  EventAppend overlap = MustAppend("r1", Evs(3, 7));
  EXPECT_EQ(overlap.stored, 3);
  EXPECT_EQ(overlap.last_seq, 7);
  EXPECT_EQ(All("r1"), Evs(1, 7));
}

TEST_P(EventLogConformance, AResendWithDifferentContentIsRefusedNeverDropped) {
  MustAppend("r1", Evs(1, 4));
  std::vector<RunEvent> changed = Evs(3, 6);
  changed[1] = Ev(4, "output", "different");  // seq 4 differs; 5 and 6 are new
  auto r = log_->Append("r1", changed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(r.status().details().at("seq").to_number<std::int64_t>(), 4);
  std::vector<RunEvent> other_type = {Ev(2, "phase")};
  EXPECT_EQ(log_->Append("r1", other_type).status().code(), Code::kConflict);
  EXPECT_EQ(All("r1"), Evs(1, 4));  // 5 and 6 were not stored either
}

TEST_P(EventLogConformance, NothingFollowsTheEnd) {
  std::vector<RunEvent> batch = Evs(1, 2);
  batch.push_back(Ev(3, event::kEnd));
  MustAppend("r1", batch);
  auto t = log_->Tail("r1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->last_seq, 3);
  EXPECT_TRUE(t->ended);
  auto b = log_->Read("r1", 1, 10);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events.size(), 2u);
  EXPECT_TRUE(b->ended);
  auto part = log_->Read("r1", 0, 2);
  ASSERT_TRUE(part.ok());
  EXPECT_FALSE(part->ended);  // the end was not returned
  auto after = log_->Append("r1", Evs(4, 4));
  EXPECT_EQ(after.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(MustAppend("r1", {Ev(3, event::kEnd)}).stored, 0);  // a resend is still fine
  EXPECT_EQ(LastSeq("r1"), 3);
}

TEST_P(EventLogConformance, BadBatchesAreRefusedAndStoreNothing) {
  MustAppend("r1", Evs(1, 1));
  auto bad = [&](std::vector<RunEvent> events, std::string_view run = "r1") {
    auto r = log_->Append(run, events);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  };
  bad({});
  bad({Ev(2), Ev(4)});
  bad({Ev(3), Ev(2)});
  bad({Ev(0)});
  bad({Ev(-1)});
  bad({Ev(2, "")});
  bad({Ev(2, "out\tput")});
  bad({Ev(2, std::string(kMaxEventTypeBytes + 1, 't'))});
  bad({{2, "output", ""}});
  bad({{2, "output", "{\n}"}});
  bad({Ev(2, event::kEnd), Ev(3)});
  bad({Ev(2)}, "");
  bad({Ev(2, "output", std::string(kMaxEventBytes, 'a'))});
  EXPECT_EQ(All("r1"), Evs(1, 1));
  EXPECT_EQ(log_->Read("r1", -1, 10).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(log_->Read("r1", 0, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(log_->Read("r1", 0, 10001).status().code(), Code::kInvalidArgument);
}

// Output far over an item's bound, in one batch and with events as large as allowed: read back
// byte for byte.
TEST_P(EventLogConformance, LargeOutputIsKeptWhole) {
  const std::string chunk(16 * 1024, 'b');
  MustAppend("r1", Evs(1, 40, chunk));  // ~640 KiB: several items
  const std::string big(kMaxEventBytes - 200, 'c');
  MustAppend("r1", {Ev(41, "output", big), Ev(42, "output", big)});
  std::vector<RunEvent> want = Evs(1, 40, chunk);
  want.push_back(Ev(41, "output", big));
  want.push_back(Ev(42, "output", big));
  EXPECT_EQ(All("r1"), want);
  EXPECT_EQ(All("r1", 39), std::vector<RunEvent>(want.begin() + 39, want.end()));
  EXPECT_EQ(MustAppend("r1", want).stored, 0);  // the whole story, resent
}

TEST_P(EventLogConformance, RemoveDeletesOneRunsEvents) {
  MustAppend("r1", Evs(1, 3));
  MustAppend("r2", Evs(1, 2));
  ASSERT_TRUE(log_->Remove("r1").ok());
  EXPECT_TRUE(All("r1").empty());
  EXPECT_EQ(LastSeq("r1"), 0);
  EXPECT_EQ(All("r2"), Evs(1, 2));
  EXPECT_TRUE(log_->Remove("r1").ok());
  EXPECT_TRUE(log_->Remove("never").ok());
}

// Writers racing with the same batches (a writer and its retry, two replicas copying one run):
// every batch is acknowledged and the stream holds each event once.
TEST_P(EventLogConformance, ConcurrentResendsStoreEachEventOnce) {
  constexpr int kWriters = 4;
  constexpr int kBatches = 25;
  std::vector<std::thread> writers;
  std::vector<int> failures(kWriters, 0);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        if (!log_->Append("r1", Evs(b * 4 + 1, b * 4 + 4)).ok()) ++failures[w];
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures, std::vector<int>(kWriters, 0));
  EXPECT_EQ(All("r1"), Evs(1, kBatches * 4));
}

}  // namespace outpost
