#include "store/sqlite/sqlite_run_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "store/run_store_conformance.h"
#include "store/sqlite/sqlite_list_query.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

// A new database file in a private directory, removed with them all at exit.
std::string NewDbFile() {
  static const testing::TempDir dir("outpost-store-test", fs::temp_directory_path().string());
  static std::atomic<int> next{0};
  return dir.Join("runs-" + std::to_string(++next) + ".db");
}

std::unique_ptr<RunStore> NewTempSqliteStore() {
  auto store = SqliteRunStore::Open(NewDbFile());
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, RunStoreConformance,
                         ::testing::Values(RunStoreFactory(&NewTempSqliteStore)));

// A plain second connection, to look at or lock the file behind the store's back.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawConnection() { sqlite3_close(db_); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteRunStoreTest : public ::testing::Test {
 protected:
  using Run = ::outpost::Run;  // gtest's Test::Run() would hide it in test bodies

  std::unique_ptr<SqliteRunStore> MustOpen(const SqliteRunStoreOptions& options = {}) {
    auto store = SqliteRunStore::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  Run NewRun() {
    clock_.Advance(std::chrono::seconds(1));
    Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    r.agent = "claude-code";
    r.task = "task";
    r.request_hash = "hash";
    r.created_at = clock_.Now();
    return r;
  }

  std::string path_ = NewDbFile();
  SimulatedClock clock_;
};

TEST_F(SqliteRunStoreTest, DataPersistsAcrossReopen) {
  Run r = NewRun();
  r.tags = {{"env", "prod"}};
  r.idempotency_key = "k";
  {
    auto store = MustOpen();
    ASSERT_TRUE(store->Create(r).ok());
    r.status = RunStatus::kCompleted;
    r = *store->Update(r);
  }
  auto store = MustOpen();
  auto got = store->Get(r.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, r);
  ListQuery q;
  q.tags = {{"env", "prod"}};
  EXPECT_EQ(store->List(q)->runs.size(), 1u);
  Run replay = NewRun();
  replay.idempotency_key = "k";
  EXPECT_FALSE(store->Create(replay)->created);
}

