// GET /metrics and GET /health/slo of a real `outpost serve`: scrape, make runs happen, scrape
// again, and check that the specific series moved by what happened. The exposition is also
// checked by Prometheus's own promtool (Debian's prometheus package, unpacked by
// scripts/install-deps.sh test into build/tools) when it is there.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "metrics/text_parser.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using metrics::ParsedText;
using Labels = std::map<std::string, std::string>;

std::string Shell(const std::string& task, int timeout = 60) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}});
}

ParsedText Scrape(const ServerProcess& s, std::string* text = nullptr) {
  HttpResponse r = s.Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  if (text) *text = r.body;
  auto parsed = metrics::ParseText(r.body);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : ParsedText{};
}

double V(const ParsedText& t, const std::string& name, const Labels& labels) {
  return t.Value(name, labels).value_or(0);
}

std::string Promtool() {
  const char* env = std::getenv("OUTPOST_PROMTOOL");
  if (env && *env) return env;
  return std::string(OUTPOST_SOURCE_DIR) + "/build/tools/promtool";
}

// promtool check metrics: exit status and what it said.
std::pair<int, std::string> PromtoolCheck(const std::string& text) {
  const std::string path = std::filesystem::temp_directory_path() / "outpost-metrics-check.txt";
  std::ofstream(path) << text;
  FILE* p = ::popen((Promtool() + " check metrics < " + path + " 2>&1").c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  int rc = p ? ::pclose(p) : -1;
  std::filesystem::remove(path);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

class MetricsTest : public ServerTest {};

TEST_F(MetricsTest, SeriesMoveAsRunsHappen) {
  server_ = ServerProcess::Start(
      dir_, {{"OUTPOST_RUNNER", "process"}, {"OUTPOST_CANCEL_GRACE_SECONDS", "1"}});
  // Without --enable-fault-injection the switch does not exist.
  EXPECT_EQ(Http(server_->address(), "PUT", "/admin/faults", R"({"errorRate":1})",
                 {{"Content-Type", "application/json"}})
                .status,
            404);
  EXPECT_EQ(server_->Get("/admin/faults").status, 404);
  ParsedText before = Scrape(*server_);

  std::string ok1 = server_->Dispatch(Shell("true"));
  std::string ok2 = server_->Dispatch(Shell("echo hi"));
  std::string bad = server_->Dispatch(Shell("exit 3"));
  std::string slow = server_->Dispatch(Shell("sleep 30"));
  ASSERT_FALSE(ok1.empty() || ok2.empty() || bad.empty() || slow.empty());
  EXPECT_EQ(server_->Post("/dispatch", R"({"agent":"no-such-agent","task":"x"})").status, 400);
  EXPECT_EQ(server_->Get("/no/such/path").status, 404);
  // While the sleep runs, the supervisor's view shows it (computed at scrape time).
  EXPECT_TRUE(WaitFor(
      [&] {
        return V(Scrape(*server_), "outpost_runs_running", {{"agent", "shell"}}) == 1 &&
               Str(server_->Run(slow), "phase") == "running";
      },
      std::chrono::seconds(30)));
  ASSERT_EQ(server_->Post("/runs/" + slow + "/cancel", "{}").status, 202);
  for (const std::string& id : {ok1, ok2, bad, slow}) server_->WaitTerminal(id);
  EXPECT_TRUE(WaitFor(
      [&] {
        return V(Scrape(*server_), "outpost_runs_running", {{"agent", "shell"}}) == 0;
      },
      std::chrono::seconds(30)));

  std::string text;
  ParsedText after = Scrape(*server_, &text);
  auto moved = [&](const std::string& name, const Labels& labels) {
    return V(after, name, labels) - V(before, name, labels);
  };
  EXPECT_EQ(moved("outpost_dispatches_total", {{"agent", "shell"}, {"status", "created"}}), 4);
  EXPECT_EQ(moved("outpost_dispatches_total", {{"agent", "unknown"}, {"status", "invalid"}}), 1);
  EXPECT_EQ(moved("outpost_http_requests_total",
                  {{"route", "/dispatch"}, {"method", "POST"}, {"code", "201"}}),
            4);
  EXPECT_EQ(moved("outpost_http_requests_total",
                  {{"route", "/dispatch"}, {"method", "POST"}, {"code", "400"}}),
            1);
  EXPECT_EQ(moved("outpost_http_requests_total",
                  {{"route", "unmatched"}, {"method", "GET"}, {"code", "404"}}),
            1);
  EXPECT_EQ(moved("outpost_http_requests_total",
                  {{"route", "/runs/{id}/cancel"}, {"method", "POST"}, {"code", "202"}}),
            1);
  EXPECT_GE(moved("outpost_http_requests_total",
                  {{"route", "/runs/{id}"}, {"method", "GET"}, {"code", "200"}}),
            4);
  EXPECT_EQ(moved("outpost_http_request_duration_seconds_count",
                  {{"route", "/dispatch"}, {"method", "POST"}, {"code", "201"}}),
            4);
  const std::string runs = "outpost_run_duration_seconds_count";
  EXPECT_EQ(moved(runs, {{"agent", "shell"}, {"status", "COMPLETED"}}), 2);
  EXPECT_EQ(moved(runs, {{"agent", "shell"}, {"status", "FAILED"}}), 1);
  EXPECT_EQ(moved(runs, {{"agent", "shell"}, {"status", "CANCELLED"}}), 1);
  EXPECT_GE(
      V(after, "outpost_run_duration_seconds_sum", {{"agent", "shell"}, {"status", "CANCELLED"}}),
      0.0);
  EXPECT_EQ(moved("outpost_dispatch_to_running_seconds_count", {{"agent", "shell"}}), 4);
  EXPECT_EQ(V(after, "outpost_runs_queued", {{"agent", "shell"}}), 0);
  EXPECT_EQ(after.types.at("outpost_reaper_actions_total"), "counter");
  EXPECT_TRUE(after.Value("outpost_reaper_actions_total", {{"action", "supervisor_lost"}}));
  EXPECT_EQ(after.Sum("outpost_store_errors_total"), 0);
  EXPECT_EQ(after.Sum("outpost_sandbox_start_seconds_count"), 0);  // the process runner
  // No raw path became a label.
  for (const auto& s : after.samples) {
    if (auto it = s.labels.find("route"); it != s.labels.end()) {
      EXPECT_EQ(it->second.find(ok1), std::string::npos) << it->second;
      EXPECT_NE(it->second, "/no/such/path");
    }
  }

  // /health/slo counts the same things: three runs finished that count (the cancel does not).
  json::value slo = server_->Get("/health/slo").Json();
  const json::object& w = slo.at("data").at("windows").at("1h").as_object();
  EXPECT_EQ(w.at("dispatches").to_number<int>(), 3);
  EXPECT_NEAR(w.at("dispatchSuccessRate").to_number<double>(), 66.667, 0.001);
  EXPECT_GT(w.at("requests").to_number<int>(), 10);
  EXPECT_EQ(w.at("errorRate").to_number<double>(), 0);
  EXPECT_FALSE(slo.at("data").at("series").as_array().empty());

  ASSERT_TRUE(std::filesystem::exists(Promtool()))
      << "promtool is not installed (no " << Promtool() << "): run scripts/install-deps.sh test";
  auto [rc, out] = PromtoolCheck(text);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
  // promtool is a real check: a counter without _total and a malformed line are refused.
  EXPECT_NE(PromtoolCheck("# TYPE x counter\nx 1\n").first, 0);
  EXPECT_NE(PromtoolCheck("x{a=1} 1\n").first, 0);
}

TEST_F(MetricsTest, SandboxedRunRecordsItsStartTime) {
  server_ = ServerProcess::Start(dir_);  // the sandbox runner
  std::string id = server_->Dispatch(Shell("echo sandboxed"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  std::string text;
  ParsedText t = Scrape(*server_, &text);
  EXPECT_EQ(V(t, "outpost_sandbox_start_seconds_count", {{"agent", "shell"}}), 1);
  EXPECT_GT(V(t, "outpost_sandbox_start_seconds_sum", {{"agent", "shell"}}), 0);
  EXPECT_EQ(V(t, "outpost_dispatch_to_running_seconds_count", {{"agent", "shell"}}), 1);
  ASSERT_TRUE(std::filesystem::exists(Promtool()))
      << "promtool is not installed (no " << Promtool() << "): run scripts/install-deps.sh test";
  auto [rc, out] = PromtoolCheck(text);
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace outpost::testing
