// The dynamodb:// EventLog: the shared EventLogConformance suite against a real dynalite started
// by this binary (each log on fresh tables under a unique prefix) — with its items inline, with
// an in-memory chunk store at the default threshold, and with every item a chunk object — and
// what is particular to DynamoDB: bounded items, chunk objects (checked, removed), the TTL
// attribute, replicas racing on one run, the calls an operation costs, a missing table.
#include "store/dynamodb/dynamodb_event_log.h"

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "aws/http.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "store/dynamodb/dynamodb_test_env.h"
#include "store/event_log_conformance.h"
#include "testing/status_matchers.h"

namespace outpost::dynamodb {
namespace {

namespace ddb = aws::ddb;
using namespace testing_env;  // NOLINT: test support
using ::outpost::testing::StatusIs;
using ::testing::HasSubstr;

// A log with the run store whose client it borrows (the store must outlive the log).
class OwningLog final : public EventLog {
 public:
  OwningLog(std::unique_ptr<DynamoDbRunStore> store, std::unique_ptr<DynamoDbEventLog> log)
      : store_(std::move(store)), log_(std::move(log)) {}
  Result<EventAppend> Append(std::string_view run, const std::vector<RunEvent>& events) override {
    return log_->Append(run, events);
  }
  Result<EventBatch> Read(std::string_view run, std::int64_t after, int limit,
                          std::size_t max_bytes = 1 << 20) override {
    return log_->Read(run, after, limit, max_bytes);
  }
  Result<EventLogTail> Tail(std::string_view run) override { return log_->Tail(run); }
  Status Remove(std::string_view run) override { return log_->Remove(run); }

  DynamoDbRunStore& store() { return *store_; }
  DynamoDbEventLog& log() { return *log_; }

 private:
  std::unique_ptr<DynamoDbRunStore> store_;
  std::unique_ptr<DynamoDbEventLog> log_;
};

DynamoDbEventLogOptions Options(std::shared_ptr<EventChunkStore> chunks,
                                std::size_t threshold = 16 * 1024) {
  DynamoDbEventLogOptions o;
  o.create_table = true;
  o.retention = std::chrono::hours(24);
  o.chunks = std::move(chunks);
  o.chunk_threshold = threshold;
  return o;
}

std::unique_ptr<OwningLog> OpenLog(const std::string& prefix, DynamoDbEventLogOptions options) {
  auto store = OpenStore(prefix, RealClock::Instance());
  if (!store) return nullptr;
  auto log = DynamoDbEventLog::Open(*store, RealClock::Instance(), std::move(options));
  if (!log.ok()) {
    ADD_FAILURE() << log.status().ToString();
    return nullptr;
  }
  return std::make_unique<OwningLog>(std::move(store), std::move(*log));
}

std::unique_ptr<EventLog> NewInlineLog() { return OpenLog(UniquePrefix(), Options(nullptr)); }
std::unique_ptr<EventLog> NewChunkedLog() {
  return OpenLog(UniquePrefix(), Options(std::make_shared<MemoryEventChunkStore>()));
}
std::unique_ptr<EventLog> NewAllChunksLog() {
  return OpenLog(UniquePrefix(), Options(std::make_shared<MemoryEventChunkStore>(), 0));
}

INSTANTIATE_TEST_SUITE_P(DynaliteInline, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewInlineLog)));
INSTANTIATE_TEST_SUITE_P(DynaliteChunks, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewChunkedLog)));
INSTANTIATE_TEST_SUITE_P(DynaliteAllChunks, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewAllChunksLog)));

RunEvent Output(std::int64_t seq, std::size_t size, char fill = 'z') {
  return {seq, "output",
          "{\"seq\":" + std::to_string(seq) + ",\"type\":\"output\",\"data\":\"" +
              std::string(size, fill) + "\"}"};
}
std::vector<RunEvent> Outputs(std::int64_t first, std::int64_t last, std::size_t size) {
  std::vector<RunEvent> v;
  for (std::int64_t s = first; s <= last; ++s) v.push_back(Output(s, size));
  return v;
}

// An item's size as DynamoDB counts it against its 400 KB: names and values in bytes (a binary
// value decoded).
std::size_t ItemSize(const ddb::Item& item) {
  std::size_t size = 0;
  for (const auto& [name, value] : item) {
    size += name.size();
    for (const auto& [type, v] : value.as_object()) {
      const std::size_t n = v.is_string() ? v.as_string().size() : 0;
      size += type == "B" ? n / 4 * 3 : n;
    }
  }
  return size;
}

class DynamoDbEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Server().ok()) << Server().error();
    prefix_ = UniquePrefix();
  }

  std::unique_ptr<OwningLog> Open(std::shared_ptr<EventChunkStore> chunks = nullptr,
                                  std::size_t threshold = 16 * 1024) {
    return OpenLog(prefix_, Options(std::move(chunks), threshold));
  }
  // A log whose client sends through `sender` (given the real transport).
  std::unique_ptr<OwningLog> OpenThrough(
      std::function<Result<net::HttpResponse>(const net::HttpSender&, const net::HttpRequest&)>
          sender) {
    DynamoDbRunStoreOptions o = TestOptions();
    o.sender = [real = aws::MakeHttpSender(Env()), sender](const net::HttpRequest& req) {
      return sender(real, req);
    };
    auto store = OpenStore(prefix_, RealClock::Instance(), o);
    if (!store) return nullptr;
    auto log = DynamoDbEventLog::Open(*store, RealClock::Instance(), Options(nullptr));
    if (!log.ok()) {
      ADD_FAILURE() << log.status().ToString();
      return nullptr;
    }
    return std::make_unique<OwningLog>(std::move(store), std::move(*log));
  }
  static bool Is(const net::HttpRequest& req, std::string_view op) {
    for (const auto& [name, value] : req.headers) {
      if (name == "X-Amz-Target" && value.ends_with("." + std::string(op))) return true;
    }
    return false;
  }

  // The stored items of `run`, in seq order (straight from the table).
  static std::vector<ddb::Item> Items(OwningLog& log, const std::string& run) {
    aws::QueryRequest q;
    q.table = log.log().table();
    q.key_condition = {"#r = :r", {{"#r", "run_id"}}, {{":r", ddb::S(run)}}};
    q.consistent = true;
    std::vector<ddb::Item> items;
    for (;;) {
      auto page = log.store().client().Query(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (auto& item : page->items) items.push_back(std::move(item));
      if (!page->last_key) break;
      q.start_key = page->last_key;
    }
    return items;
  }

  static std::vector<RunEvent> All(EventLog& log, const std::string& run) {
    std::vector<RunEvent> all;
    std::int64_t after = 0;
    for (;;) {
      auto b = log.Read(run, after, 10000);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok() || b->events.empty()) return all;
      after = b->events.back().seq;
      for (auto& e : b->events) all.push_back(std::move(e));
    }
  }

  std::string prefix_;
};

