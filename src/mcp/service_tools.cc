#include "mcp/service_tools.h"

#include <algorithm>
#include <boost/json.hpp>
#include <deque>

#include "api/promote_routes.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "mcp/json_schema.h"
#include "mcp/tool_result.h"
#include "mcp/tools.h"
#include "wire/dispatch_request_json.h"
#include "wire/health_json.h"
#include "wire/list_query.h"
#include "wire/run_json.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

// Reading a whole log for its tail is bounded: beyond this many pages the tail is of what was
// read and says so.
constexpr int kMaxTailPages = 200;
constexpr int kTailPage = 1000;

std::string RunLine(const json::object& run) {
  std::string line = std::string(run.at("runId").as_string()) + " " +
                     std::string(run.at("status").as_string()) + " (" +
                     std::string(run.at("agent").as_string()) + ")";
  if (const json::value* r = run.if_contains("reason"); r && r->is_string()) {
    line += " reason=" + std::string(r->get_string());
  }
  if (const json::value* e = run.if_contains("exitCode"); e && e->is_int64()) {
    line += " exitCode=" + std::to_string(e->get_int64());
  }
  if (const json::value* v = run.if_contains("verification"); v && v->is_object()) {
    const json::value* passed = v->as_object().if_contains("passed");
    line += passed && passed->is_bool() && passed->get_bool() ? " verify=passed" : " verify=failed";
  }
  return line;
}

// Structured result, with the JSON as the text content (what a model without structured
// output support reads), after a one-line summary.
json::object Success(json::object data, const std::string& summary) {
  std::string text = summary + "\n" + ToJson(data);
  return ToolSuccess(std::move(data), std::move(text));
}

std::optional<std::int64_t> IntArg(const json::object& args, std::string_view key) {
  const json::value* v = args.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

std::string StrArg(const json::object& args, std::string_view key) {
  return GetString(args, key).value_or("");
}

// As the REST routes: `admin` holds every scope; the error names the one that is missing.
Status CheckScope(const ToolDef& tool, const RequestContext& ctx) {
  if (tool.scope.empty()) return Status::Ok();
  auto has = [&](std::string_view s) {
    return std::find(ctx.scopes.begin(), ctx.scopes.end(), s) != ctx.scopes.end();
  };
  if (has(tool.scope) || has("admin")) return Status::Ok();
  Status st(Code::kPermissionDenied, "API key lacks the required scope: " + tool.scope);
  st.WithDetail("requiredScope", json::value(tool.scope));
  return st;
}

// The arguments the input schema judges. A cancel reason's length is the service's to judge (in
// characters, the same over REST and MCP; the schema's maxLength tells clients that limit), so
// the schema sees only that it is a string.
json::object SchemaChecked(const ToolCall& call) {
  json::object args = call.arguments;
  if (json::value* reason = args.if_contains("reason");
      call.name == "cancel" && reason && reason->is_string()) {
    *reason = "";
  }
  return args;
}

}  // namespace

ServiceTools::Outcome ServiceTools::Call(const ToolCall& call, const RequestContext& ctx) {
  const ToolDef* tool = FindTool(call.name);
  if (Status st = CheckScope(*tool, ctx); !st.ok()) return {ToolError(st), std::nullopt};
  if (call.name == "dispatch") return {Dispatch(call.arguments, ctx), std::nullopt};
  std::vector<FieldError> errors = ValidateSchema(tool->input_schema, SchemaChecked(call));
  if (!errors.empty())
    return {ToolError(Status::Invalid(errors, "Invalid arguments")), std::nullopt};
  if (call.name == "get_run") return GetRun(call.arguments, ctx);
  if (call.name == "list_runs") return {ListRuns(call.arguments, ctx), std::nullopt};
  if (call.name == "cancel") return {Cancel(call.arguments, ctx), std::nullopt};
  if (call.name == "promote") return {Promote(call.arguments, ctx), std::nullopt};
  if (call.name == "fleet_status") return {Fleet(ctx), std::nullopt};
  if (call.name == "health") return {Health(ctx), std::nullopt};
  if (call.name == "get_logs") return {Logs(call.arguments, ctx), std::nullopt};
  if (call.name == "get_diff") return {Diff(call.arguments, ctx), std::nullopt};
  return {Artifacts(call.arguments, ctx), std::nullopt};
}

json::object ServiceTools::Dispatch(const json::object& args, const RequestContext& ctx) {
  Result<DispatchOutcome> out = runs_.Dispatch(wire::DecodeDispatchRequest(json::value(args)), ctx);
  if (!out.ok()) return ToolError(out.status());
  json::object data = wire::DispatchResultToJson(out->run, out->created, out->group_id, out->group);
  if (out->group_id) {
    return Success(std::move(data), "Dispatched " + std::to_string(out->group.size()) +
                                        " runs (group " + *out->group_id + ").");
  }
  const Run& run = out->run;
  const std::string summary =
      (out->created ? "Dispatched run " : "Existing run (same idempotencyKey) ") + run.id.str() +
      ": " + std::string(ToString(run.status)) + ". Use get_run with waitSeconds to wait for it.";
  return Success(std::move(data), summary);
}

