// The ecs runner's ECS calls (issue 21, "Performance"), against the ECS API test double
// (runner/ecs/fake_ecs.h, simulated tasks) through Outpost's real ECS client over loopback HTTP.
// The runner's clock is simulated: a minute of the supervisor's ticks (every 500 ms, as
// core/supervisor.cc: every running run probed each tick) takes well under a second here.
//
// Prints one JSON object:
//   describe_per_min: {"0": n, "10": n, "200": n} — DescribeTasks calls in one minute with that
//     many runs running ([runner.ecs] describe_interval_seconds = 5, the default), beside the
//     calls a per-run-per-tick design would make (naive_per_min);
//   tick_ms: {"0"|"10"|"200": wall ms of a tick that asks ECS (the real HTTP round trips)};
//   per_run: the ECS calls of one run of 2 minutes that ends by itself, and of one cancelled
//     (RunTask, StopTask, its share of DescribeTasks with 10 runs running).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "aws/http.h"
#include "common/ids.h"
#include "common/log.h"
#include "runner/ecs/ecs_runner.h"
#include "runner/ecs/fake_ecs.h"

namespace outpost::ecs {
namespace {

constexpr int kTickMs = 500;

struct Setup {
  SimulatedClock clock;
  FakeEcs fake;
  std::unique_ptr<aws::EcsClient> client;
  std::unique_ptr<EcsRunner> runner;
  Setup() {
    fake.Define("outpost-bench-shell", {"outpost-base", {}, {}, {}, std::nullopt, ""});
    clock.set_advance_on_sleep(true);
    aws::EcsClientOptions o;
    o.region = "us-east-1";
    o.endpoint = fake.endpoint();
    o.credentials = {"AKIDEXAMPLE", "secret", ""};
    auto made = aws::EcsClient::Create(o, aws::MakeHttpSender({}), clock);
    if (!made.ok()) {
      std::fprintf(stderr, "ecs bench: %s\n", made.status().ToString().c_str());
      std::exit(1);
    }
    client = std::move(*made);
    EcsRunnerConfig c;
    c.cluster = "outpost-bench";
    c.subnets = {"subnet-0a1b2c3d"};
    c.task_definition_prefix = "outpost-bench-";
    runner = std::make_unique<EcsRunner>(*client, clock, c);
  }
  RunId Start() {
    RunSpec s;
    s.id = RunId(NewUlid(RealClock::Instance().Now()));
    s.agent = "shell";
    s.limits.timeout_seconds = 3600;
    s.channel = ChannelAccess{"http://127.0.0.1:1", s.id.str() + ".token", "bootstrap"};
    if (Status st = runner->Start(s); !st.ok()) {
      std::fprintf(stderr, "ecs bench: start: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    return s.id;
  }
};

}  // namespace
}  // namespace outpost::ecs

int main() {
  using namespace outpost;
  using namespace outpost::ecs;
  spdlog::set_level(spdlog::level::warn);  // stdout is the JSON
  std::string describe = "{", naive = "{", tick = "{";
  for (int n : {0, 10, 200}) {
    Setup s;
    std::vector<RunId> ids;
    for (int i = 0; i < n; ++i) ids.push_back(s.Start());
    const int before = s.fake.Calls("DescribeTasks");
    double slowest = 0;
    for (int t = 0; t < 60'000 / kTickMs; ++t) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const RunId& id : ids) s.runner->Probe(id);
      slowest = std::max(
          slowest,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      s.clock.Advance(std::chrono::milliseconds(kTickMs));
    }
    const int calls = s.fake.Calls("DescribeTasks") - before;
    const std::string sep = n == 0 ? "" : ",";
    describe += sep + "\"" + std::to_string(n) + "\":" + std::to_string(calls);
    naive += sep + "\"" + std::to_string(n) + "\":" + std::to_string(n * 60'000 / kTickMs);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", slowest);
    tick += sep + "\"" + std::to_string(n) + "\":" + buf;
  }
  // Per run: 10 runs of 2 minutes, one of them cancelled after 1 minute.
  Setup s;
  std::vector<RunId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(s.Start());
  for (int t = 0; t < 130'000 / kTickMs; ++t) {
    if (t == 60'000 / kTickMs) (void)s.runner->RequestCancel(ids[0], "bench");
    if (t == 120'000 / kTickMs) {
      for (std::size_t i = 1; i < ids.size(); ++i) {
        s.fake.SetStopped(s.runner->TaskOf(ids[i]), "EssentialContainerExited",
                          "Essential container in task exited", 0);
      }
    }
    for (const RunId& id : ids) {
      if (!s.runner->TaskOf(id).empty()) s.runner->Probe(id);
    }
    s.clock.Advance(std::chrono::milliseconds(kTickMs));
  }
  auto calls = s.fake.AllCalls();
  std::printf(
      "{\"describe_per_min\":%s},\"naive_per_min\":%s},\"tick_ms\":%s},"
      "\"per_run\":{\"runs\":10,\"RunTask\":%d,\"StopTask\":%d,\"DescribeTasks\":%d,"
      "\"ListTasks\":%d}}\n",
      describe.c_str(), naive.c_str(), tick.c_str(), calls["RunTask"], calls["StopTask"],
      calls["DescribeTasks"], calls["ListTasks"]);
  return 0;
}