// 5 MB in one append, of small events and of the largest: every item within its bound, far
// under DynamoDB's 400 KB, inline and as chunk objects.
TEST_F(DynamoDbEventLogTest, ItemsStayBoundedForAFiveMegabyteAppend) {
  auto chunks = std::make_shared<MemoryEventChunkStore>();
  for (bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunk objects" : "inline");
    auto log = Open(chunked ? chunks : nullptr);
    ASSERT_NE(log, nullptr);
    const std::string run = chunked ? "chunked" : "inline";
    std::vector<RunEvent> small = Outputs(1, 25'000, 160);  // ~5 MB of ~200-byte events
    const std::int64_t n_small = static_cast<std::int64_t>(small.size());
    ASSERT_OK(log->Append(run, small));
    std::vector<RunEvent> large;
    for (std::int64_t s = n_small + 1; s <= n_small + 20; ++s) {
      large.push_back(Output(s, kMaxEventBytes - 100));  // 20 x 256 KiB
    }
    ASSERT_OK(log->Append(run, large));
    std::vector<ddb::Item> items = Items(*log, run);
    ASSERT_GE(items.size(), 5'000'000 / kMaxItemBytes + 20);
    std::int64_t next = 1;
    for (const ddb::Item& item : items) {
      const std::int64_t first = ddb::GetN(item, "first_seq").value_or(-1);
      const std::int64_t last = ddb::GetN(item, "last_seq").value_or(-1);
      const std::int64_t bytes = ddb::GetN(item, "bytes").value_or(-1);
      EXPECT_EQ(first, next);
      next = last + 1;
      if (last > first) {
        EXPECT_LE(bytes, static_cast<std::int64_t>(kMaxItemBytes)) << first;
      }
      EXPECT_LE(bytes, static_cast<std::int64_t>(kMaxEventBytes)) << first;
      const std::size_t size = ItemSize(item);
      EXPECT_LT(size, 400'000u) << first;
      if (chunked) {
        EXPECT_LT(size, 1'000u) << "a chunked item keeps only the object's reference";
        EXPECT_TRUE(ddb::GetS(item, "chunk").has_value()) << first;
      } else {
        EXPECT_LE(size, kMaxEventBytes + 64 * 1024) << first;
      }
    }
    EXPECT_EQ(next, n_small + 21);
    std::vector<RunEvent> want = small;
    want.insert(want.end(), large.begin(), large.end());
    EXPECT_EQ(All(*log, run), want);
  }
}

// The smallest events (a type, a tab, "{}" and a newline): their lines, not only their json, stay
// within an item's bound.
TEST_F(DynamoDbEventLogTest, TinyEventsStillMakeBoundedItems) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  std::vector<RunEvent> tiny;
  for (std::int64_t s = 1; s <= 60'000; ++s) tiny.push_back({s, "output", "{}"});
  ASSERT_OK(log->Append("r1", tiny));
  std::vector<ddb::Item> items = Items(*log, "r1");
  ASSERT_GE(items.size(), 4u);
  for (const ddb::Item& item : items) {
    EXPECT_LE(ddb::GetS(item, "body").value_or("").size(), kMaxItemBytes);
    EXPECT_LT(ItemSize(item), kMaxItemBytes + 1024);
  }
  EXPECT_EQ(All(*log, "r1"), tiny);
}

TEST_F(DynamoDbEventLogTest, LargeItemsAreChunkObjectsCheckedOnReadAndRemovedWithTheRun) {
  auto chunks = std::make_shared<MemoryEventChunkStore>();
  auto log = Open(chunks, 16 * 1024);
  ASSERT_NE(log, nullptr);
  const std::string run = "01JRUN";
  ASSERT_OK(log->Append(run, Outputs(1, 3, 10)));            // small: inline
  ASSERT_OK(log->Append(run, Outputs(4, 10, 8 * 1024)));     // ~56 KiB: one chunk object
  ASSERT_OK(log->Append("other", Outputs(1, 5, 8 * 1024)));  // another run's object
  std::vector<ddb::Item> items = Items(*log, run);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(ddb::GetS(items[0], "body").has_value());
  EXPECT_FALSE(ddb::GetS(items[0], "chunk").has_value());
  auto key = ddb::GetS(items[1], "chunk");
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(ddb::GetS(items[1], "body").has_value());
  EXPECT_TRUE(key->starts_with("events/01JRUN/4-10-")) << *key;
  auto objects = chunks->Objects();
  ASSERT_TRUE(objects.contains(*key));
  EXPECT_EQ(ddb::GetS(items[1], "chunk_sha256"), Sha256Hex(objects.at(*key)));
  EXPECT_EQ(ddb::GetN(items[1], "chunk_size"), static_cast<std::int64_t>(objects.at(*key).size()));
  std::vector<RunEvent> want = Outputs(1, 3, 10);
  for (auto& e : Outputs(4, 10, 8 * 1024)) want.push_back(e);
  EXPECT_EQ(All(*log, run), want);

  // A tampered object reads as kInternal (never as other events); the inline part still reads.
  std::string tampered = objects.at(*key);
  tampered[tampered.size() / 2] = 'Y';
  ASSERT_OK(chunks->Put(*key, tampered));
  EXPECT_THAT(log->Read(run, 3, 100), StatusIs(Code::kInternal, HasSubstr("sha256")));
  EXPECT_THAT(log->Read(run, 0, 3), ::outpost::testing::IsOk());
  // ... and so does a missing one.
  ASSERT_OK(chunks->DeleteUnder(*key));
  EXPECT_THAT(log->Read(run, 5, 100), StatusIs(Code::kInternal, HasSubstr("missing")));

  ASSERT_OK(chunks->Put(*key, objects.at(*key)));
  ASSERT_OK(log->Remove(run));
  EXPECT_TRUE(Items(*log, run).empty());
  for (const auto& [k, v] : chunks->Objects()) {
    EXPECT_FALSE(k.starts_with("events/01JRUN/")) << k << " outlived its run";
  }
  EXPECT_EQ(All(*log, "other"), Outputs(1, 5, 8 * 1024));  // the other run is untouched
  EXPECT_EQ(chunks->Objects().size(), 1u);
}

// Output that is not UTF-8 (a DynamoDB string must be) is kept as a binary attribute, byte for
// byte, up to the largest event (base64: still under DynamoDB's 400 KB).
TEST_F(DynamoDbEventLogTest, BytesThatAreNotUtf8ReadBackExactly) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const std::vector<RunEvent> events = {Output(1, 10, '\xff'), Output(2, 3, 'a'),
                                        Output(3, kMaxEventBytes - 100, '\xc3')};
  ASSERT_OK(log->Append("r1", {events[0], events[1]}));
  ASSERT_OK(log->Append("r1", {events[2]}));
  std::vector<ddb::Item> items = Items(*log, "r1");
  ASSERT_EQ(items.size(), 2u);
  for (const ddb::Item& item : items) {
    EXPECT_FALSE(ddb::GetS(item, "body").has_value()) << "a binary body, not a string";
    EXPECT_LT(ItemSize(item), 400'000u);
  }
  EXPECT_EQ(All(*log, "r1"), events);
  EXPECT_EQ(log->Append("r1", events)->stored, 0);  // a resend compares the bytes
}

TEST_F(DynamoDbEventLogTest, ChunkKeysOfUnusualRunIdsAreValidObjectKeys) {
  EXPECT_EQ(DynamoDbEventLog::ChunkPrefix("01JABC_x-1"), "events/01JABC_x-1/");
  for (std::string_view odd : {"..", "a/b", "a b", "x.y", ""}) {
    const std::string p = DynamoDbEventLog::ChunkPrefix(odd);
    EXPECT_TRUE(p.starts_with("events/.h")) << p;
    EXPECT_EQ(p.find('/', 7), p.size() - 1) << p;  // one segment
  }
  EXPECT_NE(DynamoDbEventLog::ChunkPrefix("a/b"), DynamoDbEventLog::ChunkPrefix("a b"));
}

TEST_F(DynamoDbEventLogTest, EveryItemCarriesTheTtlAttribute) {
  auto log = Open(std::make_shared<MemoryEventChunkStore>(), 1024);
  ASSERT_NE(log, nullptr);
  const std::int64_t before = ToMillis(RealClock::Instance().Now()) / 1000;
  ASSERT_OK(log->Append("r1", Outputs(1, 2, 10)));
  ASSERT_OK(log->Append("r1", Outputs(3, 4, 4096)));  // a chunked item
  const std::int64_t after = ToMillis(RealClock::Instance().Now()) / 1000;
  std::vector<ddb::Item> items = Items(*log, "r1");
  ASSERT_EQ(items.size(), 2u);
  for (const ddb::Item& item : items) {
    auto expires = ddb::GetN(item, "expires_at");
    ASSERT_TRUE(expires.has_value());
    // retention (a day in these tests) + a day for the run itself
    EXPECT_GE(*expires, before + 2 * 86'400);
    EXPECT_LE(*expires, after + 2 * 86'400);
  }
  // Retention 0: no TTL attribute.
  DynamoDbEventLogOptions o = Options(nullptr);
  o.retention = Millis(0);
  auto keep = OpenLog(prefix_, o);
  ASSERT_NE(keep, nullptr);
  ASSERT_OK(keep->Append("r2", Outputs(1, 1, 10)));
  items = Items(*keep, "r2");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(ddb::GetN(items[0], "expires_at").has_value());
}

// Two replicas (separate clients) appending one run's events in differently cut batches, some
// spanning several items and chunk objects: every event exactly once, in order, no gap.
TEST_F(DynamoDbEventLogTest, TwoReplicasRacingOnOneRunStoreEveryEventOnce) {
  auto chunks = std::make_shared<MemoryEventChunkStore>();
  auto a = Open(chunks, 32 * 1024);
  auto b = Open(chunks, 32 * 1024);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr std::int64_t kEvents = 600;
  // Events of varied size (some items go to chunk objects, some batches span items).
  std::vector<RunEvent> stream;
  for (std::int64_t s = 1; s <= kEvents; ++s) {
    stream.push_back(Output(s, s % 50 == 0 ? 40'000 : 300 + static_cast<std::size_t>(s % 7) * 100,
                            static_cast<char>('a' + s % 26)));
  }
  auto writer = [&](EventLog& log, std::int64_t step, std::atomic<int>& failures) {
    for (std::int64_t first = 1; first <= kEvents; first += step) {
      const std::int64_t last = std::min(kEvents, first + step - 1);
      std::vector<RunEvent> batch(stream.begin() + (first - 1), stream.begin() + last);
      auto r = log.Append("r1", batch);
      if (!r.ok()) {
        ++failures;
        ADD_FAILURE() << r.status().ToString();
      }
    }
  };
  std::atomic<int> failures{0};
  std::thread ta([&] { writer(*a, 7, failures); });
  std::thread tb([&] { writer(*b, 150, failures); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(All(*a, "r1"), stream);
  EXPECT_EQ(All(*b, "r1"), stream);
  std::int64_t next = 1;
  for (const ddb::Item& item : Items(*a, "r1")) {
    EXPECT_EQ(ddb::GetN(item, "first_seq"), next);  // items never overlap, no gap
    next = ddb::GetN(item, "last_seq").value_or(-1) + 1;
  }
  EXPECT_EQ(next, kEvents + 1);
}

// What an operation costs in DynamoDB calls (issue 19's "calls per run" come from these counts).
TEST_F(DynamoDbEventLogTest, CallsPerOperation) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const aws::DynamoDbClient& client = log->store().client();
  auto calls = [&](auto&& op) {
    const auto before = client.Counts();
    op();
    const auto after = client.Counts();
    std::map<std::string, std::int64_t> diff;
    for (const auto& [name, n] : after.calls) {
      const auto it = before.calls.find(name);
      const std::int64_t d = n - (it == before.calls.end() ? 0 : it->second);
      if (d != 0) diff[name] = d;
    }
    return diff;
  };
  using Calls = std::map<std::string, std::int64_t>;
  // 100 small events: one item. Tail + PutItem.
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Append("r1", Outputs(1, 100, 100))); }),
            (Calls{{"PutItem", 1}, {"Query", 1}}));
  // ~1 MiB in one append that continues this log's last one: one PutItem per 128 KiB item, the
  // tail is not read.
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Append("r1", Outputs(101, 200, 10 * 1024))); }),
            (Calls{{"PutItem", 9}}));
  // A resend: Tail, then the stored part read back (from a later seq: 2 Queries).
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Append("r1", Outputs(150, 200, 10 * 1024))); }),
            (Calls{{"Query", 3}}));
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Read("r1", 0, 50)); }), (Calls{{"Query", 1}}));
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Read("r1", 120, 5)); }), (Calls{{"Query", 2}}));
  // A follower at the tail: one Query says there is nothing new.
  EXPECT_EQ(calls([&] { EXPECT_TRUE(log->Read("r1", 200, 5)->events.empty()); }),
            (Calls{{"Query", 1}}));
  EXPECT_EQ(calls([&] { EXPECT_TRUE(log->Read("r1", 500, 5)->events.empty()); }),
            (Calls{{"Query", 1}}));
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Tail("r1")); }), (Calls{{"Query", 1}}));
  // Bad input costs nothing.
  EXPECT_EQ(calls([&] {
              EXPECT_THAT(log->Append("r1", {Output(3, 10), Output(5, 10)}),
                          StatusIs(Code::kInvalidArgument));
            }),
            Calls{});
  // Remove: the keys (a Query page per MB of items: DynamoDB pages by the items' size, whatever
  // the projection), then deletes 25 a call.
  EXPECT_EQ(calls([&] { ASSERT_OK(log->Remove("r1")); }),
            (Calls{{"BatchWriteItem", 1}, {"Query", 2}}));
  EXPECT_GE(client.Counts().attempts, client.Counts().total());
}

