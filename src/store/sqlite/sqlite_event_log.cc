#include "store/sqlite/sqlite_event_log.h"

#include <mutex>

namespace outpost {
namespace {}  // namespace

Result<std::unique_ptr<SqliteEventLog>> SqliteEventLog::Open(const std::string& path,
                                                             Millis busy_timeout) {
  auto conn = sqlite::OpenConnection(path, {busy_timeout, false});
  if (!conn.ok()) return conn.status();
  return std::make_unique<SqliteEventLog>(std::move(*conn));
}

Result<EventLogTail> SqliteEventLog::TailLocked(const std::string& run_id) {
  auto stmt = db_->Prepare(
      "SELECT last_seq, ended FROM run_events WHERE run_id = ?1 ORDER BY first_seq DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  OUTPOST_RETURN_IF_ERROR(stmt->Bind({run_id}));
  auto row = stmt->Step("read the event log's tail");
  if (!row.ok()) return row.status();
  EventLogTail tail;
  if (*row) {
    tail.last_seq = stmt->Int(0);
    tail.ended = stmt->Int(1) != 0;
  }
  return tail;
}

Result<EventBatch> SqliteEventLog::ReadLocked(const std::string& run_id, std::int64_t after,
                                              int limit, std::size_t max_bytes) {
  auto stmt = db_->Prepare(
      "SELECT first_seq, body FROM run_events WHERE run_id = ?1 AND last_seq > ?2 "
      "ORDER BY first_seq");
  if (!stmt.ok()) return stmt.status();
  OUTPOST_RETURN_IF_ERROR(stmt->Bind({run_id, after}));
  EventBatch batch;
  std::size_t bytes = 0;
  std::vector<RunEvent> item;
  for (;;) {
    auto row = stmt->Step("read events");
    if (!row.ok()) return row.status();
    if (!*row) break;
    item.clear();
    OUTPOST_RETURN_IF_ERROR(ParseEventItemBody(stmt->Int(0), stmt->Text(1), "the store", item));
    for (RunEvent& e : item) {
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
  return batch;
}

Result<EventAppend> SqliteEventLog::Append(std::string_view run_id,
                                           const std::vector<RunEvent>& events) {
  OUTPOST_RETURN_IF_ERROR(ValidateEventBatch(run_id, events));
  const std::string id(run_id);
  std::lock_guard lock(conn_->mu);
  auto txn = sqlite::Txn::Begin(*db_);
  if (!txn.ok()) return txn.status();
  auto tail = TailLocked(id);
  if (!tail.ok()) return tail.status();
  const std::int64_t first = events.front().seq;
  if (first > tail->last_seq + 1) {
    return FailedPrecondition("event " + std::to_string(first) + " of run " + id +
                              " would leave a gap: the next expected is " +
                              std::to_string(tail->last_seq + 1))
        .WithDetail("nextSeq", tail->last_seq + 1);
  }
  // The part already stored must be a resend of it, byte for byte.
  std::size_t fresh = 0;  // index of the first event not stored yet
  while (fresh < events.size() && events[fresh].seq <= tail->last_seq) ++fresh;
  if (fresh > 0) {
    auto stored = ReadLocked(id, first - 1, static_cast<int>(fresh), SIZE_MAX);
    if (!stored.ok()) return stored.status();
    for (std::size_t i = 0; i < fresh; ++i) {
      if (i >= stored->events.size() || !(stored->events[i] == events[i])) {
        return Conflict("event " + std::to_string(events[i].seq) + " of run " + id +
                        " was stored with different content")
            .WithDetail("seq", events[i].seq);
      }
    }
  }
  EventAppend result{0, tail->last_seq};
  if (fresh == events.size()) return result;  // a resend: nothing to store
  if (tail->ended) {
    return FailedPrecondition("the event stream of run " + id + " has ended");
  }
  // The new events, in items of at most kMaxItemBytes.
  auto insert = db_->Prepare(
      "INSERT INTO run_events (run_id, first_seq, last_seq, ended, bytes, body) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert.ok()) return insert.status();
  for (std::size_t i = fresh; i < events.size();) {
    const std::size_t begin = i;
    i = EventItemEnd(events, begin);
    std::string body = EventItemBody(events, begin, i);
    std::size_t bytes = 0;
    for (std::size_t k = begin; k < i; ++k) bytes += events[k].json.size();
    const RunEvent& last = events[i - 1];
    OUTPOST_RETURN_IF_ERROR(insert->Bind({id, events[begin].seq, last.seq,
                                          std::int64_t{last.type == event::kEnd ? 1 : 0},
                                          static_cast<std::int64_t>(bytes), std::move(body)}));
    OUTPOST_RETURN_IF_ERROR(insert->Run("append events"));
    insert->Reset();
  }
  OUTPOST_RETURN_IF_ERROR(txn->Commit());
  result.stored = static_cast<int>(events.size() - fresh);
  result.last_seq = events.back().seq;
  return result;
}

Result<EventBatch> SqliteEventLog::Read(std::string_view run_id, std::int64_t after, int limit,
                                        std::size_t max_bytes) {
  std::vector<FieldError> errors;
  if (after < 0) errors.push_back({"after", "must be a non-negative integer"});
  if (limit < 1 || limit > 10000) errors.push_back({"limit", "must be an integer from 1 to 10000"});
  if (!errors.empty()) return Status::Invalid(errors);
  std::lock_guard lock(conn_->mu);
  return ReadLocked(std::string(run_id), after, limit, max_bytes);
}

Result<EventLogTail> SqliteEventLog::Tail(std::string_view run_id) {
  std::lock_guard lock(conn_->mu);
  return TailLocked(std::string(run_id));
}

Status SqliteEventLog::Remove(std::string_view run_id) {
  std::lock_guard lock(conn_->mu);
  auto stmt = db_->Prepare("DELETE FROM run_events WHERE run_id = ?1");
  if (!stmt.ok()) return stmt.status();
  OUTPOST_RETURN_IF_ERROR(stmt->Bind({std::string(run_id)}));
  return stmt->Run("remove a run's events");
}

}  // namespace outpost
