// End to end through a real `outpost serve`: dispatch, statuses, deadlines, cancel, FIFO
// admission, and runs that outlive the server (kill -9 and restart).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "store/sqlite/sqlite_run_store.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

std::string ShellBody(const std::string& task, int timeout = 60) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}});
}

class RunLifecycleTest : public ServerTest {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    server_ = ServerProcess::Start(dir_, env);
  }
  std::string RunFile(const std::string& id, const std::string& name) {
    return dir_ + "/runs/" + id + "/" + name;
  }
};

TEST_F(RunLifecycleTest, ShellRunCompletesWithItsOutputKeptApart) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("echo hello; echo oops >&2"));
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(Str(run, "reason"), "succeeded");
  EXPECT_EQ(run.at("exitCode").as_int64(), 0);
  EXPECT_EQ(Str(run, "phase"), "done");
  EXPECT_FALSE(run.at("startedAt").is_null());
  EXPECT_GE(run.at("durationMs").as_int64(), 0);
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), "hello\n");
  EXPECT_EQ(ReadAll(RunFile(id, "stderr.log")), "oops\n");
}

TEST_F(RunLifecycleTest, NonZeroExitIsFailedWithTheExitCode) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("exit 3"));
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "FAILED");
  EXPECT_EQ(Str(run, "reason"), "exit_nonzero");
  EXPECT_EQ(run.at("exitCode").as_int64(), 3);
}

TEST_F(RunLifecycleTest, DeadlineIsTimeoutNeverCompletedAndLeavesNothing) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("sleep 30 & sleep 30; exit 0", 1));
  json::object run = server_->WaitTerminal(id, seconds(20));
  EXPECT_EQ(Str(run, "status"), "TIMEOUT");
  EXPECT_EQ(Str(run, "reason"), "timeout_total");
  EXPECT_EQ(ProcessesOf(id), 0);
}

TEST_F(RunLifecycleTest, CancelledPendingRunNeverStarts) {
  StartServer({{"OUTPOST_MAX_CONCURRENT_RUNS", "1"}});
  std::string blocker = server_->Dispatch(ShellBody("sleep 30"));
  ASSERT_TRUE(
      WaitFor([&] { return Str(server_->Run(blocker), "status") == "RUNNING"; }, seconds(10)));
  std::string queued = server_->Dispatch(ShellBody("echo must-not-run"));
  EXPECT_EQ(Str(server_->Run(queued), "status"), "PENDING");

  HttpResponse r = server_->Post("/runs/" + queued + "/cancel", R"({"reason":"not needed"})");
  EXPECT_EQ(r.status, 200);
  json::object data = r.Json().at("data").as_object();
  EXPECT_EQ(Str(data, "status"), "CANCELLED");
  EXPECT_EQ(Str(data, "cancelReason"), "not needed");

  server_->Post("/runs/" + blocker + "/cancel", "{}");
  EXPECT_EQ(Str(server_->WaitTerminal(blocker), "status"), "CANCELLED");
  // The queue is now empty and capacity free: a wrongly admitted run would start now.
  std::string probe = server_->Dispatch(ShellBody("true"));
  EXPECT_EQ(Str(server_->WaitTerminal(probe), "status"), "COMPLETED");
  json::object q = server_->Run(queued);
  EXPECT_TRUE(q.at("startedAt").is_null());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/runs/" + queued));
}

TEST_F(RunLifecycleTest, CancelKillsStubbornAndDetachedProcessesBeforeCancelled) {
  StartServer();
  // Ignores SIGTERM, and leaves a setsid'd double-forked daemon that ignores it too.
  std::string task =
      "trap '' TERM; (setsid sh -c 'trap \"\" TERM; touch daemon.up; sleep 300' &) ; "
      "echo started; sleep 300";
  std::string id = server_->Dispatch(ShellBody(task));
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(RunFile(id, "workspace/daemon.up")); },
                      seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return ProcessesOf(id) >= 3; }, seconds(10)));

  HttpResponse r =
      server_->Post("/runs/" + id + "/cancel", R"({"reason":"Migration validation test"})");
  EXPECT_EQ(r.status, 202);
  json::object run = server_->WaitTerminal(id, seconds(30));
  EXPECT_EQ(Str(run, "status"), "CANCELLED");
  EXPECT_EQ(Str(run, "cancelReason"), "Migration validation test");
  // CANCELLED is written only once nothing of the run is left.
  EXPECT_EQ(ProcessesOf(id), 0);
}

