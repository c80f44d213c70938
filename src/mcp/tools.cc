#include "mcp/tools.h"

#include <boost/json.hpp>

#include "core/dispatch_request.h"
#include "core/run_artifacts.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// The run object of GET /runs/{id} (wire/run_json.h), as far as a client relies on it.
constexpr std::string_view kRunProperties = R"J({
  "runId": {"type": "string", "description": "26-character ULID"},
  "dispatchId": {"type": "string"},
  "status": {"type": "string", "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"]},
  "phase": {"type": "string", "description": "queued | preparing | running | collecting | done"},
  "reason": {"type": ["string", "null"], "description": "why it ended: succeeded, agent_error, timeout_total, timeout_inactive, oom, cancelled, infra_error, ..."},
  "agent": {"type": "string"},
  "modelId": {"type": "string"},
  "task": {"type": "string"},
  "repo": {"type": ["string", "null"]},
  "branch": {"type": ["string", "null"]},
  "tags": {"type": "object"},
  "createdAt": {"type": "string"},
  "startedAt": {"type": ["string", "null"]},
  "endedAt": {"type": ["string", "null"]},
  "durationMs": {"type": ["integer", "null"]},
  "exitCode": {"type": ["integer", "null"]},
  "errorMessage": {"type": ["string", "null"]},
  "finalMessage": {"type": ["string", "null"], "description": "the agent's last message"},
  "changes": {"type": ["object", "null"], "description": "{kind: none|committed|uncommitted, beforeSha, afterSha, filesChanged[], diffStat[]}"},
  "usage": {"type": ["object", "null"], "description": "{inputTokens, outputTokens, costUsd}"},
  "progress": {"type": "integer"}
})J";

json::object RunSchema(std::string_view extra_properties = "{}") {
  json::object props = Obj(kRunProperties);
  for (auto& kv : Obj(extra_properties)) props[kv.key()] = kv.value();
  return json::object{{"type", "object"},
                      {"properties", std::move(props)},
                      {"required", json::array{"runId", "status", "agent"}}};
}

ToolDef DispatchTool() {
  ToolDef t;
  t.name = "dispatch";
  t.scope = "dispatch";
  t.title = "Dispatch a coding agent";
  t.description =
      "Start a run: an AI coding agent (or `shell`, a plain /bin/sh command) works on `task` in an "
      "isolated workspace, optionally a checkout of `repo` at `branch`. Returns at once with the "
      "runId and status PENDING; the run continues on the server. Follow it with get_run "
      "(waitSeconds to wait for the end, includeOutput for the output), get_logs for the full "
      "output, get_artifacts for diff.patch and the summary; stop it with cancel. Pass "
      "idempotencyKey so that a retried call cannot start a second run. `agent` may also be a "
      "list of agents or \"all\": one run per agent (a fan-out with a groupId). fleet_status "
      "tells which agents are available and their models.";
  t.input_schema = DispatchInputSchema();
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string"}, "dispatchId": {"type": "string"},
      "status": {"type": "string"}, "agent": {"type": "string"}, "modelId": {"type": "string"},
      "createdAt": {"type": "string"},
      "idempotent": {"type": "boolean", "description": "true: an earlier dispatch with the same idempotencyKey was returned"},
      "groupId": {"type": "string", "description": "fan-out only"},
      "runs": {"type": "array", "description": "fan-out only: [{runId, agent, modelId, status}]"},
      "runIds": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["idempotent"]})J");
  t.read_only = false;
  t.idempotent = false;
  return t;
}

ToolDef GetRunTool() {
  ToolDef t;
  t.name = "get_run";
  t.scope = "status";
  t.title = "Get a run";
  t.description =
      "The state of one run: status (PENDING, RUNNING, then exactly one of COMPLETED, FAILED, "
      "TIMEOUT, CANCELLED), reason, exitCode, errorMessage, finalMessage (the agent's last "
      "message), changes (files changed, diff stat), usage (tokens, cost). With waitSeconds "
      "(1-" +
      std::to_string(kMaxWaitSeconds) +
      ") it waits up to that long for a terminal "
      "status before answering (call again if the run is still going: `terminal` is false). "
      "includeOutput adds the last outputLines lines of the run's output.";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64, "description": "the runId returned by dispatch"},
      "waitSeconds": {"type": "integer", "minimum": 0, "maximum": 300, "default": 0, "description": "wait up to this many seconds for the run to end"},
      "includeOutput": {"type": "boolean", "default": false, "description": "add the tail of the output"},
      "outputLines": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50, "description": "how many last lines with includeOutput"}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  t.output_schema = RunSchema(R"J({
    "terminal": {"type": "boolean", "description": "the status is final"},
    "output": {"type": "object", "description": "with includeOutput: {lines: [{offset, stream, message}], totalLines}"}
  })J");
  return t;
}

