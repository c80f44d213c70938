// events.jsonl: a run's durable, sequenced event stream (GET /runs/{id}/events, /logs).
//
// Format: one JSON object per line, each line ended by "\n", keys in this order:
//   {"seq":7,"ts":"2026-11-28T08:22:40.123Z","type":"output","stream":"stdout","data":"hi\n"}
// `seq` starts at 1 and grows by exactly 1 per line. A line is an event only once its "\n" is
// on disk: readers never deliver an unterminated last line.
//
// Types (event::k*) and their fields after seq/ts/type:
//   status        status (RUNNING | COMPLETED | FAILED | TIMEOUT | CANCELLED), phase, and for a
//                 terminal one reason, exitCode?, message?
//   phase         phase (preparing | running | collecting)
//   output        stream (stdout | stderr), data: the chunk as UTF-8 text, or — when the chunk
//                 is not UTF-8 — base64 with "encoding":"base64". Redacted like the logs.
//   agent_message text, turn (1, 2, …: the agent's messages so far)
//   tool_call     id, name, input (JSON; a string cut at 4 KiB when larger), text (a summary)
//   tool_result   id (its call's), output, isError
//   usage         inputTokens, outputTokens
//   error         message, source (agent | network); a provider error the agent retries has
//                 retrying: true and attempt?, maxAttempts?, delayMs?; a connection the
//                 allowlist proxy refused has host, port, reason (runner/shim/output_capture.h)
//   truncated     output over the run's cap (runner/shim/output_capture.h has the fields)
//   artifact      name, sizeBytes
//   end           status: always the last event, after the terminal status
//
// One writer at a time, enforced by an exclusive flock(2) on the file. The shim is the writer
// from its start until just before it writes exit.json; then the server appends the terminal
// `status` and `end` once the store holds the terminal status (core/run_events.h), so the run's
// whole story is one file with one sequence, and a writer that died (its lock dies with it) is
// simply followed by the next. A crashed writer leaves at most a torn last line; the next
// writer cuts it off when it opens the file, so the sequence goes on with no gap and no
// duplicate (a torn line was never delivered to anyone).
//
// Durability: every event is one write(2) when it happens, so it survives the death of the
// server and of the shim. The shim fdatasyncs before writing exit.json — the one file that must
// survive a machine crash; after a reboot such a run is supervisor_lost and its log is as far as
// the kernel got, repaired by the next open.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/run_event.h"

namespace outpost {

inline constexpr std::string_view kEventsFile = "events.jsonl";

// One stored event as read back: its seq and type (from the line's fixed prefix) and the line
// itself without its "\n" (model/run_event.h).
using EventLine = RunEvent;

// The seq and type of a line written by EventLogWriter, read from its prefix without parsing
// the rest; nullopt when the line does not start that way.
std::optional<EventLine> ParseEventPrefix(std::string_view line);

// The appending side. Not thread-safe; one per process per file (a second one, in this process
// or another, waits for the lock).
class EventLogWriter {
 public:
  // Opens (creating, mode 0600) the log at `path`, takes the exclusive lock and cuts off a torn
  // tail. `lock_wait` 0 waits as long as it takes; otherwise kUnavailable when the lock is still
  // held after that long. kInternal for I/O errors.
  static Result<std::unique_ptr<EventLogWriter>> Open(const std::string& path, const Clock& clock,
                                                      Millis lock_wait = Millis(0));
  ~EventLogWriter();  // releases the lock
  EventLogWriter(const EventLogWriter&) = delete;
  EventLogWriter& operator=(const EventLogWriter&) = delete;

  // Appends one event; `fields` follow seq, ts and type in the line. Returns its seq. A write
  // that fails (disk full) is kInternal, leaves the file as it was and does not use the seq.
  Result<std::int64_t> Append(std::string_view type, const boost::json::object& fields = {});
  // fdatasync.
  Status Sync();

  std::int64_t last_seq() const { return last_seq_; }
  // The type of the last event ("" when the log is empty): kEnd once the run's story is told.
  const std::string& last_type() const { return last_type_; }
  std::int64_t size_bytes() const { return size_; }

 private:
  EventLogWriter(int fd, const Clock& clock) : fd_(fd), clock_(clock) {}
  Status RecoverTail();

  int fd_;
  const Clock& clock_;
  std::int64_t size_ = 0;  // the file's length: the end of the last whole line
  std::int64_t last_seq_ = 0;
  std::string last_type_;
};

// The reading side: returns the complete events after a given seq, as they become available.
// Never blocks (for waiting, see runner/dir_watch.h). A log that does not exist yet reads as
// empty. Not thread-safe; any number of readers may read one file while it is being written.
class EventLogReader {
 public:
  // Reads the events with seq > `after`.
  EventLogReader(std::string path, std::int64_t after);
  ~EventLogReader();
  EventLogReader(const EventLogReader&) = delete;
  EventLogReader& operator=(const EventLogReader&) = delete;

  // Appends the complete events available now to `out`: about `max_bytes` of them, at least one
  // when any is available. kInternal for I/O errors.
  Status Read(std::vector<EventLine>& out, std::size_t max_bytes = 256 * 1024);

  std::int64_t last_seq() const { return last_seq_; }  // the last event returned (or `after`)
  bool ended() const { return ended_; }                // the `end` event was returned
  bool exists() const { return fd_ >= 0; }

 private:
  bool OpenFile();
  Status Seek(std::int64_t file_size);

  std::string path_;
  int fd_ = -1;
  std::int64_t offset_ = 0;  // where the next line starts
  std::int64_t last_seq_ = 0;
  bool ended_ = false;
};

}  // namespace outpost
