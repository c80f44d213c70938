#include "runner/event_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/files.h"
#include "runner/runner_test_util.h"

namespace outpost {
namespace {

using testing::TempDir;
namespace json = boost::json;

std::vector<EventLine> ReadAll(const std::string& path, std::int64_t after = 0) {
  EventLogReader r(path, after);
  std::vector<EventLine> out;
  EXPECT_TRUE(r.Read(out, 1 << 30).ok());
  return out;
}

std::vector<std::int64_t> Seqs(const std::vector<EventLine>& events) {
  std::vector<std::int64_t> s;
  for (const auto& e : events) s.push_back(e.seq);
  return s;
}

void AppendRaw(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, bytes).ok());
  ::close(fd);
}

TEST(EventLog, SeqStartsAtOneAndLinesHaveTheFixedPrefix) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  SimulatedClock clock;
  auto w = EventLogWriter::Open(path, clock);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(*(*w)->Append("output", {{"stream", "stdout"}, {"data", "a\"b\n"}}), 1);
  EXPECT_EQ(*(*w)->Append("end", {{"status", "COMPLETED"}}), 2);
  std::string text = *ReadFile(path);
  EXPECT_EQ(text,
            "{\"seq\":1,\"ts\":\"2023-11-14T22:13:20.000Z\",\"type\":\"output\",\"stream\":"
            "\"stdout\",\"data\":\"a\\\"b\\n\"}\n"
            "{\"seq\":2,\"ts\":\"2023-11-14T22:13:20.000Z\",\"type\":\"end\",\"status\":"
            "\"COMPLETED\"}\n");
  std::vector<EventLine> events = ReadAll(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "output");
  EXPECT_EQ(events[1].type, "end");
  EXPECT_EQ(events[1].json + "\n", text.substr(text.find("{\"seq\":2")));
}

TEST(EventLog, ReopeningContinuesTheSequence) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  RealClock& clock = RealClock::Instance();
  {
    auto w = EventLogWriter::Open(path, clock);
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*w)->Append("phase", {{"phase", "x"}}).ok());
  }
  auto w = EventLogWriter::Open(path, clock);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->last_seq(), 5);
  EXPECT_EQ((*w)->last_type(), "phase");
  EXPECT_EQ(*(*w)->Append("end"), 6);
  EXPECT_EQ(Seqs(ReadAll(path)), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
}

// A real writer process killed (-9) in the middle of a line: the torn line was never an event,
// its seq is used by the next writer, and nothing is delivered twice or skipped.
TEST(EventLog, CrashedWritersTornLineIsCutAndItsSeqReused) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  pid_t child = ::fork();
  if (child == 0) {
    auto w = EventLogWriter::Open(path, RealClock::Instance());
    if (!w.ok()) _exit(2);
    for (int i = 0; i < 100; ++i) {
      if (!(*w)->Append("output", {{"stream", "stdout"}, {"data", std::to_string(i)}}).ok())
        _exit(3);
    }
    // What a write cut short by the kill leaves: the first half of event 101.
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    std::string torn = "{\"seq\":101,\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"outp";
    if (::write(fd, torn.data(), torn.size()) != static_cast<ssize_t>(torn.size())) _exit(4);
    ::kill(::getpid(), SIGKILL);
    _exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  // A follower that read before the recovery saw 100 events, never the torn one.
  EventLogReader follower(path, 0);
  std::vector<EventLine> seen;
  ASSERT_TRUE(follower.Read(seen, 1 << 20).ok());
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen.back().seq, 100);

  auto w = EventLogWriter::Open(path, RealClock::Instance(), Millis(1000));
  ASSERT_TRUE(w.ok()) << w.status().ToString();  // the dead writer's lock died with it
  EXPECT_EQ((*w)->last_seq(), 100);
  EXPECT_EQ(*(*w)->Append("end", {{"status", "FAILED"}}), 101);

  ASSERT_TRUE(follower.Read(seen, 1 << 20).ok());
  std::vector<std::int64_t> expected(101);
  for (int i = 0; i < 101; ++i) expected[static_cast<std::size_t>(i)] = i + 1;
  EXPECT_EQ(Seqs(seen), expected);
  EXPECT_EQ(seen.back().type, "end");
  EXPECT_TRUE(follower.ended());
  EXPECT_EQ(Seqs(ReadAll(path)), expected);
}

