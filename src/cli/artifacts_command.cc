#include "cli/artifacts_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <ostream>
#include <vector>

#include "cli/artifact_download.h"
#include "cli/format.h"
#include "client/api_client.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/json_util.h"

extern char** environ;

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

// 1, as for a FAILED run: what was asked for did not happen, and retrying may help.
constexpr int kExitDownloadFailed = kExitRunFailed;

struct ArtifactsFlags {
  std::string endpoint = "http://127.0.0.1:8080";
  std::string api_key;
  CLI::Option* endpoint_opt = nullptr;
  CLI::Option* key_opt = nullptr;
  std::string id;
  std::string download_dir;
  int expires_in = 0;
  CLI::Option* expires_opt = nullptr;
  bool json = false;
};

int Fail(const Status& status, const ClientIo& io) {
  *io.err << FormatError(status);
  return ExitCodeForError(status);
}

const json::array& ArrayAt(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  return v && v->is_array() ? v->as_array() : kEmpty;
}

// GET /runs/{id}/artifacts[?expiresIn=N] -> data. The range of N is the server's to check.
Result<json::object> FetchList(const ArtifactsFlags& f, const Endpoint& ep, const ClientIo& io) {
  RequestOptions opts;
  opts.read_timeout = io.request_timeout;
  opts.clock = io.clock;
  opts.sleep = SleepOn(io.clock ? *io.clock : RealClock::Instance());
  Headers headers;
  if (!f.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + f.api_key);
  std::string target = "/runs/" + UrlEncode(f.id) + "/artifacts";
  if (f.expires_opt->count() > 0) target += "?expiresIn=" + std::to_string(f.expires_in);
  auto reply = Request(ep, "GET", target, {}, headers, opts);
  if (!reply.ok()) return reply.status();
  auto data = UnwrapEnvelope(*reply);
  if (!data.ok()) return data.status();
  if (!data->is_object()) return Internal("the server's artifacts answer is not an object");
  return std::move(data->as_object());
}

std::vector<ArtifactEntry> Entries(const json::object& data) {
  std::vector<ArtifactEntry> out;
  for (const auto& v : ArrayAt(data, "artifacts")) {
    if (!v.is_object()) continue;
    const json::object& a = v.as_object();
    out.push_back({GetString(a, "name").value_or(""), GetString(a, "url").value_or(""),
                   GetString(a, "sha256").value_or(""), GetInt(a, "sizeBytes").value_or(-1)});
  }
  return out;
}

net::EnvMap ProcessEnv() {
  net::EnvMap env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != kv.npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::string Pad(std::string s, std::size_t width) {
  s.resize(std::max(width, s.size()), ' ');
  return s;
}

// "name  size  verdict", aligned on the listed names and sizes; printed as each file completes.
struct Columns {
  std::size_t name = 0, size = 0;
};

void PrintOutcome(const ArtifactEntry& e, const DownloadOutcome& o, Columns w, const ClientIo& io) {
  const std::string size = o.bytes > 0 || o.ok() ? std::to_string(o.bytes) : "-";
  *io.out << Pad(e.name, w.name) << "  " << Pad(size, w.size) << "  " << VerdictText(o.verdict)
          << "\n"
          << std::flush;
}

int Download(const ArtifactsFlags& f, const json::object& data, const ClientIo& io) {
  const std::string state = GetString(data, "artifactsStatus").value_or("stored");
  if (state == "running" || state == "pending") {
    *io.err << "outpost: artifacts not stored yet (status " << state
            << "); retry when the run has finished\n";
    return kExitDownloadFailed;
  }
  if (Status made = MakeDirs(f.download_dir); !made.ok()) {
    *io.err << "outpost: cannot create " << f.download_dir << ": " << made.message() << "\n";
    return kExitDownloadFailed;
  }
  const std::vector<ArtifactEntry> entries = Entries(data);
  Columns width;
  for (const auto& e : entries) {
    width.name = std::max(width.name, e.name.size());
    width.size = std::max(width.size, std::to_string(e.size_bytes).size());
  }
  DownloadOptions options;
  options.env = ProcessEnv();
  json::array files;
  std::string failed;
  for (const auto& e : entries) {
    DownloadOutcome o = DownloadArtifact(e, f.download_dir, options);
    if (!f.json) PrintOutcome(e, o, width, io);
    json::object file{{"name", e.name}, {"sizeBytes", o.bytes}, {"result", VerdictCode(o.verdict)}};
    if (!o.detail.empty()) file["detail"] = o.detail;
    files.push_back(std::move(file));
    if (o.ok()) continue;
    failed += std::string(failed.empty() ? "" : "\n") + "  " + e.name + ": " +
              std::string(VerdictText(o.verdict)) + " (" + o.detail + ")";
  }
  if (f.json) {
    *io.out << ToJson(json::object{{"runId", GetString(data, "runId").value_or(f.id)},
                                   {"dir", f.download_dir},
                                   {"files", std::move(files)}})
            << "\n";
  }
  for (const auto& m : ArrayAt(data, "missing")) {
    if (m.is_string()) *io.err << "outpost: not stored by the server: " << m.as_string() << "\n";
  }
  if (failed.empty()) return kExitOk;
  *io.err << "outpost: these artifacts were not downloaded (nothing of them is left in "
          << f.download_dir << "):\n"
          << failed << "\n";
  return kExitDownloadFailed;
}

int RunArtifactsCommand(ArtifactsFlags f, const ClientIo& io) {
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
  f.api_key = conn->api_key;
  client::ApiClient api(*ep, f.api_key);
  auto id = ResolveRunId(api, f.id);
  if (!id.ok()) {
    *io.err << FormatError(id.status());
    return id.status().code() == Code::kInvalidArgument ? kExitUsage
                                                        : ExitCodeForError(id.status());
  }
  f.id = *id;
  auto data = FetchList(f, *ep, io);
  if (!data.ok()) return Fail(data.status(), io);
  if (!f.download_dir.empty()) return Download(f, *data, io);
  if (f.json) {
    *io.out << ToJson(*data) << "\n";
  } else {
    *io.out << FormatArtifactList(*data);
  }
  return kExitOk;
}

}  // namespace