TEST_F(RunLifecycleTest, CancelIsIdempotentAndRefusedAfterCompletion) {
  StartServer();
  std::string done = server_->Dispatch(ShellBody("true"));
  EXPECT_EQ(Str(server_->WaitTerminal(done), "status"), "COMPLETED");
  HttpResponse r = server_->Post("/runs/" + done + "/cancel", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.Json().at("error").at("code").as_string(), "CONFLICT");
  EXPECT_EQ(r.Json().at("error").at("details").at("currentStatus").as_string(), "COMPLETED");

  std::string id = server_->Dispatch(ShellBody("sleep 30"));
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(id), "status") == "RUNNING"; }, seconds(10)));
  EXPECT_EQ(server_->Post("/runs/" + id + "/cancel", "{}").status, 202);
  EXPECT_EQ(Http(server_->address(), "DELETE", "/dispatch/" + id).status / 100, 2);
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "CANCELLED");
  EXPECT_EQ(server_->Post("/runs/" + id + "/cancel", "{}").status, 200);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ULIDs are case-insensitive: a lower-case run or group id names the same run on every route,
// and the answers carry the upper-case id.
TEST_F(RunLifecycleTest, ALowerCaseRunIdIsTheSameRunOnEveryRoute) {
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo lower"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  const std::string low = Lower(id);
  ASSERT_NE(low, id);
  for (const std::string& path : {"/runs/" + low, "/dispatch/" + low, "/runs/" + low + "/logs",
                                  "/runs/" + low + "/artifacts", "/artifacts/" + low}) {
    HttpResponse r = server_->Get(path);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.Json().at("data").at("runId").as_string(), id) << path;
  }
  HttpResponse logs = server_->Get("/runs/" + low + "/logs");
  EXPECT_EQ(logs.Json().at("data").at("entries").as_array().at(0).at("message").as_string(),
            "lower");
  HttpResponse events = Http(server_->address(), "GET", "/runs/" + low + "/events");
  EXPECT_EQ(events.status, 200);
  EXPECT_NE(events.body.find("event: end"), std::string::npos) << events.body;
  // Cancel: the finished run is found (409 with its status), not a 404.
  HttpResponse cancel = server_->Post("/runs/" + low + "/cancel", "{}");
  EXPECT_EQ(cancel.status, 409) << cancel.body;
  const std::string running = server_->Dispatch(ShellBody("sleep 30"));
  ASSERT_TRUE(
      WaitFor([&] { return Str(server_->Run(running), "status") == "RUNNING"; }, seconds(10)));
  EXPECT_EQ(Http(server_->address(), "DELETE", "/dispatch/" + Lower(running)).status / 100, 2);
  EXPECT_EQ(Str(server_->WaitTerminal(running), "status"), "CANCELLED");
  // A fan-out's group id, lower-cased.
  HttpResponse fan = server_->Post(
      "/dispatch", R"({"agent":["shell"],"task":"true","tags":{"k":"v"},"timeoutSeconds":60})");
  ASSERT_EQ(fan.status, 201) << fan.body;
  const std::string group(fan.Json().at("data").at("groupId").as_string());
  HttpResponse listed = server_->Get("/runs?group=" + Lower(group));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Json().at("data").at("items").as_array().size(), 1u) << listed.body;
  // The CLI takes it too.
  FILE* p = ::popen((OutpostBin() + " status " + low + " --json --endpoint http://" +
                     server_->address() + " 2>&1")
                        .c_str(),
                    "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(p ? ::pclose(p) : -1, 0) << out;
  EXPECT_NE(out.find("\"runId\":\"" + id + "\""), std::string::npos) << out;
}

