#include "cli/client_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/artifacts_command.h"
#include "cli/context_commands.h"
#include "cli/duration.h"
#include "cli/follow.h"
#include "cli/format.h"
#include "cli/logs_command.h"
#include "cli/ops_commands.h"
#include "cli/wait.h"
#include "client/api_client.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::ApiClient;
using client::ListRunsQuery;
using client::ParseEndpoint;
using client::RequestOptions;
namespace {

namespace json = boost::json;

struct CommonFlags {
  std::string endpoint = "http://127.0.0.1:8080";
  std::string api_key;
  CLI::Option* endpoint_opt = nullptr;
  CLI::Option* key_opt = nullptr;
  OutputFlags out;
  bool Json() const { return out.Json(); }
};

struct DispatchFlags {
  CommonFlags common;
  std::string agent, task, model, repo, branch, context_level, idempotency_key;
  std::string timeout, inactivity_timeout, network, memory, disk, workspace_mode;
  double cpus = 0, max_cost = 0;
  CLI::Option* cpus_opt = nullptr;
  CLI::Option* max_cost_opt = nullptr;
  std::vector<std::string> tags, secrets;
  bool wait = false;
  bool follow = false;
  bool raw = false;    // --raw: with --follow, the agent's raw output on a terminal too
  std::string verify;  // the check command run after the agent (issue 23)
};

struct RunFlags {  // status, cancel, rerun, diff
  CommonFlags common;
  std::string id, reason;
  bool wait = false;
  bool follow = false;
};

struct PromoteFlags {
  CommonFlags common;
  std::string id, title, body, branch, base;
  bool pr = false, draft = false;
};

struct RunsFlags {
  CommonFlags common;
  int limit = 0;
  CLI::Option* limit_opt = nullptr;
  std::string status, agent, cursor, repo, group, since, interval = "2s";
  std::vector<std::string> tags;
  bool watch = false;
};

struct HealthFlags {
  CommonFlags common;
  bool fleet = false;
};

void AddCommon(CLI::App* sub, CommonFlags* f) {
  f->endpoint_opt = sub->add_option("--endpoint", f->endpoint,
                                    "URL of `outpost serve` (default: the context's, else "
                                    "http://127.0.0.1:8080)")
                        ->envname("OUTPOST_ENDPOINT");
  f->key_opt = sub->add_option("--api-key", f->api_key,
                               "API key, sent as a Bearer token (default: the context's)")
                   ->envname("OUTPOST_API_KEY");
  AddOutputFlags(sub, &f->out);
  sub->footer(std::string(ExitCodeHelp()));
}

// The API client of the resolved endpoint and key; nullopt (after printing why) for a bad
// endpoint or --context: a usage error.
struct Session {
  ApiClient api;
  std::string api_key;
};

std::optional<Session> MakeClient(const CommonFlags& f, const ClientIo& io) {
  GlobalFlags none;
  auto conn = ResolveConnection(io.globals ? *io.globals : none, f.endpoint_opt, f.endpoint,
                                f.key_opt, f.api_key);
  if (!conn.ok()) {
    *io.err << "outpost: " << conn.status().message() << "\n";
    return std::nullopt;
  }
  auto ep = ParseEndpoint(conn->endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return std::nullopt;
  }
  RequestOptions base;
  base.read_timeout = io.request_timeout;
  base.clock = io.clock;
  base.sleep = SleepOn(io.clock ? *io.clock : RealClock::Instance());
  return Session{ApiClient(std::move(*ep), conn->api_key, base), conn->api_key};
}

int Fail(const Status& status, const ClientIo& io) {
  *io.err << FormatError(status);
  return ExitCodeForError(status);
}

int Usage(const std::string& message, const ClientIo& io) {
  *io.err << "outpost: " << message << "\n";
  return kExitUsage;
}

int PrintJson(const json::value& v, const CommonFlags& f, const ClientIo& io) {
  return PrintJsonValue(v, f.out, io);
}

// "512", "512m", "512mb" -> 512; "2g", "2gb" -> 2048 (MiB). nullopt for anything else.
std::optional<std::int64_t> ParseSize(std::string text, std::int64_t per_g, std::int64_t per_m) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text.ends_with("b")) text.pop_back();
  std::int64_t scale = per_m;
  if (text.ends_with("g")) {
    scale = per_g;
    text.pop_back();
  } else if (text.ends_with("m")) {
    text.pop_back();
  }
  if (per_m == 0 && scale == 0) return std::nullopt;
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const std::int64_t n = std::stoll(text) * scale;
  if (n <= 0) return std::nullopt;
  return n;
}

