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

// limit 800: a head of 600 bytes (both streams), then tails sharing 200 bytes.
TEST_F(OutputCaptureTest, OverTheCapKeepsHeadAndTailAndCountsTheDroppedBytesExactly) {
  Start(800);
  std::string out;
  for (int i = 0; out.size() < 5000; ++i) out += "line " + std::to_string(i) + "\n";
  out.resize(5000);
  std::string err(150, 'e');
  capture_->Write(OutStream::kStderr, err.substr(0, 50));  // 50 of the head go to stderr
  Feed(OutStream::kStdout, out, 333);                      // 550 head, 4450 to the tail
  capture_->Write(OutStream::kStderr, err.substr(50));     // 100 to stderr's tail
  capture_->Finish();

  // The tails share 200: stderr has only 100, stdout gets the other 100.
  EXPECT_EQ(Log("stdout.log"), out.substr(0, 550) + out.substr(out.size() - 100));
  EXPECT_EQ(Log("stderr.log"), err);
  Captured c = Events();
  EXPECT_EQ(c.Output("stdout"), Log("stdout.log"));
  EXPECT_EQ(c.Output("stderr"), err);
  std::vector<json::object> t = c.OfType("truncated");
  ASSERT_EQ(t.size(), 4u);  // where each stream started to go to its tail, then the counts
  EXPECT_EQ(t[0].at("stream").as_string(), "stdout");
  EXPECT_EQ(t[0].at("limit").as_int64(), 800);
  EXPECT_EQ(t[1].at("stream").as_string(), "stderr");
  EXPECT_EQ(t[2].at("stream").as_string(), "stdout");
  EXPECT_EQ(t[2].at("droppedBytes").as_int64(), 5000 - 550 - 100);
  EXPECT_EQ(t[2].at("tailBytes").as_int64(), 100);
  EXPECT_EQ(t[3].at("droppedBytes").as_int64(), 0);
  EXPECT_EQ(t[3].at("tailBytes").as_int64(), 100);
  EXPECT_EQ(capture_->totals(OutStream::kStdout).bytes, 5000);
  EXPECT_EQ(capture_->totals(OutStream::kStdout).dropped, 4350);
  EXPECT_EQ(capture_->totals(OutStream::kStderr).dropped, 0);
  // The tail comes after the count, so a follower sees the gap where it is.
  std::int64_t count_seq = t[2].at("seq").as_int64();
  std::string after;
  for (const auto& e : c.OfType("output")) {
    if (e.at("seq").as_int64() > count_seq && e.at("stream").as_string() == "stdout") {
      after += e.at("data").as_string();
    }
  }
  EXPECT_EQ(after, out.substr(out.size() - 100));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/stdout.tail"));
}

// Output of up to the limit is kept whole, even when it is all one stream.
TEST_F(OutputCaptureTest, OneStreamUpToTheLimitIsKeptWhole) {
  Start(800);
  std::string out(800, 'x');
  Feed(OutStream::kStdout, out, 64);
  capture_->Finish();
  EXPECT_EQ(Log("stdout.log"), out);
  EXPECT_EQ(capture_->totals(OutStream::kStdout).dropped, 0);
  Captured c = Events();
  EXPECT_EQ(c.Output("stdout"), out);
}

TEST(OutputCaptureTails, EachTailGetsHalfOrWhatItHasAndTheOtherTheRest) {
  using A = std::array<std::int64_t, 2>;
  EXPECT_EQ(OutputCapture::TailShares(200, {0, 0}), (A{0, 0}));
  EXPECT_EQ(OutputCapture::TailShares(200, {5000, 0}), (A{200, 0}));
  EXPECT_EQ(OutputCapture::TailShares(200, {0, 5000}), (A{0, 200}));
  EXPECT_EQ(OutputCapture::TailShares(200, {5000, 5000}), (A{100, 100}));
  EXPECT_EQ(OutputCapture::TailShares(200, {30, 5000}), (A{30, 170}));
  EXPECT_EQ(OutputCapture::TailShares(200, {5000, 30}), (A{170, 30}));
  EXPECT_EQ(OutputCapture::TailShares(201, {5000, 5000}), (A{101, 100}));
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
  // The call and its result as structured, paired events.
  const json::object call = c.OfType("tool_call")[0];
  EXPECT_EQ(call.at("id"), "t1");
  EXPECT_EQ(call.at("name"), "Bash");
  EXPECT_EQ(call.at("input"), (json::object{{"command", "ls"}}));
  const json::object result = c.OfType("tool_result")[0];
  EXPECT_EQ(result.at("id"), "t1");
  EXPECT_EQ(result.at("output"), "a.txt");
  EXPECT_EQ(result.at("isError"), false);
}

