// Promote through a real `outpost serve`: a shell run changes a local repository (local repos
// allowed), its artifacts are stored, and POST /runs/{id}/promote (and POST /promote, the CLI)
// push the change to a new branch of it. The HTTPS git server, credentials and GitHub pull
// requests are core/promoter_test's; this covers the route, its scope, the envelope, the run
// JSON and the CLI.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;

class PromoteRouteTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    repos_ = MakeTempDir();
    origin_ = repos_ + "/origin";
    before_ = Sh("git init -q -b trunk " + origin_ + " && cd " + origin_ +
                 " && echo hello > README.md && git add README.md && "
                 "git -c user.name=t -c user.email=t@e commit -q -m init && git rev-parse HEAD");
    server_ = ServerProcess::Start(
        dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"}, {"OUTPOST_LOCAL_REPO_ROOTS", repos_}});
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(repos_);
  }
  // A completed run with `task`'s changes whose artifacts are stored.
  std::string CompletedRun(const std::string& task) {
    std::string id = server_->Dispatch(json::serialize(json::object{
        {"agent", "shell"}, {"task", task}, {"repo", origin_}, {"timeoutSeconds", 60}}));
    EXPECT_FALSE(id.empty());
    json::object run = server_->WaitTerminal(id);
    EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
    EXPECT_TRUE(WaitFor([&] { return Str(server_->Run(id), "artifactsStatus") == "stored"; },
                        std::chrono::seconds(30)));
    return id;
  }
  std::string Branches() {
    return Sh("git -C " + origin_ + " for-each-ref --format='%(refname)' refs/heads");
  }

  std::string repos_, origin_, before_;
};

TEST_F(PromoteRouteTest, PushesTheRunsChangesToABranchAndShowsItOnTheRun) {
  const std::string id = CompletedRun("echo new > added.txt");
  HttpResponse r = server_->Post("/runs/" + id + "/promote", R"({"branch":"agent/feature"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json::value body = r.Json();
  const json::object& data = body.at("data").as_object();
  EXPECT_FALSE(data.at("replayed").as_bool());
  const json::object& promotion = data.at("promotion").as_object();
  EXPECT_EQ(Str(promotion, "branch"), "agent/feature");
  EXPECT_EQ(Sh("git -C " + origin_ + " rev-parse agent/feature"), Str(promotion, "commit"));
  EXPECT_EQ(Sh("git -C " + origin_ + " rev-parse agent/feature^"), before_);
  EXPECT_EQ(Sh("git -C " + origin_ + " show agent/feature:added.txt"), "new");
  EXPECT_EQ(server_->Run(id).at("promotion").at("commit"), promotion.at("commit"));
  // Again, through the original v2's route: the same answer, nothing new pushed.
  HttpResponse again = server_->Post("/promote", R"({"runId":")" + id + R"("})");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.Json().at("data").at("replayed").as_bool());
  EXPECT_EQ(again.Json().at("data").at("promotion").at("commit"), promotion.at("commit"));
  // Another branch: 409 naming the earlier promotion.
  HttpResponse other = server_->Post("/runs/" + id + "/promote", R"({"branch":"other"})");
  ASSERT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.Json().at("error").at("details").at("promotion").at("branch"), "agent/feature");
  // The audit log has it.
  HttpResponse audit = server_->Get("/audit?action=run.promote");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("run:" + id), std::string::npos) << audit.body;
}

TEST_F(PromoteRouteTest, AHookRefusalIs422WithTheHooksMessage) {
  const std::string id = CompletedRun("echo new > added.txt");
  Sh("printf '#!/bin/sh\\necho \"branch names need a ticket\" >&2\\nexit 1\\n' > " + origin_ +
     "/.git/hooks/pre-receive && chmod +x " + origin_ + "/.git/hooks/pre-receive");
  HttpResponse r = server_->Post("/runs/" + id + "/promote", "{}");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code"), "UNPROCESSABLE_ENTITY");
  EXPECT_NE(r.body.find("branch names need a ticket"), std::string::npos) << r.body;
  EXPECT_EQ(Branches(), "refs/heads/trunk");
  EXPECT_TRUE(server_->Run(id).at("promotion").is_null());
}