// A log that remembers where it left a run, after another replica appended to it: its next
// append finds out (the conditional put) and decides on what is stored — a resend, a conflict,
// a gap, the end.
TEST_F(DynamoDbEventLogTest, AStaleRememberedTailFallsBackToWhatIsStored) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->Append("r1", Outputs(1, 5, 10)));  // a remembers 5
  ASSERT_OK(b->Append("r1", Outputs(6, 10, 10)));
  auto resend = a->Append("r1", Outputs(6, 12, 10));  // 6..10 identical, 11..12 new
  ASSERT_OK(resend);
  EXPECT_EQ(resend->stored, 2);
  EXPECT_EQ(resend->last_seq, 12);
  ASSERT_OK(b->Append("r1", Outputs(13, 14, 10)));  // a remembers 12
  std::vector<RunEvent> other = Outputs(13, 15, 10);
  other[0] = Output(13, 11);
  EXPECT_THAT(a->Append("r1", other), StatusIs(Code::kConflict));
  ASSERT_OK(b->Append("r1", {Output(15, 10), {16, "end", "{\"seq\":16,\"type\":\"end\"}"}}));
  ASSERT_OK(a->Append("r1", Outputs(13, 14, 10)));                               // a remembers 14
  EXPECT_THAT(a->Append("r1", Outputs(15, 16, 10)), StatusIs(Code::kConflict));  // 16 is `end`
  EXPECT_THAT(a->Append("r1", Outputs(17, 18, 10)),
              StatusIs(Code::kFailedPrecondition, HasSubstr("ended")));
  EXPECT_THAT(a->Append("r1", Outputs(18, 18, 10)),
              StatusIs(Code::kFailedPrecondition, HasSubstr("gap")));
  std::vector<RunEvent> want = Outputs(1, 15, 10);
  want.push_back({16, "end", "{\"seq\":16,\"type\":\"end\"}"});
  EXPECT_EQ(All(*a, "r1"), want);
}

