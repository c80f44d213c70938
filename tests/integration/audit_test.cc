// The audit log through a real `outpost serve`: the records of a dispatch -> running ->
// completed run and of a cancel (request ids matching the responses' X-Request-ID), refused
// and MCP dispatches, GET /audit's filters, paging and validation, no task body in any record,
// and `outpost audit export` as JSONL.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kMarker = "TASK-BODY-MARKER-5f1c";

std::string Body(const std::string& task) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task + " # " + kMarker}, {"timeoutSeconds", 120}});
}

// The items of GET /audit?<query> (asserting a 200).
json::array Audit(const ServerProcess& s, const std::string& query) {
  HttpResponse r = s.Get("/audit?" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return {};
  return r.Json().at("data").at("items").as_array();
}

std::vector<json::object> Lines(const std::string& jsonl) {
  std::vector<json::object> out;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  }
  return out;
}

class AuditTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_CANCEL_GRACE_SECONDS", "1"}},
                                   {"--runner", "process"});
  }

  // POST /dispatch with our X-Request-ID; the run id.
  std::string Dispatch(const std::string& body, const std::string& request_id) {
    HttpResponse r = Http(server_->address(), "POST", "/dispatch", body,
                          {{"Content-Type", "application/json"}, {"X-Request-ID", request_id}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.headers["x-request-id"], request_id);
    return r.status == 201 ? Str(r.Json().at("data").as_object(), "runId") : "";
  }

  // Waits until GET /audit?<query> lists `n` records.
  json::array AwaitRecords(const std::string& query, std::size_t n) {
    json::array items;
    WaitFor(
        [&] {
          items = Audit(*server_, query);
          return items.size() >= n;
        },
        std::chrono::seconds(30));
    return items;
  }
};

TEST_F(AuditTest, ARunsDispatchTransitionsAndACancelAreRecordedWithTheirRequestIds) {
  const std::string done = Dispatch(Body("echo hi"), "req-dispatch-1");
  ASSERT_EQ(Str(server_->WaitTerminal(done), "status"), "COMPLETED");
  json::array recs = AwaitRecords("resource=run:" + done, 3);
  ASSERT_EQ(recs.size(), 3u) << json::serialize(recs);
  // Newest first: RUNNING -> COMPLETED, then the dispatch and PENDING -> RUNNING (these two in
  // either order: the supervisor may admit the run before the dispatch record is written).
  const json::object& completed = recs[0].as_object();
  EXPECT_EQ(Str(completed, "action"), "run.status_changed");
  EXPECT_EQ(completed.at("details"), json::parse(R"({"from":"RUNNING","to":"COMPLETED",)"
                                                 R"("agent":"shell","reason":"succeeded"})"));
  EXPECT_TRUE(completed.at("requestId").is_null()) << "the supervisor's, not a request's";
  const bool dispatch_last = Str(recs[2].as_object(), "action") == "run.dispatch";
  const json::object& running = recs[dispatch_last ? 1 : 2].as_object();
  EXPECT_EQ(Str(running, "action"), "run.status_changed");
  EXPECT_EQ(running.at("details").at("from"), "PENDING");
  EXPECT_EQ(running.at("details").at("to"), "RUNNING");
  const json::object& dispatch = recs[dispatch_last ? 2 : 1].as_object();
  EXPECT_EQ(Str(dispatch, "action"), "run.dispatch");
  EXPECT_EQ(Str(dispatch, "requestId"), "req-dispatch-1");
  EXPECT_EQ(Str(dispatch, "tenant"), "default");
  EXPECT_EQ(Str(dispatch, "outcome"), "success");
  EXPECT_EQ(Str(dispatch, "clientAddress").rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(dispatch.at("details").at("agent"), "shell");
  EXPECT_EQ(Str(dispatch, "id").size(), 26u);

  const std::string sleeper = Dispatch(Body("sleep 60"), "req-dispatch-2");
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(sleeper), "status") == "RUNNING"; },
                      std::chrono::seconds(30)));
  HttpResponse cancel =
      Http(server_->address(), "POST", "/runs/" + sleeper + "/cancel", R"({"reason":"enough"})",
           {{"Content-Type", "application/json"}, {"X-Request-ID", "req-cancel-1"}});
  ASSERT_EQ(cancel.status, 202) << cancel.body;
  ASSERT_EQ(Str(server_->WaitTerminal(sleeper), "status"), "CANCELLED");
  json::array cancels = AwaitRecords("action=run.cancel", 1);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(Str(cancels[0].as_object(), "requestId"), "req-cancel-1");
  EXPECT_EQ(Str(cancels[0].as_object(), "resource"), "run:" + sleeper);
  EXPECT_EQ(cancels[0].at("details").at("inProgress"), true);
  json::array ended = AwaitRecords("resource=run:" + sleeper + "&action=run.status_changed", 2);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].at("details").at("from"), "RUNNING");
  EXPECT_EQ(ended[0].at("details").at("to"), "CANCELLED");

  // No task body in any record (the raw answer, not the parsed one).
  HttpResponse all = server_->Get("/audit?limit=100");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body.find(kMarker), std::string::npos) << all.body;
  EXPECT_EQ(all.body.find("sleep 60"), std::string::npos);
}

