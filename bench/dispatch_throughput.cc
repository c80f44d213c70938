// Benchmark: POST /dispatch throughput and latency from concurrent clients, for the run-store
// comparison (bench/store.sh runs it once per store).
//
//   dispatch_throughput HOST:PORT [DISPATCHES] [CLIENTS]
//
// CLIENTS threads share DISPATCHES dispatches of `true` (after 10 warm-up), each a fresh
// connection. Then polls until every run is terminal and reports how long that took.
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/server_fixture.h"

using Clock = std::chrono::steady_clock;

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dispatch_throughput HOST:PORT [DISPATCHES] [CLIENTS]\n");
    return 64;
  }
  const std::string addr = argv[1];
  const int total = argc > 2 ? std::atoi(argv[2]) : 500;
  const int clients = argc > 3 ? std::atoi(argv[3]) : 4;
  const std::string body = R"({"agent":"shell","task":"true","timeoutSeconds":120})";
  auto dispatch = [&](std::string* id) {
    auto r = outpost::testing::Http(addr, "POST", "/dispatch", body,
                                    {{"Content-Type", "application/json"}});
    if (r.status != 201) {
      std::fprintf(stderr, "dispatch failed: %d %s\n", r.status, r.body.c_str());
      return false;
    }
    *id = std::string(r.Json().at("data").at("runId").as_string());
    return true;
  };
  std::string id;
  for (int i = 0; i < 10; ++i)
    if (!dispatch(&id)) return 1;

  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::vector<double> lat;
  std::vector<std::string> ids;
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      std::vector<std::string> my_ids;
      while (next.fetch_add(1) < total && !failed) {
        auto s = Clock::now();
        std::string rid;
        if (!dispatch(&rid)) {
          failed = true;
          break;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        my_ids.push_back(std::move(rid));
      }
      std::lock_guard lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
      ids.insert(ids.end(), my_ids.begin(), my_ids.end());
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (failed) return 1;

  // Every run must reach a terminal status (the store carries RUNNING and COMPLETED too).
  int completed = 0, other = 0;
  auto deadline = Clock::now() + std::chrono::seconds(300);
  for (const auto& rid : ids) {
    for (;;) {
      auto g = outpost::testing::Http(addr, "GET", "/runs/" + rid);
      std::string st(g.Json().at("data").at("status").as_string());
      if (st == "COMPLETED") {
        ++completed;
        break;
      }
      if (st != "PENDING" && st != "RUNNING") {
        ++other;
        break;
      }
      if (Clock::now() > deadline) {
        std::fprintf(stderr, "run %s still %s after 300 s\n", rid.c_str(), st.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  double all_done = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "{\"dispatches\":%zu,\"clients\":%d,\"seconds\":%.3f,\"per_sec\":%.1f,"
      "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"completed\":%d,\"not_completed\":%d,"
      "\"all_terminal_s\":%.2f,\"last_id\":\"%s\"}\n",
      lat.size(), clients, secs, static_cast<double>(lat.size()) / secs, Pct(lat, 50), Pct(lat, 99),
      completed, other, all_done, ids.back().c_str());
  return 0;
}
