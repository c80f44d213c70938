// Issue 23 item 3, `verify`: a fan-out of two shell-command agents through a real `outpost
// serve` (process runner, a local repository) with a check command that one run passes and the
// other fails; GET /groups/{id}, the run JSON, `outpost group` and `outpost status` show each
// run's verification, both runs stay COMPLETED, and the record survives a restart (SQLite; the
// DynamoDB store's persistence is the store conformance suite's, against dynalite). Bad `verify`
// values are refused naming the field, creating nothing.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;

class VerifyIntegrationTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    repos_ = MakeTempDir();
    origin_ = repos_ + "/origin";
    Sh("git init -q -b trunk " + origin_ + " && cd " + origin_ +
       " && echo hello > README.md && git add README.md && "
       "git -c user.name=t -c user.email=t@e commit -q -m init");
    cfg_ = dir_ + "/outpost.toml";
    // alpha writes a.txt, which the check looks for; beta writes b.txt.
    std::ofstream(cfg_) << R"([agents.alpha]
command = ["/bin/sh", "-c", "echo one > a.txt", "alpha", "{task}"]
models = ["m"]
[agents.beta]
command = ["/bin/sh", "-c", "printf 'x\\ny\\n' > b.txt", "beta", "{task}"]
models = ["m"]
)";
    Start();
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(repos_);
  }
  void Start() {
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                          {"OUTPOST_LOCAL_REPO_ROOTS", repos_},
                                          {"OUTPOST_CONFIG", cfg_}});
  }
  std::string Endpoint() const { return "http://" + server_->address(); }

  std::string repos_, origin_, cfg_;
};

constexpr char kCheck[] =
    "if test -f a.txt; then echo \"a.txt is there\"; else echo 'FAIL: no a.txt' >&2; exit 1; fi";

TEST_F(VerifyIntegrationTest, AFanOutShowsWhichRunsPassedTheCheckAndBothStayCompleted) {
  HttpResponse r = server_->Post(
      "/dispatch", json::serialize(json::object{{"agent", json::array{"alpha", "beta"}},
                                                {"task", "make the check pass"},
                                                {"modelId", "m"},
                                                {"repo", origin_},
                                                {"verify", kCheck},
                                                {"timeoutSeconds", 60}}));
  ASSERT_EQ(r.status, 201) << r.body;
  const json::value body = r.Json();
  const std::string group(body.at("data").at("groupId").as_string());
  std::map<std::string, std::string> by_agent;
  for (const auto& run : body.at("data").at("runs").as_array()) {
    by_agent[std::string(run.at("agent").as_string())] = run.at("runId").as_string();
  }
  ASSERT_EQ(by_agent.size(), 2u);
  for (const auto& [agent, id] : by_agent) {
    json::object run = server_->WaitTerminal(id);
    // A failed check is a fact about the result, not the run's status.
    EXPECT_EQ(Str(run, "status"), "COMPLETED") << agent << " " << json::serialize(run);
    EXPECT_EQ(Str(run, "verify"), kCheck);
    ASSERT_TRUE(run.at("verification").is_object()) << json::serialize(run);
    const json::object& v = run.at("verification").as_object();
    const bool alpha = agent == "alpha";
    EXPECT_EQ(v.at("passed").as_bool(), alpha) << json::serialize(v);
    EXPECT_EQ(v.at("exitCode").as_int64(), alpha ? 0 : 1);
    EXPECT_EQ(Str(v, "tail"), alpha ? "a.txt is there\n" : "FAIL: no a.txt\n");
    EXPECT_FALSE(v.at("timedOut").as_bool());
  }

  HttpResponse g = server_->Get("/groups/" + group);
  ASSERT_EQ(g.status, 200) << g.body;
  const json::value gb = g.Json();
  ASSERT_EQ(gb.at("data").at("count").as_int64(), 2);
  for (const auto& row : gb.at("data").at("runs").as_array()) {
    const json::object& o = row.as_object();
    const bool alpha = Str(o, "agent") == "alpha";
    EXPECT_EQ(Str(o, "status"), "COMPLETED");
    EXPECT_EQ(Str(o, "repo"), origin_);
    EXPECT_EQ(Str(o, "verify"), kCheck);
    EXPECT_EQ(o.at("verification").at("passed").as_bool(), alpha) << g.body;
    EXPECT_EQ(o.at("verification").at("exitCode").as_int64(), alpha ? 0 : 1) << g.body;
    EXPECT_EQ(o.at("filesChanged").as_int64(), 1) << g.body;
  }

  CliResult cli = RunOutpost({"group", group, "--endpoint", Endpoint()});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_NE(cli.out.find("VERIFY"), std::string::npos) << cli.out;
  for (const auto& [agent, id] : by_agent) {
    const std::size_t at = cli.out.find(id);
    ASSERT_NE(at, std::string::npos) << cli.out;
    const std::string line = cli.out.substr(at, cli.out.find('\n', at) - at);
    EXPECT_NE(line.find(agent == "alpha" ? " passed " : " FAILED "), std::string::npos) << line;
  }
  CliResult status = RunOutpost({"status", by_agent["beta"], "--endpoint", Endpoint()});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("failed (exit code 1): " + std::string(kCheck)), std::string::npos)
      << status.out;

  // The record is the store's: the same after a restart.
  server_.reset();
  Start();
  json::object again = server_->Run(by_agent["alpha"]);
  ASSERT_TRUE(again.at("verification").is_object()) << json::serialize(again);
  EXPECT_TRUE(again.at("verification").at("passed").as_bool());
  EXPECT_EQ(Str(again.at("verification").as_object(), "tail"), "a.txt is there\n");
}

TEST_F(VerifyIntegrationTest, BadVerifyValuesAreRefusedNamingTheFieldAndCreateNothing) {
  const std::string with_repo = R"({"agent":"shell","task":"true","repo":")" + origin_ + "\",";
  for (const std::string& body : {
           std::string(R"({"agent":"shell","task":"true","verify":"make test"})"),  // no repo
           with_repo + R"("verify":""})",
           with_repo + R"("verify":"make\u0000test"})",
           with_repo + R"("verify":["make","test"]})",
           with_repo + R"("verify":")" + std::string(4097, 'x') + "\"}",
       }) {
    HttpResponse r = server_->Post("/dispatch", body);
    ASSERT_EQ(r.status, 400) << body.substr(0, 120) << " " << r.body;
    EXPECT_EQ(r.Json().at("error").at("details").at("errors").at(0).at("path"), "verify") << r.body;
  }
  HttpResponse list = server_->Get("/runs");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(list.Json().at("data").at("items").as_array().empty()) << list.body;
}

}  // namespace
}  // namespace outpost::testing
