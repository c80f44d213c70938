#include "store/dynamodb/dynamodb_event_log.h"

#include <algorithm>
#include <climits>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/time_util.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace json = boost::json;
namespace {

// Rounds of "read the tail, write" an Append makes before it gives up racing other writers.
constexpr int kMaxRounds = 32;
// BatchWriteItem's bound, and how often a batch's unprocessed deletes are sent again.
constexpr std::size_t kBatchDeletes = 25;
constexpr int kMaxBatchAttempts = 8;
// Runs whose tail a log remembers (all forgotten when full).
constexpr std::size_t kMaxKnownTails = 10'000;

// The run's partition (and, with `sk`, a condition on first_seq: "#f <= :s", ...).
aws::Expression RunKey(const std::string& run_id, std::string_view sk = {},
                       std::int64_t value = 0) {
  aws::Expression e{"#r = :r", {{"#r", attr::kRunId}}, {{":r", ddb::S(run_id)}}};
  if (!sk.empty()) {
    e.text += " AND #f " + std::string(sk) + " :s";
    e.values[":s"] = ddb::N(value);
  }
  // Every query projects through these names (an unused name is refused: see Projection).
  e.names["#f"] = attr::kFirstSeq;
  return e;
}

bool SafeSegment(std::string_view s) {
  return !s.empty() && s.size() <= 200 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

std::string DynamoDbEventLog::ChunkPrefix(std::string_view run_id) {
  // A run id of other characters is named by its hash; the '.' keeps those apart from plain ids.
  if (SafeSegment(run_id)) return "events/" + std::string(run_id) + "/";
  return "events/.h" + Sha256Hex(run_id).substr(0, 32) + "/";
}

Result<std::unique_ptr<DynamoDbEventLog>> DynamoDbEventLog::Open(const DynamoDbRunStore& store,
                                                                 const Clock& clock,
                                                                 DynamoDbEventLogOptions options) {
  EnsureOptions ensure = options.ensure;
  ensure.create = ensure.create || options.create_table;
  OUTPOST_RETURN_IF_ERROR(
      EnsureTable(store.client(), EventsTableSpec(store.tables().events), ensure, clock));
  return std::unique_ptr<DynamoDbEventLog>(
      new DynamoDbEventLog(store.client(), store.tables().events, clock, std::move(options)));
}

Result<EventLogTail> DynamoDbEventLog::Tail(std::string_view run_id) {
  aws::QueryRequest q;
  q.table = table_;
  q.key_condition = RunKey(std::string(run_id));
  q.key_condition.names["#l"] = attr::kLastSeq;
  q.key_condition.names["#e"] = attr::kEnded;
  q.projection = "#f, #l, #e";
  q.forward = false;
  q.limit = 1;
  q.consistent = true;
  auto page = client_.Query(q);
  if (!page.ok()) return page.status();
  EventLogTail tail;
  if (!page->items.empty()) {
    const ddb::Item& item = page->items.front();
    auto last = ddb::GetN(item, attr::kLastSeq);
    if (!last) return Internal("corrupt event item in DynamoDB (no last_seq)");
    tail.last_seq = *last;
    tail.ended = ddb::GetN(item, attr::kEnded).value_or(0) != 0;
  }
  return tail;
}

Status DynamoDbEventLog::ItemEvents(const ddb::Item& item, std::vector<RunEvent>& out) const {
  auto first = ddb::GetN(item, attr::kFirstSeq);
  auto last = ddb::GetN(item, attr::kLastSeq);
  if (!first || !last || *last < *first) return Internal("corrupt event item in DynamoDB");
  std::string body;
  if (auto key = ddb::GetS(item, attr::kChunk)) {
    const std::string what = "event chunk '" + *key + "'";
    if (!options_.chunks) return Internal(what + " is referenced, but this log has no chunk store");
    auto data = options_.chunks->Get(*key);
    if (data.status().code() == Code::kNotFound) return Internal(what + " is missing");
    if (!data.ok()) return data.status();
    if (ddb::GetN(item, attr::kChunkSize) != static_cast<std::int64_t>(data->size()) ||
        ddb::GetS(item, attr::kChunkSha256) != Sha256Hex(*data)) {
      return Internal(what + " does not match its sha256 or size");
    }
    body = std::move(*data);
  } else if (auto s = ddb::GetS(item, attr::kBody)) {
    body = std::move(*s);
  } else if (auto it = item.find(attr::kBody); it != item.end() && it->value().is_object()) {
    auto b64 = it->value().get_object().find("B");
    std::optional<std::string> raw;
    if (b64 != it->value().get_object().end() && b64->value().is_string()) {
      raw = Base64Decode(std::string_view(b64->value().get_string()));
    }
    if (!raw) return Internal("corrupt event item in DynamoDB (body)");
    body = std::move(*raw);
  } else {
    return Internal("corrupt event item in DynamoDB (no body nor chunk)");
  }
  const std::size_t before = out.size();
  OUTPOST_RETURN_IF_ERROR(ParseEventItemBody(*first, body, "DynamoDB", out));
  if (static_cast<std::int64_t>(out.size() - before) != *last - *first + 1) {
    return Internal("corrupt event item in DynamoDB (event count)");
  }
  return Status::Ok();
}

Result<EventBatch> DynamoDbEventLog::ReadFrom(const std::string& run_id, std::int64_t after,
                                              int limit, std::size_t max_bytes) const {
  EventBatch batch;
  std::int64_t from = 1;  // the first key to read: that of the item holding after+1
  if (after > 0) {
    aws::QueryRequest back;
    back.table = table_;
    back.key_condition = RunKey(run_id, "<=", after + 1);
    back.key_condition.names["#l"] = attr::kLastSeq;
    back.projection = "#f, #l";
    back.forward = false;
    back.limit = 1;
    back.consistent = true;
    auto page = client_.Query(back);
    if (!page.ok()) return page.status();
    if (page->items.empty()) return batch;
    auto f = ddb::GetN(page->items.front(), attr::kFirstSeq);
    auto l = ddb::GetN(page->items.front(), attr::kLastSeq);
    if (!f || !l) return Internal("corrupt event item in DynamoDB (no first_seq or last_seq)");
    // The item with the greatest first_seq <= after+1 holds after+1 if any does (items are
    // contiguous); when it ends before, nothing follows `after` yet (a follower at the tail).
    if (*l <= after) return batch;
    from = *f;
  }
  aws::QueryRequest q;
  q.table = table_;
  q.key_condition = RunKey(run_id, ">=", from);
  q.consistent = true;
  q.limit = std::min(limit, 100);  // each item holds at least one event
  std::size_t bytes = 0;
  std::vector<RunEvent> events;
  for (;;) {
    auto page = client_.Query(q);
    if (!page.ok()) return page.status();
    for (const ddb::Item& item : page->items) {
      // Full already: the next item's object is not fetched.
      if (static_cast<int>(batch.events.size()) >= limit ||
          (!batch.events.empty() && bytes >= max_bytes)) {
        return batch;
      }
      if (ddb::GetN(item, attr::kLastSeq).value_or(LLONG_MAX) <= after) continue;
      events.clear();
      OUTPOST_RETURN_IF_ERROR(ItemEvents(item, events));
      for (RunEvent& e : events) {
        if (e.seq <= after) continue;
        if (static_cast<int>(batch.events.size()) >= limit ||
            (!batch.events.empty() && bytes + e.json.size() > max_bytes)) {
          return batch;
        }
        bytes += e.json.size();
        batch.ended = e.type == event::kEnd;
        batch.events.push_back(std::move(e));
      }
    }
    if (!page->last_key) return batch;
    q.start_key = page->last_key;
  }
}

Result<EventBatch> DynamoDbEventLog::Read(std::string_view run_id, std::int64_t after, int limit,
                                          std::size_t max_bytes) {
  std::vector<FieldError> errors;
  if (after < 0) errors.push_back({"after", "must be a non-negative integer"});
  if (limit < 1 || limit > 10000) errors.push_back({"limit", "must be an integer from 1 to 10000"});
  if (!errors.empty()) return Status::Invalid(errors);
  return ReadFrom(std::string(run_id), after, limit, max_bytes);
}

Status DynamoDbEventLog::PutItem(const std::string& run_id, const std::vector<RunEvent>& events,
                                 std::size_t begin, std::size_t end) const {
  const std::string lines = EventItemBody(events, begin, end);
  std::int64_t bytes = 0;
  for (std::size_t i = begin; i < end; ++i)
    bytes += static_cast<std::int64_t>(events[i].json.size());
  const RunEvent& first = events[begin];
  const RunEvent& last = events[end - 1];
  ddb::Item item{{attr::kRunId, ddb::S(run_id)},
                 {attr::kFirstSeq, ddb::N(first.seq)},
                 {attr::kLastSeq, ddb::N(last.seq)},
                 {attr::kEnded, ddb::N(last.type == event::kEnd ? 1 : 0)},
                 {attr::kBytes, ddb::N(bytes)}};
  if (options_.retention.count() > 0) {
    item[attr::kExpiresAt] =
        ddb::N((ToMillis(clock_.Now()) + options_.retention.count()) / 1000 + 86'400);
  }
  if (options_.chunks && lines.size() > options_.chunk_threshold) {
    // The object first: an item never names a missing object. Its key holds its content's hash,
    // so a racing writer with other content never replaces it.
    const std::string sha = Sha256Hex(lines);
    const std::string key = ChunkPrefix(run_id) + std::to_string(first.seq) + "-" +
                            std::to_string(last.seq) + "-" + sha.substr(0, 16);
    Status put = options_.chunks->Put(key, lines);
    if (!put.ok()) {
      // Writers racing with the same batch PUT the same object at once, and the store may
      // refuse (a conflict) or fail (s3rver's files) all but one: when the object is there with
      // this content, it is as good as ours.
      Result<std::string> there = options_.chunks->Get(key);
      if (there.ok() && *there == lines) {
        put = Status::Ok();
      } else if (put.code() == Code::kConflict) {
        return Unavailable("event chunk: " + put.message());
      }
    }
    OUTPOST_RETURN_IF_ERROR(put);
    item[attr::kChunk] = ddb::S(key);
    item[attr::kChunkSha256] = ddb::S(sha);
    item[attr::kChunkSize] = ddb::N(static_cast<std::int64_t>(lines.size()));
  } else if (IsValidUtf8(lines)) {
    item[attr::kBody] = ddb::S(lines);
  } else {
    item[attr::kBody] = json::object{{"B", Base64Encode(lines)}};
  }
  const aws::Expression absent{"attribute_not_exists(#f)", {{"#f", attr::kFirstSeq}}, {}};
  return client_.PutItem(table_, item, absent);
}

Result<bool> DynamoDbEventLog::PutItems(const std::string& run_id,
                                        const std::vector<RunEvent>& events, std::size_t from,
                                        int& stored) const {
  for (std::size_t i = from; i < events.size();) {
    const std::size_t begin = i;
    i = EventItemEnd(events, begin);
    Status put = PutItem(run_id, events, begin, i);
    // kConflict: another writer (or our own retried put) took the key.
    if (put.code() == Code::kConflict) return false;
    OUTPOST_RETURN_IF_ERROR(put);
    stored += static_cast<int>(i - begin);
  }
  return true;
}

std::optional<std::int64_t> DynamoDbEventLog::KnownTail(const std::string& run_id) const {
  std::lock_guard lock(tails_mu_);
  auto it = tails_.find(run_id);
  if (it == tails_.end()) return std::nullopt;
  return it->second;
}

void DynamoDbEventLog::Remember(const std::string& run_id, const EventLogTail& tail) const {
  std::lock_guard lock(tails_mu_);
  if (tail.ended) {
    tails_.erase(run_id);
    return;
  }
  if (tails_.size() >= kMaxKnownTails && !tails_.contains(run_id)) tails_.clear();
  tails_[run_id] = tail.last_seq;
}

void DynamoDbEventLog::Forget(const std::string& run_id) const {
  std::lock_guard lock(tails_mu_);
  tails_.erase(run_id);
}

Result<std::size_t> DynamoDbEventLog::StoredPart(const std::string& run_id,
                                                 const std::vector<RunEvent>& events,
                                                 const EventLogTail& tail) const {
  const std::int64_t first = events.front().seq;
  if (first > tail.last_seq + 1) {
    return FailedPrecondition("event " + std::to_string(first) + " of run " + run_id +
                              " would leave a gap: the next expected is " +
                              std::to_string(tail.last_seq + 1))
        .WithDetail("nextSeq", tail.last_seq + 1);
  }
  std::size_t fresh = 0;  // index of the first event not stored yet
  while (fresh < events.size() && events[fresh].seq <= tail.last_seq) ++fresh;
  if (fresh == 0) return fresh;
  auto have = ReadFrom(run_id, first - 1, static_cast<int>(fresh), SIZE_MAX);
  if (!have.ok()) return have.status();
  for (std::size_t i = 0; i < fresh; ++i) {
    if (i >= have->events.size() || !(have->events[i] == events[i])) {
      return Conflict("event " + std::to_string(events[i].seq) + " of run " + run_id +
                      " was stored with different content")
          .WithDetail("seq", events[i].seq);
    }
  }
  return fresh;
}

Result<EventAppend> DynamoDbEventLog::Append(std::string_view run_id,
                                             const std::vector<RunEvent>& events) {
  OUTPOST_RETURN_IF_ERROR(ValidateEventBatch(run_id, events));
  const std::string id(run_id);
  int stored = 0;  // by this call, over its rounds
  // Puts events[from, end); nullopt when another writer got there first (decide again).
  auto put = [&](std::size_t from) -> Result<std::optional<EventAppend>> {
    auto done = PutItems(id, events, from, stored);
    if (!done.ok()) {
      Forget(id);
      return done.status();
    }
    if (!*done) return std::optional<EventAppend>();
    Remember(id, {events.back().seq, events.back().type == event::kEnd});
    return std::optional<EventAppend>(EventAppend{stored, events.back().seq});
  };
  // A batch that continues where this log last left the run is put without reading the tail:
  // the conditional put finds out when another writer got there first.
  if (KnownTail(id) == events.front().seq - 1) {
    auto done = put(0);
    if (!done.ok()) return done.status();
    if (*done) return **done;
  }
  for (int round = 0; round < kMaxRounds; ++round) {
    auto tail = Tail(id);
    if (!tail.ok()) return tail.status();
    auto fresh = StoredPart(id, events, *tail);  // the part stored must be a resend of it
    if (!fresh.ok()) {
      Forget(id);
      return fresh.status();
    }
    if (*fresh == events.size()) {  // a resend
      Remember(id, *tail);
      return EventAppend{stored, tail->last_seq};
    }
    if (tail->ended) return FailedPrecondition("the event stream of run " + id + " has ended");
    auto done = put(*fresh);
    if (!done.ok()) return done.status();
    if (*done) return **done;
  }
  Forget(id);
  return Unavailable("appending to the event stream of run " + id +
                     ": lost the race to other writers too often; retry");
}

Status DynamoDbEventLog::DeleteItems(const std::string& run_id, json::array requests) const {
  for (int attempt = 0; !requests.empty(); ++attempt) {
    if (attempt == kMaxBatchAttempts) {
      return Unavailable("removing the events of run " + run_id +
                         ": DynamoDB left deletes unprocessed; retry");
    }
    if (attempt > 0) clock_.SleepFor(Millis(25LL << attempt));
    json::object request{{"RequestItems", json::object{{table_, std::move(requests)}}}};
    auto answer = client_.Call("BatchWriteItem", request, table_);
    if (!answer.ok()) return answer.status();
    requests = json::array();  // what DynamoDB left unprocessed (throttling) goes again
    if (auto u = answer->find("UnprocessedItems"); u != answer->end() && u->value().is_object()) {
      if (auto t = u->value().get_object().find(table_);
          t != u->value().get_object().end() && t->value().is_array()) {
        requests = t->value().get_array();
      }
    }
  }
  return Status::Ok();
}

Status DynamoDbEventLog::Remove(std::string_view run_id) {
  const std::string id(run_id);
  Forget(id);
  std::vector<ddb::Item> keys;
  aws::QueryRequest q;
  q.table = table_;
  q.key_condition = RunKey(id);
  q.projection = "#r, #f";
  q.consistent = true;
  for (;;) {
    auto page = client_.Query(q);
    if (!page.ok()) return page.status();
    for (ddb::Item& item : page->items) keys.push_back(std::move(item));
    if (!page->last_key) break;
    q.start_key = page->last_key;
  }
  for (std::size_t at = 0; at < keys.size(); at += kBatchDeletes) {
    json::array requests;
    for (std::size_t i = at; i < std::min(keys.size(), at + kBatchDeletes); ++i) {
      requests.push_back(json::object{{"DeleteRequest", json::object{{"Key", keys[i]}}}});
    }
    OUTPOST_RETURN_IF_ERROR(DeleteItems(id, std::move(requests)));
  }
  // The objects after the items (an item never names a missing object).
  if (options_.chunks) return options_.chunks->DeleteUnder(ChunkPrefix(id));
  return Status::Ok();
}

}  // namespace outpost::dynamodb
