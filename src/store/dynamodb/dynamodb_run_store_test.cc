// The dynamodb:// RunStore: the shared RunStore conformance suite against a real dynalite
// started by this binary (each test on fresh tables under a unique prefix), and what is
// particular to DynamoDB: racing writers from separate store instances (replicas), the
// idempotency crash window, retried writes whose first attempt landed, the TTL attribute,
// missing tables and URL parsing.
#include "store/dynamodb/dynamodb_run_store.h"

#include <atomic>
#include <boost/json.hpp>
#include <functional>

#include "aws/dynalite_fixture.h"
#include "aws/http.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_items.h"
#include "store/dynamodb/dynamodb_schema.h"
#include "store/dynamodb/dynamodb_test_env.h"
#include "store/run_store_conformance.h"

namespace outpost::dynamodb {
namespace {

namespace ddb = aws::ddb;
using aws::testing::Dynalite;
using namespace testing_env;  // NOLINT: test support

std::unique_ptr<RunStore> NewDynaliteStore() {
  return OpenStore(UniquePrefix(), RealClock::Instance());
}

INSTANTIATE_TEST_SUITE_P(Dynalite, RunStoreConformance,
                         ::testing::Values(RunStoreFactory(&NewDynaliteStore)));

class DynamoDbRunStoreTest : public ::testing::Test {
 protected:
  using Run = ::outpost::Run;  // gtest's Test::Run() would hide it in test bodies

  void SetUp() override {
    ASSERT_TRUE(Server().ok()) << Server().error();
    prefix_ = UniquePrefix();
  }

  Run NewRun() {
    ids_clock_.Advance(std::chrono::seconds(1));
    Run r;
    r.id = RunId(NewUlid(ids_clock_.Now()));
    r.agent = "shell";
    r.model_id = "default";
    r.task = "echo hi";
    r.request_hash = "hash-" + r.id.str();
    r.created_at = ids_clock_.Now();
    return r;
  }

  SimulatedClock ids_clock_;
  std::string prefix_;
};

TEST_F(DynamoDbRunStoreTest, RacingTerminalWritersOnSeparateReplicasExactlyOneWins) {
  auto a = OpenStore(prefix_, RealClock::Instance());
  auto b = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(a && b);
  for (int round = 0; round < 5; ++round) {
    Run r = NewRun();
    r.status = RunStatus::kRunning;
    ASSERT_TRUE(a->Create(r).ok());
    constexpr int kWriters = 6;
    std::vector<Result<Run>> results(kWriters, Result<Run>(Internal("not run")));
    std::latch start(kWriters);
    std::vector<std::thread> threads;
    for (int i = 0; i < kWriters; ++i) {
      threads.emplace_back([&, i] {
        Run mine = r;
        mine.status = i % 2 == 0 ? RunStatus::kCompleted : RunStatus::kCancelled;
        mine.exit_code = i;
        start.arrive_and_wait();
        results[static_cast<std::size_t>(i)] = (i % 2 == 0 ? *a : *b).Update(mine);
      });
    }
    for (auto& t : threads) t.join();
    int winner = -1;
    for (int i = 0; i < kWriters; ++i) {
      const auto& res = results[static_cast<std::size_t>(i)];
      if (res.ok()) {
        EXPECT_EQ(winner, -1) << "two winners: " << winner << " and " << i;
        winner = i;
      } else {
        EXPECT_EQ(res.status().code(), Code::kConflict) << res.status().ToString();
      }
    }
    ASSERT_NE(winner, -1);
    auto stored = b->Get(r.id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->exit_code, winner);
    EXPECT_EQ(stored->version, r.version + 1);
  }
}

TEST_F(DynamoDbRunStoreTest, IdempotencyClaimWithoutItsRunIsRepairedAfterTheGrace) {
  SimulatedClock clock(RealClock::Instance().Now());
  clock.set_advance_on_sleep(true);  // the store's retries run inline: a backoff moves the clock
  auto store = OpenStore(prefix_, clock);
  ASSERT_TRUE(store);
  Run r = NewRun();
  r.idempotency_key = "key-1";
  r.request_hash = "h1";
  // What a request that crashed between claiming the key and putting its run leaves behind.
  ddb::Item claim{{"key", ddb::S(IdempotencyKey(r.tenant, "key-1"))},
                  {"run_id", ddb::S(NewUlid(clock.Now()))},
                  {"request_hash", ddb::S("h1")},
                  {"reserved_ms", ddb::N(ToMillis(clock.Now()))}};
  ASSERT_TRUE(store->client().PutItem(store->tables().idempotency, claim).ok());

  // Within the grace the first request may still be completing: retry later.
  auto early = store->Create(r);
  EXPECT_EQ(early.status().code(), Code::kUnavailable) << early.status().ToString();
  EXPECT_EQ(store->Get(r.id).status().code(), Code::kNotFound);
  // Another body with the same key is refused whatever the state of the claim.
  Run other = r;
  other.request_hash = "h2";
  EXPECT_EQ(store->Create(other).status().code(), Code::kConflict);

  clock.Advance(std::chrono::minutes(2));
  auto repaired = store->Create(r);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->created);
  EXPECT_EQ(repaired->run, r);
  EXPECT_EQ(*store->Get(r.id), r);

