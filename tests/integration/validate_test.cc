// `outpost validate` against a real `outpost serve`: every runbook check passes on a healthy
// server (exit 0), and an injected fault or an unavailable agent crosses exactly the rows it
// should (exit 1); an endpoint that does not answer is exit 5. On a server with API keys an
// admin key passes everything, and a key without a scope crosses the rows that need it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;

int Count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// The table row of `check` (its whole line).
std::string Row(const std::string& out, const std::string& check) {
  auto at = out.find("| " + check);
  if (at == std::string::npos) return "";
  return out.substr(at, out.find('\n', at) - at);
}

constexpr char kOnlyShell[] =
    "[agents.claude]\nenabled = false\n[agents.codex]\nenabled = false\n"
    "[agents.gemini]\nenabled = false\n[agents.aider]\nenabled = false\n"
    "[agents.grok]\nenabled = false\n";

class ValidateTest : public ServerTest {
 protected:
  // Step 3.1 checks out a repository: here a local one on branch main (no network).
  void SetUp() override {
    ServerTest::SetUp();
    repo_ = MakeTempDir() + "/origin";
    const std::string git = "git -c user.name=t -c user.email=t@e ";
    ASSERT_EQ(std::system(("git init -q -b main " + repo_ + " && cd " + repo_ +
                           " && echo hello > README.md && git add README.md && " + git +
                           "commit -q -m init")
                              .c_str()),
              0);
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(std::filesystem::path(repo_).parent_path());
  }
  // Without a config of its own: only shell is enabled, so that the fleet is what validate
  // dispatches to (the embedded coding agents are not installed here: an unhealthy fleet).
  void Start(std::map<std::string, std::string> env = {}) {
    if (!env.count("OUTPOST_CONFIG")) {
      std::ofstream(dir_ + "/only-shell.toml") << kOnlyShell;
      env["OUTPOST_CONFIG"] = dir_ + "/only-shell.toml";
    }
    env.emplace("OUTPOST_RUNNER", "process");
    env.emplace("OUTPOST_ALLOW_LOCAL_REPOS", "1");
    env.emplace("OUTPOST_LOCAL_REPO_ROOTS", std::filesystem::path(repo_).parent_path().string());
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    env.emplace("OUTPOST_ENABLE_FAULT_INJECTION", "1");
    server_ = ServerProcess::Start(dir_, env);
  }
  std::string Validate(const std::string& extra = "") {
    return "validate --endpoint http://" + server_->address() + " --poll-interval 100ms --repo " +
           repo_ + " --branch main " + extra;
  }
  std::string repo_;
};

TEST_F(ValidateTest, EveryCheckPassesOnAHealthyServer) {
  Start();
  CliResult r = RunOutpostSh(Validate());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Count(r.out, "| [x]"), 11) << r.out;
  EXPECT_EQ(Count(r.out, "| [ ]"), 0) << r.out;
  // The runbook's order: Step 1, 2, 3, and inside Step 3 dispatch, status, completion, cancel.
  const std::size_t s1 = r.out.find("### Step 1"), s2 = r.out.find("### Step 2"),
                    s3 = r.out.find("### Step 3"), cancel = r.out.find("Cancel terminates run");
  EXPECT_TRUE(s1 < s2 && s2 < s3 && s3 < cancel) << r.out;
  EXPECT_NE(Row(r.out, "Task completes/fails appropriately").find("COMPLETED"), std::string::npos);
  EXPECT_NE(Row(r.out, "Cancel terminates run").find("then CANCELLED"), std::string::npos);
  EXPECT_NE(r.out.find("Total time: "), std::string::npos);
  EXPECT_NE(Row(r.out, "Repository checked out (3.1)").find(repo_ + "@main"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("11 of 11 checks passed"), std::string::npos);
}

