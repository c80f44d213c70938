// Benchmark: a run's output capture and its event stream, through a running `outpost serve`
// (process runner, output cap above the data size), beside baselines measured in the same run.
//
//   event_stream HOST:PORT DATA_DIR WORK_DIR [MIB] [SAMPLES]
//
// (1) Capture rate: a run `cat`s a MIB-sized text file as fast as it can; bytes / (endedAt -
//     startedAt). Every byte is then accounted for: stdout.log, exit.json's stdout_bytes and the
//     decoded output events must all equal the file (size and FNV-1a hash). Baseline: `cat` of
//     the same file to /dev/null.
// (2) Latency: a run prints `date +%s%N` every 10 ms; an SSE client takes receipt time minus the
//     printed time for each line. Baseline: the same loop piped straight into this process.
// Prints one JSON object.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/sse_client.h"

namespace json = boost::json;
using Steady = std::chrono::steady_clock;
using outpost::testing::Http;

namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::uint64_t Fnv(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
constexpr std::uint64_t kFnvBasis = 14695981039346656037ULL;

// Lines of varied printable text, like a build log. Without '-', '_' and 'J' no line can look
// like a credential (sk-…, ghp_…, eyJ…, xoxb-…, PEM): the redactor must pass every byte through.
std::uint64_t MakeData(const std::string& path, std::int64_t bytes) {
  std::ofstream out(path, std::ios::binary);
  std::mt19937_64 rng(42);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHI0123456789./:=,()";
  std::uint64_t h = kFnvBasis;
  std::string line;
  for (std::int64_t written = 0, n = 0; written < bytes; ++n) {
    line = "[" + std::to_string(n) + "] ";
    std::size_t len = 20 + rng() % 100;
    for (std::size_t i = 0; i < len; ++i) line += alphabet[rng() % alphabet.size()];
    line += '\n';
    if (written + static_cast<std::int64_t>(line.size()) > bytes) {
      line.resize(static_cast<std::size_t>(bytes - written));
    }
    out << line;
    h = Fnv(h, line);
    written += static_cast<std::int64_t>(line.size());
  }
  return h;
}

double CatMs(const std::string& path) {
  auto t0 = Steady::now();
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl("/bin/cat", "cat", path.c_str(), nullptr);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

std::string Dispatch(const std::string& addr, const std::string& task) {
  std::string body =
      json::serialize(json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 1800}});
  auto r = Http(addr, "POST", "/dispatch", body, {{"Content-Type", "application/json"}});
  if (r.status != 201) {
    std::fprintf(stderr, "dispatch failed: %d %s\n", r.status, r.body.c_str());
    std::exit(1);
  }
  return std::string(r.Json().at("data").at("runId").as_string());
}

