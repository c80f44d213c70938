#include "runner/shim/output_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>

#include "common/encoding.h"
#include "common/files.h"

namespace outpost::shim {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxEventText = 4096;
constexpr std::size_t kMaxParsedLine = 1 << 20;  // a longer "line" goes to the parser in pieces
constexpr std::size_t kTailPiece = 64 * 1024;

// At most kMaxEventText bytes, cut at a character boundary, marked when cut.
std::string Clip(const std::string& text) {
  if (text.size() <= kMaxEventText) return text;
  std::string_view head(text.data(), kMaxEventText);
  return std::string(head.substr(0, Utf8CompletePrefix(head))) + "…";
}

// A tool's input as JSON: the object itself when it is small enough, else its text clipped
// (a string, marked "…").
json::value ToolInput(const std::string& input_json) {
  if (input_json.empty()) return json::object();
  if (input_json.size() <= kMaxEventText) {
    boost::system::error_code ec;
    json::value v = json::parse(input_json, ec);
    if (!ec) return v;
  }
  return json::value(Clip(input_json));
}

json::object AgentEventFields(const AgentEvent& e, std::int64_t turn) {
  switch (e.kind) {
    case AgentEvent::Kind::kAssistant:
      return {{"text", Clip(e.text)}, {"turn", turn}};
    case AgentEvent::Kind::kToolCall:
      return {{"id", e.tool_id},
              {"name", e.tool_name},
              {"input", ToolInput(e.tool_input)},
              {"text", Clip(e.text)}};
    case AgentEvent::Kind::kToolResult:
      return {{"id", e.tool_id}, {"output", Clip(e.text)}, {"isError", e.is_error}};
    case AgentEvent::Kind::kRetry: {
      json::object o{{"message", Clip(e.text)}, {"source", "agent"}, {"retrying", true}};
      if (e.attempt > 0) o["attempt"] = e.attempt;
      if (e.max_attempts > 0) o["maxAttempts"] = e.max_attempts;
      if (e.delay_ms > 0) o["delayMs"] = e.delay_ms;
      return o;
    }
    case AgentEvent::Kind::kUsage:
      return {{"inputTokens", e.input_tokens}, {"outputTokens", e.output_tokens}};
    case AgentEvent::Kind::kError:
      return {{"message", Clip(e.text)}, {"source", "agent"}};
  }
  return {};
}

std::string_view AgentEventType(AgentEvent::Kind k) {
  switch (k) {
    case AgentEvent::Kind::kAssistant:
      return event::kAgentMessage;
    case AgentEvent::Kind::kToolCall:
      return event::kToolCall;
    case AgentEvent::Kind::kToolResult:
      return event::kToolResult;
    case AgentEvent::Kind::kUsage:
      return event::kUsage;
    case AgentEvent::Kind::kError:
    case AgentEvent::Kind::kRetry:
      return event::kError;
  }
  return event::kError;
}

// The size of `text` as a JSON string's content: what boost::json writes for it.
std::size_t JsonStringSize(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (u < 0x20) {
      n += 6;
    } else {
      ++n;
    }
  }
  return n;
}

}  // namespace

OutputCapture::OutputCapture(const RunDir& dir, EventLogWriter* events,
                             std::unique_ptr<OutputParser> parser, std::int64_t max_output_bytes,
                             std::function<void(std::string_view)> log)
    : events_(events),
      parser_(std::move(parser)),
      limit_(std::max<std::int64_t>(max_output_bytes, 8)),
      tail_budget_(limit_ / 4),
      head_left_(limit_ - tail_budget_),
      agent_budget_(limit_ / 4),
      log_(std::move(log)),
      dir_(dir.path()) {
  streams_[0].name = "stdout";
  streams_[1].name = "stderr";
  for (StreamState& s : streams_) {
    s.ring = std::make_unique<TailRing>(dir.File(s.name + ".tail"), tail_budget_);
  }
}

