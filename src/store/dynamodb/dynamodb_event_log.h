// DynamoDbEventLog: the event log (store/event_log.h) in <prefix>-events, beside the dynamodb://
// run store whose client it borrows (table layout in dynamodb_schema.h). An item is the events
// of one append from first_seq to last_seq, "<type>\t<json>\n" lines as in the SQLite log: at
// most kMaxItemBytes of lines (so of json too), or one event alone.
//
//  - Tail: one Query of the run's partition, descending, Limit 1 (consistent).
//  - Append: Tail; the part of the batch already stored is compared with what is stored (a
//    consistent Read): identical is a resend, different is kConflict (details.seq), a batch past
//    the tail is kFailedPrecondition (details.nextSeq). The new events are then put as items in
//    seq order, each a PutItem conditioned on attribute_not_exists(first_seq): every writer's
//    next item starts right after the stream's last event as it saw it, so two writers racing
//    collide on that key; the loser (ConditionalCheckFailed, also a retried put whose first
//    attempt landed) re-reads and decides again, and finds a resend of what the winner stored
//    or a real conflict. Items never overlap and a reader (which reads items in key order) never
//    sees a gap, because a batch's later item is only written after its earlier one.
//    Atomicity: dynalite has no transactions, so a multi-item append is not atomic against a
//    crash (or a DynamoDB error) between its items: the stream then holds a prefix of the batch,
//    with no gap, and the writer's resend of the batch stores the rest (the prefix is
//    acknowledged as identical). The same holds when a racing writer with different content for
//    the same seqs wins between two of our items (we answer kConflict having stored a prefix).
//    The log remembers where it left each run it appended to (a bounded map): a batch that
//    continues right there is put without reading the tail first (the conditional put still
//    catches any other writer, and the full path above then decides). Appending to a run whose
//    events another replica removed meanwhile is not detected on that path (retention removes
//    ended runs only, to which nothing is appended).
//  - Large payloads: an item whose lines exceed options.chunk_threshold is kept as an object in
//    the EventChunkStore (key events/<run>/<first>-<last>-<sha256 prefix>, the content in the
//    key so that racing writers never overwrite each other's object), written BEFORE its item:
//    an item never names a missing object. The item keeps first/last seq, the end flag, the
//    object's key, sha256 and size. Read verifies the sha256 (a mismatch or a missing object is
//    kInternal). Without a chunk store every item is inline (base64 when not UTF-8: at most
//    ~350 KB, under DynamoDB's 400 KB).
//  - Read: the item holding after+1 (a descending Query, Limit 1, first_seq <= after+1; skipped
//    for after = 0; when it ends at or before `after` there is nothing new and the read ends
//    there), then an ascending Query from it, page by page until `limit` events or about
//    `max_bytes` (chunk objects are fetched only for the items returned).
//  - Remove: Query the run's keys, BatchWriteItem deletes (25 a call, unprocessed ones
//    retried), then delete the chunk objects under events/<run>/ (items first: an item never
//    names a missing object; objects orphaned by a crash or a lost race are caught by the prefix).
//  - Retention: every item has expires_at = write time + retention + 1 day (a run lasts up to a
//    day) for a DynamoDB TTL on the table; enable it on AWS with `aws dynamodb
//    update-time-to-live --time-to-live-specification Enabled=true,AttributeName=expires_at`.
//    The TTL does not delete chunk objects: Remove does (or an object-store lifecycle rule on
//    events/).
// Calls (aws::DynamoDbClient::Counts): an Append of new events costs one PutItem per item, plus
// 1 Query (the tail) unless it continues this log's own last append to the run, plus the Read of
// the stored part when it overlaps (1 Query from seq 1, else 2); a lost race costs the full path
// again. A Read costs 1 Query from seq 0 or at the tail (nothing new), else 2 (+1 per further
// 1 MB page of items); Tail 1; Remove 1 Query per MB of items + 1 BatchWriteItem per 25 items.
//
// Thread-safety: thread-safe (the remembered tails under a mutex; the client and the chunk store
// are thread-safe).
#pragma once

