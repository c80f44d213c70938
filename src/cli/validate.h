// `outpost validate`: the runbook's validation (migration-runbook.md Steps 1-3 and §3
// "Validation Commands") as one command: liveness, readiness, health, fleet, a test dispatch
// and its run id, a validation run polled to its terminal state, and the cancel of a long run.
// Each check becomes a row of the runbook's tables, ticked or crossed, with what was observed.
//
// The checks run in the runbook's order, each on its own: a failed one is crossed and the next
// still runs (a check that needs an earlier one's run is crossed with "no run"). Only plain API
// calls are made (no retries), so the report is what a client would have met.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "common/clock.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Endpoint;
using client::ParseEndpoint;
using client::RequestOptions;

struct ValidateOptions {
  std::string agent = "shell";
  // Step 3.1's repository: the runbook's `repo`, `branch` and `context` (a local path needs a
  // server started with --allow-local-repos); an empty repo dispatches without one.
  std::string repo = "rgsuarez/outpost";
  std::string branch = "main";
  std::string context = "minimal";
  Millis run_timeout{120'000};  // per run: to reach RUNNING (cancel run) and a terminal state
  Millis poll_interval{1'000};  // between GET /runs/{id}
  Millis request_timeout{30'000};
};

struct ValidateCheck {
  std::string name;
  bool passed = false;
  std::string observed;
  double ms = 0;
};

struct ValidateStep {
  std::string id;     // "Step 1"
  std::string title;  // the runbook's heading
  std::vector<ValidateCheck> checks;
};

struct ValidateReport {
  std::string endpoint;
  std::string agent;
  std::string repo;  // Step 3.1's, "" for none
  std::vector<ValidateStep> steps;
  std::map<std::string, std::string> runs;  // "test", "validation", "cancel" -> run id
  double total_ms = 0;
  bool passed = false;     // every check passed
  bool reachable = false;  // GET /health/live got an answer
};

struct ValidateEnv {
  const Clock* clock = nullptr;  // RealClock when null; the polls sleep on it
};

ValidateReport RunValidation(const Endpoint& endpoint, const std::string& api_key,
                             const ValidateOptions& options, const ValidateEnv& env = {});

// The runbook's tables with [x] / [ ] and the observed values, then the total time.
std::string FormatValidateReport(const ValidateReport& report);
boost::json::object ValidateReportToJson(const ValidateReport& report);

// The dispatch bodies validate sends for `o.agent` (shell gets shell commands; a coding agent
// the runbook's own tasks; "validation" carries o.repo, o.branch and o.context). Each is tagged
// `tags.source = "validate"`, so that its runs can be told apart (GET /runs?tag=source:validate).
// Keys: "test", "validation", "cancel".
std::map<std::string, boost::json::object> ValidateDispatchBodies(const ValidateOptions& o);

}  // namespace outpost::cli