// A duration flag as whole seconds: "10m", "600" ("1h30m" is not accepted: one unit). Its
// range is the server's to judge.
Result<std::int64_t> Seconds(const std::string& flag, const std::string& text, std::int64_t max) {
  auto d = ParseDuration(text, Millis(0), Millis(max * 1000));
  if (!d.ok()) return InvalidArgument(flag + ": " + d.status().message());
  if (d->count() % 1000 != 0) return InvalidArgument(flag + ": whole seconds only");
  return d->count() / 1000;
}

std::optional<json::object> DispatchBody(const DispatchFlags& f, const ClientIo& io) {
  json::object body{{"agent", f.agent}, {"task", f.task}};
  if (f.agent.find(',') != std::string::npos) {  // --agent claude,codex: a fan-out
    json::array names;
    for (std::size_t start = 0; start <= f.agent.size();) {
      std::size_t comma = std::min(f.agent.find(',', start), f.agent.size());
      if (comma > start) names.emplace_back(f.agent.substr(start, comma - start));
      start = comma + 1;
    }
    body["agent"] = std::move(names);
  }
  std::vector<std::string> errors;
  if (!f.timeout.empty()) {
    auto s = Seconds("--timeout", f.timeout, 3650LL * 86'400);
    if (s.ok()) body["timeoutSeconds"] = *s;
    if (!s.ok()) errors.push_back(s.status().message());
  }
  if (!f.inactivity_timeout.empty()) {
    auto s = Seconds("--inactivity-timeout", f.inactivity_timeout, 3650LL * 86'400);
    if (s.ok()) body["inactivityTimeoutSeconds"] = *s;
    if (!s.ok()) errors.push_back(s.status().message());
  }
  auto set = [&](std::string_view key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  set("modelId", f.model);
  set("repo", f.repo);
  set("branch", f.branch);
  set("context", f.context_level);
  set("idempotencyKey", f.idempotency_key);
  set("verify", f.verify);
  set("network", f.network);
  set("workspaceMode", f.workspace_mode);
  if (f.max_cost_opt->count() > 0) body["maxCostUsd"] = f.max_cost;
  json::object resources;
  if (!f.memory.empty()) {
    if (auto mb = ParseSize(f.memory, 1024, 1)) {
      resources["maxMemoryMb"] = *mb;
    } else {
      errors.push_back("--memory: '" + f.memory +
                       "' is not a size (512m, 2g; a bare number is MiB)");
    }
  }
  if (f.cpus_opt->count() > 0) {
    if (f.cpus > 0 && f.cpus <= 1024) {
      resources["maxCpuUnits"] = static_cast<std::int64_t>(std::llround(f.cpus * 1024));
    } else {
      errors.push_back("--cpus: must be a number of CPUs above 0 (0.5, 2)");
    }
  }
  if (!f.disk.empty()) {
    if (auto gb = ParseSize(f.disk, 1, 0)) {
      resources["maxDiskGb"] = *gb;
    } else {
      errors.push_back("--disk: '" + f.disk + "' is not a size in GiB (10g; a bare number is GiB)");
    }
  }
  if (!resources.empty()) body["resourceConstraints"] = std::move(resources);
  if (!f.secrets.empty()) {
    json::array names;
    for (const auto& s : f.secrets) names.emplace_back(s);
    body["additionalSecrets"] = std::move(names);
  }
  if (!f.tags.empty()) {
    json::object tags;
    for (const auto& tag : f.tags) {
      auto eq = tag.find('=');
      if (eq == std::string::npos || eq == 0) {
        errors.push_back("--tag expects key=value, got '" + tag + "'");
        continue;
      }
      tags[tag.substr(0, eq)] = tag.substr(eq + 1);
    }
    body["tags"] = std::move(tags);
  }
  for (const auto& e : errors) *io.err << "outpost: " << e << "\n";
  if (!errors.empty()) return std::nullopt;
  return body;
}

// Dispatches `body` and waits or follows as asked. `json_out`: print the API's answer.
int DispatchAndReport(Session& s, const json::object& body, const CommonFlags& common, bool wait,
                      bool follow, const ClientIo& io, bool raw = false) {
  auto data = s.api.Dispatch(body);
  if (!data.ok()) return Fail(data.status(), io);
  const bool json_out = common.Json();
  if (data->is_object() && data->as_object().contains("groupId")) {  // a fan-out
    const json::value* ids = data->as_object().if_contains("runIds");
    if (json_out && !wait) {
      if (int rc = PrintJson(*data, common, io); rc != 0) return rc;
    }
    int worst = kExitOk;
    for (const auto& id : ids && ids->is_array() ? ids->as_array() : json::array{}) {
      if (!id.is_string()) continue;
      if (!json_out) *io.out << id.as_string().c_str() << "\n" << std::flush;
      if (follow) {
        worst = std::max(worst,
                         FollowRun({s.api.endpoint(), s.api_key, std::string(id.as_string()), raw},
                                   json_out, io));
      } else if (wait) {
        worst = std::max(worst, WaitForRun(s.api, std::string(id.as_string()), json_out, io));
      }
    }
    return worst;
  }
  std::string run_id = data->is_object() ? GetString(data->as_object(), "runId").value_or("") : "";
  if (run_id.empty()) return Fail(Internal("the server's dispatch answer has no runId"), io);
  if (follow) {  // stdout is the agent's output: the id goes to stderr
    *io.err << "outpost: run " << run_id << " dispatched\n" << std::flush;
    return FollowRun({s.api.endpoint(), s.api_key, run_id, raw}, json_out, io);
  }
  if (!wait) {
    if (json_out) return PrintJson(*data, common, io);
    *io.out << run_id << "\n";
    return kExitOk;
  }
  if (!json_out) *io.out << run_id << "\n" << std::flush;
  return WaitForRun(s.api, run_id, json_out, io);
}

int RunDispatch(const DispatchFlags& f, const ClientIo& io) {
  auto body = DispatchBody(f, io);
  if (!body) return kExitUsage;
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  return DispatchAndReport(*s, *body, f.common, f.wait, f.follow, io, f.raw);
}

// The id argument resolved (a prefix to its run); prints why not.
std::optional<std::string> RunIdOf(Session& s, const std::string& id, const ClientIo& io,
                                   int* exit_code) {
  auto resolved = ResolveRunId(s.api, id);
  if (!resolved.ok()) {
    *exit_code = resolved.status().code() == Code::kInvalidArgument
                     ? kExitUsage
                     : ExitCodeForError(resolved.status());
    *io.err << FormatError(resolved.status());
    return std::nullopt;
  }
  return *resolved;
}

int RunStatus(const RunFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  int rc = 0;
  auto id = RunIdOf(*s, f.id, io, &rc);
  if (!id) return rc;
  if (f.wait) return WaitForRun(s->api, *id, f.common.Json(), io);
  auto run = s->api.GetRun(*id);
  if (!run.ok()) return Fail(run.status(), io);
  if (f.common.Json() || !run->is_object()) return PrintJson(*run, f.common, io);
  std::string text = FormatRunDetails(run->as_object());
  const std::string status = GetString(run->as_object(), "status").value_or("");
  if (io.colour && !status.empty()) {  // the status value, on its "Status" line
    const auto at = text.find(status, text.find("Status"));
    if (at != std::string::npos) {
      text.replace(at, status.size(), Paint(status, StatusColour(status), true));
    }
  }
  *io.out << text;
  return kExitOk;
}

// The runs table, each row in its status's colour when `colour`.
std::string RunsTable(const json::array& items, WallTime now, bool colour) {
  std::string table = FormatRunsTable(items, now);
  if (!colour) return table;
  std::string out;
  std::size_t pos = 0, row = 0;
  for (std::size_t nl; (nl = table.find('\n', pos)) != std::string::npos; pos = nl + 1, ++row) {
    std::string line = table.substr(pos, nl - pos);
    if (row == 0) {
      out += Paint(line, "1", true);
    } else {
      std::size_t i = row - 1;  // FormatRunsTable skips non-objects: so do we
      const json::object* run = nullptr;
      for (const auto& v : items) {
        if (!v.is_object()) continue;
        if (i-- == 0) {
          run = &v.as_object();
          break;
        }
      }
      out += run ? Paint(line, StatusColour(GetString(*run, "status").value_or("")), true) : line;
    }
    out += "\n";
  }
  return out;
}

Result<ListRunsQuery> RunsQuery(const RunsFlags& f, const ClientIo& io) {
  ListRunsQuery q;
  q.status = f.status;
  q.agent = f.agent;
  q.cursor = f.cursor;
  if (f.limit_opt->count() > 0) q.limit = f.limit;
  q.repo = f.repo;
  q.group = f.group;
  for (const std::string& tag : f.tags) {
    const auto eq = tag.find_first_of("=:");
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--tag expects key=value, got '" + tag + "'");
    }
    q.tags.push_back(tag.substr(0, eq) + ":" + tag.substr(eq + 1));
  }
  if (!f.since.empty()) {
    const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
    auto t = ParseSince(f.since, clock.Now());
    if (!t.ok()) return InvalidArgument("--since: " + t.status().message());
    q.since = FormatTime(*t);
  }
  return q;
}

// `runs --watch`: on a terminal the table is redrawn in place every --interval; piped, the
// first page is printed as lines and then one line per new run or status change.
int WatchRuns(Session& s, const RunsFlags& f, const ListRunsQuery& q, Millis interval,
              const ClientIo& io) {
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  std::map<std::string, std::string> seen;  // runId -> status
  for (int round = 0; io.watch_rounds == 0 || round < io.watch_rounds; ++round) {
    if (round > 0) clock.SleepFor(interval);
    auto page = s.api.ListRuns(q);
    if (!page.ok()) {
      if (page.status().code() == Code::kUnavailable) {  // ride out a restart
        *io.err << "outpost: " << page.status().message() << "; retrying\n";
        continue;
      }
      return Fail(page.status(), io);
    }
    const auto* obj = page->if_object();
    const auto* items = obj ? obj->if_contains("items") : nullptr;
    if (items == nullptr || !items->is_array()) return Fail(Internal("no items in GET /runs"), io);
    if (f.common.Json()) {
      for (const auto& v : items->as_array()) {
        if (!v.is_object()) continue;
        const std::string id = GetString(v.as_object(), "runId").value_or("");
        const std::string st = GetString(v.as_object(), "status").value_or("");
        if (seen[id] == st) continue;
        seen[id] = st;
        if (int rc = PrintJson(v, f.common, io); rc != 0) return rc;
      }
      *io.out << std::flush;
      continue;
    }
    if (io.tty) {
      const std::string stamp = ShortTime(FormatTime(clock.Now()));
      *io.out << "\x1b[H\x1b[2J" << Paint("Every " + f.interval + ": outpost runs", "1", io.colour)
              << "  " << stamp << "\n\n";
      if (items->as_array().empty()) {
        *io.out << "no runs\n";
      } else {
        *io.out << RunsTable(items->as_array(), clock.Now(), io.colour);
      }
      *io.out << std::flush;
      continue;
    }
    // Oldest first, so that the lines read in time order.
    const json::array& runs = items->as_array();
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
      if (!it->is_object()) continue;
      const json::object& r = it->as_object();
      const std::string id = GetString(r, "runId").value_or("");
      const std::string st = GetString(r, "status").value_or("");
      if (seen[id] == st) continue;
      seen[id] = st;
      *io.out << ShortTime(FormatTime(clock.Now())) << "  " << id << "  "
              << Paint(st, StatusColour(st), io.colour) << "  "
              << GetString(r, "agent").value_or("") << "  "
              << Truncate(GetString(r, "task").value_or(""), 60) << "\n";
    }
    *io.out << std::flush;
  }
  return kExitOk;
}

int RunList(const RunsFlags& f, const ClientIo& io) {
  auto q = RunsQuery(f, io);
  if (!q.ok()) return Usage(q.status().message(), io);
  Millis interval{2'000};
  if (f.watch) {
    auto d = ParseDuration(f.interval, Millis(500), Millis(3'600'000));
    if (!d.ok()) return Usage("--interval: " + d.status().message(), io);
    interval = *d;
  }
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  if (f.watch) return WatchRuns(*s, f, *q, interval, io);
  auto page = s->api.ListRuns(*q);
  if (!page.ok()) return Fail(page.status(), io);
  const auto* obj = page->if_object();
  const auto* items = obj ? obj->if_contains("items") : nullptr;
  if (f.common.Json() || items == nullptr || !items->is_array()) {
    return PrintJson(*page, f.common, io);
  }
  if (items->as_array().empty()) {
    *io.out << "no runs\n";
    return kExitOk;
  }
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  *io.out << RunsTable(items->as_array(), clock.Now(), io.colour);
  auto next = GetString(*obj, "nextCursor");
  if (GetBool(*obj, "hasMore") == true && next) *io.out << "more: --cursor " << *next << "\n";
  return kExitOk;
}

int RunCancel(const RunFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  int rc = 0;
  auto id = RunIdOf(*s, f.id, io, &rc);
  if (!id) return rc;
  auto run = s->api.Cancel(*id, f.reason);
  if (!run.ok()) return Fail(run.status(), io);
  if (f.common.Json() || !run->is_object()) return PrintJson(*run, f.common, io);
  std::string status = GetString(run->as_object(), "status").value_or("?");
  *io.out << GetString(run->as_object(), "runId").value_or(*id) << " " << status
          << (IsTerminalStatus(status) ? "" : " (cancel requested)") << "\n";
  return kExitOk;
}

// The dispatch request a run was made from, as far as the run records it.
json::object RerunBody(const json::object& run) {
  json::object body;
  for (const char* key :
       {"agent", "task", "modelId", "repo", "branch", "context", "workspaceMode"}) {
    if (auto v = GetString(run, key); v && !v->empty()) body[key] = *v;
  }
  for (const char* key : {"timeoutSeconds", "inactivityTimeoutSeconds", "maxCostUsd"}) {
    if (const auto* v = run.if_contains(key); v && v->is_number()) body[key] = *v;
  }
  if (const auto* n = run.if_contains("network"); n && n->is_object()) {
    if (auto policy = GetString(n->as_object(), "policy")) body["network"] = *policy;
  }
  if (const auto* r = run.if_contains("resourceConstraints");
      r && r->is_object() && !r->as_object().empty()) {
    body["resourceConstraints"] = *r;
  }
  if (const auto* a = run.if_contains("additionalSecrets");
      a && a->is_array() && !a->as_array().empty()) {
    body["additionalSecrets"] = *a;
  }
  if (const auto* t = run.if_contains("tags"); t && t->is_object() && !t->as_object().empty()) {
    body["tags"] = *t;
  }
  return body;
}

int RunRerun(const RunFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  int rc = 0;
  auto id = RunIdOf(*s, f.id, io, &rc);
  if (!id) return rc;
  auto run = s->api.GetRun(*id);
  if (!run.ok()) return Fail(run.status(), io);
  if (!run->is_object()) return Fail(Internal("the server's run is not an object"), io);
  if (!f.common.Json() && !f.follow) *io.err << "outpost: rerunning " << *id << "\n";
  return DispatchAndReport(*s, RerunBody(run->as_object()), f.common, f.wait, f.follow, io);
}

int RunPromote(const PromoteFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  int rc = 0;
  auto id = RunIdOf(*s, f.id, io, &rc);
  if (!id) return rc;
  boost::json::object body{{"mode", f.pr ? "pr" : "branch"}};
  if (!f.branch.empty()) body["branch"] = f.branch;
  if (!f.title.empty()) body["title"] = f.title;
  if (!f.body.empty()) body["body"] = f.body;
  if (!f.base.empty()) body["base"] = f.base;
  if (f.draft) body["draft"] = true;
  auto out = s->api.Promote(*id, body);
  if (!out.ok()) return Fail(out.status(), io);
  if (f.common.Json() || !out->is_object()) return PrintJson(*out, f.common, io);
  const boost::json::object& o = out->as_object();
  const auto* p = o.if_contains("promotion");
  if (p == nullptr || !p->is_object()) return PrintJson(*out, f.common, io);
  const boost::json::object& promo = p->as_object();
  *io.out << GetString(o, "runId").value_or(*id) << " -> branch "
          << GetString(promo, "branch").value_or("?") << " at "
          << GetString(promo, "commit").value_or("?").substr(0, 12)
          << (GetBool(o, "replayed") == true ? " (promoted before)" : "") << "\n";
  if (auto url = GetString(promo, "prUrl")) *io.out << "pull request: " << *url << "\n";
  return kExitOk;
}

// One line per run of the group: id, agent, status, duration, cost, files, +insertions
// -deletions, and the pull request or branch it was promoted to.
int RunGroup(const RunFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  auto out = s->api.Group(f.id);
  if (!out.ok()) return Fail(out.status(), io);
  if (f.common.Json() || !out->is_object() || !out->as_object().contains("runs")) {
    return PrintJson(*out, f.common, io);
  }
  *io.out << "RUN                         AGENT        STATUS     DURATION  COST      FILES  "
             "+/-          VERIFY  PROMOTED\n";
  for (const auto& v : out->as_object().at("runs").as_array()) {
    if (!v.is_object()) continue;
    const boost::json::object& r = v.as_object();
    auto num = [&](std::string_view k) {
      const auto* x = r.if_contains(k);
      return x != nullptr && x->is_number() ? x->to_number<double>() : -1.0;
    };
    char line[512];
    const double ms = num("durationMs");
    const std::string duration = ms < 0 ? "-" : std::to_string(static_cast<long>(ms / 1000)) + "s";
    double cost = -1;
    if (const auto* u = r.if_contains("usage"); u != nullptr && u->is_object()) {
      if (const auto* c = u->as_object().if_contains("costUsd"); c && c->is_number()) {
        cost = c->to_number<double>();
      }
    }
    const std::string cost_text = cost < 0 ? "-" : "$" + std::to_string(cost).substr(0, 6);
    std::string promoted = "-";
    if (const auto* p = r.if_contains("promotion"); p != nullptr && p->is_object()) {
      promoted = GetString(p->as_object(), "prUrl")
                     .value_or(GetString(p->as_object(), "branch").value_or("-"));
    }
    const std::string delta = "+" + std::to_string(static_cast<long>(num("insertions"))) + " -" +
                              std::to_string(static_cast<long>(num("deletions")));
    std::string verify = "-";
    if (const auto* v = r.if_contains("verification"); v != nullptr && v->is_object()) {
      verify = GetBool(v->as_object(), "passed") == true ? "passed" : "FAILED";
    }
    std::snprintf(
        line, sizeof line, "%-27s %-12s %-10s %-9s %-9s %-6ld %-12s %-7s %s\n",
        GetString(r, "runId").value_or("?").c_str(), GetString(r, "agent").value_or("?").c_str(),
        GetString(r, "status").value_or("?").c_str(), duration.c_str(), cost_text.c_str(),
        static_cast<long>(num("filesChanged")), delta.c_str(), verify.c_str(), promoted.c_str());
    *io.out << line;
  }
  return kExitOk;
}

int RunHealth(const HealthFlags& f, const ClientIo& io) {
  auto s = MakeClient(f.common, io);
  if (!s) return kExitUsage;
  auto reply = s->api.Health(f.fleet);
  if (!reply.ok()) return Fail(reply.status(), io);
  if (f.common.Json()) {
    if (int rc = PrintJson(reply->body, f.common, io); rc != 0) return rc;
  } else {
    *io.out << FormatHealth(reply->body.as_object(), f.fleet);
  }
  if (reply->http_status >= 500) {
    *io.err << "outpost: the server reports itself unhealthy (HTTP " << reply->http_status << ")\n";
    return kExitUnavailable;
  }
  return kExitOk;
}

// Registers `sub` to run `fn(*flags, io)` into *exit_code.
template <typename Flags, typename Fn>
void OnRun(CLI::App* sub, std::shared_ptr<Flags> flags, Fn fn, int* exit_code,
           std::shared_ptr<const ClientIo> io) {
  sub->callback([=] { *exit_code = fn(*flags, *io); });
}

CLI::Option* AddRunId(CLI::App* sub, std::string* id) {
  return sub->add_option("id", *id, "Run id, or an unambiguous prefix of it (any case)")
      ->required();
}

void AddDispatch(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<DispatchFlags>();
  auto* sub = app.add_subcommand("dispatch", "Start a run of an agent on a task");
  sub->add_option("--agent", f->agent,
                  "claude, codex, gemini, aider, grok or shell; a,b or all fan out")
      ->required();
  sub->add_option("--task", f->task, "What the agent should do")->required();
  sub->add_option("--timeout", f->timeout, "Run time limit: 600, 90s, 10m, 2h");
  sub->add_option("--inactivity-timeout", f->inactivity_timeout,
                  "End the run after this long without output: 5m, 300");
  sub->add_option("--model", f->model, "Model id (default: the agent's)");
  sub->add_option("--repo", f->repo, "owner/repo or a git URL to check out");
  sub->add_option("--branch", f->branch, "Branch to check out");
  sub->add_option("--context-level", f->context_level,
                  "The run's context: minimal, standard or full (the API's `context` field; "
                  "--context picks a saved CLI context)");
  sub->add_option("--network", f->network, "none, allowlist or host");
  sub->add_option("--memory", f->memory, "Memory limit: 512m, 2g (a bare number is MiB)");
  f->cpus_opt = sub->add_option("--cpus", f->cpus, "CPU limit in CPUs: 0.5, 2 (1 = 1024 units)");
  sub->add_option("--disk", f->disk, "Disk limit: 10g (a bare number is GiB)");
  sub->add_option("--secret", f->secrets, "An additional secret's name (repeatable)");
  f->max_cost_opt = sub->add_option("--max-cost", f->max_cost, "Spend limit in USD");
  sub->add_option("--workspace-mode", f->workspace_mode, "The run's workspaceMode");
  sub->add_option("--tag", f->tags, "Tag key=value (repeatable)");
  sub->add_option("--idempotency-key", f->idempotency_key, "Same key and body: the same run");
  sub->add_option("--verify", f->verify,
                  "A check command run in the workspace after the agent, e.g. 'make test' "
                  "(needs --repo; the run's verification)");
  sub->add_flag("--wait", f->wait, "Wait for the run to finish; exit code by its final status");
  sub->add_flag("--follow", f->follow,
                "Stream the run's output live until it ends (resumes after a dropped "
                "connection); exit code by its final status");
  sub->add_flag("--raw", f->raw,
                "With --follow on a terminal: the agent's raw output instead of the readable "
                "transcript of its steps");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunDispatch, exit_code, io);
}

void AddStatus(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("status", "Show a run");
  AddRunId(sub, &f->id);
  sub->add_flag("--wait", f->wait, "Wait for the run to finish; exit code by its final status");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunStatus, exit_code, io);
}

