// Benchmark: how fast a dispatch becomes a running sandboxed process, and a COMPLETED run,
// beside a bare `setpriv … bwrap … ` of the same command measured in the same run; and a burst
// of dispatches.
//
//   sandbox_latency HOST:PORT DATA_DIR RUNS BURST
//
// The agent's command is `date +%s%N`: the time it prints is when the sandboxed process ran,
// so "dispatch -> running" = that time - the client's wall clock just before POST /dispatch.
// Prints one JSON object.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/integration/server_fixture.h"

namespace json = boost::json;
using outpost::testing::Http;

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string Dispatch(const std::string& addr) {
  auto r = Http(addr, "POST", "/dispatch", R"({"agent":"shell","task":"date +%s%N"})",
                {{"Content-Type", "application/json"}});
  if (r.status != 201) {
    std::fprintf(stderr, "dispatch: %d %s\n", r.status, r.body.c_str());
    std::exit(1);
  }
  return std::string(r.Json().at("data").at("runId").as_string());
}

std::string Status(const std::string& addr, const std::string& id) {
  auto r = Http(addr, "GET", "/runs/" + id);
  return std::string(r.Json().at("data").at("status").as_string());
}

std::int64_t RanAtNs(const std::string& data_dir, const std::string& id) {
  std::ifstream in(data_dir + "/runs/" + id + "/stdout.log");
  std::int64_t ns = 0;
  in >> ns;
  return ns;
}

// One bare sandbox of `date +%s%N` as an unprivileged uid: {ran_at - start, exit - start} ms.
std::pair<double, double> BareBwrap(const std::string& ws) {
  int out[2];
  if (pipe(out) != 0) std::exit(1);
  std::int64_t t0 = NowNs();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execlp("setpriv", "setpriv", "--reuid=200999", "--regid=200999", "--clear-groups", "bwrap",
           "--die-with-parent", "--new-session", "--unshare-all", "--ro-bind", "/usr", "/usr",
           "--ro-bind", "/etc", "/etc", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib",
           "/lib", "--symlink", "usr/lib64", "/lib64", "--tmpfs", "/tmp", "--dev", "/dev", "--proc",
           "/proc", "--bind", ws.c_str(), "/work", "--chdir", "/work", "--", "date", "+%s%N",
           nullptr);
    _exit(127);
  }
  close(out[1]);
  char buf[64] = {};
  ssize_t n = read(out[0], buf, sizeof buf - 1);
  close(out[0]);
  int st;
  waitpid(pid, &st, 0);
  std::int64_t t1 = NowNs();
  std::int64_t ran = n > 0 ? std::atoll(buf) : t1;
  return {(ran - t0) / 1e6, (t1 - t0) / 1e6};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: sandbox_latency HOST:PORT DATA_DIR RUNS BURST\n");
    return 64;
  }
  const std::string addr = argv[1], data_dir = argv[2];
  const int runs = std::atoi(argv[3]), burst = std::atoi(argv[4]);

  std::vector<double> to_running, to_completed, bare_running, bare_exit;
  for (int i = 0; i < runs + 3; ++i) {
    std::int64_t t0 = NowNs();
    std::string id = Dispatch(addr);
    while (true) {
      std::string st = Status(addr, id);
      if (st == "COMPLETED") break;
      if (st != "PENDING" && st != "RUNNING") {
        std::fprintf(stderr, "run %s ended %s\n", id.c_str(), st.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::int64_t t1 = NowNs();
    if (i < 3) continue;  // warm-up
    to_running.push_back((RanAtNs(data_dir, id) - t0) / 1e6);
    to_completed.push_back((t1 - t0) / 1e6);
  }
  std::string ws = data_dir + "/bare-ws";
  std::system(("mkdir -p " + ws + " && chown 200999:200999 " + ws).c_str());
  for (int i = 0; i < runs + 3; ++i) {
    auto [r, e] = BareBwrap(ws);
    if (i < 3) continue;
    bare_running.push_back(r);
    bare_exit.push_back(e);
  }

  // Burst: `burst` dispatches from 10 client threads at once.
  std::vector<std::string> ids(static_cast<size_t>(burst));
  std::atomic<int> next{0};
  std::int64_t b0 = NowNs();
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < burst;) ids[static_cast<size_t>(i)] = Dispatch(addr);
    });
  }
  for (auto& t : threads) t.join();
  double dispatched_ms = (NowNs() - b0) / 1e6;
  for (const auto& id : ids) {
    while (Status(addr, id) != "COMPLETED")
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  double all_completed_ms = (NowNs() - b0) / 1e6;
  std::int64_t last_ran = 0;
  for (const auto& id : ids) last_ran = std::max(last_ran, RanAtNs(data_dir, id));
  double all_running_ms = (last_ran - b0) / 1e6;

  std::printf(
      "{\"runs\":%d,\"running_p50_ms\":%.1f,\"running_p99_ms\":%.1f,\"completed_p50_ms\":%.1f,"
      "\"completed_p99_ms\":%.1f,\"bare_running_p50_ms\":%.1f,\"bare_running_p99_ms\":%.1f,"
      "\"bare_exit_p50_ms\":%.1f,\"bare_exit_p99_ms\":%.1f,\"burst\":%d,"
      "\"burst_dispatched_ms\":%.0f,\"burst_all_running_ms\":%.0f,\"burst_all_completed_ms\":%.0f}"
      "\n",
      runs, Pct(to_running, 50), Pct(to_running, 99), Pct(to_completed, 50), Pct(to_completed, 99),
      Pct(bare_running, 50), Pct(bare_running, 99), Pct(bare_exit, 50), Pct(bare_exit, 99), burst,
      dispatched_ms, all_running_ms, all_completed_ms);
  return 0;
}
