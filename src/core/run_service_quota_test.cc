// RunService under quotas (quota/quota_policy.h) and with an audit log (core/auditor.h), on a
// real SQLite store and a simulated clock: the timeout maximum, store admission with its retry
// hint, per-key quotas, a fan-out refused whole, and what the audit log holds.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "agents/agent.h"
#include "common/ids.h"
#include "core/auditor.h"
#include "core/quota_sweeper.h"
#include "core/run_service.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_run_store.h"
#include "wire/dispatch_request_json.h"

namespace outpost {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

// An audit log whose every write fails (a store outage).
class BrokenAuditLog final : public AuditLog {
 public:
  Status Append(const AuditRecord&) override {
    return broken ? Unavailable("the audit table is gone") : Status::Ok();
  }
  Result<AuditPage> List(const AuditQuery&) override { return Unavailable("gone"); }
  Result<int> Prune(WallTime) override { return 0; }
  std::atomic<bool> broken{true};
};

// The real audit log, with its prunes counted.
class CountingAuditLog final : public AuditLog {
 public:
  explicit CountingAuditLog(AuditLog& inner) : inner_(inner) {}
  Status Append(const AuditRecord& r) override { return inner_.Append(r); }
  Result<AuditPage> List(const AuditQuery& q) override { return inner_.List(q); }
  Result<int> Prune(WallTime before) override {
    ++prunes;
    return inner_.Prune(before);
  }
  std::atomic<int> prunes{0};

 private:
  AuditLog& inner_;
};

class RunServiceQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("quota-" + NewUlid(RealClock::Instance().Now()));
    fs::create_directories(root_);
    auto s = SqliteRunStore::Open(root_ + "/outpost.db");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto a = SqliteAuditLog::Open(root_ + "/outpost.db");
    ASSERT_TRUE(a.ok());
    audit_log_ = std::move(*a);
    opts_ = DefaultOptions();
    opts_.agents.clear();
    for (const char* name : {"alpha", "beta", "gamma"}) {
      AgentOptions agent;
      agent.name = name;
      agent.command = {"/bin/true", "{task}"};
      agent.models = {"m"};
      opts_.agents[name] = agent;
    }
    Rebuild();
  }
  void TearDown() override { fs::remove_all(root_); }

  void Rebuild(AuditLog* log = nullptr) {
    agents_ = std::make_unique<AgentRegistry>(opts_);
    service_ = std::make_unique<RunService>(*store_, *agents_, clock_, opts_, nullptr);
    auditor_ = std::make_unique<Auditor>(log ? *log : *audit_log_, clock_);
    service_->SetAuditor(auditor_.get());
  }

  static RequestContext Ctx(std::string request_id, std::string tenant = "default",
                            std::string key = "") {
    RequestContext c;
    c.request_id = std::move(request_id);
    c.tenant = std::move(tenant);
    c.key_id = std::move(key);
    c.client_address = "127.0.0.1:4242";
    return c;
  }

  Result<DispatchOutcome> Dispatch(const std::string& body, const RequestContext& ctx) {
    clock_.Advance(Millis(1));  // runs in creation order (ULIDs order within a millisecond
                                // at random)
    return service_->Dispatch(wire::DecodeDispatchRequest(json::parse(body)), ctx);
  }

  std::vector<AuditRecord> Records(const std::string& tenant = "default") {
    AuditQuery q;
    q.tenant = tenant;
    q.oldest_first = true;
    q.limit = 1000;
    auto page = audit_log_->List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->records : std::vector<AuditRecord>{};
  }

  std::size_t RunCount() {
    ListQuery q;
    q.limit = 100;
    return store_->List(q)->runs.size();
  }

  std::string root_;
  SimulatedClock clock_;  // 2023-11-14T22:13:20Z
  Options opts_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteAuditLog> audit_log_;
  std::unique_ptr<AgentRegistry> agents_;
  std::unique_ptr<RunService> service_;
  std::unique_ptr<Auditor> auditor_;
};