ServiceTools::Outcome ServiceTools::GetRun(const json::object& args, const RequestContext& ctx) {
  GetRunWait w;
  w.run_id = CanonicalUlid(StrArg(args, "runId"));
  w.include_output = GetBool(args, "includeOutput").value_or(false);
  w.output_lines = static_cast<int>(IntArg(args, "outputLines").value_or(kDefaultOutputLines));
  w.ctx = ctx;
  const std::int64_t wait_seconds = IntArg(args, "waitSeconds").value_or(0);
  w.deadline = clock_.Mono() + std::chrono::seconds(wait_seconds);
  if (auto r = Resume(w, wait_seconds == 0)) return {std::move(*r), std::nullopt};
  return {json::object{}, std::move(w)};
}

std::optional<json::object> ServiceTools::Resume(const GetRunWait& w, bool final) {
  Result<Run> run = runs_.Get(w.run_id, w.ctx);
  if (!run.ok()) return ToolError(run.status());
  if (!IsTerminal(run->status) && !final && clock_.Mono() < w.deadline) return std::nullopt;
  return RunResult(*run, w);
}

json::object ServiceTools::RunResult(const Run& run, const GetRunWait& w) {
  json::object data = wire::RunToJson(run);
  const bool terminal = IsTerminal(run.status);
  data["terminal"] = terminal;
  std::string summary = RunLine(data);
  if (!terminal) summary += "; still going: call get_run again (waitSeconds) to wait more";
  if (w.include_output) {
    std::deque<json::object> tail;
    std::int64_t offset = 0;
    bool more = true;
    for (int page = 0; more && page < kMaxTailPages; ++page) {
      Result<LogPage> p = runs_.Logs(w.run_id, offset, kTailPage, w.ctx);
      if (!p.ok()) return ToolError(p.status());
      for (const LogEntry& e : p->entries) {
        tail.push_back(
            json::object{{"offset", e.offset}, {"stream", e.stream}, {"message", e.message}});
        if (tail.size() > static_cast<std::size_t>(w.output_lines)) tail.pop_front();
      }
      offset = p->next_offset;
      more = p->has_more;
    }
    json::array lines;
    std::string text;
    for (auto& l : tail) {
      text += std::string(l.at("message").as_string()) + "\n";
      lines.push_back(std::move(l));
    }
    data["output"] = json::object{{"lines", std::move(lines)}, {"totalLines", offset}};
    summary += "\nLast " + std::to_string(tail.size()) + " of " + std::to_string(offset) +
               " output lines:\n" + text;
  }
  return Success(std::move(data), summary);
}

json::object ServiceTools::ListRuns(const json::object& args, const RequestContext& ctx) {
  Result<ListQuery> query = wire::ListQueryFromArgs(args);
  if (!query.ok()) return ToolError(query.status());
  Result<RunPage> page = runs_.List(std::move(*query), ctx);
  if (!page.ok()) return ToolError(page.status());
  json::array items;
  std::string summary = std::to_string(page->runs.size()) + " runs";
  for (const Run& r : page->runs) {
    json::object o = wire::RunToJson(r);
    summary += "\n" + RunLine(o);
    items.push_back(std::move(o));
  }
  if (page->next_cursor) summary += "\nMore: pass cursor " + *page->next_cursor;
  json::value cursor = page->next_cursor ? json::value(*page->next_cursor) : json::value(nullptr);
  return ToolSuccess(json::object{{"items", std::move(items)},
                                  {"nextCursor", cursor},
                                  {"hasMore", page->next_cursor.has_value()}},
                     summary);
}

json::object ServiceTools::Cancel(const json::object& args, const RequestContext& ctx) {
  Result<CancelOutcome> out =
      runs_.Cancel(CanonicalUlid(StrArg(args, "runId")), GetString(args, "reason"), ctx);
  if (!out.ok()) return ToolError(out.status());
  json::object data = wire::RunToJson(out->run);
  data["cancelRequested"] = true;
  data["inProgress"] = out->in_progress;
  std::string summary = RunLine(data);
  if (out->in_progress) summary += "; stopping its processes (get_run shows when it is CANCELLED)";
  return Success(std::move(data), summary);
}

json::object ServiceTools::Promote(const json::object& args, const RequestContext& ctx) {
  if (promoter_ == nullptr) return ToolError(Unavailable("promote is not available here"));
  json::object body = args;
  body.erase("runId");
  Result<PromoteRequest> request = api::PromoteRequestFromJson(body, nullptr);
  if (!request.ok()) return ToolError(request.status());
  Result<PromoteOutcome> out =
      promoter_->Promote(CanonicalUlid(StrArg(args, "runId")), *request, ctx);
  if (!out.ok()) return ToolError(out.status());
  json::object data = api::PromoteOutcomeToJson(*out);
  const Promotion& p = *out->run.promotion;
  std::string summary = (out->replayed ? "Promoted before: " : "Promoted run ") +
                        out->run.id.str() + " to branch " + p.branch + " (" + p.commit + ")";
  if (p.pr_number > 0) summary += "; pull request #" + std::to_string(p.pr_number) + " " + p.pr_url;
  return Success(std::move(data), summary);
}