TEST_F(AuditTest, RefusedAndMcpDispatchesAreRecordedToo) {
  HttpResponse bad =
      Http(server_->address(), "POST", "/dispatch",
           std::string(R"({"agent":"shell","task":")") + kMarker + R"(","timeoutSeconds":0})",
           {{"Content-Type", "application/json"}, {"X-Request-ID", "req-bad"}});
  ASSERT_EQ(bad.status, 400);
  HttpResponse mcp =
      server_->Post("/mcp", std::string(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)") +
                                R"("params":{"name":"dispatch","arguments":{"agent":"shell",)" +
                                R"("task":"true )" + kMarker + R"("}}})");
  ASSERT_EQ(mcp.status, 200) << mcp.body;
  const json::value reply = mcp.Json();
  ASSERT_FALSE(reply.at("result").at("isError").as_bool()) << mcp.body;
  const std::string run = Str(reply.at("result").at("structuredContent").as_object(), "runId");
  json::array recs = AwaitRecords("action=run.dispatch", 2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(Str(recs[0].as_object(), "resource"), "run:" + run);  // through RunService too
  EXPECT_EQ(Str(recs[1].as_object(), "requestId"), "req-bad");
  EXPECT_EQ(Str(recs[1].as_object(), "resource"), "runs");
  EXPECT_EQ(Str(recs[1].as_object(), "outcome"), "error");
  EXPECT_EQ(Str(recs[1].as_object(), "errorCode"), "VALIDATION_ERROR");
  EXPECT_EQ(recs[1].at("details").at("fields"), json::parse(R"(["timeoutSeconds"])"));
  EXPECT_EQ(server_->Get("/audit").body.find(kMarker), std::string::npos);
}

TEST_F(AuditTest, ListingPagesWithTheCursorAndRejectsBadParameters) {
  for (int i = 0; i < 3; ++i) Dispatch(Body("true"), "req-" + std::to_string(i));
  AwaitRecords("action=run.dispatch", 3);
  HttpResponse first = server_->Get("/audit?action=run.dispatch&limit=2");
  ASSERT_EQ(first.status, 200);
  const json::value page = first.Json();
  EXPECT_EQ(page.at("data").at("items").as_array().size(), 2u);
  EXPECT_EQ(page.at("data").at("hasMore"), true);
  EXPECT_EQ(page.at("meta").at("pagination").at("limit"), 2);
  const std::string cursor(page.at("data").at("nextCursor").as_string());
  json::array rest = Audit(*server_, "action=run.dispatch&limit=2&cursor=" + cursor);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(Str(rest[0].as_object(), "requestId"), "req-0");

  HttpResponse bad = server_->Get("/audit?limit=0&since=soon&tenant=other");
  ASSERT_EQ(bad.status, 400);
  const json::value err = bad.Json();
  EXPECT_EQ(err.at("error").at("code"), "VALIDATION_ERROR");
  std::vector<std::string> paths;
  for (const auto& e : err.at("error").at("details").at("errors").as_array()) {
    paths.emplace_back(e.at("path").as_string());
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"limit", "since", "tenant"}));
  EXPECT_EQ(server_->Get("/audit?cursor=garbage").status, 400);
}

TEST_F(AuditTest, ExportWritesTheRecordsAsJsonLinesOldestFirst) {
  const std::string id = Dispatch(Body("true"), "req-export");
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  AwaitRecords("resource=run:" + id, 3);
  CliResult all = RunOutpostSh("audit export --data-dir " + dir_);
  ASSERT_EQ(all.exit_code, 0) << all.out;
  std::vector<json::object> lines = Lines(all.out);
  ASSERT_EQ(lines.size(), 3u) << all.out;
  EXPECT_EQ(Str(lines[0], "action"), "run.dispatch");
  EXPECT_EQ(Str(lines[0], "requestId"), "req-export");
  EXPECT_EQ(lines[2].at("details").at("to"), "COMPLETED");
  EXPECT_LT(Str(lines[0], "id"), Str(lines[2], "id"));
  EXPECT_EQ(all.out.find(kMarker), std::string::npos);

  EXPECT_EQ(Lines(RunOutpostSh("audit export --tenant default --data-dir " + dir_).out).size(), 3u);
  CliResult other = RunOutpostSh("audit export --tenant other --data-dir " + dir_);
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_TRUE(other.out.empty()) << other.out;
  EXPECT_TRUE(RunOutpostSh("audit export --since 2999-01-01 --data-dir " + dir_).out.empty());
  EXPECT_EQ(RunOutpostSh("audit export --since soon --data-dir " + dir_).exit_code, 64);
  EXPECT_EQ(RunOutpostSh("audit export --tenant 'a b' --data-dir " + dir_).exit_code, 64);
}

