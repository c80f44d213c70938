#include "cli/logs_command.h"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <optional>
#include <ostream>

#include "cli/duration.h"
#include "cli/follow.h"
#include "cli/format.h"
#include "cli/session.h"
#include "client/api_client.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Endpoint;
using client::Headers;
using client::ParseEndpoint;
using client::Request;
using client::RequestOptions;
using client::UnwrapEnvelope;
using client::UrlEncode;
namespace {

namespace json = boost::json;

struct LogsFlags {
  std::string endpoint = "http://127.0.0.1:8080";
  std::string api_key;
  CLI::Option* endpoint_opt = nullptr;
  CLI::Option* key_opt = nullptr;
  std::string id;
  bool follow = false;
  bool json = false;
  bool raw = false;
  std::int64_t offset = 0;
  std::int64_t tail = -1;  // --tail N: the last N lines only
  std::string since;       // --since: lines at or after
  std::string jq;          // --jq: the entries (as JSON lines) through jq
};

int Fail(const Status& status, const ClientIo& io) {
  *io.err << FormatError(status);
  return ExitCodeForError(status);
}

// Prints one page's entries.
void PrintEntries(const json::array& entries, bool as_json, const ClientIo& io) {
  for (const auto& e : entries) {
    if (!e.is_object()) continue;
    if (as_json) {
      *io.out << ToJson(e) << "\n";
      continue;
    }
    const json::object& o = e.as_object();
    std::string stream = GetString(o, "stream").value_or("stdout");
    std::string message = GetString(o, "message").value_or("");
    if (stream == "stdout") {
      *io.out << message << "\n";
    } else {
      *io.err << (stream == "outpost" ? "outpost: " : "") << message << "\n";
    }
  }
  *io.out << std::flush;
}

// Keeps the lines --since and --tail select; the rest are dropped.
struct LineFilter {
  std::optional<WallTime> since;
  std::int64_t tail = -1;
  std::deque<json::value> kept;
  bool Buffering() const { return tail >= 0; }
  bool Keep(const json::value& e) const {
    if (!since || !e.is_object()) return true;
    auto t = ParseTime(GetString(e.as_object(), "timestamp").value_or(""));
    return !t || *t >= *since;
  }
};

int PageLogs(const LogsFlags& f, const Endpoint& ep, const std::string& api_key,
             const std::string& run_id, LineFilter& filter, const ClientIo& io) {
  RequestOptions opts;
  opts.read_timeout = io.request_timeout;
  opts.clock = io.clock;
  opts.sleep = SleepOn(io.clock ? *io.clock : RealClock::Instance());
  Headers headers;
  if (!api_key.empty()) headers.emplace_back("Authorization", "Bearer " + api_key);
  std::int64_t offset = f.offset;
  // With --jq the entries are collected as JSON lines and go through jq at the end.
  std::string for_jq;
  auto emit = [&](const json::array& entries) {
    if (f.jq.empty()) return PrintEntries(entries, f.json, io);
    for (const auto& e : entries) for_jq += ToJson(e) + "\n";
  };
  for (;;) {
    const std::string target =
        "/runs/" + UrlEncode(run_id) + "/logs?limit=1000&offset=" + std::to_string(offset);
    auto reply = Request(ep, "GET", target, {}, headers, opts);
    if (!reply.ok()) return Fail(reply.status(), io);
    auto data = UnwrapEnvelope(*reply);
    if (!data.ok()) return Fail(data.status(), io);
    const json::object* o = data->if_object();
    const json::value* entries = o ? o->if_contains("entries") : nullptr;
    if (entries == nullptr || !entries->is_array()) {
      return Fail(Internal("the server's logs answer has no entries"), io);
    }
    json::array page;
    for (const auto& e : entries->as_array()) {
      if (!filter.Keep(e)) continue;
      if (!filter.Buffering()) {
        page.push_back(e);
        continue;
      }
      filter.kept.push_back(e);
      if (static_cast<std::int64_t>(filter.kept.size()) > filter.tail) filter.kept.pop_front();
    }
    emit(page);
    std::int64_t next = GetInt(*o, "nextOffset").value_or(offset);
    if (GetBool(*o, "hasMore") != true || next <= offset) {
      if (filter.Buffering()) emit(json::array(filter.kept.begin(), filter.kept.end()));
      if (f.jq.empty()) return kExitOk;
      auto text = RunJq(f.jq, for_jq);  // jq reads the JSON lines as a stream of entries
      if (!text.ok()) {
        *io.err << "outpost: " << text.status().message() << "\n";
        return kExitUsage;
      }
      *io.out << *text << std::flush;
      return kExitOk;
    }
    offset = next;
  }
}

int RunLogs(const LogsFlags& f, const ClientIo& io) {
  LineFilter filter;
  filter.tail = f.tail;
  if (!f.since.empty()) {
    auto t = ParseSince(f.since, (io.clock ? *io.clock : RealClock::Instance()).Now());
    if (!t.ok()) {
      *io.err << "outpost: --since: " << t.status().message() << "\n";
      return kExitUsage;
    }
    filter.since = *t;
  }
  if (f.follow && !f.jq.empty()) {
    *io.err << "outpost: --jq filters the stored output's entries; -f streams events (use "
               "--json with -f and a jq of your own)\n";
    return kExitUsage;
  }
  if (f.follow && (filter.since || filter.Buffering())) {
    *io.err << "outpost: --tail and --since select from the stored output; -f streams it all "
               "(use one or the other)\n";
    return kExitUsage;
  }
  GlobalFlags none;
  auto conn = ResolveConnection(io.globals ? *io.globals : none, f.endpoint_opt, f.endpoint,
                                f.key_opt, f.api_key);
  if (!conn.ok()) {
    *io.err << "outpost: " << conn.status().message() << "\n";
    return kExitUsage;
  }
  auto ep = ParseEndpoint(conn->endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  client::ApiClient api(*ep, conn->api_key);
  auto id = ResolveRunId(api, f.id);
  if (!id.ok()) {
    *io.err << FormatError(id.status());
    return id.status().code() == Code::kInvalidArgument ? kExitUsage
                                                        : ExitCodeForError(id.status());
  }
  if (f.follow) return FollowRun({*ep, conn->api_key, *id, f.raw}, f.json, io);
  return PageLogs(f, *ep, conn->api_key, *id, filter, io);
}

}  // namespace

void AddLogsCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<LogsFlags>();
  auto* sub = app.add_subcommand("logs", "Show a run's output (-f: follow it live)");
  sub->add_option("id", f->id, "Run id, or an unambiguous prefix of it (any case)")->required();
  sub->add_flag("-f,--follow", f->follow,
                "Stream the output live until the run ends; exit code by its final status");
  sub->add_flag("--raw", f->raw,
                "With -f on a terminal: the agent's raw output instead of the readable "
                "transcript of its steps");
  sub->add_option("--offset", f->offset, "Start at this line (without -f)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--tail", f->tail, "Only the last N lines (without -f)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--since", f->since,
                  "Only lines since: a duration ago (10m, 2h) or a time (2026-01-13T08:00:00Z); "
                  "without -f");
  f->endpoint_opt =
      sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve` (default: the context's)")
          ->envname("OUTPOST_ENDPOINT");
  f->key_opt = sub->add_option("--api-key", f->api_key, "API key (default: the context's)")
                   ->envname("OUTPOST_API_KEY");
  sub->add_flag("--json", f->json, "One JSON object per line: log entries, or events with -f");
  sub->add_option("--jq", f->jq,
                  "Filter the entries ({offset, timestamp, stream, message}, one JSON value each) "
                  "through jq -r EXPR (without -f)");
  sub->add_option_function<std::string>(
         "-o,--output", [f](const std::string& v) { f->json = v == "json"; },
         "json: as --json; table: the default")
      ->check(CLI::IsMember({"json", "table"}));
  sub->footer(std::string(ExitCodeHelp()));
  sub->callback([f, exit_code, io] { *exit_code = RunLogs(*f, *io); });
}

}  // namespace outpost::cli
