// LogLines: a run's output as numbered lines (GET /runs/{id}/logs, the `logs[]` of
// GET /dispatch/{id}, MCP get_logs), read from its event stream in the shared event log
// (store/event_log.h: EventLog::Read), so any replica serves any run's.
//
// An entry is one line of one stream (stdout, stderr) without its "\n", stamped with the time of
// the event that carried its first byte; lines of the two streams are numbered 0, 1, 2, … in the
// order they were completed. A line is complete at its "\n", at a `truncated` event of its stream
// (the output stops there), when longer than kMaxLogLine (the rest continues as the next entry),
// or at the end of the run. While the run goes on its last unfinished line is not listed yet.
// Where the cap dropped output, an entry of stream "outpost" says how many bytes. Non-UTF-8
// output (base64 in the events) is decoded and invalid bytes become U+FFFD.
//
// Entries are numbered from the start of the log, so reading page N means scanning what comes
// before it; a LogLines keeps its position, so reading page after page costs each page once
// (RunService caches one per run it recently served).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "model/run_event.h"
#include "store/event_log.h"

namespace outpost {

inline constexpr std::size_t kMaxLogLine = 64 * 1024;

struct LogEntry {
  std::int64_t offset = 0;
  std::string timestamp;
  std::string stream;  // stdout | stderr | outpost
  std::string message;
};

struct LogPage {
  std::vector<LogEntry> entries;
  std::int64_t next_offset = 0;
  bool has_more = false;  // more entries are available now
};

class LogLines {
 public:
  // Reads run `id`'s events from `log` (which must outlive this).
  LogLines(EventLog& log, RunId id) : log_(log), id_(std::move(id)) {}

  // The next offset this reader would return.
  std::int64_t position() const { return next_; }
  // Entries [offset, offset+limit) as far as they exist; offset must be >= position().
  // kInternal on I/O errors.
  Result<LogPage> Page(std::int64_t offset, int limit);

 private:
  struct Partial {
    std::string text;
    std::string timestamp;
  };
  // Reads more events; false when none are available now.
  Result<bool> Fill();
  void Consume(const RunEvent& e);
  void Complete(Partial& p, const std::string& stream);
  void Emit(std::string stream, std::string timestamp, std::string message);

  EventLog& log_;
  RunId id_;
  std::int64_t last_seq_ = 0;  // the last event read
  Partial out_, err_;
  std::deque<LogEntry> ready_;  // parsed, not yet returned
  std::int64_t next_ = 0;       // offset of ready_.front() (or of the next entry)
  std::int64_t numbered_ = 0;   // entries numbered so far
};

}  // namespace outpost
