// Fan-out dispatch is all or nothing: its runs are created held, released together, and a
// store failure midway cancels the ones already created before anything can start them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "agents/agent.h"
#include "common/ids.h"
#include "core/run_service.h"
#include "store/sqlite/sqlite_run_store.h"
#include "wire/dispatch_request_json.h"

namespace outpost {
namespace {
namespace fs = std::filesystem;

// Passes everything to SQLite, except that Create number `fail_at` (1-based) fails.
class FailingStore final : public RunStore {
 public:
  explicit FailingStore(RunStore& inner) : inner_(inner) {}
  int fail_at = 0;
  int creates = 0;
  std::vector<Run> seen_at_create;  // the runs as created (phase included)

  Result<CreateResult> Create(const outpost::Run& run) override {
    if (++creates == fail_at) return Unavailable("database is locked");
    seen_at_create.push_back(run);
    return inner_.Create(run);
  }
  // Run by run, as a store without transactions would, so that a failure midway leaves the
  // earlier runs behind (the service must cancel them).
  Result<std::vector<CreateResult>> CreateAll(const std::vector<outpost::Run>& runs,
                                              const Admission& admission) override {
    if (!admission.empty()) return inner_.CreateAll(runs, admission);
    std::vector<CreateResult> out;
    for (const outpost::Run& r : runs) {
      auto c = Create(r);
      if (!c.ok()) return c.status();
      out.push_back(std::move(*c));
    }
    return out;
  }
  Result<Run> Get(const RunId& id) override { return inner_.Get(id); }
  Result<RunPage> List(const ListQuery& q) override { return inner_.List(q); }
  Result<Run> Update(const Run& run) override { return inner_.Update(run); }
  Result<std::vector<Run>> ListActive() override { return inner_.ListActive(); }
  Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) override {
    return inner_.Stats(since, tenant);
  }
  Status Ping() override { return inner_.Ping(); }
  Status Heartbeat(const ReplicaInfo& i) override { return inner_.Heartbeat(i); }
  Result<std::vector<ReplicaInfo>> ListReplicas() override { return inner_.ListReplicas(); }

 private:
  RunStore& inner_;
};

class FanOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fanout-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_);
    auto s = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_TRUE(s.ok());
    sqlite_ = std::move(*s);
    opts_ = DefaultOptions();
    opts_.agents.clear();
    for (const char* name : {"alpha", "beta", "gamma"}) {
      AgentOptions a;
      a.name = name;
      a.command = {"/bin/true", "{task}"};
      a.models = {"m"};
      opts_.agents[name] = a;
    }
    store_ = std::make_unique<FailingStore>(*sqlite_);
    agents_ = std::make_unique<AgentRegistry>(opts_);
    service_ = std::make_unique<RunService>(*store_, *agents_, clock_, opts_, nullptr);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<DispatchOutcome> FanOut() {
    return service_->Dispatch(wire::DecodeDispatchRequest(boost::json::parse(
                                  R"({"agent":["alpha","beta","gamma"],"task":"t"})")),
                              RequestContext{});
  }
  std::vector<outpost::Run> All() {
    ListQuery q;
    q.limit = 100;
    return sqlite_->List(q)->runs;
  }

  std::string root_;
  SimulatedClock clock_;
  Options opts_;
  std::unique_ptr<SqliteRunStore> sqlite_;
  std::unique_ptr<FailingStore> store_;
  std::unique_ptr<AgentRegistry> agents_;
  std::unique_ptr<RunService> service_;
};

TEST_F(FanOutTest, RunsAreCreatedHeldAndReleasedTogether) {
  auto out = FanOut();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->group.size(), 3u);
  for (const outpost::Run& r : store_->seen_at_create) EXPECT_EQ(r.phase, RunPhase::kHeld);
  std::vector<outpost::Run> all = All();
  ASSERT_EQ(all.size(), 3u);
  for (const outpost::Run& r : all) {
    EXPECT_EQ(r.status, RunStatus::kPending);
    EXPECT_EQ(r.phase, RunPhase::kQueued) << r.id.str();
    EXPECT_EQ(r.group_id, out->group_id);
  }
}

TEST_F(FanOutTest, AStoreFailureMidwayCancelsTheRunsAlreadyCreated) {
  store_->fail_at = 3;
  auto out = FanOut();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kUnavailable);
  std::vector<outpost::Run> all = All();
  ASSERT_EQ(all.size(), 2u);
  for (const outpost::Run& r : all) {
    EXPECT_EQ(r.status, RunStatus::kCancelled) << r.id.str();
    EXPECT_NE(r.cancel_reason.value_or("").find("fan-out"), std::string::npos);
    EXPECT_FALSE(r.started_at.has_value());
  }
}

}  // namespace
}  // namespace outpost
