#include "cli/format.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/exit_codes.h"
#include "client/api_client.h"
#include "common/time_util.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::HttpResult;
using client::StatusFromHttpError;
using client::UnwrapEnvelope;
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ExitCodes, FollowTheRunsFinalStatus) {
  EXPECT_EQ(ExitCodeForRunStatus("COMPLETED"), 0);
  EXPECT_EQ(ExitCodeForRunStatus("FAILED"), 1);
  EXPECT_EQ(ExitCodeForRunStatus("TIMEOUT"), 2);
  EXPECT_EQ(ExitCodeForRunStatus("CANCELLED"), 3);
  EXPECT_EQ(ExitCodeForRunStatus("SOMETHING_NEW"), 1);
}

TEST(ExitCodes, RefusedRequestsAre4AndServerTroubleIs5) {
  EXPECT_EQ(ExitCodeForError(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(400, "")), 4);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(404, "")), 4);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(409, "")), 4);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(429, "")), 4);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(500, "")), 5);
  EXPECT_EQ(ExitCodeForError(StatusFromHttpError(503, "")), 5);
  EXPECT_EQ(ExitCodeForError(Unavailable("cannot reach x")), 5);
  EXPECT_EQ(kExitUsage, 64);
}

TEST(Envelope, UnwrapsDataOfASuccess) {
  HttpResult r{201, R"({"success":true,"data":{"runId":"R1"},"meta":{}})", "", "", "", ""};
  auto data = UnwrapEnvelope(r);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->as_object().at("runId").as_string(), "R1");
}

TEST(Envelope, A2xxWithoutEnvelopeIsInternal) {
  auto data = UnwrapEnvelope(HttpResult{200, "<html>", "", "", "", ""});
  EXPECT_EQ(data.status().code(), Code::kInternal);
}

TEST(Envelope, ErrorEnvelopeBecomesStatusWithCodeAndDetails) {
  auto data = UnwrapEnvelope(HttpResult{404,
                                        R"({"success":false,"error":{"code":"NOT_FOUND",
                                        "message":"Run not found"}})",
                                        "", "", "", ""});
  EXPECT_EQ(data.status().code(), Code::kNotFound);
  EXPECT_EQ(data.status().message(), "Run not found");
  EXPECT_EQ(FormatError(data.status()), "outpost: NOT_FOUND (HTTP 404): Run not found\n");
}

TEST(FormatError, ValidationEnvelopeListsEveryField) {
  Status s = StatusFromHttpError(400, R"({"success":false,"error":{"code":"VALIDATION_ERROR",
      "message":"Request validation failed","details":{"errors":[
      {"path":"task","message":"is required"},
      {"path":"timeoutSeconds","message":"must be between 1 and 86400"}]}}})");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(FormatError(s),
            "outpost: VALIDATION_ERROR (HTTP 400): Request validation failed\n"
            "  task: is required\n"
            "  timeoutSeconds: must be between 1 and 86400\n");
}

TEST(FormatError, ConflictShowsScalarDetails) {
  Status s = StatusFromHttpError(409, R"({"success":false,"error":{"code":"CONFLICT",
      "message":"Run already finished","details":{"currentStatus":"COMPLETED"}}})");
  EXPECT_EQ(FormatError(s),
            "outpost: CONFLICT (HTTP 409): Run already finished\n  currentStatus: COMPLETED\n");
}

TEST(FormatError, NonJson5xxStillNamesTheStatus) {
  EXPECT_EQ(FormatError(StatusFromHttpError(502, "Bad Gateway")),
            "outpost: INTERNAL (HTTP 502): bad gateway\n");
}

TEST(FormatError, UnreachableIsOneLine) {
  EXPECT_EQ(FormatError(Unavailable("cannot reach http://127.0.0.1:8080: Connection refused")),
            "outpost: cannot reach http://127.0.0.1:8080: Connection refused\n");
}