// GET /audit answers with the caller's tenant's records only: tenant B's admin key sees none of
// tenant A's, and no record anywhere holds A's task body.
TEST_F(AuditTest, ATenantSeesOnlyItsOwnRecords) {
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  auto key_for = [&](const std::string& name) {
    const std::string t =
        trim(RunOutpostSh("admin tenant create " + name + " --data-dir " + dir_).out);
    return trim(
        RunOutpostSh("admin key create --tenant " + t + " --scopes admin --data-dir " + dir_).out);
  };
  const std::string a = key_for("tenant-a"), b = key_for("tenant-b");
  ASSERT_TRUE(a.starts_with("otp_") && b.starts_with("otp_"));
  auto get = [&](const std::string& key, const std::string& path) {
    return Http(server_->address(), "GET", path, "", {{"Authorization", "Bearer " + key}});
  };
  // Keys exist now: open mode ends within about a second.
  ASSERT_TRUE(
      WaitFor([&] { return server_->Get("/audit").status == 401; }, std::chrono::seconds(10)));
  HttpResponse d = Http(server_->address(), "POST", "/dispatch", Body("true"),
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + a}});
  ASSERT_EQ(d.status, 201) << d.body;
  const std::string id = Str(d.Json().at("data").as_object(), "runId");
  json::array mine;
  ASSERT_TRUE(WaitFor(
      [&] {
        HttpResponse r = get(a, "/audit?resource=run:" + id);
        mine = r.status == 200 ? r.Json().at("data").at("items").as_array() : json::array{};
        return mine.size() >= 3;  // dispatch, RUNNING, COMPLETED
      },
      std::chrono::seconds(30)));
  HttpResponse theirs = get(b, "/audit?resource=run:" + id);
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  EXPECT_TRUE(theirs.Json().at("data").at("items").as_array().empty()) << theirs.body;
  HttpResponse all_b = get(b, "/audit?limit=100");
  ASSERT_EQ(all_b.status, 200);
  EXPECT_EQ(all_b.body.find(id), std::string::npos) << all_b.body;
  EXPECT_EQ(all_b.body.find(kMarker), std::string::npos);
  EXPECT_EQ(get(a, "/audit?limit=100").body.find(kMarker), std::string::npos);
}

// `outpost admin` changes are recorded on the store they change, with the tenant acted on; the
// key itself (shown once) is never in a record.
TEST(AuditAdmin, TenantAndKeyChangesAreRecordedWithoutTheKey) {
  const std::string dir = MakeTempDir();
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  const std::string tenant =
      trim(RunOutpostSh("admin tenant create acme --create --data-dir " + dir).out);
  ASSERT_EQ(tenant.size(), 26u) << tenant;
  const std::string key =
      trim(RunOutpostSh("admin key create --tenant " + tenant + " --data-dir " + dir).out);
  ASSERT_TRUE(key.starts_with("otp_")) << key;
  EXPECT_EQ(RunOutpostSh("admin tenant create acme --data-dir " + dir).exit_code,
            4);  // name in use

  CliResult exported = RunOutpostSh("audit export --data-dir " + dir);
  ASSERT_EQ(exported.exit_code, 0);
  std::vector<json::object> lines = Lines(exported.out);
  ASSERT_EQ(lines.size(), 3u) << exported.out;
  EXPECT_EQ(Str(lines[0], "action"), "tenant.create");
  EXPECT_EQ(Str(lines[0], "tenant"), tenant);
  EXPECT_EQ(Str(lines[0], "resource"), "tenant:" + tenant);
  EXPECT_EQ(Str(lines[0], "outcome"), "success");
  EXPECT_EQ(Str(lines[1], "action"), "key.create");
  EXPECT_EQ(Str(lines[1], "tenant"), tenant);
  const std::string key_id = Str(lines[1], "resource").substr(4);
  ASSERT_EQ(key_id.size(), 26u) << exported.out;
  EXPECT_EQ(Str(lines[2], "action"), "tenant.create");
  EXPECT_EQ(Str(lines[2], "outcome"), "error");
  EXPECT_EQ(Str(lines[2], "errorCode"), "CONFLICT");

  ASSERT_EQ(RunOutpostSh("admin key revoke " + key_id + " --data-dir " + dir).exit_code, 0);
  ASSERT_EQ(RunOutpostSh("admin tenant suspend " + tenant + " --data-dir " + dir).exit_code, 0);
  exported = RunOutpostSh("audit export --tenant " + tenant + " --data-dir " + dir);
  lines = Lines(exported.out);
  ASSERT_EQ(lines.size(), 4u) << exported.out;  // the refused create went to tenant "system"
  EXPECT_EQ(Str(lines[2], "action"), "key.revoke");
  EXPECT_EQ(Str(lines[2], "resource"), "key:" + key_id);
  EXPECT_EQ(Str(lines[3], "action"), "tenant.suspend");
  EXPECT_EQ(exported.out.find(key), std::string::npos);
  EXPECT_EQ(exported.out.find(key.substr(4, 16)), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace outpost::testing