void AddRuns(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunsFlags>();
  auto* sub = app.add_subcommand("runs", "List runs, newest first");
  f->limit_opt = sub->add_option("--limit", f->limit, "At most this many runs (1-100)");
  sub->add_option("--status", f->status, "PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED");
  sub->add_option("--agent", f->agent, "Only this agent's runs");
  sub->add_option("--repo", f->repo, "Only runs of this repository (as dispatched)");
  sub->add_option("--group", f->group, "Only the runs of this fan-out group");
  sub->add_option("--tag", f->tags, "Only runs with tag key=value (repeatable: all of them)");
  sub->add_option("--since", f->since,
                  "Only runs created since: a duration ago (10m, 2h, 7d) or a time (2026-01-13, "
                  "2026-01-13T08:00:00Z)");
  sub->add_option("--cursor", f->cursor, "Continue after a previous page");
  sub->add_flag("-w,--watch", f->watch,
                "Keep watching: redraw on a terminal, a line per new run or status change when "
                "piped (Ctrl-C ends it)");
  sub->add_option("--interval", f->interval, "--watch: time between refreshes (default 2s)");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunList, exit_code, io);
}

void AddCancel(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("cancel", "Cancel a run (stops its whole process tree)");
  AddRunId(sub, &f->id);
  sub->add_option("--reason", f->reason, "Why, recorded as the run's cancelReason");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunCancel, exit_code, io);
}

