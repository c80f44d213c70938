// Benchmark: three `outpost serve` replicas on dynalite (artifacts on s3rver) behind HAProxy
// (tests/integration/balancer_fixture.h), beside a single SQLite replica measured in the same run.
//
//   balancer_bench [RUNS] [SAMPLES]        (OUTPOST_BIN: the outpost binary)
//
// (1) RUNS (default 50) shell runs of 400 numbered lines dispatched through the balancer one at a
//     time, each followed over SSE through it from its start with a reconnect after every 100
//     events (balancer_test's (a)):
//     how many streams were whole (every event once, in order, `end` last) with stdout equal to
//     the run's output.log artifact, and the wall time.
// (2) Latency from a write in a run to an SSE client on another replica than the one running it,
//     through HAProxy: the run prints `date +%s%N` every 10 ms (SAMPLES lines, default 300); the
//     client takes receipt time minus the printed time. Baseline: the same on one replica on
//     SQLite, the client connected to it directly.
// (3) DynamoDB calls (outpost_dynamodb_calls_total of every replica's GET /metrics) per run of
//     `true` and per MB of output, less the replicas' idle calls over the same time.
// Prints one JSON object. A figure that could not be measured is null, with a note saying why.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/balancer_client.h"
#include "tests/integration/balancer_fixture.h"

namespace json = boost::json;
using namespace outpost::testing;
using std::chrono::seconds;