std::string FormatArtifactList(const json::object& data) {
  std::vector<std::vector<std::string>> rows;
  std::string urls;
  for (const auto& v : ArrayAt(data, "artifacts")) {
    if (!v.is_object()) continue;
    const json::object& a = v.as_object();
    const std::string name = GetString(a, "name").value_or("?");
    auto size = GetInt(a, "sizeBytes");
    rows.push_back({name, GetString(a, "type").value_or(""), size ? std::to_string(*size) : "-",
                    GetString(a, "sha256").value_or("").substr(0, 12),
                    ShortTime(GetString(a, "expiresAt").value_or(""))});
    urls += name + ": " + GetString(a, "url").value_or("") + "\n";
  }
  std::string out =
      rows.empty() ? "no artifacts\n"
                   : FormatTable({"NAME", "TYPE", "SIZE", "SHA256", "EXPIRES"}, rows) + "\n" + urls;
  const std::string state = GetString(data, "artifactsStatus").value_or("stored");
  if (state != "stored") {
    out += "artifacts status: " + state;
    out += state == "running" || state == "pending"
               ? " (not stored yet; retry when the run has finished)\n"
               : "\n";
  }
  for (const auto& m : ArrayAt(data, "missing")) {
    if (m.is_string()) out += "missing: " + std::string(m.as_string()) + "\n";
  }
  return out;
}

void AddArtifactsCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<ArtifactsFlags>();
  auto* sub =
      app.add_subcommand("artifacts", "List a run's artifacts, or download and verify them");
  sub->add_option("id", f->id, "Run id, or an unambiguous prefix of it (any case)")->required();
  sub->add_option("--download", f->download_dir,
                  "Fetch every artifact into DIR (created if needed), verifying size and sha256")
      ->type_name("DIR");
  f->expires_opt = sub->add_option("--expires-in", f->expires_in,
                                   "Lifetime of the URLs in seconds, 60-86400 (server default "
                                   "3600)")
                       ->type_name("SECONDS");
  f->endpoint_opt =
      sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve` (default: the context's)")
          ->envname("OUTPOST_ENDPOINT");
  f->key_opt = sub->add_option("--api-key", f->api_key, "API key (default: the context's)")
                   ->envname("OUTPOST_API_KEY");
  sub->add_flag("--json", f->json,
                "Print the server's data object (with --download: each file's result)");
  sub->add_option_function<std::string>(
         "-o,--output", [f](const std::string& v) { f->json = v == "json"; },
         "json: as --json; table: the default")
      ->check(CLI::IsMember({"json", "table"}));
  sub->footer(std::string(ExitCodeHelp()) +
              "\n  (artifacts: 1 = a download failed or did not verify, or the run's artifacts "
              "are not stored yet)");
  sub->callback([f, exit_code, io] { *exit_code = RunArtifactsCommand(*f, *io); });
}

}  // namespace outpost::cli
