#include "core/artifact_uploader.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "core/run_events.h"
#include "runner/process_runner.h"
#include "store/sqlite/sqlite_event_log.h"
#include "store/sqlite/sqlite_run_store.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

// An in-memory ArtifactStore that fails on demand: `fail[name]` attempts of PutFile for keys
// ending in /name fail with `failure` before one succeeds.
class FlakyStore final : public artifacts::ArtifactStore {
 public:
  std::map<std::string, std::string> objects;
  std::map<std::string, std::string> types;
  std::map<std::string, int> fail;
  std::map<std::string, int> attempts;
  Status failure = Unavailable("503 SlowDown");

  std::string Describe() const override { return "flaky://"; }
  Status Put(std::string_view key, std::string_view content, std::string_view type) override {
    {
      std::lock_guard lock(attempt_mu_);
      ++total_attempts_;
    }
    attempt_cv_.notify_all();
    const std::string name = std::string(key.substr(key.rfind('/') + 1));
    ++attempts[name];
    if (fail[name] > 0) {
      --fail[name];
      return failure;
    }
    objects[std::string(key)] = std::string(content);
    types[std::string(key)] = std::string(type);
    return Status::Ok();
  }
  Status PutFile(std::string_view key, const std::string& path, std::string_view type) override {
    auto content = ReadFile(path);
    if (!content.ok()) return content.status();
    return Put(key, *content, type);
  }
  Result<std::string> Get(std::string_view key) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return NotFound("no such object");
    return it->second;
  }
  Result<artifacts::ObjectInfo> Head(std::string_view key) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return NotFound("no such object");
    return artifacts::ObjectInfo{it->first, static_cast<std::int64_t>(it->second.size()),
                                 Sha256Hex(it->second), types[it->first], WallTime{}};
  }
  Result<std::vector<artifacts::ObjectInfo>> List(std::string_view) override {
    return std::vector<artifacts::ObjectInfo>{};
  }
  Status Delete(std::string_view) override { return Status::Ok(); }
  Result<std::string> PresignGet(std::string_view, std::chrono::seconds, WallTime) override {
    return std::string("flaky://url");
  }

  // Waits (bounded, in real time) until `n` Put attempts have begun in all.
  bool AwaitAttempts(int n) {
    std::unique_lock lock(attempt_mu_);
    return attempt_cv_.wait_for(lock, std::chrono::seconds(10),
                                [&] { return total_attempts_ >= n; });
  }

 private:
  std::mutex attempt_mu_;
  std::condition_variable attempt_cv_;
  int total_attempts_ = 0;  // guarded by attempt_mu_
};

class ArtifactUploaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("uploader-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_ + "/runs");
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    runner_ = std::make_unique<ProcessRunner>(root_ + "/runs", "/bin/true", clock_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A terminal run with artifacts pending, and its run directory holding `files`.
  outpost::Run EndedRun(const std::map<std::string, std::string>& files) {
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    clock_.Advance(std::chrono::milliseconds(1));
    r.agent = "shell";
    r.model_id = "shell";
    r.task = "echo hi";
    r.created_at = clock_.Now();
    EXPECT_TRUE(store_->Create(r).ok());
    r.status = RunStatus::kCompleted;
    r.reason = "succeeded";
    r.exit_code = 0;
    r.ended_at = clock_.Now();
    r.artifacts_state = ArtifactsState::kPending;
    auto u = store_->Update(r);
    EXPECT_TRUE(u.ok());
    const std::string dir = root_ + "/runs/" + r.id.str();
    fs::create_directories(dir);
    for (const auto& [name, content] : files)
      EXPECT_TRUE(WriteFileAtomic(dir + "/" + name, content).ok());
    return *u;
  }

  // Called inline by most tests: a backoff then moves the simulated clock instead of waiting
  // (clock_.sleeps() lists them); the tests of the worker thread advance it themselves.
  ArtifactUploader Uploader(ArtifactUploaderOptions o = {}) {
    return ArtifactUploader(*store_, flaky_, *runner_, clock_, o);
  }
  ArtifactUploader InlineUploader(ArtifactUploaderOptions o = {}) {
    clock_.set_advance_on_sleep(true);
    return Uploader(o);
  }

  outpost::Run Stored(const RunId& id) { return *store_->Get(id); }

  std::string root_;
  SimulatedClock clock_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<ProcessRunner> runner_;  // where the runs' files are
  FlakyStore flaky_;
};

// A run whose outputs came over the run channel: what the channel stored is recorded as it is,
// nothing is read from the runner (whose files here must not leak into the artifacts), and the
// output it did not deliver is the event log's (here: none, so an empty output.log).
TEST_F(ArtifactUploaderTest, ARunWhoseOutputsCameOverTheChannelIsRecordedNotReuploaded) {
  outpost::Run r = EndedRun({{"stdout.log", "the runner's, not the run's\n"},
                             {"stderr.log", "the runner's stderr\n"},
                             {"changes.bundle", "the runner's bundle"}});
  r.channel_outputs = true;
  r = *store_->Update(r);
  const std::string p = "dispatches/" + r.id.str() + "/";
  flaky_.objects[p + "diff.patch"] = "diff from the channel\n";
  flaky_.types[p + "diff.patch"] = "text/x-diff; charset=utf-8";
  flaky_.objects[p + "stderr.log"] = "stderr from the channel\n";
  ASSERT_TRUE(InlineUploader().UploadRun(r.id).ok());
  EXPECT_EQ(flaky_.attempts["diff.patch"], 0);
  EXPECT_EQ(flaky_.attempts["stderr.log"], 0);
  EXPECT_EQ(flaky_.objects[p + "stderr.log"], "stderr from the channel\n");
  EXPECT_EQ(flaky_.objects[p + "output.log"], "");
  EXPECT_FALSE(flaky_.objects.count(p + "changes.bundle"));
  outpost::Run got = Stored(r.id);
  EXPECT_EQ(got.artifacts_state, ArtifactsState::kStored);
  std::map<std::string, ArtifactRef> by_name;
  for (const auto& a : got.artifacts) by_name[a.name] = a;
  EXPECT_EQ(by_name.size(), 4u);  // output.log, stderr.log, diff.patch, summary.json
  EXPECT_EQ(by_name["diff.patch"].sha256, Sha256Hex("diff from the channel\n"));
  EXPECT_EQ(by_name["diff.patch"].size_bytes, 22);
  EXPECT_EQ(by_name["diff.patch"].type, "patch");
  EXPECT_EQ(by_name["stderr.log"].sha256, Sha256Hex("stderr from the channel\n"));
}

TEST_F(ArtifactUploaderTest, StoresOutputSummaryPatchAndBundleWithTheirDigests) {
  outpost::Run r = EndedRun({{"stdout.log", "hello\n"},
                             {"stderr.log", "warn\n"},
                             {"diff.patch", "diff --git a/x b/x\n"},
                             {"changes.bundle", std::string("PACK\0\1", 6)},
                             {"context.md", "# ctx\n"},
                             {"shim.log", "internal, not an artifact\n"}});
  ASSERT_TRUE(InlineUploader().UploadRun(r.id).ok());
  const std::string p = "dispatches/" + r.id.str() + "/";
  EXPECT_EQ(flaky_.objects[p + "output.log"], "hello\n");
  EXPECT_EQ(flaky_.objects[p + "stderr.log"], "warn\n");
  EXPECT_EQ(flaky_.objects[p + "diff.patch"], "diff --git a/x b/x\n");
  EXPECT_EQ(flaky_.objects[p + "changes.bundle"], std::string("PACK\0\1", 6));
  EXPECT_EQ(flaky_.objects[p + "context.md"], "# ctx\n");
  EXPECT_FALSE(flaky_.objects.count(p + "shim.log"));
  EXPECT_FALSE(flaky_.objects.count(p + "events.jsonl"));  // the run had none

  auto summary = ParseJson(flaky_.objects[p + "summary.json"]);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->at("status").as_string(), "COMPLETED");
  EXPECT_EQ(summary->at("reason").as_string(), "succeeded");
  EXPECT_EQ(summary->at("exitCode").as_int64(), 0);
  EXPECT_EQ(summary->at("agent").as_string(), "shell");
  EXPECT_EQ(flaky_.types[p + "summary.json"], "application/json");
  // It states how the other uploads went, not "pending" about its own.
  EXPECT_EQ(summary->at("artifactsStatus").as_string(), "stored");

  outpost::Run got = Stored(r.id);
  EXPECT_EQ(got.artifacts_state, ArtifactsState::kStored);
  EXPECT_TRUE(got.artifacts_missing.empty());
  std::map<std::string, ArtifactRef> by_name;
  for (const auto& a : got.artifacts) by_name[a.name] = a;
  ASSERT_EQ(by_name.size(), 6u);
  EXPECT_EQ(by_name["output.log"].type, "output");
  EXPECT_EQ(by_name["output.log"].size_bytes, 6);
  EXPECT_EQ(by_name["output.log"].sha256, Sha256Hex("hello\n"));
  EXPECT_EQ(by_name["stderr.log"].type, "logs");
  EXPECT_EQ(by_name["summary.json"].type, "metadata");
  EXPECT_EQ(by_name["diff.patch"].type, "patch");
  EXPECT_EQ(by_name["changes.bundle"].type, "bundle");
  EXPECT_EQ(by_name["summary.json"].sha256, Sha256Hex(flaky_.objects[p + "summary.json"]));
  EXPECT_EQ(got.status, RunStatus::kCompleted);  // untouched
  EXPECT_FALSE(fs::exists(root_ + "/runs/" + r.id.str() + "/.artifacts"));
}

