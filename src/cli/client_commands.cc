#include "cli/client_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/artifacts_command.h"
#include "cli/follow.h"
#include "cli/format.h"
#include "cli/logs_command.h"
#include "cli/ops_commands.h"
#include "cli/wait.h"
#include "client/api_client.h"
#include "common/ids.h"
#include "common/json_util.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::ApiClient;
using client::ListRunsQuery;
using client::ParseEndpoint;
using client::RequestOptions;
namespace {

namespace json = boost::json;

constexpr const char* kDefaultEndpoint = "http://127.0.0.1:8080";

struct CommonFlags {
  std::string endpoint = kDefaultEndpoint;
  std::string api_key;
  bool json = false;
};

struct DispatchFlags {
  CommonFlags common;
  std::string agent, task, model, repo, branch, context, idempotency_key;
  int timeout = 0;
  CLI::Option* timeout_opt = nullptr;
  std::vector<std::string> tags;
  bool wait = false;
  bool follow = false;
  std::string verify;  // the check command run after the agent (issue 23)
};

struct RunFlags {  // status, cancel
  CommonFlags common;
  std::string id, reason;
  bool wait = false;
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
  std::string status, agent, cursor;
};

struct HealthFlags {
  CommonFlags common;
  bool fleet = false;
};

void AddCommon(CLI::App* sub, CommonFlags* f) {
  sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve`")
      ->envname("OUTPOST_ENDPOINT")
      ->capture_default_str();
  sub->add_option("--api-key", f->api_key, "API key, sent as a Bearer token")
      ->envname("OUTPOST_API_KEY");
  sub->add_flag("--json", f->json, "Print the server's JSON (the envelope's data) for scripts");
  sub->footer(std::string(ExitCodeHelp()));
}

// nullopt (after printing why) when the endpoint is malformed: a usage error.
std::optional<ApiClient> MakeClient(const CommonFlags& f, const ClientIo& io) {
  auto ep = ParseEndpoint(f.endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return std::nullopt;
  }
  RequestOptions base;
  base.read_timeout = io.request_timeout;
  base.clock = io.clock;
  base.sleep = SleepOn(io.clock ? *io.clock : RealClock::Instance());
  return ApiClient(std::move(*ep), f.api_key, base);
}

int Fail(const Status& status, const ClientIo& io) {
  *io.err << FormatError(status);
  return ExitCodeForError(status);
}

void PrintJson(const json::value& v, const ClientIo& io) { *io.out << ToJson(v) << "\n"; }

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
  if (f.timeout_opt->count() > 0) body["timeoutSeconds"] = f.timeout;
  auto set = [&](std::string_view key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  set("modelId", f.model);
  set("repo", f.repo);
  set("branch", f.branch);
  set("context", f.context);
  set("idempotencyKey", f.idempotency_key);
  set("verify", f.verify);
  if (f.tags.empty()) return body;
  json::object tags;
  for (const auto& tag : f.tags) {
    auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      *io.err << "outpost: --tag expects key=value, got '" << tag << "'\n";
      return std::nullopt;
    }
    tags[tag.substr(0, eq)] = tag.substr(eq + 1);
  }
  body["tags"] = std::move(tags);
  return body;
}

int RunDispatch(const DispatchFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  auto body = DispatchBody(f, io);
  if (!client || !body) return kExitUsage;
  auto data = client->Dispatch(*body);
  if (!data.ok()) return Fail(data.status(), io);
  if (data->is_object() && data->as_object().contains("groupId")) {  // a fan-out
    const json::value* ids = data->as_object().if_contains("runIds");
    if (f.common.json && !f.wait) PrintJson(*data, io);
    int worst = kExitOk;
    for (const auto& id : ids && ids->is_array() ? ids->as_array() : json::array{}) {
      if (!id.is_string()) continue;
      if (!f.common.json) *io.out << id.as_string().c_str() << "\n" << std::flush;
      if (f.follow) {
        worst = std::max(
            worst, FollowRun({client->endpoint(), f.common.api_key, std::string(id.as_string())},
                             f.common.json, io));
      } else if (f.wait) {
        worst =
            std::max(worst, WaitForRun(*client, std::string(id.as_string()), f.common.json, io));
      }
    }
    return worst;
  }
  std::string run_id = data->is_object() ? GetString(data->as_object(), "runId").value_or("") : "";
  if (run_id.empty()) return Fail(Internal("the server's dispatch answer has no runId"), io);
  if (f.follow) {  // stdout is the agent's output: the id goes to stderr
    *io.err << "outpost: run " << run_id << " dispatched\n" << std::flush;
    return FollowRun({client->endpoint(), f.common.api_key, run_id}, f.common.json, io);
  }
  if (!f.wait) {
    if (f.common.json) {
      PrintJson(*data, io);
    } else {
      *io.out << run_id << "\n";
    }
    return kExitOk;
  }
  if (!f.common.json) *io.out << run_id << "\n" << std::flush;
  return WaitForRun(*client, run_id, f.common.json, io);
}

int RunStatus(const RunFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  if (f.wait) return WaitForRun(*client, f.id, f.common.json, io);
  auto run = client->GetRun(f.id);
  if (!run.ok()) return Fail(run.status(), io);
  if (f.common.json || !run->is_object()) {
    PrintJson(*run, io);
  } else {
    *io.out << FormatRunDetails(run->as_object());
  }
  return kExitOk;
}

int RunList(const RunsFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  ListRunsQuery q{.limit = std::nullopt, .status = f.status, .agent = f.agent, .cursor = f.cursor};
  if (f.limit_opt->count() > 0) q.limit = f.limit;
  auto page = client->ListRuns(q);
  if (!page.ok()) return Fail(page.status(), io);
  const auto* obj = page->if_object();
  const auto* items = obj ? obj->if_contains("items") : nullptr;
  if (f.common.json || items == nullptr || !items->is_array()) {
    PrintJson(*page, io);
    return kExitOk;
  }
  if (items->as_array().empty()) {
    *io.out << "no runs\n";
    return kExitOk;
  }
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  *io.out << FormatRunsTable(items->as_array(), clock.Now());
  auto next = GetString(*obj, "nextCursor");
  if (GetBool(*obj, "hasMore") == true && next) *io.out << "more: --cursor " << *next << "\n";
  return kExitOk;
}

int RunCancel(const RunFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  auto run = client->Cancel(f.id, f.reason);
  if (!run.ok()) return Fail(run.status(), io);
  if (f.common.json || !run->is_object()) {
    PrintJson(*run, io);
    return kExitOk;
  }
  std::string status = GetString(run->as_object(), "status").value_or("?");
  *io.out << GetString(run->as_object(), "runId").value_or(f.id) << " " << status
          << (IsTerminalStatus(status) ? "" : " (cancel requested)") << "\n";
  return kExitOk;
}

int RunPromote(const PromoteFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  boost::json::object body{{"mode", f.pr ? "pr" : "branch"}};
  if (!f.branch.empty()) body["branch"] = f.branch;
  if (!f.title.empty()) body["title"] = f.title;
  if (!f.body.empty()) body["body"] = f.body;
  if (!f.base.empty()) body["base"] = f.base;
  if (f.draft) body["draft"] = true;
  auto out = client->Promote(f.id, body);
  if (!out.ok()) return Fail(out.status(), io);
  if (f.common.json || !out->is_object()) {
    PrintJson(*out, io);
    return kExitOk;
  }
  const boost::json::object& o = out->as_object();
  const auto* p = o.if_contains("promotion");
  if (p == nullptr || !p->is_object()) {
    PrintJson(*out, io);
    return kExitOk;
  }
  const boost::json::object& promo = p->as_object();
  *io.out << GetString(o, "runId").value_or(f.id) << " -> branch "
          << GetString(promo, "branch").value_or("?") << " at "
          << GetString(promo, "commit").value_or("?").substr(0, 12)
          << (GetBool(o, "replayed") == true ? " (promoted before)" : "") << "\n";
  if (auto url = GetString(promo, "prUrl")) *io.out << "pull request: " << *url << "\n";
  return kExitOk;
}

// One line per run of the group: id, agent, status, duration, cost, files, +insertions
// -deletions, and the pull request or branch it was promoted to.
int RunGroup(const RunFlags& f, const ClientIo& io) {
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  auto out = client->Group(f.id);
  if (!out.ok()) return Fail(out.status(), io);
  if (f.common.json || !out->is_object() || !out->as_object().contains("runs")) {
    PrintJson(*out, io);
    return kExitOk;
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
  auto client = MakeClient(f.common, io);
  if (!client) return kExitUsage;
  auto reply = client->Health(f.fleet);
  if (!reply.ok()) return Fail(reply.status(), io);
  if (f.common.json) {
    PrintJson(reply->body, io);
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

void AddDispatch(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<DispatchFlags>();
  auto* sub = app.add_subcommand("dispatch", "Start a run of an agent on a task");
  sub->add_option("--agent", f->agent,
                  "claude, codex, gemini, aider, grok or shell; a,b or all fan out")
      ->required();
  sub->add_option("--task", f->task, "What the agent should do")->required();
  f->timeout_opt = sub->add_option("--timeout", f->timeout, "Run time limit in seconds");
  sub->add_option("--model", f->model, "Model id (default: the agent's)");
  sub->add_option("--repo", f->repo, "owner/repo or a git URL to check out");
  sub->add_option("--branch", f->branch, "Branch to check out");
  sub->add_option("--context", f->context, "minimal, standard or full");
  sub->add_option("--tag", f->tags, "Tag key=value (repeatable)");
  sub->add_option("--idempotency-key", f->idempotency_key, "Same key and body: the same run");
  sub->add_option("--verify", f->verify,
                  "A check command run in the workspace after the agent, e.g. 'make test' "
                  "(needs --repo; the run's verification)");
  sub->add_flag("--wait", f->wait, "Wait for the run to finish; exit code by its final status");
  sub->add_flag("--follow", f->follow,
                "Stream the run's output live until it ends (resumes after a dropped "
                "connection); exit code by its final status");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunDispatch, exit_code, io);
}

void AddStatus(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("status", "Show a run");
  sub->add_option("id", f->id, "Run id (any case)")->required()->transform([](std::string id) {
    return CanonicalUlid(id);
  });
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
  sub->add_option("--cursor", f->cursor, "Continue after a previous page");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunList, exit_code, io);
}

void AddCancel(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("cancel", "Cancel a run (stops its whole process tree)");
  sub->add_option("id", f->id, "Run id (any case)")->required()->transform([](std::string id) {
    return CanonicalUlid(id);
  });
  sub->add_option("--reason", f->reason, "Why, recorded as the run's cancelReason");
  AddCommon(sub, &f->common);
  OnRun(sub, f, RunCancel, exit_code, io);
}

void AddPromote(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<PromoteFlags>();
  auto* sub = app.add_subcommand(
      "promote",
      "Push a completed run's changes to a new branch of its repository (--pr: and "
      "open a pull request)");
  sub->add_option("id", f->id, "Run id (any case)")->required()->transform([](std::string id) {
    return CanonicalUlid(id);
  });
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

}  // namespace

void AddClientCommands(CLI::App& app, int* exit_code) {
  ClientIo io;
  io.tty = ::isatty(STDOUT_FILENO) == 1;
  AddClientCommands(app, exit_code, std::move(io));
}

void AddClientCommands(CLI::App& app, int* exit_code, ClientIo io) {
  if (io.out == nullptr) io.out = &std::cout;
  if (io.err == nullptr) io.err = &std::cerr;
  auto shared = std::make_shared<const ClientIo>(std::move(io));
  AddDispatch(app, exit_code, shared);
  AddStatus(app, exit_code, shared);
  AddRuns(app, exit_code, shared);
  AddCancel(app, exit_code, shared);
  AddPromote(app, exit_code, shared);
  AddGroup(app, exit_code, shared);
  AddHealth(app, exit_code, shared);
  AddLogsCommand(app, exit_code, shared);
  AddArtifactsCommand(app, exit_code, shared);
  AddValidateCommand(app, exit_code, shared);
  AddMonitorCommand(app, exit_code, shared);
  std::string footer = app.get_footer();
  if (footer.find("Exit codes:") == std::string::npos) {
    app.footer(footer.empty() ? std::string(ExitCodeHelp())
                              : footer + "\n\n" + std::string(ExitCodeHelp()));
  }
}

int UsageExitCode() { return kExitUsage; }

int ExitForParseError(const CLI::App& app, const CLI::ParseError& error, std::ostream* err) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
  if (error.get_name() == "RuntimeError") return error.get_exit_code();
  (err ? *err : std::cerr) << "outpost: " << error.what() << " (see --help)\n";
  return kExitUsage;
}

}  // namespace outpost::cli