// `outpost serve --artifacts URL --replica-id ID`, as the README gives them: the run's artifacts
// land in that directory, and the replica goes by that id.
TEST_F(RunLifecycleTest, ServeTakesArtifactsAndReplicaIdFlags) {
  const std::string elsewhere = dir_ + "/elsewhere";
  server_ = ServerProcess::Start(
      dir_, {}, {"--artifacts", "file://" + elsewhere, "--replica-id", "replica-from-flag"});
  const std::string id = server_->Dispatch(ShellBody("echo kept"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  ASSERT_TRUE(
      WaitFor([&] { return Str(server_->Run(id), "artifactsStatus") == "stored"; }, seconds(30)));
  EXPECT_EQ(ReadAll(elsewhere + "/dispatches/" + id + "/output.log"), "kept\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/artifacts/dispatches/" + id));
  HttpResponse fleet = server_->Get("/health/fleet");
  EXPECT_NE(fleet.body.find("\"replica-from-flag\""), std::string::npos) << fleet.body;
}

// The original's request fields through the real API: mapped (a tier alias, workspaceInitMode
// full) or refused naming the field and what to use instead (userId), writing nothing.
TEST_F(RunLifecycleTest, TheOriginalsRequestFieldsAreMappedOrRefusedWithWhatToUse) {
  StartServer();
  HttpResponse mapped = server_->Post(
      "/dispatch",
      R"({"agent":"shell","task":"true","modelId":"fast","workspaceInitMode":"none"})");
  ASSERT_EQ(mapped.status, 201) << mapped.body;
  EXPECT_EQ(mapped.Json().at("data").at("modelId").as_string(), "shell");
  HttpResponse refused =
      server_->Post("/dispatch", R"({"agent":"shell","task":"true","userId":"alice"})");
  ASSERT_EQ(refused.status, 400) << refused.body;
  const json::value body = refused.Json();
  const auto& error = body.at("error").at("details").at("errors").as_array().at(0);
  EXPECT_EQ(error.at("path").as_string(), "userId");
  EXPECT_NE(std::string(error.at("message").as_string()).find("use tags"), std::string::npos)
      << refused.body;
  EXPECT_EQ(server_->Get("/runs").Json().at("data").at("items").as_array().size(), 1u);
}

// Every double the API serializes is a plain decimal: /health's disk.freeGb (Boost.JSON alone
// would write 1.5365E3), /health/fleet's rates and durations, a run's numbers.
TEST_F(RunLifecycleTest, JsonNumbersAreNeverInExponentForm) {
  StartServer();
  const std::string id = server_->Dispatch(ShellBody("echo numbers"));
  ASSERT_FALSE(id.empty());
  server_->WaitTerminal(id);
  const std::regex exponent(R"([0-9][eE][-+]?[0-9])");
  HttpResponse health = server_->Get("/health");
  ASSERT_NE(health.status / 100, 4) << health.body;
  EXPECT_TRUE(std::regex_search(health.body, std::regex(R"("freeGb":[0-9]+\.[0-9]+[,}])")))
      << health.body;
  for (const std::string& path :
       std::vector<std::string>{"/health", "/health/fleet", "/runs/" + id, "/runs"}) {
    HttpResponse r = server_->Get(path);
    // ULIDs may hold "1E5"; numbers are what follows a ':' outside a string.
    std::string numbers;
    bool in_string = false;
    for (std::size_t i = 0; i < r.body.size(); ++i) {
      const char c = r.body[i];
      if (c == '"' && (i == 0 || r.body[i - 1] != '\\')) in_string = !in_string;
      numbers += in_string ? ' ' : c;
    }
    EXPECT_FALSE(std::regex_search(numbers, exponent)) << path << ": " << r.body;
  }
}

// Intervals [startedAt, endedAt] of the runs; the largest number that overlap at any instant.
int MaxOverlap(const std::vector<json::object>& runs) {
  std::vector<std::pair<std::string, int>> edges;
  for (const auto& r : runs) {
    edges.emplace_back(Str(r, "startedAt"), +1);
    edges.emplace_back(Str(r, "endedAt"), -1);
  }
  std::sort(edges.begin(), edges.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  int cur = 0, best = 0;
  for (auto& [_, d] : edges) best = std::max(best, cur += d);
  return best;
}

TEST_F(RunLifecycleTest, AdmissionIsFifoUnderTheGlobalLimit) {
  StartServer({{"OUTPOST_MAX_CONCURRENT_RUNS", "1"}});
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(server_->Dispatch(ShellBody("sleep 0.2")));
  std::vector<json::object> runs;
  for (auto& id : ids) runs.push_back(server_->WaitTerminal(id));
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(Str(runs[i], "status"), "COMPLETED");
    if (i > 0) {
      EXPECT_LE(Str(runs[i - 1], "startedAt"), Str(runs[i], "startedAt"));
    }
  }
  EXPECT_EQ(MaxOverlap(runs), 1);
}

TEST_F(RunLifecycleTest, PerAgentLimitCapsConcurrency) {
  std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << "[agents.shell]\nmax_concurrent = 2\n";
  StartServer({{"OUTPOST_CONFIG", cfg}});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(server_->Dispatch(ShellBody("sleep 0.3")));
  std::vector<json::object> runs;
  for (auto& id : ids) runs.push_back(server_->WaitTerminal(id));
  EXPECT_EQ(MaxOverlap(runs), 2);
  json::value fleet = server_->Get("/health/fleet").Json();
  int shell_limit = 0;  // the fleet lists every configured agent: find shell by name
  for (const auto& a : fleet.at("agents").as_array()) {
    if (a.at("agent") == "shell") shell_limit = static_cast<int>(a.at("maxConcurrent").as_int64());
  }
  EXPECT_EQ(shell_limit, 2);
}

TEST_F(RunLifecycleTest, RunsSurviveKillNineOfTheServer) {
  std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << "[server]\nmax_concurrent_runs = 32\n[agents.shell]\nmax_concurrent = 32\n";
  StartServer({{"OUTPOST_CONFIG", cfg}});
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    // Each waits for a file the test writes into its workspace once the server is back, so
    // all 20 are in flight together when it dies however slowly they start.
    std::string task = "while [ ! -e go ]; do sleep 0.1; done; for n in 1 2 3; do echo line-$n-" +
                       std::to_string(i) + "; sleep 0.2; done; exit " + std::to_string(i % 3);
    ids.push_back(server_->Dispatch(ShellBody(task, 300)));
    ASSERT_FALSE(ids.back().empty());
  }
  // One more whose shim will die too: it must end supervisor_lost with nothing left behind.
  std::string lost = server_->Dispatch(ShellBody("sleep 300"));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& id : ids) {
          if (Str(server_->Run(id), "phase") != "running") return false;
        }
        return std::filesystem::exists(RunFile(lost, "shim.json"));
      },
      seconds(90)));
  server_->Signal(SIGKILL);
  server_->Wait();
  json::value shim = json::parse(ReadAll(RunFile(lost, "shim.json")));
  kill(static_cast<pid_t>(shim.at("pid").as_int64()), SIGKILL);

  server_ =
      ServerProcess::Start(dir_, {{"OUTPOST_CANCEL_GRACE_SECONDS", "1"}, {"OUTPOST_CONFIG", cfg}});
  for (const std::string& id : ids) std::ofstream(RunFile(id, "workspace/go")) << "go\n";
  for (int i = 0; i < 20; ++i) {
    json::object run = server_->WaitTerminal(ids[i], seconds(30));
    int code = i % 3;
    EXPECT_EQ(Str(run, "status"), code == 0 ? "COMPLETED" : "FAILED") << i;
    EXPECT_EQ(run.at("exitCode").as_int64(), code) << i;
    std::string want;
    for (int n = 1; n <= 3; ++n)
      want += "line-" + std::to_string(n) + "-" + std::to_string(i) + "\n";
    EXPECT_EQ(ReadAll(RunFile(ids[i], "stdout.log")), want) << i;
  }
  json::object run = server_->WaitTerminal(lost, seconds(30));
  EXPECT_EQ(Str(run, "status"), "FAILED");
  EXPECT_EQ(Str(run, "reason"), "supervisor_lost");
  EXPECT_EQ(ProcessesOf(lost), 0);
  json::value fleet = server_->Get("/health/fleet").Json();
  EXPECT_EQ(fleet.at("reaper").at("supervisorLost").as_int64(), 1);
}