TEST(EventLog, GarbageAfterTheLastGoodLineIsCut) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  {
    auto w = EventLogWriter::Open(path, RealClock::Instance());
    ASSERT_TRUE((*w)->Append("phase", {{"phase", "running"}}).ok());
    ASSERT_TRUE((*w)->Append("phase", {{"phase", "collecting"}}).ok());
  }
  // A machine crash can leave zeroed blocks and half lines behind the data.
  AppendRaw(path, std::string(300, '\0') + "\n{\"seq\":3,\"ts\":\"x\",\"type\":\"ou\n{\"seq\":");
  auto w = EventLogWriter::Open(path, RealClock::Instance());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->last_seq(), 2);
  EXPECT_EQ((*w)->last_type(), "phase");
  EXPECT_EQ(*(*w)->Append("end"), 3);
  EXPECT_EQ(Seqs(ReadAll(path)), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(EventLog, SecondWriterWaitsForTheLock) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  auto first = EventLogWriter::Open(path, RealClock::Instance());
  ASSERT_TRUE(first.ok());
  auto second = EventLogWriter::Open(path, RealClock::Instance(), Millis(30));
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  first->reset();
  second = EventLogWriter::Open(path, RealClock::Instance(), Millis(30));
  EXPECT_TRUE(second.ok());
}

TEST(EventLog, ReaderDeliversOnlyWholeLinesAndResumesAfterASeq) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  EventLogReader early(path, 0);  // before the file exists
  std::vector<EventLine> got;
  ASSERT_TRUE(early.Read(got).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(early.exists());

  auto w = EventLogWriter::Open(path, RealClock::Instance());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Append("output", {{"data", "x"}}).ok());
  AppendRaw(path, "{\"seq\":4,\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"output\"");
  ASSERT_TRUE(early.Read(got).ok());
  EXPECT_EQ(Seqs(got), (std::vector<std::int64_t>{1, 2, 3}));
  AppendRaw(path, "}\n");  // the line is finished
  ASSERT_TRUE(early.Read(got).ok());
  EXPECT_EQ(Seqs(got), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(early.last_seq(), 4);
}

// Resuming deep into a large log bisects by byte offset instead of reading from the start.
TEST(EventLog, ResumeAfterAnySeqOfALargeLog) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  auto w = EventLogWriter::Open(path, RealClock::Instance());
  for (int i = 1; i <= 20000; ++i) {
    std::string data(static_cast<std::size_t>(i % 97) * 7, 'a' + static_cast<char>(i % 26));
    ASSERT_TRUE((*w)->Append("output", {{"stream", "stdout"}, {"data", data}}).ok());
  }
  ASSERT_TRUE((*w)->Append("end").ok());
  for (std::int64_t after : {0, 1, 2, 999, 10000, 15873, 19999, 20000, 20001, 25000}) {
    EventLogReader r(path, after);
    std::vector<EventLine> got;
    ASSERT_TRUE(r.Read(got, 4096).ok());
    if (after >= 20001) {
      EXPECT_TRUE(got.empty()) << after;
      continue;
    }
    ASSERT_FALSE(got.empty()) << after;
    EXPECT_EQ(got.front().seq, after + 1) << after;
    for (std::size_t i = 1; i < got.size(); ++i) EXPECT_EQ(got[i].seq, got[i - 1].seq + 1);
  }
}

// Lines longer than the bisection's window (a run's big output chunks): a fresh reader after
// any seq still returns the next event on its first Read (a Seek that lands early is read on
// from, never answered with nothing).
TEST(EventLog, AFreshReaderAfterAnySeqOfLongLinesReturnsTheNext) {
  TempDir tmp;
  const std::string path = tmp.path() + "/events.jsonl";
  auto w = EventLogWriter::Open(path, RealClock::Instance());
  for (int i = 1; i <= 300; ++i) {
    std::string data(70 * 1024 + static_cast<std::size_t>(i % 13) * 999, 'a');
    ASSERT_TRUE((*w)->Append("output", {{"stream", "stdout"}, {"data", data}}).ok());
  }
  for (std::int64_t after = 0; after < 300; ++after) {
    EventLogReader r(path, after);
    std::vector<EventLine> got;
    ASSERT_TRUE(r.Read(got, 64 * 1024).ok());
    ASSERT_FALSE(got.empty()) << after;
    EXPECT_EQ(got.front().seq, after + 1);
  }
}

TEST(EventLog, PrefixParserRejectsForeignLines) {
  EXPECT_FALSE(ParseEventPrefix("hello").has_value());
  EXPECT_FALSE(ParseEventPrefix("{\"seq\":0,\"ts\":\"t\",\"type\":\"x\"}").has_value());
  EXPECT_FALSE(ParseEventPrefix("{\"seq\":5,\"ts\":\"t\"}").has_value());
  auto e = ParseEventPrefix("{\"seq\":12,\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"end\"}");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->seq, 12);
  EXPECT_EQ(e->type, "end");
}

}  // namespace
}  // namespace outpost