TEST_F(ArtifactUploaderTest, TheSummaryIsRetriedLikeEveryOtherObject) {
  outpost::Run r = EndedRun({{"stdout.log", "x"}});
  flaky_.fail["summary.json"] = 2;
  ASSERT_TRUE(InlineUploader({5, Millis(1), Millis(1)}).UploadRun(r.id).ok());
  EXPECT_EQ(flaky_.attempts["summary.json"], 3);
  EXPECT_EQ(Stored(r.id).artifacts_state, ArtifactsState::kStored);
}

TEST_F(ArtifactUploaderTest, ARunThatNeverStartedStillGetsAnEmptyOutputAndASummary) {
  outpost::Run r = EndedRun({});
  fs::remove_all(root_ + "/runs/" + r.id.str());
  ASSERT_TRUE(InlineUploader().UploadRun(r.id).ok());
  EXPECT_FALSE(fs::exists(root_ + "/runs/" + r.id.str()));  // nothing made on the way
  const std::string p = "dispatches/" + r.id.str() + "/";
  EXPECT_EQ(flaky_.objects.at(p + "output.log"), "");
  EXPECT_TRUE(flaky_.objects.count(p + "summary.json"));
  EXPECT_EQ(Stored(r.id).artifacts_state, ArtifactsState::kStored);
  EXPECT_EQ(Stored(r.id).artifacts.size(), 2u);
}

// A run whose replica was lost has no output here: its output.log is the data of the stdout
// output events the event log holds (base64 ones decoded), and events.jsonl is the log's stream.
TEST_F(ArtifactUploaderTest, WithoutTheRunnersOutputTheOutputLogIsMadeFromTheEventLog) {
  outpost::Run r = EndedRun({});
  fs::remove_all(root_ + "/runs/" + r.id.str());
  auto log = SqliteEventLog::Open(root_ + "/runs.db");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto ev = [](std::int64_t seq, std::string type, std::string fields) {
    return RunEvent{seq, type,
                    "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"2026-01-01T00:00:00.000Z\"," +
                        "\"type\":\"" + type + "\"" + fields + "}"};
  };
  std::vector<RunEvent> events = {
      ev(1, "output", R"(,"stream":"stdout","data":"one\n")"),
      ev(2, "output", R"(,"stream":"stderr","data":"not this\n")"),
      ev(3, "output",
         R"(,"stream":"stdout","data":")" + Base64Encode("bin \xFF\n") +
             R"(","encoding":"base64")"),
      ev(4, "phase", R"(,"phase":"collecting")"),
  };
  ASSERT_TRUE((*log)->Append(r.id.str(), events).ok());
  ASSERT_TRUE(AppendTerminalEvents(**log, r).ok());
  ArtifactUploader up = InlineUploader();
  up.SetEventLog(log->get());
  ASSERT_TRUE(up.UploadRun(r.id).ok());
  const std::string p = "dispatches/" + r.id.str() + "/";
  EXPECT_EQ(flaky_.objects.at(p + "output.log"), "one\nbin \xFF\n");
  std::string jsonl;
  EventBatch all = (*log)->Read(r.id.str(), 0, 100).value();
  for (const RunEvent& e : all.events) jsonl += e.json + "\n";
  EXPECT_EQ(flaky_.objects.at(p + "events.jsonl"), jsonl);
  EXPECT_NE(jsonl.find("\"type\":\"end\""), std::string::npos);
  EXPECT_EQ(Stored(r.id).artifacts_state, ArtifactsState::kStored);
}

TEST_F(ArtifactUploaderTest, TransientFailuresAreRetriedWithGrowingBackoff) {
  outpost::Run r = EndedRun({{"stdout.log", "x"}});
  flaky_.fail["output.log"] = 3;
  ASSERT_TRUE(InlineUploader({5, Millis(100), Millis(250)}).UploadRun(r.id).ok());
  EXPECT_EQ(flaky_.attempts["output.log"], 4);
  EXPECT_EQ(clock_.sleeps(), (std::vector<Millis>{Millis(100), Millis(200), Millis(250)}));
  EXPECT_EQ(Stored(r.id).artifacts_state, ArtifactsState::kStored);
}

