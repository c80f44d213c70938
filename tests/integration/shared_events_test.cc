// Issue 19: every run's events in the shared event log, read the same on every replica. Two
// `outpost serve` processes on one store (one SQLite file, separate data dirs, as
// replicas_test.cc): a follower on B sees a run started on A live, to its `end`; a run whose
// replica is killed (-9) keeps the events it reported, readable from the survivor, which ends it
// node_lost and stores an output.log equal to its stdout output events.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_fixture.h"
#include "tests/integration/sse_client.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

class SharedEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    std::ofstream(root_ + "/outpost.toml") << "[server]\nrunner = \"process\"\n"
                                           << "lease_seconds = 3\n"
                                           << "cancel_grace_seconds = 1\n";
  }
  void TearDown() override {
    for (auto& r : replicas_) r.reset();
    for (const char* name : {"a", "b"}) KillRunsUnder(root_ + "/" + name);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::unique_ptr<ServerProcess> StartReplica(const std::string& name) {
    fs::create_directories(root_ + "/" + name);
    return ServerProcess::Start(root_ + "/" + name,
                                {{"OUTPOST_CONFIG", root_ + "/outpost.toml"},
                                 {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"},
                                 {"OUTPOST_REPLICA_ID", "replica-" + name}});
  }
  static std::string Body(const std::string& task) {
    return json::serialize(
        json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 120}});
  }
  // The stdout of a stream's output events, concatenated.
  static std::string Stdout(const std::vector<SseMessage>& got) {
    std::string out;
    for (const SseMessage& m : got) {
      if (m.event != "output") continue;
      json::object o = json::parse(m.data).as_object();
      if (Str(o, "stream") == "stdout") out += Str(o, "data");
    }
    return out;
  }
  // Every message once, with ids 1, 2, 3, …, ending with `end`.
  static void ExpectWholeStream(const std::vector<SseMessage>& got) {
    ASSERT_FALSE(got.empty());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, static_cast<std::int64_t>(i) + 1) << got[i].data;
    }
    EXPECT_EQ(got.back().event, "end");
  }

  std::string root_;
  std::unique_ptr<ServerProcess> replicas_[2];
};

TEST_F(SharedEventsTest, AFollowerOnAnotherReplicaSeesTheRunLiveToItsEnd) {
  auto& a = replicas_[0];
  auto& b = replicas_[1];
  a = StartReplica("a");
  b = StartReplica("b");
  // The run prints, then waits for the test: what B's follower sees before the gate opens was
  // streamed live.
  const std::string gate = root_ + "/gate";
  const std::string id = a->Dispatch(
      Body("echo first; while [ ! -e " + gate + " ]; do sleep 0.02; done; echo second"));
  ASSERT_FALSE(id.empty());
  SseClient follower(b->address(), "/runs/" + id + "/events");
  std::vector<SseMessage> got;
  follower.Read([&](const SseMessage& m) {
    got.push_back(m);
    return Stdout(got) != "first\n";
  });
  ASSERT_EQ(Stdout(got), "first\n");
  EXPECT_EQ(Str(b->Run(id), "status"), "RUNNING");
  EXPECT_FALSE(fs::exists(root_ + "/b/runs/" + id));  // nothing of it on B: the log only
  std::ofstream(gate) << "open";
  EXPECT_TRUE(follower.Read([&](const SseMessage& m) {
    got.push_back(m);
    return true;
  }));
  ExpectWholeStream(got);
  EXPECT_EQ(Stdout(got), "first\nsecond\n");
  EXPECT_EQ(Str(json::parse(got[got.size() - 2].data).as_object(), "status"), "COMPLETED");
  // The log pages read the same from both replicas.
  EXPECT_EQ(b->Get("/runs/" + id + "/logs").Json().at("data").at("entries"),
            a->Get("/runs/" + id + "/logs").Json().at("data").at("entries"));
}

TEST_F(SharedEventsTest, ALostReplicasRunKeepsItsEventsAndItsOutputLogIsMadeFromThem) {
  auto& a = replicas_[0];
  auto& b = replicas_[1];
  a = StartReplica("a");
  b = StartReplica("b");
  const std::string id = a->Dispatch(Body("echo before the loss; echo two; sleep 120"));
  ASSERT_FALSE(id.empty());
  {  // B sees what the run reported before A dies
    SseClient follower(b->address(), "/runs/" + id + "/events");
    std::vector<SseMessage> got;
    follower.Read([&](const SseMessage& m) {
      got.push_back(m);
      return Stdout(got) != "before the loss\ntwo\n";
    });
    ASSERT_EQ(Stdout(got), "before the loss\ntwo\n");
  }
  a->Signal(SIGKILL);
  a->Wait();
  a.reset();
  json::object lost = b->WaitTerminal(id, seconds(30));
  EXPECT_EQ(Str(lost, "reason"), "node_lost") << json::serialize(lost);

  SseClient follower(b->address(), "/runs/" + id + "/events");
  std::vector<SseMessage> got;
  EXPECT_TRUE(follower.Read([&](const SseMessage& m) {
    got.push_back(m);
    return true;
  }));
  ExpectWholeStream(got);
  const std::string reported = Stdout(got);
  EXPECT_EQ(reported, "before the loss\ntwo\n");
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(Str(json::parse(got[got.size() - 2].data).as_object(), "reason"), "node_lost");

  // The survivor stores the artifacts: output.log is the stdout of the log's output events.
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string s = Str(b->Run(id), "artifactsStatus");
        return s == "stored" || s == "partial";
      },
      seconds(60)));
  HttpResponse r = b->Get("/runs/" + id + "/artifacts?expiresIn=120");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object data = r.Json().at("data").as_object();
  EXPECT_EQ(Str(data, "artifactsStatus"), "stored") << json::serialize(data);
  bool found = false;
  for (const auto& v : data.at("artifacts").as_array()) {
    const json::object& art = v.as_object();
    if (Str(art, "name") != "output.log") continue;
    found = true;
    const std::string url = Str(art, "url");
    const std::string rest = url.substr(url.find("://") + 3);
    HttpResponse body = Http(rest.substr(0, rest.find('/')), "GET", rest.substr(rest.find('/')));
    EXPECT_EQ(body.status, 200);
    EXPECT_EQ(body.body, reported);
  }
  EXPECT_TRUE(found) << json::serialize(data);
}

}  // namespace
}  // namespace outpost::testing