json::object WaitDone(const std::string& addr, const std::string& id) {
  for (;;) {
    json::value v = Http(addr, "GET", "/runs/" + id).Json();
    json::object run = v.at("data").as_object();
    std::string status(run.at("status").as_string());
    if (status != "PENDING" && status != "RUNNING") return run;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::int64_t Ms(const json::object& run, std::string_view key) {
  std::string t(run.at(key).as_string());
  std::tm tm{};
  strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::atoi(t.c_str() + 20);
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Latencies (ms) of the "<ns>\n" lines in `text` received now.
void Latencies(std::string_view text, std::vector<double>& out) {
  const std::int64_t now = NowNs();
  for (std::size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string_view::npos;
       pos = nl + 1) {
    std::int64_t ts = std::atoll(std::string(text.substr(pos, nl - pos)).c_str());
    if (ts > 0) out.push_back(static_cast<double>(now - ts) / 1e6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: event_stream HOST:PORT DATA_DIR WORK_DIR [MIB] [SAMPLES]\n");
    return 64;
  }
  const std::string addr = argv[1], data_dir = argv[2], work = argv[3];
  const std::int64_t mib = argc > 4 ? std::atoll(argv[4]) : 256;
  const int samples = argc > 5 ? std::atoi(argv[5]) : 300;

  // (1) capture
  const std::string file = work + "/output.txt";
  const std::int64_t bytes = mib << 20;
  const std::uint64_t want_hash = MakeData(file, bytes);
  CatMs(file);  // warm the page cache for both
  std::vector<double> cat;
  for (int i = 0; i < 3; ++i) cat.push_back(CatMs(file));
  const std::string id = Dispatch(addr, "cat " + file);
  json::object run = WaitDone(addr, id);
  // The terminal status is written only once the server's pump has copied the whole journal
  // into the shared event log (core/event_pump.h): until then the run is RUNNING.
  const std::int64_t done_ms = NowNs() / 1'000'000;
  const double run_ms = static_cast<double>(Ms(run, "endedAt") - Ms(run, "startedAt"));
  const double shared_ms = static_cast<double>(done_ms - Ms(run, "startedAt"));
  const std::string run_dir = data_dir + "/runs/" + id;
  struct stat st {};
  ::stat((run_dir + "/stdout.log").c_str(), &st);
  json::value exit_rec = json::parse(outpost::testing::ReadAll(run_dir + "/exit.json"));
  std::ifstream events(run_dir + "/events.jsonl");
  std::uint64_t got_hash = kFnvBasis;
  std::int64_t event_bytes = 0, output_events = 0;
  for (std::string line; std::getline(events, line);) {
    json::object o = json::parse(line).as_object();
    if (o.at("type") != "output" || o.at("stream") != "stdout") continue;
    std::string data(o.at("data").as_string());
    if (o.contains("encoding")) data = outpost::Base64Decode(data).value_or("");
    got_hash = Fnv(got_hash, data);
    event_bytes += static_cast<std::int64_t>(data.size());
    ++output_events;
  }
  // The same bytes as read back from the shared event log (GET /runs/{id}/events, after the end).
  std::uint64_t log_hash = kFnvBasis;
  std::int64_t log_bytes_read = 0;
  {
    outpost::testing::SseClient all(addr, "/runs/" + id + "/events");
    all.Read([&](const outpost::testing::SseMessage& m) {
      if (m.event != "output") return true;
      json::object o = json::parse(m.data).as_object();
      if (o.at("stream") != "stdout") return true;
      std::string data(o.at("data").as_string());
      if (o.contains("encoding")) data = outpost::Base64Decode(data).value_or("");
      log_hash = Fnv(log_hash, data);
      log_bytes_read += static_cast<std::int64_t>(data.size());
      return true;
    });
  }
  const bool accounted = run.at("status") == "COMPLETED" && st.st_size == bytes &&
                         log_bytes_read == bytes && log_hash == want_hash &&
                         exit_rec.at("stdout_bytes").as_int64() == bytes && event_bytes == bytes &&
                         got_hash == want_hash;
  std::remove(file.c_str());

  // (2) latency
  const std::string loop =
      "for i in $(seq 1 " + std::to_string(samples) + "); do date +%s%N; sleep 0.01; done";
  const std::string lid = Dispatch(addr, "sleep 0.5; " + loop);
  std::vector<double> sse;
  outpost::testing::SseClient client(addr, "/runs/" + lid + "/events");
  client.Read([&](const outpost::testing::SseMessage& m) {
    if (m.event != "output") return true;
    json::object o = json::parse(m.data).as_object();
    if (o.at("stream") == "stdout") Latencies(o.at("data").as_string(), sse);
    return true;
  });
  std::vector<double> pipe;
  if (FILE* p = popen(loop.c_str(), "r")) {
    char buf[64];
    while (fgets(buf, sizeof buf, p)) Latencies(buf, pipe);
    pclose(p);
  }

  const double mb = static_cast<double>(bytes) / 1e6;
  json::object out{{"bytes", bytes},
                   {"output_events", output_events},
                   {"run_ms", run_ms},
                   {"capture_mb_s", std::round(mb / (run_ms / 1000) * 10) / 10},
                   {"shared_ms", shared_ms},
                   {"shared_mb_s", std::round(mb / (shared_ms / 1000) * 10) / 10},
                   {"shared_log_bytes", log_bytes_read},
                   {"cat_ms", Pct(cat, 50)},
                   {"cat_mb_s", std::round(mb / (Pct(cat, 50) / 1000) * 10) / 10},
                   {"accounted", accounted},
                   {"log_bytes", static_cast<std::int64_t>(st.st_size)},
                   {"exit_stdout_bytes", exit_rec.at("stdout_bytes").as_int64()},
                   {"event_bytes", event_bytes},
                   {"hash_equal", got_hash == want_hash},
                   {"samples", static_cast<std::int64_t>(sse.size())},
                   {"sse_p50_ms", std::round(Pct(sse, 50) * 100) / 100},
                   {"sse_p99_ms", std::round(Pct(sse, 99) * 100) / 100},
                   {"pipe_p50_ms", std::round(Pct(pipe, 50) * 100) / 100},
                   {"pipe_p99_ms", std::round(Pct(pipe, 99) * 100) / 100}};
  std::printf("%s\n", json::serialize(out).c_str());
  return accounted ? 0 : 1;
}