TEST_F(RunServiceQuotaTest, ATimeoutAboveTheMaximumIsAValidationErrorNamingTheLimit) {
  opts_.quotas.defaults.max_timeout_seconds = 300;
  Rebuild();
  auto out = Dispatch(R"({"agent":"alpha","task":"t","timeoutSeconds":301})", Ctx("r1"));
  ASSERT_EQ(out.status().code(), Code::kInvalidArgument) << out.status().ToString();
  const std::string details = json::serialize(out.status().details());
  EXPECT_NE(details.find(R"("path":"timeoutSeconds")"), std::string::npos) << details;
  EXPECT_NE(details.find("at most 300"), std::string::npos) << details;
  EXPECT_EQ(out.status().details().at("limit").as_int64(), 300);
  EXPECT_EQ(RunCount(), 0u);
  auto ok = Dispatch(R"({"agent":"alpha","task":"t","timeoutSeconds":300})", Ctx("r2"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->run.timeout_seconds, 300);
  auto dflt = Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r3"));  // default 600 -> 300
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->run.timeout_seconds, 300);
}

TEST_F(RunServiceQuotaTest, ConcurrentRefusalCarriesTheQuotaAndARetryHint) {
  opts_.quotas.defaults.max_concurrent_runs = 1;
  Rebuild();
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1")).ok());
  auto refused = Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r2"));
  ASSERT_EQ(refused.status().code(), Code::kResourceExhausted) << refused.status().ToString();
  const auto& d = refused.status().details();
  EXPECT_EQ(d.at("quota").as_string(), "concurrent_runs");
  EXPECT_EQ(d.at("limit").as_int64(), 1);
  EXPECT_EQ(d.at("current").as_int64(), 1);
  EXPECT_EQ(d.at("retryAfterSeconds").as_int64(), 10);
  EXPECT_EQ(RunCount(), 1u);
  // Another tenant has its own count.
  EXPECT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r3", "acme")).ok());
}

TEST_F(RunServiceQuotaTest, ADailyRefusalIsToldToWaitUntilTheNextUtcDay) {
  opts_.quotas.defaults.max_runs_per_day = 1;
  Rebuild();
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1")).ok());
  auto refused = Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r2"));
  ASSERT_EQ(refused.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(refused.status().details().at("quota").as_string(), "runs_per_day");
  EXPECT_EQ(refused.status().details().at("retryAfterSeconds").as_int64(), 6400);  // 22:13:20
  clock_.Advance(std::chrono::seconds(6400));
  EXPECT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r3")).ok());
}

TEST_F(RunServiceQuotaTest, AKeyOverrideCountsThatKeysRuns) {
  opts_.quotas.defaults.max_concurrent_runs = 10;
  opts_.quotas.keys["k1"].max_concurrent_runs = 1;
  Rebuild();
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1", "default", "k1")).ok());
  EXPECT_EQ(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r2", "default", "k1")).status().code(),
            Code::kResourceExhausted);
  EXPECT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r3", "default", "k2")).ok());
  ListQuery q;
  auto runs = store_->List(q);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->runs.size(), 2u);
  EXPECT_EQ(runs->runs[1].key_id, "k1");
}

TEST_F(RunServiceQuotaTest, AFanOutThatDoesNotFitIsRefusedWhole) {
  opts_.quotas.defaults.max_concurrent_runs = 2;
  Rebuild();
  auto refused = Dispatch(R"({"agent":["alpha","beta","gamma"],"task":"t"})", Ctx("r1"));
  ASSERT_EQ(refused.status().code(), Code::kResourceExhausted) << refused.status().ToString();
  EXPECT_EQ(refused.status().details().at("current").as_int64(), 0);
  EXPECT_EQ(RunCount(), 0u);
  auto fits = Dispatch(R"({"agent":["alpha","beta"],"task":"t"})", Ctx("r2"));
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(fits->group.size(), 2u);
  EXPECT_EQ(RunCount(), 2u);
}

