// The event log on SQLite: the shared EventLogConformance suite, and what is particular to it
// (bounded items as rows, the run store's file, two connections as two replicas).
#include "store/sqlite/sqlite_event_log.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>

#include "store/event_log_conformance.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

std::string NewDbPath() {
  static const testing::TempDir dir("outpost-eventlog-test", fs::temp_directory_path().string());
  static std::atomic<int> n{0};
  return dir.path() + "/events-" + std::to_string(++n) + ".db";
}

std::unique_ptr<EventLog> NewTempSqliteEventLog() {
  auto log = SqliteEventLog::Open(NewDbPath());
  if (!log.ok()) {
    ADD_FAILURE() << log.status().ToString();
    return nullptr;
  }
  return std::move(*log);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewTempSqliteEventLog)));

RunEvent Output(std::int64_t seq, std::size_t size) {
  return {seq, "output",
          "{\"seq\":" + std::to_string(seq) + ",\"type\":\"output\",\"data\":\"" +
              std::string(size, 'z') + "\"}"};
}

// The (bytes, events) of each stored item of run r1, oldest first.
std::vector<std::pair<std::int64_t, std::int64_t>> Items(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::pair<std::int64_t, std::int64_t>> items;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT bytes, last_seq - first_seq + 1 FROM run_events "
                               "WHERE run_id = 'r1' ORDER BY first_seq",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    items.emplace_back(sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return items;
}

TEST(SqliteEventLog, OutputIsBatchedIntoBoundedItems) {
  const std::string path = NewDbPath();
  auto log = SqliteEventLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<RunEvent> batch;
  for (int s = 1; s <= 100; ++s) batch.push_back(Output(s, 10 * 1024));  // ~1 MiB
  ASSERT_TRUE((*log)->Append("r1", batch).ok());
  ASSERT_TRUE((*log)->Append("r1", {Output(101, kMaxEventBytes - 100)}).ok());
  ASSERT_TRUE((*log)->Append("r1", {Output(102, 10)}).ok());
  auto items = Items(path);
  ASSERT_GE(items.size(), 10u);  // ~1 MiB in items of at most 128 KiB, then two more
  std::int64_t events = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto [bytes, count] = items[i];
    events += count;
    if (count > 1) {
      EXPECT_LE(bytes, static_cast<std::int64_t>(kMaxItemBytes)) << "item " << i;
    }
    EXPECT_LE(bytes, static_cast<std::int64_t>(kMaxEventBytes)) << "item " << i;
  }
  EXPECT_EQ(events, 102);
  EXPECT_GT(items[items.size() - 2].first, static_cast<std::int64_t>(kMaxItemBytes));  // alone
}

// Two connections on one file, as two replicas (or processes) on one database: each sees what
// the other appended, and a resend through the other is acknowledged.
TEST(SqliteEventLog, TwoConnectionsShareOneStreamAndTheRunStoresFile) {
  const std::string path = NewDbPath();
  auto runs = SqliteRunStore::Open(path);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  auto a = SqliteEventLog::Open(path);
  auto b = SqliteEventLog::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append("r1", {Output(1, 5), Output(2, 5)}).ok());
  auto resend = (*b)->Append("r1", {Output(2, 5), Output(3, 5)});
  ASSERT_TRUE(resend.ok()) << resend.status().ToString();
  EXPECT_EQ(resend->stored, 1);
  auto read = (*a)->Read("r1", 0, 10);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events, (std::vector<RunEvent>{Output(1, 5), Output(2, 5), Output(3, 5)}));
  EXPECT_EQ((*b)->Append("r1", {Output(5, 5)}).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace outpost