TEST_F(OutputCaptureTest, RetriesAndRefusedConnectionsAreErrorEventsThatSaySo) {
  Start(1 << 20, "claude-stream-json");
  Feed(
      OutStream::kStdout,
      R"({"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"retry_delay_ms":1200,"error_status":529,"error":"overloaded_error"})"
      "\n",
      1000);
  capture_->NetworkRefused("github.com", 443, "not in allowlist");
  capture_->Finish();
  std::vector<json::object> errors = Events().OfType("error");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("message"), "HTTP 529 overloaded_error");
  EXPECT_EQ(errors[0].at("retrying"), true);
  EXPECT_EQ(errors[0].at("attempt"), 2);
  EXPECT_EQ(errors[0].at("maxAttempts"), 10);
  EXPECT_EQ(errors[0].at("delayMs"), 1200);
  EXPECT_EQ(errors[1].at("source"), "network");
  EXPECT_EQ(errors[1].at("host"), "github.com");
  EXPECT_EQ(errors[1].at("port"), 443);
  EXPECT_EQ(errors[1].at("message"),
            "connection to github.com:443 refused by the network allowlist (not in allowlist)");
}

TEST_F(OutputCaptureTest, AToolInputTooLargeForAnEventIsItsTextCut) {
  Start(1 << 20, "claude-stream-json");
  const std::string big(10000, 'x');
  Feed(
      OutStream::kStdout,
      R"({"type":"assistant","message":{"content":[{"type":"tool_use","id":"t9","name":"Write","input":{"content":")" +
          big + "\"}}]}}\n",
      1 << 16);
  capture_->Finish();
  const json::object call = Events().OfType("tool_call").at(0);
  ASSERT_TRUE(call.at("input").is_string());
  EXPECT_LE(call.at("input").as_string().size(), 4096u + 3);
  EXPECT_TRUE(call.at("input").as_string().ends_with("…"));
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

namespace outpost::shim {
namespace {

std::int64_t StoredBytes(const std::string& dir) {
  std::int64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) n += static_cast<std::int64_t>(e.file_size());
  }
  return n;
}

// Issue 18 item 10: what a run keeps of its output (logs, tails, events.jsonl) stays within
// 4 x its limit C, while it runs and after — also for output that JSON escapes six-fold
// (control characters) and for binary output. Before: events.jsonl alone held ~6 x C.
TEST_F(OutputCaptureTest, Item10_StoredOutputStaysWithinFourTimesTheLimit) {
  constexpr std::int64_t kLimit = 64 * 1024;
  Start(kLimit);
  std::string binary;
  for (int i = 0; i < (1 << 20); ++i) binary += static_cast<char>((i % 251) * 7 % 256);
  Feed(OutStream::kStdout, std::string(4 << 20, '\x01'), 65536);
  Feed(OutStream::kStderr, binary, 65536);
  EXPECT_LE(StoredBytes(tmp_.path()), 4 * kLimit);
  capture_->Finish();
  EXPECT_LE(StoredBytes(tmp_.path()), 4 * kLimit);
  Captured c = Events();
  EXPECT_EQ(c.Output("stdout"), Log("stdout.log"));
  EXPECT_EQ(c.Output("stderr"), Log("stderr.log"));
}

}  // namespace
}  // namespace outpost::shim