TEST(FormatDuration, PicksAUnitByMagnitude) {
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(850), "850ms");
  EXPECT_EQ(FormatDuration(1000), "1.0s");
  EXPECT_EQ(FormatDuration(12345), "12.3s");
  EXPECT_EQ(FormatDuration(59999), "59.9s");
  EXPECT_EQ(FormatDuration(245000), "4m05s");
  EXPECT_EQ(FormatDuration(7380000), "2h03m");
  EXPECT_EQ(FormatDuration(-1), "-");
}

TEST(FormatElapsed, WholeSeconds) {
  EXPECT_EQ(FormatElapsed(Millis(7999)), "7s");
  EXPECT_EQ(FormatElapsed(Millis(245000)), "4m05s");
  EXPECT_EQ(FormatElapsed(Millis(3725000)), "1h02m05s");
}

TEST(Truncate, FlattensWhitespaceAndCutsOnCodePoints) {
  EXPECT_EQ(Truncate("echo hi", 10), "echo hi");
  EXPECT_EQ(Truncate("line one\n\tline two", 100), "line one line two");
  EXPECT_EQ(Truncate("abcdefghij", 5), "abcd…");
  EXPECT_EQ(Truncate("ééééé", 3), "éé…");  // never splits a 2-byte character
}

TEST(ShortTime, LocalTimeWithTheZoneOfTz) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(ShortTime("2026-11-28T08:22:40.123Z"), "2026-11-28 08:22:40 UTC");
  ::setenv("TZ", "Europe/Berlin", 1);
  ::tzset();
  EXPECT_EQ(ShortTime("2026-11-28T08:22:40.123Z"), "2026-11-28 09:22:40 CET");
  EXPECT_EQ(ShortTime("2026-07-01T08:00:00+02:00"), "2026-07-01 08:00:00 CEST");
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(ShortTime("yesterday"), "yesterday");
}

TEST(FormatTable, AlignsColumnsByCodePoints) {
  EXPECT_EQ(FormatTable({"ID", "TASK"}, {{"a", "x"}, {"ééé", "y"}}),
            "ID   TASK\n"
            "a    x\n"
            "ééé  y\n");
}

TEST(FormatRunsTable, ShowsDurationOrTimeSinceStart) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  auto runs = json::parse(R"([
    {"runId":"R1","status":"COMPLETED","agent":"shell","createdAt":"2026-01-01T10:00:00.000Z",
     "durationMs":1500,"task":"echo hello\necho world"},
    {"runId":"R2","status":"RUNNING","agent":"claude","createdAt":"2026-01-01T10:01:00.000Z",
     "startedAt":"2026-01-01T10:01:00.000Z","task":"fix it"}])")
                  .as_array();
  WallTime now = *ParseTime("2026-01-01T10:02:05Z");
  EXPECT_EQ(FormatRunsTable(runs, now),
            "ID  STATUS     AGENT   CREATED                  DURATION  TASK\n"
            "R1  COMPLETED  shell   2026-01-01 10:00:00 UTC  1.5s      echo hello echo world\n"
            "R2  RUNNING    claude  2026-01-01 10:01:00 UTC  1m05s…    fix it\n");
}

TEST(FormatRunDetails, AlignsPresentFieldsOnly) {
  auto run = Obj(R"({"runId":"R1","status":"FAILED","reason":"agent_error","phase":"done",
      "agent":"shell","modelId":null,"task":"exit 3","durationMs":250,"exitCode":3,
      "errorMessage":"agent exited with status 3","tags":{"team":"core"}})");
  EXPECT_EQ(FormatRunDetails(run),
            "Run        R1\n"
            "Status     FAILED (agent_error)\n"
            "Phase      done\n"
            "Agent      shell\n"
            "Task       exit 3\n"
            "Tags       team=core\n"
            "Duration   250ms\n"
            "Exit code  3\n"
            "Error      agent exited with status 3\n");
}

TEST(FormatFinalSummary, StatusReasonExitCodeDuration) {
  auto run = Obj(R"({"runId":"R1","status":"TIMEOUT","reason":"timeout_total","exitCode":137,
      "durationMs":61000,"errorMessage":"deadline of 60s exceeded"})");
  EXPECT_EQ(FormatFinalSummary(run),
            "R1 TIMEOUT (timeout_total), exit code 137, duration 1m01s\n"
            "error: deadline of 60s exceeded\n");
}

