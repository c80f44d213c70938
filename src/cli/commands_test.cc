// End to end: the client commands, parsed by a real CLI::App, against a scripted HTTP server.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/json/parse.hpp>
#include <sstream>

#include "cli/client_commands.h"
#include "testing/fake_http_server.h"

namespace outpost::cli {
namespace {

using testing::Envelope;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

// The command runs inline on `clock`; by default a simulated one that its waits (polls, retry
// backoffs) move forward instead of sleeping.
Outcome RunCli(std::vector<std::string> args, bool tty = false, const Clock* clock = nullptr,
               Millis poll_interval = Millis(1)) {
  // Times in UTC; no saved CLI context of whoever runs the tests.
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  ::setenv("XDG_CONFIG_HOME", "/nonexistent/outpost-cli-test", 1);
  ::unsetenv("OUTPOST_CONTEXT");
  CLI::App app{"outpost"};
  Outcome o;
  std::ostringstream out, err;
  SimulatedClock simulated;
  simulated.set_advance_on_sleep(true);
  ClientIo io;
  io.out = &out;
  io.err = &err;
  io.tty = tty;
  io.clock = clock ? clock : &simulated;
  io.poll_interval = poll_interval;
  io.retry_backoff = Millis(20);
  io.unreachable_grace = Millis(10'000);
  AddClientCommands(app, &o.exit_code, io);
  args.insert(args.begin(), "outpost");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    o.exit_code = ExitForParseError(app, e, &err);
  }
  o.out = out.str();
  o.err = err.str();
  return o;
}

std::string RunJson(std::string_view status, std::string_view phase, std::string extra = "") {
  return R"({"runId":"R1","status":")" + std::string(status) + R"(","phase":")" +
         std::string(phase) + "\"" + extra + "}";
}

// POST /dispatch creates R1; GET /runs/R1 walks `states` and then stays on the last one.
class RunScript {
 public:
  explicit RunScript(std::vector<std::string> states) : states_(std::move(states)) {}
  FakeResponse operator()(const FakeRequest& req) {
    if (req.method == "POST" && req.target == "/dispatch") {
      return {201, Envelope(R"({"runId":"R1","dispatchId":"R1","status":"PENDING"})"), {}};
    }
    if (req.method == "GET" && req.target == "/runs/R1") {
      std::size_t i = std::min<std::size_t>(gets_++, states_.size() - 1);
      return {200, Envelope(states_[i]), {}};
    }
    return {404, R"({"success":false,"error":{"code":"NOT_FOUND","message":"no route"}})", {}};
  }

 private:
  std::vector<std::string> states_;
  std::atomic<std::size_t> gets_ = 0;
};

FakeHttpServer::Handler Script(std::vector<std::string> states) {
  auto script = std::make_shared<RunScript>(std::move(states));
  return [script](const FakeRequest& r) { return (*script)(r); };
}

std::vector<std::string> Walk(std::string_view final_status, std::string_view reason,
                              int exit_code) {
  return {RunJson("PENDING", "queued"), RunJson("RUNNING", "running"),
          RunJson("RUNNING", "running"),
          RunJson(final_status, "done",
                  R"(,"reason":")" + std::string(reason) + R"(","exitCode":)" +
                      std::to_string(exit_code) + R"(,"durationMs":1200)")};
}

TEST(DispatchWait, CompletedExits0AndPrintsEachChangeOnce) {
  FakeHttpServer server(Script(Walk("COMPLETED", "succeeded", 0)));
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "echo hi", "--timeout", "60", "--tag",
                   "team=core", "--tag", "ticket=OUT-1", "--idempotency-key", "k1", "--wait",
                   "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "R1\n"
            "R1 PENDING (queued) 0s\n"
            "R1 RUNNING (running) 0s\n"
            "R1 COMPLETED (succeeded), exit code 0, duration 1.2s\n");
  EXPECT_EQ(o.err, "");
  auto body = boost::json::parse(server.requests().at(0).body);
  EXPECT_EQ(body, boost::json::parse(R"({"agent":"shell","task":"echo hi","timeoutSeconds":60,
      "idempotencyKey":"k1","tags":{"team":"core","ticket":"OUT-1"}})"));
}

