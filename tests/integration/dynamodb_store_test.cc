// A real `outpost serve --store dynamodb://...` on a real dynalite: a missing table stops the
// start, --create-tables creates them, shell runs complete, idempotent dispatch and paged listing
// work, a run survives a kill -9 of the server and is finished after the restart, and a server
// with an empty data dir serves the same runs: the state lives in DynamoDB, not in the data dir.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>

#include "aws/dynalite_fixture.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string ShellBody(const std::string& task, const std::string& key = "") {
  json::object body{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 60}};
  if (!key.empty()) body["idempotencyKey"] = key;
  return json::serialize(body);
}

class DynamoDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dynalite_.ok()) << dynalite_.error();
    dirs_ = {MakeTempDir(), MakeTempDir()};
  }
  void TearDown() override {
    server_.reset();
    for (const auto& d : dirs_) {
      KillRunsUnder(d);
      fs::remove_all(d);
    }
  }

  std::unique_ptr<ServerProcess> Start(const std::string& dir, bool create_tables) {
    std::vector<std::string> args = {
        "--runner", "process", "--store",
        "dynamodb://it?region=us-east-1&endpoint=" + dynalite_.endpoint()};
    if (create_tables) args.push_back("--create-tables");
    return ServerProcess::Start(dir,
                                {{"AWS_ACCESS_KEY_ID", aws::testing::Dynalite::kAccessKey},
                                 {"AWS_SECRET_ACCESS_KEY", aws::testing::Dynalite::kSecretKey}},
                                args);
  }

  // Every run id of GET /runs?<query>, page by page through the cursors.
  std::vector<std::string> ListAll(const std::string& query) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int pages = 0; pages < 50; ++pages) {
      HttpResponse r = server_->Get("/runs?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const json::value body = r.Json();
      const json::object& data = body.at("data").as_object();
      for (const auto& item : data.at("items").as_array())
        ids.push_back(Str(item.as_object(), "runId"));
      if (!data.at("hasMore").as_bool()) break;
      cursor = std::string(data.at("nextCursor").as_string());
    }
    return ids;
  }

  aws::testing::Dynalite dynalite_;
  std::vector<std::string> dirs_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DynamoDbStoreTest, RunsLiveInDynamoDbAcrossRestarts) {
  // Without --create-tables the missing tables stop the start (the reason goes to stderr).
  EXPECT_THROW(Start(dirs_[0], false), std::runtime_error);

  server_ = Start(dirs_[0], true);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(server_->Dispatch(ShellBody("echo run-" + std::to_string(i))));
    ASSERT_FALSE(ids.back().empty());
  }
  for (const auto& id : ids) {
    EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED") << id;
  }
  // The same idempotency key and body: the same run.
  const std::string keyed = server_->Dispatch(ShellBody("echo keyed", "key-1"));
  ASSERT_FALSE(keyed.empty());
  HttpResponse again = server_->Post("/dispatch", ShellBody("echo keyed", "key-1"));
  EXPECT_EQ(Str(again.Json().at("data").as_object(), "runId"), keyed) << again.body;
  HttpResponse other = server_->Post("/dispatch", ShellBody("echo other", "key-1"));
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(Str(server_->WaitTerminal(keyed), "status"), "COMPLETED");
  ids.push_back(keyed);
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(ListAll("limit=2"), newest_first);
  EXPECT_EQ(ListAll("limit=3&status=COMPLETED&agent=shell"), newest_first);
  EXPECT_FALSE(fs::exists(dirs_[0] + "/outpost.db")) << "no SQLite store beside DynamoDB";

  // A run in flight when the server is killed is finished by the restarted one.
  const std::string slow = server_->Dispatch(ShellBody("sleep 2; echo slow"));
  ASSERT_FALSE(slow.empty());
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(slow), "status") == "RUNNING"; },
                      std::chrono::seconds(30)));
  server_->Signal(SIGKILL);
  server_->Wait();
  server_ = Start(dirs_[0], false);  // the tables exist now: no flag needed
  EXPECT_EQ(Str(server_->WaitTerminal(slow), "status"), "COMPLETED");
  newest_first.insert(newest_first.begin(), slow);
  EXPECT_EQ(ListAll("limit=4"), newest_first);

  // Another server with an empty data dir sees every run: they are in DynamoDB.
  server_.reset();
  server_ = Start(dirs_[1], false);
  EXPECT_EQ(ListAll("limit=100"), newest_first);
  json::object run = server_->Run(ids[0]);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(Str(run, "task"), "echo run-0");
  HttpResponse health = server_->Get("/health/ready");
  EXPECT_EQ(health.status, 200) << health.body;
  // The run store's DynamoDB calls are counted, by operation, on /metrics.
  HttpResponse metrics = server_->Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("outpost_dynamodb_calls_total{operation=\"Query\"} "),
            std::string::npos)
      << metrics.body;
}

}  // namespace
}  // namespace outpost::testing
