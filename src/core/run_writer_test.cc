#include "core/run_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/ids.h"
#include "core/auditor.h"
#include "model/run_state.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RunWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("run-writer-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_);
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    log_ = std::make_unique<SqliteAuditLog>(store_->connection());
    auditor_ = std::make_unique<Auditor>(*log_, clock_);
  }
  void TearDown() override { fs::remove_all(root_); }

  RunId Queued() {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(1ms);
    r.agent = "shell";
    r.model_id = "shell";
    r.task = "true";
    r.created_at = clock_.Now();
    EXPECT_TRUE(store_->Create(r).ok());
    return r.id;
  }
  std::vector<AuditRecord> Transitions() {
    AuditQuery q;
    q.action = std::string(audit_action::kStatusChanged);
    q.oldest_first = true;
    auto page = log_->List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->records : std::vector<AuditRecord>{};
  }

  std::string root_;
  SimulatedClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteAuditLog> log_;
  std::unique_ptr<Auditor> auditor_;
};

TEST_F(RunWriterTest, AppliesATransitionAndAuditsTheStatusChangeWithItsRequest) {
  RunWriter writer(*store_, auditor_.get());
  RunId id = Queued();
  RequestContext ctx;
  ctx.request_id = "req-1";
  auto stored = writer.Update(
      id,
      [&](outpost::Run& r) {
        return run_state::End(r, {RunStatus::kCancelled, reason::kCancelled, std::nullopt,
                                  clock_.Now(), ArtifactsState::kPending});
      },
      &ctx);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->status, RunStatus::kCancelled);
  EXPECT_EQ(stored->version, 1);
  EXPECT_EQ(store_->Get(id)->status, RunStatus::kCancelled);
  std::vector<AuditRecord> t = Transitions();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].resource, "run:" + id.str());
  EXPECT_EQ(t[0].request_id, "req-1");
}

TEST_F(RunWriterTest, AWriteThatKeepsTheStatusIsNotAudited) {
  RunWriter writer(*store_, auditor_.get());
  RunId id = Queued();
  auto stored = writer.Update(id, [](outpost::Run& r) {
    r.progress = 1;
    return Status::Ok();
  });
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(Transitions().empty());
}

TEST_F(RunWriterTest, ARefusedTransitionWritesNothingAndSaysWhy) {
  RunWriter writer(*store_, auditor_.get());
  RunId id = Queued();
  auto refused =
      writer.Update(id, [&](outpost::Run& r) { return run_state::MarkStarted(r, clock_.Now()); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("PENDING"), std::string::npos);
  EXPECT_EQ(store_->Get(id)->version, 0);
  EXPECT_TRUE(Transitions().empty());
  auto missing =
      writer.Update(RunId(NewUlid(clock_.Now())), [](outpost::Run&) { return Status::Ok(); });
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(RunWriterTest, ALostRaceIsReadAgainAndTheTransitionReappliedToTheWinnersCopy) {
  RunWriter writer(*store_, auditor_.get());
  RunId id = Queued();
  int calls = 0;
  auto stored = writer.Update(id, [&](outpost::Run& r) {
    if (++calls == 1) {
      // Another writer (a cancel) wins between this read and this write.
      outpost::Run other = *store_->Get(id);
      EXPECT_TRUE(run_state::RequestCancel(other, "racing", clock_.Now()).ok());
      EXPECT_TRUE(store_->Update(other).ok());
    }
    return run_state::Admit(r, "replica-a", clock_.Now());
  });
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(stored->status, RunStatus::kRunning);
  EXPECT_EQ(stored->cancel_reason, "racing");  // the winner's change is kept
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(Transitions().size(), 1u);  // audited once, for the write that won
}

TEST_F(RunWriterTest, ARaceLostToATerminalWriteEndsInTheTransitionsRefusal) {
  RunWriter writer(*store_);
  RunId id = Queued();
  auto stored = writer.Update(id, [&](outpost::Run& r) {
    if (r.status == RunStatus::kPending) {
      outpost::Run other = *store_->Get(id);
      EXPECT_TRUE(run_state::End(other, {RunStatus::kCancelled, reason::kCancelled, std::nullopt,
                                         clock_.Now(), ArtifactsState::kNone})
                      .ok());
      EXPECT_TRUE(store_->Update(other).ok());
    }
    return run_state::Admit(r, "replica-a", clock_.Now());
  });
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.status().code(), Code::kConflict);
  EXPECT_EQ(stored.status().details().at("currentStatus").as_string(), "CANCELLED");
  EXPECT_EQ(store_->Get(id)->status, RunStatus::kCancelled);
}

TEST_F(RunWriterTest, GivesUpAfterBoundedAttempts) {
  RunWriter writer(*store_);
  RunId id = Queued();
  int calls = 0;
  auto stored = writer.Update(id, [&](outpost::Run& r) {
    ++calls;
    outpost::Run other = *store_->Get(id);  // someone always wins first
    other.progress += 1;
    EXPECT_TRUE(store_->Update(other).ok());
    r.tags["mine"] = "1";
    return Status::Ok();
  });
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.status().code(), Code::kUnavailable);
  EXPECT_EQ(calls, RunWriter::kMaxAttempts);
  EXPECT_FALSE(store_->Get(id)->tags.count("mine"));
}

TEST_F(RunWriterTest, RacingWritersOnThreadsLoseNoUpdate) {
  RunWriter writer(*store_);
  RunId id = Queued();
  constexpr int kThreads = 3, kEach = 40;
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto stored = writer.Update(id, [](outpost::Run& r) {
          r.progress += 1;  // a counter: a lost update would show
          return Status::Ok();
        });
        if (stored.ok()) ++won;
      }
    });
  }
  for (auto& t : threads) t.join();
  outpost::Run final = *store_->Get(id);
  EXPECT_EQ(final.progress, won.load());
  EXPECT_EQ(final.version, won.load());
  EXPECT_GE(won.load(), kEach);
}

}  // namespace
}  // namespace outpost