void AddRerun(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand(
      "rerun",
      "Dispatch a run's request again (agent, task, model, repo, limits, tags): a new run");
  AddRunId(sub, &f->id);
  sub->add_flag("--wait", f->wait, "Wait for the new run to finish; exit code by its final status");
  sub->add_flag("--follow", f->follow, "Stream the new run's output live until it ends");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunRerun, exit_code, io);
}

void AddPromote(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<PromoteFlags>();
  auto* sub = app.add_subcommand(
      "promote",
      "Push a completed run's changes to a new branch of its repository (--pr: and "
      "open a pull request)");
  AddRunId(sub, &f->id);
  sub->add_flag("--pr", f->pr, "Also open a GitHub pull request");
  sub->add_option("--title", f->title, "Pull request title (at most 256 characters)");
  sub->add_option("--body", f->body, "Pull request body");
  sub->add_option("--branch", f->branch, "Branch to create (default outpost/<agent>/<runId>)");
  sub->add_option("--base", f->base,
                  "Branch the pull request targets (default the run's branch, else the "
                  "repository's default branch)");
  sub->add_flag("--draft", f->draft, "Open the pull request as a draft");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunPromote, exit_code, io);
}

void AddGroup(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand(
      "group", "Compare the runs of a fan-out group: status, duration, cost, files, +/-");
  sub->add_option("id", f->id, "Group id (any case)")->required()->transform([](std::string id) {
    return CanonicalUlid(id);
  });
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunGroup, exit_code, io);
}