  Run again = NewRun();
  again.idempotency_key = "key-1";
  again.request_hash = "h1";
  auto replay = store->Create(again);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run, r);
}

TEST_F(DynamoDbRunStoreTest, FailedRunPutReleasesTheClaim) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(store);
  Run existing = NewRun();
  ASSERT_TRUE(store->Create(existing).ok());
  Run clash = existing;  // same id, another request: the run put fails for good
  clash.task = "other";
  clash.idempotency_key = "k";
  EXPECT_EQ(store->Create(clash).status().code(), Code::kConflict);
  auto claim = store->client().GetItem(store->tables().idempotency,
                                       {{"key", ddb::S(IdempotencyKey("default", "k"))}});
  ASSERT_TRUE(claim.ok());
  EXPECT_FALSE(claim->has_value()) << "the claim of a run that could not be stored is released";
}

// A transport that performs each write but loses the first answer of every PutItem, as a
// network failure after DynamoDB committed would: the retry then meets its own first attempt.
TEST_F(DynamoDbRunStoreTest, RetriedWritesWhoseFirstAttemptLandedSucceed) {
  auto real = aws::MakeHttpSender(Env());
  auto lost = std::make_shared<std::atomic<int>>(0);
  auto puts = std::make_shared<std::atomic<int>>(0);
  DynamoDbRunStoreOptions o = TestOptions();
  o.sender = [real, lost, puts](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    auto response = real(req);
    bool put = false;
    for (const auto& [name, value] : req.headers) {
      put = put || (name == "X-Amz-Target" && value.ends_with(".PutItem"));
    }
    if (put && (*puts)++ % 2 == 0) {
      ++*lost;
      return Unavailable("connection reset by peer");
    }
    return response;
  };
  auto store = OpenStore(prefix_, RealClock::Instance(), o);
  ASSERT_TRUE(store);
  Run r = NewRun();
  auto created = store->Create(r);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  r.status = RunStatus::kCompleted;
  auto updated = store->Update(r);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, r.version + 1);
  Run keyed = NewRun();
  keyed.idempotency_key = "k";
  auto idem = store->Create(keyed);
  ASSERT_TRUE(idem.ok()) << idem.status().ToString();
  EXPECT_TRUE(idem->created);
  EXPECT_GE(lost->load(), 3);
}

TEST_F(DynamoDbRunStoreTest, EndedRunsCarryTheTtlAttribute) {
  DynamoDbRunStoreOptions o = TestOptions();
  o.retention = std::chrono::hours(24);
  auto store = OpenStore(prefix_, RealClock::Instance(), o);
  ASSERT_TRUE(store);
  Run r = NewRun();
  ASSERT_TRUE(store->Create(r).ok());
  auto key = ddb::Item{{"id", ddb::S(r.id.str())}};
  auto item = store->client().GetItem(store->tables().runs, key);
  ASSERT_TRUE(item.ok() && item->has_value());
  EXPECT_FALSE(ddb::GetN(**item, "expires_at").has_value()) << "an active run never expires";
  r.status = RunStatus::kCompleted;
  r.ended_at = r.created_at + Millis(5000);
  ASSERT_TRUE(store->Update(r).ok());
  item = store->client().GetItem(store->tables().runs, key);
  ASSERT_TRUE(item.ok() && item->has_value());
  EXPECT_EQ(ddb::GetN(**item, "expires_at"), ToMillis(*r.ended_at + std::chrono::hours(24)) / 1000);
  EXPECT_EQ(ddb::GetS(**item, "status"), "COMPLETED");
}

