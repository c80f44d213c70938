// The AuthStore conformance suite on SQLite, and what is particular: the tables live in the run
// store's file, and a second connection (an `outpost admin` beside `outpost serve`) sees and
// changes the same keys.
#include "store/sqlite/sqlite_auth_store.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "store/auth_store_conformance.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

std::string NewDbPath() {
  static const testing::TempDir dir("outpost-auth-store", fs::temp_directory_path().string());
  static std::atomic<int> n{0};
  return dir.path() + "/auth-" + std::to_string(++n) + ".db";
}

std::unique_ptr<AuthStore> NewTempSqliteAuthStore() {
  auto store = SqliteAuthStore::Open(NewDbPath());
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, AuthStoreConformance,
                         ::testing::Values(AuthStoreFactory(&NewTempSqliteAuthStore)));

ApiKeyRecord SomeKey(const std::string& id) {
  ApiKeyRecord k;
  k.key_id = id;
  k.tenant = "t1";
  k.prefix = "otp_00000000";
  k.hash = std::string(63, '0') + id.back();
  k.scopes = {"status"};
  k.created_at = WallTime(std::chrono::seconds(1'700'000'000));
  return k;
}

TEST(SqliteAuthStore, SharesTheRunStoresFile) {
  const std::string path = NewDbPath();
  auto runs = SqliteRunStore::Open(path);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  auto auth = SqliteAuthStore::Open(path);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  ASSERT_TRUE((*auth)->CreateKey(SomeKey("01KEY00000000000000000000A")).ok());
  EXPECT_TRUE((*runs)->Ping().ok());
  EXPECT_TRUE(*(*auth)->AnyKeys());
}

TEST(SqliteAuthStore, ASecondConnectionSeesAndRevokesTheSameKeys) {
  const std::string path = NewDbPath();
  auto server = SqliteAuthStore::Open(path);
  auto admin = SqliteAuthStore::Open(path);
  ASSERT_TRUE(server.ok() && admin.ok());
  ApiKeyRecord k = SomeKey("01KEY00000000000000000000B");
  ASSERT_TRUE((*admin)->CreateKey(k).ok());
  auto seen = (*server)->FindKeyByHash(k.hash);
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->status, KeyStatus::kActive);
  ASSERT_TRUE((*admin)->RevokeKey(k.key_id, k.created_at + std::chrono::seconds(1)).ok());
  seen = (*server)->FindKeyByHash(k.hash);
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->status, KeyStatus::kRevoked);
}

TEST(SqliteAuthStore, AFileThatIsNotADatabaseIsRefused) {
  const std::string path = NewDbPath();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("not a database, just text\n", f);
    std::fclose(f);
  }
  auto store = SqliteAuthStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace outpost