TEST_F(PromoteRouteTest, BadInputNamesTheFieldAndPushesNothing) {
  const std::string id = CompletedRun("echo new > added.txt");
  struct Case {
    std::string path, body, field;
    int status;
  };
  const std::string long_title(257, 't');
  for (const Case& c : std::vector<Case>{
           {"/runs/" + id + "/promote", R"({"branch":"bad..name"})", "branch", 400},
           {"/runs/" + id + "/promote", R"({"mode":"pr","title":")" + long_title + R"("})", "title",
            400},
           // A pull request needs an https://HOST/OWNER/REPO repository, not a local path.
           {"/runs/" + id + "/promote", R"({"mode":"pr","base":"trunk"})", "repo", 400},
           {"/runs/" + id + "/promote", R"({"colour":"red"})", "colour", 400},
           {"/promote", "{}", "runId", 400},
       }) {
    HttpResponse r = server_->Post(c.path, c.body);
    ASSERT_EQ(r.status, c.status) << c.body << " " << r.body;
    EXPECT_EQ(r.Json().at("error").at("details").at("errors").at(0).at("path").as_string(), c.field)
        << r.body;
  }
  EXPECT_EQ(server_->Post("/runs/01KF0000000000000000000000/promote", "{}").status, 404);
  const std::string bare = server_->Dispatch(R"({"agent":"shell","task":"echo hi"})");
  server_->WaitTerminal(bare);
  HttpResponse no_repo = server_->Post("/runs/" + bare + "/promote", "{}");
  ASSERT_EQ(no_repo.status, 400) << no_repo.body;
  EXPECT_EQ(no_repo.Json().at("error").at("details").at("errors").at(0).at("path"), "repo");
  EXPECT_EQ(Branches(), "refs/heads/trunk");
}

// With keys: the `promote` scope is required (403 naming it), and another tenant's run is a 404
// exactly like a run that does not exist.
TEST_F(PromoteRouteTest, NeedsThePromoteScopeAndSeesOnlyItsTenantsRuns) {
  server_.reset();
  const std::string a = OutpostAdmin(dir_, {"tenant", "create", "tenant-a"});
  const std::string b = OutpostAdmin(dir_, {"tenant", "create", "tenant-b"});
  auto key = [&](const std::string& tenant, const std::string& scopes) {
    return OutpostAdmin(dir_, {"key", "create", "--tenant", tenant, "--scopes", scopes});
  };
  const std::string a_runs = key(a, "dispatch,status"), a_promote = key(a, "status,promote");
  const std::string b_promote = key(b, "promote");
  server_ = ServerProcess::Start(
      dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"}, {"OUTPOST_LOCAL_REPO_ROOTS", repos_}});
  auto as = [&](const std::string& k, const std::string& method, const std::string& path,
                const std::string& body = "") {
    return Http(server_->address(), method, path, body,
                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + k}});
  };
  HttpResponse d = as(a_runs, "POST", "/dispatch",
                      json::serialize(json::object{{"agent", "shell"},
                                                   {"task", "echo new > added.txt"},
                                                   {"repo", origin_},
                                                   {"timeoutSeconds", 60}}));
  ASSERT_EQ(d.status, 201) << d.body;
  const std::string id(d.Json().at("data").at("runId").as_string());
  ASSERT_TRUE(WaitFor(
      [&] {
        HttpResponse r = as(a_runs, "GET", "/runs/" + id);
        return r.status == 200 &&
               Str(r.Json().at("data").as_object(), "artifactsStatus") == "stored";
      },
      std::chrono::seconds(60)));
  HttpResponse no_scope = as(a_runs, "POST", "/runs/" + id + "/promote", "{}");
  ASSERT_EQ(no_scope.status, 403) << no_scope.body;
  EXPECT_EQ(no_scope.Json().at("error").at("details").at("requiredScope"), "promote");
  HttpResponse other = as(b_promote, "POST", "/runs/" + id + "/promote", "{}");
  ASSERT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(Branches(), "refs/heads/trunk");
  HttpResponse ok = as(a_promote, "POST", "/runs/" + id + "/promote", "{}");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Branches(), "refs/heads/outpost/shell/" + id + "\nrefs/heads/trunk");
}