void AddHealth(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<HealthFlags>();
  auto* sub = app.add_subcommand("health", "Show the server's health");
  sub->add_flag("--fleet", f->fleet, "Per-agent capacity and recent dispatches");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunHealth, exit_code, io);
}

// Crockford base32 value of a ULID character, or -1.
int UlidDigit(char c) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const auto at = kAlphabet.find(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

Result<std::string> ResolveRunId(ApiClient& api, const std::string& id) {
  if (IsUlid(id)) return CanonicalUlid(id);
  if (id.size() < 4 || id.size() > 25 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return UlidDigit(c) >= 0; })) {
    return id;  // no usable prefix of a ULID: the server's to judge (and to answer 404)
  }
  const std::string prefix = CanonicalUlid(id);
  // The first 10 characters are the creation time in ms: a prefix bounds it from below, so
  // the one page asked for starts there.
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 10; ++i)
    ms = ms * 32 + (i < prefix.size() ? UlidDigit(prefix[i]) : 0);
  ListRunsQuery q;
  q.limit = 100;
  if (ms > 0 && ms < (std::int64_t{1} << 48)) q.since = FormatTime(FromMillis(ms));
  auto page = api.ListRuns(q);
  if (!page.ok()) return page.status();
  std::vector<std::string> matches;
  const json::value* items = page->is_object() ? page->as_object().if_contains("items") : nullptr;
  for (const auto& v : items && items->is_array() ? items->as_array() : json::array{}) {
    if (!v.is_object()) continue;
    std::string run_id = GetString(v.as_object(), "runId").value_or("");
    if (run_id.starts_with(prefix)) matches.push_back(std::move(run_id));
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) {
    return NotFound("no run id starts with " + prefix +
                    " among the newest 100 runs created since then; give the whole id");
  }
  std::string msg = "run id prefix " + prefix + " is ambiguous:";
  for (const auto& m : matches) msg += " " + m;
  return InvalidArgument(msg);
}

