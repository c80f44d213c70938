#include "cli/logs_command.h"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <ostream>

#include "cli/follow.h"
#include "cli/format.h"
#include "client/api_client.h"
#include "common/ids.h"
#include "common/json_util.h"

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
  std::string id;
  bool follow = false;
  bool json = false;
  bool raw = false;
  std::int64_t offset = 0;
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

int PageLogs(const LogsFlags& f, const Endpoint& ep, const ClientIo& io) {
  RequestOptions opts;
  opts.read_timeout = io.request_timeout;
  opts.clock = io.clock;
  opts.sleep = SleepOn(io.clock ? *io.clock : RealClock::Instance());
  Headers headers;
  if (!f.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + f.api_key);
  std::int64_t offset = f.offset;
  for (;;) {
    const std::string target =
        "/runs/" + UrlEncode(f.id) + "/logs?limit=1000&offset=" + std::to_string(offset);
    auto reply = Request(ep, "GET", target, {}, headers, opts);
    if (!reply.ok()) return Fail(reply.status(), io);
    auto data = UnwrapEnvelope(*reply);
    if (!data.ok()) return Fail(data.status(), io);
    const json::object* o = data->if_object();
    const json::value* entries = o ? o->if_contains("entries") : nullptr;
    if (entries == nullptr || !entries->is_array()) {
      return Fail(Internal("the server's logs answer has no entries"), io);
    }
    PrintEntries(entries->as_array(), f.json, io);
    std::int64_t next = GetInt(*o, "nextOffset").value_or(offset);
    if (GetBool(*o, "hasMore") != true || next <= offset) return kExitOk;
    offset = next;
  }
}

int RunLogs(const LogsFlags& f, const ClientIo& io) {
  auto ep = ParseEndpoint(f.endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  if (f.follow) return FollowRun({*ep, f.api_key, f.id, f.raw}, f.json, io);
  return PageLogs(f, *ep, io);
}

}  // namespace

void AddLogsCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<LogsFlags>();
  auto* sub = app.add_subcommand("logs", "Show a run's output (-f: follow it live)");
  sub->add_option("id", f->id, "Run id (any case)")->required()->transform([](std::string id) {
    return CanonicalUlid(id);
  });
  sub->add_flag("-f,--follow", f->follow,
                "Stream the output live until the run ends; exit code by its final status");
  sub->add_flag("--raw", f->raw,
                "With -f on a terminal: the agent's raw output instead of the readable "
                "transcript of its steps");
  sub->add_option("--offset", f->offset, "Start at this line (without -f)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve`")
      ->envname("OUTPOST_ENDPOINT")
      ->capture_default_str();
  sub->add_option("--api-key", f->api_key, "API key, sent as a Bearer token")
      ->envname("OUTPOST_API_KEY");
  sub->add_flag("--json", f->json, "One JSON object per line: log entries, or events with -f");
  sub->footer(std::string(ExitCodeHelp()));
  sub->callback([f, exit_code, io] { *exit_code = RunLogs(*f, *io); });
}

}  // namespace outpost::cli