#include <boost/json/array.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/dynamodb/dynamodb_run_store.h"
#include "store/event_chunk_store.h"
#include "store/event_log.h"

namespace outpost::dynamodb {

struct DynamoDbEventLogOptions {
  bool create_table = false;  // create <prefix>-events when missing
  // expires_at = write time + retention + 1 day; 0: no TTL attribute. Give it the run store's.
  Millis retention{30LL * 24 * 3600 * 1000};
  // Items whose lines are larger go to `chunks` (when set). 0: every item.
  std::size_t chunk_threshold = 16 * 1024;
  std::shared_ptr<EventChunkStore> chunks;  // null: every item inline
  EnsureOptions ensure;
};

class DynamoDbEventLog final : public EventLog {
 public:
  // Checks (or creates) <prefix>-events of `store`'s location. `store` and `clock` must outlive
  // the log. kFailedPrecondition when the table is missing (naming it), kUnavailable.
  static Result<std::unique_ptr<DynamoDbEventLog>> Open(const DynamoDbRunStore& store,
                                                        const Clock& clock,
                                                        DynamoDbEventLogOptions options = {});

  Result<EventAppend> Append(std::string_view run_id, const std::vector<RunEvent>& events) override;
  Result<EventBatch> Read(std::string_view run_id, std::int64_t after, int limit,
                          std::size_t max_bytes = 1 << 20) override;
  Result<EventLogTail> Tail(std::string_view run_id) override;
  Status Remove(std::string_view run_id) override;

  const std::string& table() const { return table_; }
  // The prefix of the chunk objects of `run_id` ("events/<run>/", the run id hex-encoded when it
  // is not made of [A-Za-z0-9._-]).
  static std::string ChunkPrefix(std::string_view run_id);

 private:
  DynamoDbEventLog(const aws::DynamoDbClient& client, std::string table, const Clock& clock,
                   DynamoDbEventLogOptions options)
      : client_(client), table_(std::move(table)), clock_(clock), options_(std::move(options)) {}

  // Read without the argument checks.
  Result<EventBatch> ReadFrom(const std::string& run_id, std::int64_t after, int limit,
                              std::size_t max_bytes) const;
  // The events of `item` (its chunk fetched and checked).
  Status ItemEvents(const aws::ddb::Item& item, std::vector<RunEvent>& out) const;
  // Puts events[begin, end) as one item (its chunk first). kConflict when the key is taken.
  Status PutItem(const std::string& run_id, const std::vector<RunEvent>& events, std::size_t begin,
                 std::size_t end) const;
  // Puts events[from, end) as items of at most kMaxItemBytes, in seq order, adding to `stored`
  // what it stored; false when a key was taken (another writer got there: decide again).
  Result<bool> PutItems(const std::string& run_id, const std::vector<RunEvent>& events,
                        std::size_t from, int& stored) const;
  // The index of the first event of `events` not stored yet, given the stream's `tail`, once
  // the stored part is checked to be identical: kFailedPrecondition (a gap), kConflict.
  Result<std::size_t> StoredPart(const std::string& run_id, const std::vector<RunEvent>& events,
                                 const EventLogTail& tail) const;
  // BatchWriteItem of `requests` (at most 25 deletes), sending what is left unprocessed again.
  Status DeleteItems(const std::string& run_id, boost::json::array requests) const;
  // The last seq of a run as this log last wrote or read it (not ended), if it remembers.
  std::optional<std::int64_t> KnownTail(const std::string& run_id) const;
  void Remember(const std::string& run_id, const EventLogTail& tail) const;
  void Forget(const std::string& run_id) const;

  const aws::DynamoDbClient& client_;
  const std::string table_;
  const Clock& clock_;
  const DynamoDbEventLogOptions options_;
  mutable std::mutex tails_mu_;
  mutable std::unordered_map<std::string, std::int64_t> tails_;  // guarded by tails_mu_
};

}  // namespace outpost::dynamodb
