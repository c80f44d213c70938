#include "core/retention.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "artifacts/local/local_artifact_store.h"
#include "common/files.h"
#include "common/ids.h"
#include "runner/process_runner.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {
namespace fs = std::filesystem;
using std::chrono::hours;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("retention-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_ + "/runs");
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto signer = artifacts::UrlSigner::LoadOrCreate(root_);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    auto a = artifacts::LocalArtifactStore::Open(
        root_ + "/artifacts", *signer, [] { return std::string("http://x"); }, {/*durable=*/false});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    artifacts_ = std::move(*a);
    runner_ = std::make_unique<ProcessRunner>(root_ + "/runs", "/bin/true", clock_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A run created now, ended `ended_ago` before the clock's now (nullopt: still running), with a
  // run dir and one artifact.
  RunId MakeRun(std::optional<hours> ended_ago,
                ArtifactsState artifacts_state = ArtifactsState::kStored) {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(std::chrono::milliseconds(1));
    r.agent = r.model_id = "shell";
    r.task = "t";
    r.created_at = clock_.Now() - hours(24 * 400);
    EXPECT_TRUE(store_->Create(r).ok());
    if (ended_ago) {
      r.status = RunStatus::kCompleted;
      r.ended_at = clock_.Now() - *ended_ago;
      r.artifacts_state = artifacts_state;
    } else {
      r.status = RunStatus::kRunning;
    }
    EXPECT_TRUE(store_->Update(r).ok());
    fs::create_directories(RunDir(r.id) + "/workspace");
    EXPECT_TRUE(WriteFileAtomic(RunDir(r.id) + "/stdout.log", "out").ok());
    EXPECT_TRUE(
        artifacts_->Put("dispatches/" + r.id.str() + "/output.log", "out", "text/plain").ok());
    return r.id;
  }
  std::string RunDir(const RunId& id) const { return root_ + "/runs/" + id.str(); }
  bool HasArtifact(const RunId& id) {
    return artifacts_->Head("dispatches/" + id.str() + "/output.log").ok();
  }

  std::string root_;
  SimulatedClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<artifacts::LocalArtifactStore> artifacts_;
  std::unique_ptr<ProcessRunner> runner_;  // keeps the run directories
};

TEST_F(RetentionTest, RunsFinishedLongerAgoThanMaxAgeLoseTheirFilesAndArtifactsOnly) {
  RunId old_done = MakeRun(hours(24 * 31));
  RunId recent = MakeRun(hours(24 * 29));
  RunId running = MakeRun(std::nullopt);
  RunId old_pending_upload = MakeRun(hours(24 * 40), ArtifactsState::kPending);
  RetentionSweeper sweeper(*store_, artifacts_.get(), *runner_, clock_, hours(24 * 30));
  RetentionStats s = sweeper.SweepOnce();
  EXPECT_EQ(s.runs_swept, 1);
  EXPECT_EQ(s.objects_deleted, 1);
  EXPECT_EQ(s.errors, 0);
  EXPECT_FALSE(fs::exists(RunDir(old_done)));
  EXPECT_FALSE(HasArtifact(old_done));
  EXPECT_TRUE(store_->Get(old_done).ok());  // the record stays
  for (const RunId& kept : {recent, running, old_pending_upload}) {
    EXPECT_TRUE(fs::exists(RunDir(kept))) << kept.str();
    EXPECT_TRUE(HasArtifact(kept)) << kept.str();
  }
  // Time passes: the recent one goes too; a second pass over the same state removes nothing.
  clock_.Advance(hours(24 * 2));
  EXPECT_EQ(sweeper.SweepOnce().runs_swept, 1);
  EXPECT_FALSE(fs::exists(RunDir(recent)));
  EXPECT_EQ(sweeper.SweepOnce().runs_swept, 0);
  EXPECT_EQ(sweeper.totals().runs_swept, 2);
}

// A run's events in the shared event log go with its files; a kept run's stay.
TEST_F(RetentionTest, AnExpiredRunsEventsAreRemovedFromTheEventLog) {
  auto log = SqliteEventLog::Open(root_ + "/runs.db");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  RunId old_done = MakeRun(hours(24 * 31));
  RunId recent = MakeRun(hours(24 * 29));
  for (const RunId& id : {old_done, recent}) {
    ASSERT_TRUE(
        (*log)->Append(id.str(), {{1, "phase", R"({"seq":1,"ts":"x","type":"phase"})"}}).ok());
  }
  RetentionSweeper sweeper(*store_, artifacts_.get(), *runner_, clock_, hours(24 * 30));
  sweeper.SetEventLog(log->get());
  RetentionStats s = sweeper.SweepOnce();
  EXPECT_EQ(s.event_logs_removed, 1);
  EXPECT_EQ(s.errors, 0);
  EXPECT_EQ((*log)->Tail(old_done.str()).value().last_seq, 0);
  EXPECT_EQ((*log)->Tail(recent.str()).value().last_seq, 1);
  EXPECT_EQ(sweeper.totals().event_logs_removed, 1);
}

TEST_F(RetentionTest, LeftoversOfRunsTheStoreDoesNotKnowGoByTheirAge) {
  const std::string stray_old = root_ + "/runs/01STRAYOLD0000000000000000";
  const std::string stray_new = root_ + "/runs/01STRAYNEW0000000000000000";
  fs::create_directories(stray_old);
  fs::create_directories(stray_new);
  const auto old_time = std::chrono::system_clock::to_time_t(clock_.Now() - hours(24 * 60));
  struct timespec times[2] = {{old_time, 0}, {old_time, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, stray_old.c_str(), times, 0), 0);
  RetentionSweeper sweeper(*store_, nullptr, *runner_, clock_, hours(24 * 30));
  EXPECT_EQ(sweeper.SweepOnce().runs_swept, 1);
  EXPECT_FALSE(fs::exists(stray_old));
  EXPECT_TRUE(fs::exists(stray_new));
}

// The sweeper's own thread, on simulated time: a pass at start and one an hour after each pass
// ends, so a run's files go at the first pass after it is max_age old, and Stop is immediate.
TEST_F(RetentionTest, TheRunningSweeperPassesHourlyOnTheClock) {
  RunId ended = MakeRun(hours(24 * 30) - hours(3));  // 30 days old in 3 hours
  RetentionSweeper sweeper(*store_, artifacts_.get(), *runner_, clock_, hours(24 * 30), hours(1));
  sweeper.Start();
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // the first pass is over, the thread waits
  EXPECT_EQ(clock_.NextDeadline(), clock_.Mono() + hours(1));
  EXPECT_TRUE(fs::exists(RunDir(ended)));
  for (int pass = 1; pass <= 2; ++pass) {
    clock_.Advance(hours(1));
    ASSERT_TRUE(clock_.AwaitBlocked(1));  // that pass is over
    EXPECT_TRUE(fs::exists(RunDir(ended))) << pass;
  }
  clock_.Advance(hours(1) - std::chrono::milliseconds(1));
  EXPECT_EQ(clock_.blocked(), 1u);  // no pass a millisecond early
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_FALSE(fs::exists(RunDir(ended)));
  EXPECT_FALSE(HasArtifact(ended));
  EXPECT_EQ(sweeper.totals().runs_swept, 1);
  sweeper.Stop();
  EXPECT_EQ(clock_.blocked(), 0u);
}

TEST_F(RetentionTest, ZeroMaxAgeKeepsEverything) {
  RunId old_done = MakeRun(hours(24 * 3650));
  RetentionSweeper sweeper(*store_, artifacts_.get(), *runner_, clock_, hours(0));
  EXPECT_EQ(sweeper.SweepOnce().runs_swept, 0);
  sweeper.Start();  // no thread at all
  EXPECT_FALSE(clock_.AwaitBlocked(1, std::chrono::milliseconds(50)));
  EXPECT_TRUE(fs::exists(RunDir(old_done)));
}

TEST(DiskGuard, LowBelowTheThresholdRefreshedOnlyAfterTheInterval) {
  SimulatedClock clock;
  std::int64_t free = 5 << 20;
  int probes = 0;
  DiskGuard guard("/", 10 << 20, clock, Millis(2'000), [&]() -> Result<std::int64_t> {
    ++probes;
    return free;
  });
  EXPECT_TRUE(guard.Low());
  free = 50 << 20;
  EXPECT_TRUE(guard.Low());  // cached
  EXPECT_EQ(probes, 1);
  clock.Advance(Millis(2'000));
  EXPECT_FALSE(guard.Low());
  EXPECT_EQ(guard.free_bytes(), 50 << 20);
  EXPECT_EQ(probes, 2);
}

TEST(DiskGuard, OffWhenTheThresholdIsZeroAndNotLowWhenUnknown) {
  SimulatedClock clock;
  DiskGuard off("/", 0, clock, Millis(0), []() -> Result<std::int64_t> { return 0; });
  EXPECT_FALSE(off.Low());
  DiskGuard unknown("/", 1, clock, Millis(0),
                    []() -> Result<std::int64_t> { return Internal("statvfs failed"); });
  EXPECT_FALSE(unknown.Low());
  EXPECT_EQ(unknown.free_bytes(), std::nullopt);
  EXPECT_TRUE(FreeDiskBytes("/").ok());
}

}  // namespace
}  // namespace outpost