// The control plane records a run RUNNING, then launches its shim: a server killed in between
// leaves a RUNNING run of which nothing exists. The restarted server starts it (nothing of it
// ran), rather than failing it supervisor_lost. The window is made exact here by writing that
// state into the store while the server is down.
TEST_F(RunLifecycleTest, ARunAdmittedButNeverLaunchedIsStartedAfterARestart) {
  const std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << "[agents.shell]\nmax_concurrent = 1\n";  // the second run waits
  StartServer({{"OUTPOST_CONFIG", cfg}});
  const std::string busy = server_->Dispatch(ShellBody("sleep 300"));
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(busy), "status") == "RUNNING"; }, seconds(20)));
  const std::string next = server_->Dispatch(ShellBody("echo launched after all"));
  ASSERT_EQ(Str(server_->Run(next), "status"), "PENDING");
  server_->Signal(SIGKILL);
  server_->Wait();
  {
    auto store = SqliteRunStore::Open(dir_ + "/outpost.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto owner = (*store)->Get(RunId(busy));
    auto run = (*store)->Get(RunId(next));
    ASSERT_TRUE(owner.ok() && run.ok());
    run->status = RunStatus::kRunning;  // as Supervisor::Admit writes it, before runner Start
    run->phase = RunPhase::kPreparing;
    run->started_at = owner->started_at;
    run->owner = owner->owner;
    ASSERT_TRUE((*store)->Update(*run).ok());
  }
  ASSERT_FALSE(std::filesystem::exists(RunFile(next, "spec.json")));
  StartServer({{"OUTPOST_CONFIG", cfg}});
  EXPECT_EQ(
      Str(server_->Post("/runs/" + busy + "/cancel", "{}").Json().at("data").as_object(), "runId"),
      busy);
  json::object run = server_->WaitTerminal(next, seconds(60));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(ReadAll(RunFile(next, "stdout.log")), "launched after all\n");
  EXPECT_EQ(Str(server_->WaitTerminal(busy, seconds(60)), "status"), "CANCELLED");
}