// A transport that performs each PutItem but loses every other answer, as a network failure
// after DynamoDB committed would: the retried put meets its own first attempt, and the append
// recognises it as stored (each event once, no error).
TEST_F(DynamoDbEventLogTest, RetriedPutsWhoseFirstAttemptLandedAreNoConflict) {
  auto lost = std::make_shared<std::atomic<int>>(0);
  auto puts = std::make_shared<std::atomic<int>>(0);
  auto log = OpenThrough([lost, puts](const net::HttpSender& real,
                                      const net::HttpRequest& req) -> Result<net::HttpResponse> {
    auto response = real(req);
    if (Is(req, "PutItem") && (*puts)++ % 2 == 0) {
      ++*lost;
      return Unavailable("connection reset by peer");
    }
    return response;
  });
  ASSERT_NE(log, nullptr);
  for (std::int64_t first = 1; first <= 40; first += 10) {
    auto r = log->Append("r1", Outputs(first, first + 9, 20 * 1024));  // 2 items each
    ASSERT_OK(r);
    EXPECT_EQ(r->last_seq, first + 9);
  }
  EXPECT_GE(lost->load(), 4);
  EXPECT_EQ(All(*log, "r1"), Outputs(1, 40, 20 * 1024));
}

// BatchWriteItem may leave deletes unprocessed (throttling): Remove sends them again.
TEST_F(DynamoDbEventLogTest, RemoveSendsUnprocessedDeletesAgain) {
  auto batches = std::make_shared<std::atomic<int>>(0);
  auto log = OpenThrough([batches](const net::HttpSender& real,
                                   const net::HttpRequest& req) -> Result<net::HttpResponse> {
    if (Is(req, "BatchWriteItem") && (*batches)++ < 2) {  // nothing processed, twice
      auto body = ParseJson(req.body);
      if (!body.ok()) return body.status();
      net::HttpResponse r;
      r.status = 200;
      r.body =
          ToJson(boost::json::object{{"UnprocessedItems", body->as_object().at("RequestItems")}});
      return r;
    }
    return real(req);
  });
  ASSERT_NE(log, nullptr);
  for (std::int64_t s = 1; s <= 30; ++s) ASSERT_OK(log->Append("r1", Outputs(s, s, 10)));
  ASSERT_OK(log->Remove("r1"));
  EXPECT_EQ(batches->load(), 4);  // calls: the first 25 deletes sent 3 times, then the other 5
  EXPECT_TRUE(Items(*log, "r1").empty());
}

TEST_F(DynamoDbEventLogTest, AMissingTableIsNamedUnlessCreated) {
  auto store = OpenStore(prefix_, RealClock::Instance());
  ASSERT_NE(store, nullptr);
  DynamoDbEventLogOptions o;
  o.create_table = false;
  EXPECT_THAT(DynamoDbEventLog::Open(*store, RealClock::Instance(), o),
              StatusIs(Code::kFailedPrecondition, HasSubstr(prefix_ + "-events")));
  o.create_table = true;
  EXPECT_THAT(DynamoDbEventLog::Open(*store, RealClock::Instance(), o), ::outpost::testing::IsOk());
  o.create_table = false;  // now it is there
  EXPECT_THAT(DynamoDbEventLog::Open(*store, RealClock::Instance(), o), ::outpost::testing::IsOk());
}

}  // namespace
}  // namespace outpost::dynamodb
