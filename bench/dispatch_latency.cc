// Benchmark: dispatch -> COMPLETED latency of `true` through a running `outpost serve`, beside a
// bare fork+exec+wait of /bin/true measured in the same run.
//
//   dispatch_latency HOST:PORT [RUNS]
//
// For each run: POST /dispatch, then GET /runs/{id} in a tight loop (1 ms apart) until the
// status is terminal. Reports client-observed latency and the server's own endedAt - createdAt.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/time_util.h"
#include "tests/integration/server_fixture.h"

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double BareForkExecMs() {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/true", "true", nullptr);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dispatch_latency HOST:PORT [RUNS]\n");
    return 64;
  }
  std::string addr = argv[1];
  int runs = argc > 2 ? std::atoi(argv[2]) : 200;
  std::vector<double> client, server, bare;
  const std::string body = R"({"agent":"shell","task":"true","timeoutSeconds":60})";
  for (int i = 0; i < runs + 5; ++i) {
    auto t0 = Clock::now();
    auto r = outpost::testing::Http(addr, "POST", "/dispatch", body,
                                    {{"Content-Type", "application/json"}});
    if (r.status != 201) {
      std::fprintf(stderr, "dispatch failed: %d %s\n", r.status, r.body.c_str());
      return 1;
    }
    std::string id(r.Json().at("data").at("runId").as_string());
    json::object run;
    for (;;) {
      auto g = outpost::testing::Http(addr, "GET", "/runs/" + id);
      run = g.Json().at("data").as_object();
      std::string st(run.at("status").as_string());
      if (st != "PENDING" && st != "RUNNING") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (run.at("status").as_string() != "COMPLETED") {
      std::fprintf(stderr, "run %s ended %s\n", id.c_str(), json::serialize(run).c_str());
      return 1;
    }
    if (i < 5) continue;  // warm-up
    client.push_back(ms);
    auto created = outpost::ParseTime(std::string(run.at("createdAt").as_string()));
    auto ended = outpost::ParseTime(std::string(run.at("endedAt").as_string()));
    server.push_back(static_cast<double>(outpost::ToMillis(*ended) - outpost::ToMillis(*created)));
    bare.push_back(BareForkExecMs());
  }
  std::printf(
      "{\"runs\":%d,\"client_p50_ms\":%.2f,\"client_p99_ms\":%.2f,"
      "\"server_p50_ms\":%.2f,\"server_p99_ms\":%.2f,"
      "\"bare_p50_ms\":%.3f,\"bare_p99_ms\":%.3f}\n",
      runs, Pct(client, 50), Pct(client, 99), Pct(server, 50), Pct(server, 99), Pct(bare, 50),
      Pct(bare, 99));
  return 0;
}