ToolDef ListRunsTool() {
  ToolDef t;
  t.name = "list_runs";
  t.scope = "list";
  t.title = "List runs";
  t.description =
      "Runs newest first, optionally filtered by status, agent, repo, creation time (since) and "
      "tags (every given tag must match). Returns `items` and, when there are more, "
      "`nextCursor`: pass it as `cursor` (with the same filters) for the next page.";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
      "cursor": {"type": "string", "minLength": 1, "maxLength": 512, "description": "nextCursor of the previous page"},
      "status": {"type": "string", "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"]},
      "agent": {"type": "string", "minLength": 1, "maxLength": 500},
      "repo": {"type": "string", "minLength": 1, "maxLength": 500},
      "since": {"type": "string", "minLength": 1, "maxLength": 64, "description": "ISO 8601 time, e.g. 2026-01-13T00:00:00Z: runs created at or after it"},
      "group": {"type": "string", "minLength": 1, "maxLength": 500, "description": "the groupId of a fan-out"},
      "tags": {"type": "object", "maxProperties": 20, "additionalProperties": {"type": "string"}, "description": "tag filters, e.g. {\"ticket\": \"OPS-1\"}"}
    },
    "additionalProperties": false})J");
  json::object item = RunSchema();
  t.output_schema = json::object{
      {"type", "object"},
      {"properties", json::object{{"items", json::object{{"type", "array"}, {"items", item}}},
                                  {"nextCursor", Obj(R"J({"type": ["string", "null"]})J")},
                                  {"hasMore", Obj(R"J({"type": "boolean"})J")}}},
      {"required", json::array{"items", "hasMore"}}};
  return t;
}

ToolDef CancelTool() {
  ToolDef t;
  t.name = "cancel";
  t.scope = "cancel";
  t.title = "Cancel a run";
  t.description =
      "Cancel a run. A PENDING run is CANCELLED at once; a RUNNING one has its whole process tree "
      "stopped and becomes CANCELLED when nothing of it is left (inProgress true meanwhile; "
      "get_run with waitSeconds shows the end). Cancelling a CANCELLED run again is fine; a run "
      "that already ended otherwise gives a CONFLICT error with its currentStatus.";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64},
      "reason": {"type": "string", "maxLength": 500, "description": "recorded as cancelReason"}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  t.output_schema = RunSchema(R"J({
    "cancelRequested": {"type": "boolean"},
    "inProgress": {"type": "boolean", "description": "true: processes are still being stopped"}
  })J");
  t.read_only = false;
  t.destructive = true;
  return t;
}

ToolDef PromoteTool() {
  ToolDef t;
  t.name = "promote";
  t.scope = "promote";
  t.title = "Promote a run's changes";
  t.description =
      "Push a COMPLETED run's changes (its commits, or its uncommitted work as one commit) to a "
      "new branch of its repository (default outpost/<agent>/<runId>), from the run's stored "
      "artifacts with the tenant's own git token; mode \"pr\" also opens a GitHub pull "
      "request and returns its URL and number. Promoting again returns the earlier result "
      "(replayed). CONFLICT when the run did not complete, changed nothing, held a secret or was "
      "promoted to another branch; the remote's or GitHub's refusal is an error with its message.";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64},
      "mode": {"type": "string", "enum": ["branch", "pr"]},
      "branch": {"type": "string", "minLength": 1, "maxLength": 255},
      "title": {"type": "string", "maxLength": 256, "description": "pull request title"},
      "body": {"type": "string", "description": "pull request body"},
      "base": {"type": "string", "minLength": 1, "maxLength": 255,
               "description": "branch the pull request targets"},
      "draft": {"type": "boolean"}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string"},
      "replayed": {"type": "boolean"},
      "promotion": {"type": "object", "properties": {
        "branch": {"type": "string"}, "commit": {"type": "string"},
        "base": {"type": ["string", "null"]}, "prUrl": {"type": ["string", "null"]},
        "prNumber": {"type": ["integer", "null"]}, "at": {"type": "string"},
        "by": {"type": "string"}}}
    },
    "required": ["runId", "replayed", "promotion"]})J");
  t.read_only = false;
  t.destructive = false;
  t.idempotent = true;
  return t;
}