TEST_F(ArtifactUploaderTest, WhatStillFailsIsRecordedAsMissingAndTheRestIsStored) {
  outpost::Run r = EndedRun({{"stdout.log", "x"}, {"diff.patch", "d"}});
  flaky_.fail["diff.patch"] = 100;
  ArtifactUploader up = InlineUploader({3, Millis(1), Millis(1)});
  ASSERT_TRUE(up.UploadRun(r.id).ok());
  EXPECT_EQ(flaky_.attempts["diff.patch"], 3);
  outpost::Run got = Stored(r.id);
  EXPECT_EQ(got.artifacts_state, ArtifactsState::kPartial);
  EXPECT_EQ(got.artifacts_missing, std::vector<std::string>{"diff.patch"});
  EXPECT_EQ(got.artifacts.size(), 2u);  // output.log + summary.json
  EXPECT_EQ(got.status, RunStatus::kCompleted);
  auto summary = ParseJson(flaky_.objects["dispatches/" + r.id.str() + "/summary.json"]);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->at("artifactsStatus").as_string(), "partial");
  EXPECT_EQ(summary->at("artifactsMissing").as_array().size(), 1u);
  EXPECT_EQ(up.stats().runs_partial, 1);
}

TEST_F(ArtifactUploaderTest, PermanentErrorsAreNotRetried) {
  outpost::Run r = EndedRun({{"stdout.log", "x"}});
  flaky_.fail["output.log"] = 100;
  flaky_.failure = FailedPrecondition("NoSuchBucket");
  ASSERT_TRUE(InlineUploader().UploadRun(r.id).ok());
  EXPECT_EQ(flaky_.attempts["output.log"], 1);
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(Stored(r.id).artifacts_missing, std::vector<std::string>{"output.log"});
}

TEST_F(ArtifactUploaderTest, RecoverFindsEveryPendingRunAfterARestartAndTheWorkerUploadsThem) {
  std::vector<RunId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(EndedRun({{"stdout.log", std::to_string(i)}}).id);
  ArtifactUploader up = Uploader();
  auto n = up.Recover();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5);
  up.Start();
  // The worker drains the queue, then waits on the clock for the next Enqueue.
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  for (const RunId& id : ids)
    EXPECT_EQ(Stored(id).artifacts_state, ArtifactsState::kStored) << id.str();
  EXPECT_EQ(up.stats().runs_stored, 5);
  EXPECT_EQ(up.stats().queued, 0u);
  up.Stop();
  // Nothing is pending any more: a second restart finds nothing.
  auto again = Uploader().Recover();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

// The worker thread on simulated time: each retry waits its backoff to the millisecond, an
// Enqueue wakes the idle worker at once, and Stop does not wait for the idle worker's period.
TEST_F(ArtifactUploaderTest, TheWorkerRetriesAfterEachBackoffOnTheClock) {
  ArtifactUploader up = Uploader({4, Millis(100), Millis(150)});
  up.Start();
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // idle: nothing queued
  EXPECT_EQ(clock_.NextDeadline(), MonoTime::max());
  outpost::Run r = EndedRun({{"stdout.log", "x"}});
  flaky_.fail["output.log"] = 2;
  const MonoTime enqueued = clock_.Mono();
  up.Enqueue(r.id);
  // Woken without time passing. Once it has made an attempt its idle wait is over (until then
  // AwaitBlocked could still count it); attempt 1 failed and the worker sleeps 100 ms.
  ASSERT_TRUE(flaky_.AwaitAttempts(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(clock_.NextDeadline(), enqueued + Millis(100));
  EXPECT_EQ(up.stats().object_failures, 1);
  clock_.Advance(Millis(99));
  EXPECT_EQ(clock_.blocked(), 1u);
  EXPECT_EQ(up.stats().object_failures, 1);
  clock_.Advance(Millis(1));
  // Attempt 2 failed too: the backoff doubles (200 ms), capped at 150.
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // Advance ended the last sleep: this is the next one
  EXPECT_EQ(clock_.NextDeadline(), enqueued + Millis(250));
  EXPECT_EQ(up.stats().object_failures, 2);
  clock_.Advance(Millis(150));
  // Attempt 3 succeeds, the run is recorded, and the worker is idle again.
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(clock_.NextDeadline(), MonoTime::max());
  EXPECT_EQ(flaky_.attempts["output.log"], 3);
  EXPECT_EQ(Stored(r.id).artifacts_state, ArtifactsState::kStored);
  EXPECT_EQ(clock_.sleeps(),
            (std::vector<Millis>{Millis::max(), Millis(100), Millis(150), Millis::max()}));
  up.Stop();
  EXPECT_EQ(clock_.blocked(), 0u);
}

TEST_F(ArtifactUploaderTest, ARunNotPendingIsLeftAlone) {
  outpost::Run r = EndedRun({{"stdout.log", "x"}});
  r.artifacts_state = ArtifactsState::kStored;
  ASSERT_TRUE(store_->Update(r).ok());
  ASSERT_TRUE(InlineUploader().UploadRun(r.id).ok());
  EXPECT_TRUE(flaky_.objects.empty());
}

}  // namespace
}  // namespace outpost