void AddClientCommands(CLI::App& app, int* exit_code) {
  ClientIo io;
  io.tty = ::isatty(STDOUT_FILENO) == 1;
  io.colour = ColourWanted(io.tty);
  AddClientCommands(app, exit_code, std::move(io));
}

void AddClientCommands(CLI::App& app, int* exit_code, ClientIo io) {
  if (io.out == nullptr) io.out = &std::cout;
  if (io.err == nullptr) io.err = &std::cerr;
  auto globals = std::make_shared<GlobalFlags>();
  io.globals = globals;
  app.add_option("--context", globals->context,
                 "The saved CLI context to use (outpost context list; env OUTPOST_CONTEXT)")
      ->envname("OUTPOST_CONTEXT");
  app.add_flag_callback(
      "--utc",
      [g = globals] {
        g->utc = true;
        ::setenv("TZ", "UTC", 1);
        ::tzset();
      },
      "Show times in UTC (default: the local zone, from TZ)");
  auto shared = std::make_shared<const ClientIo>(std::move(io));
  const std::size_t before = app.get_subcommands({}).size();
  AddDispatch(app, exit_code, shared);
  AddStatus(app, exit_code, shared);
  AddRuns(app, exit_code, shared);
  AddCancel(app, exit_code, shared);
  AddPromote(app, exit_code, shared);
  AddGroup(app, exit_code, shared);
  AddHealth(app, exit_code, shared);
  AddLogsCommand(app, exit_code, shared);
  AddDiffCommand(app, exit_code, shared);
  AddArtifactsCommand(app, exit_code, shared);
  AddValidateCommand(app, exit_code, shared);
  AddMonitorCommand(app, exit_code, shared);
  AddRerun(app, exit_code, shared);
  AddContextCommands(app, exit_code, shared);
  AddCompletionCommand(app, exit_code, shared);
  // The globals may also follow the command: `outpost runs --context prod`.
  auto subs = app.get_subcommands({});
  for (std::size_t i = before; i < subs.size(); ++i) subs[i]->fallthrough();
  std::string footer = app.get_footer();
  if (footer.find("Exit codes:") == std::string::npos) {
    app.footer(footer.empty() ? std::string(ExitCodeHelp())
                              : footer + "\n\n" + std::string(ExitCodeHelp()));
  }
}

