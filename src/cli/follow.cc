#include "cli/follow.h"

#include <boost/json.hpp>
#include <charconv>
#include <ostream>

#include "cli/format.h"
#include "cli/sse.h"
#include "cli/transcript.h"
#include "client/api_client.h"
#include "client/http_stream.h"
#include "common/encoding.h"
#include "common/json_util.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Headers;
using client::StatusFromHttpError;
using client::StreamGet;
using client::StreamResult;
using client::UrlEncode;
namespace {

namespace json = boost::json;

// The printing side of a follow; its position (last_id) survives reconnects.
class Printer {
 public:
  Printer(bool json, bool transcript, const ClientIo& io) : json_(json), io_(io) {
    if (transcript) transcript_.emplace(*io.out, TerminalStyleOf(io.tty));
  }
  bool transcript() const { return transcript_.has_value(); }
  void FinalLine() {
    if (transcript_) transcript_->Final(final_status_);
  }

  void Feed(std::string_view bytes) {
    std::vector<SseEvent> events;
    parser_.Feed(bytes, events);
    for (const SseEvent& e : events) Handle(e);
  }
  // A new connection starts a new event stream (a torn event of the old one is dropped).
  void Reset() { parser_ = SseParser(); }

  std::int64_t last_id() const { return last_id_; }
  bool ended() const { return !final_status_.empty(); }
  const std::string& final_status() const { return final_status_; }

 private:
  void Handle(const SseEvent& e) {
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(e.id.data(), e.id.data() + e.id.size(), id);
    if (e.id.empty() || ec != std::errc() || id <= last_id_) return;  // no id: a server notice
    last_id_ = id;
    Result<json::value> v = ParseJson(e.data, 16);
    if (!v.ok() || !v->is_object()) return;
    const json::object& o = v->as_object();
    if (json_) *io_.out << e.data << "\n" << std::flush;
    if (transcript_) {
      transcript_->Event(e.event, o);
      *io_.out << std::flush;
      if (e.event == "end") final_status_ = GetString(o, "status").value_or("FAILED");
      return;
    }
    if (e.event == "output" && !json_) {
      std::string data = GetString(o, "data").value_or("");
      if (GetString(o, "encoding") == "base64") data = Base64Decode(data).value_or("");
      std::ostream& to = GetString(o, "stream") == "stderr" ? *io_.err : *io_.out;
      to << data << std::flush;
    } else if (e.event == "truncated" && !json_) {
      if (auto dropped = GetInt(o, "droppedBytes"); dropped && *dropped > 0) {
        *io_.err << "outpost: " << *dropped << " bytes of "
                 << GetString(o, "stream").value_or("output")
                 << " dropped here (over the run's output limit)\n";
      }
    } else if (e.event == "end") {
      final_status_ = GetString(o, "status").value_or("FAILED");
    }
  }

  bool json_;
  const ClientIo& io_;
  SseParser parser_;
  std::int64_t last_id_ = 0;
  std::string final_status_;
  std::optional<Transcript> transcript_;
};

}  // namespace

int FollowRun(const FollowTarget& target, bool json, const ClientIo& io) {
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  Printer printer(json, /*transcript=*/!json && !target.raw && io.tty, io);
  std::optional<MonoTime> failing_since;
  bool told = false;
  const std::string path = "/runs/" + UrlEncode(target.run_id) + "/events";
  for (;;) {
    Headers headers;
    if (!target.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + target.api_key);
    if (printer.last_id() > 0)
      headers.emplace_back("Last-Event-ID", std::to_string(printer.last_id()));
    printer.Reset();
    const std::int64_t before = printer.last_id();
    Result<StreamResult> r =
        StreamGet(target.endpoint, path, headers, {}, [&](std::string_view b) { printer.Feed(b); });
    if (printer.ended()) {
      if (printer.transcript()) {
        printer.FinalLine();
      } else if (!json)
        *io.err << "outpost: run " << target.run_id << " " << printer.final_status() << "\n";
      return ExitCodeForRunStatus(printer.final_status());
    }
    if (r.ok() && r->status >= 400 && r->status < 500) {  // not found, refused: no use retrying
      Status st = StatusFromHttpError(r->status, r->error_body);
      *io.err << FormatError(st);
      return ExitCodeForError(st);
    }
    Status why = r.ok() ? Unavailable("the event stream ended before the run did (HTTP " +
                                      std::to_string(r->status) + ")")
                        : r.status();
    if (printer.last_id() > before || !failing_since) {  // progress since the last failure
      failing_since = clock.Mono();
      told = false;
    }
    if (clock.Mono() - *failing_since > io.unreachable_grace) {
      *io.err << FormatError(why);
      return ExitCodeForError(why);
    }
    if (!told) {
      *io.err << "outpost: " << why.message() << "; resuming after event " << printer.last_id()
              << "\n";
      told = true;
    }
    clock.SleepFor(io.retry_backoff);
  }
}

}  // namespace outpost::cli