namespace {

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double NowNs() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

// (2) on `address`: the run starts, then a follower connects (to another replica than the one
// that took the run, when `other_replica`); the latencies in ms, and what went wrong.
json::object Latency(const std::string& address, int samples, bool other_replica) {
  const std::string loop =
      "sleep 1; for i in $(seq 1 " + std::to_string(samples) + "); do date +%s%N; sleep 0.01; done";
  Dispatched d = DispatchVia(address, ShellBody(loop));
  if (d.id.empty()) return {{"error", "dispatch: " + d.answer}};
  std::vector<double> ms;
  Followed f = Follow(address, d.id, 1 << 30, seconds(120), [&](const Followed& got) {
    const SseMessage& m = got.events.back();
    if (m.event != "output") return;
    const double now = NowNs();
    json::object o = json::parse(m.data).as_object();
    if (Str(o, "stream") != "stdout") return;
    const std::string data = Str(o, "data");
    for (std::size_t pos = 0, nl; (nl = data.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      ms.push_back((now - std::stod(data.substr(pos, nl - pos))) / 1e6);
    }
  });
  json::object out{{"samples", static_cast<std::int64_t>(ms.size())},
                   {"started_by", d.backend},
                   {"followed_on", f.backends.empty() ? "" : f.backends.front()}};
  if (other_replica && (f.backends.empty() || f.backends.front() == d.backend)) {
    out["error"] = "the follower did not land on another replica";
  } else if (static_cast<int>(ms.size()) != samples) {
    const std::string problem = f.Problem();
    out["error"] = "got " + std::to_string(ms.size()) + " of " + std::to_string(samples) +
                   " lines in " + std::to_string(f.events.size()) + " events" +
                   (problem.empty() ? ", then `end`" : ": " + problem);
  }
  if (!ms.empty()) {
    out["p50_ms"] = Pct(ms, 50);
    out["p99_ms"] = Pct(ms, 99);
  } else {
    out["p50_ms"] = nullptr;
    out["p99_ms"] = nullptr;
  }
  return out;
}

// The sum of outpost_dynamodb_calls_total (GET /metrics, every operation) over the live
// replicas; -1 when no replica has the series (a DynamoDB client without call counts), -2 when
// a replica does not answer GET /metrics.
double DynamoDbCalls(ReplicaCluster& cluster) {
  double sum = 0;
  bool seen = false;
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.replica(i)) continue;
    const HttpResponse r = cluster.replica(i)->Get("/metrics");
    if (r.status != 200) return -2;
    const std::string& text = r.body;
    for (std::size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
      nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      const std::string line = text.substr(pos, nl - pos);
      if (!line.starts_with("outpost_dynamodb_calls_total")) continue;
      seen = true;
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return seen ? sum : -1;
}

// (3) DynamoDB calls per run of `true` and per MB of output, over every replica, less what the
// replicas call while idle (heartbeats, lease and queue polls) over the same time.
json::object DynamoDbCallCosts(ReplicaCluster& cluster, int runs) {
  using Steady = std::chrono::steady_clock;
  const std::string lb = cluster.address();
  auto seconds_since = [](Steady::time_point t) {
    return std::chrono::duration<double>(Steady::now() - t).count();
  };
  const double idle0 = DynamoDbCalls(cluster);
  if (idle0 == -2) return {{"note", "a replica did not answer GET /metrics with 200"}};
  if (idle0 < 0) {
    return {{"note",
             "no outpost_dynamodb_calls_total in GET /metrics: the DynamoDB client of "
             "this build counts no calls"}};
  }
  auto t = Steady::now();
  std::this_thread::sleep_for(seconds(5));  // the idle rate over a fixed window
  const double idle_per_s = (DynamoDbCalls(cluster) - idle0) / seconds_since(t);
  // Runs of `true`, each waited for (terminal, artifacts stored) before the next.
  auto settle = [&](const std::string& id) {
    WaitTerminalVia(lb, id);
    WaitFor(
        [&] {
          const std::string st = Str(RunVia(lb, id), "artifactsStatus");
          return st == "stored" || st == "partial";
        },
        seconds(60));
  };
  double before = DynamoDbCalls(cluster);
  t = Steady::now();
  for (int i = 0; i < runs; ++i) settle(DispatchVia(lb, ShellBody("true")).id);
  const double per_run = (DynamoDbCalls(cluster) - before - idle_per_s * seconds_since(t)) / runs;
  // One run printing 8 MB (100-byte lines).
  constexpr int kMb = 8;
  before = DynamoDbCalls(cluster);
  t = Steady::now();
  settle(DispatchVia(lb, ShellBody("head -c " + std::to_string(kMb * 1000000) +
                                   " /dev/zero | tr '\\0' a | fold -w 99"))
             .id);
  const double per_mb =
      (DynamoDbCalls(cluster) - before - idle_per_s * seconds_since(t) - per_run) / kMb;
  return {{"idle_calls_per_s", idle_per_s}, {"per_run_of_true", per_run}, {"per_mb", per_mb}};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 50;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 300;
  json::object result{{"runs", runs}};
  try {
    {
      ReplicaCluster cluster;
      const std::string lb = cluster.address();
      // (1)
      constexpr int kLines = 400;
      const auto t0 = std::chrono::steady_clock::now();
      int whole = 0, equal_to_log = 0, reconnects = 0, other_replica = 0;
      std::string first_problem;
      for (int n = 0; n < runs; ++n) {  // one at a time, each followed from its start
        Dispatched d = DispatchVia(lb, ShellBody(NumberedLines(kLines, "0.005")));
        if (d.id.empty()) {
          if (first_problem.empty()) first_problem = "dispatch: " + d.answer;
          continue;
        }
        Followed f = Follow(lb, d.id, 100);
        const std::string problem = f.Problem();
        const bool all_lines = f.Stdout() == ExpectedLines(kLines);
        if (problem.empty() && all_lines) ++whole;
        if (first_problem.empty() && !problem.empty()) first_problem = d.id + ": " + problem;
        if (first_problem.empty() && !all_lines) {
          first_problem = d.id + ": its stdout events hold " + std::to_string(f.Stdout().size()) +
                          " bytes, not the " + std::to_string(kLines) + " lines, in " +
                          std::to_string(f.events.size()) + " events";
        }
        for (std::size_t i = 1; i < f.backends.size(); ++i) {
          ++reconnects;
          if (f.backends[i] != f.backends[i - 1]) ++other_replica;
        }
        FetchedLog log = OutputLogVia(lb, d.id);
        if (log.error.empty() && log.body == f.Stdout()) ++equal_to_log;
      }
      result["whole_streams"] = whole;
      result["equal_to_output_log"] = equal_to_log;
      result["reconnects"] = reconnects;
      result["reconnects_on_another_replica"] = other_replica;
      result["follow_seconds"] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      result["first_problem"] = first_problem;
      // (2)
      result["dynamodb_latency"] = Latency(lb, samples, true);
      // (3)
      result["dynamodb_calls"] = DynamoDbCallCosts(cluster, 20);
    }
    {
      ClusterOptions sqlite;
      sqlite.store = ClusterStore::kSqlite;
      sqlite.replicas = 1;
      ReplicaCluster single(sqlite);
      result["sqlite_latency"] = Latency(single.replica(0)->address(), samples, false);
    }
  } catch (const std::exception& e) {
    result["error"] = e.what();
    std::printf("%s\n", json::serialize(result).c_str());
    return 1;
  }
  std::printf("%s\n", json::serialize(result).c_str());
  return 0;
}