TEST_F(RunServiceQuotaTest, TheAuditLogHoldsDispatchesCancelsAndTransitionsButNoTaskBody) {
  opts_.quotas.defaults.max_concurrent_runs = 1;
  Rebuild();
  auto out = Dispatch(R"({"agent":"alpha","task":"TOP-SECRET-TASK-BODY"})", Ctx("req-dispatch"));
  ASSERT_TRUE(out.ok());
  const std::string id = out->run.id.str();
  ASSERT_EQ(Dispatch(R"({"agent":"alpha","task":"TOP-SECRET-TASK-BODY"})", Ctx("req-refused"))
                .status()
                .code(),
            Code::kResourceExhausted);
  ASSERT_FALSE(Dispatch(R"({"agent":"nope","task":"TOP-SECRET-TASK-BODY"})", Ctx("req-bad")).ok());
  auto cancel = service_->Cancel(id, "operator says stop", Ctx("req-cancel"));
  ASSERT_TRUE(cancel.ok()) << cancel.status().ToString();

  std::vector<AuditRecord> recs = Records();
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].action, "run.dispatch");
  EXPECT_EQ(recs[0].resource, "run:" + id);
  EXPECT_EQ(recs[0].request_id, "req-dispatch");
  EXPECT_EQ(recs[0].client_address, "127.0.0.1:4242");
  EXPECT_EQ(recs[0].outcome, "success");
  EXPECT_EQ(recs[1].request_id, "req-refused");
  EXPECT_EQ(recs[1].outcome, "denied");
  EXPECT_EQ(recs[1].error_code, "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(recs[1].details.at("quota").as_string(), "concurrent_runs");
  EXPECT_EQ(recs[2].outcome, "error");
  EXPECT_EQ(recs[2].error_code, "VALIDATION_ERROR");
  EXPECT_EQ(json::serialize(recs[2].details.at("fields")), R"(["agent"])");
  EXPECT_EQ(recs[3].action, "run.status_changed");
  EXPECT_EQ(recs[3].request_id, "req-cancel");
  EXPECT_EQ(json::serialize(recs[3].details.at("to")), R"("CANCELLED")");
  EXPECT_EQ(recs[4].action, "run.cancel");
  EXPECT_EQ(recs[4].resource, "run:" + id);
  EXPECT_EQ(recs[4].outcome, "success");
  for (const AuditRecord& r : recs) {
    const std::string raw = json::serialize(AuditRecordToJson(r));
    EXPECT_EQ(raw.find("TOP-SECRET"), std::string::npos) << raw;
  }
  EXPECT_TRUE(Records("acme").empty());
}

// The reason's limit is in characters (code points), not bytes: 300 CJK characters are 900 bytes.
TEST_F(RunServiceQuotaTest, ACancelReasonIsJudgedInCharacters) {
  auto cjk = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "\xe4\xb8\xad";  // U+4E2D
    return s;
  };
  auto out = Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string id = out->run.id.str();
  auto refused = service_->Cancel(id, cjk(501), Ctx("r2"));
  ASSERT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(json::serialize(refused.status().details()),
            R"j({"errors":[{"path":"reason","message":"must be at most 500 characters"}]})j");
  EXPECT_EQ(service_->Get(id, Ctx("r3"))->status, RunStatus::kPending);  // unchanged
  auto cancelled = service_->Cancel(id, cjk(500), Ctx("r4"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->run.cancel_reason, cjk(500));
}

TEST_F(RunServiceQuotaTest, AFailingAuditLogNeverFailsTheOperationAndIsCounted) {
  BrokenAuditLog broken;
  Rebuild(&broken);
  auto out = Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(service_->Cancel(out->run.id.str(), std::nullopt, Ctx("r2")).ok());
  EXPECT_EQ(auditor_->write_failures(), 3);  // dispatch, transition, cancel
  HealthReport h = service_->Health();
  ASSERT_TRUE(h.audit.has_value());
  EXPECT_EQ(h.audit->check.status, "warn");
  EXPECT_EQ(h.audit->write_failures, 3);
  EXPECT_EQ(h.status, "degraded");
}

