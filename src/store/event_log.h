// EventLog: every run's event stream (model/run_event.h), kept beside the runs so that any
// replica serves any run's events (ARCHITECTURE.md §8: GET /runs/{id}/events, /logs,
// /dispatch/{id}'s logs). Implementations: sqlite/sqlite_event_log.h (a table in the run store's
// file); DynamoDB next (issue 19). One conformance suite (event_log_conformance.h) holds every
// backend to this contract.
//
// Contract:
//  - A run's events have seq 1, 2, 3, … with no gap. Append takes a batch of consecutive seqs
//    and stores the ones not stored yet, atomically (all of the batch's new events or none):
//      * a batch that starts past the next expected seq (a gap) is refused, nothing stored:
//        kFailedPrecondition with details.nextSeq = the next expected seq;
//      * a batch that repeats stored seqs is a resend: where it overlaps what is stored it must
//        be identical (type and json, byte for byte) — then the overlap is acknowledged and only
//        the new rest stored; a stored seq resent with different content is refused with
//        kConflict (details.seq = the first that differs), nothing stored. Never silently
//        dropped: the writer's seqs are its idempotency keys.
//  - The end of the stream is its `end` event: once stored, nothing follows it (a new event
//    after it is kFailedPrecondition; an identical resend is still acknowledged). Within a
//    batch, `end` may only be last.
//  - Output is kept in bounded items: the events of one Append are grouped into items of at
//    most kMaxItemBytes of stored lines (EventItemEnd); a single event may be up to kMaxEventBytes
//    and is then an item of its own. Larger: kInvalidArgument, nothing stored.
//  - Read returns the events after a seq, oldest first, up to a count and about a byte budget
//    (at least one event when any is there), and whether the last one returned is `end`.
//  - Remove deletes every event of a run (retention, after the run's record). Idempotent.
//  - Bad input (no events, seqs not consecutive, seq < 1, an empty type, one over
//    kMaxEventTypeBytes or with a tab or a newline, a json that is empty or holds a newline, an
//    empty run id) is kInvalidArgument naming what, and nothing is stored.
//  - Errors besides: kUnavailable (transient: retry), kInternal. Thread-safe; several processes
//    may append to one run at once (the store serializes them; each sees the others' events).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/run_event.h"

namespace outpost {

// The bounds of items (well under DynamoDB's 400 KB item limit).
inline constexpr std::size_t kMaxItemBytes = 128 * 1024;
inline constexpr std::size_t kMaxEventBytes = 256 * 1024;
inline constexpr std::size_t kMaxEventTypeBytes = 64;

// What an Append did.
struct EventAppend {
  int stored = 0;             // events stored now (0 for a pure resend)
  std::int64_t last_seq = 0;  // the run's last stored seq after the append
};

// Where a run's stream stands.
struct EventLogTail {
  std::int64_t last_seq = 0;  // 0: no events
  bool ended = false;         // the last event is `end`
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  virtual Result<EventAppend> Append(std::string_view run_id,
                                     const std::vector<RunEvent>& events) = 0;
  // Events with seq > `after` (after >= 0), at most `limit` (1..10000) of them and about
  // `max_bytes` (at least one when any is there). kInvalidArgument for a bad after or limit.
  virtual Result<EventBatch> Read(std::string_view run_id, std::int64_t after, int limit,
                                  std::size_t max_bytes = 1 << 20) = 0;
  virtual Result<EventLogTail> Tail(std::string_view run_id) = 0;
  virtual Status Remove(std::string_view run_id) = 0;
};

// The stored form of an item, shared by the backends: the events of one item as one
// "<type>\t<json>\n" line each.
// The end of the item that starts at events[begin]: the events after it whose lines fit
// kMaxItemBytes (at least one). Bounded by the lines, not only their json, so that tiny events
// cannot make an item several times the bound.
std::size_t EventItemEnd(const std::vector<RunEvent>& events, std::size_t begin);
// The body of the item events[begin, end).
std::string EventItemBody(const std::vector<RunEvent>& events, std::size_t begin, std::size_t end);
// The events of a body back, from seq `first`; kInternal naming `where` for a corrupt body.
Status ParseEventItemBody(std::int64_t first, std::string_view body, std::string_view where,
                          std::vector<RunEvent>& out);

// The checks every backend makes of a batch before it touches the store (the contract's "bad
// input"): Ok, or kInvalidArgument naming the first problem.
Status ValidateEventBatch(std::string_view run_id, const std::vector<RunEvent>& events);

}  // namespace outpost