int UsageExitCode() { return kExitUsage; }

namespace {

// Subcommand names of `app`, for did-you-mean.
std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (!sub->get_group().empty()) names.push_back(sub->get_name());
  }
  return names;
}

}  // namespace

int ExitForParseError(const CLI::App& app, const CLI::ParseError& error, std::ostream* err) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
  if (error.get_name() == "RuntimeError") return error.get_exit_code();
  std::ostream& to = err ? *err : std::cerr;
  // A mistyped command or flag: "did you mean".
  const std::string what = error.what();
  // (An ExtrasError of a subcommand carries that command's name, not its class: the message.)
  if (what.find("not expected: ") != what.npos || error.get_name() == "RequiredError") {
    // The words it did not expect, and the deepest command named before them. CLI11 keeps
    // neither reliably once it has thrown, so they come from the message and, failing that,
    // from this process's own command line.
    std::vector<std::string> extras;
    if (const auto colon = what.find("not expected: "); colon != what.npos) {
      std::istringstream words(what.substr(colon + 14));
      for (std::string w; words >> w;) extras.push_back(w);
    }
    std::vector<std::string> argv;
    {
      std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
      for (std::string w; std::getline(cmdline, w, '\0');) argv.push_back(w);
    }
    const CLI::App* at = &app;
    for (std::size_t i = 1; i < argv.size(); ++i) {
      if (argv[i].starts_with("-")) continue;
      const CLI::App* next = nullptr;
      for (const CLI::App* sub : at->get_subcommands({})) {
        if (sub->get_name() == argv[i]) next = sub;
      }
      if (next != nullptr) {
        at = next;
      } else if (extras.empty() && at->get_subcommands({}).size() > 0) {
        extras.push_back(argv[i]);  // a word where a command was due
        break;
      }
    }
    if (!extras.empty()) {
      // A flag first (its value may be listed before it), else the first word.
      auto flag = std::find_if(extras.begin(), extras.end(),
                               [](const std::string& w) { return w.starts_with("-"); });
      const std::string& word = flag != extras.end() ? *flag : extras[0];
      std::vector<std::string> choices;
      if (word.starts_with("-")) {
        for (const CLI::Option* o : at->get_options()) {
          for (const auto& l : o->get_lnames()) choices.push_back("--" + l);
        }
      } else {
        choices = CommandNames(*at);
      }
      if (std::string near = ClosestWord(word, choices); !near.empty()) {
        to << "outpost: unknown " << (word.starts_with("-") ? "flag" : "command") << " '" << word
           << "'; did you mean '" << near << "'? (see --help)\n";
        return kExitUsage;
      }
    }
  }
  to << "outpost: " << what << " (see --help)\n";
  return kExitUsage;
}

}  // namespace outpost::cli