Status OutputCapture::Open() {
  for (StreamState& s : streams_) {
    const std::string path = dir_ + "/" + s.name + ".log";
    s.log_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (s.log_fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

void OutputCapture::Write(OutStream which, std::string_view data) {
  if (data.empty()) return;
  StreamState& s = st(which);
  s.totals.bytes += static_cast<std::int64_t>(data.size());
  if (which == OutStream::kStdout) ParseStdout(data);
  if (head_left_ > 0) {
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::int64_t>(head_left_, static_cast<std::int64_t>(data.size())));
    Keep(s, data.substr(0, n));
    head_left_ -= static_cast<std::int64_t>(n);
    data.remove_prefix(n);
  }
  if (!data.empty()) Overflow(s, data);
}

// Past the head: the stream's ring keeps its last bytes; the end decides how many of them.
void OutputCapture::Overflow(StreamState& s, std::string_view data) {
  if (s.ring->written() == 0) {
    EmitOutput(s, {}, /*flush=*/true);  // the kept part ends here: no character waits for more
    Append(event::kTruncated,
           {{"stream", s.name},
            {"limit", limit_},
            {"message", "output over the run's limit of " + std::to_string(limit_) +
                            " bytes: from here on only the last bytes of " + s.name +
                            " are kept (at most " + std::to_string(tail_budget_) +
                            "), the rest is dropped"}});
  }
  if (Status st = s.ring->Write(data); !st.ok()) log_("output tail: " + st.message());
}

void OutputCapture::Keep(StreamState& s, std::string_view data) {
  if (Status st = WriteAll(s.log_fd, data); !st.ok() && !write_error_logged_) {
    write_error_logged_ = true;
    log_("cannot write " + s.name + ".log: " + st.message());
  }
  EmitOutput(s, data, /*flush=*/false);
}

void OutputCapture::EmitOutput(StreamState& s, std::string_view data, bool flush) {
  if (events_ == nullptr) return;
  std::string_view chunk = data;
  std::string joined;
  if (!s.utf8_carry.empty()) {
    joined = std::exchange(s.utf8_carry, {});
    joined.append(data);
    chunk = joined;
  }
  const std::size_t cut = flush ? chunk.size() : Utf8CompletePrefix(chunk);
  s.utf8_carry.assign(chunk.substr(cut));
  chunk = chunk.substr(0, cut);
  if (chunk.empty()) return;
  // Text unless escaping more than doubles it (control characters escape to six bytes each;
  // newlines and quotes to two): base64 then, so an output event's data is at most twice its
  // bytes (issue 18 item 10).
  if (IsValidUtf8(chunk) && JsonStringSize(chunk) <= 2 * chunk.size()) {
    Append(event::kOutput, {{"stream", s.name}, {"data", chunk}});
  } else {
    Append(event::kOutput,
           {{"stream", s.name}, {"data", Base64Encode(chunk)}, {"encoding", "base64"}});
  }
}

void OutputCapture::ParseStdout(std::string_view data) {
  if (!parser_) return;
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      line_.append(data);
      if (line_.size() >= kMaxParsedLine) ParseLine(std::exchange(line_, {}));
      return;
    }
    if (line_.empty()) {
      ParseLine(data.substr(0, nl));
    } else {
      line_.append(data.substr(0, nl));
      ParseLine(std::exchange(line_, {}));
    }
    data.remove_prefix(nl + 1);
  }
}

void OutputCapture::ParseLine(std::string_view line) {
  parser_->Line(line);
  EmitAgentEvents();
}

void OutputCapture::EmitAgentEvents() {
  for (const AgentEvent& e : parser_->TakeEvents()) {
    if (e.kind == AgentEvent::Kind::kAssistant) ++turns_;
    json::object fields = AgentEventFields(e, turns_);
    // What it takes in events.jsonl, escaping included.
    const auto cost = static_cast<std::int64_t>(json::serialize(fields).size()) + 64;
    if (agent_budget_ < cost) {
      ++agent_events_dropped_;
      continue;
    }
    agent_budget_ -= cost;
    Append(AgentEventType(e.kind), fields);
  }
}

std::array<std::int64_t, 2> OutputCapture::TailShares(std::int64_t budget,
                                                      std::array<std::int64_t, 2> written) {
  const std::int64_t out = std::min(written[0], budget - std::min(written[1], budget / 2));
  return {out, std::min(written[1], budget - out)};
}

void OutputCapture::FinishTail(StreamState& s, std::int64_t keep) {
  EmitOutput(s, {}, /*flush=*/true);
  if (s.ring->written() == 0) return;
  s.totals.dropped = s.ring->written() - keep;
  Append(event::kTruncated,
         {{"stream", s.name}, {"droppedBytes", s.totals.dropped}, {"tailBytes", keep}});
  Status st = s.ring->ReadLast(
      keep, [&](std::string_view piece) { Keep(s, piece); }, kTailPiece);
  if (!st.ok()) log_("output tail of " + s.name + " lost: " + st.message());
  EmitOutput(s, {}, /*flush=*/true);
  s.ring->Remove();
}

void OutputCapture::Finish() {
  if (parser_ && !line_.empty()) ParseLine(std::exchange(line_, {}));
  if (parser_) result_ = parser_->Finish();
  const std::array<std::int64_t, 2> keep =
      TailShares(tail_budget_, {streams_[0].ring->written(), streams_[1].ring->written()});
  for (std::size_t i = 0; i < streams_.size(); ++i) FinishTail(streams_[i], keep[i]);
  if (agent_events_dropped_ > 0) {
    Append(event::kTruncated, {{"agentEventsDropped", agent_events_dropped_},
                               {"message", "agent events over the run's budget were dropped"}});
  }
  for (StreamState& s : streams_) {
    if (s.log_fd >= 0) ::close(s.log_fd);
    s.log_fd = -1;
  }
}

void OutputCapture::NetworkRefused(std::string_view host, int port, std::string_view reason) {
  Append(event::kError,
         {{"message", "connection to " + std::string(host) + ":" + std::to_string(port) +
                          " refused by the network " + "allowlist (" + std::string(reason) + ")"},
          {"source", "network"},
          {"host", host},
          {"port", port},
          {"reason", reason}});
}

void OutputCapture::Append(std::string_view type, const json::object& fields) {
  if (events_ == nullptr) return;
  if (auto r = events_->Append(type, fields); !r.ok() && !write_error_logged_) {
    write_error_logged_ = true;
    log_("cannot write events.jsonl: " + r.status().message());
  }
}

}  // namespace outpost::shim
