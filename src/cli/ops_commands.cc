#include "cli/ops_commands.h"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "cli/duration.h"
#include "cli/monitor.h"
#include "cli/validate.h"
#include "common/json_util.h"

namespace outpost::cli {
namespace {

constexpr const char* kDefaultEndpoint = "http://127.0.0.1:8080";

struct OpsFlags {
  std::string endpoint = kDefaultEndpoint;
  std::string api_key;
};

void AddEndpoint(CLI::App* sub, OpsFlags* f) {
  sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve`")
      ->envname("OUTPOST_ENDPOINT")
      ->capture_default_str();
  sub->add_option("--api-key", f->api_key, "API key, sent as a Bearer token")
      ->envname("OUTPOST_API_KEY");
}

// The parsed duration, or nullopt after printing why (a usage error).
std::optional<Millis> Duration(const std::string& flag, const std::string& text, Millis min,
                               Millis max, const ClientIo& io) {
  auto d = ParseDuration(text, min, max);
  if (!d.ok()) {
    *io.err << "outpost: " << flag << ": " << d.status().message() << "\n";
    return std::nullopt;
  }
  return *d;
}

struct ValidateFlags {
  OpsFlags common;
  std::string agent = "shell";
  std::string repo = ValidateOptions{}.repo, branch = ValidateOptions{}.branch,
              context = ValidateOptions{}.context;
  std::string timeout = "120s", poll = "1s";
  bool json = false;
};

int RunValidate(const ValidateFlags& f, const ClientIo& io) {
  auto ep = ParseEndpoint(f.common.endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  ValidateOptions o;
  o.agent = f.agent;
  o.repo = f.repo;
  o.branch = f.branch;
  o.context = f.context;
  auto timeout = Duration("--timeout", f.timeout, Millis(1'000), Millis(86'400'000), io);
  auto poll = Duration("--poll-interval", f.poll, Millis(10), Millis(600'000), io);
  if (!timeout || !poll) return kExitUsage;
  o.run_timeout = *timeout;
  o.poll_interval = *poll;
  o.request_timeout = io.request_timeout;
  ValidateReport r = RunValidation(*ep, f.common.api_key, o, {io.clock});
  if (f.json) {
    *io.out << ToJson(ValidateReportToJson(r)) << "\n";
  } else {
    *io.out << FormatValidateReport(r);
  }
  if (r.passed) return kExitOk;
  return r.reachable ? kExitRunFailed : kExitUnavailable;
}

struct MonitorFlags {
  OpsFlags common;
  std::string interval = "300s";
  std::string log;
  bool once = false;
};

int RunMonitor(const MonitorFlags& f, const ClientIo& io) {
  auto ep = ParseEndpoint(f.common.endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  auto interval = Duration("--interval", f.interval, Millis(1'000), Millis(3'600'000), io);
  if (!interval) return kExitUsage;
  MonitorOptions o;
  o.interval = *interval;
  o.log_path = f.log;
  o.request_timeout = std::min(io.request_timeout, Millis(10'000));
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  Monitor monitor(std::move(*ep), f.common.api_key, o, clock);
  auto loaded = monitor.Load();
  if (!loaded.ok()) {
    *io.err << "outpost: --log: " << loaded.status().message() << "\n";
    return kExitUsage;
  }
  if (*loaded > 0) *io.err << "outpost monitor: skipped " << *loaded << " unreadable log line(s)\n";
  if (!monitor.samples().empty()) {
    *io.err << "outpost monitor: resumed from " << f.log << " (" << monitor.samples().size()
            << " samples)\n";
  }
  while (true) {
    const MonoTime next = clock.Mono() + o.interval;
    const bool rollback = !monitor.Step(*io.out).empty();
    if (f.once) return rollback ? kExitRunFailed : kExitOk;
    *io.out << "\n";
    clock.SleepUntil(next);
  }
}

}  // namespace

void AddValidateCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<ValidateFlags>();
  auto* sub = app.add_subcommand(
      "validate",
      "Run the migration runbook's validation (Steps 1-3) against an endpoint and print its "
      "checklist");
  AddEndpoint(sub, &f->common);
  sub->add_option("--agent", f->agent, "Agent for the test runs")->capture_default_str();
  sub->add_option("--repo", f->repo,
                  "Step 3.1's repository: owner/repo, a git URL, or a local path (the server "
                  "needs --allow-local-repos and the path under its local_repo_roots); '' for none")
      ->capture_default_str();
  sub->add_option("--branch", f->branch, "Step 3.1's branch ('' for the default branch)")
      ->capture_default_str();
  sub->add_option("--context", f->context, "Step 3.1's context: minimal, standard or full")
      ->check(CLI::IsMember({"minimal", "standard", "full", ""}))
      ->capture_default_str();
  sub->add_option("--timeout", f->timeout, "Wait per run (300s, 5m, ...)")->capture_default_str();
  sub->add_option("--poll-interval", f->poll, "Between status polls")->capture_default_str();
  sub->add_flag("--json", f->json, "Print the report as one JSON document");
  sub->footer(
      "Exit codes: 0 every check passed, 1 a check failed, 5 the endpoint did not answer, 64 "
      "usage error.\nA server with API keys: the key needs the dispatch, status and cancel scopes "
      "(or admin).");
  sub->callback([f, exit_code, io] { *exit_code = RunValidate(*f, *io); });
}

void AddMonitorCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<MonitorFlags>();
  auto* sub = app.add_subcommand(
      "monitor",
      "Sample an endpoint, keep the runbook's monitoring table and judge its rollback criteria");
  AddEndpoint(sub, &f->common);
  sub->add_option("--interval", f->interval, "Between samples (300s, 5m, ...)")
      ->capture_default_str();
  sub->add_option("--log", f->log, "JSON-lines log of every sample: the monitor's memory");
  sub->add_flag("--once", f->once, "Take one sample and exit");
  sub->footer(
      "Exit codes (--once): 0 no rollback criterion holds, 1 a Level 1 rollback is recommended, "
      "64 usage error.\nA server with API keys: /metrics needs a key with the admin scope (or the "
      "metrics token); with only the status scope the figures come from /health/slo (no P95 per "
      "interval); the probes need no key.");
  sub->callback([f, exit_code, io] { *exit_code = RunMonitor(*f, *io); });
}

}  // namespace outpost::cli