TEST_F(RunLifecycleTest, ReaperKillsProcessesOfRunsTheStoreDoesNotHave) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("sleep 300"));
  ASSERT_TRUE(WaitFor([&] { return ProcessesOf(id) > 0; }, seconds(10)));
  server_->Signal(SIGKILL);
  server_->Wait();
  // The store loses the run (restored from an old backup, say): its processes are orphans.
  std::filesystem::remove(dir_ + "/outpost.db");
  std::filesystem::remove(dir_ + "/outpost.db-wal");
  std::filesystem::remove(dir_ + "/outpost.db-shm");
  StartServer();
  EXPECT_EQ(server_->Get("/runs/" + id).status, 404);
  json::value fleet;
  ASSERT_TRUE(WaitFor(
      [&] {
        fleet = server_->Get("/health/fleet").Json();
        return fleet.at("reaper").at("orphanRunsReaped").as_int64() == 1;
      },
      seconds(30)));
  EXPECT_EQ(ProcessesOf(id), 0);
  EXPECT_GE(fleet.at("reaper").at("orphanProcessesKilled").as_int64(), 2);  // shim + sleep
}

TEST_F(RunLifecycleTest, GracefulShutdownLeavesRunsToTheirShims) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("sleep 3; echo finished"));
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(id), "phase") == "running"; }, seconds(10)));
  ASSERT_GT(ProcessesOf(id), 0);
  auto t0 = std::chrono::steady_clock::now();
  // SIGINT stops at once (SIGTERM drains first, waiting for the runs: drain_test).
  server_->Signal(SIGINT);
  EXPECT_EQ(server_->Wait(seconds(15)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(2));  // nothing in flight: prompt
  EXPECT_GT(ProcessesOf(id), 0);  // the run goes on without the server
  EXPECT_FALSE(std::filesystem::exists(RunFile(id, "exit.json")));
  server_ = ServerProcess::Start(dir_);
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), "finished\n");
}