TEST_F(PromoteRouteTest, TheCliPromotesAndPrintsTheBranch) {
  const std::string id = CompletedRun("echo new > added.txt");
  CliResult cli = RunOutpost({"promote", id, "--endpoint", "http://" + server_->address()});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_NE(cli.out.find("-> branch outpost/shell/" + id), std::string::npos) << cli.out;
  CliResult bad =
      RunOutpost({"promote", id, "--branch", "x..y", "--endpoint", "http://" + server_->address()});
  EXPECT_EQ(bad.exit_code, 4) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("branch"), std::string::npos) << bad.err;
}

// GET /groups/{id} and `outpost group`: a fan-out's runs side by side (issue 23 item 3, without
// `verify`), and promote on one of them.
TEST_F(PromoteRouteTest, AGroupShowsEachRunsOutcomeAndChangesAndOneCanBePromoted) {
  server_.reset();
  const std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << R"([agents.alpha]
command = ["/bin/sh", "-c", "echo one > a.txt", "alpha", "{task}"]
models = ["m"]
[agents.beta]
command = ["/bin/sh", "-c", "printf 'x\\ny\\n' > b.txt && echo more >> README.md", "beta", "{task}"]
models = ["m"]
)";
  server_ = ServerProcess::Start(dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                        {"OUTPOST_LOCAL_REPO_ROOTS", repos_},
                                        {"OUTPOST_CONFIG", cfg}});
  HttpResponse r = server_->Post(
      "/dispatch", json::serialize(json::object{{"agent", json::array{"alpha", "beta"}},
                                                {"task", "change something"},
                                                {"modelId", "m"},
                                                {"repo", origin_},
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
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED") << agent;
    ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(id), "artifactsStatus") == "stored"; },
                        std::chrono::seconds(30)));
  }
  ASSERT_EQ(server_->Post("/runs/" + by_agent["beta"] + "/promote", "{}").status, 201);
  HttpResponse g = server_->Get("/groups/" + group);
  ASSERT_EQ(g.status, 200) << g.body;
  const json::value gb = g.Json();
  EXPECT_EQ(gb.at("data").at("count").as_int64(), 2);
  for (const auto& row : gb.at("data").at("runs").as_array()) {
    const json::object& o = row.as_object();
    const bool beta = Str(o, "agent") == "beta";
    EXPECT_EQ(Str(o, "status"), "COMPLETED");
    EXPECT_EQ(Str(o, "changes"), "uncommitted");
    EXPECT_EQ(o.at("filesChanged").as_int64(), beta ? 2 : 1) << g.body;
    EXPECT_EQ(o.at("insertions").as_int64(), beta ? 3 : 1) << g.body;
    EXPECT_EQ(o.at("deletions").as_int64(), 0);
    EXPECT_TRUE(o.at("durationMs").is_int64());
    EXPECT_EQ(o.at("promotion").is_object(), beta) << g.body;
  }
  EXPECT_EQ(server_->Get("/groups/01KF0000000000000000000000").status, 404);
  CliResult cli = RunOutpost({"group", group, "--endpoint", "http://" + server_->address()});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  for (const auto& [agent, id] : by_agent) EXPECT_NE(cli.out.find(id), std::string::npos);
  EXPECT_NE(cli.out.find("outpost/beta/" + by_agent["beta"]), std::string::npos) << cli.out;
}

}  // namespace
}  // namespace outpost::testing