TEST_F(DynamoDbRunStoreTest, MissingTablesWithoutCreateAreAClearStartupError) {
  auto store =
      DynamoDbRunStore::Open(UrlFor(prefix_), Env(), RealClock::Instance(), TestOptions(false));
  ASSERT_EQ(store.status().code(), Code::kFailedPrecondition) << store.status().ToString();
  EXPECT_NE(store.status().message().find("'" + prefix_ + "-runs' does not exist"),
            std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("--create-tables"), std::string::npos);

  // createTables=true in the URL does what the flag does; afterwards no flag is needed.
  auto created = DynamoDbRunStore::Open(UrlFor(prefix_) + "&createTables=true", Env(),
                                        RealClock::Instance(), TestOptions(false));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto reopened =
      DynamoDbRunStore::Open(UrlFor(prefix_), Env(), RealClock::Instance(), TestOptions(false));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->Ping().ok());
}

TEST_F(DynamoDbRunStoreTest, TableWithoutOurIndexesIsRefused) {
  auto client_store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_TRUE(client_store);
  const std::string other = UniquePrefix();
  auto bare = RunsTableSpec(other + "-runs");
  bare.erase("GlobalSecondaryIndexes");
  bare["AttributeDefinitions"] =
      boost::json::array{boost::json::object{{"AttributeName", "id"}, {"AttributeType", "S"}}};
  ASSERT_TRUE(client_store->client().CreateTable(bare).ok());
  auto store = DynamoDbRunStore::Open(UrlFor(other), Env(), RealClock::Instance(), TestOptions());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("no global secondary index 'all-newest'"),
            std::string::npos)
      << store.status().message();
}

TEST_F(DynamoDbRunStoreTest, UnreachableEndpointIsUnavailable) {
  auto store = DynamoDbRunStore::Open("dynamodb://x?endpoint=http://127.0.0.1:1", Env(),
                                      RealClock::Instance(), TestOptions());
  EXPECT_EQ(store.status().code(), Code::kUnavailable) << store.status().ToString();
}

TEST(DynamoDbUrl, ParsesEveryPart) {
  auto loc = ParseDynamoDbUrl(
      "dynamodb://outpost.prod_1?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A8000/"
      "&createTables=true",
      {{"HOME", "/nonexistent"}});
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->table_prefix, "outpost.prod_1");
  EXPECT_EQ(loc->region, "eu-west-1");
  EXPECT_EQ(loc->endpoint, "http://127.0.0.1:8000");
  EXPECT_TRUE(loc->create_tables);
  EXPECT_EQ(TableNames::For(loc->table_prefix).runs, "outpost.prod_1-runs");

  auto from_env = ParseDynamoDbUrl("dynamodb://outpost", {{"AWS_REGION", "ap-south-1"}});
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->region, "ap-south-1");
  EXPECT_EQ(from_env->endpoint, "");
  EXPECT_FALSE(from_env->create_tables);
  auto local = ParseDynamoDbUrl("dynamodb://outpost?endpoint=http://h:1", {{"HOME", "/x"}});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->region, "us-east-1");
  auto no_region = ParseDynamoDbUrl("dynamodb://outpost", {{"HOME", "/nonexistent"}});
  EXPECT_EQ(no_region.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(no_region.status().message().find("?region="), std::string::npos);
}

TEST(DynamoDbUrl, RejectsMalformedUrlsNamingTheProblem) {
  struct Case {
    std::string url, fragment;
  };
  for (const Case& c : std::vector<Case>{
           {"sqlite:///x.db", "expected dynamodb://"},
           {"dynamodb://", "no table prefix"},
           {"dynamodb://?region=us-east-1", "no table prefix"},
           {"dynamodb://bad/prefix?region=r", "must be 1 to 200"},
           {"dynamodb://bad prefix?region=r", "must be 1 to 200"},
           {"dynamodb://" + std::string(201, 'a') + "?region=r", "must be 1 to 200"},
           {"dynamodb://AKID:secret@outpost?region=r", "credentials do not belong"},
           {"dynamodb://outpost?region=r&regoin=x", "unknown parameter 'regoin'"},
           {"dynamodb://outpost?region=r&region=s", "repeated"},
           {"dynamodb://outpost?region=", "empty"},
           {"dynamodb://outpost?region=r&endpoint=127.0.0.1:8000", "endpoint must be"},
           {"dynamodb://outpost?region=r&createTables=yes", "createTables must be true or false"},
       }) {
    auto loc = ParseDynamoDbUrl(c.url, {{"HOME", "/nonexistent"}});
    EXPECT_EQ(loc.status().code(), Code::kInvalidArgument) << c.url;
    EXPECT_NE(loc.status().message().find(c.fragment), std::string::npos)
        << c.url << " -> " << loc.status().message();
  }
}