TEST_F(SqliteRunStoreTest, OpeningTwiceSharesDataAndKeepsLatestSchema) {
  auto first = MustOpen();
  auto second = MustOpen();
  ASSERT_TRUE(first && second);
  Run r = NewRun();
  ASSERT_TRUE(first->Create(r).ok());
  EXPECT_TRUE(second->Get(r.id).ok());
  EXPECT_EQ(RawConnection(path_).QueryText("PRAGMA user_version"),
            std::to_string(SqliteRunStore::LatestSchemaVersion()));
  EXPECT_EQ(RawConnection(path_).QueryText("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteRunStoreTest, ConcurrentFirstOpensAllSucceed) {
  constexpr int kOpeners = 6;
  std::vector<Status> results(kOpeners);
  std::latch start(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto store = SqliteRunStore::Open(path_);
      results[static_cast<std::size_t>(i)] = store.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(RawConnection(path_).QueryText("PRAGMA user_version"),
            std::to_string(SqliteRunStore::LatestSchemaVersion()));
}

TEST_F(SqliteRunStoreTest, TwoInstancesRacingConditionalUpdatesOneWins) {
  auto a = MustOpen();
  auto b = MustOpen();
  ASSERT_TRUE(a && b);
  Run r = NewRun();
  r.status = RunStatus::kRunning;
  ASSERT_TRUE(a->Create(r).ok());
  constexpr int kWriters = 8;
  std::vector<Result<Run>> results(kWriters, Result<Run>(Internal("not run")));
  std::latch start(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      Run mine = r;
      mine.status = i % 2 == 0 ? RunStatus::kCompleted : RunStatus::kCancelled;
      mine.exit_code = i;
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = (i % 2 == 0 ? a : b)->Update(mine);
    });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  int winners = 0;
  for (int i = 0; i < kWriters; ++i) {
    const auto& res = results[static_cast<std::size_t>(i)];
    if (res.ok()) {
      ++winners;
      winner = i;
    } else {
      EXPECT_EQ(res.status().code(), Code::kConflict) << res.status().ToString();
    }
  }
  ASSERT_EQ(winners, 1);
  EXPECT_EQ(a->Get(r.id)->exit_code, winner);
  EXPECT_EQ(b->Get(r.id)->exit_code, winner);
}

// Two processes (here: connections) sharing one file are two replicas: the admission count and
// insert share one IMMEDIATE transaction, so together they cannot overshoot either.
TEST_F(SqliteRunStoreTest, TwoInstancesBurstingAgainstOneQuotaAdmitExactlyTheLimit) {
  auto a = MustOpen();
  auto b = MustOpen();
  ASSERT_TRUE(a && b);
  constexpr int kBurst = 10, kLimit = 4;
  Admission admission;
  admission.concurrent = RunQuota{RunQuota::Scope::kTenant, kLimit};
  std::vector<Run> runs;
  for (int i = 0; i < kBurst; ++i) runs.push_back(NewRun());
  std::atomic<int> created{0}, refused{0};
  std::latch start(kBurst);
  std::vector<std::thread> threads;
  for (int i = 0; i < kBurst; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto c = (i % 2 == 0 ? a : b)->CreateAll({runs[static_cast<std::size_t>(i)]}, admission);
      if (c.ok()) ++created;
      if (c.status().code() == Code::kResourceExhausted) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kLimit);
  EXPECT_EQ(refused.load(), kBurst - kLimit);
  EXPECT_EQ(RawConnection(path_).QueryText("SELECT COUNT(*) FROM runs"), std::to_string(kLimit));
}

// A file written before the quotas migrations (version 3: runs, replicas, auth) keeps its runs;
// they have no key.
TEST_F(SqliteRunStoreTest, MigratingAVersion3FileKeepsItsRuns) {
  Run r = NewRun();
  {
    auto store = MustOpen();
    ASSERT_TRUE(store && store->Create(r).ok());
  }
  RawConnection raw(path_);
  ASSERT_EQ(raw.Exec("DROP TRIGGER runs_changed_insert; DROP TRIGGER runs_changed_update; "
                     "DROP TRIGGER runs_changed_delete; DROP TABLE run_changes; "
                     "DROP TABLE run_events; DROP TABLE audit; DROP INDEX runs_key_status; DROP "
                     "INDEX runs_key_created; "
                     "DROP INDEX runs_tenant_status; DROP INDEX runs_tenant_created; "
                     "ALTER TABLE runs DROP COLUMN key_id; PRAGMA user_version = 3"),
            SQLITE_OK);
  auto store = MustOpen();
  ASSERT_TRUE(store);
  EXPECT_EQ(raw.QueryText("PRAGMA user_version"),
            std::to_string(SqliteRunStore::LatestSchemaVersion()));
  auto got = store->Get(r.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->key_id, "");
  Admission admission;
  admission.concurrent = RunQuota{RunQuota::Scope::kTenant, 1};
  EXPECT_EQ(store->CreateAll({NewRun()}, admission).status().code(), Code::kResourceExhausted);
}

TEST_F(SqliteRunStoreTest, WriteLockHeldPastBusyTimeoutIsUnavailable) {
  SqliteRunStoreOptions options;
  options.busy_timeout = Millis(100);
  auto store = MustOpen(options);
  ASSERT_TRUE(store);
  Run existing = NewRun();
  ASSERT_TRUE(store->Create(existing).ok());

  RawConnection locker(path_);
  ASSERT_EQ(locker.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto created = store->Create(NewRun());
  EXPECT_EQ(created.status().code(), Code::kUnavailable);
  EXPECT_EQ(created.status().message().find("database is locked"), std::string::npos)
      << "SQLite's own text must not leak: " << created.status().message();
  EXPECT_EQ(store->Update(existing).status().code(), Code::kUnavailable);
  EXPECT_TRUE(store->Get(existing.id).ok()) << "WAL readers are not blocked by the writer";

  ASSERT_EQ(locker.Exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(store->Create(NewRun()).ok());
}

TEST_F(SqliteRunStoreTest, SchemaFromNewerBinaryIsFailedPrecondition) {
  MustOpen();
  ASSERT_EQ(RawConnection(path_).Exec("PRAGMA user_version = 999"), SQLITE_OK);
  EXPECT_EQ(SqliteRunStore::Open(path_).status().code(), Code::kFailedPrecondition);
}

TEST_F(SqliteRunStoreTest, FileThatIsNotADatabaseIsFailedPrecondition) {
  std::ofstream(path_) << std::string(4096, 'x');
  EXPECT_EQ(SqliteRunStore::Open(path_).status().code(), Code::kFailedPrecondition);
}

TEST(SqliteListQuery, CursorRoundTripsAndRejectsGarbage) {
  const std::string id = NewUlid(WallTime(std::chrono::seconds(1'700'000'000)));
  auto decoded = sqlite::DecodeCursor(sqlite::EncodeCursor(id));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, id);
  for (const char* bad : {"", "A", "!!!!", "cjE6", "cjE6QQ="}) {
    auto r = sqlite::DecodeCursor(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message(), "invalid cursor");
  }
}

}  // namespace
}  // namespace outpost