// Issue 18 item 10: once audit writes succeed again (the disk has room), /health is back; the
// failures stay counted. Before, one failed write kept /health degraded until a restart.
TEST_F(RunServiceQuotaTest, Item10_HealthRecoversWhenAuditWritesSucceedAgain) {
  const std::string before = service_->Health().status;
  BrokenAuditLog broken;
  Rebuild(&broken);
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r1")).ok());
  EXPECT_EQ(service_->Health().status, "degraded");
  broken.broken = false;
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("r2")).ok());
  HealthReport h = service_->Health();
  ASSERT_TRUE(h.audit.has_value());
  EXPECT_EQ(h.audit->check.status, "pass");
  EXPECT_EQ(h.audit->write_failures, 1);
  EXPECT_EQ(h.status, before);
}

TEST_F(RunServiceQuotaTest, ListingIsTheCallersTenantOnlyAndValidatesParameters) {
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("a1", "acme")).ok());
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("b1", "blue")).ok());
  auto page = auditor_->List({{"limit", "10"}}, Ctx("x", "acme"));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].request_id, "a1");
  auto bad = auditor_->List({{"limit", "0"}, {"since", "yesterday"}, {"tenant", "blue"}},
                            Ctx("x", "acme"));
  ASSERT_EQ(bad.status().code(), Code::kInvalidArgument);
  const std::string errors = json::serialize(bad.status().details());
  for (const char* field : {"limit", "since", "tenant"}) {
    EXPECT_NE(errors.find(std::string("\"path\":\"") + field + "\""), std::string::npos) << errors;
  }
}

TEST_F(RunServiceQuotaTest, TheSweeperPrunesAuditRecordsPastRetention) {
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("old")).ok());
  clock_.Advance(std::chrono::hours(24 * 8));
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("new")).ok());
  QuotaSweeper sweeper(*store_, audit_log_.get(), clock_, std::chrono::hours(24 * 7));
  QuotaSweeperStats stats = sweeper.SweepOnce();
  EXPECT_EQ(stats.audit_pruned, 1);
  EXPECT_EQ(stats.quota_freed, 0);
  std::vector<AuditRecord> left = Records();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].request_id, "new");
}

// The sweeper's own thread on simulated time: a pass at start and every minute after, the audit
// log pruned at the first pass and then once an hour, to the minute.
TEST_F(RunServiceQuotaTest, TheRunningSweeperPassesEveryIntervalAndPrunesHourly) {
  CountingAuditLog counting(*audit_log_);
  Rebuild(&counting);
  ASSERT_TRUE(Dispatch(R"({"agent":"alpha","task":"t"})", Ctx("old")).ok());
  QuotaSweeper sweeper(*store_, &counting, clock_, std::chrono::hours(24 * 7),
                       std::chrono::minutes(1));
  sweeper.Start();
  ASSERT_TRUE(clock_.AwaitBlocked(1));  // the first pass is over
  EXPECT_EQ(counting.prunes, 1);
  EXPECT_EQ(clock_.NextDeadline(), clock_.Mono() + std::chrono::minutes(1));
  for (int minute = 1; minute < 60; ++minute) {
    clock_.Advance(std::chrono::minutes(1));
    ASSERT_TRUE(clock_.AwaitBlocked(1)) << minute;  // that pass is over
  }
  EXPECT_EQ(counting.prunes, 1);
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(counting.prunes, 2);
  EXPECT_EQ(Records().size(), 1u);
  clock_.Advance(std::chrono::hours(24 * 8));  // the record is past retention at the next pass
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(counting.prunes, 3);
  EXPECT_TRUE(Records().empty());
  sweeper.Stop();
  EXPECT_EQ(clock_.blocked(), 0u);
  Rebuild();  // the auditor must not outlive `counting`
}

}  // namespace
}  // namespace outpost