TEST(DynamoDbCursor, RoundTripsAndRejectsForeignCursors) {
  const std::string id = NewUlid(RealClock::Instance().Now());
  auto back = DecodeCursor(EncodeCursor(id));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, id);
  EXPECT_EQ(EncodeCursor(id).find_first_of("+/="), std::string::npos);
  // "cjE6..." is a SQLite cursor ("r1:..."), "not-a-ulid" a well-formed cursor of a bad id.
  for (const std::string& bad :
       std::vector<std::string>{"cjE6MDFBQkM", EncodeCursor("not-a-ulid"), "AAAA", "%%%", ""}) {
    EXPECT_EQ(DecodeCursor(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(DynamoDbIds, MinUlidAtSortsBelowEveryIdOfThatMillisecondAndAboveEarlierOnes) {
  const WallTime t = FromMillis(1'700'000'123'456);
  const std::string low = MinUlidAt(t);
  for (int i = 0; i < 100; ++i) {
    EXPECT_LE(low, NewUlid(t));
    EXPECT_GT(low, NewUlid(t - Millis(1)));
  }
}

// EnsureTable's wait for a CREATING table, through a scripted DescribeTable on simulated time:
// it polls every options.poll, sleeping on the store's clock, and gives up after options.wait.
class EnsureTableOnTheClock : public ::testing::Test {
 protected:
  EnsureTableOnTheClock() { clock_.set_advance_on_sleep(true); }  // the polls run inline

  // DescribeTable answers CREATING for the first `creating` calls, then ACTIVE.
  std::unique_ptr<aws::DynamoDbClient> Client(int creating) {
    aws::DynamoDbClientOptions o;
    o.endpoint = "http://127.0.0.1:9";
    o.credentials = {"AK", "SK", ""};
    net::HttpSender sender = [this,
                              creating](const net::HttpRequest&) -> Result<net::HttpResponse> {
      net::HttpResponse res;
      res.status = 200;
      res.body = boost::json::serialize(boost::json::object{
          {"Table", boost::json::object{
                        {"TableStatus", ++describes_ <= creating ? "CREATING" : "ACTIVE"}}}});
      return res;
    };
    return aws::DynamoDbClient::Create(o, std::move(sender), clock_).value();
  }

  const boost::json::object spec_{{"TableName", "t-runs"}};
  SimulatedClock clock_;
  int describes_ = 0;
};

TEST_F(EnsureTableOnTheClock, PollsOnTheClockUntilTheTableIsActive) {
  auto client = Client(3);
  EnsureOptions o;
  o.poll = Millis(250);
  const MonoTime start = clock_.Mono();
  ASSERT_TRUE(EnsureTable(*client, spec_, o, clock_).ok());
  EXPECT_EQ(describes_, 4);
  EXPECT_EQ(clock_.sleeps(), (std::vector<Millis>{Millis(250), Millis(250), Millis(250)}));
  EXPECT_EQ(clock_.Mono() - start, Millis(750));
}

TEST_F(EnsureTableOnTheClock, GivesUpAfterTheWaitNamingTheTable) {
  auto client = Client(1'000'000);
  EnsureOptions o;
  o.poll = Millis(250);
  o.wait = Millis(1'000);
  const MonoTime start = clock_.Mono();
  Status st = EnsureTable(*client, spec_, o, clock_);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.message(), "DynamoDB table 't-runs' is CREATING, not ACTIVE, after waiting");
  EXPECT_EQ(clock_.Mono() - start, Millis(1'000));  // four polls of 250 ms, then the deadline
  EXPECT_EQ(describes_, 5);
}

}  // namespace
}  // namespace outpost::dynamodb
