#include "runner/runner_router.h"

#include <set>

namespace outpost {

void RunnerRouter::Add(RunnerKind kind, Runner* runner, std::function<bool(const RunId&)> holds) {
  runners_.push_back({kind, runner, std::move(holds)});
}

Runner* RunnerRouter::Find(RunnerKind kind) const {
  for (const Entry& e : runners_) {
    if (e.kind == kind) return e.runner;
  }
  return nullptr;
}

Runner& RunnerRouter::For(const RunId& id) const {
  for (const Entry& e : runners_) {
    if (e.holds && e.holds(id)) return *e.runner;
  }
  if (Runner* r = Find(default_kind_)) return *r;
  return *runners_.front().runner;
}

Status RunnerRouter::Start(const RunSpec& spec) {
  const RunnerKind kind = spec.runner.value_or(default_kind_);
  Runner* runner = Find(kind);
  if (!runner) {
    return FailedPrecondition("runner '" + std::string(ToString(kind)) +
                              "' is not set up on this server");
  }
  return runner->Start(spec);
}

int RunnerRouter::KillLeftovers(const RunId& id) {
  int n = 0;
  for (const Entry& e : runners_) n += e.runner->KillLeftovers(id);
  return n;
}

int RunnerRouter::Reap(const RunId& id) {
  int n = 0;
  for (const Entry& e : runners_) n += e.runner->Reap(id);
  return n;
}

std::vector<RunId> RunnerRouter::LiveRuns() {
  std::vector<RunId> out;
  std::set<std::string> seen;
  for (const Entry& e : runners_) {
    for (RunId& id : e.runner->LiveRuns()) {
      if (seen.insert(id.str()).second) out.push_back(std::move(id));
    }
  }
  return out;
}

std::vector<Runner::KeptRun> RunnerRouter::KeptRuns() {
  std::vector<KeptRun> out;
  for (const Entry& e : runners_) {
    for (KeptRun& k : e.runner->KeptRuns()) out.push_back(std::move(k));
  }
  return out;
}

}  // namespace outpost
