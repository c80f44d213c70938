// Admission and the audit log on DynamoDB (dynalite), beyond the shared suites: racing replicas,
// the slot and day-counter items themselves, the sweeper's repair of what a crash leaves, a
// fan-out withdrawn whole; and the AuditLogConformance suite.
#include <atomic>
#include <latch>
#include <thread>

#include "aws/http.h"
#include "common/time_util.h"
#include "store/admission.h"
#include "store/audit_log_conformance.h"
#include "store/dynamodb/dynamodb_audit_log.h"
#include "store/dynamodb/dynamodb_items.h"
#include "store/dynamodb/dynamodb_test_env.h"

namespace outpost::dynamodb {
namespace {

namespace ddb = aws::ddb;
using namespace testing_env;  // NOLINT: test support

// The log borrows the store's client: keep both.
class OwningAuditLog final : public AuditLog {
 public:
  OwningAuditLog(std::unique_ptr<DynamoDbRunStore> store, std::unique_ptr<DynamoDbAuditLog> log)
      : store_(std::move(store)), log_(std::move(log)) {}
  Status Append(const AuditRecord& r) override { return log_->Append(r); }
  Result<AuditPage> List(const AuditQuery& q) override { return log_->List(q); }
  Result<int> Prune(WallTime t) override { return log_->Prune(t); }

 private:
  std::unique_ptr<DynamoDbRunStore> store_;
  std::unique_ptr<DynamoDbAuditLog> log_;
};

std::unique_ptr<AuditLog> NewDynaliteAuditLog() {
  auto store = OpenStore(UniquePrefix(), RealClock::Instance());
  if (!store) return nullptr;
  DynamoDbAuditOptions o;
  o.create_table = true;
  auto log = DynamoDbAuditLog::Open(*store, RealClock::Instance(), o);
  if (!log.ok()) {
    ADD_FAILURE() << log.status().ToString();
    return nullptr;
  }
  return std::make_unique<OwningAuditLog>(std::move(store), std::move(*log));
}

INSTANTIATE_TEST_SUITE_P(Dynalite, AuditLogConformance,
                         ::testing::Values(AuditLogFactory(&NewDynaliteAuditLog)));

Admission Concurrent(int max) {
  Admission a;
  a.concurrent = RunQuota{RunQuota::Scope::kTenant, max};
  return a;
}

class DynamoDbQuotaTest : public ::testing::Test {
 protected:
  using Run = ::outpost::Run;

  void SetUp() override {
    ASSERT_TRUE(Server().ok()) << Server().error();
    prefix_ = UniquePrefix();
  }

  Run NewRun() {
    ids_clock_.Advance(std::chrono::seconds(1));
    Run r;
    r.id = RunId(NewUlid(ids_clock_.Now()));
    r.agent = "shell";
    r.task = "echo hi";
    r.request_hash = "hash-" + r.id.str();
    r.created_at = ids_clock_.Now();
    return r;
  }

