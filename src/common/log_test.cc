#include "common/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace outpost {
namespace {

using std::chrono::seconds;

class RateLimitedLog : public ::testing::Test {
 protected:
  RateLimitedLog() {
    auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink_ = MakeRateLimitedSink(inner, 3, seconds(60));
    sink_->set_pattern("%l %v");
  }
  void Log(spdlog::log_clock::time_point at, spdlog::level::level_enum level,
           const std::string& text) {
    sink_->log(spdlog::details::log_msg(at, {}, "outpost", level, text));
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
  const spdlog::log_clock::time_point t0_{std::chrono::hours(1000)};
};

TEST(LogLineKey, WordsWithDigitsAreOneKey) {
  EXPECT_EQ(LogLineKey("run 01M95D61ZB: cannot update (rc=13)"), "run # cannot update #");
  EXPECT_EQ(LogLineKey("run 01M95D61ZB: cannot update (rc=13)"),
            LogLineKey("run 01XYZ42: cannot update (rc=5)"));
  EXPECT_NE(LogLineKey("run 1 started"), LogLineKey("run 1 ended"));
}

// Issue 18 item 10: a failure repeated every tick (run ids differ) is written `burst` times a
// window, then summed up in one line.
TEST_F(RateLimitedLog, Item10_RepeatedLinesAreCappedAndSummarised) {
  for (int i = 0; i < 1000; ++i) {
    Log(t0_ + std::chrono::milliseconds(i), spdlog::level::warn,
        "run 01RUN" + std::to_string(i) + ": cannot update: disk is full (rc=13)");
  }
  Log(t0_ + seconds(1), spdlog::level::info, "another message");
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 4u) << out_.str();
  EXPECT_EQ(lines[0], "warning run 01RUN0: cannot update: disk is full (rc=13)");
  EXPECT_EQ(lines[3], "info another message");
  // The window ends: the next line comes with the summary first.
  Log(t0_ + seconds(61), spdlog::level::warn, "run 01RUNX1: cannot update: disk is full (rc=13)");
  lines = Lines();
  ASSERT_EQ(lines.size(), 6u) << out_.str();
  EXPECT_EQ(lines[4],
            "warning suppressed 997 similar lines in the last 60 s: run 01RUN3: cannot update: "
            "disk is full (rc=13)");
  EXPECT_EQ(lines[5], "warning run 01RUNX1: cannot update: disk is full (rc=13)");
}

TEST_F(RateLimitedLog, DifferentLevelsAndTextsAreCountedApart) {
  for (int i = 0; i < 5; ++i) {
    Log(t0_, spdlog::level::warn, "a");
    Log(t0_, spdlog::level::err, "a");
    Log(t0_, spdlog::level::warn, "b");
  }
  EXPECT_EQ(Lines().size(), 9u) << out_.str();
}

}  // namespace
}  // namespace outpost