TEST_F(RunLifecycleTest, BadRequestsAreRefusedAndWriteNothing) {
  StartServer();
  const std::string addr = server_->address();
  const std::map<std::string, std::string> json_ct = {{"Content-Type", "application/json"}};
  struct Case {
    std::string method, path, body;
    std::map<std::string, std::string> headers;
    int status;
  };
  std::vector<Case> cases = {
      {"POST", "/dispatch", "{not json", json_ct, 400},
      {"POST", "/dispatch", "[1,2]", json_ct, 400},
      {"POST", "/dispatch", R"({"agent":"shell","task":"t","bogus":1})", json_ct, 400},
      {"POST", "/dispatch", R"({"agent":"nope","task":"t"})", json_ct, 400},
      {"POST",
       "/dispatch",
       R"({"agent":"shell","task":"t"})",
       {{"Content-Type", "text/plain"}},
       415},
      {"POST", "/dispatch", std::string(1100000, ' '), json_ct, 413},
      {"GET", "/runs/not-a-ulid", "", {}, 400},
      {"GET", "/runs/01KF14T55EQC18M4B3R8ARPMHT", "", {}, 404},
      {"POST", "/runs/01KF14T55EQC18M4B3R8ARPMHT/cancel", "{}", json_ct, 404},
      {"GET", "/nowhere", "", {}, 404},
      {"PUT", "/dispatch", "{}", json_ct, 405},
      {"GET", "/runs?limit=1000", "", {}, 400},
  };
  for (const auto& c : cases) {
    HttpResponse r = Http(addr, c.method, c.path, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 60);
    json::value v = r.Json();
    ASSERT_TRUE(v.is_object()) << c.path;
    EXPECT_EQ(v.at("success").as_bool(), false);
    EXPECT_FALSE(r.headers["x-request-id"].empty());
  }
  json::value list = server_->Get("/runs").Json();
  EXPECT_EQ(list.at("data").at("items").as_array().size(), 0u);
}

// One URL, two representations, from two components (api/ the banner, web/ the dashboard) wired
// together by app/.
TEST_F(RunLifecycleTest, RootIsTheJsonBannerOrTheDashboardForBrowsers) {
  StartServer();
  const std::string& addr = server_->address();
  for (std::string accept : {"", "application/json", "*/*"}) {
    std::map<std::string, std::string> headers;
    if (!accept.empty()) headers["Accept"] = accept;
    HttpResponse banner = Http(addr, "GET", "/", "", headers);
    EXPECT_EQ(banner.status, 200) << accept;
    EXPECT_EQ(banner.headers["content-type"], "application/json") << accept;
    EXPECT_EQ(Str(banner.Json().as_object(), "service"), "outpost-control-plane") << accept;
    EXPECT_EQ(banner.headers["vary"], "Accept") << accept;
  }
  HttpResponse html =
      Http(addr, "GET", "/", "", {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(html.body.find("<script type=\"module\" src=\"/ui/js/app.js\"></script>"),
            std::string::npos);
  EXPECT_NE(html.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(html.headers["vary"], "Accept");
}

}  // namespace
}  // namespace outpost::testing
