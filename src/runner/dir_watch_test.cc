#include "runner/dir_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "runner/runner_test_util.h"

namespace outpost {
namespace {

using testing::TempDir;

// Counts wake-ups and lets a test wait for the next one without sleeping blindly.
struct Waker {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
  void operator()() {
    std::lock_guard lock(mu);
    ++count;
    cv.notify_all();
  }
  bool WaitBeyond(int seen, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return count > seen; });
  }
  int Count() {
    std::lock_guard lock(mu);
    return count;
  }
};

TEST(DirWatcher, WakesOnCreateAndWriteOfTheNamedFileOnly) {
  TempDir tmp;
  auto w = DirWatcher::Create();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Waker events, other;
  auto s1 = (*w)->Subscribe(tmp.path(), "events.jsonl", [&] { events(); });
  auto s2 = (*w)->Subscribe(tmp.path(), "other", [&] { other(); });
  ASSERT_TRUE(s1.ok() && s2.ok());

  std::ofstream(tmp.path() + "/stdout.log") << "noise";
  std::ofstream f(tmp.path() + "/events.jsonl");
  ASSERT_TRUE(events.WaitBeyond(0));  // created
  int seen = events.Count();
  f << "line\n" << std::flush;
  EXPECT_TRUE(events.WaitBeyond(seen));  // written
  EXPECT_EQ(other.Count(), 0);
}

TEST(DirWatcher, NoCallAfterUnsubscribeAndMissingDirIsNotFound) {
  TempDir tmp;
  auto w = DirWatcher::Create();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Subscribe(tmp.path() + "/nope", "x", [] {}).status().code(), Code::kNotFound);
  std::atomic<int> a{0}, b{0};
  auto sa = (*w)->Subscribe(tmp.path(), "f", [&] { ++a; });
  Waker wb;
  auto sb = (*w)->Subscribe(tmp.path(), "f", [&] {
    ++b;
    wb();
  });
  sa->reset();  // the shared watch stays for the other subscriber
  std::ofstream(tmp.path() + "/f") << "x";
  ASSERT_TRUE(wb.WaitBeyond(0));
  EXPECT_EQ(a.load(), 0);
  EXPECT_GE(b.load(), 1);
}

TEST(DirWatcher, DirectoryRemovalWakesSubscribers) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/run";
  std::filesystem::create_directory(dir);
  auto w = DirWatcher::Create();
  Waker wake;
  auto s = (*w)->Subscribe(dir, "events.jsonl", [&] { wake(); });
  ASSERT_TRUE(s.ok());
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(wake.WaitBeyond(0));
}

}  // namespace
}  // namespace outpost