// The poll loop on simulated time: a GET every poll interval, the elapsed time shown is the
// clock's, and nothing waits for real.
TEST(DispatchWait, PollsEveryIntervalOnTheClock) {
  FakeHttpServer server(Script(Walk("COMPLETED", "succeeded", 0)));
  SimulatedClock clock;
  clock.set_advance_on_sleep(true);
  auto o = RunCli(
      {"dispatch", "--agent", "shell", "--task", "x", "--wait", "--endpoint", server.endpoint()},
      false, &clock, Millis(2'000));
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "R1\n"
            "R1 PENDING (queued) 0s\n"
            "R1 RUNNING (running) 2s\n"
            "R1 COMPLETED (succeeded), exit code 0, duration 1.2s\n");
  EXPECT_EQ(clock.sleeps(), std::vector<Millis>(3, Millis(2'000)));
  EXPECT_EQ(clock.Mono(), MonoTime(Millis(6'000)));
  EXPECT_EQ(server.requests().size(), 5u);  // the POST and four GETs
}

struct FinalCase {
  const char* status;
  const char* reason;
  int expected_exit;
};

class DispatchWaitFinal : public ::testing::TestWithParam<FinalCase> {};

TEST_P(DispatchWaitFinal, ExitCodeFollowsTheFinalStatus) {
  const auto& c = GetParam();
  FakeHttpServer server(Script(Walk(c.status, c.reason, 137)));
  auto o = RunCli(
      {"dispatch", "--agent", "shell", "--task", "x", "--wait", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, c.expected_exit) << o.err;
  EXPECT_NE(o.out.find(std::string("R1 ") + c.status + " (" + c.reason + ")"), std::string::npos)
      << o.out;
}

INSTANTIATE_TEST_SUITE_P(AllTerminalStatuses, DispatchWaitFinal,
                         ::testing::Values(FinalCase{"COMPLETED", "succeeded", 0},
                                           FinalCase{"FAILED", "agent_error", 1},
                                           FinalCase{"TIMEOUT", "timeout_total", 2},
                                           FinalCase{"CANCELLED", "cancelled", 3}));

TEST(DispatchWait, OnATerminalRedrawsOneLineInPlace) {
  FakeHttpServer server(Script(Walk("COMPLETED", "succeeded", 0)));
  auto o = RunCli(
      {"dispatch", "--agent", "shell", "--task", "x", "--wait", "--endpoint", server.endpoint()},
      /*tty=*/true);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out,
            "R1\n"
            "\r\033[KR1 PENDING (queued) 0s"
            "\r\033[KR1 RUNNING (running) 0s"
            "\r\033[KR1 RUNNING (running) 0s"
            "\r\033[K"
            "R1 COMPLETED (succeeded), exit code 0, duration 1.2s\n");
}

TEST(DispatchWait, JsonPrintsOnlyTheFinalRun) {
  FakeHttpServer server(Script(Walk("FAILED", "agent_error", 3)));
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--wait", "--json", "--endpoint",
                   server.endpoint()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(boost::json::parse(o.out).at("status"), "FAILED");
}

TEST(DispatchWait, SurvivesAServerRestart) {
  auto first = std::make_unique<FakeHttpServer>(Script({RunJson("RUNNING", "running")}));
  const std::uint16_t port = first->port();
  const std::string endpoint = first->endpoint();
  // The server is down for a while in real time: the client retries on the real clock.
  std::thread restarter([&] {
    // Let the client see RUNNING, go away, come back a little later on the same port.
    while (first->requests().size() < 3) std::this_thread::sleep_for(Millis(1));
    first.reset();
    std::this_thread::sleep_for(Millis(150));
    first = std::make_unique<FakeHttpServer>(
        Script({RunJson("COMPLETED", "done", R"(,"reason":"succeeded","exitCode":0)")}), port);
  });
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--wait", "--endpoint", endpoint},
                  false, &RealClock::Instance());
  restarter.join();
  EXPECT_EQ(o.exit_code, 0) << o.err;
  // Refused or reset, depending on when the server went away.
  EXPECT_NE(o.err.find("outpost: server unreachable, retrying: "), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("R1 COMPLETED (succeeded), exit code 0"), std::string::npos) << o.out;
}

TEST(Dispatch, PrintsTheRunIdOrTheJson) {
  FakeHttpServer server(Script({}));
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "R1\n");
  o = RunCli(
      {"dispatch", "--agent", "shell", "--task", "x", "--json", "--endpoint", server.endpoint()});
  EXPECT_EQ(boost::json::parse(o.out).at("runId"), "R1");
}

TEST(Dispatch, ValidationErrorExits4AndListsEachField) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{400,
                        R"({"success":false,"error":{"code":"VALIDATION_ERROR",
        "message":"Request validation failed","details":{"errors":[
        {"path":"timeoutSeconds","message":"must be between 1 and 86400"}]}},"meta":{}})",
                        {}};
  });
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--timeout", "0", "--wait",
                   "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "outpost: VALIDATION_ERROR (HTTP 400): Request validation failed\n"
            "  timeoutSeconds: must be between 1 and 86400\n");
}

TEST(Dispatch, ConnectionRefusedExits5WithOneLine) {
  std::string endpoint = "http://127.0.0.1:" + std::to_string(testing::UnusedPort());
  auto o = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--endpoint", endpoint});
  EXPECT_EQ(o.exit_code, 5);
  EXPECT_EQ(o.err, "outpost: cannot reach " + endpoint + ": Connection refused\n");
}