ToolDef FleetTool() {
  ToolDef t;
  t.name = "fleet_status";
  t.title = "Fleet status";
  t.description =
      "Which agents this server can run (available, modelId, maxConcurrent), how many runs are "
      "active and queued per agent, capacity, success rates and the last hour's dispatches by "
      "status. Use it to choose an agent for dispatch.";
  t.input_schema = Obj(R"J({"type": "object", "properties": {}, "additionalProperties": false})J");
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "status": {"type": "string"}, "healthy": {"type": "boolean"},
      "agents": {"type": "array", "items": {"type": "object"}},
      "capacity": {"type": "object"}, "dispatches": {"type": "object"}
    },
    "required": ["healthy", "agents"]})J");
  return t;
}

// The runbook's `mcp call outpost:health` (Step 5, rollback 4.3): GET /health's body as it is,
// and beside it the summary of GET /health/fleet, both from RunService's own calls.
ToolDef HealthTool() {
  ToolDef t;
  t.name = "health";
  t.title = "Server health";
  t.description =
      "Whether this Outpost server is healthy: status (healthy, degraded or unhealthy), version, "
      "uptime and its checks (store, supervisor, runner, disk, ...), exactly as GET /health; "
      "and `fleet`, the summary of GET /health/fleet: its status and healthy flag, capacity, and "
      "per agent whether it is available (and why not). fleet_status has the fleet's details.";
  t.input_schema = Obj(R"J({"type": "object", "properties": {}, "additionalProperties": false})J");
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "status": {"type": "string", "description": "healthy | degraded | unhealthy (GET /health)"},
      "version": {"type": "string"}, "uptimeSeconds": {"type": "integer"},
      "timestamp": {"type": "string"},
      "checks": {"type": "object", "description": "per check: {status: pass|warn|fail, ...}"},
      "fleet": {"type": "object", "description": "GET /health/fleet without its per-run counts, reaper and replica details", "properties": {
        "status": {"type": "string"}, "healthy": {"type": "boolean"},
        "capacity": {"type": "object"},
        "agents": {"type": "array", "items": {"type": "object", "properties": {
          "agent": {"type": "string"}, "available": {"type": "boolean"},
          "modelId": {"type": "string"}, "reason": {"type": "string"}}}}},
        "required": ["status", "healthy"]}
    },
    "required": ["status", "checks", "fleet"]})J");
  return t;
}

ToolDef LogsTool() {
  ToolDef t;
  t.name = "get_logs";
  t.scope = "status";
  t.title = "Read a run's output";
  t.description =
      "A page of a run's output, one entry per line {offset, timestamp, stream (stdout, stderr, "
      "outpost), message}, numbered from 0. Read on with offset = nextOffset; hasMore false "
      "means no more lines are there yet (a RUNNING run may still write more).";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64},
      "offset": {"type": "integer", "minimum": 0, "default": 0},
      "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string"},
      "entries": {"type": "array", "items": {"type": "object", "properties": {
        "offset": {"type": "integer"}, "timestamp": {"type": "string"},
        "stream": {"type": "string"}, "message": {"type": "string"}}}},
      "nextOffset": {"type": "integer"}, "hasMore": {"type": "boolean"}
    },
    "required": ["entries", "nextOffset", "hasMore"]})J");
  return t;
}

ToolDef DiffTool() {
  ToolDef t;
  t.name = "get_diff";
  t.scope = "status";
  t.title = "Read a run's diff";
  t.description =
      "The unified diff of what a finished run changed in its repository (its diff.patch), "
      "inline: at most maxBytes bytes of it (default 65536, at most 1048576), cut at a line end, "
      "with truncated true and sizeBytes the whole diff's size when there is more (get_artifacts "
      "gives a URL of the whole file). An empty diff when the run changed nothing; an error "
      "while the run is active or when it has no repository.";
  t.input_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64},
      "maxBytes": {"type": "integer", "minimum": 1024, "maximum": 1048576, "default": 65536}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string"},
      "diff": {"type": "string"},
      "sizeBytes": {"type": "integer", "description": "the whole diff's size"},
      "truncated": {"type": "boolean"}
    },
    "required": ["runId", "diff", "sizeBytes", "truncated"]})J");
  return t;
}