  // Every item of one partition of the quotas table.
  std::vector<ddb::Item> Partition(const DynamoDbRunStore& store, const std::string& pk) {
    aws::QueryRequest q;
    q.table = store.tables().quotas;
    q.key_condition = {"#pk = :pk", {{"#pk", "pk"}}, {{":pk", ddb::S(pk)}}};
    q.consistent = true;
    auto page = store.client().Query(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<ddb::Item>{};
  }

  SimulatedClock ids_clock_;
  std::string prefix_;
};

TEST_F(DynamoDbQuotaTest, TwoReplicasBurstingAgainstOneQuotaAdmitExactlyTheLimit) {
  auto a = OpenStore(prefix_, RealClock::Instance());
  auto b = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(a && b);
  constexpr int kBurst = 10, kLimit = 3;
  std::vector<Run> runs;
  for (int i = 0; i < kBurst; ++i) runs.push_back(NewRun());
  std::atomic<int> created{0}, refused{0};
  std::latch start(kBurst);
  std::vector<std::thread> threads;
  for (int i = 0; i < kBurst; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto c = (i % 2 ? *a : *b).CreateAll({runs[static_cast<std::size_t>(i)]}, Concurrent(kLimit));
      if (c.ok()) ++created;
      if (c.status().code() == Code::kResourceExhausted) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kLimit);
  EXPECT_EQ(refused.load(), kBurst - kLimit);
  EXPECT_EQ(Partition(*a, "slots#tenant#default").size(), static_cast<std::size_t>(kLimit));
}

TEST_F(DynamoDbQuotaTest, ARunNamesItsSlotAndItsTerminalWriteDeletesIt) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(store);
  Run r = NewRun();
  ASSERT_TRUE(store->CreateAll({r}, Concurrent(2)).ok());
  auto stored = store->Get(r.id);
  ASSERT_TRUE(stored.ok());
  auto slots = Partition(*store, "slots#tenant#default");
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(ddb::GetS(slots[0], "run_id"), r.id.str());
  EXPECT_EQ(stored->quota_slot, "slots#tenant#default|" + *ddb::GetS(slots[0], "sk"));
  Run running = *stored;
  running.status = RunStatus::kRunning;
  auto u = store->Update(running);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(Partition(*store, "slots#tenant#default").size(), 1u) << "RUNNING keeps its slot";
  Run done = *u;
  done.status = RunStatus::kCompleted;
  auto ended = store->Update(done);
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_TRUE(ended->quota_slot.empty());
  EXPECT_TRUE(store->Get(r.id)->quota_slot.empty());
  EXPECT_TRUE(Partition(*store, "slots#tenant#default").empty());
}

TEST_F(DynamoDbQuotaTest, TheDayCounterCountsEachRunAndExpires) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(store);
  Admission day;
  day.per_day = RunQuota{RunQuota::Scope::kTenant, 5};
  Run a = NewRun(), b = NewRun();
  b.created_at = a.created_at;
  ASSERT_TRUE(store->CreateAll({a, b}, day).ok());
  auto items = Partition(*store, "day#tenant#default");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(ddb::GetS(items[0], "sk"), UtcDate(a.created_at));
  EXPECT_EQ(ddb::GetN(items[0], "count"), 2);
  EXPECT_EQ(ddb::GetN(items[0], "expires_at"), (UtcDayStartMs(a.created_at) + 3 * kDayMs) / 1000);
}

// Clients retrying one request (same key, same body) at once: one run, and no room left held by
// the ones that lost (a replay, or "retry shortly" while the winner is still being written).
TEST_F(DynamoDbQuotaTest, RacingIdenticalKeyedRequestsHoldOneSlot) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(store);
  constexpr int kRacers = 6;
  std::vector<Run> runs;
  for (int i = 0; i < kRacers; ++i) {
    Run r = NewRun();
    r.idempotency_key = "same";
    r.request_hash = "same-body";
    runs.push_back(r);
  }
  for (Run& r : runs) r.created_at = runs.front().created_at;
  std::atomic<int> created{0};
  std::latch start(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto c = store->CreateAll({runs[static_cast<std::size_t>(i)]}, Concurrent(5));
      if (c.ok() && c->front().created) ++created;
      if (!c.ok()) {
        EXPECT_EQ(c.status().code(), Code::kUnavailable) << c.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  auto slots = Partition(*store, "slots#tenant#default");
  ASSERT_EQ(slots.size(), 1u);
  auto winner = store->Get(RunId(*ddb::GetS(slots[0], "run_id")));
  ASSERT_TRUE(winner.ok()) << "the slot is the created run's";
  EXPECT_EQ(winner->idempotency_key, "same");
}

// A crash between a terminal write and the slot's release, here: every DeleteItem on the quotas
// table fails. The run ends anyway; the sweeper frees the slot.
TEST_F(DynamoDbQuotaTest, TheSweeperFreesSlotsACrashLeftBehind) {
  auto real = aws::MakeHttpSender(Env());
  DynamoDbRunStoreOptions o = TestOptions();
  const std::string quotas_table = prefix_ + "-quotas";
  o.sender = [real, quotas_table](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    bool del = false;
    for (const auto& [name, value] : req.headers) {
      del = del || (name == "X-Amz-Target" && value.ends_with(".DeleteItem"));
    }
    if (del && req.body.find(quotas_table) != std::string::npos) {
      return Status(Code::kInvalidArgument, "injected: the process died here");
    }
    return real(req);
  };
  SimulatedClock clock(RealClock::Instance().Now());
  clock.set_advance_on_sleep(true);  // the store's retries run inline: a backoff moves the clock
  auto crashing = OpenStore(prefix_, clock, o);
  auto store = OpenStore(prefix_, clock);
  ASSERT_TRUE(crashing && store);
  Run r = NewRun();
  ASSERT_TRUE(crashing->CreateAll({r}, Concurrent(1)).ok());
  Run done = *crashing->Get(r.id);
  done.status = RunStatus::kFailed;
  ASSERT_TRUE(crashing->Update(done).ok()) << "a failed release never fails the transition";
  EXPECT_EQ(store->CreateAll({NewRun()}, Concurrent(1)).status().code(), Code::kResourceExhausted);

  // And a slot claimed for a run that was never put (a crash between claim and put).
  ddb::Item orphan{{"pk", ddb::S("slots#tenant#default")},
                   {"sk", ddb::S("000001")},
                   {"run_id", ddb::S(NewUlid(clock.Now()))},
                   {"claimed_ms", ddb::N(ToMillis(clock.Now()))}};
  ASSERT_TRUE(store->client().PutItem(store->tables().quotas, orphan).ok());
  auto freed = store->ReleaseStaleQuota();
  ASSERT_TRUE(freed.ok()) << freed.status().ToString();
  EXPECT_EQ(*freed, 1) << "the terminal run's slot; the young orphan may still get its run";
  EXPECT_EQ(Partition(*store, "slots#tenant#default").size(), 1u);
  clock.Advance(std::chrono::minutes(3));
  freed = store->ReleaseStaleQuota();
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(*freed, 1);
  EXPECT_TRUE(Partition(*store, "slots#tenant#default").empty());
  EXPECT_TRUE(store->CreateAll({NewRun()}, Concurrent(1)).ok());
}

// The second run of a fan-out cannot be put (its id is taken): the first is withdrawn, and the
// room of both is given back.
TEST_F(DynamoDbQuotaTest, AFanOutFailingMidwayIsWithdrawnWhole) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(store);
  Run taken = NewRun();
  ASSERT_TRUE(store->Create(taken).ok());
  Run first = NewRun();
  first.idempotency_key = "k#a";
  Run second = taken;  // same id: the put fails for good
  second.created_at = first.created_at;
  second.request_hash = "other";
  Admission both = Concurrent(5);
  both.per_day = RunQuota{RunQuota::Scope::kTenant, 5};
  auto out = store->CreateAll({first, second}, both);
  EXPECT_EQ(out.status().code(), Code::kConflict) << out.status().ToString();
  EXPECT_EQ(store->Get(first.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(Partition(*store, "slots#tenant#default").empty());
  auto day = Partition(*store, "day#tenant#default");
  ASSERT_EQ(day.size(), 1u);
  EXPECT_EQ(ddb::GetN(day[0], "count"), 0);
  auto claim = store->client().GetItem(store->tables().idempotency,
                                       {{"key", ddb::S(IdempotencyKey("default", "k#a"))}});
  ASSERT_TRUE(claim.ok());
  EXPECT_FALSE(claim->has_value()) << "the withdrawn run's key is free again";
}

}  // namespace
}  // namespace outpost::dynamodb
