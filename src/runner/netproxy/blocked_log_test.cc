#include "runner/netproxy/blocked_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/time_util.h"
#include "testing/temp_dir.h"

namespace outpost::netproxy {
namespace {

class BlockedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    path_ = dir_ + "/blocked.jsonl";
  }
  outpost::testing::TempDir tmp_{"outpost-blocked"};
  std::string dir_;
  std::string path_;
};

TEST_F(BlockedLogTest, RoundTripsAttemptsInOrder) {
  BlockedAttempt a{"evil.example", 443, FromMillis(1'700'000'000'123), "not in allowlist"};
  BlockedAttempt b{"metadata.internal", 80, FromMillis(1'700'000'001'000),
                   "resolves to a link-local address"};
  {
    auto log = BlockedLog::Open(path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(a).ok());
    ASSERT_TRUE((*log)->Append(b).ok());
  }
  auto read = ReadBlocked(path_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, (std::vector<BlockedAttempt>{a, b}));
}

TEST_F(BlockedLogTest, LineFormatIsTheDocumentedJson) {
  BlockedAttempt a{"evil.example", 443, FromMillis(1'700'000'000'123), "not in allowlist"};
  EXPECT_EQ(BlockedAttemptToJson(a), R"({"host":"evil.example","port":443,"time":")" +
                                         FormatTime(a.at) + R"(","reason":"not in allowlist"})");
}

TEST_F(BlockedLogTest, FileIsPrivate) {
  auto log = BlockedLog::Open(path_);
  ASSERT_TRUE(log.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(BlockedLogTest, ConcurrentAppendsNeverInterleave) {
  auto log = BlockedLog::Open(path_);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE((*log)->Append({"h" + std::to_string(t), i + 1, FromMillis(i), "r"}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto read = ReadBlocked(path_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 200u);
}

TEST_F(BlockedLogTest, MissingFileMeansNothingBlocked) {
  auto read = ReadBlocked(dir_ + "/absent.jsonl");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
}

TEST_F(BlockedLogTest, TornAndGarbageLinesAreSkipped) {
  BlockedAttempt a{"a.example", 443, FromMillis(1'000), "not in allowlist"};
  {
    std::ofstream f(path_);
    f << BlockedAttemptToJson(a) << "\nnot json\n{\"host\":\"x\"}\n"
      << R"({"host":"b.exa)";
  }
  auto read = ReadBlocked(path_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, std::vector<BlockedAttempt>{a});
}

TEST_F(BlockedLogTest, OpenFailsInAMissingDirectory) {
  auto log = BlockedLog::Open(dir_ + "/no/such/dir/blocked.jsonl");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace outpost::netproxy