ToolDef ArtifactsTool() {
  ToolDef t;
  t.name = "get_artifacts";
  t.scope = "status";
  t.title = "Get a run's artifacts";
  t.description =
      "Download URLs of a finished run's artifacts (output log, diff.patch, summary.json, git "
      "bundle, events), each with expiresAt, sizeBytes and sha256. The URLs work without "
      "credentials until they expire (expiresIn seconds, default 3600). While the run is active "
      "the list is empty and artifactsStatus says why.";
  json::object in = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string", "minLength": 1, "maxLength": 64},
      "expiresIn": {"type": "integer", "default": 3600, "description": "URL lifetime in seconds"}
    },
    "required": ["runId"],
    "additionalProperties": false})J");
  json::object& expires = in["properties"].as_object()["expiresIn"].as_object();
  expires["minimum"] = kMinArtifactExpiry;
  expires["maximum"] = kMaxArtifactExpiry;
  t.input_schema = std::move(in);
  t.output_schema = Obj(R"J({
    "type": "object",
    "properties": {
      "runId": {"type": "string"}, "status": {"type": "string"},
      "artifactsStatus": {"type": "string"},
      "artifacts": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "type": {"type": "string"}, "url": {"type": "string"},
        "expiresAt": {"type": "string"}, "sizeBytes": {"type": "integer"},
        "contentType": {"type": "string"}, "sha256": {"type": "string"}}}}
    },
    "required": ["runId", "artifacts"]})J");
  return t;
}

}  // namespace

json::object DispatchInputSchema() {
  // Mirrors the dispatch decoder and validator (wire/dispatch_request_json.cc,
  // core/dispatch_request.cc): null counts as absent for every optional field there, so each
  // optional type admits null.
  json::object s = Obj(R"J({
    "type": "object",
    "properties": {
      "agent": {
        "description": "claude | codex | gemini | aider | grok | shell (see fleet_status); a list of agents, or \"all\", for one run per agent",
        "oneOf": [
          {"type": "string", "minLength": 1, "maxLength": 64},
          {"type": "array", "minItems": 1, "maxItems": 16, "uniqueItems": true, "items": {"type": "string"}}
        ]},
      "task": {"type": "string", "minLength": 1, "description": "what the agent should do (for shell: the command)"},
      "modelId": {"type": ["string", "null"], "minLength": 1, "maxLength": 100, "description": "one of the agent's models; default: the agent's default model"},
      "repo": {"type": ["string", "null"], "minLength": 1, "maxLength": 500, "description": "owner/repo (GitHub), a git URL, or an absolute path when the server allows local repositories"},
      "branch": {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
                 "pattern": "^(?![-/])(?!.*\\.\\.)(?!.*//)(?!.*\\.lock$)[A-Za-z0-9._/-]*[A-Za-z0-9_-]$",
                 "description": "branch to check out; default: the repository's default branch"},
      "context": {"type": ["string", "null"], "enum": ["minimal", "standard", "full", null], "description": "how much repository context to give the agent"},
      "timeoutSeconds": {"type": ["integer", "null"], "minimum": 1, "maximum": 86400, "description": "total time limit (default 600): the run ends TIMEOUT"},
      "inactivityTimeoutSeconds": {"type": ["integer", "null"], "minimum": 1, "maximum": 86400, "description": "end the run TIMEOUT after this long without output"},
      "maxCostUsd": {"type": ["number", "null"], "exclusiveMinimum": 0, "description": "cost ceiling in USD: the run is stopped (FAILED budget_exceeded) once its usage so far costs more; default: the server's [limits] default_max_cost_usd"},
      "workspaceMode": {"type": ["string", "null"], "enum": ["ephemeral", "persistent", null], "description": "ephemeral (default); persistent is not available on this server"},
      "idempotencyKey": {"type": ["string", "null"], "minLength": 1, "maxLength": 128, "description": "same key and same request: the same run is returned, never a second one"},
      "tags": {"type": ["object", "null"], "maxProperties": 50,
               "propertyNames": {"type": "string", "pattern": "^[A-Za-z0-9_./-]{1,128}$"},
               "additionalProperties": {"type": "string", "maxLength": 256},
               "description": "string labels, filterable in list_runs"},
      "resourceConstraints": {"type": ["object", "null"], "additionalProperties": false,
        "properties": {
          "maxMemoryMb": {"type": ["integer", "null"], "minimum": 32, "maximum": 262144},
          "maxCpuUnits": {"type": ["integer", "null"], "minimum": 64, "maximum": 65536, "description": "1024 = one CPU"},
          "maxDiskGb": {"type": ["integer", "null"], "minimum": 1, "maximum": 2048}
        }},
      "network": {"type": ["string", "null"], "enum": ["none", "allowlist", "host", null], "description": "default: the agent's own policy (allowlist for coding agents, none for shell); none: no network; allowlist: only the agent's model API and the operator's hosts; host: per operator policy"},
      "additionalSecrets": {"type": ["array", "null"], "maxItems": 50,
        "items": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{0,127}$"},
        "description": "names of secrets configured on the server, given to the agent as environment variables"},
      "verify": {"type": ["string", "null"], "minLength": 1, "description": "a check command (e.g. \"make test\") run by sh in the run's workspace after the agent, in its sandbox; needs repo. Its exit code and output tail are the run's verification {exitCode, passed, tail, timedOut}; a failed check does not change the run's status"}
    },
    "required": ["agent", "task"],
    "additionalProperties": false})J");
  s["properties"].as_object()["task"].as_object()["maxLength"] = kMaxTaskChars;
  s["properties"].as_object()["verify"].as_object()["maxLength"] = kMaxVerifyChars;
  return s;
}