TEST_F(ValidateTest, JsonDocumentHasEveryStepCheckAndRun) {
  Start();
  CliResult r = RunOutpostSh(Validate("--json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json::value doc = json::parse(r.out);
  EXPECT_TRUE(doc.at("passed").as_bool());
  EXPECT_TRUE(doc.at("reachable").as_bool());
  EXPECT_EQ(doc.at("agent").as_string(), "shell");
  EXPECT_GE(doc.at("totalMs").to_number<double>(), 0);
  const json::array& steps = doc.at("steps").as_array();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].at("checks").as_array().size(), 2u);
  EXPECT_EQ(steps[1].at("checks").as_array().size(), 4u);
  EXPECT_EQ(steps[2].at("checks").as_array().size(), 5u);
  for (const auto& step : steps) {
    for (const auto& c : step.at("checks").as_array()) {
      EXPECT_TRUE(c.at("passed").as_bool()) << json::serialize(c);
      EXPECT_FALSE(c.at("observed").as_string().empty());
    }
  }
  // The runs it made are real, and the server agrees on how they ended.
  const json::object& runs = doc.at("runs").as_object();
  for (const char* k : {"test", "validation", "cancel"}) {
    ASSERT_TRUE(runs.contains(k)) << k;
    EXPECT_TRUE(IsUlid(runs.at(k).as_string()));
  }
  EXPECT_EQ(Str(server_->Run(std::string(runs.at("cancel").as_string())), "status"), "CANCELLED");
  // Step 3.1's run is on the runbook's repo, branch and context; every run is tagged.
  json::object validation = server_->Run(std::string(runs.at("validation").as_string()));
  EXPECT_EQ(Str(validation, "status"), "COMPLETED");
  EXPECT_EQ(Str(validation, "repo"), repo_);
  EXPECT_EQ(Str(validation, "branch"), "main");
  EXPECT_EQ(doc.at("repo").as_string(), repo_);
  EXPECT_EQ(validation.at("tags").at("source").as_string(), "validate");
  HttpResponse tagged = server_->Get("/runs?tag=source:validate");
  ASSERT_EQ(tagged.status, 200) << tagged.body;
  EXPECT_EQ(json::parse(tagged.body).at("data").at("items").as_array().size(), 3u) << tagged.body;
}

TEST_F(ValidateTest, AFleetWithoutAnAvailableCodingAgentFailsTheFleetRow) {
  // The embedded defaults: shell is available, no coding agent is: the fleet is unhealthy and
  // shell being available does not hide it.
  std::ofstream(dir_ + "/defaults.toml") << "";
  Start({{"OUTPOST_CONFIG", dir_ + "/defaults.toml"}});
  CliResult r = RunOutpostSh(Validate());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string fleet = Row(r.out, "Fleet status returned");
  EXPECT_NE(fleet.find("| [ ]"), std::string::npos) << r.out;
  EXPECT_NE(fleet.find("healthy=false (unhealthy), shell available"), std::string::npos) << fleet;
}

TEST_F(ValidateTest, InjectedFaultCrossesItsRowAndFails) {
  Start();
  ASSERT_EQ(Http(server_->address(), "PUT", "/admin/faults",
                 R"({"errorRate":1,"statusCode":503,"routes":["/health/ready"]})",
                 {{"Content-Type", "application/json"}})
                .status,
            200);
  CliResult r = RunOutpostSh(Validate());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(Count(r.out, "| [ ]"), 1) << r.out;
  const std::string row = Row(r.out, "v2 endpoint ready (GET /health/ready)");
  EXPECT_NE(row.find("| [ ]"), std::string::npos) << row;
  EXPECT_NE(row.find("HTTP 503"), std::string::npos) << row;
  EXPECT_NE(r.out.find("10 of 11 checks passed - VALIDATION FAILED"), std::string::npos);
}

