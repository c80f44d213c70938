#include "runner/shim/output_capture.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "common/encoding.h"
#include "common/files.h"
#include "runner/runner_test_util.h"

namespace outpost::shim {
namespace {

using outpost::testing::TempDir;
namespace json = boost::json;

struct Captured {
  std::vector<json::object> events;
  std::string Output(std::string_view stream) const {
    std::string out;
    for (const auto& e : events) {
      if (e.at("type").as_string() != "output" || e.at("stream").as_string() != stream) continue;
      std::string data(e.at("data").as_string());
      if (e.contains("encoding")) data = *Base64Decode(data);
      out += data;
    }
    return out;
  }
  std::vector<json::object> OfType(std::string_view type) const {
    std::vector<json::object> out;
    for (const auto& e : events) {
      if (e.at("type").as_string() == type) out.push_back(e);
    }
    return out;
  }
};

class OutputCaptureTest : public ::testing::Test {
 protected:
  void Start(std::int64_t limit, std::string parser = "plain") {
    auto w = EventLogWriter::Open(tmp_.path() + "/events.jsonl", RealClock::Instance());
    ASSERT_TRUE(w.ok());
    writer_ = std::move(*w);
    capture_ = std::make_unique<OutputCapture>(
        RunDir(tmp_.path()), writer_.get(), parser == "plain" ? nullptr : MakeParser(parser), limit,
        [this](std::string_view l) { diagnostics_ += std::string(l) + "\n"; });
    ASSERT_TRUE(capture_->Open().ok());
  }
  // Feeds `data` in chunks of `chunk` bytes.
  void Feed(OutStream s, std::string_view data, std::size_t chunk) {
    for (std::size_t i = 0; i < data.size(); i += chunk) capture_->Write(s, data.substr(i, chunk));
  }
  Captured Events() {
    Captured c;
    EventLogReader r(tmp_.path() + "/events.jsonl", 0);
    std::vector<EventLine> lines;
    EXPECT_TRUE(r.Read(lines, 1 << 30).ok());
    for (const auto& l : lines) c.events.push_back(json::parse(l.json).as_object());
    return c;
  }
  std::string Log(std::string_view name) {
    return *ReadFile(tmp_.path() + "/" + std::string(name));
  }