const std::vector<ToolDef>& Tools() {
  static const std::vector<ToolDef> kTools = {
      DispatchTool(), GetRunTool(), ListRunsTool(),  CancelTool(),  FleetTool(),
      HealthTool(),   LogsTool(),   ArtifactsTool(), PromoteTool(), DiffTool()};
  return kTools;
}

const ToolDef* FindTool(std::string_view name) {
  for (const ToolDef& t : Tools()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

// dispatch's schema naming `agents`: the string form and the list's items take only their
// names (and "all"), and `modelId` says which models each has.
json::object DispatchSchemaFor(json::object schema, const std::vector<ServerAgent>& agents) {
  json::object& props = schema["properties"].as_object();
  json::array names;
  std::string listed, models;
  for (const ServerAgent& a : agents) {
    names.push_back(json::value(a.name));
    listed += (listed.empty() ? "" : ", ") + a.name;
    if (a.models.empty()) continue;
    models += (models.empty() ? "" : "; ") + a.name + ": ";
    for (std::size_t i = 0; i < a.models.size(); ++i) {
      models += (i ? ", " : "") + a.models[i] + (i == 0 ? " (default)" : "");
    }
  }
  names.push_back(json::value("all"));
  json::object& agent = props["agent"].as_object();
  agent["description"] = "one of this server's agents: " + listed +
                         "; a list of them, or \"all\", for one run per agent";
  json::array& forms = agent["oneOf"].as_array();
  forms[0].as_object()["enum"] = names;
  json::array items_enum = names;
  items_enum.pop_back();  // "all" is not an agent of a list
  forms[1].as_object()["items"].as_object()["enum"] = std::move(items_enum);
  if (!models.empty()) {
    props["modelId"].as_object()["description"] =
        "one of the agent's models (default: its first): " + models;
  }
  return schema;
}

}  // namespace

json::object ToolsListResult(const std::vector<ServerAgent>* agents) {
  json::array tools;
  for (const ToolDef& t : Tools()) {
    tools.push_back(json::object{
        {"name", t.name},
        {"title", t.title},
        {"description", t.description},
        {"inputSchema", agents && t.name == "dispatch" ? DispatchSchemaFor(t.input_schema, *agents)
                                                       : t.input_schema},
        {"outputSchema", t.output_schema},
        {"annotations", json::object{{"title", t.title},
                                     {"readOnlyHint", t.read_only},
                                     {"destructiveHint", t.destructive},
                                     {"idempotentHint", t.idempotent},
                                     {"openWorldHint", false}}}});
  }
  return json::object{{"tools", std::move(tools)}};
}

}  // namespace outpost::mcp