TEST_F(ValidateTest, UnavailableAgentCrossesFleetAndDispatchRows) {
  std::ofstream(dir_ + "/outpost.toml")
      << kOnlyShell << "[agents.shell]\ncommand = [\"/nonexistent/bin/sh\", \"-c\", \"{task}\"]\n";
  Start({{"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
  CliResult r = RunOutpostSh(Validate());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(Row(r.out, "v2 endpoint responding").find("[x]"), std::string::npos) << r.out;
  const std::string fleet = Row(r.out, "Fleet status returned");
  EXPECT_NE(fleet.find("| [ ]"), std::string::npos) << r.out;
  EXPECT_NE(fleet.find("shell unavailable"), std::string::npos) << fleet;
  const std::string dispatch = Row(r.out, "Test dispatch created");
  EXPECT_NE(dispatch.find("| [ ]"), std::string::npos) << r.out;
  EXPECT_NE(dispatch.find("VALIDATION_ERROR"), std::string::npos) << dispatch;
  EXPECT_NE(Row(r.out, "Cancel terminates run").find("no run"), std::string::npos) << r.out;
}

TEST_F(ValidateTest, WithApiKeysTheKeyNeedsDispatchStatusAndCancel) {
  const std::string tenant = OutpostAdmin(dir_, {"tenant", "create", "ops"});
  auto key = [&](const char* scopes) {
    return OutpostAdmin(dir_, {"key", "create", "--tenant", tenant, "--scopes", scopes});
  };
  const std::string admin = key("admin"), no_cancel = key("dispatch,status");
  Start();
  CliResult r = RunOutpostSh(Validate("--api-key " + admin));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("11 of 11 checks passed"), std::string::npos) << r.out;
  // Without `cancel`: only the cancel row is crossed, with the server's reason.
  r = RunOutpostSh(Validate("--api-key " + no_cancel));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(Count(r.out, "| [ ]"), 1) << r.out;
  const std::string cancel = Row(r.out, "Cancel terminates run");
  EXPECT_NE(cancel.find("| [ ]"), std::string::npos) << cancel;
  EXPECT_NE(cancel.find("cancel AUTHORIZATION_ERROR: API key lacks the required scope: cancel "
                        "(HTTP 403 in "),
            std::string::npos)
      << cancel;
  // A refused cancel is not waited on (that would take --timeout): the run goes on.
  EXPECT_NE(cancel.find("the run was left as it is"), std::string::npos) << cancel;
  // Without a key: the probes pass (they need none), every call that needs one is refused.
  r = RunOutpostSh(Validate("--json"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  json::value doc = json::parse(r.out);
  EXPECT_TRUE(doc.at("reachable").as_bool());
  int passed = 0;
  for (const auto& step : doc.at("steps").as_array()) {
    for (const auto& c : step.at("checks").as_array()) passed += c.at("passed").as_bool();
  }
  EXPECT_EQ(passed, 4) << r.out;  // live, ready, health, fleet
  EXPECT_NE(r.out.find("AUTHENTICATION_ERROR: missing or invalid API key (HTTP 401"),
            std::string::npos)
      << r.out;
}

TEST(ValidateCli, UnreachableEndpointIsExitFiveAndBadFlagsSixtyFour) {
  // A port nothing listens on: bind one, learn it, close it.
  std::string dir = MakeTempDir();
  std::string addr;
  {
    auto s = ServerProcess::Start(dir, {{"OUTPOST_RUNNER", "process"}});
    addr = s->address();
  }
  CliResult r = RunOutpostSh("validate --endpoint http://" + addr + " --timeout 2s");
  EXPECT_EQ(r.exit_code, 5) << r.out;
  EXPECT_NE(Row(r.out, "v2 endpoint responding").find("no answer"), std::string::npos) << r.out;
  EXPECT_EQ(RunOutpostSh("validate --endpoint http://" + addr + " --timeout soon").exit_code, 64);
  EXPECT_EQ(RunOutpostSh("monitor --endpoint http://" + addr + " --interval 0s --once").exit_code,
            64);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outpost::testing
