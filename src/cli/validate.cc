#include "cli/validate.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "cli/probe.h"
#include "common/ids.h"
#include "common/json_util.h"

namespace outpost::cli {
namespace json = boost::json;
namespace {

bool IsTerminalStatus(std::string_view s) {
  return s == "COMPLETED" || s == "FAILED" || s == "TIMEOUT" || s == "CANCELLED";
}

// The runbook's jq paths: `.status // .data.status`, `.runId // .data.runId`.
std::string Field(const ProbeResult& p, std::string_view key) {
  auto v = ParseJson(p.body);
  if (!v.ok() || !v->is_object()) return "";
  const json::object& o = v->as_object();
  if (const json::value* top = o.if_contains(key); top && top->is_string()) {
    return std::string(top->get_string());
  }
  const json::value* data = o.if_contains("data");
  if (data && data->is_object()) {
    if (const json::value* in = data->as_object().if_contains(key); in && in->is_string()) {
      return std::string(in->get_string());
    }
  }
  return "";
}

std::string Brief(const std::string& body, std::size_t max = 80) {
  std::string s = body.substr(0, body.find('\n'));
  return s.size() > max ? s.substr(0, max) + "…" : s;
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

// The error code and message of an error envelope, "" for anything else.
std::string ErrorOf(const ProbeResult& p) {
  auto v = ParseJson(p.body);
  if (!v.ok() || !v->is_object()) return "";
  const json::value* e = v->as_object().if_contains("error");
  if (!e || !e->is_object()) return "";
  std::string out;
  if (auto* c = e->as_object().if_contains("code"); c && c->is_string()) out = c->get_string();
  if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
    out += (out.empty() ? "" : ": ") + std::string(m->get_string());
  }
  // The first bad field says most ("agent: claude is not available: …").
  const json::value* details = e->as_object().if_contains("details");
  const json::value* errors =
      details && details->is_object() ? details->as_object().if_contains("errors") : nullptr;
  if (errors && errors->is_array() && !errors->as_array().empty() &&
      errors->as_array()[0].is_object()) {
    const json::object& first = errors->as_array()[0].as_object();
    out += " - " + StringField(first, "path") + ": " + StringField(first, "message");
  }
  return out;
}

class Validator {
 public:
  Validator(const Endpoint& ep, const std::string& key, const ValidateOptions& o,
            const ValidateEnv& env)
      : ep_(ep), key_(key), o_(o), clock_(env.clock ? *env.clock : RealClock::Instance()) {
    req_.read_timeout = o.request_timeout;
    req_.connect_timeout = std::min(o.request_timeout, Millis(5'000));
    req_.clock = env.clock;
  }

  ValidateReport Run() {
    const MonoTime start = clock_.Mono();
    ValidateReport r;
    r.endpoint = ep_.ToString();
    r.agent = o_.agent;
    r.repo = o_.repo;
    bodies_ = ValidateDispatchBodies(o_);
    r.steps.push_back(Step1(r));
    r.steps.push_back(Step2(r));
    r.steps.push_back(Step3(r));
    r.total_ms = Ms(clock_.Mono() - start);
    r.passed = true;
    for (const auto& s : r.steps) {
      for (const auto& c : s.checks) r.passed = r.passed && c.passed;
    }
    return r;
  }

 private:
  static double Ms(MonoTime::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }
  ProbeResult Call(std::string_view method, const std::string& target, std::string_view body = {}) {
    return Probe(ep_, key_, method, target, body, req_, clock_);
  }

  ValidateStep Step1(ValidateReport& r) {
    ValidateStep s{"Step 1", "Enable v2 Endpoint in Parallel with v1", {}};
    ProbeResult live = Call("GET", "/health/live");
    r.reachable = live.answered;
    s.checks.push_back({"v2 endpoint responding (GET /health/live)",
                        live.answered && live.status == 200 && Field(live, "status") == "ok",
                        live.answered ? Brief(live.body) + ", " + Describe(live) : Describe(live),
                        live.ms});
    ProbeResult ready = Call("GET", "/health/ready");
    s.checks.push_back(
        {"v2 endpoint ready (GET /health/ready)",
         ready.answered && ready.status == 200 && Field(ready, "status") == "ready",
         ready.answered ? Brief(ready.body) + ", " + Describe(ready) : Describe(ready), ready.ms});
    return s;
  }

  ValidateStep Step2(ValidateReport& r) {
    ValidateStep s{"Step 2", "Route Test Traffic to v2", {}};
    ProbeResult health = Call("GET", "/health");
    const std::string status = Field(health, "status");
    // degraded (say, the unisolated runner) still serves; unhealthy answers 503.
    s.checks.push_back(
        {"Health endpoint OK (GET /health)",
         health.answered && health.status == 200 && (status == "healthy" || status == "degraded"),
         health.answered ? "status=" + (status.empty() ? "?" : status) + ", " + Describe(health)
                         : Describe(health),
         health.ms});
    s.checks.push_back(FleetCheck());
    ProbeResult d = Call("POST", "/dispatch", ToJson(bodies_.at("test")));
    std::string id = Field(d, "runId");
    s.checks.push_back({"Test dispatch created (POST /dispatch)",
                        d.answered && d.status == 201 && !id.empty(),
                        d.answered && d.status == 201
                            ? "status=" + Field(d, "status") + ", " + Describe(d)
                            : (d.answered ? ErrorOf(d) + " (" + Describe(d) + ")" : Describe(d)),
                        d.ms});
    s.checks.push_back({"Run ID generated", IsUlid(id), id.empty() ? "none" : id, 0});
    if (!id.empty()) r.runs["test"] = id;
    return s;
  }

  ValidateCheck FleetCheck() {
    ProbeResult f = Call("GET", "/health/fleet");
    ValidateCheck c{"Fleet status returned (GET /health/fleet)", false, Describe(f), f.ms};
    auto v = ParseJson(f.body);
    if (!f.answered || !v.ok() || !v->is_object()) return c;
    const json::object& o = v->as_object();
    const json::value* healthy = o.if_contains("healthy");
    bool agent_available = false;
    std::string why = o_.agent + " not listed";
    if (const json::value* agents = o.if_contains("agents"); agents && agents->is_array()) {
      for (const json::value& a : agents->as_array()) {
        if (!a.is_object() || StringField(a.as_object(), "agent") != o_.agent) {
          continue;
        }
        const json::value* avail = a.as_object().if_contains("available");
        agent_available = avail && avail->is_bool() && avail->as_bool();
        why = o_.agent + (agent_available ? " available" : " unavailable");
        if (const json::value* reason = a.as_object().if_contains("reason");
            !agent_available && reason && reason->is_string()) {
          why += " (" + std::string(reason->get_string()) + ")";
        }
      }
    }
    const bool is_healthy = healthy && healthy->is_bool() && healthy->as_bool();
    c.passed = is_healthy && agent_available;
    const json::value* status = o.if_contains("status");
    c.observed = std::string("healthy=") + (is_healthy ? "true" : "false") +
                 (status && status->is_string() ? " (" + std::string(status->get_string()) + ")"
                                                : std::string()) +
                 ", " + why;
    return c;
  }

  // Polls GET /runs/{id} until `done(status)` or the run timeout; the last status seen.
  std::string PollUntil(const std::string& id, const std::function<bool(const std::string&)>& done,
                        ProbeResult* last) {
    const MonoTime deadline = clock_.Mono() + o_.run_timeout;
    std::string status;
    while (true) {
      *last = Call("GET", "/runs/" + id);
      if (last->answered && last->status == 200) status = Field(*last, "status");
      if (done(status) || clock_.Mono() >= deadline) return status;
      clock_.SleepFor(o_.poll_interval);
    }
  }

  ValidateStep Step3(ValidateReport& r) {
    ValidateStep s{"Step 3", "Validate Dispatch/Status/Cancel Flow", {}};
    ProbeResult d = Call("POST", "/dispatch", ToJson(bodies_.at("validation")));
    const std::string id = Field(d, "runId");
    s.checks.push_back({"Dispatch creates run (3.1)", d.answered && d.status == 201 && IsUlid(id),
                        IsUlid(id)
                            ? "runId=" + id + ", " + Describe(d)
                            : (d.answered ? ErrorOf(d) + " (" + Describe(d) + ")" : Describe(d)),
                        d.ms});
    if (!id.empty()) r.runs["validation"] = id;
    if (!IsUlid(id)) {
      s.checks.push_back({"Status returns correctly (3.2)", false, "no run", 0});
      s.checks.push_back({"Task completes/fails appropriately (3.2)", false, "no run", 0});
      if (!o_.repo.empty())
        s.checks.push_back({"Repository checked out (3.1)", false, "no run", 0});
    } else {
      ProbeResult first = Call("GET", "/runs/" + id);
      const std::string st = Field(first, "status");
      const bool known = st == "PENDING" || st == "RUNNING" || IsTerminalStatus(st);
      s.checks.push_back({"Status returns correctly (3.2)",
                          first.status == 200 && Field(first, "runId") == id && known,
                          "status=" + (st.empty() ? "?" : st) + ", " + Describe(first), first.ms});
      const MonoTime start = clock_.Mono();
      ProbeResult last;
      const std::string end = PollUntil(id, IsTerminalStatus, &last);
      const double waited = Ms(clock_.Mono() - start);
      std::string observed =
          IsTerminalStatus(end)
              ? fmt::format("{} after {:.1f} s", end, waited / 1000)
              : fmt::format("still {} after {:.0f} s", end.empty() ? "?" : end, waited / 1000);
      if (auto reason = Field(last, "reason"); !reason.empty() && end != "COMPLETED") {
        observed += " (reason " + reason + ")";
      }
      s.checks.push_back(
          {"Task completes/fails appropriately (3.2)", end == "COMPLETED", observed, waited});
      if (!o_.repo.empty()) s.checks.push_back(CheckoutCheck(last));
    }
    s.checks.push_back(CancelCheck(r));
    return s;
  }

  // Step 3.1's repository: the run names it, was checked out at a commit, and the task's file
  // shows among its changes.
  ValidateCheck CheckoutCheck(const ProbeResult& last) {
    ValidateCheck c{"Repository checked out (3.1)", false, "no run", 0};
    auto v = ParseJson(last.body);
    const json::value* data =
        v.ok() && v->is_object() ? v->as_object().if_contains("data") : nullptr;
    if (!data || !data->is_object()) return c;
    const json::object& run = data->as_object();
    const json::value* changes = run.if_contains("changes");
    const json::object empty;
    const json::object& ch = changes && changes->is_object() ? changes->as_object() : empty;
    const std::string before = StringField(ch, "beforeSha");
    bool file = false;
    if (const json::value* files = ch.if_contains("filesChanged"); files && files->is_array()) {
      for (const json::value& f : files->as_array()) {
        file = file || (f.is_string() && f.get_string() == "validation-test.txt");
      }
    }
    const std::string repo = StringField(run, "repo");
    c.passed = repo == o_.repo && before.size() >= 7 && file;
    c.observed =
        (repo.empty() ? "no repo" : repo) + "@" +
        (StringField(run, "branch").empty() ? "?" : StringField(run, "branch")) + ", beforeSha " +
        (before.empty() ? "none" : before.substr(0, 7)) +
        (file ? ", validation-test.txt changed" : ", validation-test.txt not among changes");
    return c;
  }

  ValidateCheck CancelCheck(ValidateReport& r) {
    const MonoTime start = clock_.Mono();
    ValidateCheck c{"Cancel terminates run (3.3)", false, "", 0};
    ProbeResult d = Call("POST", "/dispatch", ToJson(bodies_.at("cancel")));
    const std::string id = Field(d, "runId");
    if (!IsUlid(id)) {
      c.observed = "no run: " + (d.answered ? ErrorOf(d) + " (" + Describe(d) + ")" : Describe(d));
      return c;
    }
    r.runs["cancel"] = id;
    ProbeResult last;
    // As the runbook, the run is cancelled while it runs (not while still queued).
    const std::string before = PollUntil(
        id, [](const std::string& s) { return s == "RUNNING" || IsTerminalStatus(s); }, &last);
    ProbeResult cancel =
        Call("POST", "/runs/" + id + "/cancel", R"({"reason":"Migration validation test"})");
    if (!cancel.answered || (cancel.status != 200 && cancel.status != 202)) {
      // Refused (e.g. a key without the cancel scope): nothing will end the run, so waiting
      // for CANCELLED would only wait out --timeout.
      c.ms = Ms(clock_.Mono() - start);
      const std::string why = cancel.answered ? ErrorOf(cancel) : "";
      c.observed = fmt::format("was {}, cancel {}{}; the run was left as it is",
                               before.empty() ? "?" : before, why.empty() ? "" : why + " ",
                               "(" + Describe(cancel) + ")");
      return c;
    }
    const MonoTime asked = clock_.Mono();
    const std::string end = PollUntil(id, IsTerminalStatus, &last);
    c.ms = Ms(clock_.Mono() - start);
    c.passed =
        before == "RUNNING" && (cancel.status == 200 || cancel.status == 202) && end == "CANCELLED";
    c.observed =
        fmt::format("was {}, cancel {}, then {} after {:.1f} s", before.empty() ? "?" : before,
                    Describe(cancel), end.empty() ? "?" : end, Ms(clock_.Mono() - asked) / 1000);
    return c;
  }

  const Endpoint& ep_;
  const std::string& key_;
  const ValidateOptions& o_;
  const Clock& clock_;
  RequestOptions req_;
  std::map<std::string, json::object> bodies_;
};

std::string Pad(const std::string& s, std::size_t width) {
  // Width in characters, not bytes (observed values may hold "…").
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return s + std::string(width > chars ? width - chars : 0, ' ');
}

std::size_t Chars(const std::string& s) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars;
}

}  // namespace

std::map<std::string, json::object> ValidateDispatchBodies(const ValidateOptions& o) {
  const std::string& agent = o.agent;
  std::map<std::string, json::object> b;
  b["test"] = {
      {"agent", agent}, {"task", "echo test-v2-migration && date"}, {"timeoutSeconds", 120}};
  if (agent == "shell") {
    b["validation"] = {{"agent", agent},
                       {"task",
                        "printf 'Migration validation successful\\n' > validation-test.txt && cat "
                        "validation-test.txt"},
                       {"timeoutSeconds", 300}};
    b["cancel"] = {{"agent", agent}, {"task", "sleep 300"}, {"timeoutSeconds", 600}};
  } else {
    b["validation"] = {{"agent", agent},
                       {"task",
                        "Create a file called validation-test.txt with contents: Migration "
                        "validation successful"},
                       {"timeoutSeconds", 300}};
    b["cancel"] = {{"agent", agent},
                   {"task", "Sleep for 5 minutes to test cancellation"},
                   {"timeoutSeconds", 600}};
  }
  if (!o.repo.empty()) {  // Step 3.1's body
    b["validation"]["repo"] = o.repo;
    if (!o.branch.empty()) b["validation"]["branch"] = o.branch;
  }
  if (!o.context.empty()) b["validation"]["context"] = o.context;
  for (auto& [name, body] : b) body["tags"] = json::object{{"source", "validate"}};
  return b;
}

ValidateReport RunValidation(const Endpoint& endpoint, const std::string& api_key,
                             const ValidateOptions& options, const ValidateEnv& env) {
  return Validator(endpoint, api_key, options, env).Run();
}

std::string FormatValidateReport(const ValidateReport& r) {
  std::string out = "outpost validate " + r.endpoint + " (agent " + r.agent +
                    (r.repo.empty() ? "" : ", repo " + r.repo) + ")\n";
  int passed = 0, total = 0;
  for (const ValidateStep& s : r.steps) {
    std::size_t w_check = 5, w_obs = 8;
    for (const auto& c : s.checks) {
      w_check = std::max(w_check, Chars(c.name));
      w_obs = std::max(w_obs, Chars(c.observed));
    }
    out += "\n### " + s.id + ": " + s.title + "\n\n";
    out += "| " + Pad("Check", w_check) + " | Status | " + Pad("Observed", w_obs) + " |\n";
    out += "|" + std::string(w_check + 2, '-') + "|--------|" + std::string(w_obs + 2, '-') + "|\n";
    for (const auto& c : s.checks) {
      out += "| " + Pad(c.name, w_check) + " | " + (c.passed ? "[x]" : "[ ]") + "    | " +
             Pad(c.observed, w_obs) + " |\n";
      ++total;
      passed += c.passed;
    }
  }
  out += fmt::format("\nTotal time: {:.1f} s; {} of {} checks passed{}\n", r.total_ms / 1000,
                     passed, total, r.passed ? "" : " - VALIDATION FAILED");
  return out;
}

json::object ValidateReportToJson(const ValidateReport& r) {
  json::array steps;
  for (const ValidateStep& s : r.steps) {
    json::array checks;
    for (const auto& c : s.checks) {
      checks.push_back(json::object{{"check", c.name},
                                    {"passed", c.passed},
                                    {"observed", c.observed},
                                    {"ms", std::llround(c.ms)}});
    }
    steps.push_back(
        json::object{{"step", s.id}, {"title", s.title}, {"checks", std::move(checks)}});
  }
  json::object runs;
  for (const auto& [k, v] : r.runs) runs[k] = v;
  return {{"endpoint", r.endpoint},
          {"agent", r.agent},
          {"repo", r.repo.empty() ? json::value(nullptr) : json::value(r.repo)},
          {"passed", r.passed},
          {"reachable", r.reachable},
          {"totalMs", std::llround(r.total_ms)},
          {"steps", std::move(steps)},
          {"runs", std::move(runs)}};
}

}  // namespace outpost::cli