json::object ServiceTools::Fleet(const RequestContext& ctx) {
  FleetReport report = runs_.Fleet(ctx);
  return Success(wire::FleetToJson(report), "fleet status: " + report.status);
}

// GET /health and GET /health/fleet through the same RunService calls: whatever those decide
// (status, healthy) is passed on, never decided again here. The fleet part leaves out what
// fleet_status is for (per-run counts, the reaper's, the replicas') and keeps per agent only
// whether it can take a run.
json::object ServiceTools::Health(const RequestContext& ctx) {
  const HealthReport health = runs_.Health();
  const FleetReport fleet_report = runs_.Fleet(ctx);
  json::object data = wire::HealthToJson(health);
  json::object fleet = wire::FleetToJson(fleet_report);
  for (std::string_view detail : {"dispatches", "reaper", "replicas", "timestamp"}) {
    fleet.erase(detail);
  }
  if (json::value* agents = fleet.if_contains("agents"); agents && agents->is_array()) {
    json::array brief;
    for (const json::value& a : agents->get_array()) {
      if (!a.is_object()) continue;
      json::object b;
      for (std::string_view key : {"agent", "available", "modelId", "reason"}) {
        if (const json::value* v = a.get_object().if_contains(key)) b[key] = *v;
      }
      brief.push_back(std::move(b));
    }
    *agents = std::move(brief);
  }
  const std::string summary = "health: " + health.status + "; fleet: " + fleet_report.status;
  data["fleet"] = std::move(fleet);
  return Success(std::move(data), summary);
}

json::object ServiceTools::Logs(const json::object& args, const RequestContext& ctx) {
  const std::string id = CanonicalUlid(StrArg(args, "runId"));
  Result<LogPage> page = runs_.Logs(id, IntArg(args, "offset").value_or(0),
                                    static_cast<int>(IntArg(args, "limit").value_or(100)), ctx);
  if (!page.ok()) return ToolError(page.status());
  json::array entries;
  std::string text;
  for (const LogEntry& e : page->entries) {
    text += e.message + "\n";
    entries.push_back(json::object{{"offset", e.offset},
                                   {"timestamp", e.timestamp},
                                   {"stream", e.stream},
                                   {"message", e.message}});
  }
  text += "(nextOffset " + std::to_string(page->next_offset) +
          (page->has_more ? ", more available)" : ", no more lines now)");
  return ToolSuccess(json::object{{"runId", id},
                                  {"entries", std::move(entries)},
                                  {"nextOffset", page->next_offset},
                                  {"hasMore", page->has_more}},
                     text);
}

json::object ServiceTools::Artifacts(const json::object& args, const RequestContext& ctx) {
  if (!artifacts_) return ToolError(Unavailable("artifacts are not configured on this server"));
  const int expires = static_cast<int>(IntArg(args, "expiresIn").value_or(kDefaultArtifactExpiry));
  Result<json::object> list = artifacts_->List(CanonicalUlid(StrArg(args, "runId")), expires, ctx);
  if (!list.ok()) return ToolError(list.status());
  std::string summary;
  if (const json::value* a = list->if_contains("artifacts"); a && a->is_array()) {
    summary = std::to_string(a->get_array().size()) + " artifacts";
    for (const json::value& x : a->get_array()) {
      summary += "\n" + std::string(x.at("name").as_string()) + ": " +
                 std::string(x.at("url").as_string());
    }
  }
  return ToolSuccess(*list, summary + "\n" + ToJson(*list));
}

json::object ServiceTools::Diff(const json::object& args, const RequestContext& ctx) {
  if (!artifacts_) return ToolError(Unavailable("artifacts are not configured on this server"));
  const std::string id = CanonicalUlid(StrArg(args, "runId"));
  const auto max = static_cast<std::size_t>(IntArg(args, "maxBytes").value_or(65'536));
  Result<RunArtifacts::Diff> diff = artifacts_->ReadDiff(id, max, ctx);
  if (!diff.ok()) return ToolError(diff.status());
  std::string text = diff->text.empty() ? "(the run changed nothing)" : diff->text;
  if (diff->truncated) {
    text += "\n(truncated: " + std::to_string(diff->text.size()) + " of " +
            std::to_string(diff->size_bytes) + " bytes; get_artifacts has the whole diff.patch)";
  }
  return ToolSuccess(json::object{{"runId", id},
                                  {"diff", diff->text},
                                  {"sizeBytes", diff->size_bytes},
                                  {"truncated", diff->truncated}},
                     text);
}

json::object ServiceTools::ToolsList() const {
  std::vector<ServerAgent> agents;
  for (const auto& [name, a] : runs_.options().agents) {
    if (a.enabled) agents.push_back({name, a.models});
  }
  return ToolsListResult(&agents);
}

}  // namespace outpost::mcp
