// Runs on a repository through a real `outpost serve` (local repositories allowed): the shim
// checks the repo out from its mirror, the agent changes it, and the run records the changes
// with diff.patch and, for commits, changes.bundle.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;

std::vector<std::string> Files(const json::object& changes) {
  std::vector<std::string> out;
  for (const auto& f : changes.at("filesChanged").as_array()) out.emplace_back(f.as_string());
  std::sort(out.begin(), out.end());
  return out;
}

class RepoRunTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    origin_ = MakeTempDir() + "/origin";
    before_ = Sh("git init -q -b trunk " + origin_ + " && cd " + origin_ +
                 " && echo hello > README.md && git add README.md && "
                 "git -c user.name=t -c user.email=t@e commit -q -m init && git rev-parse HEAD");
    server_ = ServerProcess::Start(
        dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
               {"OUTPOST_LOCAL_REPO_ROOTS", std::filesystem::path(origin_).parent_path().string()},
               {"OUTPOST_CANCEL_GRACE_SECONDS", "1"}});
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(std::filesystem::path(origin_).parent_path());
  }
  std::string Dispatch(const std::string& task) {
    return server_->Dispatch(json::serialize(json::object{
        {"agent", "shell"}, {"task", task}, {"repo", origin_}, {"timeoutSeconds", 60}}));
  }
  std::string RunFile(const std::string& id, const std::string& name) {
    return dir_ + "/runs/" + id + "/" + name;
  }

  std::string origin_, before_;
};

TEST_F(RepoRunTest, EditAndNewFileAreUncommittedChangesWithAPatch) {
  std::string id = Dispatch("echo more >> README.md && echo new > added.txt");
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  const json::object& changes = run.at("changes").as_object();
  EXPECT_EQ(Str(changes, "kind"), "uncommitted");
  EXPECT_EQ(Str(changes, "beforeSha"), before_);
  EXPECT_EQ(Files(changes), (std::vector<std::string>{"README.md", "added.txt"}));
  const std::string patch = RunFile(id, "diff.patch");
  ASSERT_TRUE(std::filesystem::exists(patch));
  const std::string check = std::filesystem::path(origin_).parent_path().string() + "/check";
  Sh("git clone -q " + origin_ + " " + check + " && git -C " + check + " apply " + patch);
  EXPECT_EQ(ReadAll(check + "/added.txt"), "new\n");
}

TEST_F(RepoRunTest, CommitIsRecordedWithAfterShaAndABundle) {
  std::string id = Dispatch(
      "echo feature > f.txt && git add f.txt && "
      "git -c user.name=a -c user.email=a@e commit -q -m feature && git rev-parse HEAD");
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  const json::object& changes = run.at("changes").as_object();
  EXPECT_EQ(Str(changes, "kind"), "committed");
  const std::string after = Str(changes, "afterSha");
  EXPECT_EQ(after + "\n", ReadAll(RunFile(id, "stdout.log")));
  EXPECT_NE(after, before_);
  EXPECT_EQ(Files(changes), std::vector<std::string>{"f.txt"});
  Sh("git -C " + origin_ + " bundle verify -q " + RunFile(id, "changes.bundle"));
}

// A fan-out's agents work on one commit. The second run of the group starts only once the first
// is over (one run at a time), and the branch moves while the first runs: the second must still
// get the first one's commit. The agents ignore their task (context is prepended to it) and wait
// for a file the test writes into their workspace.
TEST_F(RepoRunTest, FanOutRunsAllCheckOutTheSameCommitEvenAfterTheBranchMoves) {
  server_.reset();
  const std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << R"([server]
max_concurrent_runs = 1
[agents.alpha]
command = ["/bin/sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; git rev-parse HEAD", "alpha", "{task}"]
models = ["m"]
[agents.beta]
command = ["/bin/sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; git rev-parse HEAD", "beta", "{task}"]
models = ["m"]
)";
  server_ = ServerProcess::Start(
      dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
             {"OUTPOST_LOCAL_REPO_ROOTS", std::filesystem::path(origin_).parent_path().string()},
             {"OUTPOST_CANCEL_GRACE_SECONDS", "1"},
             {"OUTPOST_CONFIG", cfg}});
  HttpResponse r = server_->Post(
      "/dispatch", json::serialize(json::object{{"agent", json::array{"alpha", "beta"}},
                                                {"task", "look around"},
                                                {"modelId", "m"},
                                                {"repo", origin_},
                                                {"timeoutSeconds", 120}}));
  ASSERT_EQ(r.status, 201) << r.body;
  std::vector<std::string> ids;
  const json::value body = r.Json();
  for (const auto& id : body.at("data").at("runIds").as_array()) {
    ids.emplace_back(id.as_string());
  }
  ASSERT_EQ(ids.size(), 2u);
  std::string first, second;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 2; ++i) {
          if (std::filesystem::exists(RunFile(ids[i], "workspace/README.md"))) {
            first = ids[i];
            second = ids[1 - i];
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(60)));
  ASSERT_EQ(Str(server_->Run(second), "status"), "PENDING");
  Sh("cd " + origin_ +
     " && echo moved > moved.txt && git add moved.txt && "
     "git -c user.name=t -c user.email=t@e commit -q -m moved");
  ASSERT_NE(Sh("git -C " + origin_ + " rev-parse HEAD"), before_);
  std::ofstream(RunFile(first, "workspace/go")) << "go\n";
  ASSERT_EQ(Str(server_->WaitTerminal(first), "status"), "COMPLETED");
  ASSERT_TRUE(
      WaitFor([&] { return std::filesystem::exists(RunFile(second, "workspace/README.md")); },
              std::chrono::seconds(60)));
  std::ofstream(RunFile(second, "workspace/go")) << "go\n";
  json::object run = server_->WaitTerminal(second);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(Str(run.at("changes").as_object(), "beforeSha"), before_);
  EXPECT_EQ(ReadAll(RunFile(second, "stdout.log")), before_ + "\n");
  EXPECT_FALSE(std::filesystem::exists(RunFile(second, "workspace/moved.txt")));
  EXPECT_EQ(Str(server_->Run(first).at("changes").as_object(), "beforeSha"), before_);
}

// A missing local path is refused at dispatch, with the message of a path outside the roots
// (audit F9: a tenant learns nothing about which paths exist on the host).
TEST_F(RepoRunTest, MissingLocalRepositoryIsRefusedAtDispatch) {
  HttpResponse r = server_->Post(
      "/dispatch", json::serialize(json::object{
                       {"agent", "shell"}, {"task", "true"}, {"repo", origin_ + "-missing"}}));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("not in a local repository root"), std::string::npos) << r.body;
}

TEST(RepoRunPolicy, LocalRepositoryIsRefusedUnlessTheOperatorAllowsIt) {
  const std::string dir = MakeTempDir();
  auto server = ServerProcess::Start(dir);
  HttpResponse r =
      server->Post("/dispatch", R"({"agent":"shell","task":"true","repo":"/srv/git/widgets"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"repo\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("--allow-local-repos"), std::string::npos) << r.body;
  server.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outpost::testing