  TempDir tmp_;
  std::unique_ptr<EventLogWriter> writer_;
  std::unique_ptr<OutputCapture> capture_;
  std::string diagnostics_;
};

TEST_F(OutputCaptureTest, BelowTheCapLogsAndEventsHoldTheSameBytesPerStream) {
  Start(1 << 20);
  // "€" split across chunks and a byte that is no UTF-8 at all.
  std::string out = "hello \xE2\x82\xAC world\nline two\n";
  std::string err = "warn \xFF\xFE raw\n";
  Feed(OutStream::kStdout, out, 7);
  Feed(OutStream::kStderr, err, 3);
  capture_->Finish();
  EXPECT_EQ(Log("stdout.log"), out);
  EXPECT_EQ(Log("stderr.log"), err);
  Captured c = Events();
  EXPECT_EQ(c.Output("stdout"), out);
  EXPECT_EQ(c.Output("stderr"), err);
  for (const auto& e : c.OfType("output")) {
    if (!e.contains("encoding")) {
      EXPECT_TRUE(IsValidUtf8(e.at("data").as_string()));
    }
  }
  EXPECT_TRUE(c.OfType("truncated").empty());
  EXPECT_EQ(capture_->totals(OutStream::kStdout).bytes, static_cast<std::int64_t>(out.size()));
  EXPECT_EQ(capture_->totals(OutStream::kStdout).dropped, 0);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/stdout.tail"));
}

// limit 800: head 400 (shared), then 100 live per stream, then a 100-byte ring per stream.
TEST_F(OutputCaptureTest, OverTheCapKeepsHeadAndTailAndCountsTheDroppedBytesExactly) {
  Start(800);
  std::string out;
  for (int i = 0; out.size() < 5000; ++i) out += "line " + std::to_string(i) + "\n";
  out.resize(5000);
  std::string err(150, 'e');
  capture_->Write(OutStream::kStderr, err.substr(0, 50));  // 50 of the head go to stderr
  Feed(OutStream::kStdout, out, 333);
  capture_->Write(OutStream::kStderr, err.substr(50));  // 100 more: all live, none dropped
  capture_->Finish();

  const std::size_t head_out = 350, live = 100, tail = 100;
  EXPECT_EQ(Log("stdout.log"), out.substr(0, head_out + live) + out.substr(out.size() - tail));
  EXPECT_EQ(Log("stderr.log"), err);
  Captured c = Events();
  EXPECT_EQ(c.Output("stdout"), Log("stdout.log"));
  EXPECT_EQ(c.Output("stderr"), err);
  std::vector<json::object> t = c.OfType("truncated");
  ASSERT_EQ(t.size(), 2u);  // stdout: the start of dropping, then the count
  EXPECT_EQ(t[0].at("stream"), "stdout");
  EXPECT_EQ(t[0].at("limit").as_int64(), 800);
  const std::int64_t dropped = 5000 - static_cast<std::int64_t>(head_out + live + tail);
  EXPECT_EQ(t[1].at("droppedBytes").as_int64(), dropped);
  EXPECT_EQ(t[1].at("tailBytes").as_int64(), 100);
  EXPECT_EQ(capture_->totals(OutStream::kStdout).bytes, 5000);
  EXPECT_EQ(capture_->totals(OutStream::kStdout).dropped, dropped);
  EXPECT_EQ(capture_->totals(OutStream::kStderr).dropped, 0);
  // The tail comes after the count, so a follower sees the gap where it is.
  std::int64_t count_seq = t[1].at("seq").as_int64();
  std::string after;
  for (const auto& e : c.OfType("output")) {
    if (e.at("seq").as_int64() > count_seq) after += e.at("data").as_string();
  }
  EXPECT_EQ(after, out.substr(out.size() - tail));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/stdout.tail"));
}

TEST_F(OutputCaptureTest, AgentEventsFromStdoutLinesCountTurns) {
  Start(1 << 20, "claude-stream-json");
  std::string lines =
      R"({"type":"assistant","message":{"content":[{"type":"text","text":"Looking."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}})"
      "\n"
      R"({"type":"user","message":{"content":[{"tool_use_id":"t1","type":"tool_result","content":"a.txt"}]}})"
      "\n"
      R"({"type":"assistant","message":{"content":[{"type":"text","text":"Done."}]}})";
  Feed(OutStream::kStdout, lines, 10);  // the last line has no newline: Finish parses it
  capture_->Finish();
  Captured c = Events();
  std::vector<json::object> messages = c.OfType("agent_message");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("text"), "Looking.");
  EXPECT_EQ(messages[0].at("turn").as_int64(), 1);
  EXPECT_EQ(messages[1].at("turn").as_int64(), 2);
  ASSERT_EQ(c.OfType("tool_call").size(), 1u);
  EXPECT_NE(c.OfType("tool_call")[0].at("text").as_string().find("Bash"), std::string::npos);
  ASSERT_EQ(c.OfType("tool_result").size(), 1u);
  EXPECT_EQ(c.Output("stdout"), lines);
}

TEST_F(OutputCaptureTest, WithoutAnEventLogTheLogsAreStillWritten) {
  capture_ = std::make_unique<OutputCapture>(RunDir(tmp_.path()), nullptr, nullptr, 1 << 20,
                                             [](std::string_view) {});
  ASSERT_TRUE(capture_->Open().ok());
  capture_->Write(OutStream::kStdout, "x\n");
  capture_->Finish();
  EXPECT_EQ(Log("stdout.log"), "x\n");
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/events.jsonl"));
}

}  // namespace
}  // namespace outpost::shim
