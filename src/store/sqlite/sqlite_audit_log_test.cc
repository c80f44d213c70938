// The audit log on SQLite: the shared AuditLogConformance suite, and what is particular to it
// (pruning, sharing the run store's file).
#include "store/sqlite/sqlite_audit_log.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/audit_log_conformance.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

std::string NewDbPath() {
  static const testing::TempDir dir("outpost-audit-test", fs::temp_directory_path().string());
  static std::atomic<int> n{0};
  return dir.path() + "/audit-" + std::to_string(++n) + ".db";
}

std::unique_ptr<AuditLog> NewTempSqliteAuditLog() {
  auto log = SqliteAuditLog::Open(NewDbPath());
  if (!log.ok()) {
    ADD_FAILURE() << log.status().ToString();
    return nullptr;
  }
  return std::move(*log);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, AuditLogConformance,
                         ::testing::Values(AuditLogFactory(&NewTempSqliteAuditLog)));

AuditRecord RecordAt(WallTime at) {
  AuditRecord r;
  r.id = NewUlid(at);
  r.at = at;
  r.action = "run.dispatch";
  r.resource = "run:x";
  return r;
}

TEST(SqliteAuditLog, PruneDeletesOnlyRecordsOlderThanTheCutoff) {
  auto log = SqliteAuditLog::Open(NewDbPath());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const WallTime t0 = WallTime(std::chrono::seconds(1'700'000'000));
  ASSERT_TRUE((*log)->Append(RecordAt(t0)).ok());
  ASSERT_TRUE((*log)->Append(RecordAt(t0 + Millis(1000))).ok());
  ASSERT_TRUE((*log)->Append(RecordAt(t0 + Millis(2000))).ok());
  auto pruned = (*log)->Prune(t0 + Millis(1000));
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 1);
  AuditQuery q;
  auto page = (*log)->List(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_EQ(page->records.back().at, t0 + Millis(1000));
}

TEST(SqliteAuditLog, SharesTheRunStoresFile) {
  const std::string path = NewDbPath();
  auto store = SqliteRunStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto log = SqliteAuditLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append(RecordAt(WallTime(std::chrono::seconds(1'700'000'000)))).ok());
  auto again = SqliteAuditLog::Open(path);  // a later process, e.g. `outpost audit export`
  ASSERT_TRUE(again.ok());
  auto page = (*again)->List(AuditQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), 1u);
}

// `outpost serve` runs the log on the run store's connection: with no busy timeout at all
// (another connection's lock would fail a write at once), run writes on one thread and appends
// on another never refuse each other, and both are all there afterwards.
TEST(SqliteAuditLog, OnTheRunStoresConnectionWritesQueueInsteadOfFailingBusy) {
  auto store = SqliteRunStore::Open(NewDbPath(), {Millis(0), false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SqliteAuditLog log((*store)->connection());
  constexpr int kEach = 200;
  const WallTime t0 = WallTime(std::chrono::seconds(1'700'000'000));
  std::atomic<int> failures{0};
  std::thread runs([&] {
    for (int i = 0; i < kEach; ++i) {
      outpost::Run r;
      r.created_at = t0 + Millis(i);
      r.id = RunId(NewUlid(r.created_at));
      r.agent = "shell";
      r.task = "t";
      r.request_hash = "h";
      auto created = (*store)->Create(r);
      if (!created.ok()) {
        ++failures;
        continue;
      }
      outpost::Run next = created->run;
      next.status = RunStatus::kRunning;
      if (!(*store)->Update(next).ok()) ++failures;
    }
  });
  for (int i = 0; i < kEach; ++i) {
    if (!log.Append(RecordAt(t0 + Millis(i))).ok()) ++failures;
  }
  runs.join();
  EXPECT_EQ(failures.load(), 0);
  AuditQuery q;
  q.limit = 1000;
  auto page = log.List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), static_cast<std::size_t>(kEach));
  ListQuery all;
  all.limit = 1000;
  auto listed = (*store)->List(all);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->runs.size(), static_cast<std::size_t>(kEach));
}

}  // namespace
}  // namespace outpost
