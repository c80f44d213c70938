#include "core/log_lines.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/encoding.h"
#include "core/event_pump.h"
#include "runner/event_log.h"
#include "runner/process_runner.h"
#include "store/sqlite/sqlite_event_log.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

class LogLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The events as the process runner keeps them, copied into the event log by the pump
    // (Pump): LogLines reads them there.
    dir_ = tmp_.path() + "/runs/run1";
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/events.jsonl";
    writer_ = std::move(EventLogWriter::Open(path_, clock_).value());
  }
  void Out(std::string_view stream, std::string_view data) {
    ASSERT_TRUE(writer_->Append("output", {{"stream", stream}, {"data", data}}).ok());
  }
  void Pump() { ASSERT_TRUE(pump_.Flush(id_).ok()); }
  std::vector<std::string> Messages(const LogPage& p) {
    std::vector<std::string> m;
    for (const auto& e : p.entries) m.push_back(e.stream + ":" + e.message);
    return m;
  }

  SimulatedClock clock_;
  testing::TempDir tmp_{"oll"};
  std::string dir_, path_;
  std::unique_ptr<EventLogWriter> writer_;
  ProcessRunner runner_{tmp_.path() + "/runs", "/bin/true", clock_};
  std::unique_ptr<SqliteEventLog> log_ = SqliteEventLog::Open(tmp_.path() + "/runs.db").value();
  EventPump pump_{runner_, *log_, clock_, nullptr};
  const RunId id_{"run1"};
};

TEST_F(LogLinesTest, LinesOfBothStreamsAreNumberedInCompletionOrder) {
  Out("stdout", "one\ntw");
  Out("stderr", "err\r\n");
  Out("stdout", "o\nthree\n");
  ASSERT_TRUE(writer_->Append("phase", {{"phase", "running"}}).ok());
  Pump();
  LogLines lines(*log_, id_);
  Result<LogPage> p = lines.Page(0, 100);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Messages(*p),
            (std::vector<std::string>{"stdout:one", "stderr:err", "stdout:two", "stdout:three"}));
  EXPECT_EQ(p->entries[2].offset, 2);
  EXPECT_EQ(p->entries[0].timestamp, "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(p->next_offset, 4);
  EXPECT_FALSE(p->has_more);
}

TEST_F(LogLinesTest, PagesContinueWhereTheLastEndedAndPartialLinesWaitForTheEnd) {
  for (int i = 0; i < 25; ++i) Out("stdout", "line " + std::to_string(i) + "\n");
  Out("stdout", "no newline yet");
  Pump();
  LogLines lines(*log_, id_);
  Result<LogPage> a = lines.Page(0, 10);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->entries.size(), 10u);
  EXPECT_TRUE(a->has_more);
  EXPECT_EQ(a->next_offset, 10);
  Result<LogPage> b = lines.Page(20, 10);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->entries.size(), 5u);
  EXPECT_EQ(b->entries[0].message, "line 20");
  EXPECT_FALSE(b->has_more);  // the unfinished line is not an entry yet
  EXPECT_EQ(b->next_offset, 25);
  ASSERT_TRUE(writer_->Append("end", {{"status", "COMPLETED"}}).ok());
  Pump();
  Result<LogPage> c = lines.Page(25, 10);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->entries.size(), 1u);
  EXPECT_EQ(c->entries[0].message, "no newline yet");
  Result<LogPage> past = LogLines(*log_, id_).Page(500, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->entries.empty());
  EXPECT_EQ(past->next_offset, 500);
}

TEST_F(LogLinesTest, DroppedOutputIsAnEntryAndBinaryIsDecoded) {
  Out("stdout", "head line\npartial");
  ASSERT_TRUE(writer_->Append("truncated", {{"stream", "stdout"}, {"limit", 800}}).ok());
  ASSERT_TRUE(
      writer_
          ->Append("truncated", {{"stream", "stdout"}, {"droppedBytes", 1234}, {"tailBytes", 100}})
          .ok());
  Out("stdout", "tail\n");
  ASSERT_TRUE(writer_
                  ->Append("output", {{"stream", "stderr"},
                                      {"data", Base64Encode("bin \xFF\n")},
                                      {"encoding", "base64"}})
                  .ok());
  Pump();
  Result<LogPage> p = LogLines(*log_, id_).Page(0, 100);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Messages(*p), (std::vector<std::string>{
                              "stdout:head line", "stdout:partial",
                              "outpost:[1234 bytes of stdout dropped: output over the run's limit]",
                              "stdout:tail", "stderr:bin \xEF\xBF\xBD"}));
}

}  // namespace
}  // namespace outpost
