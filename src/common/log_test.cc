#include "common/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json.hpp>
#include <sstream>

#include "common/log_format.h"

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

// --log-format json: one object per line that a JSON parser reads back, the level in capitals
// (what CloudWatch Logs' `--filter-pattern ERROR` matches), escapes for quotes, backslashes,
// newlines and control bytes, UTF-8 passed through; the rate limiter's summary line too.
TEST(JsonLogFormat, OneParsableObjectPerLineWithACapitalLevel) {
  std::ostringstream out;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto sink = MakeRateLimitedSink(inner, 1, seconds(60));
  sink->set_formatter(MakeJsonLogFormatter());
  const spdlog::log_clock::time_point t0{std::chrono::milliseconds(1'765'048'219'123)};
  const std::string tricky = "run 01X: \"quoted\" back\\slash\nnew line\ttab \x01 ünïcødé";
  sink->log(spdlog::details::log_msg(t0, {}, "outpost", spdlog::level::err, tricky));
  sink->log(spdlog::details::log_msg(t0, {}, "outpost", spdlog::level::info, "started"));
  sink->log(spdlog::details::log_msg(t0, {}, "outpost", spdlog::level::warn, "disk low 1"));
  sink->log(spdlog::details::log_msg(t0, {}, "outpost", spdlog::level::warn, "disk low 2"));
  sink->log(spdlog::details::log_msg(t0 + seconds(61), {}, "outpost", spdlog::level::debug, "x"));
  std::vector<boost::json::object> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    ASSERT_TRUE(v.is_object()) << line;
    lines.push_back(v.get_object());
  }
  ASSERT_EQ(lines.size(), 5u) << out.str();
  EXPECT_EQ(lines[0].at("time").as_string(), "2025-12-06T19:10:19.123Z");
  EXPECT_EQ(lines[0].at("level").as_string(), "ERROR");
  EXPECT_EQ(lines[0].at("message").as_string(), tricky);
  EXPECT_EQ(lines[1].at("level").as_string(), "INFO");
  EXPECT_EQ(lines[2].at("level").as_string(), "WARN");
  // The second "disk low" was suppressed; its summary is a JSON line at its level.
  EXPECT_EQ(lines[3].at("level").as_string(), "WARN");
  EXPECT_NE(std::string(lines[3].at("message").as_string()).find("suppressed 1 similar"),
            std::string::npos);
  EXPECT_EQ(lines[4].at("level").as_string(), "DEBUG");
  EXPECT_EQ(out.str().find("\x1b["), std::string::npos);  // no colour codes
}

}  // namespace
}  // namespace outpost