TEST(FormatFinalSummary, EndsWithTheChangesAndADiffStat) {
  auto run = Obj(R"({"runId":"R1","status":"COMPLETED","reason":"succeeded","exitCode":0,
      "changes":{"kind":"committed","beforeSha":"aaaaaaaaaaaaaaaa","afterSha":"bbbbbbbbbbbbbbbb",
      "filesChanged":["hello.txt","src/main.cc","logo.png"],"insertions":13,"deletions":2,
      "diffStat":[{"path":"hello.txt","insertions":1,"deletions":0},
                  {"path":"src/main.cc","insertions":12,"deletions":2},
                  {"path":"logo.png","insertions":null,"deletions":null}]}})");
  EXPECT_EQ(FormatFinalSummary(run),
            "R1 COMPLETED (succeeded), exit code 0\n"
            "changes: committed (aaaaaaaaaa..bbbbbbbbbb)\n"
            " hello.txt   |   1 +\n"
            " src/main.cc |  14 ++++++++++++--\n"
            " logo.png    | Bin\n"
            " 3 files changed, 13 insertions(+), 2 deletions(-)\n");
}

TEST(FormatChanges, LongDiffsAreScaledAndNoChangesIsOneLine) {
  auto big = Obj(R"({"changes":{"kind":"uncommitted","diffStat":[
      {"path":"a","insertions":400,"deletions":0},{"path":"b","insertions":1,"deletions":1}]}})");
  EXPECT_EQ(FormatChanges(big),
            "changes: uncommitted\n"
            " a | 400 ++++++++++++++++++++++++++++++++++++++++\n"
            " b |   2 +-\n"
            " 2 files changed, 401 insertions(+), 1 deletion(-)\n");
  EXPECT_EQ(FormatChanges(Obj(R"({"changes":{"kind":"none","diffStat":[]}})")), "changes: none\n");
  EXPECT_EQ(FormatChanges(Obj(R"({"changes":null})")), "");
}

TEST(FormatProgress, IncludesPhaseElapsedAndNote) {
  EXPECT_EQ(FormatProgress("R1", "RUNNING", "running", Millis(12'400)), "R1 RUNNING (running) 12s");
  EXPECT_EQ(FormatProgress("R1", "RUNNING", "", Millis(0), "server unreachable, retrying"),
            "R1 RUNNING 0s - server unreachable, retrying");
}

TEST(FormatHealth, StatusAndChecks) {
  auto body = Obj(R"({"status":"degraded","version":"0.1.0","uptimeSeconds":3725,
      "checks":{"store":{"status":"ok","latencyMs":2},"sandbox":"unavailable"}})");
  EXPECT_EQ(FormatHealth(body, false),
            "status   degraded\n"
            "version  0.1.0\n"
            "uptime   1h02m05s\n"
            "checks:\n"
            "  store    ok  latencyMs=2\n"
            "  sandbox  unavailable\n");
}

TEST(FormatHealth, FleetListsAgents) {
  auto body = Obj(R"({"status":"healthy","healthy":true,"agents":[{"agent":"shell",
      "available":true,"modelId":null,"active":1,"queued":0,"maxConcurrent":4,
      "successRate":0.5,"avgDurationMs":1200}],"capacity":{"maxConcurrent":8},
      "dispatches":{"lastHourTotal":2,"byStatus":{"COMPLETED":1,"FAILED":1}}})");
  EXPECT_EQ(FormatHealth(body, true),
            "status     healthy\n"
            "healthy    yes\n"
            "capacity   maxConcurrent=8\n"
            "last hour  2 (COMPLETED=1, FAILED=1)\n"
            "\n"
            "AGENT  AVAILABLE  MODEL  ACTIVE  QUEUED  MAX  SUCCESS  AVG DURATION\n"
            "shell  yes               1       0       4    50%      1.2s\n");
}

}  // namespace
}  // namespace outpost::cli