TEST(Dispatch, UsageErrorsExit64) {
  auto no_task = RunCli({"dispatch", "--agent", "shell"});
  EXPECT_EQ(no_task.exit_code, 64);
  EXPECT_EQ(no_task.err, "outpost: --task is required (see --help)\n");
  EXPECT_EQ(RunCli({"dispatch", "--agent", "shell", "--task", "x", "--timeout", "soon"}).exit_code,
            64);
  auto tag = RunCli({"dispatch", "--agent", "shell", "--task", "x", "--tag", "novalue"});
  EXPECT_EQ(tag.exit_code, 64);
  EXPECT_EQ(tag.err, "outpost: --tag expects key=value, got 'novalue'\n");
  auto scheme = RunCli({"status", "R1", "--endpoint", "ftp://outpost.example.com"});
  EXPECT_EQ(scheme.exit_code, 64);
  EXPECT_NE(scheme.err.find("the scheme must be http:// or https://"), std::string::npos);
}

TEST(Help, ExitsZeroAndDocumentsTheExitCodes) {
  CLI::App app{"outpost"};
  int exit_code = -1;
  AddClientCommands(app, &exit_code, ClientIo{});
  auto* dispatch = app.get_subcommand("dispatch");
  EXPECT_NE(dispatch->help().find("64  usage error"), std::string::npos);
  EXPECT_NE(app.help().find("Exit codes:"), std::string::npos);
}

TEST(Status, PrintsAlignedFieldsAndExits0WhateverTheRunStatus) {
  FakeHttpServer server(Script({RunJson("FAILED", "done", R"(,"agent":"shell","exitCode":1)")}));
  auto o = RunCli({"status", "R1", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out,
            "Run        R1\n"
            "Status     FAILED\n"
            "Phase      done\n"
            "Agent      shell\n"
            "Exit code  1\n");
}

TEST(Status, UnknownRunExits4) {
  FakeHttpServer server(Script({}));
  auto o = RunCli({"status", "nope", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.err, "outpost: NOT_FOUND (HTTP 404): no route\n");
}

TEST(Runs, SendsFiltersAndPrintsATable) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{200,
                        Envelope(R"({"items":[{"runId":"R2","status":"COMPLETED",
        "agent":"shell","createdAt":"2026-01-01T10:00:00.000Z","durationMs":800,
        "task":"echo hi"}],"nextCursor":"c2","hasMore":true})"),
                        {}};
  });
  auto o = RunCli({"runs", "--limit", "1", "--status", "COMPLETED", "--agent", "shell",
                   "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(server.requests().at(0).target, "/runs?limit=1&status=COMPLETED&agent=shell");
  EXPECT_EQ(o.out,
            "ID  STATUS     AGENT  CREATED                  DURATION  TASK\n"
            "R2  COMPLETED  shell  2026-01-01 10:00:00 UTC  800ms     echo hi\n"
            "more: --cursor c2\n");
}

TEST(Cancel, SendsTheReasonAndPrintsTheStatus) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{202, Envelope(RunJson("RUNNING", "running")), {}};
  });
  auto o = RunCli({"cancel", "R1", "--reason", "wrong repo", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "R1 RUNNING (cancel requested)\n");
  EXPECT_EQ(server.requests().at(0).target, "/runs/R1/cancel");
  EXPECT_EQ(server.requests().at(0).body, R"({"reason":"wrong repo"})");
}

TEST(Cancel, AlreadyFinishedExits4WithCurrentStatus) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{409,
                        R"({"success":false,"error":{"code":"CONFLICT",
        "message":"Run already finished","details":{"currentStatus":"COMPLETED"}}})",
                        {}};
  });
  auto o = RunCli({"cancel", "R1", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_NE(o.err.find("currentStatus: COMPLETED"), std::string::npos);
}

TEST(Health, UnhealthyPrintsTheBodyAndExits5) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{503, R"({"status":"unhealthy","checks":{"store":"down"}})", {}};
  });
  auto o = RunCli({"health", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 5);
  EXPECT_EQ(o.out, "status  unhealthy\nchecks:\n  store  down\n");
  EXPECT_EQ(o.err, "outpost: the server reports itself unhealthy (HTTP 503)\n");
}

TEST(Health, FleetJsonIsTheTopLevelBody) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{200, R"({"status":"healthy","healthy":true,"agents":[]})", {}};
  });
  auto o = RunCli({"health", "--fleet", "--json", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(server.requests().at(0).target, "/health/fleet");
  EXPECT_EQ(boost::json::parse(o.out).at("healthy"), true);
}

}  // namespace
}  // namespace outpost::cli
